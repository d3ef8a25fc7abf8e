//! Where an ARN a column holds must be (a column's `arn_scope` in provider-schemas): in its
//! item's own region, in the registry's account. ECR refuses a rule's secret of another region
//! or account and a custom role of another account; the writer checks it before any call
//! wherever the region and the account are known.

use serde::Deserialize;

/// The column that holds the account of an item's registry (ECR's `registryId`).
pub const ACCOUNT_COLUMN: &str = "registry_id";

/// One part of an ARN that must be the item's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArnScope {
    /// The ARN's region is the item's region.
    Region,
    /// The ARN's account is the registry's account.
    Account,
}

/// The region and the account of an ARN (`arn:partition:service:region:account:resource`;
/// the region is empty for a global service such as IAM), or `None` when it is not an ARN.
pub fn arn_region_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, _service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, _resource) = (parts.next()?, parts.next()?, parts.next()?);
    (prefix == "arn").then_some((region, account))
}

/// Why `arn` is in none of `regions` (the item's region, or the regions a statement can
/// change), where `scopes` asks that of it: "is in region eu-west-1, and the rule is in
/// us-east-1: …". A value that is no ARN is its pattern's problem, not this one.
pub fn region_problem(
    scopes: &[ArnScope],
    arn: &str,
    noun: &str,
    regions: &[String],
) -> Option<String> {
    let (theirs, _) = arn_region_account(arn)?;
    if !scopes.contains(&ArnScope::Region)
        || regions.is_empty()
        || regions.iter().any(|r| r == theirs)
    {
        return None;
    }
    let where_ = match regions {
        [one] => format!("the {noun} is in {one}"),
        more => format!("the statement changes {noun}s in {} only", more.join(", ")),
    };
    Some(format!(
        "is in region {theirs}, and {where_}: ECR takes it only from the {noun}'s own region"
    ))
}

/// The account `arn` names, where `scopes` asks it to be the registry's.
pub fn account_of<'a>(scopes: &[ArnScope], arn: &'a str) -> Option<&'a str> {
    let (_, account) = arn_region_account(arn)?;
    (scopes.contains(&ArnScope::Account) && !account.is_empty()).then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/dh";
    const ROLE: &str = "arn:aws:iam::999999999999:role/r";

    #[test]
    fn an_arn_names_its_region_and_account() {
        assert_eq!(
            arn_region_account(SECRET),
            Some(("eu-west-1", "123456789012"))
        );
        assert_eq!(arn_region_account(ROLE), Some(("", "999999999999")));
        assert_eq!(arn_region_account("not:an:arn:x:y:z"), None);
        assert_eq!(arn_region_account("arn:aws:iam"), None);
    }

    #[test]
    fn only_the_scopes_asked_for_are_checked() {
        let both = [ArnScope::Region, ArnScope::Account];
        let regions = |r: &[&str]| r.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        let problem =
            |scopes: &[ArnScope], r: &[&str]| region_problem(scopes, SECRET, "rule", &regions(r));
        assert_eq!(problem(&both, &["eu-west-1"]), None);
        assert_eq!(problem(&both, &["us-east-1", "eu-west-1"]), None);
        assert_eq!(
            problem(&both, &["us-east-1"]).unwrap(),
            "is in region eu-west-1, and the rule is in us-east-1: ECR takes it only from the \
             rule's own region"
        );
        assert_eq!(
            problem(&both, &["us-east-1", "ap-southeast-2"]).unwrap(),
            "is in region eu-west-1, and the statement changes rules in us-east-1, \
             ap-southeast-2 only: ECR takes it only from the rule's own region"
        );
        assert_eq!(problem(&[ArnScope::Account], &["us-east-1"]), None);
        // No region to compare with (a statement that matches nothing): nothing to say.
        assert_eq!(problem(&both, &[]), None);
        assert_eq!(account_of(&both, SECRET), Some("123456789012"));
        assert_eq!(account_of(&[ArnScope::Region], SECRET), None);
        assert_eq!(account_of(&[ArnScope::Account], ROLE), Some("999999999999"));
        assert_eq!(account_of(&both, "arn:nope"), None);
    }
}
