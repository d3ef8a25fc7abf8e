//! Rows an INSERT (or MERGE source) asks for, and their validation before any call: every row
//! is checked, and each problem names the row, the column and the rule broken.

use datafusion::arrow::record_batch::RecordBatch;

use super::calls::Mutation;
use super::state::RuleState;
use crate::ecr::constraints::{self as c, ROOT_PREFIX};
use crate::ecr::upstream::UpstreamRegistry;
use crate::error::{Error, Result};
use crate::schema::check_region;
use crate::schema::{Resource, Verb};
use serde_json::json;

/// At most this many problems are listed before "and N more".
const MAX_LISTED: usize = 20;

/// A desired rule: one row of the statement, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRule {
    /// The row number in the statement's input (1-based).
    pub row: usize,
    /// Column values by name.
    pub values: RuleState,
}

impl DesiredRule {
    /// The rows of `batches`, numbered from 1.
    pub fn from_batches(batches: &[RecordBatch]) -> Vec<DesiredRule> {
        batches
            .iter()
            .flat_map(RuleState::from_batch)
            .enumerate()
            .map(|(i, values)| DesiredRule { row: i + 1, values })
            .collect()
    }

    /// A value of the row; `''` counts as absent, as stackql writes it for an unused optional
    /// field (and a CSV export has it for an empty cell).
    fn get(&self, column: &str) -> Option<&str> {
        self.values.get(column).filter(|v| !v.is_empty())
    }

    /// The region this row goes to: its `region` column, else the session's only region.
    pub fn region(&self, default_regions: &Result<Vec<String>, String>) -> Result<String, String> {
        region_or_default(self.get("region"), self.row, default_regions)
    }

    /// Every problem of this row, checked against ECR's constraints without calling it.
    pub fn problems(
        &self,
        resource: &Resource,
        known_regions: &[String],
        region: &Result<String, String>,
    ) -> Vec<String> {
        self.problems_with(resource, known_regions, region, ReadOnly::Refused)
    }

    /// The values the row gives read-only columns that identify the rule's owner
    /// (`registry_id`), by column. The timestamps and the per-rule health columns (`is_valid`)
    /// describe the rule's history rather than its configuration: an INSERT with ON CONFLICT
    /// ignores their values (an export fed back after an update has an older `updated_at`).
    pub fn read_only_values<'a>(&'a self, resource: &'a Resource) -> Vec<(&'a str, &'a str)> {
        resource
            .columns
            .iter()
            .filter(|c| {
                c.read_only
                    && c.fetched_by.is_none()
                    && !matches!(
                        c.data_type,
                        datafusion::arrow::datatypes::DataType::Timestamp(..)
                    )
            })
            .filter_map(|c| Some((c.name.as_str(), self.get(&c.name)?)))
            .collect()
    }

    fn problems_with(
        &self,
        resource: &Resource,
        known_regions: &[String],
        region: &Result<String, String>,
        read_only: ReadOnly,
    ) -> Vec<String> {
        let mut out = self.column_problems(resource, known_regions, region, read_only);
        if let Err(e) = region {
            out.insert(0, e.clone());
        }
        out
    }

    fn column_problems(
        &self,
        resource: &Resource,
        known_regions: &[String],
        region: &Result<String, String>,
        read_only: ReadOnly,
    ) -> Vec<String> {
        let row = self.row;
        let mut out = Vec::new();
        let mut bad = |column: &str, why: String| out.push(format!("row {row}: {column}: {why}"));
        let refused = read_only == ReadOnly::Refused;
        for col in resource.columns.iter().filter(|c| c.read_only && refused) {
            if self.get(&col.name).is_some() {
                bad(
                    &col.name,
                    "is set by AWS and cannot be given (leave it out or NULL)".into(),
                );
            }
        }
        if let Ok(r) = region
            && let Err(e) = check_region(r, known_regions)
        {
            bad("region", e.to_string());
        }
        let prefix = self.get("ecr_repository_prefix");
        match prefix {
            None => bad(
                "ecr_repository_prefix",
                "is required (stackql: EcrRepositoryPrefix)".into(),
            ),
            Some(p) => {
                if let Err(why) = c::check_prefix(p) {
                    bad(
                        "ecr_repository_prefix",
                        format!("'{p}': {}", member_rule(&why)),
                    );
                }
            }
        }
        if let Some(p) = self.get("upstream_repository_prefix") {
            if let Err(why) = c::check_prefix(p) {
                bad(
                    "upstream_repository_prefix",
                    format!("'{p}': {}", member_rule(&why)),
                );
            } else if prefix == Some(ROOT_PREFIX) && p != ROOT_PREFIX {
                bad(
                    "upstream_repository_prefix",
                    "can only be set when ecr_repository_prefix is not ROOT".into(),
                );
            }
        }
        if let Some(arn) = self.get("credential_arn")
            && let Err(why) = c::check_credential_arn(arn)
        {
            bad("credential_arn", format!("'{arn}': {}", member_rule(&why)));
        }
        if let Some(arn) = self.get("custom_role_arn") {
            if let Err(why) = c::check_custom_role_arn(arn) {
                bad("custom_role_arn", member_rule(&why));
            } else if c::role_arn_account(arn).is_none() {
                bad(
                    "custom_role_arn",
                    format!("'{arn}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
                );
            }
        }
        let named = match self.get("upstream_registry") {
            Some(name) => match UpstreamRegistry::parse(name) {
                Some(u) => Some(u),
                None => {
                    bad(
                        "upstream_registry",
                        format!(
                            "'{name}' is not an upstream registry; expected one of {}",
                            UpstreamRegistry::names()
                        ),
                    );
                    return out;
                }
            },
            None => None,
        };
        let Some(url) = self.get("upstream_registry_url") else {
            bad(
                "upstream_registry_url",
                "is required (stackql: UpstreamRegistryUrl)".into(),
            );
            return out;
        };
        let Some(inferred) = UpstreamRegistry::from_url(url) else {
            let examples: Vec<String> = UpstreamRegistry::ALL
                .iter()
                .map(|u| u.example_url().to_string())
                .collect();
            bad(
                "upstream_registry_url",
                format!(
                    "'{url}' is not an upstream ECR can cache; supported: {}",
                    examples.join(", ")
                ),
            );
            return out;
        };
        if let Some(named) = named
            && named != inferred
        {
            bad(
                "upstream_registry",
                format!(
                    "'{named}' does not match upstream_registry_url '{url}' (that is {inferred})"
                ),
            );
        }
        let credential = self.get("credential_arn");
        if inferred.requires_credential() && credential.is_none() {
            bad(
                "credential_arn",
                format!(
                    "is required for the upstream registry {inferred} (a Secrets Manager secret named ecr-pullthroughcache/…)"
                ),
            );
        }
        if !inferred.accepts_credential() && credential.is_some() {
            bad(
                "credential_arn",
                format!("must be NULL: the upstream registry {inferred} takes no credential"),
            );
        }
        if !inferred.accepts_custom_role() && self.get("custom_role_arn").is_some() {
            bad(
                "custom_role_arn",
                format!("must be NULL: a custom role is only for ecr upstreams, not {inferred}"),
            );
        }
        out
    }

    /// The create call for this (validated) row: every writable column it gives, by its wire
    /// name, the prefix in its one spelling.
    pub fn create(&self, resource: &Resource) -> Mutation {
        let members = resource
            .columns
            .iter()
            .filter(|c| !c.read_only && c.fetched_by.is_none())
            .filter_map(|c| {
                let member = resource.member(&c.name)?;
                let value = self.get(&c.name).map(|v| c::canonical_value(&c.name, v));
                Some((member, value.map(|v| json!(v))))
            });
        Mutation::new(resource.operation(Verb::Insert), members)
    }
}

