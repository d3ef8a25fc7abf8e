//! Rows as JSON objects, both ways: a reader's records (API members by wire name) into a batch
//! of the resource's columns, and a batch into rows by column name for the record writer.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListBuilder, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::json::ArrayWriter;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use serde_json::{Map, Value};

use super::listing::member_at;
use crate::aws::convert::Member;
use crate::error::{Error, Result};
use crate::schema::{Column, FetchOperation, Resource, Source};

/// One item as the API answers it: members by wire name (`registryId`), timestamps in
/// microseconds, nested structures as JSON.
pub type Record = Map<String, Value>;

/// A row by column name; a NULL column is absent.
pub type Row = Map<String, Value>;

/// The batch of `records` read in `region` (items as the API answers them, by wire name), in
/// the resource's columns: each column takes the member its `source` names, a path naming a
/// member inside a structure (`imageScanningConfiguration.scanOnPush`); a timestamp (epoch
/// seconds on the wire) in microseconds; a slash-insensitive value in its one spelling; a
/// nested column its structure as JSON text. Lazy columns are NULL, but those `filling`
/// fills (the answers of its call). Members no column names are left out.
pub fn records_batch(
    resource: &Resource,
    region: &str,
    records: &[Record],
    filling: Option<FetchOperation>,
) -> Result<RecordBatch> {
    // Each column built straight from the members: a listing of every region goes through
    // here, and arrow-json's decoder costs four times as much per row.
    let columns = resource.columns.iter().map(|c| {
        let values = records.iter().map(|r| match &c.source {
            _ if c.fetched_by != filling => None,
            Source::Region => Some(Member::Text(region)),
            Source::Field(path) => member_at(r, path).and_then(|v| column_member(c, v)),
        });
        column_of(c, values)
    });
    let columns = columns.collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(records.len()));
    RecordBatch::try_new_with_options(resource.arrow_schema(), columns, &options)
        .map_err(|e| Error::Runtime(e.to_string()))
}

/// A wire value as the member a column holds: a timestamp's epoch seconds in microseconds, a
/// slash-insensitive text in its one spelling (`None` for JSON null).
fn column_member<'a>(column: &Column, value: &'a Value) -> Option<Member<'a>> {
    match (&column.data_type, value) {
        (DataType::Timestamp(..), Value::Number(n)) => n.as_f64().map(|s| Member::Time(micros(s))),
        (_, Value::String(text)) => Some(Member::Text(column.canonical(text))),
        _ => Member::of(value),
    }
}

/// Microseconds since the epoch of ECR's epoch seconds, rounded to the nearest: ECR sends
/// `1796002379.948`, whose f64 is `….947999954`, so truncating would turn the AWS CLI's
/// `.948` into `.947999`. The f64 error is far below half a microsecond.
pub fn micros(seconds: f64) -> i64 {
    (seconds * 1_000_000.0).round() as i64
}

/// The Arrow array of `column` holding `values` (one per row; `None` is NULL): text as it is,
/// a nested structure as its JSON text without null members. A value of another kind than
/// the column's is an error, never a NULL.
fn column_of<'a>(
    column: &Column,
    values: impl Iterator<Item = Option<Member<'a>>>,
) -> Result<ArrayRef> {
    let wrong = |v: &Member| {
        Error::Runtime(format!(
            "column {} is declared {}, which {v:?} cannot fill",
            column.name, column.data_type
        ))
    };
    Ok(match &column.data_type {
        DataType::Utf8 => {
            let mut text = StringBuilder::new();
            for v in values {
                match v {
                    None => text.append_null(),
                    Some(Member::Text(t)) => text.append_value(t),
                    Some(Member::Json(v)) if column.nested => {
                        text.append_value(without_nulls(v.clone()).to_string())
                    }
                    Some(Member::Json(v)) => text.append_value(v.to_string()),
                    Some(Member::Time(n) | Member::Whole(n)) => text.append_value(n.to_string()),
                    Some(Member::Flag(b)) => text.append_value(b.to_string()),
                }
            }
            Arc::new(text.finish())
        }
        DataType::Int64 => {
            let numbers = values.map(|v| match v {
                None => Ok(None),
                Some(Member::Whole(n)) => Ok(Some(n)),
                Some(other) => Err(wrong(&other)),
            });
            Arc::new(Int64Array::from(numbers.collect::<Result<Vec<_>>>()?))
        }
        DataType::Boolean => {
            let flags = values.map(|v| match v {
                None => Ok(None),
                Some(Member::Flag(b)) => Ok(Some(b)),
                Some(other) => Err(wrong(&other)),
            });
            Arc::new(BooleanArray::from(flags.collect::<Result<Vec<_>>>()?))
        }
        DataType::Timestamp(TimeUnit::Microsecond, zone) => {
            let times = values.map(|v| match v {
                None => Ok(None),
                Some(Member::Time(t)) => Ok(Some(t)),
                Some(other) => Err(wrong(&other)),
            });
            let times = TimestampMicrosecondArray::from(times.collect::<Result<Vec<_>>>()?);
            Arc::new(times.with_timezone_opt(zone.clone()))
        }
        DataType::List(item) if item.data_type() == &DataType::Utf8 => {
            let mut list = ListBuilder::new(StringBuilder::new()).with_field(Arc::clone(item));
            for v in values {
                match v {
                    None => list.append(false),
                    Some(Member::Json(Value::Array(items))) => {
                        for item in items {
                            list.values().append_option(item.as_str());
                        }
                        list.append(true);
                    }
                    Some(other) => return Err(wrong(&other)),
                }
            }
            Arc::new(list.finish())
        }
        other => {
            return Err(Error::Runtime(format!(
                "column {} is declared {other}, which no API member fills",
                column.name
            )));
        }
    })
}

