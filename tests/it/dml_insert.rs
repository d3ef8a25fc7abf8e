//! INSERT into aws.ecr.pull_through_cache_rules against the sandbox: the Create calls it makes, ON CONFLICT and failures.

use crate::common;

use std::path::{Path, PathBuf};

use common::cli::{
    CREATE, DELETE, RULES, Skyql, UPDATE, calls_of, config_with, csv_rows, demo_sandbox, exec,
    mutating_calls, notes, numbered_rules, prefixes_called, write_file,
};
use common::secret_arn;
use serde_json::json;
use skyql::sandbox::Sandbox;

#[test]
fn values_rows_create_each_rule_in_its_own_region() {
    let sb = demo_sandbox();
    let dh_secret = secret_arn("eu-west-1", "team-dh");
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, upstream_registry, credential_arn) VALUES \
             ('us-east-1', 'team-quay', 'quay.io', 'quay', NULL), \
             ('eu-west-1', 'team-dh', 'registry-1.docker.io', NULL, '{dh_secret}')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    assert!(
        notes(&out.stderr).contains(&"INSERT on aws.ecr.pull_through_cache_rules: created 2"),
        "{}",
        out.stderr
    );
    let creates = calls_of(&sb, CREATE);
    assert_eq!(
        creates,
        vec![
            (
                "us-east-1".to_string(),
                json!({"ecrRepositoryPrefix": "team-quay", "upstreamRegistryUrl": "quay.io", "upstreamRegistry": "quay"})
            ),
            (
                "eu-west-1".to_string(),
                json!({"ecrRepositoryPrefix": "team-dh", "upstreamRegistryUrl": "registry-1.docker.io", "credentialArn": dh_secret})
            ),
        ]
    );
    assert_eq!(sb.log().count(UPDATE) + sb.log().count(DELETE), 0);
    assert_eq!(
        csv_rows(
            &sb,
            &format!(
                "SELECT region, ecr_repository_prefix, upstream_registry, credential_arn FROM {RULES} \
                 WHERE data__Identifier IN ('team-quay', 'team-dh') ORDER BY region"
            )
        ),
        vec![
            format!("eu-west-1,team-dh,docker-hub,{dh_secret}"),
            "us-east-1,team-quay,quay,".to_string(),
        ]
    );
}

#[test]
fn a_row_without_region_goes_to_the_single_session_region() {
    let sql = format!(
        "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) VALUES ('team-k8s', 'registry.k8s.io')"
    );
    // --regions with one region.
    let sb = demo_sandbox();
    Skyql::against(&sb, None)
        .args(["--regions", "eu-west-1", "exec", &sql])
        .run()
        .expect_code(0);
    assert_eq!(
        prefixes_called(&sb, CREATE),
        vec![("eu-west-1".to_string(), "team-k8s".to_string())]
    );
    // No --regions: the profile's region (AWS_REGION).
    let sb = demo_sandbox();
    Skyql::against(&sb, Some("ap-southeast-2"))
        .args(["exec", &sql])
        .run()
        .expect_code(0);
    assert_eq!(
        prefixes_called(&sb, CREATE),
        vec![("ap-southeast-2".to_string(), "team-k8s".to_string())]
    );
}

