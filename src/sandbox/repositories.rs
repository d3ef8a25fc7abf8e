//! Repositories in the sandbox: DescribeRepositories, Create/DeleteRepository, tag mutability,
//! scan on push, lifecycle and repository policies and tags, with ECR's errors. Each
//! repository is kept in the generic store as `{repository, lifecyclePolicyText, policyText,
//! tags}`.

use serde_json::{Map, Value, json};

use super::paging;
use super::registry::Registry;
use super::wire::{ApiError, Violations};

/// The store of repositories.
pub const TABLE: &str = "repositories";
const NAME: &str = r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$";
const MUTABILITY: [&str; 4] = [
    "MUTABLE",
    "IMMUTABLE",
    "IMMUTABLE_WITH_EXCLUSION",
    "MUTABLE_WITH_EXCLUSION",
];

/// A member of the input, as text.
pub fn text<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// Checks `repositoryName` as ECR does, answering it.
pub fn checked_name(input: &Value) -> Result<String, ApiError> {
    let mut v = Violations::default();
    let name = v.required("repositoryName", text(input, "repositoryName"));
    v.check("repositoryName", name, |n| {
        let ok = (2..=256).contains(&n.len()) && regex::Regex::new(NAME).unwrap().is_match(n);
        ok.then_some(())
            .ok_or_else(|| format!("Member must satisfy regular expression pattern: {NAME}"))
    });
    v.finish()?;
    Ok(name.unwrap_or_default().to_string())
}

fn not_found(registry: &Registry, name: &str) -> ApiError {
    ApiError::client(
        "RepositoryNotFoundException",
        format!(
            "The repository with name '{name}' does not exist in the registry with id '{}'",
            registry.account_id
        ),
    )
}

/// The stored repository `name` of `region`.
pub fn held<'a>(r: &'a mut Registry, region: &str, name: &str) -> Result<&'a mut Value, ApiError> {
    let missing = not_found(r, name);
    r.region(region).store(TABLE).get_mut(name).ok_or(missing)
}

fn describe(r: &mut Registry, region: &str, input: Value) -> Result<Value, ApiError> {
    let names: Option<Vec<String>> = input
        .get("repositoryNames")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let max = input.get("maxResults").and_then(Value::as_i64);
    let mut v = Violations::default();
    paging::check_max_results(&mut v, max);
    if let Some(names) = &names
        && (names.is_empty() || names.len() > 100)
    {
        v.add(
            "repositoryNames",
            None,
            "Member must have length between 1 and 100",
        );
    }
    v.finish()?;
    if names.is_some() && max.is_some() {
        return Err(ApiError::invalid_parameter(
            "maxResults cannot be used with repositoryNames",
        ));
    }
    if let Some(missing) = (names.iter().flatten()).find(|n| held(r, region, n).is_err()) {
        return Err(not_found(r, missing));
    }
    let store = r.region(region).store(TABLE);
    let selected = (store.iter())
        .filter(|(k, _)| names.as_ref().is_none_or(|n| n.contains(k)))
        .map(|(_, held)| &held["repository"]);
    let name = |repo: &Value| text(repo, "repositoryName").unwrap_or_default().to_string();
    let (page, next) = paging::page(selected, name, region, text(&input, "nextToken"), max)?;
    let mut out = json!({ "repositories": page });
    if let Some(token) = next {
        out["nextToken"] = json!(token);
    }
    Ok(out)
}

