//! Bad input is refused with exit 2, a clear message on stderr, nothing on stdout and no AWS call.

use crate::common;

use common::cli::{Output, Skyql, demo_sandbox, write_file};
use skyql::sandbox::Sandbox;

const RULES: &str = "aws.ecr.pull_through_cache_rules";
const DEMO: &str = "--regions=us-east-1,eu-west-1,ap-southeast-2";

/// Runs `skyql` against a fresh demo sandbox and checks the refusal: exit 2, every word of
/// `words` on stderr, empty stdout, and an empty request log.
#[track_caller]
fn refused(args: &[&str], words: &[&str]) -> Output {
    let sb = demo_sandbox();
    refused_by(&sb, Skyql::new(&sb).args(args), words)
}

#[track_caller]
fn refused_by(sb: &Sandbox, skyql: Skyql, words: &[&str]) -> Output {
    let out = skyql.run();
    out.expect_code(2);
    for word in words {
        assert!(
            out.stderr.contains(word),
            "stderr lacks {word:?}:\n{}",
            out.stderr
        );
    }
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert_eq!(
        sb.log().len(),
        0,
        "no AWS call may be made: {:#?}",
        sb.log().entries()
    );
    assert!(
        !out.stderr.contains("panicked"),
        "a refusal is no panic: {}",
        out.stderr
    );
    out
}

fn select(where_: &str) -> String {
    format!("SELECT * FROM {RULES} WHERE {where_}")
}

// ---------------------------------------------------------------------------------------------
// SQL errors
// ---------------------------------------------------------------------------------------------

#[test]
fn a_syntax_error_names_line_and_column() {
    let out = refused(
        &[DEMO, "exec", &format!("SELECT region\n  FORM {RULES}")],
        &["syntax error", "Line: ", "Column: "],
    );
    assert!(out.stderr.contains("Line: 2"), "{}", out.stderr);
}

#[test]
fn a_syntax_error_in_the_third_statement_stops_the_whole_script() {
    let script = format!(
        "SELECT count(*) FROM {RULES};\nSELECT region FROM {RULES} WHERE region = 'us-east-1';\nSELECT region FROM {RULES} WHERE region = ;"
    );
    refused(
        &[DEMO, "exec", &script],
        &["syntax error", "Line: 3", "Column: "],
    );
    // The same from a file and from stdin.
    let sb = demo_sandbox();
    let skyql = Skyql::new(&sb);
    let path = write_file(&skyql.home_dir(), "script.sql", &script);
    refused_by(
        &sb,
        skyql.args([DEMO, "exec", "-f"]).args([&path]),
        &["syntax error", "Line: 3"],
    );
    refused_by(
        &sb,
        Skyql::new(&sb)
            .args([DEMO, "exec", "-f", "-"])
            .stdin(&script),
        &["syntax error", "Line: 3"],
    );
}

#[test]
fn an_unknown_table_suggests_the_right_one() {
    refused(
        &[
            DEMO,
            "exec",
            "SELECT * FROM aws.ecr.pull_through_cache_rulez",
        ],
        &[
            "aws.ecr.pull_through_cache_rulez",
            "not found",
            "Did you mean 'aws.ecr.pull_through_cache_rules'",
        ],
    );
}

#[test]
fn an_unknown_schema_suggests_the_right_table() {
    refused(
        &[
            DEMO,
            "exec",
            "SELECT * FROM aws.ecrr.pull_through_cache_rules",
        ],
        &["aws.ecrr", "aws.ecr.pull_through_cache_rules"],
    );
}

#[test]
fn an_unknown_column_suggests_the_right_one() {
    let out = refused(
        &[DEMO, "exec", &format!("SELECT regoin FROM {RULES}")],
        &["regoin", "region"],
    );
    assert!(out.stderr.contains("Did you mean"), "{}", out.stderr);
    refused(
        &[DEMO, "exec", &select("upstream_registy = 'quay'")],
        &["upstream_registy", "upstream_registry"],
    );
}

#[test]
fn an_unknown_function_is_named() {
    refused(
        &[
            DEMO,
            "exec",
            &format!("SELECT nosuchfn(region) FROM {RULES}"),
        ],
        &["nosuchfn"],
    );
}

#[test]
fn a_bad_timestamp_literal_is_refused_before_any_call() {
    refused(
        &[DEMO, "exec", &select("created_at > 'not a date'")],
        &["not a date"],
    );
}

