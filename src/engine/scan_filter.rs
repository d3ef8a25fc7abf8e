//! The filters and LIMIT a scan applies itself, between listing a region and the per-row calls
//! of lazy columns, so those calls are made only for rows the statement can return.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::compute::and;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;

use super::pushdown::{self, has_subquery};
use crate::error::{Error, Result};
use crate::schema::Resource;

/// Whether the scan can evaluate `filter` on the listed rows: it reads a column but no lazy
/// one (filled by a per-row call after the filter), holds no subquery and is not volatile. (A
/// constant stays with DataFusion; a `false` one, as contradictory pins simplify to, reaches
/// the scan only pushed down with others and then reads no region.)
pub fn evaluated_in_scan(resource: &Resource, filter: &Expr) -> bool {
    let columns = filter.column_refs();
    let reads_lazy = columns.iter().any(|c| {
        resource
            .column(&c.name)
            .is_some_and(|c| c.fetched_by.is_some())
    });
    !columns.is_empty() && !reads_lazy && !has_subquery(filter) && !filter.is_volatile()
}

/// How a filter is pushed to a scan that evaluates what it can: exactly (DataFusion need not
/// re-check it, so a LIMIT reaches the scan and bounds the per-row calls), else as
/// [`pushdown::classify`] says.
pub fn classify(resource: &Resource, filter: &Expr) -> TableProviderFilterPushDown {
    if evaluated_in_scan(resource, filter) {
        TableProviderFilterPushDown::Exact
    } else {
        pushdown::classify(resource, filter)
    }
}

/// How each of `filters` is pushed to a scan, after refusing a text column compared with a
/// number (before any call).
pub fn pushdown_of(
    resource: &Resource,
    filters: &[&Expr],
) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
    for f in filters {
        pushdown::check_comparison_types(resource, f)?;
    }
    Ok(filters.iter().map(|f| classify(resource, f)).collect())
}

/// Whether `filter` is already answered by what the scan asks for: the regions it calls (`=`
/// or `IN` on region), or the identifiers it sends (when `sends_identifiers`). Only then may a
/// LIMIT stop the listing early; any other filter may drop listed rows. (A region `LIKE` is not
/// counted: its regions are chosen only when it can be evaluated before the scan.)
pub fn answered_by_request(resource: &Resource, filter: &Expr, sends_identifiers: bool) -> bool {
    match pushdown::literal_set(resource, filter) {
        Some((column, _)) => column == pushdown::REGION_COLUMN || sends_identifiers,
        None => false,
    }
}

/// The rows a scan keeps: those every filter holds for, up to a LIMIT shared by its regions.
#[derive(Debug)]
pub struct RowFilter {
    filters: Vec<Arc<dyn PhysicalExpr>>,
    /// The statement's LIMIT (with its OFFSET), as DataFusion pushed it.
    pub limit: Option<usize>,
    /// Rows still wanted across every region of the scan; `None` without a LIMIT.
    remaining: Option<AtomicUsize>,
    /// The filters that drop listed rows (the others hold by the request), for EXPLAIN.
    pub dropping: Vec<String>,
}

impl RowFilter {
    /// Keeps rows for which all `filters` are true, at most `limit` in all; `dropping` names
    /// the filters the request does not already answer.
    pub fn new(
        filters: Vec<Arc<dyn PhysicalExpr>>,
        limit: Option<usize>,
        dropping: Vec<String>,
    ) -> Self {
        Self {
            filters,
            limit,
            remaining: limit.map(AtomicUsize::new),
            dropping,
        }
    }

    /// Whether it keeps every row (no filter, no LIMIT).
    pub fn keeps_all(&self) -> bool {
        self.filters.is_empty() && self.remaining.is_none()
    }

    /// The indices of the rows of `batch` (every column of the resource, lazy ones NULL) to
    /// keep, in order. Rows are taken from the shared LIMIT first come first served: without
    /// ORDER BY any rows are an answer, and no region's rows are fetched for nothing.
    pub fn keep(&self, batch: &RecordBatch) -> Result<Vec<usize>> {
        let held = all_true(&self.filters, batch)?;
        let mut kept: Vec<usize> = (0..batch.num_rows())
            .filter(|&i| held.is_valid(i) && held.value(i))
            .collect();
        if let Some(remaining) = &self.remaining {
            let wanted = kept.len();
            let granted = remaining
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    Some(left - left.min(wanted))
                })
                .map_or(0, |left| left.min(wanted));
            kept.truncate(granted);
        }
        Ok(kept)
    }
}

