//! Parses a script into statements (all of it before anything runs), with the rewrites applied.

use datafusion::error::DataFusionError;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::ParserError;

use super::rewrite::rewrite_statement;
use crate::dml::Directive;
use crate::error::{Error, Result};

/// A statement ready for DataFusion, with what the SQL front took out of it for the provider.
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    /// The statement DataFusion plans.
    pub statement: Statement,
    /// `ON CONFLICT`, `data__PatchDocument`.
    pub directive: Directive,
}

/// Parses every statement of `sql`; a syntax error anywhere fails the whole script, with the
/// line and column sqlparser reports.
pub fn parse_script(sql: &str) -> Result<Vec<ParsedStatement>> {
    let statements =
        DFParser::parse_sql_with_dialect(sql, &GenericDialect {}).map_err(|e| {
            match e.find_root() {
                DataFusionError::SQL(parser_error, _) => {
                    Error::Sql(format!("syntax error: {}", syntax_message(parser_error)))
                }
                other => Error::Sql(other.strip_backtrace()),
            }
        })?;
    statements
        .into_iter()
        .map(|s| {
            rewrite_statement(s).map(|(statement, directive)| ParsedStatement {
                statement,
                directive,
            })
        })
        .collect()
}

/// Whether a statement can be planned without running the statements before it: queries,
/// DML, EXPLAIN and COPY can; statements that change the session (CREATE, DROP, SET) cannot be
/// relied on to have happened.
pub fn is_self_contained(statement: &Statement) -> bool {
    use datafusion::sql::sqlparser::ast::Statement as Sql;
    match statement {
        Statement::Statement(s) => matches!(
            **s,
            Sql::Query(_)
                | Sql::Insert(_)
                | Sql::Update(_)
                | Sql::Delete(_)
                | Sql::Merge(_)
                | Sql::Explain { .. }
                | Sql::ExplainTable { .. }
                | Sql::ShowTables { .. }
                | Sql::ShowColumns { .. }
        ),
        Statement::CopyTo(_) | Statement::Explain(_) => true,
        Statement::CreateExternalTable(_) | Statement::Reset(_) => false,
    }
}

/// sqlparser's message without its variant name (it already says where: `at Line: 2, Column: 10`).
fn syntax_message(e: &ParserError) -> String {
    match e {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_script("SELECT 1;\nSELECT * FORM t").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("Line: 2, Column"), "{err}");
    }

    #[test]
    fn self_contained_statements() {
        let kinds: Vec<bool> = parse_script(
            "SELECT 1; EXPLAIN SELECT 1; COPY (SELECT 1) TO 'x.csv'; CREATE VIEW v AS SELECT 1; SET datafusion.execution.batch_size = 10",
        )
        .unwrap()
        .iter()
        .map(|p| is_self_contained(&p.statement))
        .collect();
        assert_eq!(kinds, [true, true, true, false, false]);
    }

    #[test]
    fn splits_statements() {
        assert_eq!(parse_script("SELECT 1; SELECT 2;").unwrap().len(), 2);
        assert!(parse_script("  ").unwrap().is_empty());
    }
}
