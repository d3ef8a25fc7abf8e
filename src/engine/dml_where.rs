//! What the WHERE of an UPDATE or DELETE says, read from the statement's plan before the
//! optimizer rewrites it.
//!
//! DataFusion 55 hands a table's `update`/`delete_from` hooks only the filters it finds in the
//! *optimized* plan: a WHERE the simplifier proves false becomes an empty relation (no filter,
//! read as "no WHERE"), and a subquery becomes a join whose filter is dropped. Either way the
//! hook would act on more rows than the statement asked for. So skyql decides here, from the
//! analyzed (type-coerced, not yet optimized) plan, whether the statement has a WHERE, what
//! its conjuncts are, whether it is provably false, and refuses what it cannot honour exactly.

use datafusion::common::DFSchema;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan, WriteOp};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use std::sync::Arc;

use super::changing::refuse_changing_functions;
use super::pushdown::{has_subquery, is_false_or_null};
use crate::dml::DmlWhere;
use crate::error::{Error, Result};

/// How to pin rows of `service`.`table` instead: its identifier listed, and MERGE where its writer has one.
fn fix_hint(service: &str, table: &str) -> String {
    let Some(resource) = crate::schema::schemas().resource(service, table) else {
        return String::new();
    };
    let id = &resource.doc.identifier;
    let merge = if super::writer::writer_for(resource).is_some_and(|w| w.merges()) {
        ", or converge the table with MERGE … USING (SELECT …)"
    } else {
        ""
    };
    format!(" (WHERE {id} IN ('a', 'b')){merge}")
}

