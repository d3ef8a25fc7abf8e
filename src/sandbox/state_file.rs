//! Keeps the sandbox's registry in a JSON file between runs (`--sandbox-state FILE`), so a
//! configuration-as-data walkthrough — dry run, apply, re-run converges — can be tried against
//! the in-process sandbox one command at a time.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::config::SandboxConfig;
use super::registry::{Registry, Secret};
use super::{registry_settings, rules, templates};
use crate::error::{Error, Result};
use crate::resources::ecr::constraints::check_registry_id;

/// One account in the file: region → table → key → item, every store as its registry keeps it.
type AccountFile = BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>>;

/// A state file held by this process: no other run can load or write it until this is
/// dropped. Parallel runs on one file (CI jobs) then take turns, each seeing what the one before
/// it wrote, instead of each loading the same state and the last writer winning.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Takes the lock of the state file `path`, waiting (with a word on stderr) while another run
/// holds it. The lock is a file beside it (`FILE.lock`), since [`save`] replaces the state file
/// itself and a lock on a replaced file guards nothing.
pub fn lock(path: &Path) -> Result<StateLock> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
    let failed = |e| Error::io(format!("cannot lock {}", lock_path.display()), e);
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            eprintln!(
                "skyql: the sandbox state {} is in use by another run; waiting for it to end…",
                path.display()
            );
            file.lock().map_err(failed)?;
        }
        Err(TryLockError::Error(e)) => return Err(failed(e)),
    }
    Ok(StateLock { _file: file })
}

/// Writes the registry to `path` (beside it first, then renamed over it: a reader never sees
/// half a file).
pub fn save(registries: &BTreeMap<String, Registry>, path: &Path) -> Result<()> {
    let accounts: BTreeMap<&String, AccountFile> = (registries.iter())
        .map(|(account, registry)| {
            let regions = registry.regions();
            (
                account,
                regions.map(|(r, s)| (r.clone(), s.items.clone())).collect(),
            )
        })
        .collect();
    let text = serde_json::to_string_pretty(&accounts)
        .map_err(|e| Error::Runtime(format!("cannot encode the sandbox state: {e}")))?;
    let fail = |e| {
        Error::io(
            format!("cannot write the sandbox state {}", path.display()),
            e,
        )
    };
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text + "\n").map_err(fail)?;
    std::fs::rename(&temp, path).map_err(fail)
}

/// Reads the registries saved by [`save`]. A file of one account's regions, as a skyql before
/// accounts wrote it (rules, templates and the registry policy apart from the other stores, or
/// not), is the configured account's.
pub fn load(path: &Path, config: &SandboxConfig) -> Result<BTreeMap<String, Registry>> {
    let bad = |why: String| Error::Usage(format!("sandbox state {}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::io(
            format!("cannot read the sandbox state {}", path.display()),
            e,
        )
    })?;
    let file: BTreeMap<String, Value> =
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let by_account = file.keys().all(|k| check_registry_id(k).is_ok());
    let accounts = match by_account {
        true => file,
        false => BTreeMap::from([(config.account_id.clone(), Value::from_iter(file))]),
    };
    let mut registries = BTreeMap::new();
    for (account, regions) in accounts {
        let regions = serde_json::from_value(regions).map_err(|e| bad(e.to_string()))?;
        let registry = load_account(&account, regions, config.secrets.clone()).map_err(bad)?;
        registries.insert(account, registry);
    }
    // An account of the organization the file does not hold starts empty.
    for account in config.account_ids() {
        let empty = || Registry::new(account.clone(), config.secrets.clone());
        registries.entry(account.clone()).or_insert_with(empty);
    }
    Ok(registries)
}

