//! Pull-through cache rules: read and written as provider-schemas describe them; what is their
//! own is the rules ECR applies between a rule's columns, and the operations they call.

use serde_json::Value;

use super::constraints::ROOT_PREFIX;
use super::upstream::UpstreamRegistry;
use crate::engine::item_rules::ItemRules;
use crate::engine::records::Row;

/// What ECR requires across a rule's columns: the upstream registry its URL names, the
/// credential that registry needs or refuses, a custom role only for an ECR upstream, and an
/// upstream prefix only on a rule that is not ROOT.
#[derive(Debug)]
pub struct RuleItems;

impl ItemRules for RuleItems {
    fn problems(&self, item: &Row) -> Vec<(String, String)> {
        let text = |c: &str| item.get(c).and_then(Value::as_str);
        let mut out: Vec<(String, String)> = Vec::new();
        let mut bad = |column: &str, why: String| out.push((column.to_string(), why));
        let upstream_prefix = text("upstream_repository_prefix");
        if text("ecr_repository_prefix") == Some(ROOT_PREFIX)
            && upstream_prefix.is_some_and(|p| p != ROOT_PREFIX)
        {
            bad(
                "upstream_repository_prefix",
                "can only be set when ecr_repository_prefix is not ROOT".into(),
            );
        }
        let named = match text("upstream_registry") {
            Some(name) => match UpstreamRegistry::parse(name) {
                Some(u) => Some(u),
                None => {
                    let names = UpstreamRegistry::names();
                    bad(
                        "upstream_registry",
                        format!("'{name}' is not an upstream registry; expected one of {names}"),
                    );
                    return out;
                }
            },
            None => None,
        };
        // No URL is the required-column problem the writer reports itself.
        let Some(url) = text("upstream_registry_url") else {
            return out;
        };
        let Some(upstream) = UpstreamRegistry::from_url(url) else {
            let examples: Vec<&str> = UpstreamRegistry::ALL.map(|u| u.example_url()).to_vec();
            bad(
                "upstream_registry_url",
                format!(
                    "'{url}' is not an upstream ECR can cache; supported: {}",
                    examples.join(", ")
                ),
            );
            return out;
        };
        if let Some(named) = named.filter(|n| *n != upstream) {
            bad(
                "upstream_registry",
                format!(
                    "'{named}' does not match upstream_registry_url '{url}' (that is {upstream})"
                ),
            );
        }
        let credential = text("credential_arn").is_some();
        if upstream.requires_credential() && !credential {
            bad(
                "credential_arn",
                format!(
                    "is required for the upstream registry {upstream} (a Secrets Manager secret named ecr-pullthroughcache/…)"
                ),
            );
        }
        if !upstream.accepts_credential() && credential {
            bad(
                "credential_arn",
                format!("must be NULL: the upstream registry {upstream} takes no credential"),
            );
        }
        if !upstream.accepts_custom_role() && text("custom_role_arn").is_some() {
            bad(
                "custom_role_arn",
                format!("must be NULL: a custom role is only for ecr upstreams, not {upstream}"),
            );
        }
        out
    }
}

inventory::submit! {
    crate::engine::module::ResourceModule {
        name: "pull_through_cache_rules",
        reader: None,
        writer: Some(|resource| crate::engine::record_writer::RecordWriter::arc(resource, Some(&RuleItems))),
    }
}

crate::ecr_operations!(
    DescribePullThroughCacheRules => describe_pull_through_cache_rules,
    ValidatePullThroughCacheRule => validate_pull_through_cache_rule,
    CreatePullThroughCacheRule => create_pull_through_cache_rule,
    UpdatePullThroughCacheRule => update_pull_through_cache_rule,
    DeletePullThroughCacheRule => delete_pull_through_cache_rule,
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DH_SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Ab12";
    const ROLE: &str = "arn:aws:iam::123456789012:role/ecr-ptc";

    fn problems(item: serde_json::Value) -> Vec<String> {
        let item = item.as_object().cloned().unwrap_or_default();
        let found = RuleItems.problems(&item);
        found
            .into_iter()
            .map(|(c, why)| format!("{c}: {why}"))
            .collect()
    }

    #[test]
    fn a_good_rule_has_no_problem() {
        let dh = json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "registry-1.docker.io", "credential_arn": DH_SECRET});
        assert_eq!(problems(dh), Vec::<String>::new());
        let ecr = json!({"ecr_repository_prefix": "e", "upstream_registry_url": "111122223333.dkr.ecr.us-east-1.amazonaws.com", "custom_role_arn": ROLE, "upstream_repository_prefix": "team"});
        assert_eq!(problems(ecr), Vec::<String>::new());
    }

    #[test]
    fn each_rule_across_columns_names_its_column() {
        let cases = [
            (
                json!({"upstream_registry_url": "registry-1.docker.io"}),
                "credential_arn: is required for the upstream registry docker-hub",
            ),
            (
                json!({"upstream_registry_url": "quay.io", "credential_arn": DH_SECRET}),
                "credential_arn: must be NULL: the upstream registry quay takes no credential",
            ),
            (
                json!({"upstream_registry_url": "docker.io"}),
                "upstream_registry_url: 'docker.io' is not an upstream ECR can cache",
            ),
            (
                json!({"upstream_registry_url": "quay.io", "upstream_registry": "ecr-public"}),
                "upstream_registry: 'ecr-public' does not match upstream_registry_url 'quay.io' (that is quay)",
            ),
            (
                json!({"upstream_registry_url": "quay.io", "upstream_registry": "dockerhub"}),
                "upstream_registry: 'dockerhub' is not an upstream registry; expected one of ecr, ",
            ),
            (
                json!({"ecr_repository_prefix": "ROOT", "upstream_registry_url": "quay.io", "upstream_repository_prefix": "team"}),
                "upstream_repository_prefix: can only be set when ecr_repository_prefix is not ROOT",
            ),
            (
                json!({"upstream_registry_url": "quay.io", "custom_role_arn": ROLE}),
                "custom_role_arn: must be NULL: a custom role is only for ecr upstreams, not quay",
            ),
        ];
        for (item, want) in cases {
            let got = problems(item);
            assert!(
                got.iter().any(|p| p.starts_with(want)),
                "want {want:?}, got {got:?}"
            );
        }
    }
}
