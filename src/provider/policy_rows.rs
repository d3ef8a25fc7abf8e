//! The rows of the registry policy tables: one GetRegistryPolicy per region, answered as one
//! row (`registry_policy`) or one row per statement (`registry_policy_statements`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder};

use crate::aws::policy::RegistryPolicy;
use crate::error::{Error, Result};
use crate::iam::policy::{StatementRow, parse, row_of, statements};
use crate::schema::Resource;

/// How a registry policy table shows the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyView {
    /// One row per region: the whole document.
    Document,
    /// One row per statement.
    Statements,
}

impl PolicyView {
    /// The view of a resource read with GetRegistryPolicy, by its identifier (region: the
    /// document; sid: statements); `None` for other resources.
    pub fn of(resource: &Resource) -> Option<Self> {
        let select = resource.method(crate::schema::Verb::Select)?;
        if select.operation != "GetRegistryPolicy" {
            return None;
        }
        Some(if resource.doc.identifier == "sid" {
            Self::Statements
        } else {
            Self::Document
        })
    }
}

/// A region's rows in the table's full schema, with the position in the policy's statement
/// list of each row (DML changes statements by position).
pub fn policy_rows(
    view: PolicyView,
    resource: &Resource,
    region: &str,
    policy: Option<&RegistryPolicy>,
) -> Result<(RecordBatch, Vec<usize>)> {
    let schema = resource.arrow_schema();
    let Some(policy) = policy else {
        return Ok((RecordBatch::new_empty(schema), Vec::new()));
    };
    let rows: Vec<StatementRow> = match view {
        PolicyView::Document => Vec::new(),
        PolicyView::Statements => {
            let doc = parse(&policy.policy_text)
                .map_err(|e| Error::Runtime(format!("{region}: registry policy: {e}")))?;
            statements(&doc).iter().map(row_of).collect()
        }
    };
    let n = match view {
        PolicyView::Document => 1,
        PolicyView::Statements => rows.len(),
    };
    let text = |f: &dyn Fn(&StatementRow) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let list = |f: &dyn Fn(&StatementRow) -> &Vec<String>| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in &rows {
            for v in f(r) {
                b.values().append_value(v);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    };
    let columns: Vec<ArrayRef> = resource
        .columns
        .iter()
        .map(|c| match c.name.as_str() {
            "region" => Arc::new(StringArray::from(vec![region; n])) as ArrayRef,
            "registry_id" => Arc::new(StringArray::from(vec![policy.registry_id.clone(); n])),
            "policy_text" => Arc::new(StringArray::from(vec![policy.policy_text.clone(); n])),
            "sid" => text(&|r| r.sid.clone()),
            "effect" => text(&|r| r.effect.clone()),
            "conditions" => text(&|r| r.conditions.clone()),
            "principals" => list(&|r| &r.principals),
            "actions" => list(&|r| &r.actions),
            "resources" => list(&|r| &r.resources),
            other => unreachable!("the policy tables have no column {other}"),
        })
        .collect();
    let batch = RecordBatch::try_new(schema, columns).map_err(|e| Error::Runtime(e.to_string()))?;
    Ok((batch, (0..n).collect()))
}
