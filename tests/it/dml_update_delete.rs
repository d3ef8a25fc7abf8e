//! UPDATE and DELETE of pull-through cache rules against the sandbox: the calls made, counts in every format, refusals.

use crate::common;

use common::cli::{
    DELETE, DESCRIBE, Output, RULE, RULES, UPDATE, calls_of, csv_rows, demo_sandbox, exec,
    mutating_calls, notes, prefixes_called,
};
use common::secret_arn;
use serde_json::json;
use skyql::sandbox::{Sandbox, SandboxConfig, Secret};

/// The demo's docker-hub credential in us-east-1.
const DH_US: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Xy12Ab";

/// The credential of a rule, read back with skyql.
fn credential_of(sb: &Sandbox, region: &str, prefix: &str) -> Vec<String> {
    csv_rows(
        sb,
        &format!(
            "SELECT credential_arn FROM {RULE} WHERE region = '{region}' AND data__Identifier = '{prefix}'"
        ),
    )
}

/// Asserts a refusal at planning: exit 2, every word on stderr, nothing on stdout, no call at all.
#[track_caller]
fn refused_without_any_call(sb: &Sandbox, out: &Output, words: &[&str]) {
    out.expect_code(2).expect_stderr(words);
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert_eq!(sb.log().len(), 0, "no call: {:#?}", sb.log().entries());
}

// ---------------------------------------------------------------------------------------------
// UPDATE
// ---------------------------------------------------------------------------------------------

#[test]
fn update_sets_the_credential_of_the_rule_named_by_data_identifier() {
    let sb = demo_sandbox();
    let new = secret_arn("us-east-1", "docker-hub-rotated");
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULE} SET credential_arn = '{new}' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        notes(&out.stderr),
        vec!["UPDATE on aws.ecr.pull_through_cache_rule: updated 1"]
    );
    assert_eq!(
        calls_of(&sb, UPDATE),
        vec![(
            "us-east-1".to_string(),
            json!({"ecrRepositoryPrefix": "docker-hub", "credentialArn": new})
        )]
    );
    assert_eq!(mutating_calls(&sb).len(), 1);
    assert_eq!(credential_of(&sb, "us-east-1", "docker-hub"), vec![new]);
    // eu-west-1's docker-hub is another rule, untouched.
    assert_eq!(
        credential_of(&sb, "eu-west-1", "docker-hub"),
        vec![
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Zx56Cv"
        ]
    );
}

#[test]
fn update_of_an_identifier_list_evaluates_set_per_rule() {
    let sb = demo_sandbox();
    let base = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/";
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULES} SET credential_arn = '{base}' || ecr_repository_prefix || '-Rotated' \
             WHERE region = 'us-east-1' AND ecr_repository_prefix IN ('docker-hub', 'ghcr')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    let mut updates = calls_of(&sb, UPDATE);
    updates.sort_by_key(|(_, p)| p["ecrRepositoryPrefix"].to_string());
    assert_eq!(
        updates,
        vec![
            (
                "us-east-1".to_string(),
                json!({"ecrRepositoryPrefix": "docker-hub", "credentialArn": format!("{base}docker-hub-Rotated")})
            ),
            (
                "us-east-1".to_string(),
                json!({"ecrRepositoryPrefix": "ghcr", "credentialArn": format!("{base}ghcr-Rotated")})
            ),
        ]
    );
}

#[test]
fn update_sets_the_custom_role() {
    let sb = demo_sandbox();
    let role = "arn:aws:iam::123456789012:role/ecr-ptc-other";
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULES} SET custom_role_arn = '{role}' WHERE region = 'eu-west-1' AND data__Identifier = 'prod-mirror'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        calls_of(&sb, UPDATE),
        vec![(
            "eu-west-1".to_string(),
            json!({"ecrRepositoryPrefix": "prod-mirror", "customRoleArn": role})
        )]
    );
    assert_eq!(
        csv_rows(
            &sb,
            &format!(
                "SELECT custom_role_arn, upstream_repository_prefix FROM {RULE} WHERE region = 'eu-west-1' AND data__Identifier = 'prod-mirror'"
            )
        ),
        vec![format!("{role},prod")]
    );
}

