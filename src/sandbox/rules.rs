//! Pull-through cache rule operations of the sandbox, enforcing ECR's constraints and errors.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::paging;
use super::registry::{Registry, Secret};
use super::wire::{ApiError, Violations};
use crate::resources::ecr::constraints::{self as c, ROOT_PREFIX};
use crate::resources::ecr::upstream::UpstreamRegistry;

/// One stored rule.
#[derive(Debug, Clone, PartialEq)]
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
    pub credential_arn: Option<String>,
    /// IAM role ECR assumes for ECR-to-ECR upstreams.
    pub custom_role_arn: Option<String>,
    /// The repository prefix in the upstream registry (`ROOT` by default).
    pub upstream_repository_prefix: String,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last update time, epoch seconds.
    pub updated_at: f64,
}

impl Rule {
    /// The rule as a `PullThroughCacheRule` structure.
    pub fn to_json(&self) -> Value {
        let mut m = self.common();
        m.insert(
            "upstreamRegistry".into(),
            json!(self.upstream_registry.as_str()),
        );
        m.insert("updatedAt".into(), json!(self.updated_at));
        Value::Object(m)
    }

    /// Members every operation's output shares.
    fn common(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "ecrRepositoryPrefix".into(),
            json!(self.ecr_repository_prefix),
        );
        m.insert(
            "upstreamRegistryUrl".into(),
            json!(self.upstream_registry_url),
        );
        m.insert("createdAt".into(), json!(self.created_at));
        m.insert("registryId".into(), json!(self.registry_id));
        m.insert(
            "upstreamRepositoryPrefix".into(),
            json!(self.upstream_repository_prefix),
        );
        if let Some(arn) = &self.credential_arn {
            m.insert("credentialArn".into(), json!(arn));
        }
        if let Some(arn) = &self.custom_role_arn {
            m.insert("customRoleArn".into(), json!(arn));
        }
        m
    }
}

