//! DML safety against the sandbox: validation before any call, bulk UPDATE/DELETE refused without --allow-bulk, dry runs and EXPLAIN.

use crate::common;

use common::cli::{
    ALL_DEMO, CREATE, DELETE, DESCRIBE, MUTATING, Output, PlannedCall, RULE, RULES, Skyql, UPDATE,
    calls_of, csv_rows, demo_sandbox, dry_run_calls, exec, mutating_calls, notes, prefixes_called,
    write_file,
};
use common::secret_arn;
use serde_json::{Value, json};
use skyql::sandbox::Sandbox;

/// Every rule of the demo regions as `region prefix`, sorted.
fn all_rules(sb: &Sandbox) -> Vec<String> {
    let mut rules = csv_rows(
        sb,
        &format!("SELECT region || ' ' || ecr_repository_prefix FROM {RULES}"),
    );
    rules.sort();
    rules
}

/// Asserts a refusal: exit 2, every word on stderr, nothing on stdout, no call at all.
#[track_caller]
fn refused_without_any_call(sb: &Sandbox, out: &Output, words: &[&str]) {
    out.expect_code(2).expect_stderr(words);
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert_eq!(sb.log().len(), 0, "no call: {:#?}", sb.log().entries());
}

// ---------------------------------------------------------------------------------------------
// Validation of INSERT rows: before any call, naming row, column and rule
// ---------------------------------------------------------------------------------------------

/// The columns of the validation cases, in order.
const COLUMNS: &str = "region, ecr_repository_prefix, upstream_registry_url, upstream_registry, \
                       upstream_repository_prefix, credential_arn, custom_role_arn, registry_id";
/// A valid first row, so every case's problem is in row 2.
const GOOD_ROW: &str = "('us-east-1', 'good-one', 'quay.io', NULL, NULL, NULL, NULL, NULL)";

#[test]
fn every_invalid_row_is_refused_before_any_call_naming_row_column_and_rule() {
    let secret = secret_arn("us-east-1", "creds");
    let role = "arn:aws:iam::123456789012:role/ecr-ptc";
    let ecr_url = "111122223333.dkr.ecr.us-east-1.amazonaws.com";
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            "('us-east-1', NULL, 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: ecr_repository_prefix: is required".into()],
        ),
        (
            "('us-east-1', 'q2', NULL, NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: upstream_registry_url: is required".into()],
        ),
        (
            "('us-east-1', 'q', 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: ecr_repository_prefix: 'q': must have length greater than or equal to 2".into()],
        ),
        (
            "('us-east-1', 'abcdefghijabcdefghijabcdefghijk', 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: ecr_repository_prefix: 'abcdefghijabcdefghijabcdefghijk': must have length less than or equal to 30".into()],
        ),
        (
            "('us-east-1', 'Team_A', 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: ecr_repository_prefix: 'Team_A': must satisfy regular expression pattern".into()],
        ),
        (
            "('us-east-1', 'team-', 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: ecr_repository_prefix: 'team-': must satisfy regular expression pattern".into()],
        ),
        (
            "('us-east-1', 'dh2', 'registry-1.docker.io', NULL, NULL, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub/creds-AbCdEf', NULL, NULL)".into(),
            vec!["row 2: credential_arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub/creds-AbCdEf': must satisfy regular expression pattern".into()],
        ),
        (
            "('us-east-1', 'dh2', 'registry-1.docker.io', NULL, NULL, 'arn:aws:secretsmanager:us-east-1:1:secret:x', NULL, NULL)".into(),
            vec!["row 2: credential_arn: 'arn:aws:secretsmanager:us-east-1:1:secret:x': must have length greater than or equal to 50".into()],
        ),
        (
            "('us-east-1', 'dh2', 'registry-1.docker.io', 'dockerhub', NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: upstream_registry: 'dockerhub' is not an upstream registry; expected one of".into()],
        ),
        (
            "('us-east-1', 'gh2', 'ghcr.io', 'quay', NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: upstream_registry: 'quay' does not match upstream_registry_url 'ghcr.io'".into()],
        ),
        (
            "('us-east-1', 'ex', 'registry.example.com', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: upstream_registry_url: 'registry.example.com' is not an upstream ECR can cache".into()],
        ),
        (
            "('us-east-1', 'dh2', 'registry-1.docker.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: credential_arn: is required for the upstream registry docker-hub".into()],
        ),
        (
            "('us-east-1', 'gh2', 'ghcr.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: credential_arn: is required for the upstream registry github-container-registry".into()],
        ),
        (
            "('us-east-1', 'gl2', 'registry.gitlab.com', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: credential_arn: is required for the upstream registry gitlab-container-registry".into()],
        ),
        (
            "('us-east-1', 'az2', 'contoso.azurecr.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: credential_arn: is required for the upstream registry azure-container-registry".into()],
        ),
        (
            "('us-east-1', 'cg2', 'cgr.dev', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: credential_arn: is required for the upstream registry chainguard".into()],
        ),
        (
            format!("('us-east-1', 'q2', 'quay.io', NULL, NULL, '{secret}', NULL, NULL)"),
            vec!["row 2: credential_arn: must be NULL: the upstream registry quay takes no credential".into()],
        ),
        (
            "('us-east-1', 'ROOT', 'quay.io', NULL, 'library', NULL, NULL, NULL)".into(),
            vec!["row 2: upstream_repository_prefix: can only be set when ecr_repository_prefix is not ROOT".into()],
        ),
        (
            "('us-east-1', 'q2', 'quay.io', NULL, 'Library', NULL, NULL, NULL)".into(),
            vec!["row 2: upstream_repository_prefix: 'Library': must satisfy regular expression pattern".into()],
        ),
        (
            format!("('us-east-1', 'q2', 'quay.io', NULL, NULL, NULL, '{role}', NULL)"),
            vec!["row 2: custom_role_arn: must be NULL: a custom role is only for ecr upstreams, not quay".into()],
        ),
        (
            format!("('us-east-1', 'm2', '{ecr_url}', 'ecr', NULL, NULL, 'arn:aws:iam::123456789012:user/bob', NULL)"),
            vec!["row 2: custom_role_arn: 'arn:aws:iam::123456789012:user/bob' is not an IAM role ARN".into()],
        ),
        (
            "('us-east-1', 'q2', 'quay.io', NULL, NULL, NULL, NULL, '123456789012')".into(),
            vec!["row 2: registry_id: is set by AWS and cannot be given".into()],
        ),
        (
            "('us-east-9', 'q2', 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            vec!["row 2: region: unknown region 'us-east-9'. Did you mean 'us-east-1'?".into()],
        ),
        (
            "('us-east-1', 'good-one/', 'quay.io', NULL, NULL, NULL, NULL, NULL)".into(),
            // `good-one/` and `good-one` are one rule, named in its one spelling.
            vec!["rows 1 and 2 both ask for rule 'good-one' in us-east-1".into()],
        ),
    ];
    let mut failures = Vec::new();
    for (row, expected) in &cases {
        let sb = demo_sandbox();
        let sql = format!("INSERT INTO {RULES} ({COLUMNS}) VALUES {GOOD_ROW}, {row}");
        let out = exec(&sb, &[], &sql);
        let mut wrong = Vec::new();
        if out.code != 2 {
            wrong.push(format!("exit {}", out.code));
        }
        for word in expected
            .iter()
            .map(String::as_str)
            .chain(["nothing was sent"])
        {
            if !out.stderr.contains(word) {
                wrong.push(format!("stderr lacks {word:?}"));
            }
        }
        if out.stderr.contains("row 1:") {
            wrong.push("row 1 is valid but blamed".into());
        }
        if !out.stdout.is_empty() {
            wrong.push(format!("stdout {:?}", out.stdout));
        }
        if !sb.log().is_empty() {
            wrong.push(format!("{} call(s) made", sb.log().len()));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{row}: {}\n  stderr: {}",
                wrong.join("; "),
                out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_timestamps_aws_sets_cannot_be_inserted() {
    for column in ["created_at", "updated_at"] {
        let sb = demo_sandbox();
        let out = exec(
            &sb,
            &[],
            &format!(
                "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, {column}) VALUES \
                 ('us-east-1', 'q2', 'quay.io', TIMESTAMP '2025-01-01T00:00:00Z')"
            ),
        );
        refused_without_any_call(
            &sb,
            &out,
            &[&format!(
                "row 1: {column}: is set by AWS and cannot be given"
            )],
        );
    }
}

#[test]
fn row_3_of_3_being_bad_makes_no_call_at_all() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES \
             ('us-east-1', 'q1', 'quay.io'), ('eu-west-1', 'q2', 'quay.io'), ('us-east-1', 'dh3', 'registry-1.docker.io')"
        ),
    );
    refused_without_any_call(
        &sb,
        &out,
        &[
            "1 problem(s) in the rows; nothing was sent",
            "row 3: credential_arn: is required for the upstream registry docker-hub",
        ],
    );
    assert!(!out.stderr.contains("row 1:"), "{}", out.stderr);
    assert!(!out.stderr.contains("row 2:"), "{}", out.stderr);
}