#[test]
fn a_patch_document_replaces_the_credential() {
    let sb = demo_sandbox();
    let new = secret_arn("us-east-1", "ghcr-2026");
    let out = exec(
        &sb,
        &["-o", "ndjson"],
        &format!(
            r#"UPDATE {RULE} SET data__PatchDocument = '[{{"op":"replace","path":"/CredentialArn","value":"{new}"}}]' WHERE region = 'us-east-1' AND data__Identifier = 'ghcr'"#
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "{\"count\":1}\n");
    assert_eq!(
        calls_of(&sb, UPDATE),
        vec![(
            "us-east-1".to_string(),
            json!({"ecrRepositoryPrefix": "ghcr", "credentialArn": new})
        )]
    );
    assert_eq!(credential_of(&sb, "us-east-1", "ghcr"), vec![new]);
}

#[test]
fn a_patch_document_may_write_only_the_updatable_fields() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            r#"UPDATE {RULE} SET data__PatchDocument = '[{{"op":"replace","path":"/UpstreamRegistryUrl","value":"quay.io"}}]' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"#
        ),
    );
    refused_without_any_call(
        &sb,
        &out,
        &[
            "/UpstreamRegistryUrl (upstream_registry_url)",
            "cannot change in place",
            "/CredentialArn, /CustomRoleArn",
        ],
    );
    // Not JSON Patch at all.
    let out = exec(
        &sb,
        &[],
        &format!(
            "UPDATE {RULE} SET data__PatchDocument = 'credential please' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
    );
    refused_without_any_call(&sb, &out, &["not an RFC 6902 JSON Patch"]);
}

#[test]
fn set_of_any_other_column_is_refused_naming_the_updatable_ones() {
    for assignment in [
        "upstream_registry_url = 'quay.io'",
        "upstream_registry = 'quay'",
        "upstream_repository_prefix = 'library'",
        "ecr_repository_prefix = 'dh2'",
        "region = 'eu-west-1'",
        "registry_id = '123456789012'",
        "created_at = now()",
        &format!("credential_arn = '{DH_US}', upstream_registry_url = 'quay.io'"),
    ] {
        let sb = demo_sandbox();
        let out = exec(
            &sb,
            &[],
            &format!(
                "UPDATE {RULES} SET {assignment} WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
            ),
        );
        let column = assignment
            .rsplit(", ")
            .next()
            .and_then(|a| a.split(' ').next())
            .unwrap_or_default();
        refused_without_any_call(
            &sb,
            &out,
            &[
                &format!("{column} cannot change in place"),
                "UPDATE can set only credential_arn, custom_role_arn",
            ],
        );
    }
}

#[test]
fn set_to_null_is_refused_before_any_mutating_call() {
    for assignment in [
        "credential_arn = NULL",
        "custom_role_arn = NULL",
        "credential_arn = CAST(NULL AS VARCHAR)",
    ] {
        let sb = demo_sandbox();
        let out = exec(
            &sb,
            &[],
            &format!(
                "UPDATE {RULE} SET {assignment} WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
            ),
        );
        let column = assignment.split(' ').next().unwrap_or_default();
        refused_without_any_call(
            &sb,
            &out,
            &[
                &format!("{column} cannot be set to NULL"),
                "delete and re-create",
            ],
        );
    }
    // Removing the credential with a patch is refused once the rule is read: no mutating call.
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            r#"UPDATE {RULE} SET data__PatchDocument = '[{{"op":"remove","path":"/CredentialArn"}}]' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"#
        ),
    );
    // Found once the rule is read: exit 1, since exit 2 promises that nothing was sent.
    out.expect_code(1)
        .expect_stderr(&["cannot set credential_arn of rule 'docker-hub' in us-east-1 to NULL"]);
    assert_eq!(mutating_calls(&sb), vec![]);
    assert_eq!(credential_of(&sb, "us-east-1", "docker-hub"), vec![DH_US]);
}