/// The region of row `row`: the one it gives, else the session's only region.
pub fn region_or_default(
    given: Option<&str>,
    row: usize,
    default_regions: &Result<Vec<String>, String>,
) -> Result<String, String> {
    if let Some(r) = given {
        return Ok(r.to_string());
    }
    match default_regions {
        Ok(regions) if regions.len() == 1 => Ok(regions[0].clone()),
        Ok(regions) => Err(format!(
            "row {row}: region is not set and the session has {} regions ({}): give the row a region",
            regions.len(),
            regions.join(", ")
        )),
        Err(why) => Err(format!("row {row}: region is not set, and {why}")),
    }
}

/// Fails with every problem listed (the first 20), or succeeds when there is none.
pub fn report_problems(problems: &[String]) -> Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    let more = problems.len().saturating_sub(MAX_LISTED);
    let mut text = format!(
        "{} problem(s) in the rows; nothing was sent:\n  {}",
        problems.len(),
        problems
            .iter()
            .take(MAX_LISTED)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    if more > 0 {
        text.push_str(&format!("\n  … and {more} more"));
    }
    Err(Error::Usage(text))
}

/// What an INSERT does with values in read-only columns (`registry_id`, `created_at`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnly {
    /// They are refused before any call.
    Refused,
    /// With ON CONFLICT, the existing rules are read: a value equal to the rule's current one
    /// is accepted (an export fed back), and the per-rule health columns are ignored. They are
    /// checked by [`read_only_problems`] once the rules are read.
    MatchState,
}

/// Problems of rows whose read-only values differ from the current state (`current` by
/// `(region, prefix)`), for [`ReadOnly::MatchState`]: a row for a rule that does not exist
/// may leave them empty only.
pub fn read_only_problems(
    rows: &[DesiredRule],
    regions: &[String],
    resource: &Resource,
    current: &std::collections::HashMap<(String, String), RuleState>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (row, region) in rows.iter().zip(regions) {
        let now = current.get(&super::plan::rule_key(region, row.values.prefix()));
        for (column, value) in row.read_only_values(resource) {
            match now.and_then(|r| r.get(column)) {
                Some(v) if v == value => {}
                Some(v) => problems.push(format!(
                    "row {}: {column}: '{value}' differs from the rule's current '{v}': a read-only \
                     column may repeat the current value (as an export does) or be left empty",
                    row.row
                )),
                None => problems.push(format!(
                    "row {}: {column}: is set by AWS, and rule '{}' does not exist in {region} yet: \
                     leave it empty",
                    row.row,
                    row.values.prefix()
                )),
            }
        }
    }
    problems
}

