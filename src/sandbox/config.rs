//! What a sandbox serves: key pair, account, seed data and injected faults.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::auth::KeyPair;
use super::registry::Secret;
use crate::error::{Error, Result};

/// The access key id the sandbox accepts unless told otherwise (not a real credential).
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIASKYQLSANDBOX0001";
/// The secret key the sandbox verifies signatures with unless told otherwise (not a real credential).
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "skyql-sandbox-secret-key-not-a-real-credential";
/// The account id of the sandbox's registry unless told otherwise.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// Creation time of the demo rules (2025-06-01T12:00:00Z), fixed so demo output is stable.
pub const DEMO_TIME: f64 = 1_748_779_200.0;

/// Seed data: request bodies of one Create operation (CreatePullThroughCacheRule for
/// `seed`, CreateRepositoryCreationTemplate for `templates`) per region.
pub type Seed = BTreeMap<String, Vec<Value>>;

/// A member account of the sandbox's organization (whose management account is the sandbox's
/// own `account_id`, the one its keys belong to).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberAccount {
    /// The 12-digit account id.
    pub id: String,
    /// The account's name.
    pub name: String,
    /// Its `State` in Organizations: ACTIVE, SUSPENDED, PENDING_CLOSURE or CLOSED.
    pub state: &'static str,
}

/// The role names every account of the demo organization has: the one Organizations creates in
/// the accounts it creates, and one for read-only inventory.
pub const DEMO_ROLES: [&str; 2] = ["OrganizationAccountAccessRole", "skyql-inventory"];

/// Everything a sandbox needs to start.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The key pair requests must be signed with.
    pub keys: KeyPair,
    /// The registry's account id.
    pub account_id: String,
    /// Rules created before the first call (exempt from the 50-rule quota and from
    /// `secrets`, so pagination and invalid rules can be set up; see `Registry::create_rule`).
    pub seed: Seed,
    /// Repository creation templates created before the first call (exempt from the
    /// per-region quota like `seed`; see `Registry::create_template`).
    pub templates: Seed,
    /// Creation time of seeded rules and templates (epoch seconds); `None` means the start time.
    pub seed_time: Option<f64>,
    /// Added to every call before it is answered.
    pub latency: Duration,
    /// Fraction of calls answered with ThrottlingException.
    pub throttle_rate: f64,
    /// Fraction of calls answered with ServerException (HTTP 500).
    pub server_error_rate: f64,
    /// Regions whose every call is answered with AccessDeniedException.
    pub fail_regions: Vec<String>,
    /// (region, operation) pairs answered with AccessDeniedException: a caller whose IAM
    /// policy allows some actions in a region but not this one.
    pub fail_operations: Vec<(String, String)>,
    /// Operations whose responses are lost: every other call of each (the 1st, 3rd, …) is
    /// carried out and then answered with ServerException (HTTP 500), as when a response is
    /// lost after the change committed; the client's retry then meets the changed state.
    pub lose_responses: Vec<String>,
    /// Operations whose first call is answered with ThrottlingException before anything is
    /// done, so the client's retry meets the state as it was (for tests: a throttled attempt
    /// proves that nothing changed).
    pub throttle_first: Vec<String>,
    /// Secrets that misbehave when ECR reads them.
    pub secrets: HashMap<String, Secret>,
    /// Registry policies set before the first call, by region (checked like PutRegistryPolicy).
    pub policies: BTreeMap<String, String>,
    /// Items of the generic stores set before the first call: region → table → key → item.
    pub stores: BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>>,
    /// Where to append the request log as JSON lines.
    pub request_log: Option<PathBuf>,
    /// The other accounts of the organization; each has a registry of its own, seeded like the
    /// first one's (with its own account id), reached with credentials from AssumeRole.
    pub members: Vec<MemberAccount>,
    /// Role names that exist in every account; AssumeRole of any other is refused.
    pub roles: Vec<String>,
    /// Accounts whose roles refuse AssumeRole (AccessDenied), as when a role's trust policy
    /// does not name the caller.
    pub fail_assume_role: Vec<String>,
    /// The external id every role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// How long AssumeRole's credentials last when the call does not say.
    pub session_duration: Duration,
    /// Answers the first page of ListAccounts empty, with a token for the next, as
    /// Organizations may: a client must keep paging while a token comes back.
    pub empty_first_page: bool,
    /// Where the registry is kept between runs (loaded when it exists, written after each
    /// change).
    pub state_file: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            port: 0,
            keys: KeyPair {
                access_key_id: DEFAULT_ACCESS_KEY_ID.into(),
                secret_access_key: DEFAULT_SECRET_ACCESS_KEY.into(),
            },
            account_id: DEFAULT_ACCOUNT_ID.into(),
            seed: Seed::new(),
            templates: Seed::new(),
            seed_time: None,
            latency: Duration::ZERO,
            throttle_rate: 0.0,
            server_error_rate: 0.0,
            fail_regions: Vec::new(),
            fail_operations: Vec::new(),
            lose_responses: Vec::new(),
            throttle_first: Vec::new(),
            state_file: None,
            secrets: HashMap::new(),
            policies: BTreeMap::new(),
            stores: BTreeMap::new(),
            request_log: None,
            members: Vec::new(),
            roles: DEMO_ROLES.map(String::from).to_vec(),
            fail_assume_role: Vec::new(),
            external_id: None,
            session_duration: Duration::from_secs(3600),
            empty_first_page: false,
        }
    }
}