#[test]
fn every_problem_of_every_row_is_listed() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, upstream_registry) VALUES \
             ('us-east-1', 'Q1', 'quay.io', 'docker-hub'), ('us-east-1', 'q2', 'quay.io', NULL), ('us-east-1', 'q3', 'quay.example', NULL)"
        ),
    );
    refused_without_any_call(
        &sb,
        &out,
        &[
            "3 problem(s) in the rows; nothing was sent",
            "row 1: ecr_repository_prefix: 'Q1'",
            "row 1: upstream_registry: 'docker-hub' does not match upstream_registry_url 'quay.io'",
            "row 3: upstream_registry_url: 'quay.example'",
        ],
    );
    assert!(!out.stderr.contains("row 2:"), "{}", out.stderr);
}

#[test]
fn a_script_whose_third_insert_is_bad_makes_no_call_at_all() {
    let sb = demo_sandbox();
    let script = format!(
        "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q1', 'quay.io');\n\
         INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q2', 'quay.io');\n\
         INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q3', 'registry-1.docker.io');\n"
    );
    let skyql = Skyql::new(&sb);
    let path = write_file(&skyql.home_dir(), "rules.sql", &script);
    let out = skyql.args(["exec", "-f"]).args([&path]).run();
    out.expect_code(2)
        .expect_stderr(&["credential_arn: is required for the upstream registry docker-hub"]);
    assert_eq!(mutating_calls(&sb), vec![], "no rule may be created");
}

#[test]
fn a_script_ending_in_an_update_to_a_malformed_credential_makes_no_call_at_all() {
    let sb = demo_sandbox();
    let script = format!(
        "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q1', 'quay.io');\n\
         UPDATE {RULES} SET credential_arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:not-ptc' \
         WHERE region = 'us-east-1' AND ecr_repository_prefix = 'docker-hub';\n"
    );
    let skyql = Skyql::new(&sb);
    let path = write_file(&skyql.home_dir(), "rules.sql", &script);
    let out = skyql.args(["exec", "-f"]).args([&path]).run();
    out.expect_code(2)
        .expect_stderr(&["credential_arn: 'arn:aws:secretsmanager"]);
    assert_eq!(
        mutating_calls(&sb),
        vec![],
        "the INSERT must not run either"
    );
}

