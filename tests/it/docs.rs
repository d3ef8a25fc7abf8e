//! The generated resource pages: the checked-in files match the schemas, and every SQL example
//! on them runs as written against the demo sandbox.

use crate::common;

use std::path::Path;

use common::cli::settings;
use datafusion::arrow::array::UInt64Array;
use skyql::docs::{doc_path, render_resource, sql_examples};
use skyql::sandbox::{Sandbox, SandboxConfig};
use skyql::schema::schemas;
use skyql::session::{Session, SessionOptions};

/// The regions of the demo data.
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2"];

/// Every page as checked in, with its rendering now.
fn pages() -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/resources");
    let provider = schemas();
    provider
        .resources
        .iter()
        .map(|r| {
            let path = dir.join(doc_path(r, provider));
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            (
                path.display().to_string(),
                on_disk,
                render_resource(r, provider),
            )
        })
        .collect()
}

#[test]
fn checked_in_pages_are_up_to_date() {
    for (path, on_disk, rendered) in pages() {
        assert!(
            on_disk == rendered,
            "{path} is stale or missing: run `cargo run -- docs` and commit the result"
        );
    }
}

#[tokio::test]
async fn every_sql_example_runs_against_the_demo_sandbox() {
    let mut ran = 0;
    for (path, _, rendered) in pages() {
        for sql in sql_examples(&rendered) {
            // A fresh sandbox per example: each one is written against the demo data as shipped,
            // not against what an earlier example changed.
            let sb = Sandbox::start(SandboxConfig::demo()).expect("the sandbox starts");
            // An example that acts on many rows says so, and is run as it tells the reader to.
            let bulk = sql.contains("--allow-bulk");
            let session = Session::new(SessionOptions {
                aws: settings(&sb, REGIONS),
                allow_bulk: bulk,
                ..SessionOptions::default()
            })
            .await
            .expect("the session opens");
            let mut results = session
                .sql(&sql)
                .await
                .unwrap_or_else(|e| panic!("{path}: example failed:\n{sql}\n  error: {e}"));
            assert_eq!(
                results.len(),
                1,
                "{path}: one statement per example:\n{sql}"
            );
            let result = results.remove(0);
            assert!(
                result.failures.is_empty(),
                "{path}: regions failed: {:?}\n{sql}",
                result.failures
            );
            if sql.trim_start().starts_with("SELECT") {
                assert!(result.num_rows() >= 1, "{path}: no rows from\n{sql}");
            } else {
                let count = result.batches[0]
                    .column_by_name("count")
                    .unwrap_or_else(|| result.batches[0].column(0))
                    .as_any()
                    .downcast_ref::<UInt64Array>()
                    .unwrap_or_else(|| panic!("{path}: the count is not UInt64:\n{sql}"))
                    .value(0);
                if bulk {
                    assert!(
                        count > 1,
                        "{path}: the bulk example changes one row or none:\n{sql}"
                    );
                } else {
                    assert_eq!(count, 1, "{path}: the example must change one item:\n{sql}");
                }
            }
            ran += 1;
        }
    }
    assert_eq!(
        ran, 26,
        "4 examples for the plural rules resource, 2 for the singular, 4 for each registry policy \
         table, the creation templates and repositories, 2 for images and for the registry"
    );
}