#[test]
fn a_row_without_region_is_refused_unless_the_session_has_exactly_one() {
    let sql = format!(
        "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) VALUES \
         ('team-a', 'quay.io'), ('team-b', 'quay.io')"
    );
    let sb = demo_sandbox();
    let out = exec(&sb, &["--regions", "us-east-1,eu-west-1"], &sql);
    out.expect_code(2).expect_stderr(&[
        "2 problem(s) in the rows; nothing was sent",
        "row 1: region is not set and the session has 2 regions (us-east-1, eu-west-1)",
        "row 2: region is not set and the session has 2 regions (us-east-1, eu-west-1)",
    ]);
    assert_eq!(out.stdout, "");
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());

    // No region configured at all.
    let sb = demo_sandbox();
    let out = Skyql::against(&sb, None).args(["exec", &sql]).run();
    out.expect_code(2)
        .expect_stderr(&["row 1: region is not set", "row 2: region is not set"]);
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[test]
fn a_null_region_in_values_means_the_session_region() {
    let sql = format!(
        "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES \
         ('eu-west-1', 'team-a', 'quay.io'), (NULL, 'team-b', 'quay.io')"
    );
    let sb = demo_sandbox();
    exec(&sb, &["--regions", "us-east-1"], &sql).expect_code(0);
    assert_eq!(
        prefixes_called(&sb, CREATE),
        vec![
            ("eu-west-1".to_string(), "team-a".to_string()),
            ("us-east-1".to_string(), "team-b".to_string()),
        ]
    );
    // With several session regions the NULL row is refused by row, before any call.
    let sb = demo_sandbox();
    let out = exec(&sb, &["--regions", "us-east-1,eu-west-1"], &sql);
    out.expect_code(2)
        .expect_stderr(&["row 2: region is not set and the session has 2 regions"]);
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[test]
fn camel_case_columns_work_like_snake_case_ones() {
    let sb = demo_sandbox();
    let role = "arn:aws:iam::123456789012:role/ecr-ptc-cross-account";
    let secret = secret_arn("eu-west-1", "hub2");
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (EcrRepositoryPrefix, UpstreamRegistryUrl, UpstreamRegistry, UpstreamRepositoryPrefix, CustomRoleArn, CredentialArn, region) VALUES \
             ('mirror2', '111122223333.dkr.ecr.us-east-1.amazonaws.com', 'ecr', 'prod', '{role}', NULL, 'eu-west-1'), \
             ('hub2', 'registry-1.docker.io', 'docker-hub', NULL, NULL, '{secret}', 'eu-west-1')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    assert_eq!(
        calls_of(&sb, CREATE),
        vec![
            (
                "eu-west-1".to_string(),
                json!({
                    "ecrRepositoryPrefix": "mirror2",
                    "upstreamRegistryUrl": "111122223333.dkr.ecr.us-east-1.amazonaws.com",
                    "upstreamRegistry": "ecr",
                    "upstreamRepositoryPrefix": "prod",
                    "customRoleArn": role,
                })
            ),
            (
                "eu-west-1".to_string(),
                json!({
                    "ecrRepositoryPrefix": "hub2",
                    "upstreamRegistryUrl": "registry-1.docker.io",
                    "upstreamRegistry": "docker-hub",
                    "credentialArn": secret,
                })
            ),
        ]
    );
}

#[test]
fn stackqls_insert_select_runs_unchanged() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        "INSERT INTO aws.ecr.pull_through_cache_rules (EcrRepositoryPrefix, UpstreamRegistryUrl, region) SELECT 'ecr-public2', 'public.ecr.aws', 'us-east-1';",
    );
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "+-------+\n| count |\n+-------+\n|     1 |\n+-------+\n"
    );
    assert_eq!(
        calls_of(&sb, CREATE),
        vec![(
            "us-east-1".to_string(),
            json!({"ecrRepositoryPrefix": "ecr-public2", "upstreamRegistryUrl": "public.ecr.aws"})
        )]
    );
    assert_eq!(
        csv_rows(
            &sb,
            &format!(
                "SELECT region, upstream_registry, upstream_repository_prefix FROM {RULES} WHERE data__Identifier = 'ecr-public2'"
            )
        ),
        vec!["us-east-1,ecr-public,ROOT"]
    );
}

#[test]
fn insert_select_from_the_table_copies_rules_to_another_region() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, upstream_registry, upstream_repository_prefix) \
             SELECT 'ap-southeast-2', ecr_repository_prefix, upstream_registry_url, upstream_registry, upstream_repository_prefix \
             FROM {RULES} WHERE region = 'us-east-1' AND upstream_registry IN ('k8s', 'ecr-public') \
             ON CONFLICT DO NOTHING"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert!(
        notes(&out.stderr)
            .contains(&"INSERT on aws.ecr.pull_through_cache_rules: created 1, unchanged 1"),
        "{}",
        out.stderr
    );
    // ap-southeast-2 already has ecr-public: only k8s is created there.
    assert_eq!(
        calls_of(&sb, CREATE),
        vec![(
            "ap-southeast-2".to_string(),
            json!({
                "ecrRepositoryPrefix": "k8s",
                "upstreamRegistryUrl": "registry.k8s.io",
                "upstreamRegistry": "k8s",
                "upstreamRepositoryPrefix": "ROOT",
            })
        )]
    );
}

