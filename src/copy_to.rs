//! `COPY … TO 'file'`: skyql writes a query's rows to one local file itself, exactly as `-o`
//! writes them (lists as JSON text in csv), through a temporary file moved into place when
//! complete; an existing file is replaced only when the statement says so.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
};
use datafusion::sql::parser::{CopyToSource, CopyToStatement, Statement};
use futures::StreamExt;

use crate::engine::RegionFailures;
use crate::error::{Error, Result};
use crate::formats::{FileFormat, FormatWriter, write_error};
use crate::sql::parse::parse_script;
use crate::staged_file::{Existing, StagedFile};

/// The one option COPY takes: `OPTIONS (overwrite true)` replaces an existing file.
pub const OVERWRITE: &str = "overwrite";

/// Where and how a COPY writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyTarget {
    /// The file.
    pub path: PathBuf,
    /// Its format: `STORED AS`, else the file's extension.
    pub format: FileFormat,
    /// Whether an existing file may be replaced.
    pub overwrite: bool,
}

impl CopyTarget {
    /// Reads a COPY statement's target, refusing what skyql does not write (exit 2): several
    /// files (`PARTITIONED BY`), a URL, a format other than csv, json and ndjson, options
    /// other than `overwrite`.
    pub fn of(copy: &CopyToStatement) -> Result<Self> {
        let target = &copy.target;
        let refuse =
            |why: String| Error::Usage(format!("COPY … TO '{target}': {why}; nothing was sent"));
        if !copy.partitioned_by.is_empty() {
            return Err(refuse(
                "PARTITIONED BY writes a directory of files, and COPY writes one file: \
                 run one COPY per value instead (… WHERE region = 'eu-west-1') TO 'eu-west-1.csv'"
                    .into(),
            ));
        }
        if target.contains("://") {
            return Err(refuse("COPY writes local files only".into()));
        }
        let mut overwrite = false;
        for (key, value) in &copy.options {
            let value = value
                .clone()
                .into_string()
                .unwrap_or_else(|| value.to_string());
            match (
                key.to_ascii_lowercase().as_str(),
                value.to_ascii_lowercase().as_str(),
            ) {
                (OVERWRITE, "true") => overwrite = true,
                (OVERWRITE, "false") => overwrite = false,
                (OVERWRITE, other) => {
                    return Err(refuse(format!(
                        "the option {OVERWRITE} is true or false, not '{other}'"
                    )));
                }
                (other, _) => {
                    return Err(refuse(format!(
                        "'{other}' is not an option of COPY, which writes what -o writes; its one \
                         option is OPTIONS ({OVERWRITE} true), to replace an existing file"
                    )));
                }
            }
        }
        let format = match &copy.stored_as {
            Some(name) => format_named(name).map_err(refuse)?,
            None => match Path::new(target).extension() {
                Some(extension) => format_named(&extension.to_string_lossy()).map_err(refuse)?,
                None => {
                    return Err(refuse(format!(
                        "the file name has no extension to tell its format: name it {}, or add \
                         STORED AS CSV, JSON or NDJSON",
                        extensions()
                    )));
                }
            },
        };
        Ok(Self {
            path: PathBuf::from(target),
            format,
            overwrite,
        })
    }

    /// Refuses a target that cannot be written (exit 2, before any call): an existing file
    /// without `overwrite`, a directory, a directory that does not exist, one not writable.
    pub fn check(&self) -> Result<()> {
        if !self.overwrite && !self.path.is_dir() && std::fs::symlink_metadata(&self.path).is_ok() {
            return Err(Error::Usage(format!(
                "COPY … TO '{}': the file already exists, and COPY replaces a file only when told \
                 to: add OPTIONS ({OVERWRITE} true) to replace it, or choose another name; nothing \
                 was sent",
                self.path.display()
            )));
        }
        // Creating (and dropping) the temporary file proves the directory is writable.
        StagedFile::create(&self.path)
            .map(drop)
            .map_err(|e| Error::Usage(format!("{e}; nothing was sent")))
    }
}

/// The format `name` stands for, or why skyql does not write it.
fn format_named(name: &str) -> std::result::Result<FileFormat, String> {
    if let Some(format) = FileFormat::named(name) {
        return Ok(format);
    }
    if name.eq_ignore_ascii_case("parquet") {
        // docs/command-line.md ("Output formats") has the measurement behind this.
        return Err(format!(
            "skyql does not write Parquet (its writer would add 12 crates, about 105 s of \
             compilation on 2 cores, for exports of hundreds of rows): write {} and convert that \
             where Parquet is needed (DuckDB, pandas and Spark read them)",
            extensions()
        ));
    }
    Err(format!(
        "COPY writes {} (as -o writes them), and '{name}' is none of them: name the file so, or \
         add STORED AS CSV, JSON or NDJSON",
        FileFormat::ALL.map(FileFormat::name).join(", ")
    ))
}

/// `.csv, .json or .ndjson`.
fn extensions() -> String {
    let [csv, json, ndjson] = FileFormat::ALL.map(|f| format!(".{}", f.name()));
    format!("{csv}, {json} or {ndjson}")
}

