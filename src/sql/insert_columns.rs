//! How an INSERT's source columns reach the table's: `SELECT *` from a file or a table goes by
//! the source's column names (a spreadsheet or pandas edit reorders a header as a matter of
//! course), and a source paired by position whose names say otherwise is refused.

use std::collections::BTreeMap;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::Result as DfResult;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{Expr, LogicalPlan, WriteOp};
use datafusion::sql::parser::{ExplainStatement, Statement};
use datafusion::sql::sqlparser::ast::{
    Ident, Insert, ObjectName, SelectItem, SetExpr, Statement as Sql, TableFactor, TableObject,
};

use super::star::resource as aws_resource;
use crate::error::{Error, Result};
use crate::schema::{Resource, Source, Verb, schemas};

/// Whether an INSERT's source is matched to the table by name: a SELECT with `*` (or `t.*`)
/// over relations whose columns have names (a file, a table, a subquery), not over a VALUES
/// list without column aliases, whose columns are only positions (`column1`, `column2`, …).
pub fn matched_by_name(insert: &Insert) -> bool {
    let Some(source) = &insert.source else {
        return false;
    };
    let SetExpr::Select(select) = source.body.as_ref() else {
        return false;
    };
    let star = (select.projection.iter()).any(|item| {
        matches!(
            item,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    let mut relations = (select.from.iter())
        .flat_map(|f| std::iter::once(&f.relation).chain(f.joins.iter().map(|j| &j.relation)));
    star && !select.from.is_empty() && relations.all(has_column_names)
}

fn has_column_names(relation: &TableFactor) -> bool {
    match relation {
        TableFactor::Derived {
            subquery, alias, ..
        } => {
            !matches!(subquery.body.as_ref(), SetExpr::Values(_))
                || alias.as_ref().is_some_and(|a| !a.columns.is_empty())
        }
        _ => true,
    }
}

/// Gives an INSERT into an aws table whose source is [`matched_by_name`] the column list that
/// pairs each source column with the table's column of its name. The source is planned alone
/// for its names (a file's header is read; no AWS call).
pub async fn match_columns_by_name(
    state: &SessionState,
    statement: &mut Statement,
) -> DfResult<()> {
    let statement = match statement {
        Statement::Explain(ExplainStatement { statement, .. }) => statement.as_mut(),
        other => other,
    };
    let Statement::Statement(sql) = statement else {
        return Ok(());
    };
    let Sql::Insert(insert) = sql.as_mut() else {
        return Ok(());
    };
    let TableObject::TableName(name) = &insert.table else {
        return Ok(());
    };
    let (Some(resource), Some(source)) = (aws_resource(name), insert.source.clone()) else {
        return Ok(());
    };
    if !matched_by_name(insert) {
        return Ok(());
    }
    let plan =
        (state.statement_to_plan(Statement::Statement(Box::new(Sql::Query(source))))).await?;
    let names: Vec<String> = (plan.schema().fields().iter())
        .map(|f| f.name().clone())
        .collect();
    let listed: Vec<String> = (insert.columns.iter())
        .filter_map(|c| Some(c.0.last()?.as_ident()?.value.clone()))
        .collect();
    let paired = paired_by_name(resource, &names, &listed)?;
    insert.columns = (paired.into_iter())
        .map(|c| ObjectName::from(vec![Ident::new(c)]))
        .collect();
    Ok(())
}

/// The table's column for each source column named `names`, in the source's order, or why they
/// do not pair: a name that is no column of the table, two names for one column, a column
/// the create call requires missing, or a column list (`listed`) naming other columns.
fn paired_by_name(resource: &Resource, names: &[String], listed: &[String]) -> Result<Vec<String>> {
    let table = resource.qualified_name("aws");
    let statement = if listed.is_empty() {
        format!("INSERT INTO {table} SELECT *")
    } else {
        format!("INSERT INTO {table} ({}) SELECT *", listed.join(", "))
    };
    let message = |why: String| {
        format!(
            "{statement}: the source's columns go into the table's columns of the same name, \
             but {why}; nothing was sent"
        )
    };
    let refuse = |why: String| Error::Usage(message(why));
    let mut paired = Vec::new();
    let mut unknown = Vec::new();
    let mut by_column: BTreeMap<&str, &str> = BTreeMap::new();
    for name in names {
        let Some(column) = resource.column_named(name) else {
            unknown.push(name.as_str());
            continue;
        };
        if let Some(first) = by_column.insert(&column.name, name) {
            return Err(refuse(format!(
                "its columns {first} and {name} both name {}",
                column.name
            )));
        }
        paired.push(column.name.clone());
    }
    if let Some(first) = unknown.first() {
        // The table's columns on a line of their own: the list is long.
        let columns: Vec<&str> = resource.star_columns().map(|c| c.name.as_str()).collect();
        let them = if unknown.len() == 1 { "it" } else { "them" };
        let why = format!(
            "the table has no column {}: rename {them} in the file's header, or select {them} \
             under a column's name (SELECT {first} AS …)",
            unknown.join(", "),
        );
        return Err(Error::Usage(format!(
            "{}\n  the table's columns: {}",
            message(why),
            columns.join(", ")
        )));
    }
    let has = |names: &[String], name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
    if !listed.is_empty() {
        let missing: Vec<&str> = (listed.iter())
            .filter(|l| !has(&paired, l))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(refuse(format!(
                "the source has no column {}",
                missing.join(", ")
            )));
        }
        let extra: Vec<&str> = (paired.iter())
            .filter(|p| !has(listed, p))
            .map(String::as_str)
            .collect();
        if !extra.is_empty() {
            return Err(refuse(format!(
                "the column list leaves out the source's {}: list it, or leave it out with \
                 SELECT * EXCLUDE ({})",
                extra.join(", "),
                extra.join(", ")
            )));
        }
    }
    let required: Vec<&str> = (resource.columns.iter())
        .filter(|c| !matches!(c.source, Source::Region))
        .filter(|c| resource.required_on_insert(&c.name) && !has(&paired, &c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !required.is_empty() {
        return Err(refuse(format!(
            "the source has no column {}, which {} requires",
            required.join(", "),
            resource.operation(Verb::Insert)
        )));
    }
    Ok(paired)
}

/// Refuses an INSERT into an aws table whose source, paired with the table's columns by
/// position, puts a column named after one of the table's columns into another
/// (`SELECT lifecycle_policy, repository_policy` into `(repository_policy, lifecycle_policy)`):
/// that write is a mistake, and it is never made silently. A column renamed in the SELECT
/// (`lifecycle_policy AS repository_policy`) says what is meant.
pub fn check_positional_names(plan: &LogicalPlan) -> Result<()> {
    let mut problem = None;
    let _ = plan.apply(|node| {
        if let LogicalPlan::Dml(dml) = node
            && matches!(dml.op, WriteOp::Insert(_))
            && dml.table_name.catalog() == Some("aws")
            && let Some(resource) = (dml.table_name.schema())
                .and_then(|service| schemas().resource(service, dml.table_name.table()))
            // DataFusion pairs the columns in a projection: `CAST(source AS …) AS target`.
            && let LogicalPlan::Projection(pairs) = dml.input.as_ref()
        {
            problem = pairs.expr.iter().find_map(|e| crossed(resource, e));
        }
        Ok(match problem {
            Some(_) => TreeNodeRecursion::Stop,
            None => TreeNodeRecursion::Continue,
        })
    });
    match problem {
        Some(why) => Err(Error::Usage(why)),
        None => Ok(()),
    }
}

/// Why the pair `expr` (a source column aliased to its target column) writes a column named
/// after another of the table's columns, if it does.
fn crossed(resource: &Resource, expr: &Expr) -> Option<String> {
    let Expr::Alias(pair) = expr else {
        return None;
    };
    let Expr::Column(source) = uncast(&pair.expr) else {
        return None;
    };
    let meant = resource.column_named(&source.name)?;
    if meant.name.eq_ignore_ascii_case(&pair.name) {
        return None;
    }
    Some(format!(
        "INSERT INTO {}: the source's column {} would go into {} (INSERT pairs columns by \
         position): list the columns in the source's order, or SELECT *, which goes by name; \
         write {} AS {} if that is what you mean; nothing was sent",
        resource.qualified_name("aws"),
        source.name,
        pair.name,
        source.name,
        pair.name,
    ))
}

fn uncast(expr: &Expr) -> &Expr {
    match expr {
        Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. }) => uncast(expr),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse::parse_script;

    fn insert(sql: &str) -> Insert {
        match parse_script(sql).unwrap().remove(0).statement {
            Statement::Statement(s) => match *s {
                Sql::Insert(insert) => insert,
                other => panic!("{other}"),
            },
            other => panic!("{other}"),
        }
    }

    fn templates() -> &'static Resource {
        schemas()
            .resource("ecr", "repository_creation_templates")
            .unwrap()
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_star_over_named_relations_goes_by_name() {
        let t = "aws.ecr.repository_creation_templates";
        for sql in [
            format!("INSERT INTO {t} SELECT * FROM 'templates.csv'"),
            format!("INSERT INTO {t} (region, prefix) SELECT * FROM desired"),
            format!("INSERT INTO {t} SELECT d.* FROM desired d WHERE region = 'us-east-1'"),
            format!("INSERT INTO {t} SELECT * FROM (VALUES ('a', 'b')) AS v(region, prefix)"),
        ] {
            assert!(matched_by_name(&insert(&sql)), "{sql}");
        }
        for sql in [
            format!("INSERT INTO {t} SELECT region, prefix FROM 'templates.csv'"),
            format!("INSERT INTO {t} SELECT * FROM (VALUES ('a', 'b'))"),
            format!("INSERT INTO {t} VALUES ('a', 'b')"),
            format!("INSERT INTO {t} SELECT 'a', 'b'"),
        ] {
            assert!(!matched_by_name(&insert(&sql)), "{sql}");
        }
    }

    #[test]
    fn columns_pair_by_name_in_the_sources_order() {
        let names = strings(&[
            "Region",
            "prefix",
            "AppliedFor",
            "lifecycle_policy",
            "repository_policy",
        ]);
        assert_eq!(
            paired_by_name(templates(), &names, &[]).unwrap(),
            [
                "region",
                "prefix",
                "applied_for",
                "lifecycle_policy",
                "repository_policy"
            ]
        );
        let listed = strings(&[
            "repository_policy",
            "lifecycle_policy",
            "applied_for",
            "prefix",
            "region",
        ]);
        assert_eq!(
            paired_by_name(templates(), &names, &listed).unwrap()[3],
            "lifecycle_policy"
        );
    }

    #[test]
    fn columns_that_do_not_pair_are_named() {
        let t = templates();
        let refused = |names: &[&str], listed: &[&str]| {
            let e = paired_by_name(t, &strings(names), &strings(listed)).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            e.to_string()
        };
        let e = refused(
            &["region", "prefix", "applied_for", "lifecycle", "tags"],
            &[],
        );
        assert!(
            e.contains("but the table has no column lifecycle, tags: rename them"),
            "{e}"
        );
        assert!(
            e.contains("\n  the table's columns: region, registry_id, prefix,"),
            "{e}"
        );
        let e = refused(&["region", "applied_for"], &[]);
        assert!(
            e.contains(
                "the source has no column prefix, which CreateRepositoryCreationTemplate requires"
            ),
            "{e}"
        );
        let e = refused(&["prefix", "Prefix", "applied_for"], &[]);
        assert!(
            e.contains("its columns prefix and Prefix both name prefix"),
            "{e}"
        );
        let e = refused(
            &["prefix", "applied_for"],
            &["prefix", "applied_for", "description"],
        );
        assert!(e.contains("the source has no column description"), "{e}");
        let e = refused(
            &["prefix", "applied_for", "description"],
            &["prefix", "applied_for"],
        );
        assert!(e.contains("leaves out the source's description"), "{e}");
        assert!(e.ends_with("nothing was sent"), "{e}");
    }
}
