//! Pull-through cache rules over aws-sdk-ecr: reading a region's rules
//! (DescribePullThroughCacheRules, page by page, or by prefix) and validating them
//! (ValidatePullThroughCacheRule) as API members, and sending Create, Update and Delete.

use async_trait::async_trait;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::primitives::DateTime;
use aws_sdk_ecr::types::{PullThroughCacheRule, UpstreamRegistry};
use serde_json::{Map, Value, json};

use super::attempts::in_own_record;
use super::clients::{EcrClients, api_error, is_not_found};
use super::convert::{Member, into_record, micros};
use super::mutate::{Sender, not_sent};
use super::request::ScanRequest;
use crate::dml::ApiCall;
use crate::error::{Error, Result};
use crate::resources::ecr::constraints::{canonical_prefix, same_prefix};

const DESCRIBE: &str = "DescribePullThroughCacheRules";
const VALIDATE: &str = "ValidatePullThroughCacheRule";

impl EcrClients {
    /// The rules of one region that `request` asks for, paginating to the end (or to the limit).
    ///
    /// With identifiers, each chunk of up to 100 is one call. ECR fails the whole call when any
    /// requested prefix does not exist; a single missing identifier simply has no row, and for
    /// several, one listing (a single page: the quota is 50 rules) answers for all of them.
    pub async fn describe_rules(
        &self,
        region: &str,
        request: &ScanRequest,
        not_found: Option<&str>,
    ) -> Result<Vec<PullThroughCacheRule>> {
        in_own_record(async move {
            let client = self.client(region);
            let Some(chunks) = request.identifier_chunks() else {
                return list_all(&client, region, request.page_size, request.limit).await;
            };
            let mut rules = Vec::new();
            for chunk in chunks {
                let single = chunk.len() == 1;
                let result = client
                    .describe_pull_through_cache_rules()
                    .set_ecr_repository_prefixes(Some(chunk))
                    .send()
                    .await;
                match result {
                    Ok(page) => rules.extend(page.pull_through_cache_rules.unwrap_or_default()),
                    Err(e) if is_not_found(&e, not_found) && single => {}
                    Err(e) if is_not_found(&e, not_found) => {
                        let all = list_all(&client, region, None, None).await?;
                        let wanted = request
                            .identifiers
                            .as_ref()
                            .expect("chunks come from identifiers");
                        return Ok(all
                            .into_iter()
                            .filter(|r| {
                                let p = r.ecr_repository_prefix().unwrap_or_default();
                                wanted.iter().any(|w| same_prefix(w, p))
                            })
                            .collect());
                    }
                    Err(e) => return Err(api_error(region, DESCRIBE, e)),
                }
            }
            Ok(rules)
        })
        .await
    }

    /// ValidatePullThroughCacheRule for the rule `prefix` of `region`, as the members the lazy
    /// columns take; `None` when there is no such rule (it may have been deleted since it was
    /// listed).
    pub async fn validate_rule(
        &self,
        region: &str,
        prefix: &str,
        not_found: Option<&str>,
    ) -> Result<Option<Map<String, Value>>> {
        in_own_record(async move {
            let result = self
                .client(region)
                .validate_pull_through_cache_rule()
                .ecr_repository_prefix(prefix)
                .send()
                .await;
            match result {
                Ok(v) => Ok(Some(into_record(
                    json!({"isValid": v.is_valid(), "failure": v.failure()}),
                ))),
                Err(e) if is_not_found(&e, not_found) => Ok(None),
                Err(e) => Err(api_error(region, VALIDATE, e)),
            }
        })
        .await
    }
}

/// Lists every rule of a region, page by page, stopping once `limit` rows are in hand.
async fn list_all(
    client: &Client,
    region: &str,
    page_size: Option<i32>,
    limit: Option<usize>,
) -> Result<Vec<PullThroughCacheRule>> {
    let mut rules = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .describe_pull_through_cache_rules()
            .set_max_results(page_size)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| api_error(region, DESCRIBE, e))?;
        rules.extend(page.pull_through_cache_rules.unwrap_or_default());
        token = page.next_token;
        if token.is_none() || limit.is_some_and(|n| rules.len() >= n) {
            return Ok(rules);
        }
    }
}

