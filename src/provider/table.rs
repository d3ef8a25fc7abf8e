//! A TableProvider for one provider-schemas resource; `scan` only plans (no API call).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::failures::RegionFailures;
use super::pushdown;
use super::scan::ResourceScanExec;
use crate::aws::EcrClients;
use crate::error::Error;
use crate::schema::{Resource, schemas};

/// What every scan of a session shares: clients, default regions, failure collection.
#[derive(Debug)]
pub struct ScanContext {
    /// The ECR clients.
    pub clients: EcrClients,
    /// The session's regions, or why there are none (reported only when a query needs them).
    pub default_regions: Result<Vec<String>, String>,
    /// Where failed regions are recorded.
    pub failures: RegionFailures,
    /// `--strict`: a failed region fails the statement instead of being collected.
    pub strict: bool,
}

/// One resource as a table.
#[derive(Debug)]
pub struct ResourceTable {
    resource: &'static Resource,
    schema: SchemaRef,
    context: Arc<ScanContext>,
}

impl ResourceTable {
    /// The table for `resource`.
    pub fn new(resource: &'static Resource, context: Arc<ScanContext>) -> Self {
        Self {
            resource,
            schema: resource.arrow_schema(),
            context,
        }
    }
}

#[async_trait]
impl TableProvider for ResourceTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| pushdown::classify(self.resource, f))
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let request = pushdown::plan(self.resource, filters, limit, &schemas().provider.regions)?;
        let regions: Vec<String> = match &request.regions {
            Some(pinned) => pinned.iter().cloned().collect(),
            None => self.context.default_regions.clone().map_err(Error::Usage)?,
        };
        Ok(Arc::new(ResourceScanExec::new(
            self.resource,
            projection.cloned(),
            request,
            regions,
            Arc::clone(&self.context),
        )?))
    }
}
