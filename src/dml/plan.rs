//! Pure planners: desired rows or matched rules in, the exact API calls out (with counts).

use std::collections::HashMap;

use super::calls::{ApiCall, Mutation};
use super::desired::DesiredRule;
use super::directive::OnConflict;
use super::state::RuleState;
use crate::ecr::constraints as c;
use crate::ecr::upstream::UpstreamRegistry;
use crate::error::{Error, Result};
use crate::schema::{Resource, Verb};
use serde_json::{Value, json};

/// The calls of a statement and what they amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPlan {
    /// The mutating calls, in order.
    pub calls: Vec<ApiCall>,
    /// Rules to create.
    pub created: usize,
    /// Rules to update.
    pub updated: usize,
    /// Rules to delete.
    pub deleted: usize,
    /// Rules already as asked (no call).
    pub unchanged: usize,
}

impl CallPlan {
    /// The row count a statement reports: rules changed.
    pub fn count(&self) -> u64 {
        (self.created + self.updated + self.deleted) as u64
    }

    /// Adds the update call of one item, or counts it unchanged when there is none.
    pub fn update(&mut self, call: Option<ApiCall>) {
        match call {
            Some(call) => {
                self.calls.push(call);
                self.updated += 1;
            }
            None => self.unchanged += 1,
        }
    }

    /// Appends `other`'s calls after this plan's, adding its counts.
    pub fn extend(&mut self, other: CallPlan) {
        self.calls.extend(other.calls);
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
    }

    /// "created 2, updated 1, unchanged 3" (only the non-zero parts; "no change" when empty).
    pub fn summary(&self) -> String {
        self.describe(["created", "updated", "deleted"])
    }

    /// The same for a plan not carried out (a dry run): "create 2, update 1, unchanged 3".
    pub fn intent(&self) -> String {
        self.describe(["create", "update", "delete"])
    }

