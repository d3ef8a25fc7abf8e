//! `SELECT *` leaves out lazy columns (filled by one extra call per row, such as `is_valid`):
//! an inventory export's `*` costs one listing per region, and a statement that names a lazy
//! column still gets it.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    ExcludeSelectItem, Ident, JoinConstraint, JoinOperator, ObjectName, Select, SelectItem,
    SelectItemQualifiedWildcardKind, TableFactor, VisitMut, VisitorMut, WildcardAdditionalOptions,
};

use crate::schema::{Resource, schemas};

/// Rewrites every `*` and `t.*` over a table with lazy columns, anywhere in `node`.
pub fn exclude_lazy_columns<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut Stars);
}

struct Stars;

impl VisitorMut for Stars {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        rewrite_select(select);
        ControlFlow::Continue(())
    }
}

/// One relation of a FROM clause: the name `t.*` uses for it and its lazy columns.
struct Relation {
    qualifier: Option<Ident>,
    lazy: Vec<String>,
}

fn rewrite_select(select: &mut Select) {
    let mut relations = Vec::new();
    let mut joins_by_name = false;
    for from in &select.from {
        relations.push(relation(&from.relation));
        for join in &from.joins {
            relations.push(relation(&join.relation));
            joins_by_name |= matches!(
                constraint(&join.join_operator),
                Some(JoinConstraint::Using(_) | JoinConstraint::Natural)
            );
        }
    }
    if relations.iter().all(|r| r.lazy.is_empty()) {
        return;
    }
    let mut items = Vec::with_capacity(select.projection.len());
    for item in std::mem::take(&mut select.projection) {
        match item {
            SelectItem::Wildcard(mut options) if relations.len() == 1 => {
                exclude(&mut options, &relations[0].lazy);
                items.push(SelectItem::Wildcard(options));
            }
            // Over several relations, `*` becomes one `t.*` each (the same columns in the same
            // order), so each table's lazy columns are left out without naming another's. Not
            // under USING/NATURAL, whose `*` shows a join column once, nor with options that
            // may name any relation's columns.
            SelectItem::Wildcard(options)
                if !joins_by_name
                    && is_plain(&options)
                    && relations.iter().all(|r| r.qualifier.is_some()) =>
            {
                for r in &relations {
                    let mut options = options.clone();
                    exclude(&mut options, &r.lazy);
                    let name = ObjectName::from(vec![r.qualifier.clone().expect("checked")]);
                    items.push(SelectItem::QualifiedWildcard(
                        SelectItemQualifiedWildcardKind::ObjectName(name),
                        options,
                    ));
                }
            }
            SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                mut options,
            ) => {
                if let Some(r) = relations.iter().find(|r| names(r, &name)) {
                    exclude(&mut options, &r.lazy);
                }
                items.push(SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    options,
                ));
            }
            other => items.push(other),
        }
    }
    select.projection = items;
}

fn relation(factor: &TableFactor) -> Relation {
    match factor {
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => Relation {
            qualifier: Some(match alias {
                Some(a) => a.name.clone(),
                None => name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .cloned()
                    .unwrap_or_else(|| Ident::new("")),
            }),
            lazy: resource(name)
                .map(|r| r.lazy_columns().map(|c| c.name.clone()).collect())
                .unwrap_or_default(),
        },
        other => Relation {
            qualifier: table_alias(other),
            lazy: Vec::new(),
        },
    }
}

fn table_alias(factor: &TableFactor) -> Option<Ident> {
    match factor {
        TableFactor::Derived { alias, .. } | TableFactor::Table { alias, .. } => {
            alias.as_ref().map(|a| a.name.clone())
        }
        _ => None,
    }
}

/// The aws resource a table name names (`aws.ecr.x`, or `ecr.x`).
pub(super) fn resource(name: &ObjectName) -> Option<&'static Resource> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| i.value.to_ascii_lowercase())
        .collect();
    match parts.as_slice() {
        [provider, service, table] if provider == "aws" => schemas().resource(service, table),
        [service, table] => schemas().resource(service, table),
        _ => None,
    }
}

/// Whether `t.*`'s `name` is this relation (by its alias or the last part of its table name).
fn names(relation: &Relation, name: &ObjectName) -> bool {
    let last = name.0.last().and_then(|p| p.as_ident());
    match (&relation.qualifier, last) {
        (Some(q), Some(n)) => q.value.eq_ignore_ascii_case(&n.value),
        _ => false,
    }
}

