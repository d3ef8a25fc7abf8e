//! Images in the sandbox: DescribeImages (per repository, by digest, filtered by tag and image
//! status) and BatchDeleteImage, with ECR's errors. Images are kept in the generic store under
//! `<repository>@<digest>` as their `imageDetail`.

use serde_json::{Value, json};

use super::paging;
use super::registry::Registry;
use super::repositories::{checked_name, held, text};
use super::wire::ApiError;

/// The store of images.
pub const TABLE: &str = "images";

fn key(repository: &str, digest: &str) -> String {
    format!("{repository}@{digest}")
}

/// How many images `repository` holds.
pub fn count_in(r: &mut Registry, region: &str, repository: &str) -> usize {
    let prefix = key(repository, "");
    let store = r.region(region).store(TABLE);
    store.keys().filter(|k| k.starts_with(&prefix)).count()
}

/// Removes every image of `repository` (DeleteRepository with force).
pub fn remove_all(r: &mut Registry, region: &str, repository: &str) {
    let prefix = key(repository, "");
    r.region(region)
        .store(TABLE)
        .retain(|k, _| !k.starts_with(&prefix));
}

/// Whether an image passes DescribeImages' `filter` (ECR lists only ACTIVE images unless asked).
fn passes(image: &Value, filter: Option<&Value>) -> bool {
    let wanted = |member: &str, default: &str| {
        let v = filter.and_then(|f| text(f, member)).unwrap_or(default);
        v.to_string()
    };
    let tagged = image
        .get("imageTags")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    let tags_ok = match wanted("tagStatus", "ANY").as_str() {
        "TAGGED" => tagged,
        "UNTAGGED" => !tagged,
        _ => true,
    };
    let status = text(image, "imageStatus").unwrap_or("ACTIVE");
    let status_ok = match wanted("imageStatus", "ACTIVE").as_str() {
        "ANY" => true,
        other => status == other,
    };
    tags_ok && status_ok
}

fn describe(r: &mut Registry, region: &str, input: Value) -> Result<Value, ApiError> {
    let name = checked_name(&input)?;
    held(r, region, &name)?;
    let max = input.get("maxResults").and_then(Value::as_i64);
    let ids = input.get("imageIds").and_then(Value::as_array).cloned();
    paging::check_ids("imageIds", ids.as_ref().map(Vec::len), max)?;
    let account = r.account_id.clone();
    let store = r.region(region).store(TABLE);
    let prefix = key(&name, "");
    let mut selected: Vec<&Value> = Vec::new();
    for (k, image) in store.iter().filter(|(k, _)| k.starts_with(&prefix)) {
        let digest = &k[prefix.len()..];
        let asked = ids.as_ref().is_none_or(|ids| {
            ids.iter().any(|id| {
                text(id, "imageDigest") == Some(digest)
                    || image_has_tag(image, text(id, "imageTag"))
            })
        });
        if asked && passes(image, input.get("filter")) {
            selected.push(image);
        }
    }
    if let Some(ids) = &ids {
        let found = |id: &Value| {
            selected.iter().any(|i| {
                text(i, "imageDigest") == text(id, "imageDigest")
                    || image_has_tag(i, text(id, "imageTag"))
            })
        };
        if let Some(missing) = ids.iter().find(|id| !found(id)) {
            return Err(ApiError::client(
                "ImageNotFoundException",
                format!(
                    "The image with imageId {missing} does not exist within the repository with name '{name}' in the registry with id '{account}'"
                ),
            ));
        }
    }
    let digest = |i: &&Value| text(i, "imageDigest").unwrap_or_default().to_string();
    let (page, next) = paging::page(selected, digest, region, text(&input, "nextToken"), max)?;
    let page = page.into_iter().cloned();
    Ok(paging::listing(json!({}), "imageDetails", page, next))
}

fn image_has_tag(image: &Value, tag: Option<&str>) -> bool {
    let tags = image.get("imageTags").and_then(Value::as_array);
    tag.is_some_and(|t| tags.is_some_and(|tags| tags.iter().any(|x| x.as_str() == Some(t))))
}

fn batch_delete(r: &mut Registry, region: &str, input: Value, _: f64) -> Result<Value, ApiError> {
    let name = checked_name(&input)?;
    held(r, region, &name)?;
    let ids = input
        .get("imageIds")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    paging::check_ids("imageIds", Some(ids.len()), None)?;
    let store = r.region(region).store(TABLE);
    let (mut deleted, mut failures) = (Vec::new(), Vec::new());
    for id in ids {
        let removed = text(&id, "imageDigest").and_then(|d| store.remove(&key(&name, d)));
        match (removed, text(&id, "imageDigest")) {
            (Some(_), _) => deleted.push(id),
            (None, None) => failures.push(json!({"imageId": id, "failureCode": "MissingDigestAndTag", "failureReason": "Invalid request parameters: both tag and digest cannot be null"})),
            (None, Some(_)) => failures.push(json!({"imageId": id, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})),
        }
    }
    Ok(json!({ "imageIds": deleted, "failures": failures }))
}

crate::sandbox_operations!(
    Read DescribeImages => |r, region, input, _| describe(r, region, input);
    Change BatchDeleteImage => batch_delete;
);
