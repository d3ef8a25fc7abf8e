//! stackql-compatibility rewrites on the parsed statement: `data__Identifier` in WHERE names
//! the resource's identifier column without being a column of `SELECT *`.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use datafusion::sql::parser::{CopyToSource, ExplainStatement, Statement};
use datafusion::sql::sqlparser::ast::{Expr, Ident, VisitMut, visit_expressions_mut};

use crate::schema::schemas;

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

/// Replaces alias identifiers (`data__Identifier`, any case, bare or qualified) by their column.
pub fn rewrite_statement(statement: Statement) -> Statement {
    match statement {
        Statement::Statement(mut s) => {
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
            Statement::Explain(ExplainStatement {
                options,
                statement: Box::new(rewrite_statement(*statement)),
            })
        }
        other => other,
    }
}

fn rewrite<V: VisitMut>(node: &mut V) {
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
        ControlFlow::<()>::Continue(())
    });
}

fn replace(ident: &mut Ident) {
    if let Some(target) = ALIASES.get(&ident.value.to_ascii_lowercase()) {
        *ident = Ident::new(target.clone());
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::parse::parse_script;

    #[test]
    fn data_identifier_becomes_the_identifier_column() {
        let s = parse_script(
            "SELECT region FROM aws.ecr.pull_through_cache_rule \
             WHERE region = 'us-east-1' AND data__Identifier = 'ecr-public'",
        )
        .unwrap();
        let text = s[0].to_string();
        assert!(
            text.contains("ecr_repository_prefix = 'ecr-public'"),
            "{text}"
        );
        assert!(!text.to_lowercase().contains("data__identifier"), "{text}");
    }

    #[test]
    fn rewrites_inside_copy_and_explain() {
        for sql in [
            "COPY (SELECT * FROM t WHERE t.DATA__IDENTIFIER IN ('a1', 'b2')) TO 'x.csv'",
            "EXPLAIN SELECT * FROM t WHERE data__identifier = 'a1'",
        ] {
            let text = parse_script(sql).unwrap()[0].to_string();
            assert!(text.contains("ecr_repository_prefix"), "{text}");
        }
    }
}
