//! The IAM permissions a statement needs (pure): from what planning knows of each resource it
//! touches (verb, regions, columns and their literal values) and the permissions its methods
//! declare in provider-schemas, to `EXPLAIN PERMISSIONS` rows and one least-privilege policy.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::policy::POLICY_VERSION;
use crate::schema::{Resource, Verb};

/// The region of a scope whose rows decide the regions only when run (INSERT … SELECT, MERGE):
/// its actions cannot be narrowed by region.
pub const ANY_REGION: &str = "*";

/// What one statement does to one resource, as far as planning knows without calling AWS.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The resource.
    pub resource: &'static Resource,
    /// What is done to it.
    pub verb: Verb,
    /// The regions called ([`ANY_REGION`] when not known before running).
    pub regions: BTreeSet<String>,
    /// The columns the statement uses (sets, selects or filters), with the literal values it
    /// gives them when known (`None`: not known before running, e.g. INSERT … SELECT).
    pub columns: BTreeMap<String, Option<BTreeSet<String>>>,
}

/// One permission a statement needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    /// The IAM action.
    pub action: String,
    /// The resource ARN (`*` when the action has no resource-level permission).
    pub resource: String,
    /// Why: the statement, the method's reason and the regions.
    pub reason: String,
    /// The regions the action is called in.
    pub regions: BTreeSet<String>,
}

/// The permissions of one scope, from its method's declarations.
pub fn needs(scope: &Scope) -> Vec<Need> {
    let Some(method) = scope.resource.method(scope.verb) else {
        return Vec::new();
    };
    let table = scope.resource.qualified_name("aws");
    let regions = scope.regions.iter().cloned().collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    for p in &method.permissions {
        if !p.when.is_empty() && !p.when.iter().any(|c| scope.columns.contains_key(c)) {
            continue;
        }
        let condition = if p.when.is_empty() {
            String::new()
        } else {
            format!(" (as the statement uses {})", p.when.join(" or "))
        };
        let in_regions = if scope.regions.contains(ANY_REGION) {
            // Its rows are read from AWS: no policy can narrow what they will name.
            " in every region (its rows name the regions only when it runs)".to_string()
        } else if regions.is_empty() {
            String::new()
        } else {
            format!(" in {regions}")
        };
        for resource in expand(&p.resource, &scope.columns) {
            out.push(Need {
                action: p.action.clone(),
                resource,
                reason: format!(
                    "{} {table}{in_regions}: {}{condition}",
                    scope.verb.as_str(),
                    p.reason
                ),
                regions: scope.regions.clone(),
            });
        }
    }
    out
}

/// Fills `{column}` placeholders with the values the statement gives the column; a value not
/// known before running leaves the whole resource `*`.
fn expand(template: &str, columns: &BTreeMap<String, Option<BTreeSet<String>>>) -> Vec<String> {
    let Some(start) = template.find('{') else {
        return vec![template.to_string()];
    };
    let Some(len) = template[start..].find('}') else {
        return vec![template.to_string()];
    };
    let name = &template[start + 1..start + len];
    match columns.get(name) {
        Some(Some(values)) if !values.is_empty() => values
            .iter()
            .flat_map(|v| {
                let filled = format!("{}{v}{}", &template[..start], &template[start + len + 1..]);
                expand(&filled, columns)
            })
            .collect(),
        _ => vec!["*".to_string()],
    }
}

/// An IAM policy document, its members in the order IAM's own examples use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IamPolicy {
    /// Always 2012-10-17.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statements.
    #[serde(rename = "Statement")]
    pub statements: Vec<IamStatement>,
}

/// One Allow statement of an [`IamPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IamStatement {
    /// Always Allow.
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// Sorted, unique.
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    /// One ARN (or `*`) as a string, several as a list.
    #[serde(rename = "Resource")]
    pub resource: Value,
    /// `aws:RequestedRegion` narrowing, when the actions have no resource-level permission.
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

