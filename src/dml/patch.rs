//! stackql's `SET data__PatchDocument = '<RFC 6902 JSON Patch>'`: checked when planned, applied
//! (with json-patch) to each matched item's current values when run.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::DataType;
use json_patch::{Patch, PatchOperation};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::schema::{Column, Resource, Source};

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
        // A value for a whole field must be of its type: it is never converted.
        if let PatchOperation::Add(json_patch::AddOperation { path, value })
        | PatchOperation::Replace(json_patch::ReplaceOperation { path, value }) = op
            && let Some(c) = whole_field(&path.to_string(), resource)
        {
            column_value(c, value)?;
        }
    }
    Ok(patch)
}

/// The column whose whole field `path` names (`/CredentialArn`; not `/ResourceTags/-`).
fn whole_field<'a>(path: &str, resource: &'a Resource) -> Option<&'a Column> {
    let field = path.strip_prefix('/').filter(|f| !f.contains('/'))?;
    resource.column_by_member(field)
}

/// The value a patch gives a whole field, as the column holds it: text for a text column, a
/// list of strings for a list column, a nested column's structure as its JSON text (or that
/// text itself). A value of another JSON type is refused, never converted (`5` for a text).
fn column_value(c: &Column, value: &Value) -> Result<Value> {
    let list = matches!(c.data_type, DataType::List(_) | DataType::LargeList(_));
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(_) if !list => Ok(value.clone()),
        Value::Array(items) if list && items.iter().all(Value::is_string) => Ok(value.clone()),
        _ if c.nested => Ok(value.to_string().into()),
        other => {
            // The same value written as the type asked for.
            let text =
                |v: &Value| Value::from(v.as_str().map_or_else(|| v.to_string(), Into::into));
            let (kind, e_g) = match (list, other) {
                (true, Value::Array(items)) => (
                    "a list of strings",
                    Value::Array(items.iter().map(text).collect()).to_string(),
                ),
                (true, _) => ("a list of strings", format!("[{}]", text(other))),
                (false, _) => ("a string", text(other).to_string()),
            };
            let field = match &c.source {
                Source::Field(m) => field_name(m),
                Source::Region => c.name.clone(),
            };
            Err(Error::Usage(format!(
                "data__PatchDocument sets /{field} to {other}: it must be {kind} (such as {e_g}); \
                 skyql does not convert it; nothing was sent"
            )))
        }
    }
}

/// The values the patch gives whole fields that are known before any item is read: those
/// whose last write is an `add` or `replace` of the field itself (by column). They are checked
/// when the statement is planned; any other write depends on the item and is checked on it.
pub fn constant_values(patch: &Patch, resource: &Resource) -> Result<Vec<(String, Value)>> {
    let column_of = |path: &str| {
        let field = path.trim_start_matches('/').split('/').next()?;
        resource.column_by_member(field)
    };
    let mut last: BTreeMap<String, Option<Value>> = BTreeMap::new();
    for op in &patch.0 {
        let (written, value, moved_from) = match op {
            PatchOperation::Add(o) => (o.path.to_string(), Some(&o.value), None),
            PatchOperation::Replace(o) => (o.path.to_string(), Some(&o.value), None),
            PatchOperation::Remove(o) => (o.path.to_string(), None, None),
            PatchOperation::Copy(o) => (o.path.to_string(), None, None),
            PatchOperation::Move(o) => (o.path.to_string(), None, Some(o.from.to_string())),
            PatchOperation::Test(_) => continue,
        };
        if let Some(c) = moved_from.as_deref().and_then(column_of) {
            last.insert(c.name.clone(), None);
        }
        let Some(c) = column_of(&written) else {
            continue;
        };
        let known = match (value, whole_field(&written, resource)) {
            (Some(v), Some(_)) => Some(column_value(c, v)?),
            _ => None,
        };
        last.insert(c.name.clone(), known);
    }
    Ok(last
        .into_iter()
        .filter_map(|(c, v)| Some((c, v.filter(|v| !v.is_null())?)))
        .collect())
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
        changes.push((
            c.name.clone(),
            column_value(c, new.unwrap_or(&Value::Null))?,
        ));
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

    fn templates() -> &'static Resource {
        schemas()
            .resource("ecr", "repository_creation_templates")
            .unwrap()
    }

    #[test]
    fn a_value_of_another_json_type_is_refused_when_planned() {
        let refused = |patch: &str, resource| parse(patch, resource).unwrap_err().to_string();
        let e = refused(
            r#"[{"op":"replace","path":"/CredentialArn","value":5}]"#,
            resource(),
        );
        assert!(
            e.starts_with(
                "data__PatchDocument sets /CredentialArn to 5: it must be a string (such as \"5\")"
            ),
            "{e}"
        );
        let e = refused(
            r#"[{"op":"add","path":"/AppliedFor","value":"REPLICATION"}]"#,
            templates(),
        );
        assert!(
            e.contains("it must be a list of strings (such as [\"REPLICATION\"])"),
            "{e}"
        );
        let e = refused(
            r#"[{"op":"add","path":"/AppliedFor","value":["REPLICATION",true]}]"#,
            templates(),
        );
        assert!(e.contains("(such as [\"REPLICATION\",\"true\"])"), "{e}");
        // A list for a list column, a structure for a nested one, text for text.
        for ok in [
            r#"[{"op":"replace","path":"/AppliedFor","value":["REPLICATION"]}]"#,
            r#"[{"op":"replace","path":"/ResourceTags","value":[{"Key":"a","Value":"b"}]}]"#,
            r#"[{"op":"add","path":"/ResourceTags/-","value":{"Key":"a","Value":"b"}}]"#,
            r#"[{"op":"replace","path":"/Description","value":"five"}]"#,
        ] {
            assert!(parse(ok, templates()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_list_column_is_patched_as_a_list() {
        let template: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "region": "us-east-1", "prefix": "ROOT", "applied_for": ["PULL_THROUGH_CACHE"]
        }))
        .unwrap();
        let p = parse(
            r#"[{"op":"add","path":"/AppliedFor/-","value":"REPLICATION"}]"#,
            templates(),
        )
        .unwrap();
        assert_eq!(
            apply(&p, &template, templates()).unwrap(),
            vec![(
                "applied_for".into(),
                serde_json::json!(["PULL_THROUGH_CACHE", "REPLICATION"])
            )]
        );
    }

    #[test]
    fn the_values_known_before_any_read_are_the_last_whole_field_writes() {
        let p = parse(
            r#"[{"op":"replace","path":"/Description","value":"first"},
                {"op":"replace","path":"/Description","value":"last"},
                {"op":"add","path":"/ResourceTags/-","value":{"Key":"a","Value":"b"}},
                {"op":"replace","path":"/CustomRoleArn","value":"arn:aws:iam::1:role/r"},
                {"op":"copy","from":"/Description","path":"/CustomRoleArn"},
                {"op":"test","path":"/LifecyclePolicy","value":"{}"}]"#,
            templates(),
        )
        .unwrap();
        // The role is copied from the item, so it is known only once the item is read.
        assert_eq!(
            constant_values(&p, templates()).unwrap(),
            vec![("description".to_string(), Value::from("last"))]
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
