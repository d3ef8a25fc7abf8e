//! Output formats (table, csv, json, ndjson) of `skyql exec`, pinned by insta snapshots of demo data.

use crate::common;

use common::cli::{Skyql, json_rows};
use serde_json::{Value, json};
use skyql::sandbox::{Sandbox, SandboxConfig};

const RULES: &str = "aws.ecr.pull_through_cache_rules";
const DEMO: &str = "--regions=us-east-1,eu-west-1,ap-southeast-2";
/// An IAM role name may hold a comma, so this value must be quoted in CSV.
const ROLE_WITH_COMMA: &str = "arn:aws:iam::123456789012:role/ecr,ptc@mirror";

/// The demo data (fixed timestamps 2025-06-01T12:00:00Z) plus one rule whose role needs quoting.
fn sandbox() -> Sandbox {
    let mut config = SandboxConfig::demo();
    config.add_seed(
        [(
            "eu-west-1".to_string(),
            vec![json!({
                "ecrRepositoryPrefix": "team-mirror",
                "upstreamRegistryUrl": "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
                "upstreamRegistry": "ecr",
                "customRoleArn": ROLE_WITH_COMMA,
                "upstreamRepositoryPrefix": "team",
            })],
        )]
        .into(),
    );
    common::start(config)
}

/// Runs `sql` with `-o format` and returns stdout, checking exit 0 and a quiet stderr.
fn output(sb: &Sandbox, format: &str, sql: &str) -> String {
    let out = Skyql::new(sb).args([DEMO, "-o", format, "exec", sql]).run();
    out.expect_code(0);
    assert_eq!(out.stderr, "", "nothing on stderr");
    out.stdout
}

fn all_rules() -> String {
    format!("SELECT * FROM {RULES} ORDER BY region, ecr_repository_prefix")
}

fn some_columns() -> String {
    format!(
        "SELECT region, ecr_repository_prefix, upstream_registry, credential_arn, custom_role_arn, created_at \
         FROM {RULES} WHERE region IN ('us-east-1', 'eu-west-1') ORDER BY region, ecr_repository_prefix"
    )
}

fn nothing() -> String {
    format!(
        "SELECT region, ecr_repository_prefix, created_at FROM {RULES} WHERE region = 'us-west-2'"
    )
}

// ---------------------------------------------------------------------------------------------
// table
// ---------------------------------------------------------------------------------------------

#[test]
fn table() {
    let sb = sandbox();
    let text = output(&sb, "table", &all_rules());
    assert_eq!(
        text.lines().count(),
        13 + 4,
        "13 rows, a header and three borders"
    );
    // NULL is an empty cell, as psql shows it (`\pset null` in the shell changes that).
    assert!(!text.contains("NULL"), "{text}");
    insta::assert_snapshot!("table_all_rules", text);
    let text = output(&sb, "table", &some_columns());
    insta::assert_snapshot!("table_some_columns", text);
}

#[test]
fn table_shows_null_empty_and_the_string_null_as_written() {
    let sb = sandbox();
    assert_eq!(
        output(
            &sb,
            "table",
            "SELECT 'NULL' AS text, CAST(NULL AS VARCHAR) AS nothing"
        ),
        "+------+---------+\n\
         | text | nothing |\n\
         +------+---------+\n\
         | NULL |         |\n\
         +------+---------+\n"
    );
}

#[test]
fn table_of_nothing_is_the_header() {
    let sb = sandbox();
    let text = output(&sb, "table", &nothing());
    assert!(
        text.contains("| region | ecr_repository_prefix | created_at |"),
        "{text}"
    );
    insta::assert_snapshot!("table_empty", text);
}

// ---------------------------------------------------------------------------------------------
// csv
// ---------------------------------------------------------------------------------------------

#[test]
fn csv() {
    let sb = sandbox();
    let text = output(&sb, "csv", &all_rules());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "region,registry_id,ecr_repository_prefix,upstream_registry_url,upstream_registry,\
         upstream_repository_prefix,credential_arn,custom_role_arn,created_at,updated_at"
    );
    assert_eq!(lines.len(), 14, "a header and 13 rows");
    // NULL is an empty field; timestamps are RFC 3339 in UTC; a comma is quoted (RFC 4180).
    assert!(
        lines.contains(
            &"us-east-1,123456789012,ecr-public,public.ecr.aws,ecr-public,ROOT,,,\
              2025-06-01T12:00:00Z,2025-06-01T12:00:00Z"
        ),
        "{text}"
    );
    assert!(
        lines.contains(
            &"eu-west-1,123456789012,team-mirror,444455556666.dkr.ecr.eu-west-1.amazonaws.com,ecr,team,,\
              \"arn:aws:iam::123456789012:role/ecr,ptc@mirror\",2025-06-01T12:00:00Z,2025-06-01T12:00:00Z"
        ),
        "{text}"
    );
    insta::assert_snapshot!("csv_all_rules", text);
    let text = output(&sb, "csv", &some_columns());
    insta::assert_snapshot!("csv_some_columns", text);
}

#[test]
fn csv_of_nothing_is_the_header_only() {
    let sb = sandbox();
    assert_eq!(
        output(&sb, "csv", &nothing()),
        "region,ecr_repository_prefix,created_at\n"
    );
}

