//! The scan of the registry policy tables: one GetRegistryPolicy per region, answered as one row
//! (`registry_policy`) or one row per statement (`registry_policy_statements`).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder};
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

use super::table::ProviderContext;
use crate::aws::policy::RegistryPolicy;
use crate::error::{Error, Result};
use crate::iam::policy::{StatementRow, parse, row_of, statements};
use crate::schema::Resource;

/// How a registry policy table shows the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyView {
    /// One row per region: the whole document.
    Document,
    /// One row per statement.
    Statements,
}

impl PolicyView {
    /// The view of a resource read with GetRegistryPolicy, by its identifier (region: the
    /// document; sid: statements); `None` for other resources.
    pub fn of(resource: &Resource) -> Option<Self> {
        let select = resource.method(crate::schema::Verb::Select)?;
        if select.operation != "GetRegistryPolicy" {
            return None;
        }
        Some(if resource.doc.identifier == "sid" {
            Self::Statements
        } else {
            Self::Document
        })
    }
}

/// A region's rows in the table's full schema, with the position in the policy's statement
/// list of each row (DML changes statements by position).
pub fn policy_rows(
    view: PolicyView,
    resource: &Resource,
    region: &str,
    policy: Option<&RegistryPolicy>,
) -> Result<(RecordBatch, Vec<usize>)> {
    let schema = resource.arrow_schema();
    let Some(policy) = policy else {
        return Ok((RecordBatch::new_empty(schema), Vec::new()));
    };
    let rows: Vec<StatementRow> = match view {
        PolicyView::Document => Vec::new(),
        PolicyView::Statements => {
            let doc = parse(&policy.policy_text)
                .map_err(|e| Error::Runtime(format!("{region}: registry policy: {e}")))?;
            statements(&doc).iter().map(row_of).collect()
        }
    };
    let n = match view {
        PolicyView::Document => 1,
        PolicyView::Statements => rows.len(),
    };
    let text = |f: &dyn Fn(&StatementRow) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let list = |f: &dyn Fn(&StatementRow) -> &Vec<String>| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in &rows {
            for v in f(r) {
                b.values().append_value(v);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    };
    let columns: Vec<ArrayRef> = resource
        .columns
        .iter()
        .map(|c| match c.name.as_str() {
            "region" => Arc::new(StringArray::from(vec![region; n])) as ArrayRef,
            "registry_id" => Arc::new(StringArray::from(vec![policy.registry_id.clone(); n])),
            "policy_text" => Arc::new(StringArray::from(vec![policy.policy_text.clone(); n])),
            "sid" => text(&|r| r.sid.clone()),
            "effect" => text(&|r| r.effect.clone()),
            "conditions" => text(&|r| r.conditions.clone()),
            "principals" => list(&|r| &r.principals),
            "actions" => list(&|r| &r.actions),
            "resources" => list(&|r| &r.resources),
            other => unreachable!("the policy tables have no column {other}"),
        })
        .collect();
    let batch = RecordBatch::try_new(schema, columns).map_err(|e| Error::Runtime(e.to_string()))?;
    Ok((batch, (0..n).collect()))
}

/// Reads a registry policy table from a set of regions.
#[derive(Debug)]
pub struct PolicyScanExec {
    resource: &'static Resource,
    view: PolicyView,
    projection: Vec<usize>,
    schema: SchemaRef,
    regions: Vec<String>,
    context: Arc<ProviderContext>,
    properties: Arc<PlanProperties>,
}

impl PolicyScanExec {
    /// A scan of `regions`, producing the `projection` of the resource's columns.
    pub fn new(
        resource: &'static Resource,
        view: PolicyView,
        projection: Option<Vec<usize>>,
        regions: Vec<String>,
        context: Arc<ProviderContext>,
    ) -> DfResult<Self> {
        let projection = projection.unwrap_or_else(|| (0..resource.columns.len()).collect());
        let schema = Arc::new(resource.arrow_schema().project(&projection)?);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(regions.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Self {
            resource,
            view,
            projection,
            schema,
            regions,
            context,
            properties: Arc::new(properties),
        })
    }

    /// The names of the columns produced.
    pub fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

impl DisplayAs for PolicyScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PolicyScanExec: table={}, operation=GetRegistryPolicy, regions=[{}]",
            self.resource.qualified_name("aws"),
            self.regions.join(", ")
        )
    }
}

impl ExecutionPlan for PolicyScanExec {
    fn name(&self) -> &str {
        "PolicyScanExec"
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
            return Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::empty(),
            )));
        };
        let (resource, view, context) = (self.resource, self.view, Arc::clone(&self.context));
        let projection = self.projection.clone();
        let fetch = async move {
            let policy = context
                .call_region(&region, context.clients.get_registry_policy(&region))
                .await?
                .flatten();
            let (batch, _) = policy_rows(view, resource, &region, policy.as_ref())?;
            Ok(batch.project(&projection)?)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(fetch),
        )))
    }
}

impl PolicyScanExec {
    /// What the scan touches, for the permissions it needs.
    pub fn touch(&self) -> super::permissions::Touch {
        super::permissions::Touch {
            resource: self.resource,
            verb: crate::schema::Verb::Select,
            regions: Some(self.regions.clone()),
            columns: self.column_names().into_iter().map(|c| (c, None)).collect(),
        }
    }
}
