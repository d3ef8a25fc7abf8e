//! Organizations in the sandbox: ListAccounts of the organization (the management account and
//! its members), paged 20 at most as the service does, answered only to the management account.

use serde_json::{Value, json};

use super::config::SandboxConfig;
use super::paging;
use super::wire::{ApiError, Violations};

/// The X-Amz-Target prefix of every Organizations operation.
pub const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";
/// The organization's id.
const ORGANIZATION: &str = "o-skyqlsandbox";
/// Most accounts one page holds.
const PAGE_MAX: i64 = 20;

/// Answers the Organizations `operation` of the account `caller`.
pub fn answer(
    config: &SandboxConfig,
    caller: &str,
    operation: &str,
    input: &Value,
    now: f64,
) -> Result<Value, ApiError> {
    if operation != "ListAccounts" {
        return Err(ApiError::unknown_operation(format!(
            "Unknown operation: {TARGET_PREFIX}{operation}"
        )));
    }
    if caller != config.account_id {
        return Err(ApiError::client(
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ));
    }
    let max = input.get("MaxResults").and_then(Value::as_i64);
    if let Some(n) = max.filter(|n| !(1..=PAGE_MAX).contains(n)) {
        let mut v = Violations::default();
        let bound = format!("Member must have value between 1 and {PAGE_MAX}");
        v.add("maxResults", Some(&n.to_string()), &bound);
        v.finish()?;
    }
    let token = input.get("NextToken").and_then(Value::as_str);
    if config.empty_first_page && token.is_none() {
        return Ok(json!({ "Accounts": [], "NextToken": paging::first_token(ORGANIZATION) }));
    }
    let management = [(config.account_id.as_str(), "management", "ACTIVE")];
    let members = (config.members.iter()).map(|m| (m.id.as_str(), m.name.as_str(), m.state));
    let mut accounts: Vec<Value> = (management.into_iter().chain(members))
        .map(|(id, name, state)| account(&config.account_id, id, name, state, now))
        .collect();
    // Pages follow the key order: a token names the last id answered.
    accounts.sort_by(|a, b| a["Id"].as_str().cmp(&b["Id"].as_str()));
    let id = |a: &&Value| a["Id"].as_str().unwrap_or_default().to_string();
    let page_size = Some(max.unwrap_or(PAGE_MAX));
    let (page, next) = paging::page(&accounts, id, ORGANIZATION, token, page_size)?;
    let mut out = json!({ "Accounts": page });
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    Ok(out)
}

fn account(management: &str, id: &str, name: &str, state: &str, now: f64) -> Value {
    // Organizations retired `Status` on 2026-09-09: only `State` says whether an account is
    // active, so the sandbox answers only `State`.
    json!({
        "Id": id,
        "Arn": format!("arn:aws:organizations::{management}:account/{ORGANIZATION}/{id}"),
        "Email": format!("{name}@example.com"),
        "Name": name,
        "State": state,
        "JoinedMethod": if id == management { "CREATED" } else { "INVITED" },
        "JoinedTimestamp": now,
    })
}
