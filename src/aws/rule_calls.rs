//! Sending pull-through cache rule calls (Create, Update, Delete) over aws-sdk-ecr, and a
//! retry classifier that makes the rule quota final: the SDK would otherwise retry
//! LimitExceededException as throttling.

use async_trait::async_trait;
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::create_pull_through_cache_rule::CreatePullThroughCacheRuleError;
use aws_sdk_ecr::types::UpstreamRegistry;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

use super::clients::EcrClients;
use super::mutate::{Sender, not_sent};
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
}