#[test]
fn a_script_ending_in_an_unpinned_delete_makes_no_call_at_all() {
    let sb = demo_sandbox();
    let script = format!(
        "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q1', 'quay.io');\n\
         DELETE FROM {RULES} WHERE upstream_registry = 'quay';\n"
    );
    let out = exec(&sb, &[], &script);
    refused_without_any_call(
        &sb,
        &out,
        &["DELETE does not pin identifiers", "--allow-bulk"],
    );
}

#[test]
fn update_to_a_malformed_credential_is_refused_before_any_call() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            "UPDATE {RULE} SET credential_arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub/creds-AbCdEf' \
             WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
    );
    out.expect_code(2)
        .expect_stderr(&["credential_arn", "must satisfy regular expression pattern"]);
    assert_eq!(sb.log().count(UPDATE), 0);
}

// ---------------------------------------------------------------------------------------------
// Bulk UPDATE/DELETE
// ---------------------------------------------------------------------------------------------

#[test]
fn unpinned_update_or_delete_is_refused_without_allow_bulk() {
    let secret = secret_arn("us-east-1", "x");
    let cases = [
        (
            format!("DELETE FROM {RULES} WHERE upstream_registry = 'quay'"),
            "DELETE does not pin identifiers",
        ),
        (format!("DELETE FROM {RULES}"), "DELETE has no WHERE"),
        (
            format!("DELETE FROM {RULES} WHERE region = 'us-east-1'"),
            "DELETE does not pin identifiers",
        ),
        (
            format!(
                "DELETE FROM {RULES} WHERE region = 'us-east-1' AND (ecr_repository_prefix = 'quay' OR upstream_registry = 'k8s')"
            ),
            "DELETE does not pin identifiers",
        ),
        (
            format!("DELETE FROM {RULES} WHERE ecr_repository_prefix LIKE 'q%'"),
            "DELETE does not pin identifiers",
        ),
        (
            format!("DELETE FROM {RULES} WHERE NOT (ecr_repository_prefix = 'quay')"),
            "DELETE does not pin identifiers",
        ),
        (
            format!(
                "UPDATE {RULES} SET credential_arn = '{secret}' WHERE upstream_registry = 'docker-hub'"
            ),
            "UPDATE does not pin identifiers",
        ),
        (
            format!("UPDATE {RULES} SET credential_arn = '{secret}'"),
            "UPDATE has no WHERE",
        ),
    ];
    for (sql, scope) in &cases {
        let sb = demo_sandbox();
        let out = exec(&sb, &[ALL_DEMO], sql);
        refused_without_any_call(
            &sb,
            &out,
            &[scope, "--allow-bulk", "--dry-run", "nothing was sent"],
        );
    }
}

#[test]
fn allow_bulk_delete_lists_the_matches_and_deletes_exactly_those() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--allow-bulk", ALL_DEMO, "-o", "csv"],
        &format!("DELETE FROM {RULES} WHERE upstream_registry = 'quay'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    let listed = notes(&out.stderr)
        .into_iter()
        .find(|n| n.starts_with("DELETE without pinned identifiers matches 2 rule(s): "))
        .unwrap_or_else(|| panic!("no list of matches:\n{}", out.stderr));
    assert!(listed.contains("us-east-1 quay"), "{listed}");
    assert!(listed.contains("ap-southeast-2 quay"), "{listed}");
    assert_eq!(
        prefixes_called(&sb, DELETE),
        vec![
            ("ap-southeast-2".to_string(), "quay".to_string()),
            ("us-east-1".to_string(), "quay".to_string()),
        ]
    );
    assert_eq!(mutating_calls(&sb).len(), 2);
    assert!(!all_rules(&sb).iter().any(|r| r.ends_with(" quay")));
    assert_eq!(all_rules(&sb).len(), 10, "12 demo rules, 2 deleted");
}

