//! Sending pull-through cache rule calls (Create, Update, Delete) over aws-sdk-ecr, and a
//! retry classifier that makes the rule quota final: the SDK would otherwise retry
//! LimitExceededException as throttling.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::create_pull_through_cache_rule::CreatePullThroughCacheRuleError;
use aws_sdk_ecr::types::{PullThroughCacheRule, UpstreamRegistry};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

use super::clients::EcrClients;
use super::mutate::{Sender, not_sent};
use super::request::ScanRequest;
use crate::dml::ApiCall;
use crate::error::Result;

/// Forbids retrying CreatePullThroughCacheRule's LimitExceededException: it is the 50-rule
/// quota, which does not lift by waiting.
#[derive(Debug)]
pub struct QuotaIsFinal;

impl ClassifyRetry for QuotaIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let quota = matches!(ctx.output_or_error(), Some(Err(err))
            if OrchestratorError::as_operation_error(err)
                .and_then(|e| e.downcast_ref::<CreatePullThroughCacheRuleError>())
                .and_then(|e| e.code())
                == Some("LimitExceededException"));
        if quota {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "skyql: the pull-through cache rule quota is final"
    }
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

    async fn already_applied(
        &self,
        clients: &EcrClients,
        call: &ApiCall,
        code: &str,
        not_found: Option<&str>,
    ) -> Result<bool> {
        let m = &call.mutation;
        match (m.operation.as_str(), code) {
            ("CreatePullThroughCacheRule", "PullThroughCacheRuleAlreadyExistsException") => {
                let request = ScanRequest {
                    identifiers: Some(BTreeSet::from_iter(m.owned(PREFIX))),
                    ..ScanRequest::default()
                };
                let found = clients
                    .describe_rules(&call.region, &request, not_found)
                    .await?;
                Ok(found.iter().any(|r| is_as_asked(r, call)))
            }
            _ => Ok(false),
        }
    }
}

/// Whether an existing rule is exactly the one a Create asked for (members it left out are
/// ECR's to infer).
fn is_as_asked(rule: &PullThroughCacheRule, call: &ApiCall) -> bool {
    let m = &call.mutation;
    let given = |member: &str, have: Option<&str>| m.text(member).is_none_or(|w| have == Some(w));
    rule.upstream_registry_url() == m.text("upstreamRegistryUrl")
        && given(
            "upstreamRegistry",
            rule.upstream_registry().map(|u| u.as_str()),
        )
        && given(
            "upstreamRepositoryPrefix",
            rule.upstream_repository_prefix(),
        )
        && rule.credential_arn() == m.text("credentialArn")
        && rule.custom_role_arn() == m.text("customRoleArn")
}
