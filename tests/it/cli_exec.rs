//! `skyql exec` end to end: scripts, files, stdin, outfile, COPY, pipes, regions, failures, retries.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use common::cli::{
    DEMO_REGIONS, RUN_TIMEOUT, Skyql, calls_per_region, config_with, demo_sandbox, describes,
    json_rows, numbered_rules, prefixes_param, sandbox_with, wait_with_timeout, write_file,
};
use serde_json::Value;
use skyql::sandbox::{Sandbox, SandboxConfig};

const RULES: &str = "aws.ecr.pull_through_cache_rules";
const DEMO: &str = "--regions=us-east-1,eu-west-1,ap-southeast-2";

/// stackql's SELECT example for `aws.ecr.pull_through_cache_rule`, verbatim from its resource
/// doc (`/work/shared/seeds/000_*.txt`), placeholder included.
const STACKQL_SELECT_EXAMPLE: &str = "SELECT
region,
ecr_repository_prefix,
upstream_registry_url,
credential_arn,
upstream_registry
FROM aws.ecr.pull_through_cache_rule
WHERE region = 'us-east-1' AND data__Identifier = '<EcrRepositoryPrefix>';";

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

// ---------------------------------------------------------------------------------------------
// Scripts: argument, -f FILE, -f -, piped stdin
// ---------------------------------------------------------------------------------------------

#[test]
fn exec_runs_every_statement_of_a_script_in_order() {
    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "-o",
            "ndjson",
            "exec",
            &format!(
                "SELECT count(*) AS n FROM {RULES}; \
                 SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'eu-west-1' ORDER BY 1"
            ),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(
        lines(&out.stdout),
        vec![
            r#"{"n":12}"#,
            r#"{"ecr_repository_prefix":"docker-hub"}"#,
            r#"{"ecr_repository_prefix":"ecr-public"}"#,
            r#"{"ecr_repository_prefix":"gitlab"}"#,
            r#"{"ecr_repository_prefix":"prod-mirror"}"#
        ]
    );
    assert_eq!(out.stderr, "", "nothing on stderr on success");
    // Three regions for the first statement, one for the second.
    assert_eq!(
        calls_per_region(&sb),
        BTreeMap::from([
            ("ap-southeast-2".to_string(), 1),
            ("eu-west-1".to_string(), 2),
            ("us-east-1".to_string(), 1)
        ])
    );
}

#[test]
fn exec_reads_a_script_file() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "inventory.sql",
        &format!(
            "-- every rule with a credential\n\
             SELECT region, ecr_repository_prefix\n  FROM {RULES}\n WHERE credential_arn IS NOT NULL\n ORDER BY 1, 2;\n\n\
             /* and how many there are */\nSELECT count(*) AS n FROM {RULES} WHERE credential_arn IS NOT NULL;\n"
        ),
    );
    let out = Skyql::new(&sb)
        .args([DEMO, "-o", "ndjson", "exec", "-f"])
        .args([&path])
        .run();
    out.expect_code(0);
    assert_eq!(
        lines(&out.stdout),
        vec![
            r#"{"region":"ap-southeast-2","ecr_repository_prefix":"acr"}"#,
            r#"{"region":"eu-west-1","ecr_repository_prefix":"docker-hub"}"#,
            r#"{"region":"eu-west-1","ecr_repository_prefix":"gitlab"}"#,
            r#"{"region":"us-east-1","ecr_repository_prefix":"docker-hub"}"#,
            r#"{"region":"us-east-1","ecr_repository_prefix":"ghcr"}"#,
            r#"{"n":5}"#
        ]
    );
    assert_eq!(describes(&sb).len(), 6, "two statements over three regions");
}

#[test]
fn exec_reads_the_script_from_stdin() {
    let sb = demo_sandbox();
    let script = format!(
        "SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'ap-southeast-2' ORDER BY 1;\n\
         SELECT upstream_registry_url FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier = 'k8s';\n"
    );
    let out = Skyql::new(&sb)
        .args(["-o", "ndjson", "exec", "-f", "-"])
        .stdin(&script)
        .run();
    out.expect_code(0);
    assert_eq!(
        lines(&out.stdout),
        vec![
            r#"{"ecr_repository_prefix":"acr"}"#,
            r#"{"ecr_repository_prefix":"ecr-public"}"#,
            r#"{"ecr_repository_prefix":"quay"}"#,
            r#"{"upstream_registry_url":"registry.k8s.io"}"#
        ]
    );

    // Without a subcommand, a piped stdin is a script too.
    let out = Skyql::new(&sb).args(["-o", "ndjson"]).stdin(&script).run();
    out.expect_code(0);
    assert_eq!(lines(&out.stdout).len(), 4, "{}", out.stdout);
}

#[test]
fn an_empty_piped_stdin_is_nothing_to_do_as_in_psql() {
    let sb = demo_sandbox();
    // `skyql < /dev/null` (Skyql's stdin is null unless given), and blanks and comments alone.
    for out in [
        Skyql::new(&sb).run(),
        Skyql::new(&sb).stdin("  -- nothing here\n\n").run(),
    ] {
        out.expect_code(0);
        assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    }
    assert_eq!(sb.log().len(), 0);
    // `exec` that names SQL and gives none is still a mistake.
    let out = Skyql::new(&sb).args(["exec", "-f", "-"]).stdin("").run();
    out.expect_code(2)
        .expect_stderr(&["holds no SQL statement"]);
}

#[test]
fn flags_are_accepted_after_the_subcommand() {
    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args([
            "exec",
            &format!("SELECT count(*) AS n FROM {RULES}"),
            "-o",
            "json",
            DEMO,
        ])
        .run();
    out.expect_code(0);
    assert_eq!(json_rows(&out.stdout), vec![serde_json::json!({"n": 12})]);
}

// ---------------------------------------------------------------------------------------------
// Where results go: --outfile, COPY … TO
// ---------------------------------------------------------------------------------------------