/// Validates every row; the error lists every problem (the first 20).
pub fn validate_all(
    rows: &[DesiredRule],
    resource: &Resource,
    known_regions: &[String],
    default_regions: &Result<Vec<String>, String>,
    read_only: ReadOnly,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut regions = Vec::with_capacity(rows.len());
    for row in rows {
        let region = row.region(default_regions);
        problems.extend(row.problems_with(resource, known_regions, &region, read_only));
        regions.push(region.unwrap_or_default());
    }
    report_problems(&problems)?;
    Ok(regions)
}

/// "Member must have length …" as a rule about the column.
fn member_rule(why: &str) -> String {
    why.replace("Member must", "must")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    fn resource() -> &'static Resource {
        schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap()
    }

    fn row(pairs: &[(&str, &str)]) -> DesiredRule {
        DesiredRule {
            row: 3,
            values: RuleState(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                    .collect(),
            ),
        }
    }

    fn problems(r: &DesiredRule) -> Vec<String> {
        let regions = Ok(vec!["us-east-1".to_string()]);
        r.problems(resource(), &schemas().provider.regions, &r.region(&regions))
    }

    const DH_SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Ab12";

    #[test]
    fn a_good_row_has_no_problem_and_creates() {
        let r = row(&[
            ("ecr_repository_prefix", "dh"),
            ("upstream_registry_url", "registry-1.docker.io"),
            ("credential_arn", DH_SECRET),
        ]);
        assert!(problems(&r).is_empty(), "{:?}", problems(&r));
        assert_eq!(r.create(resource()).text("ecrRepositoryPrefix"), Some("dh"));
    }

    #[test]
    fn each_rule_is_named_with_row_and_column() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("upstream_registry_url", "quay.io")],
                "row 3: ecr_repository_prefix: is required",
            ),
            (
                &[("ecr_repository_prefix", "q")],
                "row 3: upstream_registry_url: is required",
            ),
            (
                &[
                    ("ecr_repository_prefix", "Bad"),
                    ("upstream_registry_url", "quay.io"),
                ],
                "row 3: ecr_repository_prefix: 'Bad': must satisfy regular expression",
            ),
            (
                &[
                    ("ecr_repository_prefix", "dh"),
                    ("upstream_registry_url", "registry-1.docker.io"),
                ],
                "row 3: credential_arn: is required for the upstream registry docker-hub",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                    ("credential_arn", DH_SECRET),
                ],
                "row 3: credential_arn: must be NULL",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "docker.io"),
                ],
                "row 3: upstream_registry_url: 'docker.io' is not an upstream",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                    ("upstream_registry", "ecr-public"),
                ],
                "row 3: upstream_registry: 'ecr-public' does not match",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                    ("upstream_registry", "dockerhub"),
                ],
                "row 3: upstream_registry: 'dockerhub' is not an upstream registry",
            ),
            (
                &[
                    ("ecr_repository_prefix", "ROOT"),
                    ("upstream_registry_url", "quay.io"),
                    ("upstream_repository_prefix", "team"),
                ],
                "row 3: upstream_repository_prefix: can only be set when",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                    ("registry_id", "123456789012"),
                ],
                "row 3: registry_id: is set by AWS",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                    ("region", "eu-wst-1"),
                ],
                "row 3: region: unknown region 'eu-wst-1'",
            ),
            (
                &[
                    ("ecr_repository_prefix", "q1"),
                    ("upstream_registry_url", "quay.io"),
                    ("credential_arn", "arn:nope"),
                ],
                "row 3: credential_arn: 'arn:nope': must have length",
            ),
        ];
        for (pairs, want) in cases {
            let got = problems(&row(pairs));
            assert!(
                got.iter().any(|p| p.starts_with(want)),
                "want {want:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn region_defaults_only_to_a_single_session_region() {
        let r = row(&[
            ("ecr_repository_prefix", "q1"),
            ("upstream_registry_url", "quay.io"),
        ]);
        assert_eq!(
            r.region(&Ok(vec!["eu-west-1".into()])),
            Ok("eu-west-1".into())
        );
        assert!(
            r.region(&Ok(vec!["a".into(), "b".into()]))
                .unwrap_err()
                .contains("give the row a region")
        );
        let all = validate_all(
            &[r.clone(), r],
            resource(),
            &schemas().provider.regions,
            &Ok(vec!["x".into(), "y".into()]),
            ReadOnly::Refused,
        );
        let text = all.unwrap_err().to_string();
        assert!(
            text.starts_with("2 problem(s) in the rows; nothing was sent"),
            "{text}"
        );
    }
}
