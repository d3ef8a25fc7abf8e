//! API values as row values: an item's members as a record, or borrowed one by one (`Member`)
//! where a listing is hot; a timestamp as the microseconds of the columns' Arrow type.

use aws_sdk_ecr::primitives::DateTime;
use serde_json::{Map, Value};

/// One member of an item, borrowed from the SDK's answer or from a record: what a column
/// holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// A string.
    Text(&'a str),
    /// A timestamp, in microseconds since the epoch.
    Time(i64),
    /// A boolean.
    Flag(bool),
    /// Anything else as JSON: a list, a structure.
    Json(&'a Value),
}

impl<'a> Member<'a> {
    /// A record's member (`None` for JSON null): a whole number is a timestamp in
    /// microseconds, as records write them.
    pub fn of(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::Null => return None,
            Value::String(text) => Self::Text(text),
            Value::Bool(b) => Self::Flag(*b),
            Value::Number(n) => n.as_i64().map_or(Self::Json(value), Self::Time),
            other => Self::Json(other),
        })
    }
}

/// The members of an item built with `json!`, moved out of the object (not copied).
pub fn into_record(item: Value) -> Map<String, Value> {
    match item {
        Value::Object(members) => members,
        _ => Map::new(),
    }
}

/// Microseconds since the epoch, rounded to the nearest: ECR sends epoch seconds as a JSON
/// number (`1796002379.948`), which the SDK reads through an f64 (`….947999954`), so truncating
/// would turn the AWS CLI's `.948` into `.947999`. The f64 error is far below half a
/// microsecond, so rounding gives back the decimal value ECR sent.
pub fn micros(t: &DateTime) -> i64 {
    t.secs() * 1_000_000 + i64::from((t.subsec_nanos() + 500) / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_exact_to_the_microsecond() {
        // As the SDK reads `1796002379.948` from the wire: through an f64.
        let t = DateTime::from_secs_f64(1_796_002_379.948);
        assert_eq!(micros(&t), 1_796_002_379_948_000);
        assert_eq!(
            micros(&DateTime::from_secs_f64(1_748_779_200.0)),
            1_748_779_200_000_000
        );
        assert_eq!(micros(&DateTime::from_secs_f64(0.000_000_6)), 1);
        assert_eq!(micros(&DateTime::from_secs_f64(1.999_999_9)), 2_000_000);
    }
}
