//! stackql-compatibility rewrites on the parsed statement: `data__Identifier` in WHERE names
//! the resource's identifier column without being a column of `SELECT *`; INSERT takes
//! stackql's CamelCase column names; and the clauses DataFusion does not plan (`ON CONFLICT`,
//! `SET data__PatchDocument`) are taken out into a [`Directive`] for the provider.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::parser::{CopyToSource, ExplainStatement, Statement};
use datafusion::sql::sqlparser::ast::{
    Assignment, AssignmentTarget, BinaryOperator, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, Insert, ObjectName, ObjectNamePart, OnConflict, OnConflictAction,
    OnInsert, SelectItem, SetExpr, Statement as Sql, TableObject, Update, Value as SqlValue,
    VisitMut, visit_expressions_mut,
};

use super::insert_columns::matched_by_name;
use crate::dml::{Directive, OnConflict as Conflict};
use crate::error::{Error, Result};
use crate::schema::{Resource, schemas};

/// stackql's pseudo-column holding a JSON Patch in UPDATE.
pub const PATCH_COLUMN: &str = "data__PatchDocument";

/// Alias (lowercase) → the column it stands for, from every resource's key columns.
static ALIASES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    schemas()
        .resources
        .iter()
        .flat_map(|r| {
            r.aliases()
                .map(|(a, t)| (a.to_ascii_lowercase(), t.to_string()))
        })
        .collect()
});

/// Applies every rewrite; answers the statement DataFusion plans and the directive beside it.
pub fn rewrite_statement(statement: Statement) -> Result<(Statement, Directive)> {
    let mut directive = Directive::default();
    let statement = match statement {
        Statement::Statement(mut s) => {
            match &mut *s {
                Sql::Insert(insert) => rewrite_insert(insert, &mut directive)?,
                Sql::Update(update) => rewrite_update(update, &mut directive)?,
                _ => {}
            }
            rewrite(&mut *s);
            Statement::Statement(s)
        }
        Statement::CopyTo(mut copy) => {
            if let CopyToSource::Query(q) = &mut copy.source {
                rewrite(&mut **q);
            }
            Statement::CopyTo(copy)
        }
        Statement::Explain(ExplainStatement { options, statement }) => {
            let (inner, inner_directive) = rewrite_statement(*statement)?;
            directive = inner_directive;
            Statement::Explain(ExplainStatement {
                options,
                statement: Box::new(inner),
            })
        }
        other => other,
    };
    Ok((statement, directive))
}

/// The resource a DML statement targets, by its table name's last part.
fn target_resource(name: &ObjectName) -> Option<&'static Resource> {
    let table = name.0.last()?.as_ident()?.value.to_ascii_lowercase();
    schemas().resources.iter().find(|r| r.name() == table)
}

/// CamelCase columns (`EcrRepositoryPrefix`) become snake_case, and `ON CONFLICT` a directive.
fn rewrite_insert(insert: &mut Insert, directive: &mut Directive) -> Result<()> {
    let TableObject::TableName(name) = &insert.table else {
        return Ok(());
    };
    let Some(resource) = target_resource(name) else {
        return Ok(());
    };
    for column in &mut insert.columns {
        if let Some(ObjectNamePart::Identifier(ident)) = column.0.last_mut()
            && resource.column(&ident.value).is_none()
            && let Some(c) = resource.column_by_member(&ident.value)
        {
            *ident = Ident::new(c.name.clone());
        }
    }
    if insert.columns.is_empty()
        && resource.lazy_columns().next().is_some()
        && !matched_by_name(insert)
    {
        // Without a column list, INSERT takes the columns `SELECT *` shows (a lazy column is
        // read-only). A source with column names gets its list when planned, by those names.
        insert.columns = resource
            .star_columns()
            .map(|c| ObjectName::from(vec![Ident::new(c.name.clone())]))
            .collect();
    }
    name_select_items(insert);
    directive.on_conflict = match insert.on.take() {
        None => None,
        Some(OnInsert::OnConflict(OnConflict {
            action: OnConflictAction::DoNothing,
            ..
        })) => Some(Conflict::DoNothing),
        Some(OnInsert::OnConflict(OnConflict {
            action: OnConflictAction::DoUpdate(update),
            ..
        })) => Some(Conflict::DoUpdate(excluded_columns(
            resource,
            &update.assignments,
            update.selection.is_some(),
        )?)),
        Some(_) => {
            return Err(Error::Usage(
                "ON DUPLICATE KEY UPDATE is not supported: use ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn".into(),
            ));
        }
    };
    Ok(())
}