#[test]
fn the_singular_table_needs_its_identifier() {
    refused(
        &[
            DEMO,
            "exec",
            "SELECT * FROM aws.ecr.pull_through_cache_rule",
        ],
        &["data__Identifier", "aws.ecr.pull_through_cache_rules"],
    );
    refused(
        &[
            DEMO,
            "exec",
            "SELECT * FROM aws.ecr.pull_through_cache_rule WHERE region = 'us-east-1' AND upstream_registry = 'quay'",
        ],
        &["data__Identifier"],
    );
}

#[test]
fn a_prefix_breaking_the_pattern_can_never_match() {
    refused(
        &[
            DEMO,
            "exec",
            &select("ecr_repository_prefix = 'Bad Prefix'"),
        ],
        &["'Bad Prefix'", "can never match", "pattern"],
    );
}

#[test]
fn a_prefix_longer_than_thirty_characters_can_never_match() {
    let long = "a".repeat(31);
    assert_eq!(long.len(), 31);
    refused(
        &[
            DEMO,
            "exec",
            &select(&format!("ecr_repository_prefix = '{long}'")),
        ],
        &[&long, "can never match", "30"],
    );
}

#[test]
fn one_bad_identifier_in_a_list_fails_the_statement() {
    refused(
        &[
            DEMO,
            "exec",
            &select("data__Identifier IN ('ok-one', 'BAD')"),
        ],
        &["'BAD'", "can never match"],
    );
}

#[test]
fn an_unknown_region_in_where_suggests_the_closest() {
    refused(
        &[DEMO, "exec", &select("region = 'us-east-9'")],
        &["unknown region 'us-east-9'", "Did you mean 'us-east-1'?"],
    );
    refused(
        &[
            DEMO,
            "exec",
            &select("region IN ('eu-west-1', 'EU-WEST-2')"),
        ],
        &["unknown region 'EU-WEST-2'"],
    );
}

// ---------------------------------------------------------------------------------------------
// Usage errors
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unknown_region_flag_suggests_the_closest() {
    refused(
        &[
            "--regions",
            "us-eats-1",
            "exec",
            &format!("SELECT * FROM {RULES}"),
        ],
        &[
            "--regions",
            "unknown region 'us-eats-1'",
            "Did you mean 'us-east-1'?",
        ],
    );
}

#[test]
fn an_empty_regions_flag_is_refused() {
    refused(
        &["--regions", "", "exec", &format!("SELECT * FROM {RULES}")],
        &["--regions", "empty"],
    );
    refused(
        &[
            "--regions",
            " , ",
            "exec",
            &format!("SELECT * FROM {RULES}"),
        ],
        &["--regions", "empty"],
    );
}

#[test]
fn an_unknown_output_format_lists_the_formats() {
    refused(
        &["-o", "xml", "exec", &format!("SELECT * FROM {RULES}")],
        &["xml", "table", "csv", "json", "ndjson"],
    );
}

#[test]
fn a_missing_script_file_is_named() {
    refused(
        &["exec", "-f", "/nonexistent.sql"],
        &["/nonexistent.sql", "does not exist"],
    );
}

#[test]
fn max_concurrency_zero_is_refused() {
    refused(
        &[
            "--max-concurrency",
            "0",
            "exec",
            &format!("SELECT * FROM {RULES}"),
        ],
        &["--max-concurrency", "0"],
    );
}

#[test]
fn out_of_range_retry_flags_are_refused() {
    refused(
        &[
            "--max-attempts",
            "0",
            "exec",
            &format!("SELECT * FROM {RULES}"),
        ],
        &["--max-attempts"],
    );
    refused(
        &[
            "--max-attempts",
            "21",
            "exec",
            &format!("SELECT * FROM {RULES}"),
        ],
        &["--max-attempts"],
    );
    refused(
        &[
            "--retry-mode",
            "fast",
            "exec",
            &format!("SELECT * FROM {RULES}"),
        ],
        &["fast", "standard", "adaptive"],
    );
}

#[test]
fn an_empty_script_is_refused() {
    refused(&["exec", ";"], &["no SQL statement"]);
    refused(&["exec", ""], &["no SQL statement"]);
    refused(&["exec", "  -- only a comment\n"], &["no SQL statement"]);
}

#[test]
fn exec_without_sql_says_how_to_give_it() {
    refused(&["exec"], &["no SQL given", "-f"]);
}

