//! The mutating calls (rule Create, Update, Delete; registry policy Put, Delete) over aws-sdk-ecr, and a retry classifier that
//! makes the rule quota final: the SDK would otherwise retry LimitExceededException as throttling.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::create_pull_through_cache_rule::CreatePullThroughCacheRuleError;
use aws_sdk_ecr::types::UpstreamRegistry;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

use std::collections::BTreeSet;

use super::clients::{EcrClients, api_error};
use super::request::ScanRequest;
use crate::dml::{ApiCall, Mutation};
use crate::error::{Error, Result};

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

/// How a mutating call ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The call was answered with success.
    Done,
    /// The first attempt's response was lost (a server error after the change committed); the
    /// retry was refused because the change was already there, and skyql checked that it is.
    AfterLostResponse,
}

impl EcrClients {
    /// Makes one mutating call. A retried Create refused as AlreadyExists whose rule is exactly
    /// the one asked for, and a retried Delete refused as NotFound, succeeded: their first
    /// attempt committed and only its response was lost.
    ///
    /// Mutating calls are made one at a time, so the requests counted during this call are
    /// its own attempts.
    pub async fn apply(&self, call: &ApiCall) -> Result<Applied> {
        let before = self.requests_sent();
        let Err(e) = self.send_mutation(call).await else {
            return Ok(Applied::Done);
        };
        let retried = self.requests_sent() - before > 1;
        if retried && self.already_applied(call, &e).await? {
            return Ok(Applied::AfterLostResponse);
        }
        Err(e)
    }

    /// Whether the error of a retried call only says that the call's change is already there.
    async fn already_applied(&self, call: &ApiCall, e: &Error) -> Result<bool> {
        let Error::Api { code, .. } = e else {
            return Ok(false);
        };
        match (&call.mutation, code.as_str()) {
            (Mutation::Delete { .. }, "PullThroughCacheRuleNotFoundException")
            | (Mutation::DeleteRegistryPolicy, "RegistryPolicyNotFoundException") => Ok(true),
            (
                Mutation::Create {
                    prefix,
                    upstream_registry_url,
                    upstream_registry,
                    upstream_repository_prefix,
                    credential_arn,
                    custom_role_arn,
                },
                "PullThroughCacheRuleAlreadyExistsException",
            ) => {
                let request = ScanRequest {
                    identifiers: Some(BTreeSet::from([prefix.clone()])),
                    ..ScanRequest::default()
                };
                let found = self.describe_rules(&call.region, &request).await?;
                Ok(found.iter().any(|r| {
                    r.upstream_registry_url() == Some(upstream_registry_url.as_str())
                        && upstream_registry.as_ref().is_none_or(|u| {
                            r.upstream_registry().map(|x| x.as_str()) == Some(u.as_str())
                        })
                        && upstream_repository_prefix
                            .as_ref()
                            .is_none_or(|u| r.upstream_repository_prefix() == Some(u.as_str()))
                        && r.credential_arn() == credential_arn.as_deref()
                        && r.custom_role_arn() == custom_role_arn.as_deref()
                }))
            }
            _ => Ok(false),
        }
    }

    async fn send_mutation(&self, call: &ApiCall) -> Result<()> {
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
