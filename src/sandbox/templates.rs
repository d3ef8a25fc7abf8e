//! Repository creation template operations of the sandbox, enforcing ECR's constraints and errors.
//!
//! Which check answers which error follows ECR: what the service model constrains (required
//! members, lengths, patterns, enums) is a ValidationException listing every violation; what
//! only the service checks (policy documents, the custom role, tags, combinations of members) is
//! an InvalidParameterException naming the member.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::paging;
use super::registry::Registry;
use super::rules::{key, parse};
use super::wire::{ApiError, Violations};
use crate::resources::ecr::constraints as c;

/// The store of templates, keyed by their prefix without its trailing `/`.
pub const TABLE: &str = "templates";

/// One stored template, serialised as the `RepositoryCreationTemplate` structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// The repository namespace prefix (the template's identifier), or `ROOT`.
    pub prefix: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Encryption of the repositories the template creates.
    pub encryption_configuration: Encryption,
    /// Tags put on the repositories the template creates.
    #[serde(default)]
    pub resource_tags: Vec<Tag>,
    /// Tag mutability of the repositories the template creates.
    pub image_tag_mutability: String,
    /// Tags excepted from the mutability setting (only with a `*_WITH_EXCLUSION` mutability).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_tag_mutability_exclusion_filters: Vec<ExclusionFilter>,
    /// Repository policy text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_policy: Option<String>,
    /// Lifecycle policy text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_policy: Option<String>,
    /// The repository creation scenarios the template applies to.
    pub applied_for: Vec<String>,
    /// IAM role ECR assumes to apply the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role_arn: Option<String>,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last update time, epoch seconds.
    pub updated_at: f64,
}

/// `EncryptionConfigurationForRepositoryCreationTemplate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    /// KMS key ARN (KMS types only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

/// A resource tag; the members are capitalised on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag key.
    #[serde(rename = "Key")]
    pub key: String,
    /// The tag value.
    #[serde(rename = "Value")]
    pub value: String,
}

/// `ImageTagMutabilityExclusionFilter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionFilter {
    /// `WILDCARD`.
    pub filter_type: String,
    /// The tag pattern.
    pub filter: String,
}