/// `INSERT … (a, b) SELECT 'quay', 'quay'`: each unnamed item of the SELECT is named after its
/// target column, since DataFusion refuses two items of the same name (stackql's examples
/// insert literals that way, and INSERT matches them by position anyway). A column keeps its
/// own name, which says where it is meant to go (`check_positional_names`).
fn name_select_items(insert: &mut Insert) {
    let Some(source) = insert.source.as_mut() else {
        return;
    };
    let SetExpr::Select(select) = source.body.as_mut() else {
        return;
    };
    for (i, item) in select.projection.iter_mut().enumerate() {
        if let SelectItem::UnnamedExpr(expr) = item
            && !matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
        {
            let name = insert
                .columns
                .get(i)
                .and_then(|c| c.0.last())
                .and_then(|p| p.as_ident())
                .map(|id| id.value.clone())
                .unwrap_or_else(|| format!("column{}", i + 1));
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::new(name),
            };
        }
    }
}

/// The columns of `ON CONFLICT DO UPDATE SET c = EXCLUDED.c, …`; only updatable columns.
fn excluded_columns(
    resource: &Resource,
    assignments: &[Assignment],
    filtered: bool,
) -> Result<Vec<String>> {
    let usage = || {
        Error::Usage(format!(
            "ON CONFLICT DO UPDATE supports SET <column> = EXCLUDED.<column> for {} only",
            resource.updatable_names()
        ))
    };
    if filtered || assignments.is_empty() {
        return Err(usage());
    }
    assignments
        .iter()
        .map(|a| {
            let AssignmentTarget::ColumnName(target) = &a.target else {
                return Err(usage());
            };
            let target = target
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.clone())
                .unwrap_or_default();
            let source = match &a.value {
                Expr::CompoundIdentifier(parts)
                    if parts.len() == 2 && parts[0].value.eq_ignore_ascii_case("excluded") =>
                {
                    &parts[1].value
                }
                _ => return Err(usage()),
            };
            match resource.column_named(&target) {
                Some(c) if c.updatable && source.eq_ignore_ascii_case(&target) => {
                    Ok(c.name.clone())
                }
                _ => Err(usage()),
            }
        })
        .collect()
}

/// `SET data__PatchDocument = '<patch>'` becomes a directive; when it was the only assignment,
/// an identity assignment keeps the statement valid SQL (DataFusion drops identities).
fn rewrite_update(update: &mut Update, directive: &mut Directive) -> Result<()> {
    let mut kept = Vec::new();
    for a in std::mem::take(&mut update.assignments) {
        let is_patch = matches!(&a.target, AssignmentTarget::ColumnName(n)
            if n.0.last().and_then(|p| p.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case(PATCH_COLUMN)));
        if !is_patch {
            kept.push(a);
            continue;
        }
        // stackql writes the patch as `string('…')`.
        let value = match &a.value {
            Expr::Function(f)
                if f.name.to_string().eq_ignore_ascii_case("string")
                    && let FunctionArguments::List(list) = &f.args
                    && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))] =
                        list.args.as_slice() =>
            {
                inner
            }
            other => other,
        };
        match value {
            Expr::Value(v) => match &v.value {
                SqlValue::SingleQuotedString(text) | SqlValue::DoubleQuotedString(text) => {
                    directive.patch_document = Some(text.clone());
                }
                _ => {
                    return Err(Error::Usage(format!(
                        "{PATCH_COLUMN} must be a string literal holding an RFC 6902 JSON Patch"
                    )));
                }
            },
            _ => {
                return Err(Error::Usage(format!(
                    "{PATCH_COLUMN} must be a string literal holding an RFC 6902 JSON Patch"
                )));
            }
        }
    }
    if directive.patch_document.is_some() && !kept.is_empty() {
        return Err(Error::Usage(format!(
            "SET {PATCH_COLUMN} cannot be combined with other assignments"
        )));
    }
    if kept.is_empty() {
        // Every table has the region column.
        let identifier = Ident::new("region");
        kept.push(Assignment {
            target: AssignmentTarget::ColumnName(ObjectName::from(vec![identifier.clone()])),
            value: Expr::Identifier(identifier),
        });
    }
    update.assignments = kept;
    Ok(())
}

fn rewrite<V: VisitMut>(node: &mut V) {
    super::star::exclude_lazy_columns(node);
    let _ = visit_expressions_mut(node, |expr| {
        match expr {
            Expr::Identifier(ident) => replace(ident),
            Expr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last_mut() {
                    replace(last);
                }
            }
            _ => {}
        }
        canonical_literals(expr);
        ControlFlow::<()>::Continue(())
    });
}

/// `ecr_repository_prefix = 'team/'` (or `<>`, `IN`, `NOT IN`) becomes `… 'team'`: ECR reads a
/// prefix as ending in `/`, and rows carry the one spelling without it, so both name one rule.
fn canonical_literals(expr: &mut Expr) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq | BinaryOperator::NotEq,
            right,
        } => {
            if is_slash_insensitive(left) {
                canonical_string(right);
            } else if is_slash_insensitive(right) {
                canonical_string(left);
            }
        }
        Expr::InList { expr, list, .. } if is_slash_insensitive(expr) => {
            list.iter_mut().for_each(canonical_string);
        }
        _ => {}
    }
}

