//! Reading repository creation templates: one row per template, from
//! DescribeRepositoryCreationTemplates; nested members become JSON text.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecr::types::RepositoryCreationTemplate as Template;
use datafusion::arrow::array::{
    ArrayRef, ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};

use super::reader::Reader;
use crate::aws::EcrClients;
use crate::aws::convert::micros;
use crate::aws::request::ScanRequest;
use crate::aws::templates::RegionTemplates;
use crate::ecr::constraints::canonical_prefix;
use crate::error::{Error, Result};
use crate::schema::{Column, Resource, Source};

/// Reads the templates table.
#[derive(Debug)]
pub struct TemplateReader {
    /// The table's resource.
    pub resource: &'static Resource,
}

#[async_trait]
impl Reader for TemplateReader {
    async fn list(
        &self,
        clients: &EcrClients,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RecordBatch> {
        let read = clients.describe_templates(region, request).await?;
        let columns = self
            .resource
            .columns
            .iter()
            .map(|c| column(c, region, &read))
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(self.resource.arrow_schema(), columns)
            .map_err(|e| Error::Runtime(e.to_string()))
    }
}

/// The values of `c` for every template read.
fn column(c: &Column, region: &str, read: &RegionTemplates) -> Result<ArrayRef> {
    let all = &read.templates;
    let text = |f: &dyn Fn(&Template) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(all.iter().map(f).collect::<Vec<_>>()))
    };
    let json = |f: &dyn Fn(&Template) -> Option<Value>| text(&|t| f(t).map(|v| v.to_string()));
    let name = match &c.source {
        Source::Region => return Ok(text(&|_| Some(region.to_string()))),
        Source::Field(name) => name.as_str(),
    };
    Ok(match name {
        "registryId" => text(&|_| read.registry_id.clone()),
        // One spelling (`team`, never `team/`), as the rules' prefixes and WHERE literals.
        "prefix" => text(&|t| t.prefix().map(|p| canonical_prefix(p).to_string())),
        "description" => text(&|t| t.description().map(str::to_string)),
        "imageTagMutability" => text(&|t| t.image_tag_mutability().map(|m| m.as_str().into())),
        "repositoryPolicy" => text(&|t| t.repository_policy().map(str::to_string)),
        "lifecyclePolicy" => text(&|t| t.lifecycle_policy().map(str::to_string)),
        "customRoleArn" => text(&|t| t.custom_role_arn().map(str::to_string)),
        "encryptionConfiguration" => json(&|t| {
            t.encryption_configuration().map(
                |e| json!({"encryptionType": e.encryption_type().as_str(), "kmsKey": e.kms_key()}),
            )
        }),
        "resourceTags" => json(&|t| {
            let tags = t.resource_tags().iter();
            Some(
                tags.map(|g| json!({"Key": g.key(), "Value": g.value()}))
                    .collect(),
            )
        }),
        "imageTagMutabilityExclusionFilters" => json(&|t| {
            let filters = t.image_tag_mutability_exclusion_filters().iter();
            let each = |f: &aws_sdk_ecr::types::ImageTagMutabilityExclusionFilter| json!({"filterType": f.filter_type().as_str(), "filter": f.filter()});
            Some(filters.map(each).collect())
        }),
        "appliedFor" => {
            let mut list = ListBuilder::new(StringBuilder::new());
            for t in all {
                for a in t.applied_for() {
                    list.values().append_value(a.as_str());
                }
                list.append(true);
            }
            Arc::new(list.finish())
        }
        "createdAt" | "updatedAt" => {
            let at = |t: &Template| match name {
                "createdAt" => t.created_at().map(micros),
                _ => t.updated_at().map(micros),
            };
            Arc::new(TimestampMicrosecondArray::from_iter(all.iter().map(at)).with_timezone("UTC"))
        }
        other => {
            return Err(Error::Runtime(format!(
                "provider-schemas names an unknown RepositoryCreationTemplate member '{other}'"
            )));
        }
    })
}
