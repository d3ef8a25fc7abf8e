//! Converts API answers into Arrow record batches, column by column as provider-schemas declares.

use std::sync::Arc;

use aws_sdk_ecr::operation::validate_pull_through_cache_rule::ValidatePullThroughCacheRuleOutput as Validation;
use aws_sdk_ecr::primitives::DateTime;
use aws_sdk_ecr::types::PullThroughCacheRule;
use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::ecr::constraints::canonical_prefix;
use crate::error::{Error, Result};
use crate::schema::{Column, FetchOperation, Resource, Source};

/// One API member's values for a set of rules.
enum Values {
    Text(Vec<Option<String>>),
    Time(Vec<Option<i64>>),
    Flag(Vec<Option<bool>>),
}

/// The values of `column` for each rule listed: a lazy column (filled by an extra call per
/// rule, see [`with_validations`]) is NULL here.
fn values(column: &Column, region: &str, rules: &[PullThroughCacheRule]) -> Result<Values> {
    match column.fetched_by {
        None => listed_values(&column.source, region, rules),
        Some(FetchOperation::ValidatePullThroughCacheRule) => {
            validated_values(&column.source, rules.len(), None)
        }
    }
}

/// The values of a ValidatePullThroughCacheRule member; `None` answers mean it was not called.
fn validated_values(
    source: &Source,
    rows: usize,
    answers: Option<&[Validation]>,
) -> Result<Values> {
    if let Some(a) = answers
        && a.len() != rows
    {
        return Err(Error::Runtime(format!(
            "{} ValidatePullThroughCacheRule answers for {rows} rules",
            a.len()
        )));
    }
    let flag = |f: fn(&Validation) -> bool| {
        Values::Flag(match answers {
            Some(a) => a.iter().map(|v| Some(f(v))).collect(),
            None => vec![None; rows],
        })
    };
    let text = |f: fn(&Validation) -> Option<&str>| {
        Values::Text(match answers {
            Some(a) => a.iter().map(|v| f(v).map(str::to_string)).collect(),
            None => vec![None; rows],
        })
    };
    Ok(match source {
        Source::Field(name) if name == "isValid" => flag(Validation::is_valid),
        Source::Field(name) if name == "failure" => text(Validation::failure),
        other => {
            return Err(Error::Runtime(format!(
                "provider-schemas names an unknown ValidatePullThroughCacheRule member {other:?}"
            )));
        }
    })
}

/// The values of `source` for each rule (`$region` is the region that answered).
fn listed_values(source: &Source, region: &str, rules: &[PullThroughCacheRule]) -> Result<Values> {
    let text = |f: fn(&PullThroughCacheRule) -> Option<&str>| {
        Values::Text(rules.iter().map(|r| f(r).map(str::to_string)).collect())
    };
    let time = |f: fn(&PullThroughCacheRule) -> Option<&DateTime>| {
        Values::Time(rules.iter().map(|r| f(r).map(micros)).collect())
    };
    Ok(match source {
        Source::Region => Values::Text(vec![Some(region.to_string()); rules.len()]),
        Source::Field(name) => match name.as_str() {
            "registryId" => text(|r| r.registry_id()),
            // One spelling per rule (`team`, never `team/`), as WHERE literals are written.
            "ecrRepositoryPrefix" => text(|r| r.ecr_repository_prefix().map(canonical_prefix)),
            "upstreamRegistryUrl" => text(|r| r.upstream_registry_url()),
            "upstreamRegistry" => text(|r| r.upstream_registry().map(|u| u.as_str())),
            "upstreamRepositoryPrefix" => text(|r| r.upstream_repository_prefix()),
            "credentialArn" => text(|r| r.credential_arn()),
            "customRoleArn" => text(|r| r.custom_role_arn()),
            "createdAt" => time(|r| r.created_at()),
            "updatedAt" => time(|r| r.updated_at()),
            other => {
                return Err(Error::Runtime(format!(
                    "provider-schemas names an unknown PullThroughCacheRule member '{other}'"
                )));
            }
        },
    })
}

/// Microseconds since the epoch, rounded to the nearest: ECR sends epoch seconds as a JSON
/// number (`1796002379.948`), which the SDK reads through an f64 (`….947999954`), so truncating
/// would turn the AWS CLI's `.948` into `.947999`. The f64 error is far below half a
/// microsecond, so rounding gives back the decimal value ECR sent.
pub fn micros(t: &DateTime) -> i64 {
    t.secs() * 1_000_000 + i64::from((t.subsec_nanos() + 500) / 1_000)
}