/// CreatePullThroughCacheRule input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    ecr_repository_prefix: Option<String>,
    upstream_registry_url: Option<String>,
    registry_id: Option<String>,
    upstream_registry: Option<String>,
    credential_arn: Option<String>,
    custom_role_arn: Option<String>,
    upstream_repository_prefix: Option<String>,
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
    registry_id: Option<String>,
    credential_arn: Option<String>,
    custom_role_arn: Option<String>,
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
    /// CreatePullThroughCacheRule.
    pub fn create_rule(&mut self, region: &str, body: Value, now: f64) -> Result<Value, ApiError> {
        self.insert_rule(region, body, now, false)
    }

    /// Creates a seeded rule: every check of CreatePullThroughCacheRule applies except two,
    /// because a seed describes rules that already exist rather than calls being made.
    /// - The per-region quota: a real account never holds more than 50 rules in a region, but
    ///   pagination (100 rules a page by default) can only be exercised with more than that.
    ///   A later Create in that region still meets the quota.
    /// - The misbehaving secrets of [`Registry::secrets`]: a secret can be deleted, locked
    ///   away or re-keyed after its rule was created, which is exactly what
    ///   ValidatePullThroughCacheRule reports (`isValid: false`). The secret must still be
    ///   in the rule's account and region, which cannot change after creation.
    pub fn seed_rule(&mut self, region: &str, body: Value, now: f64) -> Result<Value, ApiError> {
        self.insert_rule(region, body, now, true)
    }

    fn insert_rule(
        &mut self,
        region: &str,
        body: Value,
        now: f64,
        seeding: bool,
    ) -> Result<Value, ApiError> {
        let input: CreateInput = parse(body)?;
        let rule = self.new_rule(region, input, now, seeding)?;
        let state = self.region(region);
        if state.rules.contains_key(&key(&rule.ecr_repository_prefix)) {
            return Err(ApiError::client(
                "PullThroughCacheRuleAlreadyExistsException",
                format!(
                    "A pull through cache rule with prefix '{}' already exists in registry '{}'",
                    rule.ecr_repository_prefix, rule.registry_id
                ),
            ));
        }
        if !seeding && state.rules.len() >= c::RULE_QUOTA {
            return Err(ApiError::client(
                "LimitExceededException",
                format!(
                    "The pull through cache rule quota of {} rules per registry in region {region} has been reached",
                    c::RULE_QUOTA
                ),
            ));
        }
        let mut out = rule.common();
        out.insert(
            "upstreamRegistry".into(),
            json!(rule.upstream_registry.as_str()),
        );
        state.rules.insert(key(&rule.ecr_repository_prefix), rule);
        Ok(Value::Object(out))
    }

    /// Validates a create request and builds the rule it describes.
    fn new_rule(
        &self,
        region: &str,
        input: CreateInput,
        now: f64,
        seeding: bool,
    ) -> Result<Rule, ApiError> {
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
        v.check(
            "registryId",
            input.registry_id.as_deref(),
            c::check_registry_id,
        );
        v.check(
            "credentialArn",
            input.credential_arn.as_deref(),
            c::check_credential_arn,
        );
        v.check(
            "customRoleArn",
            input.custom_role_arn.as_deref(),
            c::check_custom_role_arn,
        );
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
        let registry_id = self.own_registry(input.registry_id.as_deref())?;

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
        check_credential_fit(upstream, input.credential_arn.as_deref(), true)?;
        if let Some(role) = input.custom_role_arn.as_deref() {
            self.check_custom_role(upstream, role)?;
        }
        if let Some(arn) = input.credential_arn.as_deref() {
            if seeding {
                check_secret_scope(region, &registry_id, arn)?;
            } else {
                self.check_secret(region, &registry_id, arn)?;
            }
        }
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
            credential_arn: input.credential_arn,
            custom_role_arn: input.custom_role_arn,
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
        let state = self.region(region);

        let selected: Vec<&Rule> = match &input.ecr_repository_prefixes {
            Some(prefixes) => {
                if let Some(missing) = prefixes.iter().find(|p| !state.rules.contains_key(&key(p)))
                {
                    return Err(not_found(missing, &account));
                }
                state
                    .rules
                    .values()
                    .filter(|r| {
                        prefixes
                            .iter()
                            .any(|p| key(p) == key(&r.ecr_repository_prefix))
                    })
                    .collect()
            }
            None => state.rules.values().collect(),
        };
        let (page, next_token) = paging::page(
            selected,
            |r| key(&r.ecr_repository_prefix),
            region,
            input.next_token.as_deref(),
            input.max_results,
        )?;
        let mut out = Map::new();
        out.insert(
            "pullThroughCacheRules".into(),
            Value::Array(page.iter().map(|r| r.to_json()).collect()),
        );
        if let Some(token) = next_token {
            out.insert("nextToken".into(), json!(token));
        }
        Ok(Value::Object(out))
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
        v.check(
            "registryId",
            input.registry_id.as_deref(),
            c::check_registry_id,
        );
        v.check(
            "credentialArn",
            input.credential_arn.as_deref(),
            c::check_credential_arn,
        );
        v.check(
            "customRoleArn",
            input.custom_role_arn.as_deref(),
            c::check_custom_role_arn,
        );
        v.finish()?;
        let prefix = prefix.unwrap_or_default();
        let registry_id = self.own_registry(input.registry_id.as_deref())?;
        let upstream = self.find(region, prefix)?.upstream_registry;
        check_credential_fit(upstream, input.credential_arn.as_deref(), false)?;
        if let Some(role) = input.custom_role_arn.as_deref() {
            self.check_custom_role(upstream, role)?;
        }
        if let Some(arn) = input.credential_arn.as_deref() {
            self.check_secret(region, &registry_id, arn)?;
        }
        let rule = self
            .region(region)
            .rules
            .get_mut(&key(prefix))
            .expect("found above");
        if let Some(arn) = input.credential_arn {
            rule.credential_arn = Some(arn);
        }
        if let Some(arn) = input.custom_role_arn {
            rule.custom_role_arn = Some(arn);
        }
        rule.updated_at = now;
        let mut out = Map::new();
        out.insert(
            "ecrRepositoryPrefix".into(),
            json!(rule.ecr_repository_prefix),
        );
        out.insert("registryId".into(), json!(rule.registry_id));
        out.insert("updatedAt".into(), json!(rule.updated_at));
        out.insert(
            "upstreamRepositoryPrefix".into(),
            json!(rule.upstream_repository_prefix),
        );
        if let Some(arn) = &rule.credential_arn {
            out.insert("credentialArn".into(), json!(arn));
        }
        if let Some(arn) = &rule.custom_role_arn {
            out.insert("customRoleArn".into(), json!(arn));
        }
        Ok(Value::Object(out))
    }

    /// DeletePullThroughCacheRule: answers with the deleted rule.
    pub fn delete_rule(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let prefix = self.key_input(region, body)?;
        let rule = self
            .region(region)
            .rules
            .remove(&key(&prefix))
            .expect("found by key_input");
        Ok(Value::Object(rule.common()))
    }

    /// ValidatePullThroughCacheRule: checks that the rule's credential and role are usable.
    pub fn validate_rule(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let prefix = self.key_input(region, body)?;
        let rule = self.find(region, &prefix)?.clone();
        let failure = match rule.credential_arn.as_deref() {
            Some(arn) => self.check_secret(region, &rule.registry_id, arn).err(),
            None => None,
        };
        let mut out = rule.common();
        out.remove("createdAt");
        out.insert("isValid".into(), json!(failure.is_none()));
        if let Some(err) = failure {
            out.insert(
                "failure".into(),
                json!(format!("{}: {}", err.code, err.message)),
            );
        }
        Ok(Value::Object(out))
    }

    /// Parses and checks `{ecrRepositoryPrefix, registryId}` and that the rule exists.
    fn key_input(&mut self, region: &str, body: Value) -> Result<String, ApiError> {
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
        let prefix = prefix.unwrap_or_default().to_string();
        self.find(region, &prefix)?;
        Ok(prefix)
    }

    fn find(&mut self, region: &str, prefix: &str) -> Result<&Rule, ApiError> {
        let account = self.account_id.clone();
        self.region(region)
            .rules
            .get(&key(prefix))
            .ok_or_else(|| not_found(prefix, &account))
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

    fn check_custom_role(&self, upstream: UpstreamRegistry, role: &str) -> Result<(), ApiError> {
        if !upstream.accepts_custom_role() {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid parameter at 'customRoleArn': a custom role can only be used with an ecr \
                 upstream registry, not {upstream}"
            )));
        }
        self.check_role_account(role)
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
        for i in 0..c::RULE_QUOTA + 10 {
            r.seed_rule("us-east-1", body(i), 1.0).unwrap();
        }
        assert_eq!(r.region("us-east-1").rules.len(), c::RULE_QUOTA + 10);
        // A real call still meets the quota, in the seeded region only.
        let err = r.create_rule("us-east-1", body(999), 2.0).unwrap_err();
        assert_eq!(err.code, "LimitExceededException");
        r.create_rule("eu-west-1", body(999), 2.0).unwrap();
        // Every other check still applies to a seed.
        let err = r.seed_rule("us-east-1", body(0), 3.0).unwrap_err();
        assert_eq!(err.code, "PullThroughCacheRuleAlreadyExistsException");
        let err = r
            .seed_rule(
                "us-east-1",
                json!({"ecrRepositoryPrefix": "x", "upstreamRegistryUrl": "public.ecr.aws"}),
                3.0,
            )
            .unwrap_err();
        assert_eq!(err.code, "ValidationException");
        let err = r
            .seed_rule(
                "us-east-1",
                json!({"ecrRepositoryPrefix": "hub", "upstreamRegistryUrl": "docker.io"}),
                3.0,
            )
            .unwrap_err();
        assert_eq!(err.code, "UnsupportedUpstreamRegistryException");
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
        r.seed_rule("us-east-1", rule("hub", bad), 1.0).unwrap();
        let err = r
            .create_rule("us-east-1", rule("hub2", bad), 1.0)
            .unwrap_err();
        assert_eq!(err.code, "UnableToAccessSecretException");
        let out = r
            .validate_rule("us-east-1", json!({"ecrRepositoryPrefix": "hub"}))
            .unwrap();
        assert_eq!(out["isValid"], json!(false));
        let other_region = bad.replace("us-east-1", "eu-west-1");
        let err = r
            .seed_rule("us-east-1", rule("hub3", &other_region), 1.0)
            .unwrap_err();
        assert_eq!(err.code, "SecretNotFoundException");
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
        assert_eq!(r.region("us-east-1").rules.len(), c::RULE_QUOTA);
    }
}

crate::sandbox_operations!(
    Change CreatePullThroughCacheRule => |r, region, input, now| r.create_rule(region, input, now);
    Read DescribePullThroughCacheRules => |r, region, input, _| r.describe_rules(region, input);
    Change UpdatePullThroughCacheRule => |r, region, input, now| r.update_rule(region, input, now);
    Change DeletePullThroughCacheRule => |r, region, input, _| r.delete_rule(region, input);
    Read ValidatePullThroughCacheRule => |r, region, input, _| r.validate_rule(region, input);
);
