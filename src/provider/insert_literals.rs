//! Refuses silent conversions of literal values in an INSERT into an AWS table: a number where
//! text is expected (`ecr_repository_prefix = 55` would become '55') and a string where a list
//! is expected (`actions = 'ecr:*'`). The value probably is not what the author meant, and the
//! conversion would happen without a word.

use std::collections::HashMap;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{Expr, LogicalPlan, WriteOp};

use crate::error::{Error, Result};

/// Checks the literals of an INSERT into a table of the `aws` catalog (none for any other plan).
pub fn check_insert_literals(plan: &LogicalPlan) -> Result<()> {
    let mut problem = None;
    let _ = plan.apply(|node| {
        let LogicalPlan::Dml(dml) = node else {
            return Ok(TreeNodeRecursion::Continue);
        };
        if !matches!(dml.op, WriteOp::Insert(_)) || dml.table_name.catalog() != Some("aws") {
            return Ok(TreeNodeRecursion::Continue);
        }
        // VALUES columns are `column1`, `column2`, … renamed to the table's by a projection.
        let mut names: HashMap<String, String> = HashMap::new();
        if let LogicalPlan::Projection(p) = dml.input.as_ref() {
            for e in &p.expr {
                if let Expr::Alias(a) = e
                    && let Expr::Column(c) = a.expr.as_ref()
                {
                    names.insert(c.name.clone(), a.name.clone());
                }
            }
        }
        let _ = dml.input.apply(|inner| {
            let found = match inner {
                LogicalPlan::Values(values) => values.values.iter().find_map(|row| {
                    row.iter().enumerate().find_map(|(i, e)| {
                        let name = names.get(&format!("column{}", i + 1));
                        converted(e, name.map(String::as_str))
                    })
                }),
                other => other.expressions().iter().find_map(|e| converted(e, None)),
            };
            if let Some(p) = found {
                problem = Some(p);
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        });
        Ok(if problem.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    match problem {
        Some(p) => Err(Error::Usage(format!("{p}; nothing was sent"))),
        None => Ok(()),
    }
}

/// The problem with the first literal of `expr` converted silently, if any.
fn converted(expr: &Expr, column: Option<&str>) -> Option<String> {
    let mut found = None;
    let _ = expr.apply(|e| {
        if let Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) = e
            && let Expr::Literal(value, _) = expr.as_ref()
            && !value.is_null()
        {
            let target = field.data_type();
            let column = column.map(|c| format!("{c}: ")).unwrap_or_default();
            let from = value.data_type();
            if (from.is_numeric() || from == DataType::Boolean) && target == &DataType::Utf8 {
                found = Some(format!(
                    "{column}{value} is not text: write it as a string ('{value}') if that is \
                     what you mean; skyql does not convert it silently"
                ));
            } else if matches!(
                from,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) && matches!(target, DataType::List(_) | DataType::LargeList(_))
            {
                found = Some(format!(
                    "{column}'{value}' is text where a list is expected: write ['{value}'] \
                     (a list of one), or list every value"
                ));
            }
            if found.is_some() {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}
