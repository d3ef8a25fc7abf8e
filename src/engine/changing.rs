//! Functions whose value changes from one evaluation to the next (`random()`, `uuid()`) or with
//! the clock (`now()`, `current_date`): a write that chooses its rows with one cannot promise to
//! touch the rows a SELECT (or `--dry-run`) with the same WHERE showed, so it is refused.

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, Volatility};

use crate::error::{Error, Result};

/// Refuses `expr`, the `clause` of a `verb` statement ("the WHERE of DELETE", "MERGE's ON"),
/// when it calls a function whose value changes between the review and the run.
pub fn refuse_changing_functions(expr: &Expr, clause: &str) -> Result<()> {
    let Some(name) = changing_function(expr) else {
        return Ok(());
    };
    let instead = if clock_function(&name) {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        format!(
            "{name}() is the time the statement runs, which moves between the review and the run: \
             write the time as a literal instead (created_at < TIMESTAMP '{now}')"
        )
    } else {
        format!(
            "{name}() gives another value each time it is evaluated: choose the rows by their \
             values instead (… IN ('a', 'b'))"
        )
    };
    Err(Error::Usage(format!(
        "{name}() in {clause}: a write touches exactly the rows a SELECT with the same condition \
         returns, and with {name}() it could not. {instead}; nothing was sent"
    )))
}

/// The first function in `expr` whose value is not fixed by its arguments.
fn changing_function(expr: &Expr) -> Option<String> {
    let mut found = None;
    let _ = expr.apply(|e| {
        if let Expr::ScalarFunction(f) = e
            && f.func.signature().volatility != Volatility::Immutable
        {
            found = Some(f.func.name().to_string());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// Whether `name` reads the clock (DataFusion's stable functions are exactly these).
fn clock_function(name: &str) -> bool {
    matches!(name, "now" | "current_date" | "current_time")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::FunctionRegistry;
    use datafusion::prelude::{SessionContext, col, lit};

    fn function(ctx: &SessionContext, name: &str) -> Expr {
        ctx.udf(name).expect("a built-in function").call(vec![])
    }

    #[test]
    fn functions_that_change_are_refused_naming_what_to_write_instead() {
        let ctx = SessionContext::new();
        let random = col("x").lt(function(&ctx, "random"));
        let e = refuse_changing_functions(&random, "the WHERE of DELETE").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("random() in the WHERE of DELETE"),
            "{e}"
        );
        assert!(e.to_string().contains("IN ('a', 'b')"), "{e}");
        let now = col("created_at").lt(function(&ctx, "now"));
        let e = refuse_changing_functions(&now, "MERGE's ON").unwrap_err();
        assert!(e.to_string().contains("TIMESTAMP '20"), "{e}");
        let fixed = col("region")
            .eq(lit("us-east-1"))
            .and(ctx.udf("upper").unwrap().call(vec![col("x")]).eq(lit("A")));
        assert!(refuse_changing_functions(&fixed, "the WHERE of UPDATE").is_ok());
    }
}