#[test]
fn the_root_prefix_is_a_valid_identifier() {
    let sb = common::start(config_with(&[]));
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'ROOT', 'public.ecr.aws')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        calls_of(&sb, CREATE),
        vec![(
            "us-east-1".to_string(),
            json!({"ecrRepositoryPrefix": "ROOT", "upstreamRegistryUrl": "public.ecr.aws"})
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// From a file: export with -o csv, edit, insert
// ---------------------------------------------------------------------------------------------

/// Exports the demo's us-east-1 rules with `skyql exec -o csv "SELECT * …"` (which leaves out
/// the lazy validation columns) and blanks the columns AWS sets (registry_id, created_at,
/// updated_at): the desired state of a region.
fn desired_csv(dir: &Path) -> PathBuf {
    let demo = demo_sandbox();
    let out = exec(
        &demo,
        &["-o", "csv"],
        &format!("SELECT * FROM {RULES} WHERE region = 'us-east-1'"),
    );
    out.expect_code(0);
    let mut lines = out.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "region,registry_id,ecr_repository_prefix,upstream_registry_url,upstream_registry,\
             upstream_repository_prefix,credential_arn,custom_role_arn,created_at,updated_at"
        )
    );
    let mut text = String::from(
        "region,registry_id,ecr_repository_prefix,upstream_registry_url,upstream_registry,\
         upstream_repository_prefix,credential_arn,custom_role_arn,created_at,updated_at\n",
    );
    let mut rows = 0;
    for line in lines {
        let mut fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 10, "{line}");
        for read_only in [1, 8, 9] {
            fields[read_only] = "";
        }
        text.push_str(&fields.join(","));
        text.push('\n');
        rows += 1;
    }
    assert_eq!(rows, 5, "the demo has 5 rules in us-east-1");
    write_file(dir, "desired.csv", &text)
}

/// The Create calls that restore the demo's us-east-1 rules into an empty registry.
fn assert_restored_us_east_1(sb: &Sandbox) {
    let dh = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Xy12Ab";
    let ghcr =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-Qw34Er";
    let create = |prefix: &str, url: &str, upstream: &str| {
        json!({
            "ecrRepositoryPrefix": prefix,
            "upstreamRegistryUrl": url,
            "upstreamRegistry": upstream,
            "upstreamRepositoryPrefix": "ROOT",
        })
    };
    let mut with_dh = create("docker-hub", "registry-1.docker.io", "docker-hub");
    with_dh["credentialArn"] = json!(dh);
    let mut with_ghcr = create("ghcr", "ghcr.io", "github-container-registry");
    with_ghcr["credentialArn"] = json!(ghcr);
    let expected: Vec<(String, serde_json::Value)> = vec![
        with_dh,
        create("ecr-public", "public.ecr.aws", "ecr-public"),
        with_ghcr,
        create("k8s", "registry.k8s.io", "k8s"),
        create("quay", "quay.io", "quay"),
    ]
    .into_iter()
    .map(|p| ("us-east-1".to_string(), p))
    .collect();
    assert_eq!(calls_of(sb, CREATE), expected);
    assert_eq!(mutating_calls(sb).len(), 5);
}