#[test]
fn outfile_gets_the_results_and_stdout_nothing() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.csv");
    let out = Skyql::new(&sb)
        .args([DEMO, "-o", "csv", "--outfile"])
        .args([&path])
        .args([
            "exec",
            &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE upstream_registry = 'quay' ORDER BY 1"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "", "results go to the file only");
    assert_eq!(out.stderr, "");
    let text = std::fs::read_to_string(&path).expect("the outfile exists");
    assert_eq!(
        text,
        "region,ecr_repository_prefix\nap-southeast-2,quay\nus-east-1,quay\n"
    );
}

#[test]
fn outfile_holds_every_statement_of_a_script() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ndjson");
    let out = Skyql::new(&sb)
        .args([DEMO, "-o", "ndjson", "--outfile"])
        .args([&path])
        .args([
            "exec",
            &format!(
                "SELECT count(*) AS n FROM {RULES}; \
                 SELECT ecr_repository_prefix AS p FROM {RULES} WHERE region = 'ap-southeast-2' ORDER BY 1"
            ),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"n\":12}\n{\"p\":\"acr\"}\n{\"p\":\"ecr-public\"}\n{\"p\":\"quay\"}\n"
    );
}

#[test]
fn copy_to_writes_a_csv_file() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.csv");
    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "exec",
            &format!(
                "COPY (SELECT region, ecr_repository_prefix, credential_arn FROM {RULES} \
                 WHERE region = 'ap-southeast-2' ORDER BY 2) TO '{}'",
                path.display()
            ),
        ])
        .run();
    out.expect_code(0);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("COPY wrote no file ({e}); stderr: {}", out.stderr));
    assert_eq!(
        lines(&text),
        vec![
            "region,ecr_repository_prefix,credential_arn",
            "ap-southeast-2,acr,arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:ecr-pullthroughcache/acr-Lp90Ui",
            "ap-southeast-2,ecr-public,",
            "ap-southeast-2,quay,"
        ]
    );
    assert!(
        out.stdout.contains('3'),
        "COPY reports its row count: {}",
        out.stdout
    );
}

const TEMPLATES: &str = "aws.ecr.repository_creation_templates";

/// The files in `dir`, by name.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn copy_to_writes_what_dash_o_writes_in_every_format() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    // Every list and JSON column of the templates, which DataFusion's CSV writer refused.
    let query = format!("SELECT * FROM {TEMPLATES} ORDER BY region, prefix");
    for format in ["csv", "json", "ndjson"] {
        let path = dir.path().join(format!("templates.{format}"));
        let copy = Skyql::new(&sb)
            .args([
                DEMO,
                "exec",
                &format!("COPY ({query}) TO '{}'", path.display()),
            ])
            .run();
        copy.expect_code(0);
        let printed = Skyql::new(&sb)
            .args([DEMO, "-o", format, "exec", &query])
            .run();
        printed.expect_code(0);
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, printed.stdout, "{format}: COPY and -o differ");
        let rows = Skyql::new(&sb)
            .args([DEMO, "-o", "ndjson", "exec", &query])
            .run()
            .stdout
            .lines()
            .count();
        assert!(
            rows > 0 && copy.stdout.contains(&format!(" {rows} |")),
            "{format}: COPY reports the {rows} rows it wrote: {}",
            copy.stdout
        );
    }
    let csv = std::fs::read_to_string(dir.path().join("templates.csv")).unwrap();
    assert!(
        csv.contains(r#""[""PULL_THROUGH_CACHE""]""#),
        "a list column is JSON text: {csv}"
    );
    // `COPY table TO` copies the table's rows (in no particular order).
    let path = dir.path().join("all.ndjson");
    Skyql::new(&sb)
        .args([
            DEMO,
            "exec",
            &format!("COPY {TEMPLATES} TO '{}'", path.display()),
        ])
        .run()
        .expect_code(0);
    let mut copied = lines(&std::fs::read_to_string(&path).unwrap())
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    let mut expected =
        lines(&std::fs::read_to_string(dir.path().join("templates.ndjson")).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
    copied.sort();
    expected.sort();
    assert_eq!(copied, expected);
}

#[test]
fn copy_to_refuses_an_existing_file_unless_told_to_overwrite() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "rules.csv", "yesterday's export\n");
    let copy = |options: &str| {
        Skyql::new(&sb)
            .args([
                DEMO,
                "exec",
                &format!(
                    "COPY (SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'eu-west-1' \
                     ORDER BY 1) TO '{}'{options}",
                    path.display()
                ),
            ])
            .run()
    };
    copy("").expect_code(2).expect_stderr(&[
        "already exists",
        "OPTIONS (overwrite true)",
        "nothing was sent",
    ]);
    assert_eq!(sb.log().len(), 0, "refused before any call");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "yesterday's export\n"
    );
    copy(" OPTIONS (overwrite true)").expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "ecr_repository_prefix\ndocker-hub\necr-public\ngitlab\nprod-mirror\n"
    );
    assert_eq!(files_in(dir.path()), ["rules.csv"]);
}

