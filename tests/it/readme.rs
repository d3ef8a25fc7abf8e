//! The Permissions guide (docs/permissions.md, linked from README) is what skyql prints: the
//! example script's policy and the EXPLAIN PERMISSIONS output are compared with real runs, and
//! the script converges.

use crate::common;

use common::cli::{Skyql, demo_sandbox};

const PERMISSIONS: &str = include_str!("../../docs/permissions.md");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ptc-setup.sql");

/// The first fenced block of `lang` in `text` after the line containing `marker`.
fn block_after(text: &str, marker: &str, lang: &str) -> String {
    let from = text
        .find(marker)
        .unwrap_or_else(|| panic!("the page lacks {marker}"));
    let fence = format!("```{lang}\n");
    let start = text[from..].find(&fence).expect("a fenced block follows") + from + fence.len();
    let len = text[start..].find("```").expect("the block ends");
    text[start..start + len].to_string()
}

#[test]
fn permissions_of_the_example_script_are_the_readme_policy() {
    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args(["--regions=us-east-1,eu-west-1", "permissions", "-f", SCRIPT])
        .run();
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        block_after(
            PERMISSIONS,
            "skyql --sandbox permissions -f examples/ptc-setup.sql",
            "json"
        )
    );
    let policy: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    assert!(
        sb.log().entries().is_empty(),
        "permissions makes no AWS call"
    );
}

#[test]
fn explain_permissions_example_is_the_readme_output() {
    let sb = demo_sandbox();
    let sql = "EXPLAIN PERMISSIONS UPDATE aws.ecr.pull_through_cache_rule SET custom_role_arn = 'arn:aws:iam::123456789012:role/ecr-ptc-cross-account-v2' WHERE region = 'eu-west-1' AND data__Identifier = 'prod-mirror'";
    assert!(
        PERMISSIONS.contains(sql),
        "docs/permissions.md shows this statement"
    );
    let out = Skyql::new(&sb).args(["exec", "-o", "csv", sql]).run();
    out.expect_code(0);
    assert_eq!(out.stdout, block_after(PERMISSIONS, sql, "csv"));
    assert!(sb.log().entries().is_empty(), "EXPLAIN makes no AWS call");
}

#[test]
fn the_example_script_applies_then_converges() {
    let sb = demo_sandbox();
    let run = || {
        Skyql::new(&sb)
            .args([
                "--regions=us-east-1,eu-west-1",
                "-o",
                "csv",
                "exec",
                "-f",
                SCRIPT,
            ])
            .run()
    };
    let first = run();
    first.expect_code(0);
    assert_eq!(first.stdout, "count\n3\n2\n1\n");
    let second = run();
    second.expect_code(0);
    assert_eq!(second.stdout, "count\n0\n0\n0\n", "{}", second.stderr);
}

#[test]
fn the_walkthrough_converges_against_a_sandbox_that_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("demo.json");
    let run = |extra: &[&str]| {
        let out = Skyql::bare()
            .args(["--sandbox-state"])
            .args([&state])
            .args(["-o", "csv", "exec", "-f", SCRIPT])
            .args(extra)
            .run();
        out.expect_code(0);
        out.stdout
    };
    // The dry run plans the changes and keeps the state as it was.
    assert_eq!(run(&["--dry-run"]), "count\n3\n2\n1\n");
    assert_eq!(run(&[]), "count\n3\n2\n1\n");
    assert_eq!(run(&[]), "count\n0\n0\n0\n");
}

#[test]
fn parallel_runs_on_one_sandbox_state_file_keep_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("shared.json");
    let prefixes = ["par-a", "par-b", "par-c", "par-d"];
    let runs: Vec<_> = prefixes
        .iter()
        .map(|prefix| {
            let sql = format!(
                "INSERT INTO aws.ecr.pull_through_cache_rules (region, ecr_repository_prefix, upstream_registry_url) \
                 VALUES ('us-east-1', '{prefix}', 'public.ecr.aws')"
            );
            Skyql::bare()
                .args(["--sandbox-state"])
                .args([&state])
                .args(["-o", "csv", "exec", &sql])
                .spawn()
        })
        .collect();
    for (mut child, _home) in runs {
        let status = common::cli::wait_with_timeout(&mut child, common::cli::RUN_TIMEOUT);
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("lost"), "{stderr}");
    }
    // Each run took its turn, so each one's rule is in the file.
    let out = Skyql::bare()
        .args(["--sandbox-state"])
        .args([&state])
        .args([
            "-o",
            "csv",
            "exec",
            "SELECT ecr_repository_prefix FROM aws.ecr.pull_through_cache_rules \
             WHERE region = 'us-east-1' AND ecr_repository_prefix LIKE 'par-%' ORDER BY 1",
        ])
        .run();
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "ecr_repository_prefix\npar-a\npar-b\npar-c\npar-d\n"
    );
}
