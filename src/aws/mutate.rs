//! The mutating calls (rule Create, Update, Delete; registry policy Put, Delete) over aws-sdk-ecr, and a retry classifier that
//! makes the rule quota final: the SDK would otherwise retry LimitExceededException as throttling.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::create_pull_through_cache_rule::CreatePullThroughCacheRuleError;
use aws_sdk_ecr::types::UpstreamRegistry;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

use super::clients::{EcrClients, api_error};
use crate::dml::{ApiCall, Mutation};
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

impl EcrClients {
    /// Makes one mutating call.
    pub async fn apply(&self, call: &ApiCall) -> Result<()> {
        let client = self.client(&call.region);
        let region = call.region.as_str();
        let op = call.mutation.operation();
        match &call.mutation {
            Mutation::Create {
                prefix,
                upstream_registry_url,
                upstream_registry,
                upstream_repository_prefix,
                credential_arn,
                custom_role_arn,
            } => client
                .create_pull_through_cache_rule()
                .ecr_repository_prefix(prefix)
                .upstream_registry_url(upstream_registry_url)
                .set_upstream_registry(upstream_registry.as_deref().map(UpstreamRegistry::from))
                .set_upstream_repository_prefix(upstream_repository_prefix.clone())
                .set_credential_arn(credential_arn.clone())
                .set_custom_role_arn(custom_role_arn.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api_error(region, op, e)),
            Mutation::Update {
                prefix,
                credential_arn,
                custom_role_arn,
            } => client
                .update_pull_through_cache_rule()
                .ecr_repository_prefix(prefix)
                .set_credential_arn(credential_arn.clone())
                .set_custom_role_arn(custom_role_arn.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api_error(region, op, e)),
            Mutation::Delete { prefix } => client
                .delete_pull_through_cache_rule()
                .ecr_repository_prefix(prefix)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api_error(region, op, e)),
            Mutation::PutRegistryPolicy { policy_text } => client
                .put_registry_policy()
                .policy_text(policy_text)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api_error(region, op, e)),
            Mutation::DeleteRegistryPolicy => client
                .delete_registry_policy()
                .send()
                .await
                .map(|_| ())
                .map_err(|e| api_error(region, op, e)),
        }
    }
}
