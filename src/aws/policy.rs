//! A region's registry policy over aws-sdk-ecr: GetRegistryPolicy (a region without one
//! answers None), and its Put and Delete.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::attempts::in_own_record;
use super::clients::{EcrClients, api_error, is_not_found};
use super::convert::into_record;
use super::document::DocumentStore;
use super::mutate::{Sender, not_sent};
use crate::dml::ApiCall;
use crate::error::Result;

/// Reads and writes the registry policy of a region.
#[derive(Debug)]
pub struct PolicyCalls;

#[async_trait]
impl DocumentStore for PolicyCalls {
    async fn read(
        &self,
        clients: &EcrClients,
        region: &str,
        not_found: Option<&str>,
    ) -> Result<Option<Map<String, Value>>> {
        in_own_record(async move {
            match clients.client(region).get_registry_policy().send().await {
                Ok(out) => Ok(out.policy_text.as_ref().map(|text| {
                    into_record(json!({"registryId": out.registry_id, "policyText": text}))
                })),
                Err(e) if is_not_found(&e, not_found) => Ok(None),
                Err(e) => Err(api_error(region, "GetRegistryPolicy", e)),
            }
        })
        .await
    }
}

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
