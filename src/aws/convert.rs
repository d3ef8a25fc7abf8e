//! Converts API answers into Arrow record batches, column by column as provider-schemas declares.

use std::sync::Arc;

use aws_sdk_ecr::primitives::DateTime;
use aws_sdk_ecr::types::PullThroughCacheRule;
use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Error, Result};
use crate::schema::{Column, Source};

/// One API member's values for a set of rules.
enum Values {
    Text(Vec<Option<String>>),
    Time(Vec<Option<i64>>),
}

/// The values of `source` for each rule (`$region` is the region that answered).
fn values(source: &Source, region: &str, rules: &[PullThroughCacheRule]) -> Result<Values> {
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
            "ecrRepositoryPrefix" => text(|r| r.ecr_repository_prefix()),
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

fn micros(t: &DateTime) -> i64 {
    t.secs() * 1_000_000 + i64::from(t.subsec_nanos() / 1_000)
}

/// Builds a batch with `columns` (the projected columns, matching `schema`) for rules of one region.
pub fn rules_batch(
    schema: SchemaRef,
    columns: &[&Column],
    region: &str,
    rules: &[PullThroughCacheRule],
) -> Result<RecordBatch> {
    let arrays = columns
        .iter()
        .map(|c| {
            let array: ArrayRef = match (values(&c.source, region, rules)?, &c.data_type) {
                (Values::Text(v), DataType::Utf8) => Arc::new(StringArray::from(v)),
                (Values::Time(v), DataType::Timestamp(_, tz)) => {
                    Arc::new(TimestampMicrosecondArray::from(v).with_timezone_opt(tz.clone()))
                }
                (_, other) => {
                    return Err(Error::Runtime(format!(
                        "column {} is declared {other}, which its source cannot fill",
                        c.name
                    )));
                }
            };
            Ok(array)
        })
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(rules.len()));
    RecordBatch::try_new_with_options(schema, arrays, &options)
        .map_err(|e| Error::Runtime(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    #[test]
    fn every_declared_column_converts() {
        let rule = PullThroughCacheRule::builder()
            .ecr_repository_prefix("ecr-public")
            .upstream_registry_url("public.ecr.aws")
            .registry_id("123456789012")
            .created_at(DateTime::from_secs_f64(1_748_779_200.25))
            .build();
        for resource in &schemas().resources {
            let columns: Vec<&Column> = resource.columns.iter().collect();
            let batch = rules_batch(
                resource.arrow_schema(),
                &columns,
                "eu-west-1",
                std::slice::from_ref(&rule),
            )
            .unwrap();
            assert_eq!(batch.num_rows(), 1);
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
}