impl Template {
    /// A template with ECR's defaults: AES-256 encryption and mutable tags, the settings the
    /// user guide says ECR uses when nothing else is set.
    fn new(prefix: String, now: f64) -> Self {
        Self {
            prefix,
            description: None,
            encryption_configuration: Encryption {
                encryption_type: c::DEFAULT_ENCRYPTION_TYPE.into(),
                kms_key: None,
            },
            resource_tags: Vec::new(),
            image_tag_mutability: c::DEFAULT_IMAGE_TAG_MUTABILITY.into(),
            image_tag_mutability_exclusion_filters: Vec::new(),
            repository_policy: None,
            lifecycle_policy: None,
            applied_for: Vec::new(),
            custom_role_arn: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Replaces the members `input` gives (Create on the defaults, Update on the stored
    /// template); members it leaves out keep their value. Runs after the input was validated.
    fn apply(&mut self, input: TemplateInput) {
        if let Some(description) = input.description {
            self.description = Some(description);
        }
        if let Some(e) = input.encryption_configuration {
            self.encryption_configuration = Encryption {
                encryption_type: e.encryption_type.unwrap_or_default(),
                // The model allows an empty key (`^$|…`): it names no key.
                kms_key: e.kms_key.filter(|k| !k.is_empty()),
            };
        }
        if let Some(tags) = input.resource_tags {
            self.resource_tags = tags
                .into_iter()
                .map(|t| Tag {
                    key: t.key.unwrap_or_default(),
                    value: t.value.unwrap_or_default(),
                })
                .collect();
        }
        if let Some(mutability) = input.image_tag_mutability {
            // The filters qualify the mutability they were given with: naming a mutability
            // without filters drops the stored ones (the list cannot be sent empty), so an
            // update can go from IMMUTABLE_WITH_EXCLUSION back to MUTABLE.
            self.image_tag_mutability = mutability;
            self.image_tag_mutability_exclusion_filters.clear();
        }
        if let Some(filters) = input.image_tag_mutability_exclusion_filters {
            self.image_tag_mutability_exclusion_filters = filters
                .into_iter()
                .map(|f| ExclusionFilter {
                    filter_type: f.filter_type.unwrap_or_default(),
                    filter: f.filter.unwrap_or_default(),
                })
                .collect();
        }
        // The model allows empty policy texts (min 0): an empty one is no policy, which is how
        // an update takes a policy away.
        if let Some(policy) = input.repository_policy {
            self.repository_policy = Some(policy).filter(|p| !p.is_empty());
        }
        if let Some(policy) = input.lifecycle_policy {
            self.lifecycle_policy = Some(policy).filter(|p| !p.is_empty());
        }
        if let Some(applied_for) = input.applied_for {
            self.applied_for = applied_for;
        }
        if let Some(role) = input.custom_role_arn {
            self.custom_role_arn = Some(role);
        }
    }
}

/// The input of CreateRepositoryCreationTemplate and UpdateRepositoryCreationTemplate: the same
/// members, of which Create requires `prefix` and `appliedFor` and Update only `prefix`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateInput {
    prefix: Option<String>,
    description: Option<String>,
    encryption_configuration: Option<EncryptionInput>,
    resource_tags: Option<Vec<TagInput>>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilterInput>>,
    repository_policy: Option<String>,
    lifecycle_policy: Option<String>,
    applied_for: Option<Vec<String>>,
    custom_role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncryptionInput {
    encryption_type: Option<String>,
    kms_key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TagInput {
    #[serde(rename = "Key")]
    key: Option<String>,
    #[serde(rename = "Value")]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExclusionFilterInput {
    filter_type: Option<String>,
    filter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    prefixes: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyInput {
    prefix: Option<String>,
}

impl Registry {
    /// CreateRepositoryCreationTemplate. While seeding, every check applies except the
    /// per-region quota, for the reason [`Registry::create_rule`] gives (pagination past a page
    /// of 100 needs more templates than the quota allows).
    pub fn create_template(
        &mut self,
        region: &str,
        body: Value,
        now: f64,
    ) -> Result<Value, ApiError> {
        let input: TemplateInput = parse(body)?;
        let mut v = Violations::default();
        let prefix = v
            .required("prefix", input.prefix.as_deref())
            .map(str::to_string);
        if input.applied_for.is_none() {
            v.add("appliedFor", None, "Member must not be null");
        }
        check_members(&input, &mut v);
        v.finish()?;
        let mut template = Template::new(prefix.unwrap_or_default(), now);
        template.apply(input);
        self.check_template(&template)?;

        let (account, seeding) = (self.account_id.clone(), self.seeding);
        let templates = self.region(region).store(TABLE);
        if templates.contains_key(&key(&template.prefix)) {
            return Err(ApiError::client(
                "TemplateAlreadyExistsException",
                format!(
                    "A repository creation template with prefix '{}' already exists in the registry with id '{account}'",
                    template.prefix
                ),
            ));
        }
        if !seeding && templates.len() >= c::TEMPLATE_QUOTA {
            return Err(ApiError::client(
                "LimitExceededException",
                format!(
                    "The repository creation template quota of {} templates per registry in region {region} has been reached",
                    c::TEMPLATE_QUOTA
                ),
            ));
        }
        self.region(region)
            .put(TABLE, &key(&template.prefix), &template);
        Ok(answer(&account, &template))
    }

    /// DescribeRepositoryCreationTemplates. A listed prefix without a template is left out of
    /// the answer rather than failing the call: the operation has no TemplateNotFoundException
    /// (its errors in the API reference and the service model are ServerException,
    /// ValidationException and InvalidParameterException only).
    pub fn describe_templates(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let input: DescribeInput = parse(body)?;
        let mut v = Violations::default();
        if let Some(prefixes) = &input.prefixes {
            v.check_each("prefixes", prefixes, c::check_template_prefix);
        }
        paging::check_max_results(&mut v, input.max_results);
        v.finish()?;
        let account = self.account_id.clone();
        let wanted: Option<Vec<String>> = input
            .prefixes
            .map(|prefixes| prefixes.iter().map(|p| key(p)).collect());
        let templates = self.region(region).store(TABLE);
        let token = input.next_token.as_deref();
        let (page, next) = paging::store_page(
            templates,
            wanted.as_deref(),
            region,
            token,
            input.max_results,
        )?;
        let out = json!({ "registryId": account });
        Ok(paging::listing(
            out,
            "repositoryCreationTemplates",
            page,
            next,
        ))
    }

    /// UpdateRepositoryCreationTemplate: the members given replace the stored ones.
    pub fn update_template(
        &mut self,
        region: &str,
        body: Value,
        now: f64,
    ) -> Result<Value, ApiError> {
        let input: TemplateInput = parse(body)?;
        let mut v = Violations::default();
        let prefix = v
            .required("prefix", input.prefix.as_deref())
            .map(str::to_string);
        check_members(&input, &mut v);
        v.finish()?;
        let prefix = prefix.unwrap_or_default();
        let mut template = self.find_template(region, &prefix)?;
        template.apply(input);
        template.updated_at = now;
        self.check_template(&template)?;
        self.region(region).put(TABLE, &key(&prefix), &template);
        Ok(answer(&self.account_id, &template))
    }

    /// DeleteRepositoryCreationTemplate: answers with the deleted template.
    pub fn delete_template(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let input: KeyInput = parse(body)?;
        let mut v = Violations::default();
        let prefix = v.required("prefix", input.prefix.as_deref());
        v.check("prefix", prefix, c::check_template_prefix);
        v.finish()?;
        let prefix = prefix.unwrap_or_default();
        let template = self.find_template(region, prefix)?;
        self.region(region).store(TABLE).remove(&key(prefix));
        Ok(answer(&self.account_id, &template))
    }

    fn find_template(&mut self, region: &str, prefix: &str) -> Result<Template, ApiError> {
        let account = self.account_id.clone();
        self.region(region)
            .get(TABLE, &key(prefix))
            .ok_or_else(|| {
                ApiError::client(
                    "TemplateNotFoundException",
                    format!(
                        "The repository creation template with prefix '{prefix}' does not exist in the registry with id '{account}'"
                    ),
                )
            })
    }

    /// The checks only the service makes, on the template a Create or Update would store.
    fn check_template(&self, t: &Template) -> Result<(), ApiError> {
        if t.applied_for.is_empty() {
            return Err(ApiError::invalid_constraint(
                "appliedFor",
                &format!(
                    "appliedFor must name at least one of {}",
                    c::APPLIED_FOR.join(", ")
                ),
            ));
        }
        let encryption = &t.encryption_configuration;
        if encryption.kms_key.is_some()
            && !c::KMS_ENCRYPTION_TYPES.contains(&encryption.encryption_type.as_str())
        {
            return Err(ApiError::invalid_constraint(
                "encryptionConfiguration.kmsKey",
                &format!(
                    "a KMS key can only be used with the encryption types {}, not {}",
                    c::KMS_ENCRYPTION_TYPES.join(", "),
                    encryption.encryption_type
                ),
            ));
        }
        let with_exclusions = c::EXCLUSION_MUTABILITIES.contains(&t.image_tag_mutability.as_str());
        if with_exclusions == t.image_tag_mutability_exclusion_filters.is_empty() {
            let why = if with_exclusions {
                format!(
                    "exclusion filters are required with the image tag mutability {}",
                    t.image_tag_mutability
                )
            } else {
                format!(
                    "exclusion filters can only be used with the image tag mutabilities {}",
                    c::EXCLUSION_MUTABILITIES.join(", ")
                )
            };
            return Err(ApiError::invalid_constraint(
                "imageTagMutabilityExclusionFilters",
                &why,
            ));
        }
        for (i, tag) in t.resource_tags.iter().enumerate() {
            c::check_tag(&tag.key, &tag.value)
                .map_err(|why| ApiError::invalid_constraint("resourceTags", &why))?;
            if t.resource_tags[..i].iter().any(|o| o.key == tag.key) {
                return Err(ApiError::invalid_constraint(
                    "resourceTags",
                    &format!("the tag key '{}' is given more than once", tag.key),
                ));
            }
        }
        if let Some(policy) = &t.repository_policy {
            c::check_policy_json(policy).map_err(|why| {
                ApiError::invalid_constraint(
                    "repositoryPolicy",
                    &format!("Invalid repository policy provided: {why}"),
                )
            })?;
        }
        if let Some(policy) = &t.lifecycle_policy {
            c::check_policy_json(policy).map_err(|why| {
                ApiError::invalid_constraint(
                    "lifecyclePolicy",
                    &format!("Lifecycle policy validation failure: {why}"),
                )
            })?;
        }
        if let Some(role) = &t.custom_role_arn {
            self.check_role_account(role)?;
        }
        Ok(())
    }
}

/// Records the service model's constraints on every member `input` gives (all but the
/// required-ness of `prefix` and `appliedFor`, which differs between Create and Update).
fn check_members(input: &TemplateInput, v: &mut Violations) {
    type Check = fn(&str) -> Result<(), String>;
    let strings: [(&str, Option<&str>, Check); 6] = [
        ("prefix", input.prefix.as_deref(), c::check_template_prefix),
        (
            "description",
            input.description.as_deref(),
            c::check_template_description,
        ),
        (
            "imageTagMutability",
            input.image_tag_mutability.as_deref(),
            |m| c::check_enum(m, &c::IMAGE_TAG_MUTABILITIES),
        ),
        (
            "repositoryPolicy",
            input.repository_policy.as_deref(),
            c::check_repository_policy,
        ),
        (
            "lifecyclePolicy",
            input.lifecycle_policy.as_deref(),
            c::check_lifecycle_policy,
        ),
        (
            "customRoleArn",
            input.custom_role_arn.as_deref(),
            c::check_custom_role_arn,
        ),
    ];
    for (member, value, check) in strings {
        v.check(member, value, check);
    }
    if let Some(e) = &input.encryption_configuration {
        let member = "encryptionConfiguration.encryptionType";
        let encryption_type = v.required(member, e.encryption_type.as_deref());
        v.check(member, encryption_type, |t| {
            c::check_enum(t, &c::ENCRYPTION_TYPES)
        });
        v.check(
            "encryptionConfiguration.kmsKey",
            e.kms_key.as_deref(),
            c::check_kms_key,
        );
    }
    for (i, tag) in input.resource_tags.iter().flatten().enumerate() {
        let member = format!("resourceTags.{}.member", i + 1);
        v.required(&format!("{member}.Key"), tag.key.as_deref());
        v.required(&format!("{member}.Value"), tag.value.as_deref());
    }
    if let Some(filters) = &input.image_tag_mutability_exclusion_filters {
        let (min, max) = c::EXCLUSION_FILTERS_LEN;
        if filters.len() < min || filters.len() > max {
            let shown: Vec<&str> = filters.iter().filter_map(|f| f.filter.as_deref()).collect();
            v.add(
                "imageTagMutabilityExclusionFilters",
                Some(&format!("[{}]", shown.join(", "))),
                &format!("Member must have length between {min} and {max}"),
            );
        }
        for (i, f) in filters.iter().enumerate() {
            let member = format!("imageTagMutabilityExclusionFilters.{}.member", i + 1);
            let filter_type = v.required(&format!("{member}.filterType"), f.filter_type.as_deref());
            v.check(&format!("{member}.filterType"), filter_type, |t| {
                c::check_enum(t, &c::EXCLUSION_FILTER_TYPES)
            });
            let filter = v.required(&format!("{member}.filter"), f.filter.as_deref());
            v.check(
                &format!("{member}.filter"),
                filter,
                c::check_exclusion_filter,
            );
        }
    }
    if let Some(applied_for) = &input.applied_for {
        v.check_enum_list("appliedFor", applied_for, &c::APPLIED_FOR);
    }
}

/// The output of Create, Update and Delete: the registry and the template.
fn answer(account: &str, template: &Template) -> Value {
    json!({ "registryId": account, "repositoryCreationTemplate": template })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn body(prefix: &str) -> Value {
        json!({"prefix": prefix, "appliedFor": ["PULL_THROUGH_CACHE"]})
    }

    #[test]
    fn seeding_skips_only_the_quota() {
        let mut r = Registry::new("123456789012", HashMap::new());
        r.seeding = true;
        for i in 0..c::TEMPLATE_QUOTA + 5 {
            let prefix = format!("t{i:03}");
            r.create_template("us-east-1", body(&prefix), 1.0).unwrap();
        }
        let err = r.create_template("us-east-1", body("t000/"), 3.0);
        assert_eq!(err.unwrap_err().code, "TemplateAlreadyExistsException");
        let err = r.create_template("us-east-1", body("Bad"), 3.0);
        assert_eq!(err.unwrap_err().code, "ValidationException");
        r.seeding = false;
        let err = r.create_template("us-east-1", body("one-more"), 2.0);
        assert_eq!(err.unwrap_err().code, "LimitExceededException");
        r.create_template("eu-west-1", body("one-more"), 2.0)
            .unwrap();
    }

    #[test]
    fn the_schema_declares_the_defaults_create_applies() {
        // An upsert's NULL keeps exactly these (`default` in provider-schemas).
        let resource = crate::schema::schemas()
            .resource("ecr", "repository_creation_templates")
            .unwrap();
        let mut r = Registry::new("123456789012", HashMap::new());
        let created = r.create_template("us-east-1", body("ROOT"), 1.0).unwrap();
        let t = &created["repositoryCreationTemplate"];
        let mut defaulted = Vec::new();
        for c in &resource.columns {
            let member = resource.member(&c.name).unwrap_or_default();
            if let Some(default) = &c.default {
                let want: Value = serde_json::from_str(default).unwrap_or(json!(default));
                assert_eq!(t[member], want, "{}", c.name);
                defaulted.push(member);
            }
        }
        // Members the body does not give and ECR does not set are absent.
        let set: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        for member in set {
            let given_or_ecrs = ["prefix", "appliedFor", "createdAt", "updatedAt"];
            assert!(
                defaulted.contains(&member) || given_or_ecrs.contains(&member),
                "Create sets {member}, which the schema gives no default"
            );
        }
    }

    #[test]
    fn create_applies_the_defaults_and_update_keeps_what_it_does_not_name() {
        let mut r = Registry::new("123456789012", HashMap::new());
        let created = r.create_template("us-east-1", body("ROOT"), 1.0).unwrap();
        let t = &created["repositoryCreationTemplate"];
        assert_eq!(created["registryId"], "123456789012");
        assert_eq!(
            t["encryptionConfiguration"],
            json!({"encryptionType": "AES256"})
        );
        assert_eq!(t["imageTagMutability"], "MUTABLE");
        assert_eq!(t["resourceTags"], json!([]));
        assert_eq!(
            (t["createdAt"].as_f64(), t["updatedAt"].as_f64()),
            (Some(1.0), Some(1.0))
        );

        let updated = r
            .update_template(
                "us-east-1",
                json!({"prefix": "ROOT", "description": "all", "repositoryPolicy": "{}"}),
                2.0,
            )
            .unwrap();
        let t = &updated["repositoryCreationTemplate"];
        assert_eq!(t["description"], "all");
        assert_eq!(t["appliedFor"], json!(["PULL_THROUGH_CACHE"]));
        assert_eq!(
            (t["createdAt"].as_f64(), t["updatedAt"].as_f64()),
            (Some(1.0), Some(2.0))
        );
        // An empty policy text takes the policy away.
        let cleared = r
            .update_template(
                "us-east-1",
                json!({"prefix": "ROOT", "repositoryPolicy": ""}),
                3.0,
            )
            .unwrap();
        assert!(
            cleared["repositoryCreationTemplate"]
                .get("repositoryPolicy")
                .is_none()
        );
    }

    #[test]
    fn nested_required_members_are_named() {
        let mut r = Registry::new("123456789012", HashMap::new());
        let mut b = body("team");
        b["resourceTags"] = json!([{"Key": "a", "Value": "b"}, {"Value": "c"}]);
        b["encryptionConfiguration"] = json!({"kmsKey": ""});
        b["imageTagMutabilityExclusionFilters"] = json!([{"filter": "x"}]);
        let err = r.create_template("us-east-1", b, 1.0).unwrap_err();
        assert_eq!(err.code, "ValidationException");
        for member in [
            "Value null at 'encryptionConfiguration.encryptionType'",
            "Value null at 'resourceTags.2.member.Key'",
            "Value null at 'imageTagMutabilityExclusionFilters.1.member.filterType'",
        ] {
            assert!(err.message.contains(member), "{member}: {}", err.message);
        }
        assert!(
            err.message.starts_with("3 validation errors"),
            "{}",
            err.message
        );
    }

    #[test]
    fn naming_a_mutability_drops_the_filters_of_the_old_one() {
        let mut r = Registry::new("123456789012", HashMap::new());
        let mut b = body("team");
        b["imageTagMutability"] = json!("IMMUTABLE_WITH_EXCLUSION");
        b["imageTagMutabilityExclusionFilters"] =
            json!([{"filterType": "WILDCARD", "filter": "x"}]);
        r.create_template("us-east-1", b, 1.0).unwrap();
        let out = r
            .update_template(
                "us-east-1",
                json!({"prefix": "team", "imageTagMutability": "MUTABLE"}),
                2.0,
            )
            .unwrap();
        let t = &out["repositoryCreationTemplate"];
        assert_eq!(t["imageTagMutability"], "MUTABLE");
        assert!(t.get("imageTagMutabilityExclusionFilters").is_none(), "{t}");
        // A *_WITH_EXCLUSION mutability named without its filters is refused.
        let err = r
            .update_template(
                "us-east-1",
                json!({"prefix": "team", "imageTagMutability": "MUTABLE_WITH_EXCLUSION"}),
                3.0,
            )
            .unwrap_err();
        assert_eq!(err.code, "InvalidParameterException");
    }

    #[test]
    fn a_stored_template_round_trips_through_its_json() {
        let mut r = Registry::new("123456789012", HashMap::new());
        let mut full = body("team/app");
        full["resourceTags"] = json!([{"Key": "team", "Value": "app"}]);
        full["imageTagMutability"] = json!("IMMUTABLE_WITH_EXCLUSION");
        full["imageTagMutabilityExclusionFilters"] =
            json!([{"filterType": "WILDCARD", "filter": "latest"}]);
        full["encryptionConfiguration"] = json!({"encryptionType": "KMS",
            "kmsKey": "arn:aws:kms:us-east-1:123456789012:key/abcd-1234"});
        r.create_template("us-east-1", full, 1.0).unwrap();
        let stored: Template = r.region("us-east-1").get(TABLE, "team/app").unwrap();
        let described = r.describe_templates("us-east-1", json!({})).unwrap();
        let listed = &described["repositoryCreationTemplates"][0];
        assert_eq!(listed, &serde_json::to_value(&stored).unwrap());
        assert_eq!(
            listed["resourceTags"],
            json!([{"Key": "team", "Value": "app"}])
        );
    }
}

crate::sandbox_operations!(
    Change CreateRepositoryCreationTemplate => |r, region, input, now| r.create_template(region, input, now);
    Read DescribeRepositoryCreationTemplates => |r, region, input, _| r.describe_templates(region, input);
    Change UpdateRepositoryCreationTemplate => |r, region, input, now| r.update_template(region, input, now);
    Change DeleteRepositoryCreationTemplate => |r, region, input, _| r.delete_template(region, input);
);
