//! The mutating API calls a DML statement makes, typed, with their wire parameters for display.

use serde_json::{Map, Value, json};

/// One mutating call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// CreatePullThroughCacheRule.
    Create {
        /// ecrRepositoryPrefix
        prefix: String,
        /// upstreamRegistryUrl
        upstream_registry_url: String,
        /// upstreamRegistry
        upstream_registry: Option<String>,
        /// upstreamRepositoryPrefix
        upstream_repository_prefix: Option<String>,
        /// credentialArn
        credential_arn: Option<String>,
        /// customRoleArn
        custom_role_arn: Option<String>,
    },
    /// UpdatePullThroughCacheRule (absent members are left as they are).
    Update {
        /// ecrRepositoryPrefix
        prefix: String,
        /// credentialArn
        credential_arn: Option<String>,
        /// customRoleArn
        custom_role_arn: Option<String>,
    },
    /// DeletePullThroughCacheRule.
    Delete {
        /// ecrRepositoryPrefix
        prefix: String,
    },
    /// PutRegistryPolicy (replaces the region's whole registry policy).
    PutRegistryPolicy {
        /// policyText
        policy_text: String,
    },
    /// DeleteRegistryPolicy.
    DeleteRegistryPolicy,
}

/// A call in a region, tied to the statement row (INSERT) it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// The region called.
    pub region: String,
    /// What is done.
    pub mutation: Mutation,
    /// The 1-based source row (INSERT and MERGE), for error messages.
    pub row: Option<usize>,
}

impl Mutation {
    /// The ECR operation name.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Create { .. } => "CreatePullThroughCacheRule",
            Self::Update { .. } => "UpdatePullThroughCacheRule",
            Self::Delete { .. } => "DeletePullThroughCacheRule",
            Self::PutRegistryPolicy { .. } => "PutRegistryPolicy",
            Self::DeleteRegistryPolicy => "DeleteRegistryPolicy",
        }
    }

    /// The rule's identifier (none for registry policy calls).
    pub fn prefix(&self) -> Option<&str> {
        match self {
            Self::Create { prefix, .. } | Self::Update { prefix, .. } | Self::Delete { prefix } => {
                Some(prefix)
            }
            Self::PutRegistryPolicy { .. } | Self::DeleteRegistryPolicy => None,
        }
    }

    /// The request body as sent on the wire.
    pub fn params(&self) -> Value {
        let mut m = Map::new();
        if let Some(prefix) = self.prefix() {
            m.insert("ecrRepositoryPrefix".into(), json!(prefix));
        }
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        };
        match self {
            Self::Create {
                upstream_registry_url,
                upstream_registry,
                upstream_repository_prefix,
                credential_arn,
                custom_role_arn,
                ..
            } => {
                put("upstreamRegistryUrl", &Some(upstream_registry_url.clone()));
                put("upstreamRegistry", upstream_registry);
                put("upstreamRepositoryPrefix", upstream_repository_prefix);
                put("credentialArn", credential_arn);
                put("customRoleArn", custom_role_arn);
            }
            Self::Update {
                credential_arn,
                custom_role_arn,
                ..
            } => {
                put("credentialArn", credential_arn);
                put("customRoleArn", custom_role_arn);
            }
            Self::PutRegistryPolicy { policy_text } => {
                put("policyText", &Some(policy_text.clone()));
            }
            Self::Delete { .. } | Self::DeleteRegistryPolicy => {}
        }
        Value::Object(m)
    }
}

impl std::fmt::Display for ApiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.mutation.operation(),
            self.region,
            self.mutation.params()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_operation_region_and_wire_parameters() {
        let call = ApiCall {
            region: "eu-west-1".into(),
            mutation: Mutation::Update {
                prefix: "dh".into(),
                credential_arn: Some("arn:x".into()),
                custom_role_arn: None,
            },
            row: None,
        };
        assert_eq!(
            call.to_string(),
            r#"UpdatePullThroughCacheRule eu-west-1 {"credentialArn":"arn:x","ecrRepositoryPrefix":"dh"}"#
        );
    }
}
