//! Pull-through cache rule operations of the sandbox, enforcing ECR's constraints and errors.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::paging;
use super::registry::{Registry, Secret};
use super::wire::{ApiError, Violations};
use crate::resources::ecr::constraints::{self as c, ROOT_PREFIX};
use crate::resources::ecr::upstream::UpstreamRegistry;

/// The store of rules, keyed by [`key`].
pub const TABLE: &str = "rules";

/// One stored rule, kept as the `PullThroughCacheRule` structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The repository prefix in the private registry (the rule's identifier).
    pub ecr_repository_prefix: String,
    /// The upstream registry's host.
    pub upstream_registry_url: String,
    /// The upstream registry kind.
    pub upstream_registry: UpstreamRegistry,
    /// The owning account.
    pub registry_id: String,
    /// Secrets Manager secret with the upstream credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_arn: Option<String>,
    /// IAM role ECR assumes for ECR-to-ECR upstreams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role_arn: Option<String>,
    /// The repository prefix in the upstream registry (`ROOT` by default).
    pub upstream_repository_prefix: String,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last update time, epoch seconds.
    pub updated_at: f64,
}

impl Rule {
    /// The rule's members without `leaving_out` (each operation answers its own subset).
    fn answer(&self, leaving_out: &[&str]) -> Value {
        let mut m = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for member in leaving_out {
            m.remove(*member);
        }
        Value::Object(m)
    }
}

/// CreatePullThroughCacheRule input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    ecr_repository_prefix: Option<String>,
    upstream_registry_url: Option<String>,
    upstream_registry: Option<String>,
    upstream_repository_prefix: Option<String>,
    #[serde(flatten)]
    arns: ArnInput,
}

/// The registry, credential and role members Create and Update share.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArnInput {
    registry_id: Option<String>,
    credential_arn: Option<String>,
    custom_role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    registry_id: Option<String>,
    ecr_repository_prefixes: Option<Vec<String>>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    ecr_repository_prefix: Option<String>,
    #[serde(flatten)]
    arns: ArnInput,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyInput {
    ecr_repository_prefix: Option<String>,
    registry_id: Option<String>,
}

/// Parses an operation's input, answering SerializationException on a type mismatch as AWS does.
pub fn parse<T: for<'de> Deserialize<'de>>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| ApiError::serialization(e.to_string()))
}

/// The map key of a prefix: ECR treats `team` and `team/` as the same rule.
pub(crate) fn key(prefix: &str) -> String {
    prefix.trim_end_matches('/').to_string()
}

impl Registry {
    /// CreatePullThroughCacheRule. While seeding, every check applies except two, because a
    /// seed describes rules that already exist rather than calls being made:
    /// - The per-region quota: a real account never holds more than 50 rules in a region, but
    ///   pagination (100 rules a page by default) can only be exercised with more than that.
    ///   A later Create in that region still meets the quota.
    /// - The misbehaving secrets of [`Registry::secrets`]: a secret can be deleted, locked
    ///   away or re-keyed after its rule was created, which is exactly what
    ///   ValidatePullThroughCacheRule reports (`isValid: false`). The secret must still be
    ///   in the rule's account and region, which cannot change after creation.
    pub fn create_rule(&mut self, region: &str, body: Value, now: f64) -> Result<Value, ApiError> {
        let input: CreateInput = parse(body)?;
        let rule = self.new_rule(region, input, now)?;
        let seeding = self.seeding;
        let rules = self.region(region).store(TABLE);
        if rules.contains_key(&key(&rule.ecr_repository_prefix)) {
            return Err(ApiError::client(
                "PullThroughCacheRuleAlreadyExistsException",
                format!(
                    "A pull through cache rule with prefix '{}' already exists in registry '{}'",
                    rule.ecr_repository_prefix, rule.registry_id
                ),
            ));
        }
        if !seeding && rules.len() >= c::RULE_QUOTA {
            return Err(ApiError::client(
                "LimitExceededException",
                format!(
                    "The pull through cache rule quota of {} rules per registry in region {region} has been reached",
                    c::RULE_QUOTA
                ),
            ));
        }
        let prefix = key(&rule.ecr_repository_prefix);
        self.region(region).put(TABLE, &prefix, &rule);
        Ok(rule.answer(&["updatedAt"]))
    }

