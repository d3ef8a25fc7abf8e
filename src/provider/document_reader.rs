//! Reading a resource held as one document per region (the registry policy): one read per
//! region, the document split into its items, one row each.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use super::reader::Reader;
use super::records::{Record, records_batch};
use crate::aws::EcrClients;
use crate::aws::document::DocumentStore;
use crate::aws::request::ScanRequest;
use crate::dml::document::{Document, Held, id_of};
use crate::error::Result;
use crate::schema::Resource;

/// Reads a document-held table.
#[derive(Debug)]
pub struct DocumentReader {
    /// The table's resource.
    pub resource: &'static Resource,
    /// How its document splits into items.
    pub shape: &'static dyn Document,
    /// How its document is read.
    pub store: Arc<dyn DocumentStore>,
}

impl DocumentReader {
    /// The document of `region` and its items, with their identifiers.
    pub async fn held(&self, clients: &EcrClients, region: &str) -> Result<Held> {
        let not_found = self.resource.doc.not_found.as_deref();
        let Some(doc) = self.store.read(clients, region, not_found).await? else {
            return Ok(Held::default());
        };
        let mut items = Vec::new();
        for item in self.shape.items(region, &doc)? {
            let members = self.shape.members(&item)?;
            items.push((id_of(self.resource, region, &members), item));
        }
        Ok(Held {
            doc: Some(doc),
            items,
        })
    }

    /// The rows of a region's document, one per item in its order: the document's own
    /// members the table declares (its registry id), then the item's.
    pub fn rows(&self, region: &str, held: &Held) -> Result<RecordBatch> {
        let r = self.resource;
        let doc = held.doc.iter().flatten();
        let common: Record = (doc.filter(|(m, _)| r.column_by_member(m).is_some()))
            .map(|(m, v)| (m.clone(), v.clone()))
            .collect();
        let mut records = Vec::new();
        for (_, item) in &held.items {
            let mut record = common.clone();
            record.extend(self.shape.members(item)?);
            records.push(record);
        }
        records_batch(r, region, &records)
    }
}

#[async_trait]
impl Reader for DocumentReader {
    fn sends_request(&self) -> bool {
        // One read answers for the whole document: the identifiers only filter its rows.
        false
    }

    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        _request: &ScanRequest,
    ) -> Result<RecordBatch> {
        let held = self.held(clients, region).await?;
        self.rows(region, &held)
    }
}