fn load_account(
    account_id: &str,
    regions: BTreeMap<String, BTreeMap<String, Value>>,
    secrets: HashMap<String, Secret>,
) -> std::result::Result<Registry, String> {
    let mut registry = Registry::new(account_id, secrets);
    for (region, tables) in regions {
        let state = registry.region(&region);
        for (table, items) in tables {
            match (table.as_str(), items) {
                (_, Value::Object(items)) if table != "items" => {
                    state.store(&table).extend(items);
                }
                ("items", Value::Object(stores)) => {
                    let stores: BTreeMap<String, BTreeMap<String, Value>> =
                        serde_json::from_value(Value::Object(stores)).map_err(|e| e.to_string())?;
                    state.items.extend(stores);
                }
                ("rules", Value::Array(list)) => {
                    for rule in list {
                        let prefix = rule["ecrRepositoryPrefix"].as_str().unwrap_or_default();
                        state
                            .store(rules::TABLE)
                            .insert(rules::key(prefix), rule.clone());
                    }
                }
                ("templates", Value::Array(list)) => {
                    for template in list {
                        let prefix = template["prefix"].as_str().unwrap_or_default();
                        let store = state.store(templates::TABLE);
                        store.insert(rules::key(prefix), template.clone());
                    }
                }
                ("policy", Value::String(text)) => {
                    let settings = state.store(registry_settings::TABLE);
                    settings.insert("policy".into(), Value::String(text));
                }
                ("policy", Value::Null) => {}
                (_, other) => return Err(format!("{region} {table} is not a store: {other}")),
            }
        }
    }
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxConfig;

    #[test]
    fn a_saved_registry_loads_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let config = SandboxConfig::demo().with_members(2);
        let registries = super::super::seeded_registries(&config).unwrap();
        save(&registries, &path).unwrap();
        let loaded = load(&path, &config).unwrap();
        save(&loaded, &dir.path().join("again.json")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::fs::read_to_string(dir.path().join("again.json")).unwrap()
        );
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("docker-hub")
        );
        let mut loaded = loaded;
        let member = loaded.get_mut("100000000002").expect("a member's registry");
        let templates = member.region("eu-west-1").store(templates::TABLE);
        assert_eq!(templates.len(), 1, "the demo template survives the file");
        let rules = member.region("us-east-1").store(rules::TABLE).clone();
        let rule = rules.values().next().expect("the member's demo rules");
        assert_eq!(
            rule["registryId"], "100000000002",
            "a member's rules are its own"
        );
    }

    #[test]
    fn a_state_file_has_one_user_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let held = lock(&path).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                let second = lock(&path).unwrap();
                tx.send(()).unwrap();
                drop(second);
            }
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "a second user waits while the first holds the file"
        );
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the second user gets the file once the first lets go");
        waiter.join().unwrap();
        assert!(dir.path().join("state.json.lock").exists());
    }

    #[test]
    fn a_file_of_the_earlier_layout_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        let rule = r#"{"ecrRepositoryPrefix": "ecr-public", "upstreamRegistryUrl": "public.ecr.aws",
            "upstreamRegistry": "ecr-public", "registryId": "123456789012",
            "upstreamRepositoryPrefix": "ROOT", "createdAt": 1.0, "updatedAt": 1.0}"#;
        let old = format!(
            r#"{{"us-east-1": {{"rules": [{rule}], "policy": "{{}}", "templates": [],
                "items": {{"repositories": {{"a": {{}}}}}}}}, "eu-west-1": {{"rules": [], "policy": null}}}}"#
        );
        std::fs::write(&path, old).unwrap();
        let mut registries = load(&path, &SandboxConfig::default()).unwrap();
        let registry = registries.get_mut("123456789012").unwrap();
        let us = registry.region("us-east-1");
        assert!(us.store(rules::TABLE).contains_key("ecr-public"));
        assert_eq!(us.store(registry_settings::TABLE)["policy"], "{}");
        assert!(us.store("repositories").contains_key("a"));
        assert!(
            registry
                .region("eu-west-1")
                .items
                .values()
                .all(|s| s.is_empty())
        );
    }
}
