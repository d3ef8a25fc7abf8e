//! Filling lazy columns: the columns a call per item answers (`fetched_by` in provider-schemas,
//! such as the rules' `is_valid`) are read only for the rows a statement keeps, a few calls in
//! flight at a time, each call made as the resource's `fetches` describe it.

use std::collections::BTreeSet;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::records::{Record, fill_columns};
use crate::aws::EcrClients;
use crate::aws::wire_call::{Members, is_code};
use crate::error::{Error, Result};
use crate::schema::{FetchOperation, Resource};

/// Calls per row in flight per region. One call per item adds up (50 rules a region at most):
/// a few round trips' worth of concurrency keeps a region quick without bursting past ECR's
/// request rate, which would only cost throttling retries.
pub const FETCH_IN_FLIGHT: usize = 8;

/// How EXPLAIN names the calls of `fetches` after a plan's other settings
/// (`, fetch=GetLifecyclePolicy, fetch=ListTagsForResource`).
pub fn explain(fetches: &BTreeSet<FetchOperation>) -> String {
    fetches
        .iter()
        .map(|f| format!(", {}", f.explain_key()))
        .collect()
}

/// `rows` (some rows listed in `region`) with the lazy columns of `fetches` filled; a row whose
/// item no longer exists (the resource's `not_found`: deleted since it was listed) is dropped,
/// and a row whose item lacks what the call reads (the fetch's `absent` code) keeps NULLs.
pub async fn fill(
    resource: &Resource,
    clients: &EcrClients,
    region: &str,
    mut rows: RecordBatch,
    fetches: &BTreeSet<FetchOperation>,
) -> Result<RecordBatch> {
    for &fetch in fetches {
        let spec = resource.fetch(fetch).ok_or_else(|| {
            Error::Runtime(format!(
                "{}: no `fetches` entry for {}",
                resource.path,
                fetch.as_str()
            ))
        })?;
        // Each row's request, from its columns. Owned, since a stream over borrowed ones
        // makes the future's Send bound higher-ranked, which the plan's boxed stream cannot
        // prove.
        let mut bodies = vec![Members::new(); rows.num_rows()];
        for (member, column) in &spec.sends {
            let values = (rows.column_by_name(column))
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| Error::Runtime(format!("the rows read have no {column}")))?;
            for (body, value) in bodies.iter_mut().zip(values.iter()) {
                body.insert(member.clone(), value.map_or(Value::Null, Value::from));
            }
        }
        let (not_found, absent) = (resource.doc.not_found.as_deref(), spec.absent.as_deref());
        let answers: Vec<Option<Record>> = futures::stream::iter(bodies)
            .map(|body| async move {
                match clients.call(region, fetch.as_str(), &body).await {
                    Ok(answer) => Ok(Some(answer)),
                    Err(e) if absent.is_some() && is_code(&e, absent) => Ok(Some(Record::new())),
                    Err(e) if is_code(&e, not_found) => Ok(None),
                    Err(e) => Err(e),
                }
            })
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
