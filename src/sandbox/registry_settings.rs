//! The registry's own settings in the sandbox: replication (DescribeRegistry,
//! PutReplicationConfiguration) and scanning (Get/PutRegistryScanningConfiguration), with
//! ECR's defaults and checks. Kept in the generic store under `registry`.

use serde_json::{Value, json};

use super::registry::Registry;
use super::wire::{ApiError, Violations};

/// The store of the registry's settings.
pub const TABLE: &str = "registry";

/// ECR's scanning configuration of a registry nobody configured.
fn default_scanning() -> Value {
    json!({"scanType": "BASIC", "rules": [{"scanFrequency": "SCAN_ON_PUSH",
        "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]})
}

fn setting(r: &mut Registry, region: &str, name: &str, default: Value) -> Value {
    let store = r.region(region).store(TABLE);
    store.get(name).cloned().unwrap_or(default)
}

fn check_replication(config: &Value) -> Result<(), ApiError> {
    let mut v = Violations::default();
    let rules = config.get("rules").and_then(Value::as_array);
    match rules {
        None => v.add(
            "replicationConfiguration.rules",
            None,
            "Member must not be null",
        ),
        Some(rules) if rules.len() > 10 => v.add(
            "replicationConfiguration.rules",
            None,
            "Member must have length less than or equal to 10",
        ),
        Some(rules) => {
            for (i, rule) in rules.iter().enumerate() {
                let destinations = rule.get("destinations").and_then(Value::as_array);
                if destinations.is_none_or(|d| d.len() > 25) {
                    let at = format!(
                        "replicationConfiguration.rules.{}.member.destinations",
                        i + 1
                    );
                    v.add(
                        &at,
                        None,
                        "Member must have length less than or equal to 25",
                    );
                }
                for d in destinations.into_iter().flatten() {
                    let ok = d.get("region").and_then(Value::as_str).is_some()
                        && d.get("registryId")
                            .and_then(Value::as_str)
                            .is_some_and(|id| {
                                id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
                            });
                    if !ok {
                        v.add(
                            "replicationConfiguration.rules.destinations",
                            None,
                            "Member must have a region and a 12-digit registryId",
                        );
                    }
                }
            }
        }
    }
    v.finish()
}

fn check_scanning(input: &Value) -> Result<(), ApiError> {
    let mut v = Violations::default();
    let scan_type = input.get("scanType").and_then(Value::as_str);
    if !scan_type.is_some_and(|t| ["BASIC", "ENHANCED"].contains(&t)) {
        v.add(
            "scanType",
            scan_type,
            "Member must satisfy enum value set: [BASIC, ENHANCED]",
        );
    }
    let rules = input.get("rules").and_then(Value::as_array);
    if rules.is_some_and(|r| r.len() > 2) {
        v.add(
            "rules",
            None,
            "Member must have length less than or equal to 2",
        );
    }
    for rule in rules.into_iter().flatten() {
        let frequency = rule.get("scanFrequency").and_then(Value::as_str);
        if !frequency.is_some_and(|f| ["SCAN_ON_PUSH", "CONTINUOUS_SCAN", "MANUAL"].contains(&f)) {
            v.add(
                "rules.member.scanFrequency",
                frequency,
                "Member must satisfy enum value set: [SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]",
            );
        }
    }
    v.finish()
}

crate::sandbox_operations!(
    Read DescribeRegistry => |r, region, _, _| {
        let replication = setting(r, region, "replication", json!({"rules": []}));
        Ok(json!({"registryId": r.account_id, "replicationConfiguration": replication}))
    };
    Change PutReplicationConfiguration => |r, region, input, _| {
        let config = input.get("replicationConfiguration").cloned().unwrap_or(Value::Null);
        check_replication(&config)?;
        r.region(region).store(TABLE).insert("replication".into(), config.clone());
        Ok(json!({"replicationConfiguration": config}))
    };
    Read GetRegistryScanningConfiguration => |r, region, _, _| {
        let scanning = setting(r, region, "scanning", default_scanning());
        Ok(json!({"registryId": r.account_id, "scanningConfiguration": scanning}))
    };
    Change PutRegistryScanningConfiguration => |r, region, input, _| {
        check_scanning(&input)?;
        let rules = input.get("rules").cloned().unwrap_or(json!([]));
        let config = json!({"scanType": input["scanType"], "rules": rules});
        r.region(region).store(TABLE).insert("scanning".into(), config.clone());
        Ok(json!({"registryScanningConfiguration": config}))
    };
);