    /// Validates a create request and builds the rule it describes.
    fn new_rule(&self, region: &str, input: CreateInput, now: f64) -> Result<Rule, ApiError> {
        let mut v = Violations::default();
        let prefix = v.required(
            "ecrRepositoryPrefix",
            input.ecr_repository_prefix.as_deref(),
        );
        v.check("ecrRepositoryPrefix", prefix, c::check_prefix);
        let url = v.required(
            "upstreamRegistryUrl",
            input.upstream_registry_url.as_deref(),
        );
        check_arns(&mut v, &input.arns);
        v.check(
            "upstreamRepositoryPrefix",
            input.upstream_repository_prefix.as_deref(),
            c::check_prefix,
        );
        v.check(
            "upstreamRegistry",
            input.upstream_registry.as_deref(),
            |u| match UpstreamRegistry::parse(u) {
                Some(_) => Ok(()),
                None => Err(format!(
                    "Member must satisfy enum value set: [{}]",
                    UpstreamRegistry::names()
                )),
            },
        );
        v.finish()?;
        let (prefix, url) = (prefix.unwrap_or_default(), url.unwrap_or_default());
        let registry_id = self.own_registry(input.arns.registry_id.as_deref())?;

        let inferred = UpstreamRegistry::from_url(url).ok_or_else(|| {
            ApiError::client(
                "UnsupportedUpstreamRegistryException",
                format!(
                    "The upstream registry URL '{url}' is not supported for pull through cache"
                ),
            )
        })?;
        let upstream = match input
            .upstream_registry
            .as_deref()
            .and_then(UpstreamRegistry::parse)
        {
            Some(given) if given != inferred => {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid parameter at 'upstreamRegistry': the upstream registry '{given}' does not \
                     match the upstream registry URL '{url}' (expected {})",
                    given.example_url()
                )));
            }
            _ => inferred,
        };
        self.check_usable(region, &registry_id, upstream, &input.arns, true)?;
        let upstream_prefix = match input.upstream_repository_prefix {
            Some(p) if p != ROOT_PREFIX && prefix == ROOT_PREFIX => {
                return Err(ApiError::invalid_parameter(
                    "Invalid parameter at 'upstreamRepositoryPrefix': an upstream repository prefix \
                     can only be set when ecrRepositoryPrefix is not ROOT",
                ));
            }
            Some(p) => p,
            None => ROOT_PREFIX.to_string(),
        };
        Ok(Rule {
            ecr_repository_prefix: prefix.to_string(),
            upstream_registry_url: url.to_string(),
            upstream_registry: upstream,
            registry_id,
            credential_arn: input.arns.credential_arn,
            custom_role_arn: input.arns.custom_role_arn,
            upstream_repository_prefix: upstream_prefix,
            created_at: now,
            updated_at: now,
        })
    }

    /// DescribePullThroughCacheRules.
    pub fn describe_rules(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let input: DescribeInput = parse(body)?;
        let mut v = Violations::default();
        v.check(
            "registryId",
            input.registry_id.as_deref(),
            c::check_registry_id,
        );
        if let Some(prefixes) = &input.ecr_repository_prefixes {
            if prefixes.is_empty() || prefixes.len() > c::DESCRIBE_PREFIXES_MAX {
                v.add(
                    "ecrRepositoryPrefixes",
                    None,
                    &format!(
                        "Member must have length between 1 and {}",
                        c::DESCRIBE_PREFIXES_MAX
                    ),
                );
            }
            v.check_each("ecrRepositoryPrefixes", prefixes, c::check_prefix);
        }
        paging::check_max_results(&mut v, input.max_results);
        v.finish()?;
        let account = self.own_registry(input.registry_id.as_deref())?;
        let wanted: Option<Vec<String>> = input
            .ecr_repository_prefixes
            .map(|prefixes| prefixes.iter().map(|p| key(p)).collect());
        let rules = self.region(region).store(TABLE);
        if let Some(missing) = wanted.iter().flatten().find(|p| !rules.contains_key(*p)) {
            return Err(not_found(missing, &account));
        }
        let token = input.next_token.as_deref();
        let (page, next) =
            paging::store_page(rules, wanted.as_deref(), region, token, input.max_results)?;
        Ok(paging::listing(
            json!({}),
            "pullThroughCacheRules",
            page,
            next,
        ))
    }

    /// UpdatePullThroughCacheRule: only the credential and the custom role change in place.
    pub fn update_rule(&mut self, region: &str, body: Value, now: f64) -> Result<Value, ApiError> {
        let input: UpdateInput = parse(body)?;
        let mut v = Violations::default();
        let prefix = v.required(
            "ecrRepositoryPrefix",
            input.ecr_repository_prefix.as_deref(),
        );
        v.check("ecrRepositoryPrefix", prefix, c::check_prefix);
        check_arns(&mut v, &input.arns);
        v.finish()?;
        let prefix = prefix.unwrap_or_default();
        let registry_id = self.own_registry(input.arns.registry_id.as_deref())?;
        let mut rule = self.find(region, prefix)?;
        self.check_usable(
            region,
            &registry_id,
            rule.upstream_registry,
            &input.arns,
            false,
        )?;
        if let Some(arn) = input.arns.credential_arn {
            rule.credential_arn = Some(arn);
        }
        if let Some(arn) = input.arns.custom_role_arn {
            rule.custom_role_arn = Some(arn);
        }
        rule.updated_at = now;
        self.region(region).put(TABLE, &key(prefix), &rule);
        Ok(rule.answer(&["createdAt", "upstreamRegistry", "upstreamRegistryUrl"]))
    }

    /// DeletePullThroughCacheRule: answers with the deleted rule.
    pub fn delete_rule(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let rule = self.key_input(region, body)?;
        let prefix = key(&rule.ecr_repository_prefix);
        self.region(region).store(TABLE).remove(&prefix);
        Ok(rule.answer(&["upstreamRegistry", "updatedAt"]))
    }

    /// ValidatePullThroughCacheRule: checks that the rule's credential and role are usable.
    pub fn validate_rule(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let rule = self.key_input(region, body)?;
        let failure = match rule.credential_arn.as_deref() {
            Some(arn) => self.check_secret(region, &rule.registry_id, arn).err(),
            None => None,
        };
        let mut out = rule.answer(&["createdAt", "upstreamRegistry", "updatedAt"]);
        out["isValid"] = json!(failure.is_none());
        if let Some(err) = failure {
            out["failure"] = json!(format!("{}: {}", err.code, err.message));
        }
        Ok(out)
    }

    /// Parses and checks `{ecrRepositoryPrefix, registryId}`, answering the rule it names.
    fn key_input(&mut self, region: &str, body: Value) -> Result<Rule, ApiError> {
        let input: KeyInput = parse(body)?;
        let mut v = Violations::default();
        let prefix = v.required(
            "ecrRepositoryPrefix",
            input.ecr_repository_prefix.as_deref(),
        );
        v.check("ecrRepositoryPrefix", prefix, c::check_prefix);
        v.check(
            "registryId",
            input.registry_id.as_deref(),
            c::check_registry_id,
        );
        v.finish()?;
        self.own_registry(input.registry_id.as_deref())?;
        self.find(region, prefix.unwrap_or_default())
    }

    fn find(&mut self, region: &str, prefix: &str) -> Result<Rule, ApiError> {
        let account = self.account_id.clone();
        let rule = self.region(region).get(TABLE, &key(prefix));
        rule.ok_or_else(|| not_found(prefix, &account))
    }

    /// The registry a request names: this account's, the only one the sandbox hosts.
    pub fn own_registry(&self, given: Option<&str>) -> Result<String, ApiError> {
        match given {
            Some(id) if id != self.account_id => Err(ApiError::invalid_parameter(format!(
                "Invalid parameter at 'registryId': registry '{id}' is not the caller's registry ({})",
                self.account_id
            ))),
            _ => Ok(self.account_id.clone()),
        }
    }

    /// Whether the credential and custom role a Create or Update gives suit the upstream and
    /// can be used by ECR.
    fn check_usable(
        &self,
        region: &str,
        registry_id: &str,
        upstream: UpstreamRegistry,
        arns: &ArnInput,
        creating: bool,
    ) -> Result<(), ApiError> {
        check_credential_fit(upstream, arns.credential_arn.as_deref(), creating)?;
        if let Some(role) = arns.custom_role_arn.as_deref() {
            if !upstream.accepts_custom_role() {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid parameter at 'customRoleArn': a custom role can only be used with an ecr \
                     upstream registry, not {upstream}"
                )));
            }
            self.check_role_account(role)?;
        }
        match arns.credential_arn.as_deref() {
            Some(arn) if self.seeding => check_secret_scope(region, registry_id, arn),
            Some(arn) => self.check_secret(region, registry_id, arn),
            None => Ok(()),
        }
    }

    /// Looks the secret up the way ECR would before storing or using a credential.
    fn check_secret(&self, region: &str, registry_id: &str, arn: &str) -> Result<(), ApiError> {
        check_secret_scope(region, registry_id, arn)?;
        match self.secrets.get(arn) {
            None => Ok(()),
            Some(Secret::NotFound) => Err(ApiError::client(
                "SecretNotFoundException",
                format!("The secret '{arn}' could not be found"),
            )),
            Some(Secret::AccessDenied) => Err(ApiError::client(
                "UnableToAccessSecretException",
                format!("Amazon ECR is unable to access the secret '{arn}'"),
            )),
            Some(Secret::Undecryptable) => Err(ApiError::client(
                "UnableToDecryptSecretValueException",
                format!("Amazon ECR is unable to decrypt the value of the secret '{arn}'"),
            )),
        }
    }
}