#[test]
fn allow_bulk_update_acts_on_exactly_the_matches() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--allow-bulk", ALL_DEMO, "-o", "csv"],
        &format!(
            "UPDATE {RULES} SET credential_arn = 'arn:aws:secretsmanager:' || region || ':123456789012:secret:ecr-pullthroughcache/docker-hub-2026' \
             WHERE upstream_registry = 'docker-hub'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    out.expect_stderr(&["UPDATE without pinned identifiers matches 2 rule(s)"]);
    let mut updates = calls_of(&sb, UPDATE);
    updates.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        updates,
        vec![
            (
                "eu-west-1".to_string(),
                json!({"ecrRepositoryPrefix": "docker-hub", "credentialArn": format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-2026")})
            ),
            (
                "us-east-1".to_string(),
                json!({"ecrRepositoryPrefix": "docker-hub", "credentialArn": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-2026")})
            ),
        ]
    );
    assert_eq!(mutating_calls(&sb).len(), 2);
}

#[test]
fn allow_bulk_without_where_acts_on_the_session_regions_only() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--allow-bulk", "--regions", "eu-west-1", "-o", "csv"],
        &format!("DELETE FROM {RULES}"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n4\n");
    assert_eq!(
        prefixes_called(&sb, DELETE),
        ["docker-hub", "ecr-public", "gitlab", "prod-mirror"]
            .iter()
            .map(|p| ("eu-west-1".to_string(), p.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sb.log()
            .entries()
            .iter()
            .filter(|e| e.region.as_deref() != Some("eu-west-1"))
            .count(),
        0,
        "no other region is called"
    );
}

// ---------------------------------------------------------------------------------------------
// Dry run and EXPLAIN
// ---------------------------------------------------------------------------------------------

fn planned(operation: &str, region: &str, parameters: serde_json::Value) -> PlannedCall {
    PlannedCall {
        operation: operation.to_string(),
        region: region.to_string(),
        parameters,
    }
}

#[test]
fn dry_run_insert_prints_the_plan_and_makes_no_call() {
    let sb = demo_sandbox();
    let secret = secret_arn("eu-west-1", "hub2");
    let out = exec(
        &sb,
        &["--dry-run", "-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) VALUES \
             ('us-east-1', 'q2', 'quay.io', NULL), ('eu-west-1', 'hub2', 'registry-1.docker.io', '{secret}')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    out.expect_stderr(&[
        "skyql: dry run: INSERT on aws.ecr.pull_through_cache_rules would make 2 call(s) (create 2); nothing was changed",
    ]);
    assert_eq!(
        dry_run_calls(&out.stderr),
        vec![
            planned(
                CREATE,
                "us-east-1",
                json!({"ecrRepositoryPrefix": "q2", "upstreamRegistryUrl": "quay.io"})
            ),
            planned(
                CREATE,
                "eu-west-1",
                json!({"ecrRepositoryPrefix": "hub2", "upstreamRegistryUrl": "registry-1.docker.io", "credentialArn": secret})
            ),
        ]
    );
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[test]
fn dry_run_on_conflict_reads_but_does_not_write() {
    let sb = demo_sandbox();
    let new = secret_arn("us-east-1", "docker-hub-2026");
    let out = exec(
        &sb,
        &["--dry-run", "-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) VALUES \
             ('us-east-1', 'docker-hub', 'registry-1.docker.io', '{new}'), ('us-east-1', 'quay', 'quay.io', NULL) \
             ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    out.expect_stderr(&["would make 1 call(s) (update 1, unchanged 1); nothing was changed"]);
    assert_eq!(
        dry_run_calls(&out.stderr),
        vec![planned(
            UPDATE,
            "us-east-1",
            json!({"ecrRepositoryPrefix": "docker-hub", "credentialArn": new})
        )]
    );
    assert_eq!(mutating_calls(&sb), vec![]);
    assert!(sb.log().count(DESCRIBE) >= 1, "existing rules are read");
}

#[test]
fn dry_run_update_and_delete_print_the_plan_and_change_nothing() {
    let sb = demo_sandbox();
    let before = all_rules(&sb);
    sb.log().clear();
    let new = secret_arn("us-east-1", "ghcr-2026");
    let out = exec(
        &sb,
        &["--dry-run", "-o", "csv"],
        &format!(
            "UPDATE {RULE} SET credential_arn = '{new}' WHERE region = 'us-east-1' AND data__Identifier = 'ghcr';\n\
             DELETE FROM {RULES} WHERE region IN ('us-east-1', 'ap-southeast-2') AND data__Identifier IN ('quay', 'k8s')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n3\n");
    out.expect_stderr(&[
        "dry run: UPDATE on aws.ecr.pull_through_cache_rule would make 1 call(s) (update 1); nothing was changed",
        "dry run: DELETE on aws.ecr.pull_through_cache_rules would make 3 call(s) (delete 3); nothing was changed",
    ]);
    let mut calls = dry_run_calls(&out.stderr);
    calls[1..].sort_by(|a, b| {
        (&a.region, a.parameters.to_string()).cmp(&(&b.region, b.parameters.to_string()))
    });
    assert_eq!(
        calls,
        vec![
            planned(
                UPDATE,
                "us-east-1",
                json!({"ecrRepositoryPrefix": "ghcr", "credentialArn": new})
            ),
            planned(
                DELETE,
                "ap-southeast-2",
                json!({"ecrRepositoryPrefix": "quay"})
            ),
            planned(DELETE, "us-east-1", json!({"ecrRepositoryPrefix": "k8s"})),
            planned(DELETE, "us-east-1", json!({"ecrRepositoryPrefix": "quay"})),
        ]
    );
    assert_eq!(mutating_calls(&sb), vec![]);
    assert_eq!(all_rules(&sb), before, "nothing changed");
}

#[test]
fn a_dry_run_fails_where_the_real_run_fails_and_shows_a_bulk_delete_with_allow_bulk() {
    let sb = demo_sandbox();
    let sql = format!("DELETE FROM {RULES} WHERE upstream_registry = 'quay'");
    // A CI gate on the dry run must see the refusal the real run would meet.
    for flags in [&[ALL_DEMO][..], &["--dry-run", ALL_DEMO][..]] {
        let out = exec(&sb, flags, &sql);
        refused_without_any_call(&sb, &out, &["does not pin identifiers", "--allow-bulk"]);
    }
    let merge = format!(
        "MERGE INTO {RULES} t USING (SELECT 'us-east-1' AS region, 'quay' AS ecr_repository_prefix) s \
         ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
         WHEN NOT MATCHED BY SOURCE THEN DELETE"
    );
    let out = exec(&sb, &["--dry-run"], &merge);
    refused_without_any_call(&sb, &out, &["--allow-bulk"]);
    // With --allow-bulk, the dry run shows what it matches and every call.
    let out = exec(
        &sb,
        &["--dry-run", "--allow-bulk", ALL_DEMO, "-o", "csv"],
        &sql,
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    out.expect_stderr(&[
        "DELETE without pinned identifiers matches 2 rule(s)",
        "would make 2 call(s) (delete 2); nothing was changed",
    ]);
    let mut calls = dry_run_calls(&out.stderr);
    calls.sort_by(|a, b| a.region.cmp(&b.region));
    assert_eq!(
        calls,
        vec![
            planned(
                DELETE,
                "ap-southeast-2",
                json!({"ecrRepositoryPrefix": "quay"})
            ),
            planned(DELETE, "us-east-1", json!({"ecrRepositoryPrefix": "quay"})),
        ]
    );
    assert_eq!(mutating_calls(&sb), vec![]);
    assert_eq!(all_rules(&sb).len(), 12);
}

#[test]
fn explain_of_dml_shows_dml_exec_and_makes_no_call() {
    let secret = secret_arn("us-east-1", "x");
    let cases = [
        (
            format!(
                "EXPLAIN INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q2', 'quay.io') ON CONFLICT DO NOTHING"
            ),
            "DmlExec: INSERT aws.ecr.pull_through_cache_rules, on_conflict=do_nothing",
        ),
        (
            format!(
                "EXPLAIN UPDATE {RULE} SET credential_arn = '{secret}' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
            ),
            "DmlExec: UPDATE aws.ecr.pull_through_cache_rule, regions=[us-east-1], ecr_repository_prefix=[docker-hub]",
        ),
        (
            format!(
                "EXPLAIN DELETE FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier IN ('quay', 'k8s')"
            ),
            "DmlExec: DELETE aws.ecr.pull_through_cache_rules, regions=[us-east-1], ecr_repository_prefix=[k8s, quay]",
        ),
    ];
    for (sql, shown) in &cases {
        let sb = demo_sandbox();
        let out = exec(&sb, &["-o", "csv"], sql);
        out.expect_code(0);
        assert!(out.stdout.contains(shown), "{sql}\n{}", out.stdout);
        assert_eq!(sb.log().len(), 0, "{sql}: {:#?}", sb.log().entries());
    }
    // A bulk DELETE explained with --allow-bulk: still no call.
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--allow-bulk", "--regions", "eu-west-1", "-o", "csv"],
        &format!("EXPLAIN DELETE FROM {RULES} WHERE upstream_registry = 'gitlab'"),
    );
    out.expect_code(0);
    assert!(
        out.stdout.contains(
            "DmlExec: DELETE aws.ecr.pull_through_cache_rules, regions=[eu-west-1], bulk"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
    assert!(MUTATING.iter().all(|op| sb.log().count(op) == 0));
}

// ---------------------------------------------------------------------------------------------
// Never more than asked: a write touches exactly what a SELECT with its WHERE returns
// ---------------------------------------------------------------------------------------------

/// The registry policy tables.
const STATEMENTS: &str = "aws.ecr.registry_policy_statements";
const POLICY: &str = "aws.ecr.registry_policy";

#[test]
fn a_false_or_contradictory_where_matches_nothing_and_makes_no_call() {
    let cases = [
        (RULES, "region = 'us-east-1' AND 1 = 0"),
        (RULES, "false"),
        (RULES, "credential_arn = NULL"),
        (RULES, "region = 'us-east-1' AND region = 'eu-west-1'"),
        (
            RULES,
            "ecr_repository_prefix = 'quay' AND ecr_repository_prefix = 'k8s'",
        ),
        (STATEMENTS, "1 = 0"),
        (STATEMENTS, "sid = 'A' AND sid = 'B'"),
        (POLICY, "false"),
        (POLICY, "region = 'us-east-1' AND region = 'eu-west-1'"),
    ];
    for (table, condition) in cases {
        // With --allow-bulk as without: a WHERE proved false is no bulk statement.
        for flags in [&["--allow-bulk", ALL_DEMO][..], &[ALL_DEMO][..]] {
            let sb = demo_sandbox();
            let sql = format!("DELETE FROM {table} WHERE {condition}");
            let out = exec(&sb, &[&["-o", "csv"][..], flags].concat(), &sql);
            out.expect_code(0);
            assert_eq!(out.stdout, "count\n0\n", "{sql}");
            assert_eq!(sb.log().len(), 0, "{sql}: {:#?}", sb.log().entries());
            assert_eq!(all_rules(&sb).len(), 12, "{sql}");
        }
    }
    // UPDATE too.
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--allow-bulk", ALL_DEMO],
        &format!(
            "UPDATE {RULES} SET credential_arn = '{}' WHERE upstream_registry = 'docker-hub' AND 1 = 0",
            secret_arn("us-east-1", "other")
        ),
    );
    out.expect_code(0);
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[test]
fn an_unpinned_where_is_refused_as_unpinned_not_as_missing() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[ALL_DEMO],
        &format!("DELETE FROM {RULES} WHERE upstream_registry = 'quay' AND 1 = 1"),
    );
    refused_without_any_call(&sb, &out, &["does not pin identifiers", "--allow-bulk"]);
    assert!(!out.stderr.contains("has no WHERE"), "{}", out.stderr);
    // A region predicate other than `=`/`IN` chooses the regions to read, but pins nothing.
    let out = exec(
        &sb,
        &[ALL_DEMO],
        &format!("DELETE FROM {POLICY} WHERE region LIKE '%'"),
    );
    refused_without_any_call(&sb, &out, &["does not pin region", "--allow-bulk"]);
}

#[test]
fn rows_outside_the_pinned_regions_are_never_touched() {
    let sb = demo_sandbox();
    let before = all_rules(&sb);
    sb.log().clear();
    let out = exec(
        &sb,
        &["--allow-bulk", ALL_DEMO],
        &format!(
            "DELETE FROM {RULES} WHERE region = 'eu-west-1' AND (upstream_registry = 'k8s' OR 1 = 1)"
        ),
    );
    out.expect_code(0);
    let deleted = prefixes_called(&sb, DELETE);
    assert!(!deleted.is_empty());
    assert!(deleted.iter().all(|(r, _)| r == "eu-west-1"), "{deleted:?}");
    let expected: Vec<String> = before
        .into_iter()
        .filter(|r| !r.starts_with("eu-west-1 "))
        .collect();
    assert_eq!(all_rules(&sb), expected);
}

#[test]
fn a_subquery_in_update_or_delete_is_refused_before_any_call() {
    let forms = [
        "region = 'us-east-1' AND ecr_repository_prefix IN (SELECT 'k8s')",
        "ecr_repository_prefix NOT IN (SELECT 'k8s')",
        "EXISTS (SELECT 1)",
    ];
    for condition in forms {
        // The same WHERE in a SELECT has rows: dropping it would act on all of them.
        let sb = demo_sandbox();
        assert!(!csv_rows(&sb, &format!("SELECT * FROM {RULES} WHERE {condition}")).is_empty());
        for (flags, sql) in [
            (
                &["--allow-bulk", ALL_DEMO][..],
                format!("DELETE FROM {RULES} WHERE {condition}"),
            ),
            (
                &["--dry-run", ALL_DEMO][..],
                format!("DELETE FROM {RULES} WHERE {condition}"),
            ),
            (
                &["--allow-bulk", ALL_DEMO][..],
                format!(
                    "UPDATE {RULES} SET credential_arn = '{}' WHERE {condition}",
                    secret_arn("us-east-1", "x")
                ),
            ),
        ] {
            let sb = demo_sandbox();
            let out = exec(&sb, flags, &sql);
            refused_without_any_call(&sb, &out, &["subquery", "nothing was sent"]);
        }
    }
}

#[test]
fn delete_with_a_limit_is_refused_before_any_call() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--allow-bulk"],
        &format!("DELETE FROM {RULES} WHERE region = 'us-east-1' LIMIT 1"),
    );
    refused_without_any_call(&sb, &out, &["LIMIT", "nothing was sent"]);
}

/// A demo sandbox whose ap-southeast-2 answers every call with AccessDeniedException.
fn sandbox_failing_apac() -> Sandbox {
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.fail_regions = vec!["ap-southeast-2".into()];
    common::start(config)
}

#[test]
fn insert_select_from_a_partial_source_makes_no_change() {
    let sql = format!(
        "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) \
         SELECT 'eu-west-1', ecr_repository_prefix || '-copy', upstream_registry_url FROM {RULES} \
         WHERE region IN ('us-east-1', 'ap-southeast-2') AND upstream_registry = 'quay'"
    );
    let sb = sandbox_failing_apac();
    let out = exec(&sb, &[], &sql);
    out.expect_code(1).expect_stderr(&[
        "made no change",
        "ap-southeast-2",
        "AccessDeniedException",
        "--allow-partial",
    ]);
    assert_eq!(mutating_calls(&sb), vec![]);
    // Opting in applies what was read, and the run still reports the missing region (exit 3).
    let out = exec(&sb, &["--allow-partial"], &sql);
    out.expect_code(3).expect_stderr(&["ap-southeast-2"]);
    assert_eq!(
        prefixes_called(&sb, CREATE),
        [("eu-west-1".to_string(), "quay-copy".to_string())]
    );
}

#[test]
fn merge_from_a_partial_source_deletes_nothing() {
    // eu-west-1 should mirror us-east-1 and ap-southeast-2; ap-southeast-2 cannot be read.
    let sql = format!(
        "MERGE INTO {RULES} t USING (SELECT 'eu-west-1' AS region, ecr_repository_prefix, \
         upstream_registry_url FROM {RULES} WHERE region IN ('us-east-1', 'ap-southeast-2')) s \
         ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
         WHEN NOT MATCHED BY SOURCE THEN DELETE"
    );
    for flags in [&["--allow-bulk"][..], &["--allow-bulk", "--dry-run"][..]] {
        let sb = sandbox_failing_apac();
        let out = exec(&sb, flags, &sql);
        out.expect_code(1)
            .expect_stderr(&["MERGE", "made no change", "ap-southeast-2"]);
        assert_eq!(mutating_calls(&sb), vec![]);
        assert_eq!(dry_run_calls(&out.stderr), vec![]);
    }
}

#[test]
fn a_create_or_delete_whose_response_was_lost_succeeded() {
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.lose_responses = vec![CREATE.into(), DELETE.into()];
    let sb = common::start(config);
    for conflict in ["", " ON CONFLICT DO NOTHING"] {
        let name = if conflict.is_empty() {
            "lost-a"
        } else {
            "lost-b"
        };
        let out = exec(
            &sb,
            &["-o", "csv"],
            &format!(
                "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) \
                 VALUES ('{name}', 'quay.io'){conflict}"
            ),
        );
        out.expect_code(0)
            .expect_stderr(&["response was lost", "found it done"]);
        assert_eq!(out.stdout, "count\n1\n");
    }
    // Each Create committed, lost its response (500), and its retry met AlreadyExists.
    let creates: Vec<u16> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == CREATE)
        .map(|e| e.status)
        .collect();
    assert_eq!(creates, [500, 400, 500, 400]);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {RULES} WHERE ecr_repository_prefix = 'lost-a'"),
    );
    out.expect_code(0).expect_stderr(&["response was lost"]);
    assert_eq!(out.stdout, "count\n1\n");
    assert!(
        !csv_rows(&sb, &format!("SELECT ecr_repository_prefix FROM {RULES}"))
            .contains(&"lost-a".to_string())
    );
}

/// The (operation, status, error code) of every logged call, in order.
fn statuses(sb: &Sandbox) -> Vec<(String, u16, Option<String>)> {
    sb.log()
        .entries()
        .into_iter()
        .map(|e| (e.operation, e.status, e.error_code))
        .collect()
}

#[test]
fn an_insert_of_an_existing_rule_whose_first_try_was_throttled_is_refused() {
    // A throttled attempt proves that nothing changed: the retry's AlreadyExists means the
    // rule was there before, even though it holds exactly the members asked for.
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.throttle_first = vec![CREATE.into()];
    let sb = common::start(config);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) \
             VALUES ('us-east-1', 'ecr-public', 'public.ecr.aws')"
        ),
    );
    out.expect_code(1).expect_stderr(&[
        "PullThroughCacheRuleAlreadyExistsException",
        "no call had succeeded before it",
    ]);
    assert_eq!(out.stdout, "", "no count: nothing was created");
    assert!(!out.stderr.contains("response was lost"), "{}", out.stderr);
    let throttled = Some("ThrottlingException".to_string());
    let exists = Some("PullThroughCacheRuleAlreadyExistsException".to_string());
    assert_eq!(
        statuses(&sb),
        [
            (CREATE.to_string(), 400, throttled),
            (CREATE.to_string(), 400, exists)
        ],
        "no read-back: the refusal stands"
    );
}

#[test]
fn a_create_or_delete_whose_only_answer_was_a_5xx_is_read_back() {
    // One attempt (no retry): the Create commits and is answered 500. A read finds the rule
    // as asked, so it is reported done, not as a failure.
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.lose_responses = vec![CREATE.into(), DELETE.into()];
    let sb = common::start(config);
    let out = exec(
        &sb,
        &["-o", "csv", "--max-attempts", "1"],
        &format!(
            "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) \
             VALUES ('lost-once', 'quay.io')"
        ),
    );
    out.expect_code(0)
        .expect_stderr(&["a read found the change in place"]);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        statuses(&sb),
        [
            (CREATE.to_string(), 500, Some("ServerException".to_string())),
            (DESCRIBE.to_string(), 200, None)
        ]
    );
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv", "--max-attempts", "1"],
        &format!(
            "DELETE FROM {RULES} WHERE region = 'us-east-1' AND ecr_repository_prefix = 'lost-once'"
        ),
    );
    out.expect_code(0)
        .expect_stderr(&["a read found the change in place"]);
    assert_eq!(out.stdout, "count\n1\n");
    assert!(!all_rules(&sb).contains(&"us-east-1 lost-once".to_string()));
}