/// Adds `columns` to the wildcard's EXCLUDE list (keeping what the statement excluded).
fn exclude(options: &mut WildcardAdditionalOptions, columns: &[String]) {
    if columns.is_empty() {
        return;
    }
    let mut listed: Vec<ObjectName> = match options.opt_exclude.take() {
        None => Vec::new(),
        Some(ExcludeSelectItem::Single(name)) => vec![name],
        Some(ExcludeSelectItem::Multiple(names)) => names,
    };
    // EXCEPT names columns too; DataFusion refuses a column excluded twice.
    let excepted: Vec<String> = options
        .opt_except
        .as_ref()
        .map(|e| {
            std::iter::once(&e.first_element)
                .chain(&e.additional_elements)
                .map(|i| i.value.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    for column in columns {
        let already = excepted.contains(column)
            || listed
                .iter()
                .any(|n| n.to_string().trim_matches('"').eq_ignore_ascii_case(column));
        if !already {
            listed.push(ObjectName::from(vec![Ident::new(column.clone())]));
        }
    }
    options.opt_exclude = Some(ExcludeSelectItem::Multiple(listed));
}

/// Whether a wildcard has no option that names columns (ILIKE, EXCLUDE, EXCEPT, REPLACE, RENAME).
fn is_plain(options: &WildcardAdditionalOptions) -> bool {
    options.opt_ilike.is_none()
        && options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
}

fn constraint(operator: &JoinOperator) -> Option<&JoinConstraint> {
    use JoinOperator as J;
    match operator {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c)
        | J::Semi(c)
        | J::LeftSemi(c)
        | J::RightSemi(c)
        | J::Anti(c)
        | J::LeftAnti(c)
        | J::RightAnti(c)
        | J::StraightJoin(c) => Some(c),
        J::AsOf { constraint, .. } => Some(constraint),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&GenericDialect {}, sql).unwrap();
        exclude_lazy_columns(&mut statements);
        statements[0].to_string()
    }

    #[test]
    fn star_over_a_table_with_lazy_columns_excludes_them() {
        assert_eq!(
            rewritten("SELECT * FROM aws.ecr.pull_through_cache_rules"),
            "SELECT * EXCLUDE (is_valid, validation_failure) FROM aws.ecr.pull_through_cache_rules"
        );
        assert_eq!(
            rewritten("SELECT r.* FROM aws.ecr.pull_through_cache_rule AS r"),
            "SELECT r.* EXCLUDE (is_valid, validation_failure) FROM aws.ecr.pull_through_cache_rule AS r"
        );
    }

    #[test]
    fn a_named_lazy_column_and_tables_without_lazy_columns_are_untouched() {
        for sql in [
            "SELECT *, is_valid FROM aws.ecr.registry_policy_statements",
            "SELECT region, is_valid FROM aws.ecr.pull_through_cache_rules",
            "SELECT * FROM aws.ecr.registry_policy",
            "SELECT * FROM 'rules.csv'",
        ] {
            assert_eq!(rewritten(sql), sql);
        }
        assert_eq!(
            rewritten("SELECT *, is_valid FROM aws.ecr.pull_through_cache_rules"),
            "SELECT * EXCLUDE (is_valid, validation_failure), is_valid FROM aws.ecr.pull_through_cache_rules"
        );
    }

    #[test]
    fn the_statements_own_exclude_and_except_are_kept() {
        assert_eq!(
            rewritten("SELECT * EXCLUDE (region, is_valid) FROM aws.ecr.pull_through_cache_rules"),
            "SELECT * EXCLUDE (region, is_valid, validation_failure) FROM aws.ecr.pull_through_cache_rules"
        );
        assert_eq!(
            rewritten("SELECT * EXCEPT (is_valid) FROM aws.ecr.pull_through_cache_rules"),
            "SELECT * EXCLUDE (validation_failure) EXCEPT (is_valid) FROM aws.ecr.pull_through_cache_rules"
        );
    }

    #[test]
    fn a_join_expands_star_per_relation_and_subqueries_are_rewritten() {
        assert_eq!(
            rewritten(
                "SELECT * FROM aws.ecr.pull_through_cache_rules AS r JOIN t ON r.region = t.region"
            ),
            "SELECT r.* EXCLUDE (is_valid, validation_failure), t.* FROM aws.ecr.pull_through_cache_rules AS r JOIN t ON r.region = t.region"
        );
        assert_eq!(
            rewritten("SELECT count(*) FROM (SELECT * FROM aws.ecr.pull_through_cache_rules)"),
            "SELECT count(*) FROM (SELECT * EXCLUDE (is_valid, validation_failure) FROM aws.ecr.pull_through_cache_rules)"
        );
        // USING shows its column once under `*`: left alone (correct, at the calls' cost).
        let using = "SELECT * FROM aws.ecr.pull_through_cache_rules JOIN t USING(region)";
        assert_eq!(rewritten(using), using);
    }
}
