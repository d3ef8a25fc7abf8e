//! Reading a region's registry policy (GetRegistryPolicy; a region without one answers None),
//! and sending its Put and Delete.

use async_trait::async_trait;
use aws_sdk_ecr::error::ProvideErrorMetadata;

use super::clients::{EcrClients, api_error};
use super::mutate::{Sender, not_sent};
use crate::dml::ApiCall;
use crate::error::Result;

const GET: &str = "GetRegistryPolicy";

/// A region's registry policy as ECR answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryPolicy {
    /// The registry's account id.
    pub registry_id: Option<String>,
    /// The policy document.
    pub policy_text: String,
}

impl EcrClients {
    /// The registry policy of `region`; `None` when the registry has none
    /// (the resource's `not_found` code is an answer here, not a failure).
    pub async fn get_registry_policy(
        &self,
        region: &str,
        not_found: Option<&str>,
    ) -> Result<Option<RegistryPolicy>> {
        match self.client(region).get_registry_policy().send().await {
            Ok(out) => Ok(out.policy_text.map(|policy_text| RegistryPolicy {
                registry_id: out.registry_id,
                policy_text,
            })),
            Err(e) if e.code().is_some() && e.code() == not_found => Ok(None),
            Err(e) => Err(api_error(region, GET, e)),
        }
    }
}

/// Sends the registry policy tables' calls: every write is a Put of the whole document, or its
/// Delete.
#[derive(Debug)]
pub struct PolicyCalls;

#[async_trait]
impl Sender for PolicyCalls {
    async fn send(&self, clients: &EcrClients, call: &ApiCall) -> Result<()> {
        let client = clients.client(&call.region);
        match call.mutation.operation.as_str() {
            "PutRegistryPolicy" => crate::send_call!(
                call,
                client
                    .put_registry_policy()
                    .set_policy_text(call.mutation.owned("policyText"))
            ),
            "DeleteRegistryPolicy" => crate::send_call!(call, client.delete_registry_policy()),
            other => Err(not_sent(other, "registry policy")),
        }
    }
}