impl SandboxConfig {
    /// A configuration seeded with the built-in demo data.
    pub fn demo() -> Self {
        let mut config = Self::default();
        config.add_seed(demo_seed());
        config.templates = demo_templates();
        config.seed_time = Some(DEMO_TIME);
        // The pull-through cache registry policy of the ECR user guide (seed 004), in us-east-1.
        config.policies.insert(
            "us-east-1".into(),
            include_str!("demo-policy.json").to_string(),
        );
        // Every other table's demo items, one file per table, as its store keeps them.
        let tables = [
            ("repositories", include_str!("demo-repositories.json")),
            ("images", include_str!("demo-images.json")),
            ("registry", include_str!("demo-registry.json")),
        ];
        for (table, text) in tables {
            let items: BTreeMap<String, BTreeMap<String, Value>> =
                serde_json::from_str(text).expect("the built-in demo items are valid");
            for (region, items) in items {
                let store = config.stores.entry(region).or_default();
                store.insert(table.to_string(), items);
            }
        }
        config
    }

    /// The seeds created through an operation: what each holds (for messages), the operation
    /// that creates one item, and the request bodies by region.
    pub fn created_seeds(&self) -> [(&'static str, &'static str, Seed); 3] {
        let policies = (self.policies.iter())
            .map(|(region, text)| {
                (
                    region.clone(),
                    vec![serde_json::json!({"policyText": text})],
                )
            })
            .collect();
        [
            ("rule", "CreatePullThroughCacheRule", self.seed.clone()),
            (
                "template",
                "CreateRepositoryCreationTemplate",
                self.templates.clone(),
            ),
            ("registry policy", "PutRegistryPolicy", policies),
        ]
    }

    /// Adds `count` member accounts to the organization: `100000000001`, … named `member-01`,
    /// …, every tenth of them SUSPENDED (ListAccounts answers it; a client leaves it out).
    pub fn with_members(mut self, count: usize) -> Self {
        self.members = (1..=count)
            .map(|i| MemberAccount {
                id: format!("{:012}", 100_000_000_000u64 + i as u64),
                name: format!("member-{i:02}"),
                state: if i % 10 == 0 { "SUSPENDED" } else { "ACTIVE" },
            })
            .collect();
        self
    }

    /// Every account id of the organization: the management account first.
    pub fn account_ids(&self) -> Vec<String> {
        let members = self.members.iter().map(|m| m.id.clone());
        std::iter::once(self.account_id.clone())
            .chain(members)
            .collect()
    }

    /// Adds rules to the seed (after any already there).
    pub fn add_seed(&mut self, seed: Seed) {
        for (region, rules) in seed {
            self.seed.entry(region).or_default().extend(rules);
        }
    }
}

/// Parses a seed document: `{"<region>": [<CreatePullThroughCacheRule request body>, …]}`.
pub fn parse_seed(text: &str, origin: &str) -> Result<Seed> {
    parse_bodies(text, origin, "CreatePullThroughCacheRule")
}

/// Parses `{"<region>": [<`operation` request body>, …]}`.
fn parse_bodies(text: &str, origin: &str, operation: &str) -> Result<Seed> {
    let seed: Seed = serde_json::from_str(text).map_err(|e| {
        Error::Usage(format!(
            "invalid seed {origin}: {e}\n  expected {{\"<region>\": [<{operation} request body>, …]}}"
        ))
    })?;
    for (region, bodies) in &seed {
        if let Some(i) = bodies.iter().position(|r| !r.is_object()) {
            return Err(Error::Usage(format!(
                "invalid seed {origin}: {region}[{i}] is not a JSON object (a {operation} request body)"
            )));
        }
    }
    Ok(seed)
}

/// The built-in demo rules: realistic rules in us-east-1, eu-west-1 and ap-southeast-2.
pub fn demo_seed() -> Seed {
    parse_seed(include_str!("demo.json"), "demo.json").expect("the built-in demo seed is valid")
}

/// The built-in demo templates: a ROOT template for pull-through cache in us-east-1, and one
/// for the `docker-hub` rule's repositories in eu-west-1 (regions the demo rules already use,
/// so the demo's default region set stays the same).
pub fn demo_templates() -> Seed {
    parse_bodies(
        include_str!("demo-templates.json"),
        "demo-templates.json",
        "CreateRepositoryCreationTemplate",
    )
    .expect("the built-in demo templates are valid")
}

/// Parses a secret fault given as `ARN=not-found|access-denied|undecryptable`.
pub fn parse_secret_fault(spec: &str) -> Result<(String, Secret)> {
    let (arn, kind) = spec.rsplit_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "invalid secret fault '{spec}': expected ARN=not-found|access-denied|undecryptable"
        ))
    })?;
    let kind = match kind {
        "not-found" => Secret::NotFound,
        "access-denied" => Secret::AccessDenied,
        "undecryptable" => Secret::Undecryptable,
        other => {
            return Err(Error::Usage(format!(
                "invalid secret fault kind '{other}': expected not-found, access-denied or undecryptable"
            )));
        }
    };
    Ok((arn.to_string(), kind))
}