/// `INSERT … SELECT * FROM '<path>'` restores the demo's us-east-1 rules into `sb`.
#[track_caller]
fn inserts_the_us_east_1_rules_from(sb: &Sandbox, path: &Path) {
    let out = exec(
        sb,
        &["-o", "csv"],
        &format!("INSERT INTO {RULES} SELECT * FROM '{}'", path.display()),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n5\n");
    assert_restored_us_east_1(sb);
}

#[test]
fn insert_select_star_from_an_edited_csv_export() {
    let sb = common::start(config_with(&[]));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = desired_csv(dir.path());
    inserts_the_us_east_1_rules_from(&sb, &path);
}

#[test]
fn insert_select_star_from_a_csv_export_whose_columns_were_reordered() {
    // A spreadsheet saves the columns in another order: the header's names pair them.
    let sb = common::start(config_with(&[]));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = desired_csv(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let reversed: Vec<String> = (text.lines())
        .map(|line| line.split(',').rev().collect::<Vec<_>>().join(","))
        .collect();
    assert!(reversed[0].starts_with("updated_at,created_at,custom_role_arn,credential_arn"));
    let path = write_file(dir.path(), "reversed.csv", &(reversed.join("\n") + "\n"));
    inserts_the_us_east_1_rules_from(&sb, &path);
}

#[test]
fn insert_select_star_from_an_edited_csv_export_as_external_table() {
    let sb = common::start(config_with(&[]));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = desired_csv(dir.path());
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "CREATE EXTERNAL TABLE desired STORED AS CSV LOCATION '{}' OPTIONS ('format.has_header' 'true');\n\
             INSERT INTO {RULES} SELECT * FROM desired",
            path.display()
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n5\n");
    assert_restored_us_east_1(&sb);
}

// ---------------------------------------------------------------------------------------------
// ON CONFLICT: idempotent re-runs
// ---------------------------------------------------------------------------------------------

#[test]
fn on_conflict_do_nothing_skips_existing_rules() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "json"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES \
             ('us-east-1', 'quay', 'quay.io'), ('us-east-1', 'quay-mirror', 'quay.io'), ('ap-southeast-2', 'quay/', 'quay.io') \
             ON CONFLICT DO NOTHING"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "[{\"count\":1}]\n");
    assert!(
        notes(&out.stderr)
            .contains(&"INSERT on aws.ecr.pull_through_cache_rules: created 1, unchanged 2"),
        "{}",
        out.stderr
    );
    assert_eq!(
        prefixes_called(&sb, CREATE),
        vec![("us-east-1".to_string(), "quay-mirror".to_string())]
    );
    assert_eq!(mutating_calls(&sb).len(), 1);
}

#[test]
fn on_conflict_do_update_updates_only_what_differs() {
    let sb = demo_sandbox();
    let new_dh = secret_arn("us-east-1", "docker-hub-rotated");
    let same_ghcr =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-Qw34Er";
    let gitlab = secret_arn("us-east-1", "gitlab");
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) VALUES \
             ('us-east-1', 'docker-hub', 'registry-1.docker.io', '{new_dh}'), \
             ('us-east-1', 'ghcr', 'ghcr.io', '{same_ghcr}'), \
             ('us-east-1', 'gitlab', 'registry.gitlab.com', '{gitlab}') \
             ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn, custom_role_arn = EXCLUDED.custom_role_arn"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    assert!(
        notes(&out.stderr).contains(
            &"INSERT on aws.ecr.pull_through_cache_rules: created 1, updated 1, unchanged 1"
        ),
        "{}",
        out.stderr
    );
    let made: Vec<(String, String, serde_json::Value)> = mutating_calls(&sb)
        .into_iter()
        .map(|e| (e.operation, e.region.unwrap_or_default(), e.parameters))
        .collect();
    assert_eq!(
        made,
        vec![
            (
                UPDATE.to_string(),
                "us-east-1".to_string(),
                json!({"ecrRepositoryPrefix": "docker-hub", "credentialArn": new_dh})
            ),
            (
                CREATE.to_string(),
                "us-east-1".to_string(),
                json!({"ecrRepositoryPrefix": "gitlab", "upstreamRegistryUrl": "registry.gitlab.com", "credentialArn": gitlab})
            ),
        ]
    );
    assert_eq!(
        csv_rows(
            &sb,
            &format!(
                "SELECT credential_arn FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier = 'docker-hub'"
            )
        ),
        vec![new_dh]
    );
}