/// The query whose rows a COPY writes, as a statement of its own: `COPY t TO …` copies
/// `SELECT * FROM t`, so `*` means what it means everywhere (without lazy columns).
pub fn source_statement(source: CopyToSource) -> Result<Statement> {
    match source {
        CopyToSource::Query(query) => Ok(Statement::Statement(Box::new(
            datafusion::sql::sqlparser::ast::Statement::Query(query),
        ))),
        CopyToSource::Relation(table) => {
            let mut parsed = parse_script(&format!("SELECT * FROM {table}"))?;
            Ok(parsed.remove(0).statement)
        }
    }
}

/// The plan that runs `query` and writes its rows to `target`; it answers `count`, the rows
/// written, as DataFusion's COPY does. A region that failed (in `failures`) means missing rows,
/// so then no file is written.
pub fn copy_plan(
    query: Arc<dyn ExecutionPlan>,
    target: CopyTarget,
    failures: RegionFailures,
) -> Arc<dyn ExecutionPlan> {
    // The sink reads one partition; the physical optimizer, which would merge them, has run.
    let input: Arc<dyn ExecutionPlan> = if query.output_partitioning().partition_count() > 1 {
        Arc::new(CoalescePartitionsExec::new(query))
    } else {
        query
    };
    let sink = CopySink {
        schema: input.schema(),
        target,
        failures,
    };
    Arc::new(DataSinkExec::new(input, Arc::new(sink), None))
}

/// Writes a COPY's rows with skyql's writer.
#[derive(Debug)]
struct CopySink {
    target: CopyTarget,
    schema: SchemaRef,
    failures: RegionFailures,
}

impl DisplayAs for CopySink {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "CopySink: {} as {}",
            self.target.path.display(),
            self.target.format.name()
        )
    }
}

#[async_trait]
impl DataSink for CopySink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let context = format!("cannot write {}", self.target.path.display());
        let file = StagedFile::create(&self.target.path)?;
        let mut writer =
            FormatWriter::new(file, self.target.format, Arc::clone(&self.schema), true);
        let mut rows = 0;
        while let Some(batch) = data.next().await {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(|e| write_error(&context, e))?;
        }
        let file = writer.finish().map_err(|e| write_error(&context, e))?;
        // An export with a region's rows missing would pass for the whole inventory; -o
        // prints such rows with exit 3 and a warning on the terminal, a file keeps no warning.
        let failed = self.failures.current();
        if !failed.is_empty() {
            let lines: Vec<String> = failed.iter().map(|f| format!("\n  {f}")).collect();
            return Err(Error::Runtime(format!(
                "COPY wrote no file: {} region call(s) failed, and {} would miss their rows:{}\n  \
                 Retry, or leave those regions out (--regions, or WHERE region IN (…))",
                failed.len(),
                self.target.path.display(),
                lines.concat()
            ))
            .into());
        }
        file.commit(if self.target.overwrite {
            Existing::Replace
        } else {
            Existing::Keep
        })?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn copy(sql: &str) -> CopyToStatement {
        match DFParser::parse_sql(sql).unwrap().pop_front().unwrap() {
            Statement::CopyTo(c) => c,
            other => panic!("not a COPY: {other:?}"),
        }
    }

    fn refusal(sql: &str) -> String {
        let e = CopyTarget::of(&copy(sql)).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    }

    #[test]
    fn the_format_is_stored_as_else_the_extension() {
        let target = |sql| CopyTarget::of(&copy(sql)).unwrap();
        assert_eq!(
            target("COPY (SELECT 1) TO 'a/x.CSV'"),
            CopyTarget {
                path: "a/x.CSV".into(),
                format: FileFormat::Csv,
                overwrite: false
            }
        );
        assert_eq!(target("COPY t TO 'x.jsonl'").format, FileFormat::Ndjson);
        assert_eq!(
            target("COPY t TO 'x.txt' STORED AS JSON").format,
            FileFormat::Json
        );
        assert!(target("COPY t TO 'x.csv' OPTIONS (overwrite true)").overwrite);
        assert!(target("COPY t TO 'x.csv' OPTIONS ('OVERWRITE' 'TRUE')").overwrite);
    }

    #[test]
    fn what_copy_does_not_write_is_refused_with_the_way_to_write_it() {
        for (sql, says) in [
            ("COPY t TO 'x.parquet'", "does not write Parquet"),
            ("COPY t TO 'x' STORED AS PARQUET", "does not write Parquet"),
            ("COPY t TO 'x.arrow'", "'arrow' is none of them"),
            ("COPY t TO 'x'", "no extension"),
            (
                "COPY t TO 'dir/' PARTITIONED BY (region)",
                "one COPY per value",
            ),
            ("COPY t TO 's3://bucket/x.csv'", "local files only"),
            (
                "COPY t TO 'x.csv' OPTIONS ('format.has_header' 'false')",
                "'format.has_header' is not an option",
            ),
            ("COPY t TO 'x.csv' OPTIONS (overwrite yes)", "true or false"),
        ] {
            let message = refusal(sql);
            assert!(
                message.contains(says) && message.contains("nothing was sent"),
                "{sql}: {message}"
            );
        }
    }

    #[test]
    fn an_existing_file_is_kept_unless_overwrite_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "mine\n").unwrap();
        let target = |overwrite| CopyTarget {
            path: path.clone(),
            format: FileFormat::Csv,
            overwrite,
        };
        let e = target(false).check().unwrap_err();
        assert!(
            e.exit_code() == 2 && e.to_string().contains("OPTIONS (overwrite true)"),
            "{e}"
        );
        target(true).check().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
