//! stackql-compatible meta statements (SHOW PROVIDERS/SERVICES/RESOURCES/METHODS, DESCRIBE),
//! answered from provider-schemas as record batches before anything reaches DataFusion.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use regex::Regex;

use crate::error::{Error, Result};
use crate::schema::{ProviderSchemas, Resource, schemas};
use crate::suggest::closest;

/// A meta statement, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaStatement {
    /// `SHOW PROVIDERS`
    ShowProviders,
    /// `SHOW SERVICES IN <provider> [LIKE '…']`
    ShowServices {
        /// The provider (`aws`).
        provider: String,
        /// A LIKE pattern on the service name.
        like: Option<String>,
    },
    /// `SHOW RESOURCES IN <provider>.<service> [LIKE '…']`
    ShowResources {
        /// `aws.ecr`
        service: String,
        /// A LIKE pattern on the resource name.
        like: Option<String>,
    },
    /// `SHOW METHODS IN <provider>.<service>.<resource>`
    ShowMethods {
        /// `aws.ecr.pull_through_cache_rules`
        table: String,
    },
    /// `DESCRIBE [EXTENDED] <provider>.<service>.<resource>`
    Describe {
        /// `aws.ecr.pull_through_cache_rules`
        table: String,
        /// Adds key, updatable and read-only columns.
        extended: bool,
    },
}

/// The rows a meta statement answers.
#[derive(Debug, Clone)]
pub struct MetaAnswer {
    /// The result schema.
    pub schema: SchemaRef,
    /// The rows (one batch).
    pub batches: Vec<RecordBatch>,
}

/// The meta statements, for help texts.
pub const META_SYNTAX: [&str; 5] = [
    "SHOW PROVIDERS",
    "SHOW SERVICES IN aws [LIKE '…']",
    "SHOW RESOURCES IN aws.ecr [LIKE '…']",
    "SHOW METHODS IN aws.ecr.<resource>",
    "DESCRIBE [EXTENDED] aws.ecr.<resource>",
];

static SHOW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^\s*SHOW\s+(PROVIDERS|SERVICES|RESOURCES|METHODS)\b(.*)$").expect("valid")
});
static IN_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)^(?:\s+IN\s+([A-Za-z0-9_."]+))?(?:\s+LIKE\s+'([^']*)')?\s*$"#)
        .expect("valid")
});
static DESCRIBE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)^\s*DESC(?:RIBE)?\s+(EXTENDED\s+)?([A-Za-z0-9_."]+)\s*$"#).expect("valid")
});

/// Recognises a meta statement. `None`: not one (it goes to DataFusion; e.g. DESCRIBE of a
/// view). `Some(Err)`: a meta statement written wrong, with the accepted forms.
pub fn parse_meta(text: &str) -> Option<Result<MetaStatement>> {
    let text = text.trim().trim_end_matches(';');
    if let Some(c) = DESCRIBE.captures(text) {
        let table = normalize(&c[2]);
        // Only the provider's tables are described here; DataFusion describes the rest.
        if !table.starts_with(&format!("{}.", schemas().provider.name)) {
            return None;
        }
        let extended = c.get(1).is_some();
        return Some(Ok(MetaStatement::Describe { table, extended }));
    }
    let c = SHOW.captures(text)?;
    let what = c[1].to_ascii_uppercase();
    let syntax_error = || {
        Error::Sql(format!(
            "cannot read `{text}`: the meta statements are {}",
            META_SYNTAX.join("; ")
        ))
    };
    let Some(rest) = IN_LIKE.captures(&c[2]) else {
        return Some(Err(syntax_error()));
    };
    let target = rest.get(1).map(|m| normalize(m.as_str()));
    let like = rest.get(2).map(|m| m.as_str().to_string());
    let provider = schemas().provider.name.clone();
    Some(match (what.as_str(), target) {
        ("PROVIDERS", None) if like.is_none() => Ok(MetaStatement::ShowProviders),
        ("SERVICES", target) => Ok(MetaStatement::ShowServices {
            provider: target.unwrap_or(provider),
            like,
        }),
        ("RESOURCES", Some(service)) => Ok(MetaStatement::ShowResources { service, like }),
        ("METHODS", Some(table)) if like.is_none() => Ok(MetaStatement::ShowMethods { table }),
        _ => Err(syntax_error()),
    })
}

