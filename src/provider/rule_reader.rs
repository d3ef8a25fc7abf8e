//! Reading pull-through cache rules: DescribePullThroughCacheRules, and
//! ValidatePullThroughCacheRule for the lazy validation columns.

use std::collections::BTreeSet;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, BooleanArray, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;

use super::reader::Reader;
use crate::aws::EcrClients;
use crate::aws::convert::{rules_batch, with_validations};
use crate::aws::request::ScanRequest;
use crate::error::{Error, Result};
use crate::schema::{Column, FetchOperation, Resource};

/// Reads a rule table.
#[derive(Debug)]
pub struct RuleReader {
    /// The table's resource.
    pub resource: &'static Resource,
}

#[async_trait]
impl Reader for RuleReader {
    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RecordBatch> {
        let rules = clients
            .describe_rules(region, request, self.resource.doc.not_found.as_deref())
            .await?;
        let columns: Vec<&Column> = self.resource.columns.iter().collect();
        rules_batch(self.resource.arrow_schema(), &columns, region, &rules)
    }

    async fn fill(
        &self,
        clients: &EcrClients,
        region: &str,
        rows: RecordBatch,
        fetches: &BTreeSet<FetchOperation>,
    ) -> Result<RecordBatch> {
        if !fetches.contains(&FetchOperation::ValidatePullThroughCacheRule) {
            return Ok(rows);
        }
        let identifier = rows
            .column_by_name(&self.resource.doc.identifier)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| Error::Runtime("the rows have no identifier column".into()))?;
        let prefixes = (0..identifier.len())
            .map(|i| identifier.value(i).to_string())
            .collect();
        let answers = clients
            .validate_prefixes(region, prefixes, self.resource.doc.not_found.as_deref())
            .await?;
        // A rule deleted since it was listed has no answer, and no row.
        let exists: BooleanArray = answers.iter().map(|a| Some(a.is_some())).collect();
        let rows =
            filter_record_batch(&rows, &exists).map_err(|e| Error::Runtime(e.to_string()))?;
        let answers: Vec<_> = answers.into_iter().flatten().collect();
        with_validations(self.resource, rows, &answers)
    }
}
