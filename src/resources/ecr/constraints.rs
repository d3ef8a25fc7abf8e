//! Field constraints of the ECR pull-through cache and repository creation template APIs, as
//! published in the service model.

use std::sync::LazyLock;

use regex::Regex;

/// The wildcard repository prefix: the rule applies to every repository.
pub const ROOT_PREFIX: &str = "ROOT";

/// Pattern of `ecrRepositoryPrefix` and `upstreamRepositoryPrefix`.
pub const PREFIX_PATTERN: &str =
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$";

/// Pattern of `credentialArn` (a Secrets Manager secret named `ecr-pullthroughcache/…`).
pub const CREDENTIAL_ARN_PATTERN: &str = r"^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$";

/// Pattern of `registryId`.
pub const REGISTRY_ID_PATTERN: &str = r"^[0-9]{12}$";

/// Length bounds (inclusive) of a repository prefix.
pub const PREFIX_LEN: (usize, usize) = (2, 30);
/// Length bounds (inclusive) of `credentialArn`.
pub const CREDENTIAL_ARN_LEN: (usize, usize) = (50, 612);
/// Maximum length of `customRoleArn`.
pub const CUSTOM_ROLE_ARN_MAX: usize = 2048;
/// Maximum length of a registry policy document.
pub const POLICY_TEXT_MAX: usize = 10240;
/// Rules per registry per region (not adjustable).
pub const RULE_QUOTA: usize = 50;
/// Bounds of `ecrRepositoryPrefixes` in DescribePullThroughCacheRules.
pub const DESCRIBE_PREFIXES_MAX: usize = 100;
/// Bounds (inclusive) of `maxResults` in DescribePullThroughCacheRules.
pub const MAX_RESULTS: (i64, i64) = (1, 1000);
/// Most identifiers one call takes: DescribeRepositories' `repositoryNames`, DescribeImages'
/// and BatchDeleteImage's `imageIds`.
pub const IDS_PER_CALL: usize = 100;
/// Page size when `maxResults` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 100;

// Repository creation templates. From the ECR service model as shipped in botocore 1.43.62
// (CreateRepositoryCreationTemplate and its shapes) and the ECR API reference.

/// Pattern of a template's `prefix`: the service model's `Prefix` shape has the same pattern as
/// a pull-through cache rule's prefix. (Older API reference pages print another spelling,
/// `^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*/?|ROOT)$`; the model wins.)
pub const TEMPLATE_PREFIX_PATTERN: &str = PREFIX_PATTERN;
/// Length bounds (inclusive) of a template's `prefix` (`Prefix`: min 1, max 256).
pub const TEMPLATE_PREFIX_LEN: (usize, usize) = (1, 256);
/// Maximum length of a template's `description`.
pub const TEMPLATE_DESCRIPTION_MAX: usize = 256;
/// Maximum length of a template's `repositoryPolicy` (`RepositoryPolicyText`).
pub const REPOSITORY_POLICY_MAX: usize = 10240;
/// Maximum length of a template's `lifecyclePolicy` (also the "Lifecycle policy length" quota).
pub const LIFECYCLE_POLICY_MAX: usize = 30720;
/// Pattern of `encryptionConfiguration.kmsKey` (empty, or a KMS key ARN).
pub const KMS_KEY_PATTERN: &str = r"^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+";
/// Maximum length of `encryptionConfiguration.kmsKey`.
pub const KMS_KEY_MAX: usize = 2048;
/// Values of `encryptionConfiguration.encryptionType`.
pub const ENCRYPTION_TYPES: [&str; 3] = ["AES256", "KMS", "KMS_DSSE"];
/// The encryption types that take a `kmsKey`.
pub const KMS_ENCRYPTION_TYPES: [&str; 2] = ["KMS", "KMS_DSSE"];
/// The encryption ECR applies when a template names none (the user guide's default settings).
pub const DEFAULT_ENCRYPTION_TYPE: &str = "AES256";
/// Values of `imageTagMutability`.
pub const IMAGE_TAG_MUTABILITIES: [&str; 4] = [
    "MUTABLE",
    "IMMUTABLE",
    "IMMUTABLE_WITH_EXCLUSION",
    "MUTABLE_WITH_EXCLUSION",
];
/// The mutabilities that take `imageTagMutabilityExclusionFilters` (and need at least one).
pub const EXCLUSION_MUTABILITIES: [&str; 2] =
    ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"];