/// `rows` (every column of `resource`, as listed) with the lazy columns that `fetch` fills set
/// from `answers`: one per row, in order, each the answer of the call for that row by member.
pub fn fill_columns(
    resource: &Resource,
    rows: RecordBatch,
    fetch: FetchOperation,
    answers: &[Record],
) -> Result<RecordBatch> {
    if answers.len() != rows.num_rows() {
        return Err(Error::Runtime(format!(
            "{} {} answers for {} rows",
            answers.len(),
            fetch.as_str(),
            rows.num_rows()
        )));
    }
    // Every column of the answers' batch is NULL but the ones the call fills.
    let filled = records_batch(resource, "", answers, Some(fetch))?;
    let columns = resource.columns.iter().enumerate().map(|(i, c)| {
        let from = if c.fetched_by == Some(fetch) {
            &filled
        } else {
            &rows
        };
        Arc::clone(from.column(i))
    });
    RecordBatch::try_new(rows.schema(), columns.collect())
        .map_err(|e| Error::Runtime(e.to_string()))
}

/// The rows of `batches` as JSON objects by column name (NULLs left out).
pub fn rows_of(batches: &[RecordBatch]) -> Result<Vec<Row>> {
    let mut writer = ArrayWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    writer
        .write_batches(&refs)
        .map_err(|e| Error::Runtime(e.to_string()))?;
    writer.finish().map_err(|e| Error::Runtime(e.to_string()))?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Runtime(e.to_string()))
}

/// A nested structure without its null members: ECR leaves an unset member out, so
/// `{"encryptionType":"KMS"}` and `{"encryptionType":"KMS","kmsKey":null}` are one value.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;
    use datafusion::arrow::array::{Array, StringArray};
    use serde_json::json;

    fn templates() -> &'static Resource {
        schemas()
            .resource("ecr", "repository_creation_templates")
            .unwrap()
    }

    fn record(value: Value) -> Record {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn members_go_to_their_columns_and_nested_ones_to_json_text_without_nulls() {
        let r = record(json!({
            "prefix": "team",
            "appliedFor": ["PULL_THROUGH_CACHE"],
            "encryptionConfiguration": {"encryptionType": "AES256", "kmsKey": null},
            "createdAt": 1796002379.948,
            "colour": "blue",
        }));
        let batch = records_batch(templates(), "eu-west-1", &[r], None).unwrap();
        let text = |c: &str| {
            let a = batch.column_by_name(c).unwrap();
            let a = a.as_any().downcast_ref::<StringArray>().unwrap();
            (!a.is_null(0)).then(|| a.value(0).to_string())
        };
        assert_eq!(text("region").as_deref(), Some("eu-west-1"));
        assert_eq!(text("prefix").as_deref(), Some("team"));
        assert_eq!(
            text("encryption_configuration").as_deref(),
            Some(r#"{"encryptionType":"AES256"}"#)
        );
        assert_eq!(text("description"), None);
        let rows = rows_of(&[batch]).unwrap();
        assert_eq!(rows[0]["applied_for"], json!(["PULL_THROUGH_CACHE"]));
        // Epoch seconds exact to the millisecond ECR sends, through the f64 they are read as.
        assert_eq!(rows[0]["created_at"], json!("2026-11-30T01:32:59.948Z"));
        assert!(
            !rows[0].contains_key("colour"),
            "a member no column names is left out"
        );
    }

    #[test]
    fn timestamps_are_exact_to_the_microsecond() {
        assert_eq!(micros(1_796_002_379.948), 1_796_002_379_948_000);
        assert_eq!(micros(1_748_779_200.0), 1_748_779_200_000_000);
        assert_eq!(micros(0.000_000_6), 1);
        assert_eq!(micros(1.999_999_9), 2_000_000);
    }

    #[test]
    fn answers_of_a_call_per_row_fill_only_its_lazy_columns() {
        let rules = schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap();
        let listed = [
            record(json!({"ecrRepositoryPrefix": "ok/", "createdAt": 1, "isValid": true})),
            record(json!({"ecrRepositoryPrefix": "broken"})),
        ];
        let listed = records_batch(rules, "us-east-1", &listed, None).unwrap();
        // Listed, a lazy column is NULL (not validated), not false.
        assert_eq!(listed.column_by_name("is_valid").unwrap().null_count(), 2);
        let answers = [
            record(json!({"isValid": true, "failure": null})),
            record(json!({"isValid": false, "failure": "SecretNotFoundException: gone"})),
        ];
        let validate = FetchOperation::named("ValidatePullThroughCacheRule");
        let filled = fill_columns(rules, listed.clone(), validate, &answers).unwrap();
        let rows = rows_of(&[filled]).unwrap();
        assert_eq!(
            rows[0],
            record(
                json!({"region": "us-east-1", "ecr_repository_prefix": "ok", "is_valid": true,
                          "created_at": "1970-01-01T00:00:01Z"})
            )
        );
        assert_eq!(
            rows[1]["validation_failure"],
            json!("SecretNotFoundException: gone")
        );
        let e = fill_columns(rules, listed, validate, &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("0 ValidatePullThroughCacheRule answers for 2 rows"),
            "{e}"
        );
    }

    #[test]
    fn a_member_of_another_kind_than_its_column_is_an_error_not_a_null() {
        let r = record(json!({"prefix": "team", "createdAt": "yesterday"}));
        let e = records_batch(templates(), "eu-west-1", &[r], None).unwrap_err();
        assert!(
            e.to_string()
                .contains("column created_at is declared Timestamp"),
            "{e}"
        );
    }
}