#[test]
fn the_same_script_run_twice_changes_nothing_the_second_time() {
    let sb = demo_sandbox();
    let dh = secret_arn("eu-west-1", "docker-hub-2026");
    let script = format!(
        "-- desired pull-through cache rules\n\
         INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) VALUES\n\
           ('eu-west-1', 'docker-hub', 'registry-1.docker.io', '{dh}'),\n\
           ('eu-west-1', 'k8s', 'registry.k8s.io', NULL),\n\
           ('eu-west-1', 'ecr-public', 'public.ecr.aws', NULL)\n\
         ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn, custom_role_arn = EXCLUDED.custom_role_arn;\n\
         INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES\n\
           ('us-east-1', 'quay', 'quay.io'), ('us-east-1', 'quay-2', 'quay.io')\n\
         ON CONFLICT DO NOTHING;\n"
    );
    let skyql = Skyql::new(&sb);
    let path = write_file(&skyql.home_dir(), "rules.sql", &script);
    let first = skyql.args(["-o", "csv", "exec", "-f"]).args([&path]).run();
    first.expect_code(0);
    assert_eq!(first.stdout, "count\n2\n1\n");
    assert_eq!(
        prefixes_called(&sb, CREATE),
        vec![
            ("eu-west-1".to_string(), "k8s".to_string()),
            ("us-east-1".to_string(), "quay-2".to_string()),
        ]
    );
    assert_eq!(
        prefixes_called(&sb, UPDATE),
        vec![("eu-west-1".to_string(), "docker-hub".to_string())]
    );

    sb.log().clear();
    let skyql = Skyql::new(&sb);
    let path = write_file(&skyql.home_dir(), "rules.sql", &script);
    let second = skyql.args(["-o", "csv", "exec", "-f"]).args([&path]).run();
    second.expect_code(0);
    assert_eq!(second.stdout, "count\n0\n0\n");
    assert_eq!(
        mutating_calls(&sb),
        vec![],
        "the second run changes nothing"
    );
    assert_eq!(
        notes(&second.stderr),
        vec![
            "INSERT on aws.ecr.pull_through_cache_rules: unchanged 3",
            "INSERT on aws.ecr.pull_through_cache_rules: unchanged 2",
        ]
    );
}

#[test]
fn on_conflict_do_update_of_another_upstream_asks_to_delete_and_re_create() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES \
             ('us-east-1', 'brand-new', 'quay.io'), ('us-east-1', 'quay', 'public.ecr.aws') \
             ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn"
        ),
    );
    // Found once the existing rule is read, so exit 1 (exit 2 promises that nothing was sent).
    out.expect_code(1).expect_stderr(&[
        "row 2: rule 'quay' in us-east-1 exists with upstream_registry_url 'quay.io'",
        "'public.ecr.aws'",
        "DELETE the rule first to re-create it",
    ]);
    assert_eq!(out.stdout, "");
    assert_eq!(
        mutating_calls(&sb),
        vec![],
        "not even row 1's new rule is created"
    );
}

// ---------------------------------------------------------------------------------------------
// Failures while calling
// ---------------------------------------------------------------------------------------------

#[test]
fn a_failed_row_is_reported_with_what_succeeded_before_it() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES \
             ('us-east-1', 'q1', 'quay.io'), ('us-east-1', 'quay', 'quay.io'), ('us-east-1', 'q3', 'quay.io')"
        ),
    );
    out.expect_code(1).expect_stderr(&[
        "stopped at row 2: CreatePullThroughCacheRule us-east-1",
        "PullThroughCacheRuleAlreadyExistsException",
        "1 call(s) had succeeded before it",
        r#"CreatePullThroughCacheRule us-east-1 {"ecrRepositoryPrefix":"q1","upstreamRegistryUrl":"quay.io"}"#,
    ]);
    assert_eq!(out.stdout, "");
    let creates: Vec<(String, u16, Option<String>)> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == CREATE)
        .map(|e| {
            (
                e.parameters["ecrRepositoryPrefix"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e.status,
                e.error_code,
            )
        })
        .collect();
    assert_eq!(
        creates,
        vec![
            ("q1".to_string(), 200, None),
            (
                "quay".to_string(),
                400,
                Some("PullThroughCacheRuleAlreadyExistsException".to_string())
            ),
        ],
        "row 3 is not attempted"
    );
    assert_eq!(
        csv_rows(
            &sb,
            &format!(
                "SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'us-east-1' AND data__Identifier IN ('q1', 'q3')"
            )
        ),
        vec!["q1"]
    );
}

#[test]
fn the_rule_quota_is_reported_and_never_retried() {
    let sb = common::start(config_with(&[("us-east-1", numbered_rules(50))]));
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'one-more', 'quay.io')"
        ),
    );
    out.expect_code(1)
        .expect_stderr(&["LimitExceededException", "no call had succeeded before it"]);
    let creates: Vec<_> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == CREATE)
        .collect();
    assert_eq!(creates.len(), 1, "exactly one Create call: {creates:#?}");
    assert_eq!(
        creates[0].error_code.as_deref(),
        Some("LimitExceededException")
    );
}