/// Answers a meta statement from provider-schemas.
pub fn answer(meta: &MetaStatement) -> Result<MetaAnswer> {
    let s = schemas();
    match meta {
        MetaStatement::ShowProviders => strings(
            &["name", "description"],
            vec![vec![
                s.provider.name.clone(),
                s.provider.description.clone(),
            ]],
        ),
        MetaStatement::ShowServices { provider, like } => {
            check_provider(s, provider)?;
            let rows = s
                .provider
                .services
                .iter()
                .filter(|svc| like_matches(like.as_deref(), &svc.name))
                .map(|svc| vec![svc.name.clone(), svc.title.clone(), svc.description.clone()])
                .collect();
            strings(&["name", "title", "description"], rows)
        }
        MetaStatement::ShowResources { service, like } => {
            let service = find_service(s, service)?;
            let rows = s
                .resources_of(service)
                .filter(|r| like_matches(like.as_deref(), r.name()))
                .map(|r| {
                    vec![
                        r.name().to_string(),
                        r.qualified_name(&s.provider.name),
                        r.doc.description.clone(),
                    ]
                })
                .collect();
            strings(&["name", "id", "description"], rows)
        }
        MetaStatement::ShowMethods { table } => {
            let r = find_resource(s, table)?;
            let rows = r
                .doc
                .methods
                .iter()
                .map(|m| {
                    vec![
                        m.name.clone(),
                        m.verb.as_str().to_string(),
                        m.required_params.join(", "),
                        m.permissions
                            .iter()
                            .map(|p| p.action.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
                .collect();
            strings(&["name", "verb", "required_params", "permissions"], rows)
        }
        MetaStatement::Describe { table, extended } => {
            describe(find_resource(s, table)?, *extended)
        }
    }
}

/// Recognises and answers a meta statement; `None` when `text` is not one.
pub fn run_meta(text: &str) -> Option<Result<MetaAnswer>> {
    parse_meta(text).map(|parsed| parsed.and_then(|m| answer(&m)))
}

fn describe(r: &Resource, extended: bool) -> Result<MetaAnswer> {
    let mut fields = vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("description", DataType::Utf8, false),
    ];
    let text = |f: fn(&crate::schema::Column) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(r.columns.iter().map(f)))
    };
    let mut columns = vec![
        text(|c| c.name.clone()),
        text(|c| c.type_name.clone()),
        text(|c| c.description.clone()),
    ];
    if extended {
        fields.extend(
            ["key", "updatable", "read_only"].map(|n| Field::new(n, DataType::Boolean, false)),
        );
        let key = |c: &crate::schema::Column| r.doc.key_columns.iter().any(|k| k.name == c.name);
        columns.push(Arc::new(
            r.columns
                .iter()
                .map(|c| Some(key(c)))
                .collect::<BooleanArray>(),
        ));
        columns.push(Arc::new(
            r.columns
                .iter()
                .map(|c| Some(c.updatable))
                .collect::<BooleanArray>(),
        ));
        columns.push(Arc::new(
            r.columns
                .iter()
                .map(|c| Some(c.read_only))
                .collect::<BooleanArray>(),
        ));
        // A lazy column names the call that fills it, once per row; `SELECT *` leaves it out.
        fields.push(Field::new("lazy_call", DataType::Utf8, true));
        columns.push(Arc::new(
            r.columns
                .iter()
                .map(|c| c.fetched_by.map(|op| op.as_str()))
                .collect::<StringArray>(),
        ));
    }
    batch(Arc::new(Schema::new(fields)), columns)
}

fn strings(names: &[&str], rows: Vec<Vec<String>>) -> Result<MetaAnswer> {
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let columns = (0..names.len())
        .map(|i| Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r[i]))) as ArrayRef)
        .collect();
    batch(schema, columns)
}

fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<MetaAnswer> {
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)
        .map_err(|e| Error::Runtime(format!("cannot build the answer: {e}")))?;
    Ok(MetaAnswer {
        schema,
        batches: vec![batch],
    })
}

/// Lower-case, without double quotes: identifiers are case-insensitive here.
fn normalize(name: &str) -> String {
    name.replace('"', "").to_ascii_lowercase()
}

fn check_provider(s: &ProviderSchemas, provider: &str) -> Result<()> {
    if provider == s.provider.name {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "unknown provider '{provider}': the providers are {} (SHOW PROVIDERS)",
            s.provider.name
        )))
    }
}

fn find_service<'a>(s: &'a ProviderSchemas, path: &str) -> Result<&'a str> {
    let (provider, service) = path.split_once('.').ok_or_else(|| {
        Error::Usage(format!(
            "'{path}' is not a service: write <provider>.<service>, e.g. {}.{}",
            s.provider.name, s.provider.services[0].name
        ))
    })?;
    check_provider(s, provider)?;
    let names = s.provider.services.iter().map(|svc| svc.name.as_str());
    match s.provider.services.iter().find(|svc| svc.name == service) {
        Some(svc) => Ok(&svc.name),
        None => Err(Error::Usage(format!(
            "unknown service '{path}': the services are {}{}",
            names.clone().collect::<Vec<_>>().join(", "),
            did_you_mean(service, names)
        ))),
    }
}

