//! Loads the provider-schemas compiled into the binary, strictly: an unknown field is an error
//! naming the file and the field.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::arrow_type;
use super::model::{Column, ProviderDoc, ProviderSchemas, Resource, ResourceDoc, Source};

/// The provider file, as embedded.
pub const PROVIDER_FILE: (&str, &str) = (
    "provider-schemas/aws/provider.yaml",
    include_str!("../../provider-schemas/aws/provider.yaml"),
);

/// Every resource file, as embedded. Adding a resource means adding its file here.
pub const RESOURCE_FILES: &[(&str, &str)] = &[
    (
        "provider-schemas/aws/ecr/pull_through_cache_rules.yaml",
        include_str!("../../provider-schemas/aws/ecr/pull_through_cache_rules.yaml"),
    ),
    (
        "provider-schemas/aws/ecr/pull_through_cache_rule.yaml",
        include_str!("../../provider-schemas/aws/ecr/pull_through_cache_rule.yaml"),
    ),
    (
        "provider-schemas/aws/ecr/registry_policy.yaml",
        include_str!("../../provider-schemas/aws/ecr/registry_policy.yaml"),
    ),
    (
        "provider-schemas/aws/ecr/registry_policy_statements.yaml",
        include_str!("../../provider-schemas/aws/ecr/registry_policy_statements.yaml"),
    ),
    (
        "provider-schemas/aws/ecr/repository_creation_templates.yaml",
        include_str!("../../provider-schemas/aws/ecr/repository_creation_templates.yaml"),
    ),
];

/// Column sources that are not API members.
const REGION_SOURCE: &str = "$region";

static SCHEMAS: LazyLock<ProviderSchemas> = LazyLock::new(|| {
    load(PROVIDER_FILE, RESOURCE_FILES)
        .unwrap_or_else(|e| panic!("the embedded provider-schemas are invalid: {e}"))
});

/// The embedded provider-schemas (validated by a test, so this never fails in a release).
pub fn schemas() -> &'static ProviderSchemas {
    &SCHEMAS
}