/// Records the service model's constraints on the registry and ARN members.
fn check_arns(v: &mut Violations, arns: &ArnInput) {
    v.check(
        "registryId",
        arns.registry_id.as_deref(),
        c::check_registry_id,
    );
    v.check(
        "credentialArn",
        arns.credential_arn.as_deref(),
        c::check_credential_arn,
    );
    v.check(
        "customRoleArn",
        arns.custom_role_arn.as_deref(),
        c::check_custom_role_arn,
    );
}

/// A secret outside the rule's account and region cannot be found by ECR.
fn check_secret_scope(region: &str, registry_id: &str, arn: &str) -> Result<(), ApiError> {
    if c::secret_arn_scope(arn) == Some((region, registry_id)) {
        Ok(())
    } else {
        Err(ApiError::client(
            "SecretNotFoundException",
            format!(
                "The secret '{arn}' was not found: it must be in the registry's account {registry_id} and region {region}"
            ),
        ))
    }
}

/// Whether `credential` suits `upstream`; `creating` also demands one where the upstream requires it.
fn check_credential_fit(
    upstream: UpstreamRegistry,
    credential: Option<&str>,
    creating: bool,
) -> Result<(), ApiError> {
    match credential {
        None if creating && upstream.requires_credential() => {
            Err(ApiError::invalid_parameter(format!(
                "Invalid parameter at 'credentialArn': a credential ARN is required for the upstream registry {upstream}"
            )))
        }
        Some(_) if !upstream.accepts_credential() => Err(ApiError::invalid_parameter(format!(
            "Invalid parameter at 'credentialArn': the upstream registry {upstream} does not use credentials"
        ))),
        _ => Ok(()),
    }
}

