//! Repository creation templates over aws-sdk-ecr: reading a region's templates
//! (DescribeRepositoryCreationTemplates, page by page, or by prefix) and sending Create, Update
//! and Delete, with the nested members converted from their JSON.

use async_trait::async_trait;
use aws_sdk_ecr::types::{
    EncryptionConfigurationForRepositoryCreationTemplate, EncryptionType, ImageTagMutability,
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType, RctAppliedFor,
    RepositoryCreationTemplate, Tag,
};
use serde_json::{Map, Value, json};

use super::attempts::in_own_record;
use super::clients::{EcrClients, api_error};
use super::convert::{into_record, micros};
use super::mutate::{Sender, not_sent};
use super::request::ScanRequest;
use crate::dml::ApiCall;
use crate::error::{Error, Result};
use crate::resources::ecr::constraints::canonical_prefix;

const DESCRIBE: &str = "DescribeRepositoryCreationTemplates";

/// A region's templates as ECR answers them.
#[derive(Debug, Clone, Default)]
pub struct RegionTemplates {
    /// The registry's account id.
    pub registry_id: Option<String>,
    /// The templates, in listing order.
    pub templates: Vec<RepositoryCreationTemplate>,
}

impl EcrClients {
    /// The templates of `region` that `request` asks for: by prefix (up to 100 a call; a
    /// prefix without a template is simply left out), else every page up to the LIMIT.
    pub async fn describe_templates(
        &self,
        region: &str,
        request: &ScanRequest,
    ) -> Result<RegionTemplates> {
        in_own_record(async move {
            let client = self.client(region);
            let chunks = request.identifier_chunks();
            let calls: Vec<Option<Vec<String>>> = match chunks {
                Some(chunks) => chunks.into_iter().map(Some).collect(),
                None => vec![None],
            };
            let mut out = RegionTemplates::default();
            for prefixes in calls {
                let mut token: Option<String> = None;
                loop {
                    let page = client
                        .describe_repository_creation_templates()
                        .set_prefixes(prefixes.clone())
                        .set_max_results(prefixes.is_none().then_some(request.page_size).flatten())
                        .set_next_token(token.take())
                        .send()
                        .await
                        .map_err(|e| api_error(region, DESCRIBE, e))?;
                    out.registry_id = out.registry_id.or(page.registry_id);
                    out.templates
                        .extend(page.repository_creation_templates.unwrap_or_default());
                    let enough = request.limit.is_some_and(|n| out.templates.len() >= n);
                    match page.next_token {
                        Some(next) if !enough => token = Some(next),
                        _ => break,
                    }
                }
            }
            Ok(out)
        })
        .await
    }
}

/// A template as its API members (wire names; timestamps in microseconds; the prefix in its
/// one spelling, `team` never `team/`, as the rules' prefixes and WHERE literals).
pub fn template_record(
    t: &RepositoryCreationTemplate,
    registry_id: Option<&str>,
) -> Map<String, Value> {
    let filter = |f: &ImageTagMutabilityExclusionFilter| json!({"filterType": f.filter_type().as_str(), "filter": f.filter()});
    let record = json!({
        "registryId": registry_id,
        "prefix": t.prefix().map(canonical_prefix),
        "description": t.description(),
        "appliedFor": t.applied_for().iter().map(RctAppliedFor::as_str).collect::<Vec<_>>(),
        "imageTagMutability": t.image_tag_mutability().map(ImageTagMutability::as_str),
        "imageTagMutabilityExclusionFilters": t.image_tag_mutability_exclusion_filters().iter().map(filter).collect::<Vec<_>>(),
        "encryptionConfiguration": t.encryption_configuration().map(|e| json!({"encryptionType": e.encryption_type().as_str(), "kmsKey": e.kms_key()})),
        "resourceTags": t.resource_tags().iter().map(|g| json!({"Key": g.key(), "Value": g.value()})).collect::<Vec<_>>(),
        "repositoryPolicy": t.repository_policy(),
        "lifecyclePolicy": t.lifecycle_policy(),
        "customRoleArn": t.custom_role_arn(),
        "createdAt": t.created_at().map(micros),
        "updatedAt": t.updated_at().map(micros),
    });
    into_record(record)
}