#[test]
fn a_create_whose_outcome_cannot_be_known_says_so() {
    // Every call is answered 500 before anything is done, the read-back too: the Create may
    // or may not have been made, and the report says exactly that.
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.server_error_rate = 1.0;
    let sb = common::start(config);
    let out = exec(
        &sb,
        &["--max-attempts", "1"],
        &format!(
            "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) \
             VALUES ('unknown', 'quay.io')"
        ),
    );
    out.expect_code(1).expect_stderr(&[
        "ServerException",
        "the request was sent, so the change may have been made",
        "reading it back failed too",
        "check before re-running",
    ]);
}

#[test]
fn a_trailing_slash_names_the_same_rule_everywhere() {
    let sb = demo_sandbox();
    let mut found = csv_rows(
        &sb,
        &format!(
            "SELECT region, ecr_repository_prefix FROM {RULES} WHERE ecr_repository_prefix = 'quay/'"
        ),
    );
    found.sort();
    assert_eq!(found, ["ap-southeast-2,quay", "us-east-1,quay"]);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULE} SET credential_arn = '{}' WHERE data__Identifier = 'docker-hub/'",
            secret_arn("us-east-1", "rotated")
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {RULES} WHERE ecr_repository_prefix IN ('k8s/')"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        prefixes_called(&sb, DELETE),
        [("us-east-1".into(), "k8s".into())]
    );
    let out = exec(
        &sb,
        &[],
        &format!(
            "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) VALUES ('quay/', 'quay.io')"
        ),
    );
    out.expect_code(1).expect_stderr(&["quay"]);
}

