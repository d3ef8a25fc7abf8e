//! Refuses silent conversions of literal values written to an AWS table (INSERT's values,
//! UPDATE's SET, MERGE's UPDATE SET and INSERT): a number where text is expected
//! (`ecr_repository_prefix = 55` would become '55', `description = 1.5e3` '1500.0') and a
//! string where a list is expected (`actions = 'ecr:*'`). The value probably is not what the
//! author meant, and the conversion would happen without a word.

use std::collections::HashMap;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::dml::{MergeIntoAction, MergeIntoOp};
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{DmlStatement, Expr, LogicalPlan, WriteOp};

use crate::error::{Error, Result};

/// Checks the literals a statement writes to a table of the `aws` catalog (none for any
/// other plan).
pub fn check_written_literals(plan: &LogicalPlan) -> Result<()> {
    let mut problem = None;
    let _ = plan.apply(|node| {
        if let LogicalPlan::Dml(dml) = node
            && dml.table_name.catalog() == Some("aws")
        {
            problem = match &dml.op {
                WriteOp::Insert(_) => inserted(dml),
                WriteOp::Update => updated(dml),
                WriteOp::MergeInto(op) => merged(dml, op),
                _ => None,
            };
        }
        Ok(match problem {
            Some(_) => TreeNodeRecursion::Stop,
            None => TreeNodeRecursion::Continue,
        })
    });
    match problem {
        Some(p) => Err(Error::Usage(format!("{p}; nothing was sent"))),
        None => Ok(()),
    }
}

/// The first literal an INSERT's input converts.
fn inserted(dml: &DmlStatement) -> Option<String> {
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
    let mut problem = None;
    let _ = dml.input.apply(|inner| {
        problem = match inner {
            LogicalPlan::Values(values) => values.values.iter().find_map(|row| {
                row.iter().enumerate().find_map(|(i, e)| {
                    let name = names.get(&format!("column{}", i + 1));
                    converted(e, name.map(String::as_str))
                })
            }),
            other => other.expressions().iter().find_map(|e| converted(e, None)),
        };
        Ok(match problem {
            Some(_) => TreeNodeRecursion::Stop,
            None => TreeNodeRecursion::Continue,
        })
    });
    problem
}

/// The first literal an UPDATE's SET converts: its values are the projection over the rows
/// matched, each SET column an alias of its value (a column left as it is appears bare).
fn updated(dml: &DmlStatement) -> Option<String> {
    let LogicalPlan::Projection(p) = dml.input.as_ref() else {
        return None;
    };
    p.expr.iter().find_map(|e| match e {
        Expr::Alias(a) => converted(&a.expr, Some(&a.name)),
        _ => None,
    })
}

/// The first literal a MERGE's UPDATE SET or INSERT converts (the analyzer casts each value to
/// its target column's type).
fn merged(dml: &DmlStatement, op: &MergeIntoOp) -> Option<String> {
    let target = dml.target.schema();
    op.clauses.iter().find_map(|clause| match &clause.action {
        MergeIntoAction::Update(assignments) => assignments
            .iter()
            .find_map(|(column, value)| converted(value, Some(column))),
        MergeIntoAction::Insert { columns, values } => {
            values.iter().enumerate().find_map(|(i, value)| {
                let column = match columns.get(i) {
                    Some(c) => Some(c.as_str()),
                    None => target.fields().get(i).map(|f| f.name().as_str()),
                };
                converted(value, column)
            })
        }
        MergeIntoAction::Delete => None,
    })
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