/// Builds a batch with `columns` (matching `schema`) for the rules one region listed; lazy
/// columns are NULL until [`with_validations`] fills them.
pub fn rules_batch(
    schema: SchemaRef,
    columns: &[&Column],
    region: &str,
    rules: &[PullThroughCacheRule],
) -> Result<RecordBatch> {
    let arrays = columns
        .iter()
        .map(|c| array(c, values(c, region, rules)?))
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(rules.len()));
    RecordBatch::try_new_with_options(schema, arrays, &options)
        .map_err(|e| Error::Runtime(e.to_string()))
}

/// `rows` (every column of `resource`, one row per rule) with the columns that
/// ValidatePullThroughCacheRule fills set from `answers`, one per row in order.
pub fn with_validations(
    resource: &Resource,
    rows: RecordBatch,
    answers: &[Validation],
) -> Result<RecordBatch> {
    let mut arrays = rows.columns().to_vec();
    for (i, c) in resource.columns.iter().enumerate() {
        if c.fetched_by == Some(FetchOperation::ValidatePullThroughCacheRule) {
            arrays[i] = array(
                c,
                validated_values(&c.source, rows.num_rows(), Some(answers))?,
            )?;
        }
    }
    RecordBatch::try_new(rows.schema(), arrays).map_err(|e| Error::Runtime(e.to_string()))
}

/// The Arrow array of `column` holding `values`.
fn array(column: &Column, values: Values) -> Result<ArrayRef> {
    Ok(match (values, &column.data_type) {
        (Values::Text(v), DataType::Utf8) => Arc::new(StringArray::from(v)),
        (Values::Flag(v), DataType::Boolean) => Arc::new(BooleanArray::from(v)),
        (Values::Time(v), DataType::Timestamp(_, tz)) => {
            Arc::new(TimestampMicrosecondArray::from(v).with_timezone_opt(tz.clone()))
        }
        (_, other) => {
            return Err(Error::Runtime(format!(
                "column {} is declared {other}, which its source cannot fill",
                column.name
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

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

    #[test]
    fn every_declared_column_converts() {
        let rule = PullThroughCacheRule::builder()
            .ecr_repository_prefix("ecr-public")
            .upstream_registry_url("public.ecr.aws")
            .registry_id("123456789012")
            .created_at(DateTime::from_secs_f64(1_748_779_200.25))
            .build();
        // The rule tables (the others are not built from rules).
        let rule_tables = schemas().resources.iter().filter(|r| {
            r.method(crate::schema::Verb::Select)
                .is_some_and(|m| m.operation == "DescribePullThroughCacheRules")
        });
        for resource in rule_tables {
            let columns: Vec<&Column> = resource.columns.iter().collect();
            let batch = rules_batch(
                resource.arrow_schema(),
                &columns,
                "eu-west-1",
                std::slice::from_ref(&rule),
            )
            .unwrap();
            assert_eq!(batch.num_rows(), 1);
            // Not validated: the validation columns are NULL, not false.
            assert_eq!(batch.column_by_name("is_valid").unwrap().null_count(), 1);
            let created = batch.column_by_name("created_at").unwrap();
            let created = created
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .unwrap();
            assert_eq!(created.value(0), 1_748_779_200_250_000);
            let region = batch.column_by_name("region").unwrap();
            assert_eq!(
                region
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .value(0),
                "eu-west-1"
            );
        }
    }

    #[test]
    fn empty_projection_keeps_the_row_count() {
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::empty());
        let rule = PullThroughCacheRule::builder().build();
        assert_eq!(
            rules_batch(schema, &[], "us-east-1", &[rule.clone(), rule])
                .unwrap()
                .num_rows(),
            2
        );
    }

    #[test]
    fn validation_answers_fill_the_fetched_columns() {
        let resource = schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap();
        let columns: Vec<&Column> = resource.columns.iter().collect();
        let rule = |p: &str| {
            PullThroughCacheRule::builder()
                .ecr_repository_prefix(p)
                .build()
        };
        let listed = rules_batch(
            resource.arrow_schema(),
            &columns,
            "us-east-1",
            &[rule("ok"), rule("broken")],
        )
        .unwrap();
        let answers = [
            Validation::builder().is_valid(true).build(),
            Validation::builder()
                .is_valid(false)
                .failure("SecretNotFoundException: gone")
                .build(),
        ];
        let batch = with_validations(resource, listed.clone(), &answers).unwrap();
        let valid = batch.column_by_name("is_valid").unwrap();
        let valid = valid.as_any().downcast_ref::<BooleanArray>().unwrap();
        assert_eq!(valid.iter().collect::<Vec<_>>(), [Some(true), Some(false)]);
        let failure = batch.column_by_name("validation_failure").unwrap();
        let failure = failure.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(
            failure.iter().collect::<Vec<_>>(),
            [None, Some("SecretNotFoundException: gone")]
        );

        let err = with_validations(resource, listed, &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("0 ValidatePullThroughCacheRule answers for 2 rules")
        );
    }
}