/// The tag mutability when a template names none (documented default).
pub const DEFAULT_IMAGE_TAG_MUTABILITY: &str = "MUTABLE";
/// Length bounds (inclusive) of `imageTagMutabilityExclusionFilters`.
pub const EXCLUSION_FILTERS_LEN: (usize, usize) = (1, 5);
/// Values of an exclusion filter's `filterType`.
pub const EXCLUSION_FILTER_TYPES: [&str; 1] = ["WILDCARD"];
/// Pattern of an exclusion filter's `filter`.
pub const EXCLUSION_FILTER_PATTERN: &str = r"^[0-9a-zA-Z._*-]{1,128}$";
/// Length bounds (inclusive) of an exclusion filter's `filter`.
pub const EXCLUSION_FILTER_LEN: (usize, usize) = (1, 128);
/// Values of `appliedFor`, in the service model's order.
pub const APPLIED_FOR: [&str; 3] = ["REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"];
/// Length bounds (inclusive) of a resource tag's `Key`. The model leaves `TagKey` unbounded;
/// the limit is the documented one, so ECR answers it with InvalidParameterException.
pub const TAG_KEY_LEN: (usize, usize) = (1, 128);
/// Maximum length of a resource tag's `Value` (documented, not in the model, like the key's).
pub const TAG_VALUE_MAX: usize = 256;
/// Repository creation templates per registry per region. The ECR service quotas page lists no
/// quota for templates (checked 2026: it has "Pull through cache rules per registry: 50" and no
/// template row), so this takes the documented value of the nearest quota, the rules' 50: a
/// registry can then hold a template for each of its rules.
pub const TEMPLATE_QUOTA: usize = 50;

static PREFIX_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(PREFIX_PATTERN).expect("valid"));
static CREDENTIAL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(CREDENTIAL_ARN_PATTERN).expect("valid"));
static REGISTRY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(REGISTRY_ID_PATTERN).expect("valid"));
static ROLE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]+$").expect("valid")
});
static KMS_KEY_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(KMS_KEY_PATTERN).expect("valid"));
static EXCLUSION_FILTER_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(EXCLUSION_FILTER_PATTERN).expect("valid"));

/// Why a value breaks a constraint, worded like ECR's ValidationException
/// ("Member must …") so the same text serves the sandbox and skyql's own checks.
pub type Violation = String;

/// Checks a repository prefix (`ecrRepositoryPrefix` or `upstreamRepositoryPrefix`).
pub fn check_prefix(value: &str) -> Result<(), Violation> {
    check_len(value, PREFIX_LEN)?;
    if !PREFIX_RE.is_match(value) {
        return Err(format!(
            "Member must satisfy regular expression pattern: {PREFIX_PATTERN}"
        ));
    }
    Ok(())
}

/// Checks a `credentialArn`.
pub fn check_credential_arn(value: &str) -> Result<(), Violation> {
    check_len(value, CREDENTIAL_ARN_LEN)?;
    if !CREDENTIAL_RE.is_match(value) {
        return Err(format!(
            "Member must satisfy regular expression pattern: {CREDENTIAL_ARN_PATTERN}"
        ));
    }
    Ok(())
}

/// Checks a `registryId` (an AWS account id).
pub fn check_registry_id(value: &str) -> Result<(), Violation> {
    if !REGISTRY_RE.is_match(value) {
        return Err(format!(
            "Member must satisfy regular expression pattern: {REGISTRY_ID_PATTERN}"
        ));
    }
    Ok(())
}

/// Checks the length of a `customRoleArn`.
pub fn check_custom_role_arn(value: &str) -> Result<(), Violation> {
    if value.chars().count() > CUSTOM_ROLE_ARN_MAX {
        return Err(format!(
            "Member must have length less than or equal to {CUSTOM_ROLE_ARN_MAX}"
        ));
    }
    Ok(())
}

/// Checks a template's `prefix`: `ROOT` or a repository-name prefix of 1 to 256 characters.
pub fn check_template_prefix(value: &str) -> Result<(), Violation> {
    check_pattern(
        value,
        TEMPLATE_PREFIX_LEN,
        &PREFIX_RE,
        TEMPLATE_PREFIX_PATTERN,
    )
}

/// Checks a template's `description`.
pub fn check_template_description(value: &str) -> Result<(), Violation> {
    check_max(value, TEMPLATE_DESCRIPTION_MAX)
}