/// Which rows of `batch` every one of `filters` holds for (NULL counts as not).
pub fn all_true<'a>(
    filters: impl IntoIterator<Item = &'a Arc<dyn PhysicalExpr>>,
    batch: &RecordBatch,
) -> Result<BooleanArray> {
    let mut keep = BooleanArray::from(vec![true; batch.num_rows()]);
    for f in filters {
        let v = f
            .evaluate(batch)
            .and_then(|v| v.into_array(batch.num_rows()))
            .map_err(|e| Error::Runtime(format!("evaluating {f}: {e}")))?;
        let v = v
            .as_any()
            .downcast_ref::<BooleanArray>()
            .cloned()
            .ok_or_else(|| Error::Runtime("a WHERE filter is not boolean".into()))?;
        keep = and(&keep, &v).map_err(|e| Error::Runtime(e.to_string()))?;
    }
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::common::DFSchema;
    use datafusion::execution::context::ExecutionProps;
    use datafusion::physical_expr::create_physical_expr;
    use datafusion::prelude::{col, lit};

    use super::*;
    use crate::schema::schemas;

    fn rules() -> &'static Resource {
        schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap()
    }

    fn batch() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("upstream_registry", DataType::Utf8, true),
            Field::new("n", DataType::Int32, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("quay"),
                    None,
                    Some("docker-hub"),
                    Some("quay"),
                ])),
                Arc::new(Int32Array::from(vec![1, 2, 3, 4])),
            ],
        )
        .unwrap()
    }

    fn physical(filter: Expr) -> Arc<dyn PhysicalExpr> {
        let schema = DFSchema::try_from(batch().schema().as_ref().clone()).unwrap();
        create_physical_expr(
            &filter,
            &schema,
            &ExecutionProps::new(),
            &Default::default(),
        )
        .unwrap()
    }

    #[test]
    fn filters_on_listed_columns_are_exact_and_on_lazy_columns_stay_with_datafusion() {
        let exact = TableProviderFilterPushDown::Exact;
        assert_eq!(
            classify(rules(), &col("upstream_registry").eq(lit("quay"))),
            exact
        );
        assert_eq!(classify(rules(), &col("region").like(lit("us-%"))), exact);
        assert_eq!(
            classify(rules(), &col("is_valid").eq(lit(false))),
            TableProviderFilterPushDown::Unsupported
        );
        let mixed = col("is_valid")
            .eq(lit(false))
            .or(col("region").eq(lit("x")));
        assert!(!evaluated_in_scan(rules(), &mixed));
        assert!(!evaluated_in_scan(rules(), &lit(false)));
    }

    #[test]
    fn only_pins_the_request_sends_let_a_limit_stop_the_listing() {
        let region = col("region").eq(lit("us-east-1"));
        let prefix = col("ecr_repository_prefix").eq(lit("quay"));
        assert!(answered_by_request(rules(), &region, false));
        assert!(answered_by_request(rules(), &prefix, true));
        // Identifiers a reader does not send are only a filter on what it reads.
        assert!(!answered_by_request(rules(), &prefix, false));
        let other_region = col("region").not_eq(lit("us-east-1"));
        assert!(!answered_by_request(rules(), &other_region, true));
        let other = col("upstream_registry").eq(lit("quay"));
        assert!(!answered_by_request(rules(), &other, true));
    }

    #[test]
    fn keeps_rows_every_filter_holds_for_and_null_is_not_true() {
        let filter = RowFilter::new(
            vec![physical(col("upstream_registry").eq(lit("quay")))],
            None,
            Vec::new(),
        );
        assert_eq!(filter.keep(&batch()).unwrap(), vec![0, 3]);
        let both = RowFilter::new(
            vec![
                physical(col("upstream_registry").eq(lit("quay"))),
                physical(col("n").gt(lit(1))),
            ],
            None,
            Vec::new(),
        );
        assert_eq!(both.keep(&batch()).unwrap(), vec![3]);
    }

    #[test]
    fn the_limit_is_shared_by_every_region_of_the_scan() {
        let filter = RowFilter::new(vec![physical(col("n").gt(lit(1)))], Some(4), Vec::new());
        assert_eq!(filter.keep(&batch()).unwrap(), vec![1, 2, 3]);
        assert_eq!(filter.keep(&batch()).unwrap(), vec![1]);
        assert_eq!(filter.keep(&batch()).unwrap(), Vec::<usize>::new());
    }
}
