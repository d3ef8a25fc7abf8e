//! Filling lazy columns: the columns a call per item answers (`fetched_by` in provider-schemas,
//! such as the rules' `is_valid`) are read only for the rows a statement keeps, a few calls in
//! flight at a time, through the resource's `Reader::fetch`.

use std::collections::BTreeSet;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;
use futures::{StreamExt, TryStreamExt};

use super::reader::Reader;
use super::records::fill_columns;
use crate::aws::EcrClients;
use crate::error::{Error, Result};
use crate::schema::{FetchOperation, Resource};

/// Calls per row in flight per region. One call per item adds up (50 rules a region at most):
/// a few round trips' worth of concurrency keeps a region quick without bursting past ECR's
/// request rate, which would only cost throttling retries.
pub const FETCH_IN_FLIGHT: usize = 8;

/// `rows` (some rows `reader` listed in `region`) with the lazy columns of `fetches` filled; a
/// row whose item no longer exists (deleted since it was listed) is dropped.
pub async fn fill(
    reader: &dyn Reader,
    resource: &Resource,
    clients: &EcrClients,
    region: &str,
    mut rows: RecordBatch,
    fetches: &BTreeSet<FetchOperation>,
) -> Result<RecordBatch> {
    for &fetch in fetches {
        // The identifiers straight from their column: every row read has one. Owned, since a
        // stream over borrowed ones makes the future's Send bound higher-ranked, which the
        // plan's boxed stream cannot prove.
        let ids = (rows.column_by_name(&resource.doc.identifier))
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| {
                Error::Runtime(format!("the rows read have no {}", resource.doc.identifier))
            })?;
        let ids: Vec<String> = ids.iter().flatten().map(str::to_string).collect();
        let answers: Vec<_> = futures::stream::iter(ids)
            .map(|id| async move { reader.fetch(clients, region, fetch, &id).await })
            .buffered(FETCH_IN_FLIGHT)
            .try_collect()
            .await?;
        let exists: BooleanArray = answers.iter().map(|a| Some(a.is_some())).collect();
        let kept =
            filter_record_batch(&rows, &exists).map_err(|e| Error::Runtime(e.to_string()))?;
        let answers: Vec<_> = answers.into_iter().flatten().collect();
        rows = fill_columns(resource, kept, fetch, &answers)?;
    }
    Ok(rows)
}
