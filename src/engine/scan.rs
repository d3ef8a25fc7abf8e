//! The one scan of every resource: one partition per region; the API is called only when a
//! partition executes (never while planning, so EXPLAIN and DML planning make no call). The
//! resource's [`Reader`] lists a region; the scan keeps the rows its filters and LIMIT allow,
//! and only then has the reader fill the lazy columns the projection holds.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use super::context::ProviderContext;
use super::pushdown;
use super::scan_filter::{self, RowFilter};
use crate::engine::request::ScanRequest;
use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::take_record_batch;

use super::exec_basics::exec_basics;
use super::lazy;
use super::reader::Reader;
use datafusion::catalog::Session;
use datafusion::common::DFSchema;
use datafusion::logical_expr::Expr;

use crate::error::Error;
use crate::schema::{Column, FetchOperation, Resource, schemas};

/// Reads one resource from a set of regions.
#[derive(Debug)]
pub struct ResourceScanExec {
    resource: &'static Resource,
    reader: Arc<dyn Reader>,
    /// The resource's columns produced, by index.
    projection: Vec<usize>,
    columns: Vec<&'static Column>,
    schema: SchemaRef,
    request: Arc<ScanRequest>,
    /// The filters and LIMIT applied to the listed rows, before the extra calls.
    rows: Arc<RowFilter>,
    /// The extra calls the projected columns need (none unless such a column is projected:
    /// selected, or read by a filter DataFusion evaluates after the scan).
    fetches: Arc<BTreeSet<FetchOperation>>,
    regions: Vec<String>,
    context: Arc<ProviderContext>,
    properties: Arc<PlanProperties>,
}

impl ResourceScanExec {
    /// A scan of `regions` for `request`, producing the `projection` of the resource's columns.
    pub fn new(
        resource: &'static Resource,
        reader: Arc<dyn Reader>,
        projection: Option<Vec<usize>>,
        request: ScanRequest,
        rows: RowFilter,
        regions: Vec<String>,
        context: Arc<ProviderContext>,
    ) -> DfResult<Self> {
        let full = resource.arrow_schema();
        let indices = projection.unwrap_or_else(|| (0..resource.columns.len()).collect());
        let schema = Arc::new(full.project(&indices)?);
        let columns: Vec<&'static Column> = indices.iter().map(|&i| &resource.columns[i]).collect();
        let fetches = columns.iter().filter_map(|c| c.fetched_by).collect();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            // At least one partition, even when WHERE pins no region: it then yields nothing.
            Partitioning::UnknownPartitioning(regions.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Self {
            resource,
            reader,
            projection: indices,
            columns,
            schema,
            request: Arc::new(request),
            rows: Arc::new(rows),
            fetches: Arc::new(fetches),
            regions,
            context,
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for ResourceScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ResourceScanExec: table=aws.{}.{}, operation={}, regions=[{}]",
            self.resource.doc.service,
            self.resource.name(),
            self.resource
                .method(crate::schema::Verb::Select)
                .map_or("?", |m| m.operation.as_str()),
            self.regions.join(", ")
        )?;
        if let Some(ids) = self
            .request
            .identifiers
            .as_ref()
            .filter(|_| self.reader.sends_request())
        {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            write!(f, ", {}=[{}]", self.resource.doc.identifier, ids.join(", "))?;
        }
        let parent = self.resource.listing().and_then(|l| l.parent.as_ref());
        if let (Some(keys), Some(parent)) = (&self.request.parents, parent) {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            write!(f, ", {}=[{}]", parent.column, keys.join(", "))?;
        } else if let Some(parent) = parent {
            write!(f, ", each {} of {}", parent.column, parent.table)?;
        }
        if parent.is_some() {
            for any in &self.request.parent_prefixes {
                let likes: Vec<String> = any.iter().map(|p| format!("'{p}%'")).collect();
                write!(f, " LIKE {}", likes.join(" OR "))?;
            }
        }
        if let Some(n) = self
            .request
            .page_size
            .filter(|_| self.reader.sends_request())
        {
            write!(f, ", max_results={n}")?;
        }
        if !self.rows.dropping.is_empty() {
            write!(f, ", filters=[{}]", self.rows.dropping.join(", "))?;
        }
        if let Some(n) = self.rows.limit {
            write!(f, ", limit={n}")?;
        }
        write!(f, "{}", lazy::explain(&self.fetches))?;
        Ok(())
    }
}

impl ExecutionPlan for ResourceScanExec {
    exec_basics!("ResourceScanExec");

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let schema = Arc::clone(&self.schema);
        let Some(region) = self.regions.get(partition).cloned() else {
            // The placeholder partition of a scan with no region.
            return Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::empty(),
            )));
        };
        let context = Arc::clone(&self.context);
        let request = Arc::clone(&self.request);
        let rows = Arc::clone(&self.rows);
        let fetches = Arc::clone(&self.fetches);
        let reader = Arc::clone(&self.reader);
        let resource = self.resource;
        let projection = self.projection.clone();
        let out_schema = Arc::clone(&schema);
        let fetch = async move {
            let read = async {
                let listed = reader.list(&context.clients, &region, &request).await?;
                let kept = kept_rows(listed, &rows)?;
                // A failed call fails the region like a failed listing: no row of a region is
                // shown with columns it could not fill.
                let clients = &context.clients;
                lazy::fill(resource, clients, &region, kept, &fetches).await
            };
            match context.call_region(&region, read).await? {
                Some(batch) => Ok(batch.project(&projection)?),
                None => Ok(RecordBatch::new_empty(out_schema)),
            }
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(fetch),
        )))
    }
}

