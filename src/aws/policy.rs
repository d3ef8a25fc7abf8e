//! Reading a region's registry policy (GetRegistryPolicy); a region without one answers None.

use aws_sdk_ecr::error::ProvideErrorMetadata;

use super::clients::{EcrClients, api_error};
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
    /// (RegistryPolicyNotFoundException is an answer here, not a failure).
    pub async fn get_registry_policy(&self, region: &str) -> Result<Option<RegistryPolicy>> {
        match self.client(region).get_registry_policy().send().await {
            Ok(out) => Ok(out.policy_text.map(|policy_text| RegistryPolicy {
                registry_id: out.registry_id,
                policy_text,
            })),
            Err(e) if e.code() == Some("RegistryPolicyNotFoundException") => Ok(None),
            Err(e) => Err(api_error(region, GET, e)),
        }
    }
}
