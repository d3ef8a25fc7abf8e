//! Field constraints of the ECR pull-through cache API, as published in the service model.

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
/// Page size when `maxResults` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 100;

static PREFIX_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(PREFIX_PATTERN).expect("valid"));
static CREDENTIAL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(CREDENTIAL_ARN_PATTERN).expect("valid"));
static REGISTRY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(REGISTRY_ID_PATTERN).expect("valid"));
static ROLE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]+$").expect("valid")
});

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

/// The columns whose values ECR reads as ending in `/`: `team` and `team/` name one rule.
pub const SLASH_INSENSITIVE_COLUMNS: [&str; 1] = ["ecr_repository_prefix"];

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
}