#[test]
fn insert_into_the_singular_table_names_the_plural_one() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        "INSERT INTO aws.ecr.pull_through_cache_rule (region, ecr_repository_prefix, upstream_registry_url) VALUES ('us-east-1', 'q1', 'quay.io')",
    );
    out.expect_code(2).expect_stderr(&[
        "aws.ecr.pull_through_cache_rule does not support INSERT",
        "use aws.ecr.pull_through_cache_rules",
    ]);
    assert_eq!(out.stdout, "");
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[test]
fn an_export_can_be_edited_and_imported_back() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let export = Skyql::new(&sb)
        .args([
            "-o",
            "csv",
            "exec",
            &format!(
                "SELECT * FROM {RULES} WHERE region = 'us-east-1' ORDER BY ecr_repository_prefix"
            ),
        ])
        .run();
    export.expect_code(0);
    // Rotate docker-hub's secret, and add a rule with the columns AWS sets left empty.
    let rotated = secret_arn("us-east-1", "docker-hub-rotated");
    let mut lines: Vec<String> = export.stdout.lines().map(str::to_string).collect();
    let dh = lines
        .iter()
        .position(|l| l.contains(",docker-hub,"))
        .unwrap();
    let old = lines[dh].split(',').nth(6).unwrap().to_string();
    lines[dh] = lines[dh].replace(&old, &rotated);
    lines.push("us-east-1,,q-new,quay.io,,,,,,".into());
    let path = write_file(dir.path(), "rules.csv", &(lines.join("\n") + "\n"));
    let import = format!(
        "INSERT INTO {RULES} SELECT * FROM '{}' ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn",
        path.display()
    );
    let out = Skyql::new(&sb).args(["-o", "csv", "exec", &import]).run();
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n2\n");
    assert_eq!(
        prefixes_called(&sb, CREATE),
        [("us-east-1".into(), "q-new".into())]
    );
    assert_eq!(
        prefixes_called(&sb, UPDATE),
        [("us-east-1".into(), "docker-hub".into())]
    );
    // Fed back again, nothing changes.
    let out = Skyql::new(&sb).args(["-o", "csv", "exec", &import]).run();
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    // A read-only value that is not the current state is refused, and nothing is changed.
    lines.push("us-east-1,123456789012,q-other,quay.io,,,,,,".into());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    sb.log().clear();
    let out = Skyql::new(&sb).args(["exec", &import]).run();
    out.expect_code(1).expect_stderr(&[
        "registry_id",
        "rule 'q-other' does not exist",
        "leave it empty",
    ]);
    assert_eq!(mutating_calls(&sb), vec![]);
    // Without ON CONFLICT (no read), read-only values are refused before any call.
    sb.log().clear();
    let out = Skyql::new(&sb)
        .args([
            "exec",
            &format!("INSERT INTO {RULES} SELECT * FROM '{}'", path.display()),
        ])
        .run();
    out.expect_code(2).expect_stderr(&["is set by AWS"]);
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn on_conflict_do_nothing_names_an_existing_rule_that_differs() {
    // DO NOTHING keeps an existing rule as it is; one that is not what the row asks for is
    // "skipped", naming what differs, so drift stays visible. An identical one is "unchanged".
    let sql = format!(
        "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES \
         ('us-east-1', 'quay', 'registry.k8s.io'), ('us-east-1', 'k8s', 'registry.k8s.io') \
         ON CONFLICT DO NOTHING"
    );
    let skipped = "skipped 1 (row 1: rule 'quay' in us-east-1 exists with upstream_registry_url \
                   'quay.io' (the row asks for 'registry.k8s.io'))";
    let sb = demo_sandbox();
    let out = exec(&sb, &["-o", "csv", "--dry-run"], &sql);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert!(
        notes(&out.stderr).contains(
            &"dry run: INSERT on aws.ecr.pull_through_cache_rules would make 0 call(s) \
              (skip 1 (row 1: rule 'quay' in us-east-1 exists with upstream_registry_url \
              'quay.io' (the row asks for 'registry.k8s.io')), unchanged 1); nothing was changed"
        ),
        "{}",
        out.stderr
    );
    let out = exec(&sb, &["-o", "csv"], &sql);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(
        notes(&out.stderr),
        [format!(
            "INSERT on aws.ecr.pull_through_cache_rules: {skipped}, unchanged 1"
        )],
        "{}",
        out.stderr
    );
    assert_eq!(mutating_calls(&sb), vec![]);
}