fn not_found(prefix: &str, registry_id: &str) -> ApiError {
    ApiError::client(
        "PullThroughCacheRuleNotFoundException",
        format!(
            "The pull through cache rule with prefix '{prefix}' does not exist in the registry with id '{registry_id}'"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn body(i: usize) -> Value {
        json!({"ecrRepositoryPrefix": format!("p{i:03}"), "upstreamRegistryUrl": "public.ecr.aws"})
    }

    #[test]
    fn seeding_skips_only_the_quota() {
        let mut r = Registry::new("123456789012", HashMap::new());
        r.seeding = true;
        for i in 0..c::RULE_QUOTA + 10 {
            r.create_rule("us-east-1", body(i), 1.0).unwrap();
        }
        assert_eq!(r.region("us-east-1").store(TABLE).len(), c::RULE_QUOTA + 10);
        // Every other check still applies to a seed.
        let err = r.create_rule("us-east-1", body(0), 3.0).unwrap_err();
        assert_eq!(err.code, "PullThroughCacheRuleAlreadyExistsException");
        let short = json!({"ecrRepositoryPrefix": "x", "upstreamRegistryUrl": "public.ecr.aws"});
        let err = r.create_rule("us-east-1", short, 3.0).unwrap_err();
        assert_eq!(err.code, "ValidationException");
        let hub = json!({"ecrRepositoryPrefix": "hub", "upstreamRegistryUrl": "docker.io"});
        let err = r.create_rule("us-east-1", hub, 3.0).unwrap_err();
        assert_eq!(err.code, "UnsupportedUpstreamRegistryException");
        // A real call still meets the quota, in the seeded region only.
        r.seeding = false;
        let err = r.create_rule("us-east-1", body(999), 2.0).unwrap_err();
        assert_eq!(err.code, "LimitExceededException");
        r.create_rule("eu-west-1", body(999), 2.0).unwrap();
    }

    #[test]
    fn seeding_skips_secret_faults_but_not_scope() {
        let bad =
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf";
        let secrets = HashMap::from([(bad.to_string(), Secret::AccessDenied)]);
        let mut r = Registry::new("123456789012", secrets);
        let rule = |prefix: &str, arn: &str| {
            json!({"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "registry-1.docker.io",
                   "credentialArn": arn})
        };
        r.seeding = true;
        r.create_rule("us-east-1", rule("hub", bad), 1.0).unwrap();
        let other_region = bad.replace("us-east-1", "eu-west-1");
        let err = r.create_rule("us-east-1", rule("hub3", &other_region), 1.0);
        assert_eq!(err.unwrap_err().code, "SecretNotFoundException");
        r.seeding = false;
        let err = r
            .create_rule("us-east-1", rule("hub2", bad), 1.0)
            .unwrap_err();
        assert_eq!(err.code, "UnableToAccessSecretException");
        let out = r
            .validate_rule("us-east-1", json!({"ecrRepositoryPrefix": "hub"}))
            .unwrap();
        assert_eq!(out["isValid"], json!(false));
    }

    #[test]
    fn create_enforces_the_quota() {
        let mut r = Registry::new("123456789012", HashMap::new());
        for i in 0..c::RULE_QUOTA {
            r.create_rule("us-east-1", body(i), 1.0).unwrap();
        }
        let err = r
            .create_rule("us-east-1", body(c::RULE_QUOTA), 1.0)
            .unwrap_err();
        assert_eq!(err.code, "LimitExceededException");
        assert_eq!(r.region("us-east-1").store(TABLE).len(), c::RULE_QUOTA);
    }
}

crate::sandbox_operations!(
    Change CreatePullThroughCacheRule => |r, region, input, now| r.create_rule(region, input, now);
    Read DescribePullThroughCacheRules => |r, region, input, _| r.describe_rules(region, input);
    Change UpdatePullThroughCacheRule => |r, region, input, now| r.update_rule(region, input, now);
    Change DeletePullThroughCacheRule => |r, region, input, _| r.delete_rule(region, input);
    Read ValidatePullThroughCacheRule => |r, region, input, _| r.validate_rule(region, input);
);