/// Parses and checks a provider file and resource files.
pub fn load(provider: (&str, &str), resources: &[(&str, &str)]) -> Result<ProviderSchemas, String> {
    let provider_doc: ProviderDoc =
        serde_yaml_ng::from_str(provider.1).map_err(|e| format!("{}: {e}", provider.0))?;
    let mut docs = Vec::new();
    for (path, text) in resources {
        let doc: ResourceDoc = serde_yaml_ng::from_str(text).map_err(|e| format!("{path}: {e}"))?;
        docs.push((path.to_string(), doc));
    }
    let mut out = Vec::new();
    for (path, doc) in &docs {
        let column_docs = match &doc.columns_from {
            Some(other) => {
                if !doc.columns.is_empty() {
                    return Err(format!(
                        "{path}: give either columns or columns_from, not both"
                    ));
                }
                &docs
                    .iter()
                    .find(|(_, d)| {
                        d.service == doc.service && &d.name == other && d.columns_from.is_none()
                    })
                    .ok_or_else(|| {
                        format!("{path}: columns_from names '{other}', which declares no columns")
                    })?
                    .1
                    .columns
            }
            None => &doc.columns,
        };
        let columns = column_docs
            .iter()
            .map(|c| {
                Ok(Column {
                    name: c.name.clone(),
                    data_type: arrow_type::parse(&c.type_name)
                        .map_err(|e| format!("{path}: column {}: {e}", c.name))?,
                    type_name: c.type_name.clone(),
                    source: if c.source == REGION_SOURCE {
                        Source::Region
                    } else {
                        Source::Field(c.source.clone())
                    },
                    description: c.description.clone(),
                    updatable: c.updatable,
                    read_only: c.read_only,
                    fetched_by: c.fetched_by,
                    nested: c.nested,
                    check: c.check.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let resource = Resource {
            doc: doc.clone(),
            columns,
            path: path.clone(),
        };
        check(&provider_doc, &resource)?;
        out.push(resource);
    }
    Ok(ProviderSchemas {
        provider: provider_doc,
        resources: out,
    })
}

/// Cross-field checks serde cannot express.
fn check(provider: &ProviderDoc, r: &Resource) -> Result<(), String> {
    let path = &r.path;
    if !provider.services.iter().any(|s| s.name == r.doc.service) {
        return Err(format!(
            "{path}: service '{}' is not declared in provider.yaml",
            r.doc.service
        ));
    }
    if r.columns.is_empty() {
        return Err(format!("{path}: no columns"));
    }
    let mut seen = HashSet::new();
    for c in &r.columns {
        if !seen.insert(c.name.as_str()) {
            return Err(format!("{path}: column '{}' is declared twice", c.name));
        }
        if let Some(check) = &c.check {
            check
                .validate()
                .map_err(|e| format!("{path}: column '{}': {e}", c.name))?;
        }
    }
    for c in r.columns.iter().filter(|c| c.fetched_by.is_some()) {
        check_fetched(r, c).map_err(|why| format!("{path}: column '{}': {why}", c.name))?;
    }
    if !seen.contains(r.doc.identifier.as_str()) {
        return Err(format!(
            "{path}: identifier '{}' is not a column",
            r.doc.identifier
        ));
    }
    for k in &r.doc.key_columns {
        let target = k.alias_of.as_deref().unwrap_or(&k.name);
        if !seen.contains(target) {
            return Err(format!(
                "{path}: key column '{}' names no column ('{target}')",
                k.name
            ));
        }
        if k.alias_of.is_some() && seen.contains(k.name.as_str()) {
            return Err(format!("{path}: alias '{}' shadows a column", k.name));
        }
    }
    if r.doc.methods.is_empty() {
        return Err(format!("{path}: no methods"));
    }
    for m in &r.doc.methods {
        for p in &m.permissions {
            for column in &p.when {
                if !seen.contains(column.as_str()) {
                    return Err(format!(
                        "{path}: method {}: permission {} names column '{column}' in when, which does not exist",
                        m.name, p.action
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A column filled by an extra call is an answer about an existing resource: AWS sets it, and
/// it can neither identify a resource nor be pushed to the listing call.
fn check_fetched(r: &Resource, c: &Column) -> Result<(), String> {
    let op = c.fetched_by.map_or("", |f| f.as_str());
    if !c.read_only || c.updatable {
        return Err(format!(
            "fetched_by {op} makes it read_only (and not updatable)"
        ));
    }
    if c.source == Source::Region {
        return Err(format!(
            "fetched_by {op} needs an API member as source, not {REGION_SOURCE}"
        ));
    }
    if r.doc.identifier == c.name || r.key_target(&c.name).is_some() {
        return Err(format!(
            "fetched_by {op}: a fetched column cannot be the identifier or a key column"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{FetchOperation, ResourceKind, Verb};

    #[test]
    fn embedded_schemas_load() {
        let s = schemas();
        assert_eq!(s.provider.name, "aws");
        assert!(s.is_known_region("eu-west-1"));
        let list = s.resource("ecr", "pull_through_cache_rules").unwrap();
        let get = s.resource("ecr", "pull_through_cache_rule").unwrap();
        assert_eq!(list.doc.kind, ResourceKind::List);
        assert!(get.requires_identifier());
        let names: Vec<&str> = list.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "region",
                "registry_id",
                "ecr_repository_prefix",
                "upstream_registry_url",
                "upstream_registry",
                "upstream_repository_prefix",
                "credential_arn",
                "custom_role_arn",
                "created_at",
                "updated_at",
                "is_valid",
                "validation_failure"
            ]
        );
        let fetched: Vec<&str> = list
            .columns
            .iter()
            .filter(|c| c.fetched_by == Some(FetchOperation::ValidatePullThroughCacheRule))
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(fetched, ["is_valid", "validation_failure"]);
        assert!(
            list.columns
                .iter()
                .filter(|c| c.fetched_by.is_some())
                .all(|c| c.read_only)
        );
        assert_eq!(get.columns.len(), list.columns.len());
        assert_eq!(
            get.key_target("DATA__IDENTIFIER"),
            Some("ecr_repository_prefix")
        );
        assert_eq!(
            list.method(Verb::Select).unwrap().operation,
            "DescribePullThroughCacheRules"
        );
    }

    #[test]
    fn every_schema_file_on_disk_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/provider-schemas/aws/ecr");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                RESOURCE_FILES
                    .iter()
                    .any(|(p, _)| p.ends_with(&format!("/{name}"))),
                "{name} is not listed in RESOURCE_FILES"
            );
        }
    }

    #[test]
    fn unknown_field_names_file_and_field() {
        let bad = RESOURCE_FILES[0]
            .1
            .replace("kind: list", "kind: list\ncolour: blue");
        let err = load(PROVIDER_FILE, &[("x/bad.yaml", &bad)]).unwrap_err();
        assert!(err.starts_with("x/bad.yaml: "), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn bad_type_and_dangling_identifier_are_reported() {
        let bad = RESOURCE_FILES[0].1.replace(
            "type: Utf8\n    source: registryId",
            "type: Text\n    source: registryId",
        );
        assert!(
            load(PROVIDER_FILE, &[("b.yaml", &bad)])
                .unwrap_err()
                .contains("unknown type 'Text'")
        );
        let bad = RESOURCE_FILES[0]
            .1
            .replace("identifier: ecr_repository_prefix", "identifier: nope");
        assert!(
            load(PROVIDER_FILE, &[("b.yaml", &bad)])
                .unwrap_err()
                .contains("identifier 'nope'")
        );
    }

    #[test]
    fn fetched_by_names_a_known_operation_on_a_read_only_member() {
        let bad = RESOURCE_FILES[0].1.replace(
            "fetched_by: ValidatePullThroughCacheRule",
            "fetched_by: GetPullThroughCacheRule",
        );
        let err = load(PROVIDER_FILE, &[("b.yaml", &bad)]).unwrap_err();
        assert!(
            err.starts_with("b.yaml: ") && err.contains("GetPullThroughCacheRule"),
            "{err}"
        );
        // is_valid without its read_only line.
        let (head, tail) = RESOURCE_FILES[0].1.split_once("- name: is_valid").unwrap();
        let writable = format!(
            "{head}- name: is_valid{}",
            tail.replacen("    read_only: true\n", "", 1)
        );
        let err = load(PROVIDER_FILE, &[("b.yaml", &writable)]).unwrap_err();
        assert!(
            err.contains("column 'is_valid'") && err.contains("read_only"),
            "{err}"
        );
        let region = RESOURCE_FILES[0]
            .1
            .replace("source: isValid\n", "source: $region\n");
        let err = load(PROVIDER_FILE, &[("b.yaml", &region)]).unwrap_err();
        assert!(err.contains("needs an API member"), "{err}");
    }

    #[test]
    fn fetches_for_names_only_fetched_columns() {
        let list = schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap();
        assert!(
            list.fetches_for([
                "region",
                "ecr_repository_prefix",
                "data__Identifier",
                "nope"
            ])
            .is_empty()
        );
        assert_eq!(
            list.fetches_for(["IS_VALID", "validation_failure"])
                .into_iter()
                .collect::<Vec<_>>(),
            [FetchOperation::ValidatePullThroughCacheRule]
        );
    }
}
