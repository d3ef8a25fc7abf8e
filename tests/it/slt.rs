//! sqllogictest files (`tests/sql/*.slt`) run on a library session against the demo sandbox.

use crate::common;

use std::path::PathBuf;

use datafusion::arrow::datatypes::DataType;
use skyql::aws::AwsSettings;
use skyql::sandbox::{Sandbox, SandboxConfig};
use skyql::session::{QueryResult, Session, SessionOptions};
use sqllogictest::{DBOutput, DefaultColumnType};

/// A skyql session as a sqllogictest database.
struct SkyqlDb {
    session: Session,
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for SkyqlDb {
    type Error = skyql::Error;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, skyql::Error> {
        let mut results = self.session.sql(sql).await?;
        let Some(result) = results.pop() else {
            return Ok(DBOutput::StatementComplete(0));
        };
        Ok(output(&result))
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "skyql"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

/// Rows as sqllogictest text: NULL as `NULL`, an empty string as `(empty)`, timestamps RFC 3339.
fn output(result: &QueryResult) -> DBOutput<DefaultColumnType> {
    let types = result
        .schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => DefaultColumnType::Text,
            t if t.is_integer() => DefaultColumnType::Integer,
            t if t.is_floating() => DefaultColumnType::FloatingPoint,
            _ => DefaultColumnType::Any,
        })
        .collect();
    let rows = common::cli::rows(result)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|v| {
                    if v.is_empty() {
                        "(empty)".to_string()
                    } else {
                        v
                    }
                })
                .collect()
        })
        .collect();
    DBOutput::Rows { types, rows }
}

fn settings(sb: &Sandbox) -> AwsSettings {
    common::cli::settings(sb, &common::cli::DEMO_REGIONS)
}

#[tokio::test(flavor = "multi_thread")]
async fn sqllogictest_files() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/sql")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "slt files in {}: {files:?}",
        dir.display()
    );
    let mut failures = Vec::new();
    for file in &files {
        // Each file gets its own demo sandbox, so files cannot see each other's calls.
        let sb = Sandbox::start(SandboxConfig::demo()).expect("sandbox");
        let aws = settings(&sb);
        let mut runner = sqllogictest::Runner::new(move || {
            let aws = aws.clone();
            async move {
                let session = Session::new(SessionOptions {
                    aws,
                    ..SessionOptions::default()
                })
                .await?;
                Ok::<_, skyql::Error>(SkyqlDb { session })
            }
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
