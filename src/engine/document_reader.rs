//! Reading a resource held as one document per region (the registry policy): one read per
//! region, the document split into its items, one row each.

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use super::reader::Reader;
use super::records::{Record, records_batch};
use crate::aws::EcrClients;
use crate::aws::wire_call::{Members, is_code};
use crate::dml::document::{Document, Held, id_of};
use crate::engine::request::ScanRequest;
use crate::error::Result;
use crate::schema::{Resource, Verb};

/// Reads a document-held table.
#[derive(Debug)]
pub struct DocumentReader {
    /// The table's resource.
    pub resource: &'static Resource,
    /// How its document splits into items.
    pub shape: &'static dyn Document,
}

impl DocumentReader {
    /// The document of `region` and its items, with their identifiers, and each item's row as
    /// members: the document's own members the table declares (its registry id), then the
    /// item's. Each item is turned into members once, for both.
    pub async fn held(&self, clients: &EcrClients, region: &str) -> Result<(Held, Vec<Record>)> {
        let (r, not_found) = (self.resource, self.resource.doc.not_found.as_deref());
        // A region without the document answers the resource's `not_found` code: no items.
        let nothing = Members::new();
        let doc = match clients
            .call(region, r.operation(Verb::Select), &nothing)
            .await
        {
            Ok(doc) => doc,
            Err(e) if is_code(&e, not_found) => return Ok((Held::default(), Vec::new())),
            Err(e) => return Err(e),
        };
        let common: Record = (doc.iter())
            .filter(|(m, _)| r.column_by_member(m).is_some())
            .map(|(m, v)| (m.clone(), v.clone()))
            .collect();
        let (mut items, mut records) = (Vec::new(), Vec::new());
        for item in self.shape.items(region, &doc)? {
            let members = self.shape.members(&item)?;
            items.push((id_of(r, region, &members), item));
            let mut record = common.clone();
            record.extend(members);
            records.push(record);
        }
        let held = Held {
            doc: Some(doc),
            items,
        };
        Ok((held, records))
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
        let (_, records) = self.held(clients, region).await?;
        records_batch(self.resource, region, &records, None)
    }
}