#[test]
fn sql_and_a_file_together_are_refused() {
    refused(
        &["exec", "SELECT 1", "-f", "/nonexistent.sql"],
        &["cannot be used with"],
    );
}

#[test]
fn an_unknown_subcommand_is_refused() {
    refused(&["selec", "*"], &["selec"]);
}

// ---------------------------------------------------------------------------------------------
// Scripts and default regions
// ---------------------------------------------------------------------------------------------

#[test]
fn a_planning_error_in_a_later_statement_stops_the_script_before_any_call() {
    let script =
        format!("SELECT count(*) FROM {RULES};\nSELECT * FROM {RULES} WHERE region = 'us-east-9';");
    refused(&[DEMO, "exec", &script], &["unknown region 'us-east-9'"]);
}

#[test]
fn an_unknown_default_region_is_refused_like_the_regions_flag() {
    let sb = demo_sandbox();
    refused_by(
        &sb,
        Skyql::against(&sb, Some("us-eats-1")).args(["exec", &format!("SELECT * FROM {RULES}")]),
        &["unknown region 'us-eats-1'", "Did you mean 'us-east-1'?"],
    );
}

#[test]
fn an_outfile_that_cannot_be_created_makes_no_call() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent-dir/rules.csv");
    for (path, why) in [
        (missing.as_path(), "does not exist"),
        (dir.path(), "it is a directory"),
    ] {
        let out = refused(
            &[
                DEMO,
                "--outfile",
                path.to_str().unwrap(),
                "exec",
                &format!("SELECT * FROM {RULES}"),
            ],
            &[&format!("cannot write {}: ", path.display()), why],
        );
        // The user's path, never the temporary file beside it (the test's own directory is
        // a temporary one too).
        let named = out.stderr.replace(&dir.path().display().to_string(), "DIR");
        assert!(!named.contains(".tmp"), "{}", out.stderr);
    }
    assert!(
        !missing.parent().unwrap().exists(),
        "no directory is created"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_script_that_cannot_be_read_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let latin1 = dir.path().join("latin1.sql");
    std::fs::write(&latin1, b"SELECT 'caf\xe9';").unwrap();
    let sb = demo_sandbox();
    refused_by(
        &sb,
        Skyql::new(&sb)
            .args(["exec", "-f", "-"])
            .stdin_bytes(b"SELECT 'caf\xe9';"),
        &["cannot read SQL from stdin: it is not UTF-8 text"],
    );
    let dir_name = dir.path().display().to_string();
    let latin1_name = latin1.display().to_string();
    for (file, why) in [
        (dir_name.as_str(), "it is a directory"),
        (latin1_name.as_str(), "it is not UTF-8 text"),
        ("missing.sql", "it does not exist"),
    ] {
        refused(
            &["exec", "-f", file],
            &[&format!("cannot read SQL file {file}: {why}")],
        );
    }
}

#[test]
fn datafusions_planning_errors_are_said_in_skyqls_words() {
    for (sql, says) in [
        (
            select("created_at > 'yesterday'"),
            "'yesterday' is not a time: write a timestamp as RFC 3339",
        ),
        (
            select("is_valid = 'maybe'"),
            "compare it with true or false, without quotes",
        ),
        (
            "SELECT sid, a FROM aws.ecr.registry_policy_statements CROSS JOIN unnest(actions) AS u(a)"
                .to_string(),
            "unnest in the select list instead",
        ),
        (
            format!("TRUNCATE {RULES}"),
            "use DELETE FROM aws.ecr.pull_through_cache_rules WHERE",
        ),
    ] {
        let out = refused(&[DEMO, "exec", &sql], &[says]);
        for raw in ["Arrow error", "Cannot infer", "OuterReferenceColumn", "not implemented"] {
            assert!(!out.stderr.contains(raw), "{sql}: {}", out.stderr);
        }
    }
}

#[test]
fn a_long_message_of_skyqls_is_never_cut() {
    // The refusal names both results' columns and the ways out, past the old 500-character cut.
    let out = refused(
        &[
            DEMO,
            "-o",
            "csv",
            "exec",
            &format!("SELECT * FROM aws.ecr.repository_creation_templates; SELECT * FROM {RULES}"),
        ],
        &[
            "lifecycle_policy",
            "COPY (SELECT …) TO 'file.csv' per result; nothing was sent",
        ],
    );
    assert!(out.stderr.lines().any(|l| l.len() > 600), "{}", out.stderr);
    assert!(!out.stderr.contains("more characters"), "{}", out.stderr);
}