    fn describe(&self, verbs: [&str; 3]) -> String {
        let counts = [self.created, self.updated, self.deleted, self.unchanged];
        let parts: Vec<String> = verbs
            .iter()
            .chain(&["unchanged"])
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| format!("{w} {n}"))
            .collect();
        if parts.is_empty() {
            "no change".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Map key of a rule: region and prefix without its trailing `/` (ECR's identity).
pub fn rule_key(region: &str, prefix: &str) -> (String, String) {
    (region.to_string(), prefix.trim_end_matches('/').to_string())
}

/// Plans an INSERT: a Create per row, except where `on_conflict` decides for existing rules.
pub fn plan_insert(
    resource: &Resource,
    rows: &[DesiredRule],
    regions: &[String],
    existing: &HashMap<(String, String), RuleState>,
    on_conflict: Option<&OnConflict>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (row, region) in rows.iter().zip(regions) {
        let create = row.create(resource);
        let prefix = c::canonical_prefix(row.values.prefix());
        let key = rule_key(region, prefix);
        if let Some(first) = seen.insert(key.clone(), row.row) {
            return Err(Error::Usage(format!(
                "rows {first} and {} both ask for rule '{}' in {region}; nothing was sent",
                row.row, prefix
            )));
        }
        let current = existing.get(&key);
        match (current, on_conflict) {
            (Some(_), Some(OnConflict::DoNothing)) => plan.unchanged += 1,
            (Some(cur), Some(OnConflict::DoUpdate(columns))) => {
                check_same_creation(resource, row, cur, region)?;
                let wanted: Vec<(String, Option<String>)> = columns
                    .iter()
                    .map(|c| (c.clone(), row.values.get(c).map(str::to_string)))
                    .collect();
                plan.update(update_call(resource, cur, &wanted, Some(row.row))?);
            }
            _ => {
                plan.calls.push(ApiCall {
                    region: region.clone(),
                    mutation: create,
                    row: Some(row.row),
                });
                plan.created += 1;
            }
        }
    }
    Ok(plan)
}

/// Plans an UPDATE: per matched rule, a call only where a new value differs.
pub fn plan_update(
    resource: &Resource,
    matches: &[RuleState],
    new_values: &[Vec<(String, Option<String>)>],
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    for (current, wanted) in matches.iter().zip(new_values) {
        plan.update(update_call(resource, current, wanted, None)?);
    }
    Ok(plan)
}

/// Plans a DELETE of exactly the matched rules.
pub fn plan_delete(resource: &Resource, matches: &[RuleState]) -> CallPlan {
    let operation = resource.operation(Verb::Delete);
    CallPlan {
        calls: matches
            .iter()
            .map(|m| ApiCall {
                region: m.region().to_string(),
                mutation: Mutation::new(operation, [id_member(resource, m)]),
                row: None,
            })
            .collect(),
        deleted: matches.len(),
        ..CallPlan::default()
    }
}

/// The identifier of a rule as its wire member.
fn id_member<'a>(resource: &'a Resource, rule: &RuleState) -> (&'a str, Option<Value>) {
    let id = &resource.doc.identifier;
    (
        resource.member(id).unwrap_or(id),
        Some(json!(rule.prefix())),
    )
}

/// The update call that brings `current` to `wanted`, if anything differs.
fn update_call(
    resource: &Resource,
    current: &RuleState,
    wanted: &[(String, Option<String>)],
    row: Option<usize>,
) -> Result<Option<ApiCall>> {
    let operation = resource.operation(Verb::Update);
    let mut changed: Vec<(&str, Option<Value>)> = vec![id_member(resource, current)];
    for (column, value) in wanted {
        if let Some(v) = value {
            check_new_value(current, column, v)?;
        }
        match (value, current.get(column)) {
            (Some(new), old) if old != Some(new.as_str()) => {
                changed.push((resource.member(column).unwrap_or(column), Some(json!(new))));
            }
            (None, Some(_)) => {
                return Err(Error::Usage(format!(
                    "cannot set {column} of rule '{}' in {} to NULL: {operation} replaces a value \
                     but cannot remove it (delete and re-create the rule without it)",
                    current.prefix(),
                    current.region()
                )));
            }
            _ => {}
        }
    }
    if changed.len() == 1 {
        return Ok(None);
    }
    Ok(Some(ApiCall {
        region: current.region().to_string(),
        mutation: Mutation::new(operation, changed),
        row,
    }))
}

/// What ECR would refuse in a new credential or role whatever the rule: the pattern and length,
/// and for a role, being an IAM role ARN. `None` for other columns and for good values.
pub fn value_problem(column: &str, value: &str) -> Option<String> {
    match column {
        "credential_arn" => c::check_credential_arn(value)
            .err()
            .map(|w| w.replace("Member must", "must")),
        "custom_role_arn" => c::check_custom_role_arn(value)
            .err()
            .map(|w| w.replace("Member must", "must"))
            .or_else(|| {
                c::role_arn_account(value).is_none().then(|| {
                    "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)".to_string()
                })
            }),
        _ => None,
    }
}

/// Checks a new credential or role against ECR's constraints and the rule's upstream, before any call.
fn check_new_value(current: &RuleState, column: &str, value: &str) -> Result<()> {
    let upstream = current
        .get("upstream_registry")
        .and_then(UpstreamRegistry::parse);
    let why = value_problem(column, value).or_else(|| match column {
        "credential_arn" => upstream
            .filter(|u| !u.accepts_credential())
            .map(|u| format!("the upstream registry {u} takes no credential")),
        "custom_role_arn" => upstream
            .filter(|u| !u.accepts_custom_role())
            .map(|u| format!("a custom role is only for ecr upstreams, not {u}")),
        _ => None,
    });
    match why {
        Some(why) => Err(Error::Usage(format!(
            "rule '{}' in {}: {column} '{value}': {why}; nothing was sent",
            current.prefix(),
            current.region()
        ))),
        None => Ok(()),
    }
}

/// A conflicting row must describe the same upstream as the existing rule.
fn check_same_creation(
    resource: &Resource,
    row: &DesiredRule,
    current: &RuleState,
    region: &str,
) -> Result<()> {
    for c in resource.create_only_columns() {
        let column = c.name.as_str();
        let want = row.values.get(column);
        let have = current.get(column);
        // A column left out is what ECR fills: its default (an upstream prefix of ROOT), or
        // whatever it infers (the upstream registry).
        let differs = match (want, &c.default) {
            (None, Some(default)) => have.is_some_and(|h| h != default),
            (None, None) => false,
            (Some(w), _) => Some(w) != have,
        };
        if differs {
            return Err(Error::Usage(format!(
                "row {}: rule '{}' in {region} exists with {column} '{}', the row asks for '{}': only \
                 {} change in place; DELETE the rule first to re-create it",
                row.row,
                current.prefix(),
                have.unwrap_or("NULL"),
                want.unwrap_or("NULL"),
                resource.updatable_names()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> &'static Resource {
        crate::schema::schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap()
    }

    #[test]
    fn the_create_only_columns_come_from_the_schema() {
        let names: Vec<&str> = rules()
            .create_only_columns()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "upstream_registry_url",
                "upstream_registry",
                "upstream_repository_prefix"
            ]
        );
    }

    fn state(pairs: &[(&str, &str)]) -> RuleState {
        RuleState(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
        )
    }

    fn desired(row: usize, pairs: &[(&str, &str)]) -> DesiredRule {
        DesiredRule {
            row,
            values: state(pairs),
        }
    }

    const A: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/a";
    const B: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/b";

    fn existing() -> HashMap<(String, String), RuleState> {
        let dh = state(&[
            ("region", "us-east-1"),
            ("ecr_repository_prefix", "dh"),
            ("upstream_registry_url", "registry-1.docker.io"),
            ("upstream_registry", "docker-hub"),
            ("upstream_repository_prefix", "ROOT"),
            ("credential_arn", A),
        ]);
        HashMap::from([(rule_key("us-east-1", "dh"), dh)])
    }

    #[test]
    fn insert_creates_new_rules_and_respects_on_conflict() {
        let rows = [
            desired(
                1,
                &[
                    ("ecr_repository_prefix", "dh"),
                    ("upstream_registry_url", "registry-1.docker.io"),
                    ("credential_arn", B),
                ],
            ),
            desired(
                2,
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                ],
            ),
        ];
        let regions = ["us-east-1".to_string(), "us-east-1".to_string()];
        let plain = plan_insert(rules(), &rows, &regions, &HashMap::new(), None).unwrap();
        assert_eq!((plain.created, plain.calls.len()), (2, 2));
        let nothing = plan_insert(
            rules(),
            &rows,
            &regions,
            &existing(),
            Some(&OnConflict::DoNothing),
        )
        .unwrap();
        assert_eq!(
            (
                nothing.created,
                nothing.unchanged,
                nothing.summary().as_str()
            ),
            (1, 1, "created 1, unchanged 1")
        );
        let update = plan_insert(
            rules(),
            &rows,
            &regions,
            &existing(),
            Some(&OnConflict::DoUpdate(vec!["credential_arn".into()])),
        )
        .unwrap();
        assert_eq!((update.created, update.updated), (1, 1));
        assert_eq!(
            update.calls[0].mutation,
            Mutation::new(
                "UpdatePullThroughCacheRule",
                [
                    ("ecrRepositoryPrefix", Some(json!("dh"))),
                    ("credentialArn", Some(json!(B)))
                ]
            )
        );
        assert_eq!(update.count(), 2);
    }

    #[test]
    fn equal_values_make_no_call() {
        let rows = [desired(
            1,
            &[
                ("ecr_repository_prefix", "dh"),
                ("upstream_registry_url", "registry-1.docker.io"),
                ("credential_arn", A),
            ],
        )];
        let p = plan_insert(
            rules(),
            &rows,
            &["us-east-1".into()],
            &existing(),
            Some(&OnConflict::DoUpdate(vec![
                "credential_arn".into(),
                "custom_role_arn".into(),
            ])),
        )
        .unwrap();
        assert_eq!(
            (p.calls.len(), p.unchanged, p.summary().as_str()),
            (0, 1, "unchanged 1")
        );
    }

    #[test]
    fn a_different_upstream_needs_replacement() {
        let rows = [desired(
            4,
            &[
                ("ecr_repository_prefix", "dh"),
                ("upstream_registry_url", "ghcr.io"),
                ("credential_arn", A),
            ],
        )];
        let e = plan_insert(
            rules(),
            &rows,
            &["us-east-1".into()],
            &existing(),
            Some(&OnConflict::DoUpdate(vec!["credential_arn".into()])),
        )
        .unwrap_err();
        assert!(e.to_string().contains("row 4: rule 'dh' in us-east-1 exists with upstream_registry_url 'registry-1.docker.io'"), "{e}");
    }

    #[test]
    fn duplicate_rows_and_unsetting_are_refused() {
        let rows = [
            desired(1, &[("ecr_repository_prefix", "q1")]),
            desired(2, &[("ecr_repository_prefix", "q1/")]),
        ];
        let e = plan_insert(
            rules(),
            &rows,
            &["us-east-1".into(), "us-east-1".into()],
            &HashMap::new(),
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("rows 1 and 2 both ask for rule"),
            "{e}"
        );
        let cur = existing().into_values().next().unwrap();
        let e = plan_update(rules(), &[cur], &[vec![("credential_arn".into(), None)]]).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot set credential_arn of rule 'dh' in us-east-1 to NULL"),
            "{e}"
        );
    }

    #[test]
    fn delete_plans_exactly_the_matches() {
        let p = plan_delete(rules(), &existing().into_values().collect::<Vec<_>>());
        assert_eq!(p.count(), 1);
        assert_eq!(
            p.calls[0].to_string(),
            r#"DeletePullThroughCacheRule us-east-1 {"ecrRepositoryPrefix":"dh"}"#
        );
    }
}