#[test]
fn copy_to_creates_no_directory() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exports/2025/rules.csv");
    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "exec",
            &format!("COPY (SELECT * FROM {RULES}) TO '{}'", path.display()),
        ])
        .run();
    out.expect_code(2).expect_stderr(&[
        &format!("cannot write {}", path.display()),
        "does not exist",
        "nothing was sent",
    ]);
    assert!(files_in(dir.path()).is_empty(), "no directory was made");
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn copy_to_parquet_is_refused_with_the_reason_and_what_to_use() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules");
    for to in [
        format!("'{}.parquet'", file.display()),
        format!("'{}' STORED AS PARQUET", file.display()),
    ] {
        let out = Skyql::new(&sb)
            .args([
                DEMO,
                "exec",
                &format!("COPY (SELECT * FROM {RULES}) TO {to}"),
            ])
            .run();
        out.expect_code(2).expect_stderr(&[
            "does not write Parquet",
            "105 s of compilation",
            ".csv, .json or .ndjson",
            "nothing was sent",
        ]);
    }
    assert!(files_in(dir.path()).is_empty());
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn a_failed_copy_leaves_no_file_and_an_existing_one_as_it_was() {
    let mut config = SandboxConfig::demo();
    config.fail_regions = vec!["ap-southeast-2".into()];
    let sb = common::start(config);
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.csv");
    let kept = write_file(dir.path(), "kept.csv", "yesterday's export\n");
    let copy = |path: &std::path::Path, flags: &[&str], options: &str| {
        Skyql::new(&sb)
            .args([DEMO])
            .args(flags)
            .args([
                "exec",
                &format!(
                    "COPY (SELECT * FROM {RULES}) TO '{}'{options}",
                    path.display()
                ),
            ])
            .run()
    };
    // A failed region would leave its rows out of the file: no file is written.
    let out = copy(&new, &[], "");
    out.expect_code(1).expect_stderr(&[
        "COPY wrote no file",
        "region ap-southeast-2 failed",
        "AccessDeniedException",
    ]);
    // Under --strict the region fails the query itself, while rows are being written.
    copy(&new, &["--strict"], "").expect_code(1);
    for strict in [&[][..], &["--strict"][..]] {
        copy(&kept, strict, " OPTIONS (overwrite true)").expect_code(1);
    }
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "yesterday's export\n"
    );
    assert_eq!(
        files_in(dir.path()),
        ["kept.csv"],
        "no partial or temporary file"
    );
}

// ---------------------------------------------------------------------------------------------
// A closed pipe (`| head -1`) is success
// ---------------------------------------------------------------------------------------------

/// Runs `args`, reads the first line of stdout, closes the pipe, and returns (line, exit code, stderr).
fn read_one_line_then_close(sb: &skyql::sandbox::Sandbox, args: &[&str]) -> (String, i32, String) {
    let (mut child, _home) = Skyql::new(sb).args(args).spawn();
    let stdout = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut first = String::new();
    {
        let mut reader = BufReader::new(stdout);
        reader.read_line(&mut first).expect("a first line");
        // Dropping the reader closes our end of the pipe, like `head -1` exiting.
    }
    let status = wait_with_timeout(&mut child, RUN_TIMEOUT);
    (
        first,
        status.code().unwrap_or(-1),
        err_reader.join().unwrap(),
    )
}

#[test]
fn a_closed_stdout_pipe_is_success_in_every_format() {
    let rules = numbered_rules(50);
    let sb = sandbox_with(&[
        ("us-east-1", rules.clone()),
        ("eu-west-1", rules.clone()),
        ("ap-southeast-2", rules),
    ]);
    // 150 rows, and a self-join of 22 500 rows: far more than a pipe buffer holds, so the
    // writes after the reader has gone fail with EPIPE.
    let many = format!("SELECT * FROM {RULES}");
    let huge = format!("SELECT a.*, b.ecr_repository_prefix AS other FROM {RULES} a, {RULES} b");
    for format in ["table", "csv", "json", "ndjson"] {
        // csv is one table: a script's results continue it when they have the same columns.
        let script = if format == "csv" {
            format!("{many}; {many}; {many}")
        } else {
            format!("{many}; {huge}; {many}")
        };
        for sql in [&huge, &script] {
            let (first, code, stderr) =
                read_one_line_then_close(&sb, &[DEMO, "-o", format, "exec", sql]);
            assert!(!first.is_empty(), "{format}: no first line");
            assert_eq!(
                (code, stderr.as_str()),
                (0, ""),
                "{format}: a closed pipe must end quietly with 0 (first line {first:?})"
            );
        }
    }
}

