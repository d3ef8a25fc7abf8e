//! API values as row values: one member of an item, borrowed from the answer (`Member`), as a
//! column holds it.

use serde_json::Value;

/// One member of an item, borrowed from the API's answer or from a record: what a column
/// holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// A string.
    Text(&'a str),
    /// A timestamp, in microseconds since the epoch.
    Time(i64),
    /// A whole number (a size in bytes).
    Whole(i64),
    /// A boolean.
    Flag(bool),
    /// Anything else as JSON: a list, a structure, a fraction.
    Json(&'a Value),
}

impl<'a> Member<'a> {
    /// A record's member (`None` for JSON null).
    pub fn of(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::Null => return None,
            Value::String(text) => Self::Text(text),
            Value::Bool(b) => Self::Flag(*b),
            Value::Number(n) => n.as_i64().map_or(Self::Json(value), Self::Whole),
            other => Self::Json(other),
        })
    }
}
