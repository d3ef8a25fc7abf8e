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

use super::clients::{EcrClients, api_error};
use super::convert::micros;
use super::mutate::{Sender, not_sent};
use super::request::ScanRequest;
use crate::dml::ApiCall;
use crate::ecr::constraints as c;
use crate::error::{Error, Result};

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
        "prefix": t.prefix().map(c::canonical_prefix),
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
    record.as_object().cloned().unwrap_or_default()
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

    async fn already_applied(&self, _: &EcrClients, call: &ApiCall, code: &str) -> Result<bool> {
        Ok(
            call.mutation.operation == "DeleteRepositoryCreationTemplate"
                && code == "TemplateNotFoundException",
        )
    }
}

/// A nested member converted for the SDK (checked before any call; failing here is a bug).
fn nested<T>(
    v: Option<&Value>,
    f: fn(&Value) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    v.map(f).transpose().map_err(Error::Runtime)
}

/// A string member of a nested JSON structure, required.
fn required<'a>(v: &'a Value, name: &str) -> std::result::Result<&'a str, String> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("needs the string member {name}"))
}

/// Each element of a JSON list, converted.
fn each<T>(
    v: &Value,
    f: impl Fn(&Value) -> std::result::Result<T, String>,
) -> std::result::Result<Vec<T>, String> {
    v.as_array()
        .ok_or("must be a JSON list")?
        .iter()
        .map(f)
        .collect()
}

/// `encryptionConfiguration` ({encryptionType, kmsKey}) for the SDK, checked against the model.
pub fn encryption(
    v: &Value,
) -> std::result::Result<EncryptionConfigurationForRepositoryCreationTemplate, String> {
    let kind = required(v, "encryptionType")?;
    c::check_enum(kind, &c::ENCRYPTION_TYPES)?;
    let key = v.get("kmsKey").and_then(Value::as_str);
    key.map(c::check_kms_key).transpose()?;
    let built = EncryptionConfigurationForRepositoryCreationTemplate::builder()
        .encryption_type(EncryptionType::from(kind));
    built
        .set_kms_key(key.map(str::to_string))
        .build()
        .map_err(|e| e.to_string())
}

/// `resourceTags` ([{Key, Value}]) for the SDK, within the documented lengths.
pub fn tags(v: &Value) -> std::result::Result<Vec<Tag>, String> {
    each(v, |t| {
        let (key, value) = (required(t, "Key")?, required(t, "Value")?);
        c::check_tag(key, value)?;
        Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| e.to_string())
    })
}

/// `imageTagMutabilityExclusionFilters` ([{filterType, filter}]) for the SDK, checked.
pub fn exclusion_filters(
    v: &Value,
) -> std::result::Result<Vec<ImageTagMutabilityExclusionFilter>, String> {
    each(v, |f| {
        let (kind, filter) = (required(f, "filterType")?, required(f, "filter")?);
        c::check_enum(kind, &c::EXCLUSION_FILTER_TYPES)?;
        c::check_exclusion_filter(filter)?;
        let built = ImageTagMutabilityExclusionFilter::builder()
            .filter_type(ImageTagMutabilityExclusionFilterType::from(kind));
        built.filter(filter).build().map_err(|e| e.to_string())
    })
}

/// `appliedFor` (a non-empty list of the model's values) for the SDK.
pub fn applied_for(v: &Value) -> std::result::Result<Vec<RctAppliedFor>, String> {
    let list = each(v, |a| {
        a.as_str()
            .ok_or_else(|| c::enum_violation(&c::APPLIED_FOR))
            .and_then(|a| c::check_enum(a, &c::APPLIED_FOR).map(|_| RctAppliedFor::from(a)))
    })?;
    if list.is_empty() {
        return Err(format!(
            "must name at least one of {}",
            c::APPLIED_FOR.join(", ")
        ));
    }
    Ok(list)
}
