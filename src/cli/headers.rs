//! psql's result headers: `?column?` for an unaliased expression, a function call's function name.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, Query, SelectItem, SetExpr, Statement,
};

use crate::sql::parse::ParsedStatement;

/// psql's name for an expression without a name of its own.
pub const UNNAMED: &str = "?column?";

/// The headers of one statement's result, read from its SELECT list before it runs.
///
/// DataFusion names an unaliased result column after the expression's text (`Int64(1)`,
/// `Utf8("a")`, `count(*)`). psql names it from the statement instead (PostgreSQL's
/// `FigureColname`), and so does this: the SELECT list says which columns are aliased or plain
/// column references (kept as DataFusion names them) and what the others are called. Names are
/// not guessed from their text, so an alias such as `AS "count(*)"` stays.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    /// One entry per SELECT item; `None` keeps every name (not a query, or a SELECT list whose
    /// items cannot be matched to the result's columns).
    items: Option<Vec<Header>>,
}

/// What a SELECT item's columns are called.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Header {
    /// An alias or a column: DataFusion's name is already psql's.
    Keep,
    /// `*` or `t.*`: columns, kept, as many as the rest of the list leaves.
    Wildcard,
    /// The name psql gives (`count`, `?column?`).
    Named(String),
}

impl Headers {
    /// The headers of `parsed`'s result. Only queries are renamed: DML answers `count`, EXPLAIN
    /// its plan, and `EXPLAIN PERMISSIONS` a table of its own.
    pub fn of(parsed: &ParsedStatement) -> Self {
        let items = match &parsed.statement {
            DfStatement::Statement(statement) if !parsed.explain_permissions => {
                match statement.as_ref() {
                    Statement::Query(query) => {
                        select_list(query).map(|list| list.iter().map(header).collect())
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        Self { items }
    }

    /// The result's schema with psql's names (the same schema when nothing changes).
    pub fn schema(&self, schema: &SchemaRef) -> SchemaRef {
        let Some(names) = self.names(schema) else {
            return Arc::clone(schema);
        };
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .zip(names)
            .map(|(field, name)| field.as_ref().clone().with_name(name))
            .collect();
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    }

    /// The result (its schema and rows) with psql's names: csv headers and json keys read them
    /// from the batches.
    pub fn rename(
        &self,
        schema: &SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
        let renamed = self.schema(schema);
        if Arc::ptr_eq(&renamed, schema) {
            return Ok((renamed, batches));
        }
        let batches = batches
            .into_iter()
            .map(|batch| {
                let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                RecordBatch::try_new_with_options(
                    Arc::clone(&renamed),
                    batch.columns().to_vec(),
                    &options,
                )
            })
            .collect::<Result<_, _>>()?;
        Ok((renamed, batches))
    }

    /// The new name of each field, or `None` when nothing changes or the SELECT list does not
    /// line up with the fields (more than one wildcard: how many columns each stands for is
    /// unknown, so every name is kept).
    fn names(&self, schema: &SchemaRef) -> Option<Vec<String>> {
        let items = self.items.as_ref()?;
        let fields = schema.fields();
        let wildcards = items.iter().filter(|h| **h == Header::Wildcard).count();
        let fixed = items.len() - wildcards;
        let expanded = match wildcards {
            0 if fixed == fields.len() => 0,
            1 if fixed <= fields.len() => fields.len() - fixed,
            _ => return None,
        };
        let mut names = Vec::with_capacity(fields.len());
        let mut field = fields.iter();
        for item in items {
            let count = if *item == Header::Wildcard {
                expanded
            } else {
                1
            };
            for f in field.by_ref().take(count) {
                names.push(match item {
                    Header::Named(name) => name.clone(),
                    Header::Keep | Header::Wildcard => f.name().clone(),
                });
            }
        }
        let changed = names.iter().zip(fields.iter()).any(|(n, f)| n != f.name());
        changed.then_some(names)
    }
}

/// The SELECT list that names a query's columns: the first SELECT of a UNION, as in SQL.
/// `None` for VALUES and TABLE (their names are kept).
fn select_list(query: &Query) -> Option<&[SelectItem]> {
    let mut body = query.body.as_ref();
    loop {
        body = match body {
            SetExpr::Select(select) => return Some(&select.projection),
            SetExpr::Query(query) => query.body.as_ref(),
            SetExpr::SetOperation { left, .. } => left.as_ref(),
            _ => return None,
        };
    }
}

fn header(item: &SelectItem) -> Header {
    match item {
        SelectItem::ExprWithAlias { .. } | SelectItem::ExprWithAliases { .. } => Header::Keep,
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => Header::Wildcard,
        // A column's name is DataFusion's too (`t.region` is `region`).
        SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => Header::Keep,
        SelectItem::UnnamedExpr(expr) => {
            Header::Named(column_name(expr).unwrap_or_else(|| UNNAMED.to_string()))
        }
    }
}

/// PostgreSQL's `FigureColname`: the name psql shows for an unaliased expression, `None` for
/// `?column?` (a constant, an operator).
fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(normalized(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(normalized),
        Expr::Function(function) => function_name(&function.name),
        // A cast keeps its operand's name; a cast constant is named after its type (`'1'::int`
        // is `int`).
        Expr::Cast {
            expr, data_type, ..
        } => column_name(expr).or_else(|| Some(data_type.to_string().to_lowercase())),
        Expr::Nested(inner) => column_name(inner),
        // `actions[1]` is `actions`.
        Expr::CompoundFieldAccess { root, .. } => column_name(root),
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        // SQL's special forms of functions.
        Expr::Extract { .. } => Some("extract".into()),
        Expr::Substring { .. } => Some("substring".into()),
        Expr::Position { .. } => Some("position".into()),
        Expr::Overlay { .. } => Some("overlay".into()),
        Expr::Trim { .. } => Some("btrim".into()),
        Expr::Ceil { .. } => Some("ceil".into()),
        Expr::Floor { .. } => Some("floor".into()),
        _ => None,
    }
}

/// A function's own name, without its schema (`count`, `upper`).
fn function_name(name: &ObjectName) -> Option<String> {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(normalized)
}

/// An identifier as SQL resolves it: unquoted ones are case-insensitive (lower case), quoted
/// ones keep their case.
fn normalized(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse::parse_script;
    use datafusion::arrow::datatypes::DataType;

    /// psql's names for `sql`'s result, whose fields DataFusion named `fields`.
    fn names(sql: &str, fields: &[&str]) -> Vec<String> {
        let parsed = parse_script(sql).unwrap().remove(0);
        let schema = Arc::new(Schema::new(
            fields
                .iter()
                .map(|f| Field::new(*f, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        Headers::of(&parsed)
            .schema(&schema)
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    #[test]
    fn constants_and_operators_are_unnamed() {
        assert_eq!(
            names(
                "SELECT 1, 'a', 40 + 2, NULL, true",
                &[
                    "Int64(1)",
                    "Utf8(\"a\")",
                    "Int64(40) + Int64(2)",
                    "NULL",
                    "Boolean(true)"
                ]
            ),
            [UNNAMED; 5]
        );
    }

    #[test]
    fn functions_are_named_after_the_function() {
        assert_eq!(
            names(
                "SELECT region, COUNT(*), upper(t.x), max(t.y) FROM t GROUP BY region",
                &["region", "count(*)", "upper(t.x)", "max(t.y)"]
            ),
            ["region", "count", "upper", "max"]
        );
        assert_eq!(
            names(
                "SELECT CAST(x AS VARCHAR), CAST(1 AS BIGINT), CASE WHEN x THEN 1 END, (x), a[1] FROM t",
                &[
                    "x",
                    "Int64(1)",
                    "CASE WHEN t.x THEN Int64(1) END",
                    "t.x",
                    "t.a[Int64(1)]"
                ]
            ),
            ["x", "bigint", "case", "x", "a"]
        );
    }

    #[test]
    fn aliases_and_columns_are_kept() {
        assert_eq!(
            names(
                r#"SELECT 1, 'a' AS x, count(*) AS "count(*)", t.region FROM t"#,
                &["Int64(1)", "x", "count(*)", "region"]
            ),
            [UNNAMED, "x", "count(*)", "region"]
        );
    }

    #[test]
    fn a_wildcard_stands_for_the_columns_around_it() {
        assert_eq!(
            names(
                "SELECT 1, *, count(*) FROM t",
                &["Int64(1)", "a", "b", "count(*)"]
            ),
            [UNNAMED, "a", "b", "count"]
        );
        // Two wildcards: which columns are which is unknown, so nothing is renamed.
        assert_eq!(
            names("SELECT *, 1, * FROM t", &["a", "Int64(1)", "a"]),
            ["a", "Int64(1)", "a"]
        );
    }

    #[test]
    fn unions_take_the_first_select_and_other_statements_keep_their_names() {
        assert_eq!(
            names("SELECT 1 UNION ALL SELECT 2 AS n", &["Int64(1)"]),
            [UNNAMED]
        );
        assert_eq!(
            names("(SELECT max(x) FROM t) ORDER BY 1", &["max(t.x)"]),
            ["max"]
        );
        assert_eq!(
            names("VALUES (1, 'a')", &["column1", "column2"]),
            ["column1", "column2"]
        );
        assert_eq!(
            names("EXPLAIN SELECT 1", &["plan_type", "plan"]),
            ["plan_type", "plan"]
        );
    }

    #[test]
    fn the_rows_are_renamed_with_the_schema() {
        use datafusion::arrow::array::{ArrayRef, Int64Array};
        let parsed = parse_script("SELECT 1").unwrap().remove(0);
        let schema = Arc::new(Schema::new(vec![Field::new(
            "Int64(1)",
            DataType::Int64,
            false,
        )]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from(vec![1])) as ArrayRef],
        )
        .unwrap();
        let (renamed, batches) = Headers::of(&parsed).rename(&schema, vec![batch]).unwrap();
        assert_eq!(renamed.field(0).name(), UNNAMED);
        assert_eq!(batches[0].schema().field(0).name(), UNNAMED);
        assert_eq!(batches[0].num_rows(), 1);
    }
}