// ---------------------------------------------------------------------------------------------
// json
// ---------------------------------------------------------------------------------------------

#[test]
fn json() {
    let sb = sandbox();
    let text = output(&sb, "json", &some_columns());
    let rows = json_rows(&text);
    assert_eq!(rows.len(), 10);
    let public = rows
        .iter()
        .find(|r| r["region"] == "us-east-1" && r["ecr_repository_prefix"] == "ecr-public")
        .expect("us-east-1 ecr-public");
    assert_eq!(
        public,
        &json!({
            "region": "us-east-1",
            "ecr_repository_prefix": "ecr-public",
            "upstream_registry": "ecr-public",
            "credential_arn": null,
            "custom_role_arn": null,
            "created_at": "2025-06-01T12:00:00Z"
        }),
        "NULL is null, and every column is present"
    );
    for row in &rows {
        assert_eq!(row.as_object().unwrap().len(), 6, "{row}");
    }
    insta::assert_snapshot!("json_some_columns", text);
    let text = output(&sb, "json", &all_rules());
    assert_eq!(json_rows(&text).len(), 13);
    insta::assert_snapshot!("json_all_rules", text);
}

#[test]
fn json_of_nothing_is_an_empty_array() {
    let sb = sandbox();
    assert_eq!(output(&sb, "json", &nothing()).trim_end(), "[]");
}

#[test]
fn json_of_several_statements_is_one_array_each() {
    let sb = sandbox();
    let text = output(
        &sb,
        "json",
        &format!("SELECT count(*) AS n FROM {RULES}; {}", nothing()),
    );
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("JSON documents");
    assert_eq!(docs, vec![json!([{"n": 13}]), json!([])]);
}

// ---------------------------------------------------------------------------------------------
// ndjson
// ---------------------------------------------------------------------------------------------

#[test]
fn ndjson() {
    let sb = sandbox();
    let text = output(&sb, "ndjson", &some_columns());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "one object per line");
    for line in &lines {
        let v: Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(v.is_object(), "{line}");
    }
    assert_eq!(
        lines[0],
        r#"{"region":"eu-west-1","ecr_repository_prefix":"docker-hub","upstream_registry":"docker-hub","credential_arn":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Zx56Cv","custom_role_arn":null,"created_at":"2025-06-01T12:00:00Z"}"#
    );
    insta::assert_snapshot!("ndjson_some_columns", text);
}

#[test]
fn ndjson_of_nothing_is_nothing() {
    let sb = sandbox();
    assert_eq!(output(&sb, "ndjson", &nothing()), "");
}

// ---------------------------------------------------------------------------------------------
// The same results in every format
// ---------------------------------------------------------------------------------------------

#[test]
fn every_format_carries_the_same_values() {
    let sb = sandbox();
    let sql = format!(
        "SELECT region, ecr_repository_prefix, upstream_registry_url, credential_arn, updated_at \
         FROM {RULES} ORDER BY region, ecr_repository_prefix"
    );
    let json = json_rows(&output(&sb, "json", &sql));
    let ndjson: Vec<Value> = output(&sb, "ndjson", &sql)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json, ndjson);
    let csv = output(&sb, "csv", &sql);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for (line, obj) in lines.zip(&json) {
        // No value of these columns holds a comma, so a plain split is exact here.
        for (name, field) in header.iter().zip(line.split(',')) {
            let want = match &obj[*name] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(field, want, "{name} in {line}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

#[test]
fn unaliased_expressions_are_named_as_psql_names_them() {
    let sb = sandbox();
    // A constant is `?column?`, a function call its function; aliases and columns stay.
    assert_eq!(
        output(
            &sb,
            "csv",
            &format!("SELECT 1, 'a' AS x, count(*) FROM {RULES} WHERE region = 'eu-west-1'")
        ),
        "?column?,x,count\n1,a,5\n"
    );
    let grouped = output(
        &sb,
        "csv",
        &format!("SELECT region, count(*) FROM {RULES} GROUP BY region ORDER BY region"),
    );
    assert_eq!(
        grouped,
        "region,count\nap-southeast-2,3\neu-west-1,5\nus-east-1,5\n"
    );
    // The same names in json keys and table headers.
    assert_eq!(
        output(&sb, "json", "SELECT upper('a'), 40 + 2"),
        "[{\"upper\":\"A\",\"?column?\":42}]\n"
    );
    assert!(output(&sb, "table", "SELECT upper('a'), 40 + 2").contains("| upper | ?column? |"));
}

// ---------------------------------------------------------------------------------------------
// Statements without a result
// ---------------------------------------------------------------------------------------------

#[test]
fn statements_without_result_columns_print_nothing() {
    let sb = sandbox();
    let script = format!(
        "CREATE VIEW quay AS SELECT region FROM {RULES} WHERE upstream_registry = 'quay'; \
         SET datafusion.execution.batch_size = 1024; \
         SELECT count(*) AS n FROM quay"
    );
    assert_eq!(output(&sb, "csv", &script), "n\n2\n");
    assert_eq!(output(&sb, "json", &script), "[{\"n\":2}]\n");
    assert_eq!(output(&sb, "ndjson", &script), "{\"n\":2}\n");
    assert_eq!(
        output(&sb, "table", &script),
        "+---+\n| n |\n+---+\n| 2 |\n+---+\n"
    );
}
