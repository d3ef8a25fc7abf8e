//! A rule's current state as DML sees it: the columns, by name, as optional strings.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::record_batch::RecordBatch;

/// One rule's column values (strings; timestamps are not needed to plan mutations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleState(pub BTreeMap<String, Option<String>>);

impl RuleState {
    /// The value of `column`, if set.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0.get(column).and_then(|v| v.as_deref())
    }

    /// The region.
    pub fn region(&self) -> &str {
        self.get("region").unwrap_or_default()
    }

    /// The identifier.
    pub fn prefix(&self) -> &str {
        self.get("ecr_repository_prefix").unwrap_or_default()
    }

    /// Reads the Utf8 columns of every row of `batch`.
    pub fn from_batch(batch: &RecordBatch) -> Vec<RuleState> {
        let schema = batch.schema();
        (0..batch.num_rows())
            .map(|row| {
                RuleState(
                    schema
                        .fields()
                        .iter()
                        .zip(batch.columns())
                        .filter_map(|(f, col)| {
                            let strings = col.as_any().downcast_ref::<StringArray>()?;
                            let v = (!strings.is_null(row)).then(|| strings.value(row).to_string());
                            Some((f.name().clone(), v))
                        })
                        .collect(),
                )
            })
            .collect()
    }
}
