//! The sandbox's state: one private registry whose every resource lives in one generic store
//! per region (table → key → item as wire JSON), so seeding and `--state` need no line per
//! resource.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire::ApiError;
use crate::resources::ecr::constraints as c;

/// How a configured Secrets Manager secret misbehaves when ECR reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The secret does not exist: `SecretNotFoundException`.
    NotFound,
    /// ECR may not read it: `UnableToAccessSecretException`.
    AccessDenied,
    /// Its KMS key denies decryption: `UnableToDecryptSecretValueException`.
    Undecryptable,
}

/// One region's registry state.
#[derive(Debug, Default)]
pub struct RegionState {
    /// Every resource's items, by table (`rules`, `repositories`) and key, as wire JSON, in key
    /// order (the listing order).
    pub items: BTreeMap<String, BTreeMap<String, Value>>,
}

impl RegionState {
    /// The items of `table`, created empty on first use.
    pub fn store(&mut self, table: &str) -> &mut BTreeMap<String, Value> {
        self.items.entry(table.to_string()).or_default()
    }

    /// The item `key` of `table` read as `T` (None when absent).
    pub fn get<T: DeserializeOwned>(&mut self, table: &str, key: &str) -> Option<T> {
        let item = self.store(table).get(key)?.clone();
        Some(serde_json::from_value(item).expect("a stored item reads back as its type"))
    }

    /// Stores `item` as `key` of `table`.
    pub fn put<T: Serialize>(&mut self, table: &str, key: &str, item: &T) {
        let value = serde_json::to_value(item).expect("a stored item serialises");
        self.store(table).insert(key.to_string(), value);
    }

    /// Every item of `table`, in key order, read as `T`.
    pub fn all<T: DeserializeOwned>(&mut self, table: &str) -> Vec<T> {
        let items = self.store(table).values().cloned();
        items
            .map(|v| serde_json::from_value(v).expect("a stored item reads back as its type"))
            .collect()
    }
}

/// The whole sandbox registry: one account, state per region.
#[derive(Debug)]
pub struct Registry {
    /// The account id (registryId) of the one registry.
    pub account_id: String,
    /// Secrets that misbehave; any other in-scope secret ARN reads fine.
    pub secrets: HashMap<String, Secret>,
    /// Set while seed items are created: a seed describes what already exists rather than a
    /// call being made, so the per-region quotas and the secret faults do not apply (see
    /// `SandboxConfig::seed`).
    pub seeding: bool,
    regions: HashMap<String, RegionState>,
}

impl Registry {
    /// An empty registry for `account_id`.
    pub fn new(account_id: impl Into<String>, secrets: HashMap<String, Secret>) -> Self {
        Self {
            account_id: account_id.into(),
            secrets,
            seeding: false,
            regions: HashMap::new(),
        }
    }

    /// Every region that has state, in no particular order.
    pub fn regions(&self) -> impl Iterator<Item = (&String, &RegionState)> {
        self.regions.iter()
    }

    /// The state of `region`, created empty on first use.
    pub fn region(&mut self, region: &str) -> &mut RegionState {
        self.regions.entry(region.to_string()).or_default()
    }

    /// Checks that `role` is an IAM role ARN in the registry's account: a custom role ECR assumes
    /// (a rule's or a template's `customRoleArn`) must be the registry owner's.
    pub fn check_role_account(&self, role: &str) -> Result<(), ApiError> {
        match c::role_arn_account(role) {
            Some(account) if account == self.account_id => Ok(()),
            Some(account) => Err(ApiError::invalid_parameter(format!(
                "Invalid parameter at 'customRoleArn': the role must be in the registry's account {}, not {account}",
                self.account_id
            ))),
            None => Err(ApiError::invalid_parameter(format!(
                "Invalid parameter at 'customRoleArn': '{role}' is not an IAM role ARN"
            ))),
        }
    }
}
