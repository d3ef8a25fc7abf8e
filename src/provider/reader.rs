//! What a resource implements to be read; the one scan (`scan.rs`) does the rest: regions,
//! filters, LIMIT, lazy columns, projection, failed regions and EXPLAIN.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use crate::aws::EcrClients;
use crate::aws::request::ScanRequest;
use crate::error::Result;
use crate::schema::{FetchOperation, Resource};

/// How one resource is read from one region.
#[async_trait]
pub trait Reader: fmt::Debug + Send + Sync {
    /// The rows `request` asks for in `region`, in the resource's full schema; lazy columns
    /// (filled by a call per row) are NULL. `Ok` with no rows when there are none.
    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RecordBatch>;

    /// Whether the request's identifiers and page size are sent to the API (EXPLAIN shows
    /// them then); otherwise the identifiers are only filters on the rows read.
    fn sends_request(&self) -> bool {
        true
    }

    /// `rows` (some rows of [`Reader::list`]) with the lazy columns of `fetches` filled; a
    /// row whose resource no longer exists is dropped. Only called with `fetches` non-empty.
    async fn fill(
        &self,
        clients: &EcrClients,
        region: &str,
        rows: RecordBatch,
        fetches: &BTreeSet<FetchOperation>,
    ) -> Result<RecordBatch> {
        let _ = (clients, region, fetches);
        Ok(rows)
    }
}

/// A region's rows as a scan reads them when no filter runs in between: listed, then the lazy
/// columns of `fetches` filled (MERGE's target).
pub async fn read_region(
    reader: &dyn Reader,
    clients: &EcrClients,
    region: &str,
    request: &ScanRequest,
    fetches: &BTreeSet<FetchOperation>,
) -> Result<RecordBatch> {
    let listed = reader.list(clients, region, request).await?;
    if fetches.is_empty() {
        return Ok(listed);
    }
    reader.fill(clients, region, listed, fetches).await
}

/// The reader of `resource`, from its registered module.
pub fn reader_for(resource: &'static Resource) -> Arc<dyn Reader> {
    (super::module::module_for(resource).reader)(resource)
}
