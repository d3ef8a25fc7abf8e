//! A repository's two policy documents in the sandbox: its lifecycle policy and its repository
//! policy (Get/Put/Delete of each), kept in the repository's item of the generic store.

use serde_json::{Value, json};

use super::registry::Registry;
use super::repositories::{checked_name, held, set, text};
use super::wire::ApiError;

/// A policy document held by a repository: its member and its not-found error.
type Document = (&'static str, &'static str);

/// Answers the repository's document, or its not-found error when it has none.
fn get(
    r: &mut Registry,
    region: &str,
    input: &Value,
    (member, missing): Document,
) -> Result<Value, ApiError> {
    let name = checked_name(input)?;
    let account = r.account_id.clone();
    let item = held(r, region, &name)?;
    match item.get(member).filter(|v| !v.is_null()) {
        Some(text) => Ok(json!({"registryId": account, "repositoryName": name, member: text})),
        None => Err(ApiError::client(
            missing,
            format!(
                "{member} does not exist for the repository with name '{name}' in the registry with id '{account}'"
            ),
        )),
    }
}

/// Stores the document after checking it is a JSON object, as ECR parses a policy.
fn put(
    r: &mut Registry,
    region: &str,
    input: &Value,
    (member, _): Document,
) -> Result<Value, ApiError> {
    let parsed = text(input, member).and_then(|t| serde_json::from_str::<Value>(t).ok());
    if !matches!(parsed, Some(Value::Object(_))) {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid parameter at '{member}' failed to satisfy constraint: 'Invalid JSON'"
        )));
    }
    set(r, region, input, &[member], false)
}

/// Removes the document, answering what it was.
fn remove(
    r: &mut Registry,
    region: &str,
    input: &Value,
    document: Document,
) -> Result<Value, ApiError> {
    let answer = get(r, region, input, document)?;
    let name = checked_name(input)?;
    held(r, region, &name)?[document.0] = Value::Null;
    Ok(answer)
}

const LIFECYCLE: Document = ("lifecyclePolicyText", "LifecyclePolicyNotFoundException");
const POLICY: Document = ("policyText", "RepositoryPolicyNotFoundException");

crate::sandbox_operations!(
    Read GetLifecyclePolicy => |r, region, input, _| get(r, region, &input, LIFECYCLE);
    Change PutLifecyclePolicy => |r, region, input, _| put(r, region, &input, LIFECYCLE);
    Change DeleteLifecyclePolicy => |r, region, input, _| remove(r, region, &input, LIFECYCLE);
    Read GetRepositoryPolicy => |r, region, input, _| get(r, region, &input, POLICY);
    Change SetRepositoryPolicy => |r, region, input, _| put(r, region, &input, POLICY);
    Change DeleteRepositoryPolicy => |r, region, input, _| remove(r, region, &input, POLICY);
);