fn create(r: &mut Registry, region: &str, input: Value, now: f64) -> Result<Value, ApiError> {
    let name = checked_name(&input)?;
    let mut v = Violations::default();
    let mutability = text(&input, "imageTagMutability").unwrap_or("MUTABLE");
    v.check("imageTagMutability", Some(mutability), |m| {
        MUTABILITY.contains(&m).then_some(()).ok_or_else(|| {
            format!(
                "Member must satisfy enum value set: [{}]",
                MUTABILITY.join(", ")
            )
        })
    });
    v.finish()?;
    if held(r, region, &name).is_ok() {
        return Err(ApiError::client(
            "RepositoryAlreadyExistsException",
            format!(
                "The repository with name '{name}' already exists in the registry with id '{}'",
                r.account_id
            ),
        ));
    }
    let account = r.account_id.clone();
    let encryption = input.get("encryptionConfiguration").cloned();
    let scanning = input.get("imageScanningConfiguration").cloned();
    let mut repository = json!({
        "repositoryArn": format!("arn:aws:ecr:{region}:{account}:repository/{name}"),
        "registryId": account,
        "repositoryName": name,
        "repositoryUri": format!("{account}.dkr.ecr.{region}.amazonaws.com/{name}"),
        "createdAt": now,
        "imageTagMutability": mutability,
        "imageScanningConfiguration": scanning.unwrap_or(json!({"scanOnPush": false})),
        "encryptionConfiguration": encryption.unwrap_or(json!({"encryptionType": "AES256"})),
    });
    if let Some(filters) = input.get("imageTagMutabilityExclusionFilters") {
        repository["imageTagMutabilityExclusionFilters"] = filters.clone();
    }
    let tags = input.get("tags").cloned().unwrap_or(json!([]));
    let item = json!({"repository": repository, "tags": tags});
    r.region(region).store(TABLE).insert(name, item);
    Ok(json!({ "repository": repository }))
}

fn delete(r: &mut Registry, region: &str, input: Value, _: f64) -> Result<Value, ApiError> {
    let name = checked_name(&input)?;
    held(r, region, &name)?;
    let force = input.get("force").and_then(Value::as_bool) == Some(true);
    let images = super::images::count_in(r, region, &name);
    if images > 0 && !force {
        return Err(ApiError::client(
            "RepositoryNotEmptyException",
            format!(
                "The repository with name '{name}' in registry with id '{}' cannot be deleted because it still contains images",
                r.account_id
            ),
        ));
    }
    super::images::remove_all(r, region, &name);
    let item = r
        .region(region)
        .store(TABLE)
        .remove(&name)
        .unwrap_or_default();
    Ok(json!({ "repository": item["repository"] }))
}

/// Sets the members of the stored item's `part` (`repository`, or the item itself) from the
/// input, answering the registry, name and the members set.
fn set(
    r: &mut Registry,
    region: &str,
    input: &Value,
    members: &[&str],
    in_repository: bool,
) -> Result<Value, ApiError> {
    let name = checked_name(input)?;
    let account = r.account_id.clone();
    let item = held(r, region, &name)?;
    let part = match in_repository {
        true => &mut item["repository"],
        false => item,
    };
    let mut out = Map::from_iter([
        ("registryId".to_string(), json!(account)),
        ("repositoryName".to_string(), json!(name)),
    ]);
    for m in members {
        let value = input.get(*m).cloned().unwrap_or(Value::Null);
        part[*m] = value.clone();
        out.insert(m.to_string(), value);
    }
    Ok(Value::Object(out))
}

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
const LIFECYCLE: Document = ("lifecyclePolicyText", "LifecyclePolicyNotFoundException");
const POLICY: Document = ("policyText", "RepositoryPolicyNotFoundException");

crate::sandbox_operations!(
    Read DescribeRepositories => |r, region, input, _| describe(r, region, input);
    Change CreateRepository => create;
    Change DeleteRepository => delete;
    Change PutImageTagMutability => |r, region, input, _| {
        set(r, region, &input, &["imageTagMutability", "imageTagMutabilityExclusionFilters"], true)
    };
    Change PutImageScanningConfiguration => |r, region, input, _| {
        set(r, region, &input, &["imageScanningConfiguration"], true)
    };
    Read GetLifecyclePolicy => |r, region, input, _| get(r, region, &input, LIFECYCLE);
    Change PutLifecyclePolicy => |r, region, input, _| put(r, region, &input, LIFECYCLE);
    Change DeleteLifecyclePolicy => |r, region, input, _| remove(r, region, &input, LIFECYCLE);
    Read GetRepositoryPolicy => |r, region, input, _| get(r, region, &input, POLICY);
    Change SetRepositoryPolicy => |r, region, input, _| put(r, region, &input, POLICY);
    Change DeleteRepositoryPolicy => |r, region, input, _| remove(r, region, &input, POLICY);
    Read ListTagsForResource => |r, region, input, _| {
        let name = by_arn(r, region, &input)?;
        Ok(json!({"tags": tags_of(r, region, &name)}))
    };
    Change TagResource => tag;
    Change UntagResource => untag;
);
