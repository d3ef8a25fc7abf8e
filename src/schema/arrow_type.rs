//! Parses the Arrow type names written in provider-schemas (`Utf8`, `Timestamp(Microsecond, UTC)`, …).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};

/// Parses a type name; the error lists what is accepted.
pub fn parse(name: &str) -> Result<DataType, String> {
    let name = name.trim();
    Ok(match name {
        "Utf8" => DataType::Utf8,
        "Boolean" => DataType::Boolean,
        "Int64" => DataType::Int64,
        "Timestamp(Microsecond, UTC)" => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        _ => match name.strip_prefix("List(").and_then(|s| s.strip_suffix(')')) {
            Some(inner) => DataType::List(Arc::new(Field::new("item", parse(inner)?, true))),
            None => {
                return Err(format!(
                    "unknown type '{name}': expected Utf8, Boolean, Int64, Timestamp(Microsecond, UTC) or List(<type>)"
                ));
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_declared_types() {
        assert_eq!(parse("Utf8").unwrap(), DataType::Utf8);
        assert_eq!(
            parse("Timestamp(Microsecond, UTC)").unwrap(),
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert!(matches!(parse("List(Utf8)").unwrap(), DataType::List(_)));
        assert!(parse("Text").unwrap_err().contains("unknown type 'Text'"));
    }
}
