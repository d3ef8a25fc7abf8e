//! An ECR-compatible endpoint on 127.0.0.1 speaking the real wire protocol (demo and tests).
//!
//! [`Sandbox::start`] runs it on its own thread and runtime, so both synchronous tests and
//! async code can use it, and its injected latency never competes with the client's runtime.

pub mod accounts;
pub mod auth;
pub mod config;
pub mod images;
pub mod log;
pub mod operations;
pub mod organizations;
pub mod paging;
pub mod registry;
pub mod registry_policy;
pub mod registry_settings;
pub mod repositories;
pub mod repository_policies;
pub mod rules;
pub mod server;
pub mod state_file;
pub mod sts;
pub mod tags;
pub mod templates;
pub mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::serve::ListenerExt;
use std::time::{SystemTime, UNIX_EPOCH};

pub use auth::KeyPair;
pub use config::{SandboxConfig, Seed};
pub use log::{LoggedRequest, RequestLog};
pub use registry::Secret;

use serde_json::Value;

use crate::error::{Error, Result};
use registry::Registry;
use server::Shared;

/// The region the sandbox's printed environment selects.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A running sandbox; dropping it stops the endpoint.
pub struct Sandbox {
    addr: SocketAddr,
    keys: KeyPair,
    log: RequestLog,
    connections: Arc<AtomicUsize>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The state file, held from its load to the last write (dropped after the endpoint stops).
    _state_lock: Option<state_file::StateLock>,
}