/// The listed rows that pass the scan's filters and LIMIT, in listing order (lazy columns
/// are NULL while the filters run: none of them reads one).
fn kept_rows(listed: RecordBatch, rows: &RowFilter) -> crate::error::Result<RecordBatch> {
    if rows.keeps_all() {
        return Ok(listed);
    }
    let kept = UInt32Array::from_iter_values(rows.keep(&listed)?.into_iter().map(|i| i as u32));
    take_record_batch(&listed, &kept).map_err(|e| crate::error::Error::Runtime(e.to_string()))
}

/// The scan of `resource` for a SELECT's projection, filters and LIMIT: the request's regions
/// and identifiers, the filters it evaluates itself, and the LIMIT they leave (see
/// `scan_filter`). Checks every value before any call.
pub fn plan_scan(
    resource: &'static Resource,
    reader: &Arc<dyn Reader>,
    state: &dyn Session,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
    context: &Arc<ProviderContext>,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let scan = |request, rows, regions| {
        ResourceScanExec::new(
            resource,
            Arc::clone(reader),
            projection.cloned(),
            request,
            rows,
            regions,
            Arc::clone(context),
        )
        .map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>)
    };
    if filters.iter().any(pushdown::is_false_or_null) {
        // A WHERE the optimizer proved false (contradictory pins, say) reads no region.
        let nothing = RowFilter::new(Vec::new(), None, Vec::new());
        return scan(ScanRequest::default(), nothing, Vec::new());
    }
    let mut request = pushdown::plan(resource, filters, limit, &schemas().provider.regions)?;
    pushdown::narrow_regions(resource, &mut request, filters, &context.region_scope);
    let regions: Vec<String> = match &request.regions {
        Some(pinned) => pinned.iter().cloned().collect(),
        None => context.default_regions.clone().map_err(Error::Usage)?,
    };
    // Every filter pushed here is exact (`scan_filter::classify`): the scan applies each, and
    // the LIMIT after them, before any per-row call.
    let unqualified = DFSchema::try_from(resource.arrow_schema().as_ref().clone())?;
    let in_scan = filters
        .iter()
        .map(|f| state.create_physical_expr(f.clone(), &unqualified))
        .collect::<DfResult<Vec<_>>>()?;
    let dropping: Vec<String> = filters
        .iter()
        .filter(|f| !scan_filter::answered_by_request(resource, f, reader.sends_request()))
        .map(ToString::to_string)
        .collect();
    if !dropping.is_empty() {
        // Listed rows are dropped, so the listing cannot stop at LIMIT rows.
        request.page_size = None;
        request.limit = None;
    }
    scan(request, RowFilter::new(in_scan, limit, dropping), regions)
}

/// The session's regions that the scans of `plan` search because no predicate chose theirs,
/// sorted; empty when every scan was pinned (the "searched …" line of a terminal).
pub fn unpinned_regions(plan: &Arc<dyn ExecutionPlan>) -> BTreeSet<String> {
    use datafusion::common::tree_node::TreeNode;
    let mut regions = BTreeSet::new();
    let _ = plan.apply(|node| {
        if let Some(scan) = node.downcast_ref::<ResourceScanExec>()
            && scan.request.regions.is_none()
        {
            regions.extend(scan.regions.iter().cloned());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    regions
}

impl ResourceScanExec {
    /// What the scan touches, for the permissions it needs: SELECT in its regions, reading its
    /// columns (values unknown).
    pub fn touch(&self) -> super::permissions::Touch {
        super::permissions::Touch {
            resource: self.resource,
            verb: crate::schema::Verb::Select,
            regions: Some(self.regions.clone()),
            columns: self
                .columns
                .iter()
                .map(|c| (c.name.clone(), None))
                .collect(),
            on_conflict: None,
            input: Default::default(),
        }
    }
}

inventory::submit! {
    super::permissions::TouchingExec {
        touches: |node| node.downcast_ref::<ResourceScanExec>().map(|scan| vec![scan.touch()]),
    }
}
