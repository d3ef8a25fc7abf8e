//! What a resource implements to be read; the one scan (`scan.rs`) does the rest: regions,
//! filters, LIMIT, lazy columns, projection, failed regions and EXPLAIN.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use super::records::Record;
use crate::aws::EcrClients;
use crate::aws::request::ScanRequest;
use crate::error::{Error, Result};
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

    /// The members the call `fetch` answers for the item `id` of `region` (the lazy columns it
    /// fills take them by `source`); `None` when the item no longer exists. Only asked of a
    /// resource whose schema has columns `fetched_by` that call.
    async fn fetch(
        &self,
        clients: &EcrClients,
        region: &str,
        fetch: FetchOperation,
        id: &str,
    ) -> Result<Option<Record>> {
        let _ = (clients, region, id);
        Err(Error::Runtime(format!(
            "this reader makes no {} call",
            fetch.as_str()
        )))
    }
}

/// A region's rows as a scan reads them when no filter runs in between: listed, then the lazy
/// columns of `fetches` filled (MERGE's target).
pub async fn read_region(
    reader: &dyn Reader,
    resource: &Resource,
    clients: &EcrClients,
    region: &str,
    request: &ScanRequest,
    fetches: &BTreeSet<FetchOperation>,
) -> Result<RecordBatch> {
    let listed = reader.list(clients, region, request).await?;
    super::lazy::fill(reader, resource, clients, region, listed, fetches).await
}

/// The reader of `resource`, from its registered module.
pub fn reader_for(resource: &'static Resource) -> Arc<dyn Reader> {
    (super::module::module_for(resource).reader)(resource)
}
