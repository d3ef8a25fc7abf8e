//! Repositories in the sandbox: DescribeRepositories, Create/DeleteRepository, tag mutability
//! and scan on push, with ECR's errors (their policies and tags are in repository_policies.rs
//! and tags.rs). Each
//! repository is kept in the generic store as `{repository, lifecyclePolicyText, policyText,
//! tags}`.

use serde_json::{Map, Value, json};

use super::paging;
use super::registry::Registry;
use super::wire::{ApiError, Violations};
use crate::resources::ecr::constraints as c;

/// The store of repositories.
pub const TABLE: &str = "repositories";
const NAME: &str = r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$";

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

/// RepositoryNotFoundException for `name`.
pub fn not_found(registry: &Registry, name: &str) -> ApiError {
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
    paging::check_ids("repositoryNames", names.as_ref().map(Vec::len), max)?;
    if let Some(missing) = (names.iter().flatten()).find(|n| held(r, region, n).is_err()) {
        return Err(not_found(r, missing));
    }
    let store = r.region(region).store(TABLE);
    let token = text(&input, "nextToken");
    let (page, next) = paging::store_page(store, names.as_deref(), region, token, max)?;
    let page = page.into_iter().map(|held| held["repository"].clone());
    Ok(paging::listing(json!({}), "repositories", page, next))
}

fn create(r: &mut Registry, region: &str, input: Value, now: f64) -> Result<Value, ApiError> {
    let name = checked_name(&input)?;
    let mut v = Violations::default();
    let mutability = text(&input, "imageTagMutability").unwrap_or(c::DEFAULT_IMAGE_TAG_MUTABILITY);
    v.check("imageTagMutability", Some(mutability), |m| {
        c::check_enum(m, &c::IMAGE_TAG_MUTABILITIES)
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
pub fn set(
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
);
