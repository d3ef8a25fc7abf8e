//! The rows of the registry policy tables: one GetRegistryPolicy per region, answered as one
//! row (`registry_policy`) or one row per statement (`registry_policy_statements`).

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use serde_json::{Value, json};

use crate::aws::policy::RegistryPolicy;
use crate::error::{Error, Result};
use crate::iam::policy::{StatementRow, parse, row_of, statements};
use crate::schema::Resource;

use super::pushdown::REGION_COLUMN;
use super::records::{Record, Row, records_batch};

/// How a registry policy table shows the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyView {
    /// One row per region: the whole document.
    Document,
    /// One row per statement.
    Statements,
}

impl PolicyView {
    /// The view of a registry policy table: one policy per region where the region is its
    /// identifier, else one row per statement (identified by its sid).
    pub fn of(resource: &Resource) -> Self {
        match resource.doc.identifier == REGION_COLUMN {
            true => Self::Document,
            false => Self::Statements,
        }
    }
}

/// A region's rows in the table's full schema, with the position in the policy's statement
/// list of each row (DML changes statements by position). Each row is the API members its
/// columns name as `source`: the policy's, and a statement's own.
pub fn policy_rows(
    view: PolicyView,
    resource: &Resource,
    region: &str,
    policy: Option<&RegistryPolicy>,
) -> Result<(RecordBatch, Vec<usize>)> {
    let Some(policy) = policy else {
        return Ok((RecordBatch::new_empty(resource.arrow_schema()), Vec::new()));
    };
    let mut whole = Record::new();
    whole.insert("registryId".into(), json!(policy.registry_id));
    let records = match view {
        PolicyView::Document => {
            whole.insert("policyText".into(), json!(policy.policy_text));
            vec![whole]
        }
        PolicyView::Statements => {
            let doc = parse(&policy.policy_text)
                .map_err(|e| Error::Runtime(format!("{region}: registry policy: {e}")))?;
            let mut records = Vec::new();
            for statement in statements(&doc) {
                let row = serde_json::to_value(row_of(&statement))
                    .map_err(|e| Error::Runtime(e.to_string()))?;
                let mut record = whole.clone();
                record.extend(row.as_object().cloned().unwrap_or_default());
                records.push(record);
            }
            records
        }
    };
    let positions = (0..records.len()).collect();
    Ok((records_batch(resource, region, &records)?, positions))
}

/// The statement a row of the statements table holds (by column name, as `rows_of` reads it).
pub fn statement_of_row(resource: &Resource, row: &Row) -> Result<StatementRow> {
    for (column, value) in row {
        let list = resource
            .column(column)
            .is_some_and(|c| matches!(c.data_type, DataType::List(_)));
        if list && !value.is_array() {
            return Err(Error::Usage(format!(
                "{column} must be a list such as ['a', 'b'], not {value}"
            )));
        }
    }
    let members: Record = row
        .iter()
        .filter_map(|(c, v)| Some((resource.member(c)?.to_string(), v.clone())))
        .collect();
    serde_json::from_value(Value::Object(members)).map_err(|e| Error::Runtime(e.to_string()))
}
