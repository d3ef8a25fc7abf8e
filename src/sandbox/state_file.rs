//! Keeps the sandbox's registry in a JSON file between runs (`--sandbox-state FILE`), so a
//! configuration-as-data walkthrough — dry run, apply, re-run converges — can be tried against
//! the in-process sandbox one command at a time.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::registry::{Registry, Secret};
use super::rules::{Rule, key};
use super::templates::Template;
use crate::error::{Error, Result};
use crate::resources::ecr::upstream::UpstreamRegistry;

/// One region as kept in the file: its rules (in the DescribePullThroughCacheRules shape), its
/// registry policy and its repository creation templates (in the
/// DescribeRepositoryCreationTemplates shape; absent from files written before templates).
#[derive(Debug, Default, Serialize, Deserialize)]
struct RegionFile {
    rules: Vec<Value>,
    policy: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    templates: Vec<Template>,
    /// Every generic store (repositories, images, the registry's settings), as kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    items: BTreeMap<String, BTreeMap<String, Value>>,
}

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
pub fn save(registry: &Registry, path: &Path) -> Result<()> {
    let regions: BTreeMap<&String, RegionFile> = registry
        .regions()
        .map(|(name, state)| {
            let file = RegionFile {
                rules: state.rules.values().map(Rule::to_json).collect(),
                policy: state.policy.clone(),
                templates: state.templates.values().cloned().collect(),
                items: state.items.clone(),
            };
            (name, file)
        })
        .collect();
    let text = serde_json::to_string_pretty(&regions)
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

/// Reads a registry saved by [`save`].
pub fn load(path: &Path, account_id: &str, secrets: HashMap<String, Secret>) -> Result<Registry> {
    let bad = |why: String| Error::Usage(format!("sandbox state {}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::io(
            format!("cannot read the sandbox state {}", path.display()),
            e,
        )
    })?;
    let regions: BTreeMap<String, RegionFile> =
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut registry = Registry::new(account_id, secrets);
    for (region, file) in regions {
        let state = registry.region(&region);
        state.policy = file.policy;
        state.items = file.items;
        for (i, value) in file.rules.iter().enumerate() {
            let rule =
                rule_of(value).ok_or_else(|| bad(format!("{region} rule {i} is not a rule")))?;
            state.rules.insert(key(&rule.ecr_repository_prefix), rule);
        }
        for template in file.templates {
            state.templates.insert(key(&template.prefix), template);
        }
    }
    Ok(registry)
}

fn rule_of(v: &Value) -> Option<Rule> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(Rule {
        ecr_repository_prefix: text("ecrRepositoryPrefix")?,
        upstream_registry_url: text("upstreamRegistryUrl")?,
        upstream_registry: UpstreamRegistry::parse(&text("upstreamRegistry")?)?,
        registry_id: text("registryId")?,
        credential_arn: text("credentialArn"),
        custom_role_arn: text("customRoleArn"),
        upstream_repository_prefix: text("upstreamRepositoryPrefix")?,
        created_at: v.get("createdAt")?.as_f64()?,
        updated_at: v.get("updatedAt")?.as_f64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxConfig;

    #[test]
    fn a_saved_registry_loads_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let config = SandboxConfig::demo();
        let registry = super::super::seeded_registry(&config).unwrap();
        save(&registry, &path).unwrap();
        let loaded = load(&path, &config.account_id, HashMap::new()).unwrap();
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
        let templates = &loaded.region("eu-west-1").templates;
        assert_eq!(templates.len(), 1, "the demo template survives the file");
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
    fn a_file_without_templates_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        std::fs::write(&path, r#"{"us-east-1": {"rules": [], "policy": null}}"#).unwrap();
        let mut registry = load(&path, "123456789012", HashMap::new()).unwrap();
        assert!(registry.region("us-east-1").templates.is_empty());
    }
}