/// Checks the length of a template's `repositoryPolicy`.
pub fn check_repository_policy(value: &str) -> Result<(), Violation> {
    check_max(value, REPOSITORY_POLICY_MAX)
}

/// Checks the length of a template's `lifecyclePolicy`.
pub fn check_lifecycle_policy(value: &str) -> Result<(), Violation> {
    check_max(value, LIFECYCLE_POLICY_MAX)
}

/// Checks an `encryptionConfiguration.kmsKey`.
pub fn check_kms_key(value: &str) -> Result<(), Violation> {
    check_pattern(value, (0, KMS_KEY_MAX), &KMS_KEY_RE, KMS_KEY_PATTERN)
}

/// Checks an exclusion filter's `filter`.
pub fn check_exclusion_filter(value: &str) -> Result<(), Violation> {
    check_pattern(
        value,
        EXCLUSION_FILTER_LEN,
        &EXCLUSION_FILTER_RE,
        EXCLUSION_FILTER_PATTERN,
    )
}

/// Checks that `value` is one of an enum's `values`.
pub fn check_enum(value: &str, values: &[&str]) -> Result<(), Violation> {
    if values.contains(&value) {
        Ok(())
    } else {
        Err(enum_violation(values))
    }
}

/// The violation of an enum member, worded like ECR's.
pub fn enum_violation(values: &[&str]) -> Violation {
    format!(
        "Member must satisfy enum value set: [{}]",
        values.join(", ")
    )
}

/// Checks a resource tag's key and value lengths (the documented limits).
pub fn check_tag(key: &str, value: &str) -> Result<(), String> {
    let n = key.chars().count();
    if n < TAG_KEY_LEN.0 || n > TAG_KEY_LEN.1 {
        return Err(format!(
            "tag key '{key}' must be {} to {} characters long",
            TAG_KEY_LEN.0, TAG_KEY_LEN.1
        ));
    }
    if value.chars().count() > TAG_VALUE_MAX {
        return Err(format!(
            "the value of tag '{key}' must be at most {TAG_VALUE_MAX} characters long"
        ));
    }
    Ok(())
}

/// Checks that a policy text (a template's repository or lifecycle policy) is a JSON object.
pub fn check_policy_json(text: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err("the policy is not a JSON object".into()),
        Err(e) => Err(format!("the policy is not valid JSON: {e}")),
    }
}

/// The account of an IAM role ARN, or `None` when the value is not a role ARN.
pub fn role_arn_account(value: &str) -> Option<&str> {
    ROLE_RE
        .captures(value)
        .and_then(|c| c.get(2))
        .map(|m| m.as_str())
}

/// The region and account of a Secrets Manager ARN (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:…`).
pub fn secret_arn_scope(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.splitn(7, ':');
    let (_arn, _partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    if service != "secretsmanager" {
        return None;
    }
    Some((parts.next()?, parts.next()?))
}

/// The one spelling skyql uses for a repository prefix: without its trailing `/`, since ECR
/// treats the prefix as ending in one (`team/` and `team` are one rule).
pub fn canonical_prefix(prefix: &str) -> &str {
    match prefix.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => prefix,
    }
}