#[test]
fn updating_to_the_current_value_makes_no_call() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULE} SET credential_arn = '{DH_US}' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(
        notes(&out.stderr),
        vec!["UPDATE on aws.ecr.pull_through_cache_rule: unchanged 1"]
    );
    assert_eq!(sb.log().count(UPDATE), 0);
    assert_eq!(mutating_calls(&sb), vec![]);
}

#[test]
fn update_of_a_missing_identifier_changes_nothing() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULES} SET credential_arn = '{DH_US}' WHERE region = 'us-east-1' AND data__Identifier = 'no-such-rule'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(mutating_calls(&sb), vec![]);
    assert!(sb.log().count(DESCRIBE) >= 1, "the rule was looked up");
}

#[test]
fn a_failed_update_is_reported_with_the_updates_before_it() {
    let base = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/";
    let mut config = SandboxConfig::demo();
    config
        .secrets
        .insert(format!("{base}ghcr-Missing"), Secret::NotFound);
    let sb = common::start(config);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {RULES} SET credential_arn = '{base}' || ecr_repository_prefix || '-Missing' \
             WHERE region = 'us-east-1' AND data__Identifier IN ('docker-hub', 'ghcr')"
        ),
    );
    out.expect_code(1).expect_stderr(&[
        "UPDATE on aws.ecr.pull_through_cache_rules stopped at UpdatePullThroughCacheRule us-east-1",
        "SecretNotFoundException",
        "1 call(s) had succeeded before it",
        &format!(
            r#"UpdatePullThroughCacheRule us-east-1 {{"credentialArn":"{base}docker-hub-Missing","ecrRepositoryPrefix":"docker-hub"}}"#
        ),
    ]);
    assert_eq!(out.stdout, "");
    let updates: Vec<(String, Option<String>)> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == UPDATE)
        .map(|e| {
            (
                e.parameters["ecrRepositoryPrefix"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e.error_code,
            )
        })
        .collect();
    assert_eq!(
        updates,
        vec![
            ("docker-hub".to_string(), None),
            (
                "ghcr".to_string(),
                Some("SecretNotFoundException".to_string())
            ),
        ]
    );
    assert_eq!(
        credential_of(&sb, "us-east-1", "docker-hub"),
        vec![format!("{base}docker-hub-Missing")]
    );
}

// ---------------------------------------------------------------------------------------------
// DELETE
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_by_identifier_removes_exactly_that_rule() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier = 'quay'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        notes(&out.stderr),
        vec!["DELETE on aws.ecr.pull_through_cache_rules: deleted 1"]
    );
    assert_eq!(
        calls_of(&sb, DELETE),
        vec![(
            "us-east-1".to_string(),
            json!({"ecrRepositoryPrefix": "quay"})
        )]
    );
    assert_eq!(mutating_calls(&sb).len(), 1);
    // Gone from us-east-1; ap-southeast-2's quay rule is another rule and stays.
    assert_eq!(
        csv_rows(
            &sb,
            &format!("SELECT region FROM {RULES} WHERE data__Identifier = 'quay'")
        ),
        vec!["ap-southeast-2"]
    );
    assert_eq!(
        csv_rows(
            &sb,
            &format!("SELECT count(*) AS n FROM {RULES} WHERE region = 'us-east-1'")
        ),
        vec!["4"]
    );
}

#[test]
fn delete_by_identifier_list_across_regions() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "DELETE FROM {RULES} WHERE region IN ('us-east-1', 'ap-southeast-2') AND ecr_repository_prefix IN ('quay', 'acr')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n3\n");
    assert_eq!(
        prefixes_called(&sb, DELETE),
        vec![
            ("ap-southeast-2".to_string(), "acr".to_string()),
            ("ap-southeast-2".to_string(), "quay".to_string()),
            ("us-east-1".to_string(), "quay".to_string()),
        ]
    );
    assert_eq!(
        csv_rows(
            &sb,
            &format!(
                "SELECT region, ecr_repository_prefix FROM {RULES} WHERE data__Identifier IN ('quay', 'acr')"
            )
        ),
        Vec::<String>::new()
    );
}

