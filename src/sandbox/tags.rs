//! Tags of repositories in the sandbox: ListTagsForResource, TagResource and UntagResource by
//! the repository's ARN, kept in the repository's item of the generic store.

use serde_json::{Value, json};

use super::registry::Registry;
use super::repositories::{held, not_found, text};
use super::wire::ApiError;

/// The repository a tagging call's `resourceArn` names.
fn by_arn(r: &mut Registry, region: &str, input: &Value) -> Result<String, ApiError> {
    let arn = text(input, "resourceArn").unwrap_or_default();
    let prefix = format!("arn:aws:ecr:{region}:{}:repository/", r.account_id);
    match arn.strip_prefix(&prefix) {
        Some(name) if held(r, region, name).is_ok() => Ok(name.to_string()),
        Some(name) => Err(not_found(r, name)),
        None => Err(ApiError::invalid_parameter(format!(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: '{arn}' is not a repository of this registry"
        ))),
    }
}

fn tags_of(r: &mut Registry, region: &str, name: &str) -> Vec<Value> {
    let item = held(r, region, name)
        .map(|i| i["tags"].clone())
        .unwrap_or_default();
    item.as_array().cloned().unwrap_or_default()
}

fn tag(r: &mut Registry, region: &str, input: Value, _: f64) -> Result<Value, ApiError> {
    let name = by_arn(r, region, &input)?;
    let mut tags = tags_of(r, region, &name);
    for new in input
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        tags.retain(|t| t.get("Key") != new.get("Key"));
        tags.push(new.clone());
    }
    held(r, region, &name)?["tags"] = json!(tags);
    Ok(json!({}))
}

fn untag(r: &mut Registry, region: &str, input: Value, _: f64) -> Result<Value, ApiError> {
    let name = by_arn(r, region, &input)?;
    let keys = input
        .get("tagKeys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut tags = tags_of(r, region, &name);
    tags.retain(|t| !t.get("Key").is_some_and(|k| keys.contains(k)));
    held(r, region, &name)?["tags"] = json!(tags);
    Ok(json!({}))
}

// The lifecycle policy and the repository policy are the same kind of member:
// a JSON document with its own not-found error.
crate::sandbox_operations!(
    Read ListTagsForResource => |r, region, input, _| {
        let name = by_arn(r, region, &input)?;
        Ok(json!({"tags": tags_of(r, region, &name)}))
    };
    Change TagResource => tag;
    Change UntagResource => untag;
);
