//! DDL is for local tables: a statement that would create, drop, alter or truncate anything in
//! the provider's catalog (`aws.…`) is refused before it runs.
//!
//! The provider's tables are skyql's view of AWS, declared by provider-schemas: `DROP TABLE
//! aws.ecr.pull_through_cache_rules` must not make the table vanish for the rest of a script,
//! and `CREATE TABLE aws.ecr.foo` must not pass a local table off as an AWS resource. The
//! catalog itself refuses registration too (`engine::catalog`), for names that reach it
//! another way; this check gives the clear message first, for the whole script before anything
//! runs.

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{ObjectName, ObjectType, SchemaName, Statement as Sql};

use crate::error::{Error, Result};
use crate::schema::schemas;

/// Refuses `statement` when it is DDL on the provider's catalog.
pub fn check_ddl(statement: &Statement) -> Result<()> {
    let provider = &schemas().provider.name;
    let Some((verb, names)) = ddl_names(statement) else {
        return Ok(());
    };
    let Some(target) = names.into_iter().find(|n| in_catalog(n, provider)) else {
        return Ok(());
    };
    let example = format!("{provider}.ecr.pull_through_cache_rules");
    Err(Error::Usage(if verb == "TRUNCATE" {
        format!(
            "TRUNCATE {target} would delete every row of an AWS table, and skyql deletes only what \
             a WHERE asks for: use DELETE FROM {target} WHERE … (with --allow-bulk, and review it \
             first with --dry-run --allow-bulk); nothing was sent"
        )
    } else {
        format!(
            "{verb} {target}: the {provider} catalog is skyql's view of AWS, declared by \
             provider-schemas, and DDL cannot change it. Change what is in AWS with INSERT, \
             UPDATE, DELETE or MERGE; a local table or view goes in the default schema, under \
             a name of one part (CREATE TABLE my_rules AS SELECT * FROM {example}); nothing was \
             sent"
        )
    }))
}

/// The DDL verb of `statement` and the names it creates or changes; `None` for other
/// statements.
fn ddl_names(statement: &Statement) -> Option<(String, Vec<CatalogName>)> {
    let object = |name: &ObjectName| CatalogName::Object(name.clone());
    let (verb, names) = match statement {
        Statement::CreateExternalTable(t) => {
            ("CREATE EXTERNAL TABLE".into(), vec![object(&t.name)])
        }
        Statement::Statement(s) => match s.as_ref() {
            Sql::CreateTable(t) => ("CREATE TABLE".into(), vec![object(&t.name)]),
            Sql::CreateView(v) => ("CREATE VIEW".into(), vec![object(&v.name)]),
            Sql::CreateIndex(i) => ("CREATE INDEX ON".into(), vec![object(&i.table_name)]),
            Sql::AlterTable(t) => ("ALTER TABLE".into(), vec![object(&t.name)]),
            Sql::AlterView { name, .. } => ("ALTER VIEW".into(), vec![object(name)]),
            Sql::RenameTable(renames) => (
                "RENAME TABLE".into(),
                renames
                    .iter()
                    .flat_map(|r| [object(&r.old_name), object(&r.new_name)])
                    .collect(),
            ),
            Sql::Truncate(t) => (
                "TRUNCATE".into(),
                t.table_names.iter().map(|t| object(&t.name)).collect(),
            ),
            Sql::Drop {
                object_type, names, ..
            } => {
                let as_name = |n: &ObjectName| match object_type {
                    ObjectType::Schema => CatalogName::Schema(n.clone()),
                    ObjectType::Database => CatalogName::Catalog(n.clone()),
                    _ => object(n),
                };
                (
                    format!("DROP {object_type}"),
                    names.iter().map(as_name).collect(),
                )
            }
            Sql::CreateSchema { schema_name, .. } => match schema_name {
                SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => {
                    ("CREATE SCHEMA".into(), vec![CatalogName::Schema(n.clone())])
                }
                SchemaName::UnnamedAuthorization(_) => return None,
            },
            Sql::CreateDatabase { db_name, .. } => (
                "CREATE DATABASE".into(),
                vec![CatalogName::Catalog(db_name.clone())],
            ),
            _ => return None,
        },
        _ => return None,
    };
    Some((verb, names))
}

/// A name a DDL statement gives, by what it names: a table or view (`catalog.schema.table`),
/// a schema (`catalog.schema`) or a catalog.
enum CatalogName {
    Object(ObjectName),
    Schema(ObjectName),
    Catalog(ObjectName),
}

impl std::fmt::Display for CatalogName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Object(n) | Self::Schema(n) | Self::Catalog(n) => write!(f, "{n}"),
        }
    }
}

/// Whether `name` lies in the catalog `provider`: a table or schema qualified by it, or the
/// catalog itself. A one-part table name is the default schema's.
fn in_catalog(name: &CatalogName, provider: &str) -> bool {
    let (n, catalog_at_parts) = match name {
        CatalogName::Object(n) => (n, 3),
        CatalogName::Schema(n) => (n, 2),
        CatalogName::Catalog(n) => (n, 1),
    };
    n.0.len() == catalog_at_parts
        && n.0
            .first()
            .and_then(|p| p.as_ident())
            .is_some_and(|i| i.value.eq_ignore_ascii_case(provider))
}

#[cfg(test)]
mod tests {
    use crate::sql::parse::parse_script;

    fn refused(sql: &str) -> Option<String> {
        // parse_script checks every statement.
        parse_script(sql).err().map(|e| {
            assert_eq!(e.exit_code(), 2, "{e}");
            e.to_string()
        })
    }

    #[test]
    fn ddl_on_the_provider_catalog_is_refused() {
        for sql in [
            "DROP TABLE aws.ecr.pull_through_cache_rules",
            "DROP TABLE IF EXISTS AWS.ecr.pull_through_cache_rules",
            "DROP VIEW aws.ecr.v",
            "CREATE TABLE aws.ecr.foo (a INT)",
            "CREATE TABLE aws.ecr.foo AS SELECT 1",
            "CREATE VIEW aws.ecr.v AS SELECT 1",
            "CREATE EXTERNAL TABLE aws.ecr.f STORED AS CSV LOCATION 'f.csv'",
            "CREATE SCHEMA aws.foo",
            "DROP SCHEMA aws.ecr",
            "CREATE DATABASE aws",
            "ALTER TABLE aws.ecr.pull_through_cache_rules RENAME TO x",
        ] {
            let message = refused(sql).unwrap_or_else(|| panic!("{sql} is refused"));
            assert!(message.contains("DDL cannot change it"), "{sql}: {message}");
            assert!(message.ends_with("nothing was sent"), "{message}");
        }
        let truncate = refused("TRUNCATE aws.ecr.pull_through_cache_rules").expect("refused");
        assert!(
            truncate.contains("use DELETE FROM aws.ecr.pull_through_cache_rules WHERE"),
            "{truncate}"
        );
    }

    #[test]
    fn local_ddl_is_left_to_the_default_schema() {
        for sql in [
            "CREATE TABLE my_rules AS SELECT 1",
            "CREATE VIEW ecr.v AS SELECT 1",
            "DROP TABLE my_rules",
            "CREATE SCHEMA scratch",
            "CREATE TABLE aws (a INT)",
            "SELECT * FROM aws.ecr.pull_through_cache_rules",
        ] {
            assert_eq!(refused(sql), None, "{sql}");
        }
    }
}