#[test]
fn delete_of_a_missing_identifier_changes_nothing() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "DELETE FROM {RULES} WHERE region = 'eu-west-1' AND data__Identifier IN ('no-such-rule', 'nor-this')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(
        notes(&out.stderr),
        vec!["DELETE on aws.ecr.pull_through_cache_rules: no change"]
    );
    assert_eq!(mutating_calls(&sb), vec![]);
}

#[test]
fn every_other_filter_beside_the_identifier_is_respected() {
    let sb = demo_sandbox();
    // Both identifiers exist, but quay's upstream is not k8s: only k8s matches.
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "DELETE FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier IN ('quay', 'k8s') AND upstream_registry = 'k8s'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        prefixes_called(&sb, DELETE),
        vec![("us-east-1".to_string(), "k8s".to_string())]
    );
}

// ---------------------------------------------------------------------------------------------
// The count in every output format
// ---------------------------------------------------------------------------------------------

#[test]
fn every_dml_statement_prints_its_count_in_every_format() {
    let statements = [
        (
            format!(
                "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'k8s-2', 'registry.k8s.io')"
            ),
            1,
        ),
        (
            format!(
                "UPDATE {RULE} SET credential_arn = '{}' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'",
                secret_arn("us-east-1", "docker-hub-2")
            ),
            1,
        ),
        (
            format!("DELETE FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier = 'k8s'"),
            1,
        ),
        (
            format!("DELETE FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier = 'gone'"),
            0,
        ),
    ];
    for (sql, n) in &statements {
        for (format, expected) in [
            (
                "table",
                format!("+-------+\n| count |\n+-------+\n|     {n} |\n+-------+\n"),
            ),
            ("csv", format!("count\n{n}\n")),
            ("json", format!("[{{\"count\":{n}}}]\n")),
            ("ndjson", format!("{{\"count\":{n}}}\n")),
        ] {
            let sb = demo_sandbox();
            let out = exec(&sb, &["-o", format], sql);
            out.expect_code(0);
            assert_eq!(out.stdout, expected, "-o {format}: {sql}");
            assert_eq!(mutating_calls(&sb).len(), *n, "-o {format}: {sql}");
        }
    }
}

#[test]
fn set_credential_arn_to_a_number_is_refused_not_read_as_text() {
    // docs/configuration-as-data.md: numbers are refused, not converted. '5' was sent for 5
    // (then refused only for its length); now the number itself is named, as INSERT names it.
    for value in ["5", "true", "1.5e3"] {
        for flags in [&[][..], &["--dry-run"]] {
            let sb = demo_sandbox();
            let out = exec(
                &sb,
                flags,
                &format!(
                    "UPDATE {RULE} SET credential_arn = {value} \
                     WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
                ),
            );
            refused_without_any_call(
                &sb,
                &out,
                &["credential_arn: ", "is not text", "nothing was sent"],
            );
        }
    }
}

/// Asserts that `sql` with `flags` is refused once the rules are read, as its dry run is:
/// exit 1, every word on stderr, no mutating call.
#[track_caller]
fn refused_once_read(flags: &[&str], sql: &str, words: &[&str]) {
    for dry_run in [false, true] {
        let sb = demo_sandbox();
        let mut flags = flags.to_vec();
        if dry_run {
            flags.push("--dry-run");
        }
        exec(&sb, &flags, sql).expect_code(1).expect_stderr(words);
        assert_eq!(mutating_calls(&sb), vec![], "{sql}");
    }
}