#[test]
fn exit_2_means_nothing_was_sent() {
    // A number where text is expected: refused before any call.
    for sql in [
        format!("SELECT * FROM {RULES} WHERE region = 5"),
        format!("DELETE FROM {RULES} WHERE region = 5"),
        format!("DELETE FROM {STATEMENTS} WHERE region = 5 AND sid = 'x'"),
        // Also where the filter is not handed to the table (found by the property test).
        format!("SELECT region FROM {RULES} WHERE region = 5 OR EXISTS (SELECT 1)"),
    ] {
        let sb = demo_sandbox();
        let out = exec(&sb, &["--allow-bulk"], &sql);
        refused_without_any_call(&sb, &out, &["region is text", "nothing was sent"]);
    }
    // Literals are not converted silently: a number for text, a string for a list.
    for (sql, words) in [
        (
            format!(
                "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) VALUES (55, 'quay.io')"
            ),
            ["ecr_repository_prefix: 55 is not text", "('55')"],
        ),
        (
            format!(
                "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) \
                 VALUES ('us-east-1', 'X', ['*'], 'ecr:*', ['*'])"
            ),
            [
                "actions: 'ecr:*' is text where a list is expected",
                "['ecr:*']",
            ],
        ),
    ] {
        let sb = demo_sandbox();
        let out = exec(&sb, &["--dry-run"], &sql);
        refused_without_any_call(&sb, &out, &words);
    }
    // A value refused only once the rule is read: exit 1, saying what was sent.
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            r#"UPDATE {RULE} SET data__PatchDocument = '[{{"op":"test","path":"/CredentialArn","value":"nope"}}]' WHERE data__Identifier = 'docker-hub'"#
        ),
    );
    out.expect_code(1)
        .expect_stderr(&["found after 1 request(s)"]);
    assert_eq!(mutating_calls(&sb), vec![]);
    // A huge value is quoted only in part.
    let sb = demo_sandbox();
    let huge = "a".repeat(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let script = write_file(
        dir.path(),
        "huge.sql",
        &format!("SELECT * FROM {RULES} WHERE ecr_repository_prefix = '{huge}'"),
    );
    let out = Skyql::new(&sb)
        .args(["exec", "-f", script.to_str().unwrap()])
        .run();
    refused_without_any_call(
        &sb,
        &out,
        &["ecr_repository_prefix 'aaaa", "more characters"],
    );
    assert!(out.stderr.len() < 4000, "{} bytes", out.stderr.len());
}

