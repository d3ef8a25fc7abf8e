//! stackql's `SET data__PatchDocument = '<RFC 6902 JSON Patch>'`: checked when planned, applied
//! (with json-patch) to each matched item's current values when run.

use json_patch::{Patch, PatchOperation};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::schema::{Resource, Source};

/// The stackql field name of a column: its API member with a capital first letter.
fn field_name(member: &str) -> String {
    let mut chars = member.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Parses the patch and checks that it only writes updatable fields (before any call).
pub fn parse(text: &str, resource: &Resource) -> Result<Patch> {
    let patch: Patch = serde_json::from_str(text).map_err(|e| {
        Error::Usage(format!(
            "data__PatchDocument is not an RFC 6902 JSON Patch: {e}\n  e.g. '[{{\"op\":\"replace\",\"path\":\"/CredentialArn\",\"value\":\"arn:…\"}}]'"
        ))
    })?;
    for op in &patch.0 {
        let written = match op {
            PatchOperation::Add(o) => Some(o.path.to_string()),
            PatchOperation::Remove(o) => Some(o.path.to_string()),
            PatchOperation::Replace(o) => Some(o.path.to_string()),
            PatchOperation::Move(o) => Some(o.path.to_string()),
            PatchOperation::Copy(o) => Some(o.path.to_string()),
            PatchOperation::Test(_) => None,
        };
        if let Some(path) = written {
            writable_column(&path, resource)?;
        }
    }
    Ok(patch)
}

/// The column a patch path writes, if UPDATE may change it in place.
fn writable_column<'a>(path: &str, resource: &'a Resource) -> Result<&'a str> {
    // A path into a nested member (`/ResourceTags/-`) writes that member.
    let field = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let updatable: Vec<String> = resource
        .columns
        .iter()
        .filter(|c| c.updatable)
        .filter_map(|c| match &c.source {
            Source::Field(m) => Some(format!("/{}", field_name(m))),
            Source::Region => None,
        })
        .collect();
    match resource.column_by_member(field) {
        Some(c) if c.updatable => Ok(&c.name),
        Some(c) => Err(Error::Usage(format!(
            "data__PatchDocument writes {path} ({}), which cannot change in place: only {} can \
             (delete and re-create the {} to change the others)",
            c.name,
            updatable.join(", "),
            resource.noun()
        ))),
        None => Err(Error::Usage(format!(
            "data__PatchDocument writes {path}, which is not a field of {}; updatable fields: {}",
            resource.name(),
            updatable.join(", ")
        ))),
    }
}

/// Applies the patch to an item's current values (`current`, by column; a nested column as its
/// JSON text); answers the updatable columns it changes and their new values (NULL: removed).
pub fn apply(
    patch: &Patch,
    current: &Map<String, Value>,
    resource: &Resource,
) -> Result<Vec<(String, Value)>> {
    let mut doc = Map::new();
    for c in &resource.columns {
        if let (Source::Field(m), Some(v)) = (&c.source, current.get(&c.name)) {
            // A nested member is patched as the structure it is, not as its text.
            let v = match v.as_str().filter(|_| c.nested) {
                Some(text) => serde_json::from_str(text).unwrap_or_else(|_| v.clone()),
                None => v.clone(),
            };
            doc.insert(field_name(m), v);
        }
    }
    let before = Value::Object(doc);
    let mut after = before.clone();
    json_patch::patch(&mut after, &patch.0).map_err(|e| {
        let id = current
            .get(&resource.doc.identifier)
            .and_then(Value::as_str);
        let region = current.get("region").and_then(Value::as_str);
        Error::Usage(format!(
            "data__PatchDocument does not apply to {} '{}' in {}: {e}",
            resource.noun(),
            id.unwrap_or_default(),
            region.unwrap_or_default()
        ))
    })?;
    let mut changes = Vec::new();
    for c in resource.columns.iter().filter(|c| c.updatable) {
        let Source::Field(m) = &c.source else {
            continue;
        };
        let key = field_name(m);
        let (old, new) = (before.get(&key), after.get(&key));
        if old == new {
            continue;
        }
        match new {
            None | Some(Value::Null) => changes.push((c.name.clone(), Value::Null)),
            Some(v @ Value::String(_)) => changes.push((c.name.clone(), v.clone())),
            Some(v) if c.nested => changes.push((c.name.clone(), v.to_string().into())),
            Some(other) => {
                return Err(Error::Usage(format!(
                    "data__PatchDocument sets /{key} to {other}: it must be a string"
                )));
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    fn resource() -> &'static Resource {
        schemas()
            .resource("ecr", "pull_through_cache_rule")
            .unwrap()
    }

    fn rule() -> Map<String, Value> {
        [
            ("region", "us-east-1"),
            ("ecr_repository_prefix", "dh"),
            ("credential_arn", "arn:old"),
            ("upstream_registry_url", "registry-1.docker.io"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect()
    }

    #[test]
    fn replaces_the_credential() {
        let p = parse(
            r#"[{"op":"replace","path":"/CredentialArn","value":"arn:new"}]"#,
            resource(),
        )
        .unwrap();
        assert_eq!(
            apply(&p, &rule(), resource()).unwrap(),
            vec![("credential_arn".into(), "arn:new".into())]
        );
        let p = parse(r#"[{"op":"test","path":"/CredentialArn","value":"arn:old"},{"op":"add","path":"/CustomRoleArn","value":"arn:role"}]"#, resource()).unwrap();
        assert_eq!(
            apply(&p, &rule(), resource()).unwrap(),
            vec![("custom_role_arn".into(), "arn:role".into())]
        );
    }

    #[test]
    fn refuses_create_only_and_unknown_fields_when_planned() {
        let e = parse(
            r#"[{"op":"replace","path":"/UpstreamRegistryUrl","value":"quay.io"}]"#,
            resource(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot change in place: only /CredentialArn, /CustomRoleArn"),
            "{e}"
        );
        let e = parse(
            r#"[{"op":"replace","path":"/Colour","value":"x"}]"#,
            resource(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a field"), "{e}");
        assert!(
            parse("{not json", resource())
                .unwrap_err()
                .to_string()
                .contains("RFC 6902")
        );
    }

    #[test]
    fn a_failed_test_op_or_a_removal_is_reported() {
        let p = parse(
            r#"[{"op":"test","path":"/CredentialArn","value":"arn:other"}]"#,
            resource(),
        )
        .unwrap();
        assert!(
            apply(&p, &rule(), resource())
                .unwrap_err()
                .to_string()
                .contains("does not apply to rule 'dh'")
        );
        let p = parse(r#"[{"op":"remove","path":"/CredentialArn"}]"#, resource()).unwrap();
        assert_eq!(
            apply(&p, &rule(), resource()).unwrap(),
            vec![("credential_arn".into(), Value::Null)]
        );
    }
}