#[test]
fn a_secret_of_another_region_or_account_fails_the_dry_run_as_the_run() {
    // ECR finds a rule's secret only in the rule's own region and account: the real run fails
    // with SecretNotFoundException, so the dry run must fail as well, before any change.
    let eu = secret_arn("eu-west-1", "docker-hub-rotated");
    let region_refusal = format!(
        "credential_arn: '{eu}' is in region eu-west-1, and the rule is in us-east-1: ECR takes \
         it only from the rule's own region"
    );
    // The statement's regions are known without a call: refused before any (exit 2).
    for sql in [
        format!(
            "UPDATE {RULE} SET credential_arn = '{eu}' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
        // The session's one region.
        format!("UPDATE {RULE} SET credential_arn = '{eu}' WHERE data__Identifier = 'docker-hub'"),
        format!(
            "UPDATE {RULE} SET data__PatchDocument = '[{{\"op\":\"replace\",\"path\":\"/CredentialArn\",\"value\":\"{eu}\"}}]' \
             WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
        format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) \
             VALUES ('us-east-1', 'dh2', 'registry-1.docker.io', '{eu}')"
        ),
    ] {
        for flags in [&[][..], &["--dry-run"]] {
            let sb = demo_sandbox();
            let out = exec(&sb, flags, &sql);
            refused_without_any_call(&sb, &out, &[&region_refusal, "nothing was sent"]);
        }
    }
    // Rules of several regions: the one outside the secret's region is known once read.
    refused_once_read(
        &["--regions=us-east-1,eu-west-1"],
        &format!("UPDATE {RULE} SET credential_arn = '{eu}' WHERE data__Identifier = 'docker-hub'"),
        &[
            &format!("rule 'docker-hub' in us-east-1: {region_refusal}"),
            "found after 2 request(s)",
        ],
    );
    // Another account: the rule read tells the registry's (its registry_id).
    let foreign = DH_US.replace("123456789012", "999999999999");
    refused_once_read(
        &[],
        &format!(
            "UPDATE {RULE} SET credential_arn = '{foreign}' WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
        ),
        &[
            &format!(
                "rule 'docker-hub' in us-east-1: credential_arn: '{foreign}' is in account \
                 999999999999, but the registry is account 123456789012 (the registry_id read)"
            ),
            "found after 1 request(s)",
        ],
    );
    // What the sandbox refuses is what skyql refuses: the call itself fails the same way.
    let sb = demo_sandbox();
    let client = common::client(&sb, "us-east-1");
    let refused = tokio::runtime::Runtime::new().unwrap().block_on(
        client
            .update_pull_through_cache_rule()
            .ecr_repository_prefix("docker-hub")
            .credential_arn(&eu)
            .send(),
    );
    assert_eq!(
        refused.as_ref().err().and_then(common::code).as_deref(),
        Some("SecretNotFoundException")
    );
}

#[test]
fn every_table_refuses_a_number_for_text_in_update_and_merge() {
    // The same rule as INSERT's, on every writable table: UPDATE's SET and MERGE's.
    let cases = [
        (
            "UPDATE aws.ecr.repository_creation_templates SET description = 5 \
             WHERE region = 'us-east-1' AND prefix = 'ROOT'"
                .to_string(),
            "description: 5 is not text",
        ),
        (
            "UPDATE aws.ecr.registry_policy_statements SET effect = 5 \
             WHERE region = 'us-east-1' AND sid = 'PullThroughCacheFromReadOnlyRole'"
                .to_string(),
            "effect: 5 is not text",
        ),
        (
            "UPDATE aws.ecr.registry_policy_statements SET actions = 'ecr:*' \
             WHERE region = 'us-east-1' AND sid = 'PullThroughCacheFromReadOnlyRole'"
                .to_string(),
            "actions: 'ecr:*' is text where a list is expected",
        ),
        (
            "UPDATE aws.ecr.registry_policy SET policy_text = 5 WHERE region = 'us-east-1'"
                .to_string(),
            "policy_text: 5 is not text",
        ),
        (
            format!(
                "MERGE INTO {RULES} t USING (VALUES ('us-east-1', 'docker-hub')) s(region, prefix) \
                 ON t.region = s.region AND t.ecr_repository_prefix = s.prefix \
                 WHEN MATCHED THEN UPDATE SET credential_arn = 5"
            ),
            "credential_arn: 5 is not text",
        ),
    ];
    for (sql, words) in cases {
        for flags in [&[][..], &["--dry-run"]] {
            let sb = demo_sandbox();
            let out = exec(&sb, flags, &sql);
            refused_without_any_call(&sb, &out, &[words, "nothing was sent"]);
        }
    }
}