#[test]
fn an_or_of_region_and_identifier_pairs_pins_them_and_touches_only_those_pairs() {
    // Each side of the OR pins a region and a prefix, so the statement is not bulk. The read
    // covers the regions and prefixes named (us-east-1 and ap-southeast-2; quay and ecr-public),
    // which holds two rules the statement does not name; the WHERE, evaluated on the rows read,
    // keeps only its own pairs.
    let sb = demo_sandbox();
    let before = all_rules(&sb);
    sb.log().clear();
    let pairs = "(region = 'us-east-1' AND ecr_repository_prefix = 'quay') \
                 OR (region = 'ap-southeast-2' AND ecr_repository_prefix = 'ecr-public')";
    let out = exec(
        &sb,
        &["-o", "csv", ALL_DEMO],
        &format!("DELETE FROM {RULES} WHERE {pairs}"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n", "{}", out.stderr);
    assert_eq!(
        prefixes_called(&sb, DELETE),
        [
            ("ap-southeast-2".into(), "ecr-public".into()),
            ("us-east-1".into(), "quay".into())
        ]
    );
    let mut read: Vec<(String, Value)> = calls_of(&sb, DESCRIBE);
    read.sort_by(|a, b| a.0.cmp(&b.0));
    let both = json!({"ecrRepositoryPrefixes": ["ecr-public", "quay"]});
    assert_eq!(
        read,
        [
            ("ap-southeast-2".to_string(), both.clone()),
            ("us-east-1".to_string(), both)
        ]
    );
    let mut want: Vec<String> = before
        .into_iter()
        .filter(|r| r != "us-east-1 quay" && r != "ap-southeast-2 ecr-public")
        .collect();
    want.sort();
    assert_eq!(all_rules(&sb), want);
    // A side that does not pin a prefix leaves the statement bulk.
    let loose = format!(
        "DELETE FROM {RULES} WHERE (region = 'us-east-1' AND ecr_repository_prefix = 'k8s') \
         OR region = 'eu-west-1'"
    );
    sb.log().clear();
    refused_without_any_call(&sb, &exec(&sb, &[], &loose), &["--allow-bulk"]);
}

// ---------------------------------------------------------------------------------------------
// Statements whose meaning a write cannot honour: DDL on the catalog, EXPLAIN ANALYZE, changing
// functions
// ---------------------------------------------------------------------------------------------

#[test]
fn ddl_on_provider_tables_is_refused_and_the_tables_stay() {
    for (sql, says) in [
        (
            format!("DROP TABLE {RULES}"),
            "DROP TABLE aws.ecr.pull_through_cache_rules: the aws catalog is skyql's view of AWS",
        ),
        (
            "CREATE TABLE aws.ecr.foo (a INT)".to_string(),
            "CREATE TABLE aws.ecr.foo: the aws catalog",
        ),
        (
            "CREATE VIEW aws.ecr.v AS SELECT 1".to_string(),
            "DDL cannot change it",
        ),
        (
            format!("TRUNCATE {RULES}"),
            "use DELETE FROM aws.ecr.pull_through_cache_rules WHERE",
        ),
        // A script is refused whole: the SELECT after the DROP never runs.
        (
            format!("SELECT 1; DROP TABLE IF EXISTS {RULES}; SELECT * FROM {RULES}"),
            "DROP TABLE aws.ecr.pull_through_cache_rules",
        ),
    ] {
        let sb = demo_sandbox();
        for flags in [&[][..], &["--dry-run"]] {
            let out = exec(&sb, flags, &sql);
            refused_without_any_call(&sb, &out, &[says, "nothing was sent"]);
        }
    }
    let sb = demo_sandbox();
    // Local tables are the default schema's, for the session.
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "CREATE TABLE mine AS SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'eu-west-1'; \
             SELECT count(*) AS n FROM mine; DROP TABLE mine; SELECT count(*) AS n FROM {RULES} WHERE region = 'eu-west-1'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "n\n4\n4\n");
}

#[test]
fn explain_analyze_of_a_write_is_refused_before_any_call() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            "EXPLAIN ANALYZE DELETE FROM {RULES} WHERE region = 'us-east-1' AND ecr_repository_prefix = 'quay'"
        ),
    );
    refused_without_any_call(&sb, &out, &["EXPLAIN ANALYZE", "it would make the changes"]);
    assert!(all_rules(&sb).contains(&"us-east-1 quay".to_string()));
}

