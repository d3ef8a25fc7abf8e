//! A rule's current state as DML sees it: the columns, by name, as optional strings.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::ArrayFormatter;

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
                        .map(|(f, col)| {
                            // Every column counts, timestamps too: a set read-only column must be seen.
                            let v = (!col.is_null(row)).then(|| text_value(col, row));
                            (f.name().clone(), v)
                        })
                        .collect(),
                )
            })
            .collect()
    }
}

/// A value as text: strings as they are, anything else as Arrow displays it.
fn text_value(col: &ArrayRef, row: usize) -> String {
    if let Some(strings) = col.as_any().downcast_ref::<StringArray>() {
        return strings.value(row).to_string();
    }
    ArrayFormatter::try_new(col.as_ref(), &Default::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_default()
}