/// A member of a rule, by wire name (timestamps in microseconds; the prefix in its one
/// spelling, `team` never `team/`, as WHERE literals are written). A listing reads every rule
/// through here, so nothing is copied.
pub fn rule_member<'a>(r: &'a PullThroughCacheRule, member: &str) -> Result<Option<Member<'a>>> {
    let time = |t: Option<&DateTime>| t.map(|t| Member::Time(micros(t)));
    Ok(match member {
        "registryId" => r.registry_id().map(Member::Text),
        "ecrRepositoryPrefix" => r
            .ecr_repository_prefix()
            .map(|p| Member::Text(canonical_prefix(p))),
        "upstreamRegistryUrl" => r.upstream_registry_url().map(Member::Text),
        "upstreamRegistry" => r.upstream_registry().map(|u| Member::Text(u.as_str())),
        "upstreamRepositoryPrefix" => r.upstream_repository_prefix().map(Member::Text),
        "credentialArn" => r.credential_arn().map(Member::Text),
        "customRoleArn" => r.custom_role_arn().map(Member::Text),
        "createdAt" => time(r.created_at()),
        "updatedAt" => time(r.updated_at()),
        other => {
            return Err(Error::Runtime(format!(
                "provider-schemas names a PullThroughCacheRule member '{other}' the rules' reader does not map"
            )));
        }
    })
}

/// Sends the rule tables' calls.
#[derive(Debug)]
pub struct RuleCalls;

/// The rule's identifier member.
const PREFIX: &str = "ecrRepositoryPrefix";

#[async_trait]
impl Sender for RuleCalls {
    async fn send(&self, clients: &EcrClients, call: &ApiCall) -> Result<()> {
        let client = clients.client(&call.region);
        let m = &call.mutation;
        match m.operation.as_str() {
            "CreatePullThroughCacheRule" => crate::send_call!(
                call,
                client
                    .create_pull_through_cache_rule()
                    .set_ecr_repository_prefix(m.owned(PREFIX))
                    .set_upstream_registry_url(m.owned("upstreamRegistryUrl"))
                    .set_upstream_registry(m.text("upstreamRegistry").map(UpstreamRegistry::from))
                    .set_upstream_repository_prefix(m.owned("upstreamRepositoryPrefix"))
                    .set_credential_arn(m.owned("credentialArn"))
                    .set_custom_role_arn(m.owned("customRoleArn"))
            ),
            "UpdatePullThroughCacheRule" => crate::send_call!(
                call,
                client
                    .update_pull_through_cache_rule()
                    .set_ecr_repository_prefix(m.owned(PREFIX))
                    .set_credential_arn(m.owned("credentialArn"))
                    .set_custom_role_arn(m.owned("customRoleArn"))
            ),
            "DeletePullThroughCacheRule" => crate::send_call!(
                call,
                client
                    .delete_pull_through_cache_rule()
                    .set_ecr_repository_prefix(m.owned(PREFIX))
            ),
            other => Err(not_sent(other, "pull-through cache rule")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    #[test]
    fn every_listed_column_of_the_rules_is_a_member_the_reader_maps() {
        let rule = PullThroughCacheRule::builder()
            .ecr_repository_prefix("team/")
            .created_at(DateTime::from_secs_f64(1_748_779_200.25))
            .build();
        let rules = schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap();
        for c in rules.columns.iter().filter(|c| c.fetched_by.is_none()) {
            if let Some(member) = rules.member(&c.name) {
                assert!(rule_member(&rule, member).is_ok(), "{member}");
            }
        }
        assert_eq!(
            rule_member(&rule, "ecrRepositoryPrefix").unwrap(),
            Some(Member::Text("team"))
        );
        assert_eq!(
            rule_member(&rule, "createdAt").unwrap(),
            Some(Member::Time(1_748_779_200_250_000))
        );
        assert!(rule_member(&rule, "colour").is_err());
    }
}
