//! The scan of a resource: one partition per region; the API is called only when a partition
//! executes (never while planning, so EXPLAIN and DML planning make no call). Columns filled by
//! an extra call per rule (`fetched_by`) cost those calls only when the projection holds them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use super::pushdown::ScanRequest;
use super::scan_filter::RowFilter;
use super::table::ProviderContext;
use aws_sdk_ecr::types::PullThroughCacheRule;

use crate::aws::clients::RegionRules;
use crate::aws::convert::rules_batch;
use crate::schema::{Column, FetchOperation, Resource};

/// Reads one resource from a set of regions.
#[derive(Debug)]
pub struct ResourceScanExec {
    resource: &'static Resource,
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
        if let Some(ids) = &self.request.identifiers {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            write!(f, ", {}=[{}]", self.resource.doc.identifier, ids.join(", "))?;
        }
        if let Some(n) = self.request.page_size {
            write!(f, ", max_results={n}")?;
        }
        if !self.rows.dropping.is_empty() {
            write!(f, ", filters=[{}]", self.rows.dropping.join(", "))?;
        }
        if let Some(n) = self.rows.limit {
            write!(f, ", limit={n}")?;
        }
        for fetch in self.fetches.iter() {
            write!(f, ", {}=true", fetch.explain_key())?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ResourceScanExec {
    fn name(&self) -> &str {
        "ResourceScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
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
        let columns = self.columns.clone();
        let resource = self.resource;
        let out_schema = Arc::clone(&schema);
        let fetch = async move {
            let read = async {
                let listed = context.clients.describe_rules(&region, &request).await?;
                let kept = kept_rules(resource, &region, listed, &rows)?;
                context.clients.fetch_for(&region, kept, &fetches).await
            };
            let read = context.call_region(&region, read).await?;
            // A failed extra call fails the region like a failed listing: no row of a region is
            // shown with columns it could not fill.
            Ok(rules_batch(
                out_schema,
                &columns,
                &region,
                &read.unwrap_or_default(),
            )?)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(fetch),
        )))
    }
}

/// The listed rules that pass the scan's filters and LIMIT, in listing order (lazy columns
/// are NULL while the filters run: none of them reads one).
fn kept_rules(
    resource: &'static Resource,
    region: &str,
    listed: Vec<PullThroughCacheRule>,
    rows: &RowFilter,
) -> crate::error::Result<Vec<PullThroughCacheRule>> {
    if rows.keeps_all() {
        return Ok(listed);
    }
    let all: Vec<&Column> = resource.columns.iter().collect();
    let read = RegionRules::listed(listed);
    let batch = rules_batch(resource.arrow_schema(), &all, region, &read)?;
    let mut keep = rows.keep(&batch)?.into_iter().peekable();
    Ok(read
        .rules
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.next_if_eq(i).is_some())
        .map(|(_, rule)| rule)
        .collect())
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
        }
    }
}
