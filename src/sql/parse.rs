//! Parses a script into statements (all of it before anything runs), with the rewrites applied.

use datafusion::error::DataFusionError;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};
use std::collections::BTreeSet;

use super::ddl::check_ddl;
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
    /// `EXPLAIN PERMISSIONS <statement>`: answer the IAM permissions the statement needs
    /// instead of running it.
    pub explain_permissions: bool,
}

/// Parses every statement of `sql`; a syntax error anywhere fails the whole script, with the
/// line and column sqlparser reports.
pub fn parse_script(sql: &str) -> Result<Vec<ParsedStatement>> {
    check_complexity(sql)?;
    let (sql, permissions) = take_explain_permissions(sql);
    let statements =
        DFParser::parse_sql_with_dialect(&sql, &GenericDialect {}).map_err(|e| {
            match e.find_root() {
                DataFusionError::SQL(parser_error, _) => {
                    Error::Sql(format!("syntax error: {}", syntax_message(parser_error)))
                }
                other => Error::Sql(other.strip_backtrace()),
            }
        })?;
    statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let explain_permissions = permissions.contains(&i);
            check_ddl(&s)?;
            check_explain_analyze(&s)?;
            let (statement, directive) = rewrite_statement(s)?;
            let statement = match statement {
                // The PERMISSIONS keyword was blanked, so this parsed as EXPLAIN <statement>.
                Statement::Explain(e) if explain_permissions => *e.statement,
                other => other,
            };
            Ok(ParsedStatement {
                statement,
                directive,
                explain_permissions,
            })
        })
        .collect()
}

/// Operators one statement may hold. Each binary operator nests the expression tree one level
/// deeper, and each set operation (UNION, …) the query, and planning walks those trees
/// recursively: ten thousand terms (or three thousand UNION ALL) overflow the stack and abort
/// the process. A thousand is far beyond any hand-written statement (long value lists belong in
/// `IN (…)`, and rows in one `VALUES`, which do not nest).
pub const MAX_OPERATORS: usize = 1000;

/// Refuses a statement too deep to plan safely, before parsing it (the parser builds a long
/// operator chain without limit), so it fails with exit 2 instead of a stack overflow.
fn check_complexity(sql: &str) -> Result<()> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Ok(()); // the parser reports the tokenizer's error with its position
    };
    let (mut statement, mut operators) = (1, 0usize);
    for token in tokens {
        let operator = match &token {
            Token::SemiColon => {
                statement += 1;
                operators = 0;
                false
            }
            // A set operation nests the query one level deeper, as AND does an expression.
            Token::Word(w) if w.quote_style.is_none() => {
                ["AND", "OR", "NOT", "UNION", "EXCEPT", "INTERSECT"]
                    .iter()
                    .any(|k| w.value.eq_ignore_ascii_case(k))
            }
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Ampersand
            | Token::Pipe
            | Token::Caret => true,
            _ => false,
        };
        if operator {
            operators += 1;
            if operators > MAX_OPERATORS {
                return Err(Error::Usage(format!(
                    "statement {statement} is too complex to plan safely: more than {MAX_OPERATORS} \
                     operators and set operations (AND, OR, =, +, UNION, …) in one statement. \
                     Put long lists of values in IN ('a', 'b', …) instead of OR chains and rows \
                     in one VALUES list instead of UNION ALL, or split the statement; nothing \
                     was sent"
                )));
            }
        }
    }
    Ok(())
}

/// Refuses `EXPLAIN ANALYZE` of a statement that writes: ANALYZE runs the statement to measure
/// it, so it would make the changes, while EXPLAIN promises no call.
fn check_explain_analyze(statement: &Statement) -> Result<()> {
    use datafusion::sql::sqlparser::ast::Statement as Sql;
    let Statement::Explain(explain) = statement else {
        return Ok(());
    };
    let writes = match explain.statement.as_ref() {
        Statement::Statement(s) => matches!(
            **s,
            Sql::Insert(_) | Sql::Update(_) | Sql::Delete(_) | Sql::Merge(_)
        ),
        Statement::CopyTo(_) => true,
        _ => false,
    };
    if explain.options.analyze && writes {
        return Err(Error::Usage(
            "EXPLAIN ANALYZE runs the statement it measures, and this one writes: it would make \
             the changes. Use EXPLAIN (the plan, with no call), --dry-run (every call it would \
             make, with no change) or EXPLAIN PERMISSIONS; nothing was sent"
                .into(),
        ));
    }
    Ok(())
}

