//! Reading the registry policy tables: one GetRegistryPolicy per region, as one row or one row
//! per statement.

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use super::policy_rows::{PolicyView, policy_rows};
use super::reader::Reader;
use crate::aws::EcrClients;
use crate::aws::request::ScanRequest;
use crate::error::Result;
use crate::schema::Resource;

/// Reads a registry policy table.
#[derive(Debug)]
pub struct PolicyReader {
    /// The table's resource.
    pub resource: &'static Resource,
    /// Whole document or statements.
    pub view: PolicyView,
}

#[async_trait]
impl Reader for PolicyReader {
    fn sends_request(&self) -> bool {
        false
    }

    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        _request: &ScanRequest,
    ) -> Result<RecordBatch> {
        let policy = clients
            .get_registry_policy(region, self.resource.doc.not_found.as_deref())
            .await?;
        let (rows, _) = policy_rows(self.view, self.resource, region, policy.as_ref())?;
        Ok(rows)
    }
}