fn is_slash_insensitive(expr: &Expr) -> bool {
    let name = match expr {
        Expr::Identifier(ident) => ident,
        Expr::CompoundIdentifier(parts) => match parts.last() {
            Some(last) => last,
            None => return false,
        },
        _ => return false,
    };
    let name = ALIASES
        .get(&name.value.to_ascii_lowercase())
        .cloned()
        .unwrap_or_else(|| name.value.to_ascii_lowercase());
    // By name, as this rewrite knows no table: the columns provider-schemas mark so.
    crate::schema::schemas()
        .resources
        .iter()
        .flat_map(|r| &r.columns)
        .any(|c| c.slash_insensitive && c.name == name)
}

fn canonical_string(expr: &mut Expr) {
    if let Expr::Value(v) = expr
        && let SqlValue::SingleQuotedString(text) = &mut v.value
    {
        *text = crate::schema::without_trailing_slash(text).to_string();
    }
}

fn replace(ident: &mut Ident) {
    if let Some(target) = ALIASES.get(&ident.value.to_ascii_lowercase()) {
        *ident = Ident::new(target.clone());
    }
}

#[cfg(test)]
mod tests {
    use crate::dml::OnConflict as Conflict;
    use crate::sql::parse::parse_script;

    #[test]
    fn data_identifier_becomes_the_identifier_column() {
        let s = parse_script(
            "SELECT region FROM aws.ecr.pull_through_cache_rule \
             WHERE region = 'us-east-1' AND data__Identifier = 'ecr-public'",
        )
        .unwrap();
        let text = s[0].statement.to_string();
        assert!(
            text.contains("ecr_repository_prefix = 'ecr-public'"),
            "{text}"
        );
        assert!(!text.to_lowercase().contains("data__identifier"), "{text}");
    }

    #[test]
    fn a_trailing_slash_names_the_same_rule() {
        let s = parse_script(
            "DELETE FROM aws.ecr.pull_through_cache_rules WHERE ecr_repository_prefix = 'team/' \
             OR data__Identifier IN ('a/b/', 'c') OR 'd/' = ecr_repository_prefix OR upstream_repository_prefix = 'x/'",
        )
        .unwrap();
        let text = s[0].statement.to_string();
        for want in [
            "= 'team'",
            "IN ('a/b', 'c')",
            "'d' = ",
            "upstream_repository_prefix = 'x/'",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
    }

    #[test]
    fn rewrites_inside_copy_and_explain() {
        for sql in [
            "COPY (SELECT * FROM t WHERE t.DATA__IDENTIFIER IN ('a1', 'b2')) TO 'x.csv'",
            "EXPLAIN SELECT * FROM t WHERE data__identifier = 'a1'",
        ] {
            let text = parse_script(sql).unwrap()[0].statement.to_string();
            assert!(text.contains("ecr_repository_prefix"), "{text}");
        }
    }

    #[test]
    fn insert_takes_camel_case_and_on_conflict() {
        let p = &parse_script(
            "INSERT INTO aws.ecr.pull_through_cache_rules (EcrRepositoryPrefix, UpstreamRegistryUrl, region) \
             VALUES ('q1', 'quay.io', 'us-east-1') ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn",
        )
        .unwrap()[0];
        let text = p.statement.to_string();
        assert!(
            text.contains("(ecr_repository_prefix, upstream_registry_url, region)"),
            "{text}"
        );
        assert!(!text.contains("ON CONFLICT"), "{text}");
        assert_eq!(
            p.directive.on_conflict,
            Some(Conflict::DoUpdate(vec!["credential_arn".into()]))
        );
        let e = parse_script("INSERT INTO aws.ecr.pull_through_cache_rules VALUES (1) ON CONFLICT DO UPDATE SET upstream_registry_url = EXCLUDED.upstream_registry_url")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("credential_arn, custom_role_arn only"),
            "{e}"
        );
    }

    #[test]
    fn patch_document_becomes_a_directive() {
        let p = &parse_script(
            r#"UPDATE aws.ecr.pull_through_cache_rule SET data__PatchDocument = '[{"op":"replace","path":"/CredentialArn","value":"x"}]' WHERE data__Identifier = 'dh'"#,
        )
        .unwrap()[0];
        assert!(
            p.directive
                .patch_document
                .as_deref()
                .unwrap()
                .contains("/CredentialArn")
        );
        assert!(
            p.statement.to_string().contains("SET region = region"),
            "{}",
            p.statement
        );
    }
}