fn find_resource<'a>(s: &'a ProviderSchemas, table: &str) -> Result<&'a Resource> {
    let (service_path, name) = table.rsplit_once('.').ok_or_else(|| {
        Error::Usage(format!(
            "'{table}' is not a table: write <provider>.<service>.<resource>"
        ))
    })?;
    let service = find_service(s, service_path)?;
    let names = s.resources_of(service).map(Resource::name);
    s.resource(service, name).ok_or_else(|| {
        Error::Usage(format!(
            "unknown resource '{table}' (SHOW RESOURCES IN {service_path}){}",
            did_you_mean(name, names)
        ))
    })
}

fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates)
        .map(|c| format!("\n  Did you mean '{c}'?"))
        .unwrap_or_default()
}

/// SQL LIKE (`%`, `_`), case-insensitive; no pattern matches everything.
fn like_matches(pattern: Option<&str>, name: &str) -> bool {
    let Some(pattern) = pattern else { return true };
    let mut re = String::from("(?is)^");
    for c in pattern.chars() {
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).is_ok_and(|r| r.is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::util::pretty::pretty_format_batches;

    fn table(text: &str) -> String {
        let answer = run_meta(text).expect("a meta statement").expect("answered");
        pretty_format_batches(&answer.batches).unwrap().to_string()
    }

    #[test]
    fn recognises_meta_statements() {
        assert_eq!(
            parse_meta("show providers;").unwrap().unwrap(),
            MetaStatement::ShowProviders
        );
        assert_eq!(
            parse_meta("SHOW RESOURCES IN AWS.ECR LIKE '%rule'")
                .unwrap()
                .unwrap(),
            MetaStatement::ShowResources {
                service: "aws.ecr".into(),
                like: Some("%rule".into())
            }
        );
        assert_eq!(
            parse_meta("describe extended aws.ecr.pull_through_cache_rules")
                .unwrap()
                .unwrap(),
            MetaStatement::Describe {
                table: "aws.ecr.pull_through_cache_rules".into(),
                extended: true
            }
        );
        // Not ours: DataFusion answers these.
        assert!(parse_meta("DESCRIBE my_view").is_none());
        assert!(parse_meta("SELECT 1").is_none());
        assert!(parse_meta("SHOW TABLES").is_none());
        // Ours, but written wrong.
        let err = parse_meta("SHOW METHODS aws.ecr").unwrap().unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("SHOW METHODS IN"), "{err}");
    }

    #[test]
    fn answers_from_provider_schemas() {
        assert!(table("SHOW PROVIDERS").contains("| aws "));
        assert!(table("SHOW SERVICES IN aws").contains("| ecr "));
        let resources = table("SHOW RESOURCES IN aws.ecr");
        assert!(
            resources.contains("aws.ecr.pull_through_cache_rules"),
            "{resources}"
        );
        assert!(
            resources.contains("aws.ecr.pull_through_cache_rule "),
            "{resources}"
        );
        let liked = table("SHOW RESOURCES IN aws.ecr LIKE '%rules'");
        assert!(!liked.contains("| pull_through_cache_rule "), "{liked}");
        let methods = table("SHOW METHODS IN aws.ecr.pull_through_cache_rules");
        assert!(
            methods.contains("SELECT") && methods.contains("ecr:DescribePullThroughCacheRules"),
            "{methods}"
        );
        let described = table("DESCRIBE aws.ecr.pull_through_cache_rules");
        assert!(described.contains("upstream_registry_url"), "{described}");
        assert!(!described.contains("updatable"), "{described}");
        let extended = table("DESCRIBE EXTENDED aws.ecr.pull_through_cache_rules");
        assert!(
            extended.contains("updatable") && extended.contains("read_only"),
            "{extended}"
        );
    }

    #[test]
    fn unknown_names_are_usage_errors_with_suggestions() {
        let err = run_meta("DESCRIBE aws.ecr.pull_through_cache_rulez")
            .unwrap()
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string()
                .contains("Did you mean 'pull_through_cache_rules'"),
            "{err}"
        );
        let err = run_meta("SHOW RESOURCES IN aws.ecs").unwrap().unwrap_err();
        assert!(err.to_string().contains("the services are ecr"), "{err}");
        let err = run_meta("SHOW SERVICES IN gcp").unwrap().unwrap_err();
        assert!(err.to_string().contains("unknown provider 'gcp'"), "{err}");
    }
}