#[test]
fn a_closed_pipe_is_success_for_a_large_result_in_every_format() {
    // 20 000 rows without any call: csv failed here with "Broken pipe" (exit 1).
    let sb = demo_sandbox();
    for format in ["table", "csv", "json", "ndjson"] {
        let (first, code, stderr) = read_one_line_then_close(
            &sb,
            &[
                "-o",
                format,
                "exec",
                "SELECT * FROM generate_series(1, 20000)",
            ],
        );
        assert!(!first.is_empty(), "{format}: no first line");
        assert_eq!(
            (code, stderr.as_str()),
            (0, ""),
            "{format}: a closed pipe must end quietly with 0 (first line {first:?})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The built-in demo sandbox and stackql's example
// ---------------------------------------------------------------------------------------------

#[test]
fn the_sandbox_flag_serves_the_demo_data() {
    let out = Skyql::bare()
        .args([
            "--sandbox",
            "-o",
            "json",
            "exec",
            &format!(
                "SELECT count(*) AS n, count(DISTINCT region) AS regions FROM {RULES}; \
                 SELECT region, upstream_registry, upstream_repository_prefix, custom_role_arn, created_at \
                 FROM {RULES} WHERE data__Identifier = 'prod-mirror'"
            ),
        ])
        .run();
    out.expect_code(0);
    let mut docs = serde_json::Deserializer::from_str(&out.stdout).into_iter::<Value>();
    let counts = docs.next().expect("first result").expect("json");
    assert_eq!(counts, serde_json::json!([{"n": 12, "regions": 3}]));
    let mirror = docs.next().expect("second result").expect("json");
    assert_eq!(
        mirror,
        serde_json::json!([{
            "region": "eu-west-1",
            "upstream_registry": "ecr",
            "upstream_repository_prefix": "prod",
            "custom_role_arn": "arn:aws:iam::123456789012:role/ecr-ptc-cross-account",
            "created_at": "2025-06-01T12:00:00Z"
        }])
    );
    assert!(docs.next().is_none());
}

#[test]
fn stackqls_select_example_runs_unchanged() {
    // The example must be the one stackql documents, when that document is at hand.
    if let Ok(entries) = std::fs::read_dir("/work/shared/seeds") {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("000_") {
                let doc = std::fs::read_to_string(entry.path()).unwrap();
                assert!(
                    doc.contains(STACKQL_SELECT_EXAMPLE),
                    "the example differs from {name}"
                );
            }
        }
    }
    let sql = STACKQL_SELECT_EXAMPLE.replace("<EcrRepositoryPrefix>", "ecr-public");
    let out = Skyql::bare()
        .args(["--sandbox", "-o", "json", "exec", &sql])
        .run();
    out.expect_code(0);
    assert_eq!(
        json_rows(&out.stdout),
        vec![serde_json::json!({
            "region": "us-east-1",
            "ecr_repository_prefix": "ecr-public",
            "upstream_registry_url": "public.ecr.aws",
            "credential_arn": null,
            "upstream_registry": "ecr-public"
        })]
    );
}

#[test]
fn a_missing_identifier_is_an_empty_result_not_an_error() {
    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args([
            "-o",
            "csv",
            "exec",
            &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE ecr_repository_prefix = 'no-such-rule'"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "region,ecr_repository_prefix\n");
    assert_eq!(out.stderr, "");
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(
        prefixes_param(&calls[0]),
        Some(vec!["no-such-rule".to_string()])
    );
}

// ---------------------------------------------------------------------------------------------
// Regions: --regions all, defaults, failures
// ---------------------------------------------------------------------------------------------

#[test]
fn regions_all_calls_every_region_of_the_provider() {
    #[derive(serde::Deserialize)]
    struct Provider {
        regions: Vec<String>,
    }
    let yaml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("provider-schemas/aws/provider.yaml"),
    )
    .unwrap();
    let provider: Provider = serde_yaml_ng::from_str(&yaml).unwrap();
    assert!(provider.regions.len() > 20, "{:?}", provider.regions);

    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args([
            "--regions",
            "all",
            "-o",
            "csv",
            "exec",
            &format!("SELECT region, count(*) AS n FROM {RULES} GROUP BY region ORDER BY region"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(
        lines(&out.stdout),
        vec!["region,n", "ap-southeast-2,3", "eu-west-1,4", "us-east-1,5"]
    );
    let want: BTreeMap<String, usize> = provider.regions.iter().map(|r| (r.clone(), 1)).collect();
    assert_eq!(calls_per_region(&sb), want, "one call in every region");
}

#[test]
fn a_failing_region_gives_partial_results_and_exit_3() {
    let mut config = SandboxConfig::demo();
    config.fail_regions = vec!["eu-west-1".into()];
    let sb = common::start(config);
    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "-o",
            "csv",
            "exec",
            &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE data__Identifier IN ('ecr-public', 'quay') ORDER BY 1, 2"),
        ])
        .run();
    out.expect_code(3);
    assert_eq!(
        lines(&out.stdout),
        vec![
            "region,ecr_repository_prefix",
            "ap-southeast-2,ecr-public",
            "ap-southeast-2,quay",
            "us-east-1,ecr-public",
            "us-east-1,quay"
        ]
    );
    assert!(out.stderr.contains("eu-west-1"), "{}", out.stderr);
    assert!(
        out.stderr.contains("AccessDeniedException"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("us-east-1"),
        "only the failed region is named: {}",
        out.stderr
    );

    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "--strict",
            "-o",
            "csv",
            "exec",
            &format!("SELECT region, ecr_repository_prefix FROM {RULES}"),
        ])
        .run();
    out.expect_code(1);
    assert_eq!(out.stdout, "", "strict prints no rows");
    assert!(
        out.stderr.contains("eu-west-1") && out.stderr.contains("AccessDeniedException"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_failed_region_in_an_earlier_statement_still_exits_3() {
    let mut config = SandboxConfig::demo();
    config.fail_regions = vec!["ap-southeast-2".into()];
    let sb = common::start(config);
    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "-o",
            "csv",
            "exec",
            &format!(
                "SELECT count(*) AS n FROM {RULES}; SELECT count(*) AS n FROM {RULES} WHERE region = 'us-east-1'"
            ),
        ])
        .run();
    out.expect_code(3);
    // One csv table: the second result has the same columns, so no second header.
    assert_eq!(lines(&out.stdout), vec!["n", "9", "5"]);
    assert!(out.stderr.contains("ap-southeast-2"), "{}", out.stderr);
}

#[test]
fn without_any_region_the_error_is_clear_and_fast() {
    let sb = demo_sandbox();
    let skyql = Skyql::against(&sb, None);
    let config = write_file(&skyql.home_dir(), "empty-config", "");
    let out = skyql
        .env("AWS_CONFIG_FILE", &config)
        .args(["exec", &format!("SELECT * FROM {RULES}")])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("no AWS region is configured") && out.stderr.contains("--regions"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert!(
        out.elapsed < Duration::from_secs(10),
        "took {:?}: instance metadata must not be asked",
        out.elapsed
    );
    assert_eq!(sb.log().len(), 0);

    // A region pinned in SQL needs no configured region.
    let skyql = Skyql::against(&sb, None);
    let config = write_file(&skyql.home_dir(), "empty-config", "");
    let out = skyql
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "-o",
            "csv",
            "exec",
            &format!("SELECT count(*) AS n FROM {RULES} WHERE region = 'eu-west-1'"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "n\n4\n");
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
}

#[test]
fn the_default_region_comes_from_the_environment_or_the_profile() {
    let sb = demo_sandbox();
    let count = format!("SELECT DISTINCT region FROM {RULES}");

    let out = Skyql::against(&sb, None)
        .env("AWS_DEFAULT_REGION", "ap-southeast-2")
        .args(["-o", "csv", "exec", &count])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "region\nap-southeast-2\n");

    // AWS_REGION wins over AWS_DEFAULT_REGION.
    sb.log().clear();
    let out = Skyql::against(&sb, Some("eu-west-1"))
        .env("AWS_DEFAULT_REGION", "ap-southeast-2")
        .args(["-o", "csv", "exec", &count])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "region\neu-west-1\n");
    assert_eq!(
        calls_per_region(&sb),
        BTreeMap::from([("eu-west-1".to_string(), 1)])
    );

    // The profile's region, default and named.
    let skyql = Skyql::against(&sb, None);
    let config = write_file(
        &skyql.home_dir(),
        "config",
        "[default]\nregion = us-east-1\n\n[profile apac]\nregion = ap-southeast-2\n",
    );
    let out = skyql
        .env("AWS_CONFIG_FILE", &config)
        .args(["-o", "csv", "exec", &count])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "region\nus-east-1\n");

    // An explicit --profile signs with the profile's own keys (the environment's lose).
    let skyql = Skyql::against(&sb, None);
    let config = write_file(
        &skyql.home_dir(),
        "config",
        &format!(
            "[default]\nregion = us-east-1\n\n[profile apac]\nregion = ap-southeast-2\n\
             aws_access_key_id = {}\naws_secret_access_key = {}\n",
            sb.keys().access_key_id,
            sb.keys().secret_access_key
        ),
    );
    let out = skyql
        .env("AWS_CONFIG_FILE", &config)
        .args(["--profile", "apac", "-o", "csv", "exec", &count])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "region\nap-southeast-2\n");

    // --regions wins over everything.
    let out = Skyql::against(&sb, Some("eu-west-1"))
        .args([
            "--regions",
            "us-east-1,ap-southeast-2",
            "-o",
            "csv",
            "exec",
            &format!("{count} ORDER BY 1"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "region\nap-southeast-2\nus-east-1\n");
}

#[test]
fn max_concurrency_one_still_reads_every_region() {
    let mut config = SandboxConfig::demo();
    config.latency = Duration::from_millis(400);
    let sb = common::start(config);
    let out = Skyql::new(&sb)
        .args([
            DEMO,
            "--max-concurrency",
            "1",
            "-o",
            "csv",
            "exec",
            &format!("SELECT count(*) AS n FROM {RULES}"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "n\n12\n");
    assert!(
        out.elapsed >= Duration::from_millis(1200),
        "three regions one at a time take three latencies: {:?}",
        out.elapsed
    );
}

// ---------------------------------------------------------------------------------------------
// Throttling
// ---------------------------------------------------------------------------------------------

/// Runs the same listing against a sandbox that throttles half of all calls until throttling
/// was seen at least a few times (and at least `min_runs` runs); every run must return every row.
fn survive_throttling(retry_mode: &str, min_runs: usize) {
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let mut config = config_with(&[
        ("us-east-1", numbered_rules(30)),
        ("eu-west-1", numbered_rules(30)),
        ("ap-southeast-2", numbered_rules(30)),
    ]);
    config.throttle_rate = 0.5;
    let sb = common::start(config);
    let mut want = vec!["region,ecr_repository_prefix".to_string()];
    let mut sorted_regions = regions.to_vec();
    sorted_regions.sort();
    for r in sorted_regions {
        for i in 0..30 {
            want.push(format!("{r},p{i:02}"));
        }
    }
    let started = Instant::now();
    let mut runs = 0;
    let throttled = || {
        sb.log()
            .entries()
            .iter()
            .filter(|e| e.error_code.as_deref() == Some("ThrottlingException"))
            .count()
    };
    while runs < min_runs || throttled() < 3 {
        assert!(runs < 20, "20 runs and still fewer than 3 throttled calls");
        let out = Skyql::new(&sb)
            .args([
                DEMO,
                "--retry-mode",
                retry_mode,
                "--max-attempts",
                "20",
                // No call outlasts --retry-budget + --read-timeout: lifted, so that twenty
                // attempts and their backoff (minutes, at worst) always fit.
                "--retry-budget",
                "600",
                "-o",
                "csv",
                "exec",
                &format!("SELECT region, ecr_repository_prefix FROM {RULES} ORDER BY 1, 2"),
            ])
            .run();
        out.expect_code(0);
        assert_eq!(lines(&out.stdout), want, "no row may be lost to throttling");
        runs += 1;
    }
    let entries = sb.log().entries();
    let ok: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.status == 200)
        .filter_map(|e| e.region.clone())
        .collect();
    assert_eq!(ok.len(), 3, "every region answered");
    assert!(
        entries
            .iter()
            .all(|e| e.status == 200 || e.error_code.as_deref() == Some("ThrottlingException")),
        "only throttling failed"
    );
    eprintln!(
        "{retry_mode}: {runs} runs, {} calls, {} throttled, {:?}",
        entries.len(),
        throttled(),
        started.elapsed()
    );
}

#[test]
fn throttled_calls_are_retried_and_no_row_is_lost() {
    survive_throttling("standard", 2);
}

#[test]
#[ignore = "slow (40-80 s): at a CLI's low request rate the SDK's adaptive rate limiter waits \
            about 10 s before each retry (retry cost 5 tokens, minimum fill rate 0.5/s); \
            run with --ignored"]
fn adaptive_retries_also_lose_no_row() {
    survive_throttling("adaptive", 1);
}

#[test]
fn throttling_past_the_last_attempt_is_a_named_region_failure() {
    let mut config = config_with(&[
        ("us-east-1", numbered_rules(3)),
        ("eu-west-1", numbered_rules(3)),
    ]);
    config.throttle_rate = 1.0;
    let sb = common::start(config);
    let sql = format!("SELECT region, ecr_repository_prefix FROM {RULES}");
    let out = Skyql::new(&sb)
        .args([
            "--regions",
            "us-east-1,eu-west-1",
            "--max-attempts",
            "2",
            "-o",
            "csv",
            "exec",
            &sql,
        ])
        .run();
    // No region answered: an empty CSV would pass for "no rules", so there is no result at all.
    out.expect_code(1);
    assert_eq!(out.stdout, "", "no region answered");
    assert!(
        out.stderr
            .contains("every region called failed (eu-west-1, us-east-1)"),
        "{}",
        out.stderr
    );
    for region in ["us-east-1", "eu-west-1"] {
        assert!(
            out.stderr.contains(&format!("region {region} failed"))
                && out.stderr.contains("ThrottlingException"),
            "{}",
            out.stderr
        );
        assert_eq!(
            common::cli::describes_in(&sb, region).len(),
            2,
            "--max-attempts 2 is two attempts in {region}"
        );
    }

    let out = Skyql::new(&sb)
        .args([
            "--regions",
            "us-east-1",
            "--max-attempts",
            "1",
            "--strict",
            "-o",
            "csv",
            "exec",
            &sql,
        ])
        .run();
    out.expect_code(1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("us-east-1") && out.stderr.contains("ThrottlingException"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Results of one region only when WHERE pins it, in the binary too
// ---------------------------------------------------------------------------------------------

#[test]
fn a_region_predicate_overrides_the_session_regions() {
    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args([
            "-o",
            "ndjson",
            "exec",
            &format!(
                "SELECT region, ecr_repository_prefix FROM {RULES} \
                 WHERE region IN ('eu-west-1', 'ap-southeast-2') AND ecr_repository_prefix = 'ecr-public' ORDER BY 1"
            ),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(
        lines(&out.stdout),
        vec![
            r#"{"region":"ap-southeast-2","ecr_repository_prefix":"ecr-public"}"#,
            r#"{"region":"eu-west-1","ecr_repository_prefix":"ecr-public"}"#
        ]
    );
    let calls = describes(&sb);
    let regions: BTreeSet<&str> = calls.iter().filter_map(|c| c.region.as_deref()).collect();
    assert_eq!(regions, BTreeSet::from(["ap-southeast-2", "eu-west-1"]));
    assert_eq!(calls.len(), 2);
    // The demo regions constant matches the demo seed.
    let seeded: Vec<String> = SandboxConfig::demo().seed.keys().cloned().collect();
    assert_eq!(seeded, DEMO_REGIONS);
}

// ---------------------------------------------------------------------------------------------
// Never more than asked: the account, hangs, interruptions, local files
// ---------------------------------------------------------------------------------------------

const COUNT: &str = "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules";

#[test]
fn an_explicit_profile_wins_over_environment_keys() {
    let sb = demo_sandbox();
    // The environment holds another account's keys, which the sandbox refuses…
    let wrong = |skyql: Skyql| {
        skyql
            .env("AWS_ACCESS_KEY_ID", "AKIAOTHERACCOUNT0001")
            .env("AWS_SECRET_ACCESS_KEY", "another-accounts-secret")
    };
    let out = wrong(Skyql::new(&sb))
        .args(["-o", "csv", "exec", COUNT])
        .run();
    out.expect_code(1);
    // …and --profile signs with the profile's keys, not those.
    let skyql = Skyql::new(&sb);
    let config = write_file(
        &skyql.home_dir(),
        "config",
        &format!(
            "[profile mine]\nregion = us-east-1\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            sb.keys().access_key_id,
            sb.keys().secret_access_key
        ),
    );
    sb.log().clear();
    let out = wrong(skyql)
        .env("AWS_CONFIG_FILE", &config)
        .args(["--profile", "mine", "-o", "csv", "exec", COUNT])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "n\n5\n");
    // A profile that does not exist is named, and nothing is sent.
    sb.log().clear();
    let skyql = Skyql::new(&sb);
    let config = write_file(
        &skyql.home_dir(),
        "config",
        "[profile mine]\nregion = us-east-1\n",
    );
    let out = skyql
        .env("AWS_CONFIG_FILE", &config)
        .args(["--profile", "typo", "exec", COUNT])
        .run();
    out.expect_code(2)
        .expect_stderr(&["profile 'typo' not found", "profiles there: mine"]);
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn an_endpoint_that_never_answers_fails_at_the_read_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // Accepts connections and never answers.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(16) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let out = Skyql::bare()
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-west-1")
        .args(["--read-timeout", "1", "exec", COUNT])
        .run();
    out.expect_code(1)
        .expect_stderr(&["eu-west-1", "timeout", "1s", "--read-timeout"]);
    assert!(out.elapsed < Duration::from_secs(15), "{:?}", out.elapsed);
}

#[test]
fn a_refused_connection_fails_in_seconds() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = Skyql::bare()
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "eu-west-1")
        .args(["exec", COUNT])
        .run();
    out.expect_code(1).expect_stderr(&["eu-west-1", "refused"]);
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
}

#[test]
fn too_deep_statements_are_refused_before_any_call() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let sum = format!("SELECT {}", vec!["1"; 10_000].join(" + "));
    let chain = format!(
        "DELETE FROM {RULES} WHERE region = 'us-east-1' AND {}",
        (0..3000)
            .map(|i| format!("ecr_repository_prefix <> 'p{i}'"))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    for (name, sql) in [("sum.sql", sum), ("chain.sql", chain)] {
        let script = write_file(dir.path(), name, &sql);
        let out = Skyql::new(&sb)
            .args(["--allow-bulk", "exec", "-f"])
            .args([&script])
            .run();
        out.expect_code(2).expect_stderr(&["too complex"]);
        assert_eq!(sb.log().len(), 0);
    }
}

#[test]
fn a_dry_run_writes_no_file() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.csv");
    let out = Skyql::new(&sb)
        .args([
            "--dry-run",
            "exec",
            &format!("COPY (SELECT * FROM {RULES}) TO '{}'", path.display()),
        ])
        .run();
    out.expect_code(2)
        .expect_stderr(&["--dry-run writes no file", "nothing was sent"]);
    assert!(!path.exists());
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn a_failed_run_leaves_an_existing_outfile_as_it_was() {
    let mut config = SandboxConfig::demo();
    config.fail_regions = vec!["ap-southeast-2".into()];
    let sb = common::start(config);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "rules.csv", "yesterday's export\n");
    // The first statement succeeds and is written; the second fails (its only region fails).
    let out = Skyql::new(&sb)
        .args(["-o", "csv", "--outfile"])
        .args([&path])
        .args([
            "exec",
            &format!("{COUNT}; {COUNT} WHERE region = 'ap-southeast-2'"),
        ])
        .run();
    out.expect_code(1)
        .expect_stderr(&["every region called failed"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "yesterday's export\n"
    );
    // A successful run replaces it.
    let out = Skyql::new(&sb)
        .args(["-o", "csv", "--outfile"])
        .args([&path])
        .args(["exec", COUNT])
        .run();
    out.expect_code(0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "n\n5\n");
}

/// Runs `script` (a file) against `sb` and sends SIGTERM once two rules were created; answers
/// stderr (the run must exit 130).
fn interrupted_after_two_creates(sb: &Sandbox, path: &Path) -> String {
    let (mut child, _home) = Skyql::new(sb).args(["exec", "-f"]).args([path]).spawn();
    let start = Instant::now();
    while created(sb) < 2 {
        assert!(start.elapsed() < RUN_TIMEOUT, "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    stderr
}

/// The rule creates the sandbox carried out.
fn created(sb: &Sandbox) -> usize {
    sb.log()
        .entries()
        .iter()
        .filter(|e| e.operation == "CreatePullThroughCacheRule" && e.status == 200)
        .count()
}

/// A sandbox whose calls take 400 ms, so a run can be interrupted between them.
fn slow_sandbox() -> Sandbox {
    let mut config = SandboxConfig::demo();
    config.latency = Duration::from_millis(400);
    common::start(config)
}

/// Six INSERTs of one rule each, with `conflict` after each.
fn six_inserts(conflict: &str) -> String {
    (0..6)
        .map(|i| {
            format!(
                "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) VALUES ('int-{i}', 'quay.io'){conflict};\n"
            )
        })
        .collect()
}

#[test]
fn an_interrupted_script_reports_the_calls_it_made_and_what_a_rerun_does() {
    let sb = slow_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "apply.sql", &six_inserts(""));
    let stderr = interrupted_after_two_creates(&sb, &path);
    // Every create the sandbox carried out is reported: as succeeded, or as in flight.
    let made = created(&sb);
    let reported = stderr
        .lines()
        .filter(|l| l.contains("CreatePullThroughCacheRule") && !l.contains("in flight"))
        .count();
    let in_flight = stderr.lines().filter(|l| l.contains("in flight")).count();
    assert!(made >= 2, "{made}");
    assert!(
        reported == made || (in_flight == 1 && reported + 1 == made),
        "made {made}, reported {reported}, in flight {in_flight}:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{reported} call(s) had succeeded")),
        "{stderr}"
    );
    // Plain INSERTs: a re-run fails on the rules already created, so skyql does not say it
    // converges; it says to add ON CONFLICT, and with it the re-run does converge.
    assert!(!stderr.contains("it converges"), "{stderr}");
    assert!(
        stderr.contains(
            "skyql: a re-run does not converge as it is: the INSERT INTO \
             aws.ecr.pull_through_cache_rules has no ON CONFLICT, so it would fail on the rule(s) \
             already created. Add ON CONFLICT DO NOTHING (keep them as they are) or ON CONFLICT \
             DO UPDATE SET <column> = EXCLUDED.<column>, … (make them what it asks) to it, then \
             re-run the script"
        ),
        "{stderr}"
    );
    let rerun = Skyql::new(&sb).args(["exec", "-f"]).args([&path]).run();
    rerun.expect_code(1).expect_stderr(&["AlreadyExists"]);
    let fixed = write_file(
        dir.path(),
        "fixed.sql",
        &six_inserts(" ON CONFLICT DO NOTHING"),
    );
    Skyql::new(&sb)
        .args(["exec", "-f"])
        .args([&fixed])
        .run()
        .expect_code(0);
    assert_eq!(created(&sb), 6);
}

#[test]
fn an_interrupted_upsert_script_is_said_to_converge_and_does() {
    let sb = slow_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "apply.sql",
        &six_inserts(" ON CONFLICT DO NOTHING"),
    );
    let stderr = interrupted_after_two_creates(&sb, &path);
    assert!(
        stderr.contains("skyql: re-run the script; it converges"),
        "{stderr}"
    );
    assert!(!stderr.contains("does not converge"), "{stderr}");
    let rerun = Skyql::new(&sb).args(["exec", "-f"]).args([&path]).run();
    rerun.expect_code(0);
    assert_eq!(created(&sb), 6, "every rule once: {}", rerun.stderr);
}

#[test]
fn the_request_log_appends() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_file(dir.path(), "calls.jsonl", "{\"earlier\":\"run\"}\n");
    let mut config = SandboxConfig::demo();
    config.request_log = Some(log.clone());
    let sb = common::start(config);
    Skyql::new(&sb).args(["exec", COUNT]).run().expect_code(0);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "{\"earlier\":\"run\"}");
    assert_eq!(lines.len(), 2, "{text}");
}

#[test]
fn stackqls_insert_and_update_forms_run_unchanged() {
    let sb = demo_sandbox();
    // Literals repeated in a SELECT, `''` for an unused optional field, NULLs.
    for sql in [
        "INSERT INTO aws.ecr.pull_through_cache_rules (EcrRepositoryPrefix, UpstreamRegistryUrl, UpstreamRegistry, region) \
         SELECT 'quay','quay.io','quay','us-east-2';",
        "INSERT INTO aws.ecr.pull_through_cache_rules (EcrRepositoryPrefix, UpstreamRegistryUrl, CredentialArn, CustomRoleArn, region) \
         SELECT 'q2', 'quay.io', NULL, NULL, 'us-east-2';",
        "INSERT INTO aws.ecr.pull_through_cache_rules (EcrRepositoryPrefix, UpstreamRegistryUrl, CredentialArn, CustomRoleArn, UpstreamRepositoryPrefix, region) \
         SELECT 'q3', 'quay.io', '', '', '', 'us-east-2';",
    ] {
        let out = Skyql::new(&sb).args(["-o", "csv", "exec", sql]).run();
        out.expect_code(0);
        assert_eq!(out.stdout, "count\n1\n", "{sql}");
    }
    let created: Vec<Value> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == "CreatePullThroughCacheRule")
        .map(|e| e.parameters)
        .collect();
    assert_eq!(created.len(), 3);
    assert_eq!(
        created[2],
        serde_json::json!({"ecrRepositoryPrefix": "q3", "upstreamRegistryUrl": "quay.io"}),
        "'' is an absent optional field"
    );
    // The patch document inside stackql's string(…).
    let out = Skyql::new(&sb)
        .args([
            "-o",
            "csv",
            "exec",
            r#"UPDATE aws.ecr.pull_through_cache_rule SET data__PatchDocument = string('[{"op":"replace","path":"/CredentialArn","value":"arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/rotated-AbCdEf"}]') WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub';"#,
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
}

#[test]
fn without_credentials_the_error_says_how_to_set_them() {
    // Nothing can have been sent, so it is a usage error (exit 2), said once however many
    // regions the statement would call.
    let sb = demo_sandbox();
    for regions in ["us-east-1", "all"] {
        let out = Skyql::bare()
            .env("AWS_ENDPOINT_URL", sb.endpoint())
            .env("AWS_REGION", "us-east-1")
            .args(["--regions", regions, "exec", COUNT])
            .run();
        out.expect_code(2).expect_stderr(&[
            "NoCredentials",
            "nothing was sent",
            "AWS_ACCESS_KEY_ID",
            "--profile",
        ]);
        assert_eq!(
            out.stderr.matches("NoCredentials").count(),
            1,
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
        // A write is refused the same way.
        let out = Skyql::bare()
            .env("AWS_ENDPOINT_URL", sb.endpoint())
            .env("AWS_REGION", "us-east-1")
            .args([
                "--regions",
                regions,
                "exec",
                &format!(
                    "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) \
                     VALUES ('us-east-1', 'no-keys', 'quay.io')"
                ),
            ])
            .run();
        out.expect_code(2)
            .expect_stderr(&["NoCredentials", "nothing was sent"]);
    }
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn a_failing_credential_process_is_never_echoed() {
    // A credential_process that fails after printing its secret: skyql names the failure, and
    // no word of what the process wrote.
    let sb = demo_sandbox();
    let skyql = Skyql::against(&sb, Some("us-east-1"));
    let config = write_file(
        &skyql.home_dir(),
        "config",
        "[profile vault]\nregion = us-east-1\n\
         credential_process = sh -c 'echo AKIALEAKEDKEY0000001 s3cr3t-from-the-vault >&2; exit 3'\n",
    );
    let out = skyql
        .env("AWS_CONFIG_FILE", &config)
        .args(["--profile", "vault", "exec", COUNT])
        .run();
    out.expect_code(2).expect_stderr(&[
        "NoCredentials",
        "exited with code",
        "its output is not shown",
    ]);
    for leaked in ["s3cr3t-from-the-vault", "AKIALEAKEDKEY0000001"] {
        assert!(!out.stderr.contains(leaked), "{}", out.stderr);
        assert!(!out.stdout.contains(leaked));
    }
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn a_mistyped_aws_profile_is_named_like_a_mistyped_profile_flag() {
    let sb = demo_sandbox();
    let run = |set: &dyn Fn(Skyql) -> Skyql| {
        let skyql = Skyql::against(&sb, None);
        let config = write_file(
            &skyql.home_dir(),
            "config",
            "[profile prod]\nregion = us-east-1\n[profile staging]\nregion = eu-west-1\n",
        );
        set(skyql.env("AWS_CONFIG_FILE", &config))
            .args(["exec", COUNT])
            .run()
    };
    let env = run(&|s| s.env("AWS_PROFILE", "prdo"));
    let flag = run(&|s| s.args(["--profile", "prdo"]));
    for (out, named_by) in [(&env, "AWS_PROFILE=prdo"), (&flag, "--profile prdo")] {
        out.expect_code(2).expect_stderr(&[
            named_by,
            "profile 'prdo' not found",
            "profiles there: prod, staging",
            "Did you mean 'prod'?",
        ]);
        assert!(!out.stderr.contains("no AWS region"), "{}", out.stderr);
    }
    // The same message, but for what named the profile (and each run's own temp dir).
    let home = regex::Regex::new(r"/tmp/\.tmp\w+").unwrap();
    assert_eq!(
        home.replace_all(
            &env.stderr.replace("AWS_PROFILE=prdo", "--profile prdo"),
            "HOME"
        ),
        home.replace_all(&flag.stderr, "HOME"),
    );
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn several_result_sets_are_valid_documents() {
    let sb = demo_sandbox();
    let two = format!(
        "{COUNT}; SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'us-east-1' AND ecr_repository_prefix = 'k8s'"
    );
    // json: one array per result set, each on its own line (JSON Lines).
    let out = Skyql::new(&sb).args(["-o", "json", "exec", &two]).run();
    out.expect_code(0);
    let documents: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON document"))
        .collect();
    assert_eq!(
        documents,
        [
            serde_json::json!([{"n": 5}]),
            serde_json::json!([{"ecr_repository_prefix": "k8s"}])
        ]
    );
    // csv: results with the same columns are one table; other columns are refused up front.
    let out = Skyql::new(&sb)
        .args([
            "-o",
            "csv",
            "exec",
            &format!("{COUNT}; {COUNT} WHERE region = 'us-east-1'"),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(out.stdout, "n\n5\n5\n");
    sb.log().clear();
    let out = Skyql::new(&sb).args(["-o", "csv", "exec", &two]).run();
    out.expect_code(2)
        .expect_stderr(&["-o csv prints one table", "-o ndjson", "nothing was sent"]);
    assert_eq!(sb.log().len(), 0);
}