/// Sends the templates table's calls (Create and Update take the same members).
#[derive(Debug)]
pub struct TemplateCalls;

/// Sets every member a template call gives on a Create or Update builder.
macro_rules! with_members {
    ($builder:expr, $m:expr) => {{
        let m = $m;
        $builder
            .set_prefix(m.owned("prefix"))
            .set_description(m.owned("description"))
            .set_encryption_configuration(nested(
                m.params.get("encryptionConfiguration"),
                encryption,
            )?)
            .set_resource_tags(nested(m.params.get("resourceTags"), tags)?)
            .set_image_tag_mutability(m.text("imageTagMutability").map(ImageTagMutability::from))
            .set_image_tag_mutability_exclusion_filters(nested(
                m.params.get("imageTagMutabilityExclusionFilters"),
                exclusion_filters,
            )?)
            .set_repository_policy(m.owned("repositoryPolicy"))
            .set_lifecycle_policy(m.owned("lifecyclePolicy"))
            .set_applied_for(nested(m.params.get("appliedFor"), applied_for)?)
            .set_custom_role_arn(m.owned("customRoleArn"))
    }};
}

#[async_trait]
impl Sender for TemplateCalls {
    async fn send(&self, clients: &EcrClients, call: &ApiCall) -> Result<()> {
        let client = clients.client(&call.region);
        let m = &call.mutation;
        match m.operation.as_str() {
            "CreateRepositoryCreationTemplate" => crate::send_call!(
                call,
                with_members!(client.create_repository_creation_template(), m)
            ),
            "UpdateRepositoryCreationTemplate" => crate::send_call!(
                call,
                with_members!(client.update_repository_creation_template(), m)
            ),
            "DeleteRepositoryCreationTemplate" => crate::send_call!(
                call,
                client
                    .delete_repository_creation_template()
                    .set_prefix(m.owned("prefix"))
            ),
            other => Err(not_sent(other, "repository creation template")),
        }
    }
}

/// A nested member converted for the SDK (its schema's `check` ran before any call).
fn nested<T>(v: Option<&Value>, f: fn(&Value) -> Option<T>) -> Result<Option<T>> {
    v.map(|v| f(v).ok_or_else(|| Error::Runtime(format!("cannot send {v}: not the shape checked"))))
        .transpose()
}

/// A string member of a nested structure.
fn text<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// Each item of a JSON list, converted.
fn each<T>(v: &Value, f: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    v.as_array()?.iter().map(f).collect()
}

fn encryption(v: &Value) -> Option<EncryptionConfigurationForRepositoryCreationTemplate> {
    let built = EncryptionConfigurationForRepositoryCreationTemplate::builder()
        .encryption_type(EncryptionType::from(text(v, "encryptionType")?));
    built
        .set_kms_key(text(v, "kmsKey").map(str::to_string))
        .build()
        .ok()
}

fn tags(v: &Value) -> Option<Vec<Tag>> {
    each(v, |t| {
        Tag::builder()
            .key(text(t, "Key")?)
            .value(text(t, "Value")?)
            .build()
            .ok()
    })
}

fn exclusion_filters(v: &Value) -> Option<Vec<ImageTagMutabilityExclusionFilter>> {
    each(v, |f| {
        let kind = ImageTagMutabilityExclusionFilterType::from(text(f, "filterType")?);
        let built = ImageTagMutabilityExclusionFilter::builder().filter_type(kind);
        built.filter(text(f, "filter")?).build().ok()
    })
}

fn applied_for(v: &Value) -> Option<Vec<RctAppliedFor>> {
    each(v, |a| a.as_str().map(RctAppliedFor::from))
}