impl Sandbox {
    /// Seeds the registry, binds 127.0.0.1 and serves on a background thread.
    pub fn start(config: SandboxConfig) -> Result<Self> {
        // A state file carries the registry from run to run: loaded when it exists, else
        // seeded and written. It is this run's alone until the sandbox stops.
        let state_lock = config
            .state_file
            .as_deref()
            .map(state_file::lock)
            .transpose()?;
        let registries = match &config.state_file {
            Some(path) if path.exists() => state_file::load(path, &config)?,
            Some(path) => {
                let registries = seeded_registries(&config)?;
                state_file::save(&registries, path)?;
                registries
            }
            None => seeded_registries(&config)?,
        };
        let log = match &config.request_log {
            Some(path) => RequestLog::with_file(path).map_err(|e| {
                Error::io(
                    format!("cannot write the request log {}", path.display()),
                    e,
                )
            })?,
            None => RequestLog::default(),
        };
        let keys = config.keys.clone();
        let port = config.port;
        let shared = Arc::new(Shared {
            keys: accounts::KeyBook::new(&config),
            config,
            registries: Mutex::new(registries),
            log: log.clone(),
            lost: Default::default(),
            throttled: Default::default(),
        });
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared);

        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::clone(&connections);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("skyql-sandbox".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(listener.local_addr());
                    let listener = listener.tap_io(move |_| {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    });
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = shutdown_rx.await;
                        })
                        .await;
                });
            })
            .map_err(|e| Error::io("cannot start the sandbox thread", e))?;
        let addr = ready_rx
            .recv()
            .map_err(|_| Error::Usage("the sandbox thread stopped before binding".into()))?
            .map_err(|e| Error::io(format!("cannot listen on 127.0.0.1:{port}"), e))?;
        Ok(Self {
            addr,
            keys,
            log,
            connections,
            shutdown: Some(shutdown_tx),
            _state_lock: state_lock,
        })
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key pair requests must be signed with.
    pub fn keys(&self) -> &KeyPair {
        &self.keys
    }

    /// How many TCP connections clients have opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.log
    }

    /// The environment that points the AWS CLI and SDKs at this sandbox.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", self.keys.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.keys.secret_access_key.clone()),
            ("AWS_REGION", DEFAULT_REGION.to_string()),
            // The AWS CLI v1 (botocore) reads only AWS_DEFAULT_REGION.
            ("AWS_DEFAULT_REGION", DEFAULT_REGION.to_string()),
        ]
    }

    /// The environment as shell `export` lines.
    pub fn exports(&self) -> String {
        self.env()
            .iter()
            .map(|(k, v)| format!("export {k}={v}\n"))
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The registry of every account of the organization, each seeded by [`seeded_registry`].
fn seeded_registries(config: &SandboxConfig) -> Result<BTreeMap<String, Registry>> {
    let accounts = config.account_ids().into_iter();
    accounts
        .map(|id| Ok((id.clone(), seeded_registry(config, &id)?)))
        .collect()
}

/// Creates the seed through the operations that create each kind of item
/// (CreatePullThroughCacheRule, …), so a seed is held to every constraint a real call is, except
/// the quotas per region and the configured secret faults (see `Registry::create_rule` for why);
/// then adds the items seeded as they are kept. A member account's seed names it wherever the
/// configured account's names that.
fn seeded_registry(config: &SandboxConfig, account: &str) -> Result<Registry> {
    let mut registry = Registry::new(account, config.secrets.clone());
    let member = |text: String| text.replace(&config.account_id, account);
    let rename = |value: &Value| -> Value {
        let text = member(serde_json::to_string(value).unwrap_or_default());
        serde_json::from_str(&text).unwrap_or_default()
    };
    let now = config.seed_time.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as f64)
            .unwrap_or_default()
    });
    registry.seeding = true;
    for (what, name, seed) in config.created_seeds() {
        let create = operations::operation(name).expect("a seed names a registered operation");
        for (region, bodies) in &seed {
            for (i, body) in bodies.iter().enumerate() {
                (create.handle)(&mut registry, region, rename(body), now).map_err(|e| {
                    Error::Usage(format!(
                        "seed {what} {region}[{i}] was refused: {}: {}",
                        e.code, e.message
                    ))
                })?;
            }
        }
    }
    registry.seeding = false;
    // Seeded items name the default account; a sandbox of another account holds them as its own.
    let own = |tables: &BTreeMap<String, BTreeMap<String, Value>>| -> BTreeMap<String, BTreeMap<String, Value>> {
        let text = serde_json::to_string(tables).unwrap_or_default();
        let text = member(text.replace(config::DEFAULT_ACCOUNT_ID, &config.account_id));
        serde_json::from_str(&text).unwrap_or_default()
    };
    for (region, tables) in &config.stores {
        for (table, items) in own(tables) {
            registry.region(region).store(&table).extend(items);
        }
    }
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_seed_may_exceed_the_quota_but_not_the_constraints() {
        let mut config = SandboxConfig::default();
        let rules: Vec<_> = (0..60)
            .map(|i| json!({"ecrRepositoryPrefix": format!("p{i:02}"), "upstreamRegistryUrl": "quay.io"}))
            .collect();
        config.seed.insert("us-east-1".into(), rules);
        let mut registry = seeded_registry(&config, &config.account_id).unwrap();
        assert_eq!(registry.region("us-east-1").store(rules::TABLE).len(), 60);

        config
            .seed
            .get_mut("us-east-1")
            .unwrap()
            .push(json!({"ecrRepositoryPrefix": "p00", "upstreamRegistryUrl": "quay.io"}));
        let err = seeded_registry(&config, &config.account_id)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(
                "seed rule us-east-1[60] was refused: PullThroughCacheRuleAlreadyExistsException"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_refused_seed_template_is_named() {
        let mut config = SandboxConfig::default();
        config.templates.insert(
            "eu-west-1".into(),
            vec![
                json!({"prefix": "ROOT", "appliedFor": ["REPLICATION"]}),
                json!({"prefix": "ROOT", "appliedFor": []}),
            ],
        );
        let err = seeded_registry(&config, &config.account_id)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("seed template eu-west-1[1] was refused: InvalidParameterException"),
            "{err}"
        );
    }

    #[test]
    fn the_demo_seeds_its_templates() {
        let mut registry =
            seeded_registry(&SandboxConfig::demo(), config::DEFAULT_ACCOUNT_ID).unwrap();
        let us = registry.region("us-east-1");
        assert!(us.store(templates::TABLE).contains_key("ROOT"));
        let eu = registry.region("eu-west-1");
        let templates = eu.store(templates::TABLE).clone();
        let (prefix, _) = templates.iter().next().expect("a template in eu-west-1");
        assert!(
            eu.store(rules::TABLE).contains_key(prefix),
            "the eu-west-1 template is for a demo rule's prefix: {prefix}"
        );
    }
}
