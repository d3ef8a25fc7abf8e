//! How a table is read: the one listing of provider-schemas (`listing.rs`) unless the
//! resource's module reads it itself (a document per region); the one scan (`scan.rs`) does
//! the rest: regions, filters, LIMIT, lazy columns, projection, failed regions and EXPLAIN.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use super::listing::list_items;
use super::records::records_batch;
use crate::aws::EcrClients;
use crate::engine::request::ScanRequest;
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
}

/// Reads a table as its SELECT method's `list` describes.
#[derive(Debug)]
pub struct ListingReader {
    /// The table's resource.
    pub resource: &'static Resource,
}

#[async_trait]
impl Reader for ListingReader {
    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RecordBatch> {
        let items = list_items(clients, self.resource, region, request).await?;
        records_batch(self.resource, region, &items, None)
    }

    fn sends_request(&self) -> bool {
        self.resource
            .listing()
            .is_some_and(|l| l.identifiers.is_some() || l.page.is_some())
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
    super::lazy::fill(resource, clients, region, listed, fetches).await
}

/// The reader of `resource`: its module's, else the listing of its schema.
pub fn reader_for(resource: &'static Resource) -> Arc<dyn Reader> {
    match super::module::module_for(resource).and_then(|m| m.reader) {
        Some(reader) => reader(resource),
        None => Arc::new(ListingReader { resource }),
    }
}