/// Finds the UPDATE or DELETE in an analyzed plan (also under EXPLAIN) and reads its WHERE.
/// Answers `None` for any other statement. Refuses, before any call, what the table hooks
/// cannot honour exactly: subqueries, `UPDATE … FROM`, and `LIMIT`/`ORDER BY`.
pub fn dml_where(plan: &LogicalPlan) -> Result<Option<DmlWhere>> {
    let mut dml = None;
    plan.apply(|node| {
        if let LogicalPlan::Dml(d) = node
            && matches!(d.op, WriteOp::Delete | WriteOp::Update)
        {
            dml = Some(d.clone());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|e| Error::from_datafusion(e, true))?;
    let Some(dml) = dml else { return Ok(None) };
    let hint = fix_hint(
        dml.table_name.schema().unwrap_or("ecr"),
        dml.table_name.table(),
    );
    let verb = if dml.op == WriteOp::Delete {
        "DELETE"
    } else {
        "UPDATE"
    };
    let assignments = match dml.input.as_ref() {
        LogicalPlan::Projection(p) if dml.op == WriteOp::Update => p
            .expr
            .iter()
            .filter_map(|e| match e {
                // Columns left as they are appear bare; a SET column is an alias of its value.
                Expr::Alias(a) if !matches!(a.expr.as_ref(), Expr::Column(c) if c.name == a.name) => {
                    Some((a.name.clone(), unnormalize_col((*a.expr).clone())))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut node = dml.input.as_ref();
    let mut predicate = None;
    loop {
        match node {
            // UPDATE's SET values are a projection over the WHERE.
            LogicalPlan::Projection(p) => node = &p.input,
            LogicalPlan::SubqueryAlias(a) => node = &a.input,
            LogicalPlan::Filter(f) if predicate.is_none() => {
                predicate = Some((f.predicate.clone(), Arc::clone(f.input.schema())));
                node = &f.input;
            }
            LogicalPlan::TableScan(_) => break,
            LogicalPlan::Limit(_) | LogicalPlan::Sort(_) => {
                return Err(Error::Usage(format!(
                    "{verb} … LIMIT/ORDER BY is not supported: it would act on rows chosen by \
                     their order, which the API does not guarantee. Pin the rows with WHERE \
                     (review them first with SELECT); nothing was sent"
                )));
            }
            _ => {
                return Err(Error::Usage(format!(
                    "{verb} reads only its own table: UPDATE … FROM and joins are not supported. \
                     Write the values out in the WHERE{hint}; nothing was sent"
                )));
            }
        }
    }
    let Some((predicate, schema)) = predicate else {
        return Ok(Some(DmlWhere {
            present: false,
            filters: Vec::new(),
            never: false,
            assignments,
        }));
    };
    if has_subquery(&predicate) {
        return Err(Error::Usage(format!(
            "a subquery in the WHERE of {verb} is not supported: skyql decides which rows a \
             {verb} touches before any change, from values it can see. List the values{hint}; \
             nothing was sent"
        )));
    }
    refuse_changing_functions(&predicate, &format!("the WHERE of {verb}"))?;
    let simplified = simplify(predicate, schema)?;
    let never = is_false_or_null(&simplified);
    let filters = split_conjunction(&simplified)
        .into_iter()
        .map(|e| unnormalize_col(e.clone()))
        .collect();
    Ok(Some(DmlWhere {
        present: true,
        filters,
        never,
        assignments,
    }))
}

/// Folds constants (`1 = 0`, `x = NULL`, `a = 'x' AND a = 'y'` stays as written).
fn simplify(expr: Expr, schema: Arc<DFSchema>) -> Result<Expr> {
    // Functions of the clock are refused before this (`changing`); a start time is given all
    // the same, since the simplifier cannot fold `now()` without one.
    let context = SimplifyContext::builder()
        .with_schema(schema)
        .with_query_execution_start_time(Some(chrono::Utc::now()))
        .build();
    ExprSimplifier::new(context)
        .simplify(expr)
        .map_err(|e| Error::from_datafusion(e, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::empty::EmptyTable;
    use datafusion::prelude::SessionContext;

    async fn analyze(sql: &str) -> Result<Option<DmlWhere>> {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new("prefix", DataType::Utf8, true),
            Field::new("arn", DataType::Utf8, true),
        ]));
        ctx.register_table("t", Arc::new(EmptyTable::new(schema)))
            .unwrap();
        let state = ctx.state();
        let plan = state.create_logical_plan(sql).await.unwrap();
        let plan = state
            .analyzer()
            .execute_and_check(plan, state.config_options(), |_, _| {})
            .unwrap();
        dml_where(&plan)
    }

    #[tokio::test]
    async fn a_false_where_is_still_a_where() {
        for sql in [
            "DELETE FROM t WHERE region = 'us-east-1' AND 1 = 0",
            "DELETE FROM t WHERE false",
            "DELETE FROM t WHERE arn = NULL",
            "UPDATE t SET arn = 'x' WHERE 1 = 2",
        ] {
            let w = analyze(sql).await.unwrap().unwrap();
            assert!(w.present && w.never, "{sql}: {w:?}");
        }
        let update = analyze("UPDATE t SET arn = 'x' WHERE 1 = 2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(update.assignments.len(), 1);
        assert_eq!(update.assignments[0].0, "arn");
    }

    #[tokio::test]
    async fn functions_that_change_between_review_and_run_are_refused() {
        for (sql, says) in [
            (
                "DELETE FROM t WHERE random() < 0.5",
                "random() in the WHERE of DELETE",
            ),
            (
                "UPDATE t SET arn = 'x' WHERE NOT (region < CAST(now() AS VARCHAR))",
                "now() in the WHERE of UPDATE",
            ),
        ] {
            let e = analyze(sql).await.unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with(says), "{sql}: {e}");
        }
    }

    #[tokio::test]
    async fn conjuncts_are_kept_unqualified() {
        let w = analyze("DELETE FROM t WHERE region = 'a' AND (prefix = 'x' OR prefix = 'y')")
            .await
            .unwrap()
            .unwrap();
        assert!(w.present && !w.never);
        assert_eq!(w.filters.len(), 2);
        assert!(w.filters[0].to_string().starts_with("region ="), "{w:?}");
        let none = analyze("DELETE FROM t").await.unwrap().unwrap();
        assert!(!none.present && none.filters.is_empty() && !none.never);
        assert_eq!(analyze("SELECT * FROM t").await.unwrap(), None);
    }

    #[tokio::test]
    async fn subqueries_limits_and_joins_are_refused() {
        for (sql, says) in [
            (
                "DELETE FROM t WHERE region = 'eu-west-1' AND prefix IN (SELECT 'k8s')",
                "subquery",
            ),
            ("DELETE FROM t WHERE NOT EXISTS (SELECT 1)", "subquery"),
            (
                "UPDATE t SET arn = 'x' WHERE prefix = (SELECT max(prefix) FROM t)",
                "subquery",
            ),
        ] {
            let e = analyze(sql).await.unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(says), "{sql}: {e}");
        }
    }
}