/// Blanks the `PERMISSIONS` of every `EXPLAIN PERMISSIONS …` with spaces (so positions in
/// syntax errors stay right) and answers which statements, by index, had it. sqlparser does not
/// know this form; the rest of the statement is ordinary SQL.
fn take_explain_permissions(sql: &str) -> (String, BTreeSet<usize>) {
    let mut found = BTreeSet::new();
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        // The parser reports the tokenizer's error with its position.
        return (sql.to_string(), found);
    };
    let mut text = sql.to_string();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |loc: Location| -> Option<usize> {
        let start = *line_starts.get((loc.line as usize).checked_sub(1)?)?;
        sql[start..]
            .char_indices()
            .nth((loc.column as usize).checked_sub(1)?)
            .map(|(i, _)| start + i)
    };
    let (mut index, mut seen) = (0, Vec::new());
    for t in tokens {
        match &t.token {
            Token::Whitespace(_) => {}
            Token::SemiColon => {
                if !seen.is_empty() {
                    index += 1;
                }
                seen.clear();
            }
            token => {
                if seen.len() < 2 {
                    seen.push((token.clone(), t.span.start));
                }
                if let [(Token::Word(first), _), (Token::Word(second), at)] = seen.as_slice()
                    && seen.len() == 2
                    && first.value.eq_ignore_ascii_case("EXPLAIN")
                    && second.value.eq_ignore_ascii_case("PERMISSIONS")
                    && second.quote_style.is_none()
                    && found.insert(index)
                    && let Some(at) = offset(*at)
                {
                    text.replace_range(at..at + "PERMISSIONS".len(), &" ".repeat(11));
                }
            }
        }
    }
    (text, found)
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
    fn explain_permissions_is_taken_out() {
        let parsed = parse_script(
            "SELECT 1;\nexplain Permissions DELETE FROM aws.ecr.pull_through_cache_rules WHERE ecr_repository_prefix = 'x'; EXPLAIN SELECT 2",
        )
        .unwrap();
        let flags: Vec<bool> = parsed.iter().map(|p| p.explain_permissions).collect();
        assert_eq!(flags, [false, true, false]);
        assert!(parsed[1].statement.to_string().starts_with("DELETE"));
        let err = parse_script("EXPLAIN PERMISSIONS SELEC 1").unwrap_err();
        assert!(err.to_string().contains("Line: 1, Column"), "{err}");
        assert!(!parse_script("SELECT 'EXPLAIN PERMISSIONS'").unwrap()[0].explain_permissions);
    }

    #[test]
    fn too_many_operators_are_refused_before_parsing() {
        let deep = format!("SELECT {}", vec!["1"; 10_000].join(" + "));
        let e = parse_script(&deep).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("too complex"), "{e}");
        let chain = (0..3000)
            .map(|i| format!("region <> 'r{i}'"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let e = parse_script(&format!("SELECT 1; DELETE FROM t WHERE {chain}")).unwrap_err();
        assert!(e.to_string().contains("statement 2"), "{e}");
        let list = (0..5000)
            .map(|i| format!("'r{i}'"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(parse_script(&format!("SELECT 1 WHERE 'a' IN ({list})")).is_ok());
        // Set operations nest as deep (a DELETE's IN (SELECT … UNION ALL …) too).
        let unions = vec!["SELECT 1"; 3000].join(" UNION ALL ");
        for sql in [
            unions.clone(),
            format!("DELETE FROM t WHERE x IN ({unions})"),
        ] {
            let e = parse_script(&sql).unwrap_err();
            assert!(e.to_string().contains("too complex"), "{e}");
        }
    }

    #[test]
    fn explain_analyze_of_a_write_is_refused() {
        for sql in [
            "EXPLAIN ANALYZE DELETE FROM aws.ecr.pull_through_cache_rules WHERE ecr_repository_prefix = 'x'",
            "EXPLAIN ANALYZE INSERT INTO t VALUES (1)",
            "EXPLAIN ANALYZE UPDATE t SET a = 1 WHERE b = 2",
            "EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'",
        ] {
            let e = parse_script(sql).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{sql}");
            assert!(e.to_string().contains("it would make the changes"), "{e}");
        }
        assert!(parse_script("EXPLAIN ANALYZE SELECT 1").is_ok());
        assert!(parse_script("EXPLAIN DELETE FROM t WHERE a = 1").is_ok());
    }

    #[test]
    fn splits_statements() {
        assert_eq!(parse_script("SELECT 1; SELECT 2;").unwrap().len(), 2);
        assert!(parse_script("  ").unwrap().is_empty());
    }
}