/// Whether two repository prefixes name the same rule: ECR treats a prefix as ending in `/`.
pub fn same_prefix(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Checks the length bounds, then the pattern, reporting the first violation as ECR does.
fn check_pattern(
    value: &str,
    len: (usize, usize),
    re: &Regex,
    pattern: &str,
) -> Result<(), Violation> {
    check_len(value, len)?;
    if re.is_match(value) {
        Ok(())
    } else {
        Err(format!(
            "Member must satisfy regular expression pattern: {pattern}"
        ))
    }
}

fn check_max(value: &str, max: usize) -> Result<(), Violation> {
    check_len(value, (0, max))
}

fn check_len(value: &str, (min, max): (usize, usize)) -> Result<(), Violation> {
    let n = value.chars().count();
    if n < min {
        return Err(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if n > max {
        return Err(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::checks::Pattern;

    /// The rules' and statements' schema checks (which refuse a pinned identifier that can
    /// never match, and any value before a write) are the constants the sandbox checks.
    #[test]
    fn the_identifier_checks_are_these_constants() {
        let schemas = crate::schema::schemas();
        let column = |table: &str, c: &str| {
            let r = schemas.resource("ecr", table).unwrap();
            r.column(c).unwrap().check.clone().unwrap()
        };
        // A check's pattern and lengths, for comparison with the constants.
        let facts = |c: &str| {
            let check = column("pull_through_cache_rules", c);
            let pattern = check.pattern.as_ref().map(|p| p.as_str().to_string());
            (pattern, check.min_length, check.max_length)
        };
        let pattern = |p: &str| Some(p.to_string());
        assert_eq!(
            facts("ecr_repository_prefix"),
            (
                pattern(PREFIX_PATTERN),
                Some(PREFIX_LEN.0),
                Some(PREFIX_LEN.1)
            )
        );
        let upstream = facts("upstream_repository_prefix");
        assert_eq!(
            (upstream.0, upstream.2),
            (pattern(PREFIX_PATTERN), Some(PREFIX_LEN.1))
        );
        assert_eq!(
            facts("credential_arn"),
            (
                pattern(CREDENTIAL_ARN_PATTERN),
                Some(CREDENTIAL_ARN_LEN.0),
                Some(CREDENTIAL_ARN_LEN.1)
            )
        );
        let role = column("pull_through_cache_rules", "custom_role_arn");
        assert_eq!(role.max_length, Some(CUSTOM_ROLE_ARN_MAX));
        for arn in [
            "arn:aws:iam::123456789012:role/ecr-ptc",
            "arn:aws:iam::123456789012:role/path/to/r",
            "arn:aws:iam::123456789012:user/bob",
            "arn:aws:iam::123:role/x",
        ] {
            assert_eq!(
                role.problem(&arn.into()).is_none(),
                role_arn_account(arn).is_some(),
                "{arn}"
            );
        }
        let sid = column("registry_policy_statements", "sid");
        for value in ["ReadOnly1", "", "has space", "dash-ed", "Ünï"] {
            assert_eq!(
                sid.problem(&value.into()).is_none(),
                crate::iam::policy::check_sid(value).is_ok(),
                "{value:?}"
            );
        }
    }

    /// The templates' schema checks what the sandbox checks: the same model constants.
    #[test]
    fn the_template_schema_checks_are_these_constants() {
        let t = crate::schema::schemas()
            .resource("ecr", "repository_creation_templates")
            .unwrap();
        let check = |c: &str| t.column(c).unwrap().check.clone().unwrap();
        let prefix = check("prefix");
        assert_eq!(
            prefix.pattern.as_ref().map(Pattern::as_str),
            Some(TEMPLATE_PREFIX_PATTERN)
        );
        assert_eq!((prefix.min_length, prefix.max_length), (Some(1), Some(256)));
        let encryption = check("encryption_configuration");
        assert_eq!(
            encryption.members["encryptionType"].values,
            ENCRYPTION_TYPES
        );
        assert_eq!(
            encryption.members["kmsKey"]
                .pattern
                .as_ref()
                .map(Pattern::as_str),
            Some(KMS_KEY_PATTERN)
        );
        assert_eq!(check("image_tag_mutability").values, IMAGE_TAG_MUTABILITIES);
        assert_eq!(check("applied_for").items.unwrap().values, APPLIED_FOR);
        let filters = check("image_tag_mutability_exclusion_filters");
        let filter = &filters.items.as_ref().unwrap().members["filter"];
        assert_eq!(
            filter.pattern.as_ref().map(Pattern::as_str),
            Some(EXCLUSION_FILTER_PATTERN)
        );
        assert_eq!(filters.max_length, Some(EXCLUSION_FILTERS_LEN.1));
        let tag = &check("resource_tags").items.unwrap().members["Key"];
        assert_eq!(tag.max_length, Some(TAG_KEY_LEN.1));
        assert_eq!(
            check("description").max_length,
            Some(TEMPLATE_DESCRIPTION_MAX)
        );
        assert_eq!(
            check("lifecycle_policy").max_length,
            Some(LIFECYCLE_POLICY_MAX)
        );
        assert_eq!(
            check("repository_policy").max_length,
            Some(REPOSITORY_POLICY_MAX)
        );
        assert_eq!(
            check("custom_role_arn").max_length,
            Some(CUSTOM_ROLE_ARN_MAX)
        );
    }

    #[test]
    fn prefixes() {
        for ok in [
            "ROOT",
            "ecr-public",
            "docker-hub",
            "team/quay",
            "a.b_c__d",
            "ab/",
            "k8s",
            // Only the upper-case `ROOT` is the wildcard; `root` is an ordinary prefix.
            "root",
        ] {
            assert!(check_prefix(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "Upper",
            "-lead",
            "trail-",
            "a//b",
            "x".repeat(31).as_str(),
            "a b",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credential_arns() {
        let ok = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf";
        assert!(check_credential_arn(ok).is_ok());
        assert!(
            check_credential_arn(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/x-AbCdEfAbCdEf"
            )
            .is_err()
        );
        assert!(
            check_credential_arn("short")
                .unwrap_err()
                .contains("greater than or equal to 50")
        );
        assert_eq!(secret_arn_scope(ok), Some(("us-east-1", "123456789012")));
    }

    #[test]
    fn registry_ids_and_roles() {
        assert!(check_registry_id("123456789012").is_ok());
        assert!(check_registry_id("12345").is_err());
        assert_eq!(
            role_arn_account("arn:aws:iam::123456789012:role/ecr-ptc"),
            Some("123456789012")
        );
        assert_eq!(role_arn_account("arn:aws:iam::123456789012:user/bob"), None);
        assert!(same_prefix("team/", "team"));
        assert!(!same_prefix("team", "teams"));
    }

    #[test]
    fn template_prefixes() {
        let long = "a".repeat(256);
        // Unlike a rule's prefix, one character is enough; a trailing `/` is allowed, as ECR
        // treats the prefix as ending in one anyway.
        for ok in [
            "ROOT",
            "a",
            "prod",
            "prod/team",
            "prod/",
            "a--b",
            "a__b",
            long.as_str(),
        ] {
            assert!(check_template_prefix(ok).is_ok(), "{ok}");
        }
        let too_long = "a".repeat(257);
        for bad in ["", "Root", "-a", "/a", "a//b", "a b", too_long.as_str()] {
            assert!(check_template_prefix(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_template_prefix("").unwrap_err(),
            "Member must have length greater than or equal to 1"
        );
        assert!(
            check_template_prefix("UP")
                .unwrap_err()
                .starts_with("Member must satisfy regular expression pattern: ")
        );
    }

    #[test]
    fn template_members() {
        assert!(check_template_description(&"d".repeat(256)).is_ok());
        assert_eq!(
            check_template_description(&"d".repeat(257)).unwrap_err(),
            "Member must have length less than or equal to 256"
        );
        assert!(check_repository_policy(&"p".repeat(REPOSITORY_POLICY_MAX + 1)).is_err());
        assert!(check_lifecycle_policy(&"p".repeat(LIFECYCLE_POLICY_MAX)).is_ok());
        assert!(check_lifecycle_policy(&"p".repeat(LIFECYCLE_POLICY_MAX + 1)).is_err());
        assert!(check_kms_key("").is_ok());
        assert!(
            check_kms_key(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            )
            .is_ok()
        );
        assert!(check_kms_key("alias/ecr").is_err());
        assert!(check_exclusion_filter("release-*").is_ok());
        assert!(check_exclusion_filter("no/slash").is_err());
        assert!(check_exclusion_filter("").is_err());
        assert!(check_enum("KMS_DSSE", &ENCRYPTION_TYPES).is_ok());
        assert_eq!(
            check_enum("kms", &ENCRYPTION_TYPES).unwrap_err(),
            "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]"
        );
        for v in IMAGE_TAG_MUTABILITIES.iter().chain(&APPLIED_FOR) {
            assert!(v.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{v}");
        }
        assert!(
            EXCLUSION_MUTABILITIES
                .iter()
                .all(|m| IMAGE_TAG_MUTABILITIES.contains(m))
        );
        assert!(
            KMS_ENCRYPTION_TYPES
                .iter()
                .all(|t| ENCRYPTION_TYPES.contains(t))
        );
        assert!(ENCRYPTION_TYPES.contains(&DEFAULT_ENCRYPTION_TYPE));
        assert!(IMAGE_TAG_MUTABILITIES.contains(&DEFAULT_IMAGE_TAG_MUTABILITY));
    }

    #[test]
    fn tags_and_policies() {
        assert!(check_tag("team", "platform").is_ok());
        assert!(check_tag(&"k".repeat(128), &"v".repeat(256)).is_ok());
        assert!(check_tag("", "v").unwrap_err().contains("1 to 128"));
        assert!(check_tag(&"k".repeat(129), "v").is_err());
        assert!(check_tag("k", &"v".repeat(257)).is_err());
        assert!(check_policy_json(r#"{"rules":[]}"#).is_ok());
        assert!(
            check_policy_json("{")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            check_policy_json("[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
    }
}
