//! Which local files a session's SQL may read and write.
//!
//! The command line reads desired state from files (`FROM 'rules.csv'`, `CREATE EXTERNAL
//! TABLE`) and exports with `COPY … TO`; a dry run writes nothing at all; and a server for
//! remote clients (coming) must not let them touch the server's disk. One setting says which.

use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};

use crate::error::{Error, Result};

/// What SQL may do with local files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileAccess {
    /// Read files: `FROM 'path'`, `CREATE EXTERNAL TABLE … LOCATION`.
    pub read: bool,
    /// Write files: `COPY … TO`, `INSERT INTO` an external table.
    pub write: bool,
}

impl FileAccess {
    /// The command line's: read and write.
    pub const CLI: Self = Self {
        read: true,
        write: true,
    };
    /// No local file at all (remote clients).
    pub const NONE: Self = Self {
        read: false,
        write: false,
    };
}

impl Default for FileAccess {
    fn default() -> Self {
        Self::CLI
    }
}

/// The file formats a URL table is read as, by extension (DataFusion's, where registered).
const READ_FORMATS: [&str; 5] = ["csv", "json", "parquet", "arrow", "avro"];

/// skyql's words for a file that `FROM 'path'` could not open: DataFusion says only "table
/// 'datafusion.public.missing.csv' not found", since a URL table it cannot open is no table.
/// Any other error, and any error of a session that may not read files, is left as it is.
pub fn explain_unopened_file(error: Error, access: FileAccess, state: &SessionState) -> Error {
    let Error::Sql(message) = &error else {
        return error;
    };
    let catalog = &state.config_options().catalog;
    let prefix = format!(
        "table '{}.{}.",
        catalog.default_catalog, catalog.default_schema
    );
    let Some(name) = (message.find(&prefix))
        .map(|at| &message[at + prefix.len()..])
        .and_then(|rest| Some(&rest[..rest.find("' not found")?]))
    else {
        return error;
    };
    // A name that is no path (`FROM nope`) is a missing table; a URL of another scheme is
    // not a local file.
    let path = name.strip_prefix("file://").unwrap_or(name);
    if !access.read || !(path.contains('.') || path.contains('/')) || path.contains("://") {
        return error;
    }
    if !std::path::Path::new(path).exists() {
        let from = std::env::current_dir()
            .map(|d| format!(" (a relative path is read from {})", d.display()))
            .unwrap_or_default();
        return Error::Usage(format!(
            "file '{name}' does not exist{}; nothing was sent",
            if std::path::Path::new(path).is_relative() {
                from
            } else {
                String::new()
            }
        ));
    }
    let formats: Vec<String> = (READ_FORMATS.iter())
        .filter(|ext| state.get_file_format_factory(ext).is_some())
        .map(|ext| format!(".{ext}"))
        .collect();
    Error::Usage(format!(
        "'{name}' cannot be read as a table: FROM 'path' reads a file by its extension ({}); \
         for another name, CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{name}' (or JSON, \
         for newline-delimited JSON); nothing was sent",
        formats.join(", ")
    ))
}

/// Refuses a plan that reads or writes local files the session does not allow; `dry_run`
/// forbids every write (a dry run changes nothing, on AWS or on disk).
pub fn check_files(plan: &LogicalPlan, access: FileAccess, dry_run: bool) -> Result<()> {
    let mut problem = None;
    let _ = plan.apply(|node| {
        let (reads, writes) = touches(node);
        problem = refusal(reads, writes, access, dry_run).or_else(|| analyzed_copy(node));
        Ok(if problem.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    match problem {
        Some(why) => Err(Error::Usage(format!("{why}; nothing was sent"))),
        None => Ok(()),
    }
}

/// Refuses a file write (`COPY … TO`, which skyql writes itself) the session does not allow.
pub fn check_write(access: FileAccess, dry_run: bool) -> Result<()> {
    match refusal(false, true, access, dry_run) {
        Some(why) => Err(Error::Usage(format!("{why}; nothing was sent"))),
        None => Ok(()),
    }
}

fn refusal(reads: bool, writes: bool, access: FileAccess, dry_run: bool) -> Option<String> {
    if writes && dry_run {
        Some(
            "--dry-run writes no file: COPY … TO and INSERT INTO a file table are refused; \
             run without --dry-run to write it"
                .to_string(),
        )
    } else if writes && !access.write {
        Some("this session may not write local files (COPY … TO, INSERT INTO a file table)".into())
    } else if reads && !access.read {
        Some("this session may not read local files (FROM 'path', CREATE EXTERNAL TABLE)".into())
    } else {
        None
    }
}

/// `EXPLAIN ANALYZE COPY …` would run DataFusion's own COPY, which writes neither what `-o`
/// writes nor through a temporary file.
fn analyzed_copy(node: &LogicalPlan) -> Option<String> {
    let LogicalPlan::Analyze(analyze) = node else {
        return None;
    };
    matches!(analyze.input.as_ref(), LogicalPlan::Copy(_)).then(|| {
        "EXPLAIN ANALYZE runs its statement with DataFusion's own COPY, not skyql's: run the \
         COPY itself"
            .to_string()
    })
}

/// Whether a plan node reads and whether it writes local files.
fn touches(node: &LogicalPlan) -> (bool, bool) {
    match node {
        LogicalPlan::Copy(_) => (false, true),
        LogicalPlan::Ddl(DdlStatement::CreateExternalTable(_)) => (true, false),
        LogicalPlan::TableScan(scan) => (is_file_table(&scan.source), false),
        LogicalPlan::Dml(dml) => (
            false,
            matches!(dml.op, WriteOp::Insert(_)) && is_file_table(&dml.target),
        ),
        _ => (false, false),
    }
}

fn is_file_table(source: &std::sync::Arc<dyn datafusion::logical_expr::TableSource>) -> bool {
    source_as_provider(source)
        .is_ok_and(|p: std::sync::Arc<dyn TableProvider>| p.is::<ListingTable>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn plan(ctx: &SessionContext, sql: &str) -> LogicalPlan {
        ctx.state().create_logical_plan(sql).await.unwrap()
    }

    #[tokio::test]
    async fn copy_is_a_write_and_file_tables_are_reads() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("rules.csv");
        std::fs::write(&csv, "a,b\n1,2\n").unwrap();
        let ctx = SessionContext::new().enable_url_table();
        let copy = plan(&ctx, "COPY (SELECT 1) TO '/tmp/x.csv' STORED AS CSV").await;
        assert!(check_files(&copy, FileAccess::CLI, false).is_ok());
        let e = check_files(&copy, FileAccess::CLI, true).unwrap_err();
        assert!(e.to_string().contains("--dry-run writes no file"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let read = plan(&ctx, &format!("SELECT * FROM '{}'", csv.display())).await;
        assert!(check_files(&read, FileAccess::CLI, true).is_ok());
        let e = check_files(&read, FileAccess::NONE, false).unwrap_err();
        assert!(e.to_string().contains("may not read local files"), "{e}");
        let analyzed = plan(&ctx, "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/x.csv'").await;
        let e = check_files(&analyzed, FileAccess::CLI, false).unwrap_err();
        assert!(e.to_string().contains("run the COPY itself"), "{e}");
        let select = plan(&ctx, "SELECT 1").await;
        assert!(check_files(&select, FileAccess::NONE, true).is_ok());
    }
}