#[test]
fn a_write_whose_where_calls_a_changing_function_is_refused() {
    for sql in [
        format!("DELETE FROM {RULES} WHERE random() < 0.5"),
        format!(
            "DELETE FROM {RULES} WHERE region = 'us-east-1' AND ecr_repository_prefix = 'quay' AND random() < 2"
        ),
        format!(
            "UPDATE {RULES} SET custom_role_arn = 'arn:aws:iam::123456789012:role/r' WHERE region = 'eu-west-1' AND created_at < now()"
        ),
        format!(
            "MERGE INTO {RULES} t USING (VALUES ('us-east-1', 'quay')) s(region, p) \
             ON t.region = s.region AND t.ecr_repository_prefix = s.p AND random() < 0.5 \
             WHEN MATCHED THEN DELETE"
        ),
        format!(
            "MERGE INTO {RULES} t USING (VALUES ('us-east-1', 'quay')) s(region, p) \
             ON t.region = s.region AND t.ecr_repository_prefix = s.p \
             WHEN MATCHED AND random() < 0.5 THEN DELETE"
        ),
    ] {
        let sb = demo_sandbox();
        for flags in [&["--allow-bulk"][..], &["--allow-bulk", "--dry-run"]] {
            let out = exec(&sb, flags, &sql);
            refused_without_any_call(&sb, &out, &["a write touches exactly the rows"]);
        }
    }
}