/// One least-privilege IAM policy for every need: Allow statements grouping the actions that
/// share resources (and regions), actions and resources sorted and unique. ECR actions without
/// resource-level permissions are narrowed to their regions with `aws:RequestedRegion`.
pub fn policy_document(all: &[Need]) -> IamPolicy {
    // action -> (resources, regions)
    let mut by_action: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for n in all {
        let entry = by_action.entry(&n.action).or_default();
        entry.0.insert(&n.resource);
        entry.1.extend(n.regions.iter().map(String::as_str));
    }
    // (resources, region condition) -> actions
    type Key<'a> = (Vec<&'a str>, Vec<&'a str>);
    let mut groups: BTreeMap<Key<'_>, BTreeSet<&str>> = BTreeMap::new();
    for (action, (resources, regions)) in by_action {
        // `*` covers every other resource of the same action.
        let resources: Vec<&str> = if resources.contains("*") {
            vec!["*"]
        } else {
            resources.into_iter().collect()
        };
        let narrowed_by_region =
            action.starts_with("ecr:") && resources == ["*"] && !regions.contains(ANY_REGION);
        let regions: Vec<&str> = if narrowed_by_region {
            regions.into_iter().collect()
        } else {
            Vec::new()
        };
        groups
            .entry((resources, regions))
            .or_default()
            .insert(action);
    }
    let mut statements: Vec<IamStatement> = groups
        .into_iter()
        .map(|((resources, regions), actions)| IamStatement {
            effect: "Allow",
            actions: actions.into_iter().map(str::to_string).collect(),
            resource: if resources.len() == 1 {
                json!(resources[0])
            } else {
                json!(resources)
            },
            condition: (!regions.is_empty())
                .then(|| json!({ "StringEquals": { "aws:RequestedRegion": regions } })),
        })
        .collect();
    statements.sort_by(|a, b| a.actions.cmp(&b.actions));
    IamPolicy {
        version: POLICY_VERSION,
        statements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    fn scope(table: &str, verb: Verb, columns: &[(&str, Option<&[&str]>)]) -> Scope {
        Scope {
            resource: schemas().resource("ecr", table).unwrap(),
            verb,
            regions: BTreeSet::from(["us-east-1".to_string()]),
            columns: columns
                .iter()
                .map(|(c, v)| {
                    (
                        c.to_string(),
                        v.map(|v| v.iter().map(|s| s.to_string()).collect()),
                    )
                })
                .collect(),
        }
    }

    fn actions(needs: &[Need]) -> Vec<&str> {
        needs.iter().map(|n| n.action.as_str()).collect()
    }

    #[test]
    fn insert_without_credential_or_role() {
        let n = needs(&scope(
            "pull_through_cache_rules",
            Verb::Insert,
            &[("ecr_repository_prefix", Some(&["q1"]))],
        ));
        assert_eq!(
            actions(&n),
            [
                "ecr:CreatePullThroughCacheRule",
                "ecr:DescribePullThroughCacheRules",
                "iam:CreateServiceLinkedRole"
            ]
        );
        assert!(n[2].resource.ends_with(
            "role/aws-service-role/pullthroughcache.ecr.amazonaws.com/AWSServiceRoleForECRPullThroughCache"
        ));
        assert!(n[0].reason.contains("in us-east-1"), "{}", n[0].reason);
    }

    #[test]
    fn credential_and_role_add_their_permissions_on_their_arns() {
        let n = needs(&scope(
            "pull_through_cache_rules",
            Verb::Insert,
            &[
                ("credential_arn", Some(&["arn:s1", "arn:s2"])),
                ("custom_role_arn", None),
            ],
        ));
        let secret: Vec<&str> = n
            .iter()
            .filter(|n| n.action == "secretsmanager:GetSecretValue")
            .map(|n| n.resource.as_str())
            .collect();
        assert_eq!(secret, ["arn:s1", "arn:s2"]);
        let role = n.iter().find(|n| n.action == "iam:PassRole").unwrap();
        assert_eq!(role.resource, "*", "values unknown before running");
    }

    #[test]
    fn validation_columns_add_validate() {
        let plain = needs(&scope("pull_through_cache_rules", Verb::Select, &[]));
        assert_eq!(actions(&plain), ["ecr:DescribePullThroughCacheRules"]);
        let with = needs(&scope(
            "pull_through_cache_rules",
            Verb::Select,
            &[("is_valid", None)],
        ));
        assert!(actions(&with).contains(&"ecr:ValidatePullThroughCacheRule"));
    }

    #[test]
    fn document_groups_sorts_and_narrows() {
        let mut all = needs(&scope(
            "pull_through_cache_rules",
            Verb::Insert,
            &[("credential_arn", Some(&["arn:s1"]))],
        ));
        let mut eu = scope("pull_through_cache_rules", Verb::Delete, &[]);
        eu.regions = BTreeSet::from(["eu-west-1".to_string()]);
        all.extend(needs(&eu));
        let doc = serde_json::to_value(policy_document(&all)).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        let statements = doc["Statement"].as_array().unwrap();
        let ecr = statements
            .iter()
            .find(|s| s["Action"][0] == "ecr:CreatePullThroughCacheRule")
            .unwrap();
        assert_eq!(ecr["Resource"], "*");
        assert_eq!(
            ecr["Condition"]["StringEquals"]["aws:RequestedRegion"],
            json!(["us-east-1"])
        );
        let describe = statements
            .iter()
            .find(|s| {
                s["Action"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("ecr:DescribePullThroughCacheRules"))
            })
            .unwrap();
        assert_eq!(
            describe["Condition"]["StringEquals"]["aws:RequestedRegion"],
            json!(["eu-west-1", "us-east-1"])
        );
        let secret = statements
            .iter()
            .find(|s| s["Action"][0] == "secretsmanager:GetSecretValue")
            .unwrap();
        assert_eq!(secret["Resource"], "arn:s1");
        assert!(secret.get("Condition").is_none());
        let mut unknown = scope("pull_through_cache_rules", Verb::Delete, &[]);
        unknown.regions = BTreeSet::from([ANY_REGION.to_string()]);
        all.extend(needs(&unknown));
        let doc = serde_json::to_value(policy_document(&all)).unwrap();
        let delete = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"][0] == "ecr:DeletePullThroughCacheRule")
            .unwrap();
        assert!(
            delete.get("Condition").is_none(),
            "regions unknown: not narrowed"
        );
        let mut every: Vec<&str> = statements
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap())
            .map(|a| a.as_str().unwrap())
            .collect();
        let n = every.len();
        every.dedup();
        assert_eq!(every.len(), n, "each action once");
    }
}
