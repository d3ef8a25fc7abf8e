//! The lazy validation columns (is_valid, validation_failure): ValidatePullThroughCacheRule is
//! called once per rule only when a statement reads them, counted from the sandbox's log.

use crate::common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::cli::{
    DELETE, DESCRIBE, RULE, RULES, UPDATE, calls_of, column, config_with, exec, json_rows,
    mutating_calls, notes, prefixes_called, query, rows, session, settings, write_file,
};
use common::{rule_body, rule_body_with_secret, secret_arn};
use skyql::sandbox::{Sandbox, SandboxConfig, Secret};
use skyql::session::{QueryResult, Session, SessionOptions};

/// The operation behind the validation columns.
const VALIDATE: &str = "ValidatePullThroughCacheRule";
/// The regions of [`config`].
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];
/// `--regions` for the binary.
const REGIONS_FLAG: &str = "--regions=us-east-1,eu-west-1";

/// Six rules, three of them broken by a secret ECR can no longer use:
/// - us-east-1: `ecr-public` (no credential), `hub` (good secret), `gone` (secret deleted),
///   `ghcr` (secret locked away);
/// - eu-west-1: `quay` (no credential), `gitlab` (secret re-keyed).
fn config() -> SandboxConfig {
    let mut config = config_with(&[
        (
            "us-east-1",
            vec![
                rule_body("ecr-public", "public.ecr.aws"),
                rule_body_with_secret(
                    "hub",
                    "registry-1.docker.io",
                    &secret_arn("us-east-1", "hub"),
                ),
                rule_body_with_secret(
                    "gone",
                    "registry-1.docker.io",
                    &secret_arn("us-east-1", "gone"),
                ),
                rule_body_with_secret("ghcr", "ghcr.io", &secret_arn("us-east-1", "ghcr")),
            ],
        ),
        (
            "eu-west-1",
            vec![
                rule_body("quay", "quay.io"),
                rule_body_with_secret(
                    "gitlab",
                    "registry.gitlab.com",
                    &secret_arn("eu-west-1", "gitlab"),
                ),
            ],
        ),
    ]);
    config.secrets = HashMap::from([
        (secret_arn("us-east-1", "gone"), Secret::NotFound),
        (secret_arn("us-east-1", "ghcr"), Secret::AccessDenied),
        (secret_arn("eu-west-1", "gitlab"), Secret::Undecryptable),
    ]);
    config
}

/// Every rule of [`config`], as (region, prefix), sorted.
fn all_rules() -> Vec<(String, String)> {
    pairs(&[
        ("eu-west-1", "gitlab"),
        ("eu-west-1", "quay"),
        ("us-east-1", "ecr-public"),
        ("us-east-1", "ghcr"),
        ("us-east-1", "gone"),
        ("us-east-1", "hub"),
    ])
}

/// The broken rules of [`config`], as (region, prefix), sorted.
fn invalid_rules() -> Vec<(String, String)> {
    pairs(&[
        ("eu-west-1", "gitlab"),
        ("us-east-1", "ghcr"),
        ("us-east-1", "gone"),
    ])
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .collect()
}

fn sandbox() -> Sandbox {
    common::start(config())
}

/// A session over [`REGIONS`] with `--allow-bulk` (and `--strict`) as given.
async fn session_with(sb: &Sandbox, allow_bulk: bool, strict: bool) -> Session {
    Session::new(SessionOptions {
        aws: settings(sb, &REGIONS),
        allow_bulk,
        strict,
        ..SessionOptions::default()
    })
    .await
    .expect("the session opens")
}

fn validates(sb: &Sandbox) -> usize {
    sb.log().count(VALIDATE)
}

/// The result's rows as text, one line per row (for EXPLAIN).
fn text(result: &QueryResult) -> String {
    rows(result)
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The (region, prefix) rows of a result with those two columns first.
fn rule_rows(result: &QueryResult) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = rows(result)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// SELECT
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn selecting_is_valid_validates_each_rule_once() {
    let sb = sandbox();
    let s = session(&sb, &REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT region, ecr_repository_prefix, is_valid, validation_failure FROM {RULES} ORDER BY 1, 2"
        ),
    )
    .await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let got = rows(&r);
    let summary: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("eu-west-1", "gitlab", "false"),
            ("eu-west-1", "quay", "true"),
            ("us-east-1", "ecr-public", "true"),
            ("us-east-1", "ghcr", "false"),
            ("us-east-1", "gone", "false"),
            ("us-east-1", "hub", "true"),
        ]
    );
    // The failure says what ECR found wrong, and only for the broken rules.
    let failure = |prefix: &str| {
        got.iter()
            .find(|r| r[1] == prefix)
            .map(|r| r[3].clone())
            .unwrap()
    };
    assert!(failure("gone").contains("SecretNotFoundException"));
    assert!(failure("ghcr").contains("UnableToAccessSecretException"));
    assert!(failure("gitlab").contains("UnableToDecryptSecretValueException"));
    for valid in ["quay", "ecr-public", "hub"] {
        assert_eq!(failure(valid), "NULL", "{valid}");
    }
    // One Validate call per rule, each rule once, each in its own region.
    assert_eq!(validates(&sb), 6);
    assert_eq!(prefixes_called(&sb, VALIDATE), all_rules());
}

#[tokio::test]
async fn columns_without_validation_make_no_validate_call() {
    let sb = sandbox();
    let s = session(&sb, &REGIONS).await;
    for sql in [
        format!("SELECT ecr_repository_prefix FROM {RULES}"),
        format!("SELECT count(*) FROM {RULES}"),
        format!("SELECT region, count(*) FROM {RULES} GROUP BY region"),
        format!(
            "SELECT region, credential_arn FROM {RULES} WHERE upstream_registry = 'docker-hub'"
        ),
        format!("SELECT * EXCLUDE (is_valid, validation_failure) FROM {RULES}"),
        format!(
            "SELECT credential_arn FROM {RULE} WHERE region = 'us-east-1' AND data__Identifier = 'gone'"
        ),
    ] {
        sb.log().clear();
        let r = query(&s, &sql).await;
        assert!(r.num_rows() > 0, "{sql}");
        assert!(sb.log().count(DESCRIBE) > 0, "{sql}");
        assert_eq!(validates(&sb), 0, "{sql}: {:#?}", sb.log().entries());
    }
}

#[tokio::test]
async fn filtering_on_is_valid_validates_and_keeps_the_broken_rules() {
    let sb = sandbox();
    let s = session(&sb, &REGIONS).await;
    // is_valid is in WHERE only: DataFusion projects it for the filter, so the scan validates.
    let r = query(
        &s,
        &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE is_valid = false"),
    )
    .await;
    assert_eq!(rule_rows(&r), invalid_rules());
    assert_eq!(validates(&sb), 6);

    sb.log().clear();
    let r = query(
        &s,
        &format!("SELECT count(*) AS n FROM {RULES} WHERE validation_failure LIKE '%Secret%'"),
    )
    .await;
    assert_eq!(column(&r, "n"), ["3"]);
    assert!(validates(&sb) > 0);
}

#[tokio::test]
async fn the_singular_table_validates_only_the_rules_it_gets() {
    let sb = sandbox();
    let s = session(&sb, &REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix, is_valid FROM {RULE} \
             WHERE region = 'us-east-1' AND data__Identifier IN ('gone', 'hub')"
        ),
    )
    .await;
    let mut got = rows(&r);
    got.sort();
    assert_eq!(got, [["gone", "false"], ["hub", "true"]]);
    assert_eq!(
        prefixes_called(&sb, VALIDATE),
        pairs(&[("us-east-1", "gone"), ("us-east-1", "hub")])
    );
}

#[tokio::test]
async fn a_pushed_limit_validates_only_the_rows_returned() {
    let sb = sandbox();
    let s = session(&sb, &REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix, is_valid FROM {RULES} WHERE region = 'us-east-1' LIMIT 2"
        ),
    )
    .await;
    assert_eq!(r.num_rows(), 2);
    assert_eq!(validates(&sb), 2, "{:#?}", sb.log().entries());

    // With a filter on validity, the LIMIT stays above it: every rule is validated first.
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'us-east-1' AND NOT is_valid LIMIT 1"
        ),
    )
    .await;
    let got = column(&r, "ecr_repository_prefix");
    assert!(got == ["ghcr"] || got == ["gone"], "{got:?}");
    assert_eq!(validates(&sb), 4);
}

#[tokio::test]
async fn lazy_columns_are_fetched_only_for_the_rows_the_other_filters_and_limit_keep() {
    let sb = sandbox();
    let s = session(&sb, &REGIONS).await;
    // The two docker-hub rules of six: two Validate calls, not six.
    let r = query(
        &s,
        &format!("SELECT *, is_valid FROM {RULES} WHERE upstream_registry = 'docker-hub'"),
    )
    .await;
    let found: Vec<(String, String)> = column(&r, "region")
        .into_iter()
        .zip(column(&r, "ecr_repository_prefix"))
        .collect();
    assert_eq!(found, pairs(&[("us-east-1", "gone"), ("us-east-1", "hub")]));
    assert_eq!(
        prefixes_called(&sb, VALIDATE),
        pairs(&[("us-east-1", "gone"), ("us-east-1", "hub")])
    );

    // The LIMIT applies after that filter, before the calls: one row, one call.
    sb.log().clear();
    let r = query(
        &s,
        &format!("SELECT *, is_valid FROM {RULES} WHERE upstream_registry = 'docker-hub' LIMIT 1"),
    )
    .await;
    assert_eq!(r.num_rows(), 1);
    assert_eq!(validates(&sb), 1);

    // A LIMIT over several regions is shared by them: three rows, three calls (not 3 a region).
    sb.log().clear();
    let r = query(&s, &format!("SELECT *, is_valid FROM {RULES} LIMIT 3")).await;
    assert_eq!(r.num_rows(), 3);
    assert_eq!(validates(&sb), 3);
    assert_eq!(calls_of(&sb, DESCRIBE).len(), 2, "one listing per region");

    // A filter on a lazy column is applied after the calls, the others before them.
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT region, ecr_repository_prefix FROM {RULES} \
             WHERE upstream_registry = 'docker-hub' AND NOT is_valid"
        ),
    )
    .await;
    assert_eq!(rule_rows(&r), pairs(&[("us-east-1", "gone")]));
    assert_eq!(validates(&sb), 2);
}

#[tokio::test]
async fn an_inventory_export_of_star_makes_one_listing_per_region() {
    // 16 regions of 50 rules: `SELECT *` is 16 listings, not 16 + 800 Validate calls.
    let regions: Vec<String> = skyql::schema::schemas().provider.regions[..16].to_vec();
    let seeds: Vec<(&str, Vec<serde_json::Value>)> = regions
        .iter()
        .map(|r| (r.as_str(), common::cli::numbered_rules(50)))
        .collect();
    let sb = common::start(config_with(&seeds));
    let names: Vec<&str> = regions.iter().map(String::as_str).collect();
    let s = session(&sb, &names).await;
    let r = query(&s, &format!("SELECT * FROM {RULES}")).await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.num_rows(), 800);
    assert_eq!(sb.log().len(), 16, "one call per region");
    assert_eq!(calls_of(&sb, DESCRIBE).len(), 16);
}

#[tokio::test]
async fn filters_that_drop_rows_let_the_listing_run_past_the_limit() {
    // The rule that matches is the listing's last: a listing stopped at LIMIT rows would
    // not find it.
    let mut rules = common::cli::numbered_rules(6);
    rules.push(rule_body("zz-k8s", "registry.k8s.io"));
    let sb = common::start(config_with(&[("us-east-1", rules)]));
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix FROM {RULES} WHERE upstream_registry = 'k8s' LIMIT 1"
        ),
    )
    .await;
    assert_eq!(column(&r, "ecr_repository_prefix"), ["zz-k8s"]);
    let r = query(
        &s,
        &format!(
            "EXPLAIN SELECT ecr_repository_prefix FROM {RULES} WHERE upstream_registry = 'k8s' LIMIT 1"
        ),
    )
    .await;
    let plan = text(&r);
    assert!(
        plan.contains("filters=[upstream_registry = Utf8(\"k8s\")], limit=1"),
        "{plan}"
    );
}

#[tokio::test]
async fn validation_keeps_the_listing_order_with_calls_in_flight_together() {
    // 20 rules and 150 ms a call: one at a time, validation alone would take 3 s; eight at a
    // time it takes three rounds.
    let latency = Duration::from_millis(150);
    let mut config = config_with(&[("us-east-1", common::cli::numbered_rules(20))]);
    config.latency = latency;
    let sb = common::start(config);
    let s = session(&sb, &["us-east-1"]).await;
    let start = Instant::now();
    let r = query(
        &s,
        &format!("SELECT ecr_repository_prefix, is_valid FROM {RULES}"),
    )
    .await;
    let elapsed = start.elapsed();
    let prefixes = column(&r, "ecr_repository_prefix");
    let want: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
    assert_eq!(prefixes, want, "the listing's order");
    assert_eq!(column(&r, "is_valid"), vec!["true"; 20]);
    assert_eq!(validates(&sb), 20);
    // The listing plus at least three rounds of at most eight calls.
    assert!(elapsed >= latency * 4, "{elapsed:?}");
    assert!(
        elapsed < latency * 15,
        "calls were not concurrent: {elapsed:?}"
    );
}

#[tokio::test]
async fn explain_shows_when_a_statement_validates() {
    let sb = sandbox();
    let s = session_with(&sb, true, false).await;
    let scan_line = |t: String| {
        t.lines()
            .find(|l| l.contains("ResourceScanExec"))
            .unwrap_or_else(|| panic!("no ResourceScanExec in\n{t}"))
            .to_string()
    };
    let r = query(
        &s,
        &format!("EXPLAIN SELECT ecr_repository_prefix FROM {RULES} WHERE NOT is_valid"),
    )
    .await;
    assert!(
        scan_line(text(&r)).contains(", fetch=ValidatePullThroughCacheRule"),
        "{}",
        text(&r)
    );
    let r = query(
        &s,
        &format!("EXPLAIN SELECT ecr_repository_prefix FROM {RULES}"),
    )
    .await;
    assert!(!scan_line(text(&r)).contains("validate"), "{}", text(&r));

    let r = query(
        &s,
        &format!("EXPLAIN DELETE FROM {RULES} WHERE is_valid = false"),
    )
    .await;
    assert!(
        text(&r).contains("bulk, fetch=ValidatePullThroughCacheRule"),
        "{}",
        text(&r)
    );
    let r = query(
        &s,
        &format!("EXPLAIN DELETE FROM {RULES} WHERE region = 'us-east-1' AND ecr_repository_prefix = 'gone'"),
    )
    .await;
    assert!(!text(&r).contains("validate"), "{}", text(&r));
    assert_eq!(sb.log().len(), 0, "EXPLAIN makes no call");
}

// ---------------------------------------------------------------------------------------------
// DML
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn dml_that_does_not_read_the_columns_makes_no_validate_call() {
    let sb = sandbox();
    let s = session_with(&sb, true, false).await;
    let rotated = secret_arn("us-east-1", "hub-rotated");
    // The MERGE puts back the quay rule the bulk DELETE before it removes.
    let dir = tempfile::tempdir().unwrap();
    let source = write_file(
        dir.path(),
        "desired.csv",
        "region,ecr_repository_prefix,upstream_registry_url\neu-west-1,quay,quay.io\n",
    );
    for sql in [
        format!(
            "UPDATE {RULES} SET credential_arn = '{rotated}' WHERE region = 'us-east-1' AND data__Identifier = 'hub'"
        ),
        format!(
            "UPDATE {RULE} SET credential_arn = '{rotated}' WHERE region = 'us-east-1' AND data__Identifier = 'ghcr'"
        ),
        // ON CONFLICT reads the rules it names (quay exists): that read validates nothing.
        format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) \
             VALUES ('us-east-1', 'k8s', 'registry.k8s.io'), ('eu-west-1', 'quay', 'quay.io') \
             ON CONFLICT DO NOTHING"
        ),
        format!(
            "DELETE FROM {RULES} WHERE region = 'us-east-1' AND ecr_repository_prefix = 'ecr-public'"
        ),
        format!("DELETE FROM {RULES} WHERE region = 'eu-west-1' AND upstream_registry = 'quay'"),
        format!(
            "MERGE INTO {RULES} t USING '{}' s \
             ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
             WHEN NOT MATCHED THEN INSERT (region, ecr_repository_prefix, upstream_registry_url) \
             VALUES (s.region, s.ecr_repository_prefix, s.upstream_registry_url)",
            source.display()
        ),
    ] {
        let before = mutating_calls(&sb).len();
        s.sql(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}\n  failed: {e}"));
        assert!(
            mutating_calls(&sb).len() > before,
            "{sql} changed something"
        );
        assert_eq!(validates(&sb), 0, "{sql}: {:#?}", sb.log().entries());
    }
}

#[test]
fn delete_where_is_valid_false_deletes_exactly_the_broken_rules() {
    let sb = sandbox();
    let out = exec(
        &sb,
        &["-o", "csv", REGIONS_FLAG, "--allow-bulk"],
        &format!("DELETE FROM {RULES} WHERE is_valid = false"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n3\n");
    assert_eq!(prefixes_called(&sb, DELETE), invalid_rules());
    assert_eq!(prefixes_called(&sb, VALIDATE), all_rules());
    assert!(
        notes(&out.stderr)
            .iter()
            .any(|n| n.contains("matches 3 rule(s)")),
        "{}",
        out.stderr
    );
    // What is left validates clean.
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "json", REGIONS_FLAG],
        &format!("SELECT region, ecr_repository_prefix, is_valid FROM {RULES} ORDER BY 1, 2"),
    );
    out.expect_code(0);
    let left: Vec<(String, String, bool)> = json_rows(&out.stdout)
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap().to_string(),
                r["ecr_repository_prefix"].as_str().unwrap().to_string(),
                r["is_valid"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        left,
        [
            ("eu-west-1".into(), "quay".into(), true),
            ("us-east-1".into(), "ecr-public".into(), true),
            ("us-east-1".into(), "hub".into(), true),
        ]
    );
}

#[test]
fn without_allow_bulk_a_delete_by_validity_is_refused_before_any_call() {
    let sb = sandbox();
    let out = exec(
        &sb,
        &[REGIONS_FLAG],
        &format!("DELETE FROM {RULES} WHERE is_valid = false"),
    );
    out.expect_code(2).expect_stderr(&["--allow-bulk"]);
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[tokio::test]
async fn other_filters_run_first_so_only_their_rules_are_validated() {
    let sb = sandbox();
    let s = session_with(&sb, true, false).await;
    let r = query(
        &s,
        &format!("DELETE FROM {RULES} WHERE upstream_registry = 'docker-hub' AND NOT is_valid"),
    )
    .await;
    assert_eq!(column(&r, "count"), ["1"]);
    // Only the two docker-hub rules were validated; only the broken one was deleted.
    assert_eq!(
        prefixes_called(&sb, VALIDATE),
        pairs(&[("us-east-1", "gone"), ("us-east-1", "hub")])
    );
    assert_eq!(
        prefixes_called(&sb, DELETE),
        pairs(&[("us-east-1", "gone")])
    );
}

#[tokio::test]
async fn update_of_a_pinned_rule_by_validity_validates_just_that_rule() {
    let sb = sandbox();
    let s = session_with(&sb, false, false).await;
    let fixed = secret_arn("us-east-1", "gone-restored");
    let r = query(
        &s,
        &format!(
            "UPDATE {RULES} SET credential_arn = '{fixed}' \
             WHERE region = 'us-east-1' AND data__Identifier IN ('gone', 'hub') AND is_valid = false"
        ),
    )
    .await;
    assert_eq!(column(&r, "count"), ["1"]);
    assert_eq!(
        prefixes_called(&sb, VALIDATE),
        pairs(&[("us-east-1", "gone"), ("us-east-1", "hub")])
    );
    assert_eq!(
        calls_of(&sb, UPDATE),
        vec![(
            "us-east-1".to_string(),
            serde_json::json!({"ecrRepositoryPrefix": "gone", "credentialArn": fixed})
        )]
    );
    // With a secret ECR can read, the rule validates.
    let r = query(
        &s,
        &format!(
            "SELECT is_valid FROM {RULE} WHERE region = 'us-east-1' AND data__Identifier = 'gone'"
        ),
    )
    .await;
    assert_eq!(column(&r, "is_valid"), ["true"]);
}

#[tokio::test]
async fn merge_validates_the_target_only_when_a_clause_reads_the_columns() {
    let sb = sandbox();
    let s = session_with(&sb, true, false).await;
    let dir = tempfile::tempdir().unwrap();
    let source = write_file(
        dir.path(),
        "desired.csv",
        &format!(
            "region,ecr_repository_prefix,upstream_registry_url,credential_arn\n\
             us-east-1,gone,registry-1.docker.io,{}\n\
             us-east-1,hub,registry-1.docker.io,{}\n",
            secret_arn("us-east-1", "gone"),
            secret_arn("us-east-1", "hub"),
        ),
    );
    let r = query(
        &s,
        &format!(
            "MERGE INTO {RULES} t USING '{}' s \
             ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
             WHEN MATCHED AND NOT t.is_valid THEN DELETE",
            source.display()
        ),
    )
    .await;
    assert_eq!(column(&r, "count"), ["1"]);
    assert_eq!(
        prefixes_called(&sb, DELETE),
        pairs(&[("us-east-1", "gone")])
    );
    // The target is every rule of the source's regions: all of them are validated.
    assert_eq!(
        prefixes_called(&sb, VALIDATE),
        pairs(&[
            ("us-east-1", "ecr-public"),
            ("us-east-1", "ghcr"),
            ("us-east-1", "gone"),
            ("us-east-1", "hub"),
        ])
    );
}

#[tokio::test]
async fn insert_and_update_refuse_the_validation_columns() {
    let sb = sandbox();
    let s = session_with(&sb, true, false).await;
    for (sql, words) in [
        (
            format!(
                "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, is_valid) \
                 VALUES ('us-east-1', 'k8s', 'registry.k8s.io', true)"
            ),
            ["is_valid", "set by AWS"],
        ),
        (
            format!(
                "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, validation_failure) \
                 VALUES ('us-east-1', 'k8s', 'registry.k8s.io', 'none')"
            ),
            ["validation_failure", "set by AWS"],
        ),
        (
            format!(
                "UPDATE {RULES} SET is_valid = true WHERE region = 'us-east-1' AND data__Identifier = 'gone'"
            ),
            ["is_valid", "cannot change in place"],
        ),
        (
            format!(
                "UPDATE {RULE} SET validation_failure = NULL WHERE region = 'us-east-1' AND data__Identifier = 'gone'"
            ),
            ["validation_failure", "cannot change in place"],
        ),
    ] {
        let err = s.sql(&sql).await.expect_err(&format!("{sql} is refused"));
        let text = err.to_string();
        for word in words {
            assert!(text.contains(word), "{sql}: {text}");
        }
        assert_eq!(err.exit_code(), 2, "{sql}: {text}");
    }
    assert!(mutating_calls(&sb).is_empty(), "{:#?}", sb.log().entries());
    assert_eq!(validates(&sb), 0);
}

// ---------------------------------------------------------------------------------------------
// Failures
// ---------------------------------------------------------------------------------------------

/// [`config`] where the caller may not call ValidatePullThroughCacheRule in eu-west-1.
fn validate_denied_in_eu() -> Sandbox {
    let mut config = config();
    config.fail_operations = vec![("eu-west-1".into(), VALIDATE.into())];
    common::start(config)
}

#[tokio::test]
async fn a_failed_validate_fails_its_region() {
    let sb = validate_denied_in_eu();
    let s = session(&sb, &REGIONS).await;
    let r = query(
        &s,
        &format!("SELECT region, ecr_repository_prefix, is_valid FROM {RULES}"),
    )
    .await;
    // eu-west-1's rows are missing, and it is said why.
    assert!(
        rows(&r).iter().all(|row| row[0] == "us-east-1"),
        "{:?}",
        rows(&r)
    );
    assert_eq!(r.num_rows(), 4);
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    let failure = &r.failures[0];
    assert_eq!(failure.region, "eu-west-1");
    assert_eq!(failure.operation, VALIDATE);
    assert_eq!(failure.code, "AccessDeniedException");

    // Without the columns, the region answers in full.
    let r = query(&s, &format!("SELECT ecr_repository_prefix FROM {RULES}")).await;
    assert_eq!(r.num_rows(), 6);
    assert!(r.failures.is_empty(), "{:?}", r.failures);

    // --strict: the statement fails.
    let strict = session_with(&sb, false, true).await;
    let err = strict
        .sql(&format!("SELECT is_valid FROM {RULES}"))
        .await
        .expect_err("strict fails");
    let text = err.to_string();
    assert!(
        text.contains("eu-west-1") && text.contains(VALIDATE) && text.contains("AccessDenied"),
        "{text}"
    );
}

#[test]
fn the_binary_exits_3_naming_the_region_whose_validation_failed() {
    let sb = validate_denied_in_eu();
    let out = exec(
        &sb,
        &["-o", "csv", REGIONS_FLAG],
        &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE NOT is_valid ORDER BY 2"),
    );
    out.expect_code(3)
        .expect_stderr(&["eu-west-1", VALIDATE, "AccessDeniedException"]);
    assert_eq!(
        out.stdout,
        "region,ecr_repository_prefix\nus-east-1,ghcr\nus-east-1,gone\n"
    );
}

#[test]
fn a_delete_by_validity_makes_no_change_when_validation_fails() {
    let sb = validate_denied_in_eu();
    let out = exec(
        &sb,
        &[REGIONS_FLAG, "--allow-bulk"],
        &format!("DELETE FROM {RULES} WHERE is_valid = false"),
    );
    out.expect_code(1)
        .expect_stderr(&["eu-west-1", VALIDATE, "AccessDeniedException"]);
    assert!(mutating_calls(&sb).is_empty(), "{:#?}", mutating_calls(&sb));
}

#[tokio::test]
async fn a_rule_deleted_between_listing_and_validation_is_left_out() {
    // Every call takes 1 s. The listing is answered at 1 s; a Delete sent at 0.5 s lands at
    // 1.5 s; the Validate calls, sent once the listing is in, are answered at about 2 s.
    let latency = Duration::from_secs(1);
    let mut config = config();
    config.latency = latency;
    let sb = common::start(config);
    let s = session(&sb, &["us-east-1"]).await;
    let sql = format!("SELECT ecr_repository_prefix, is_valid FROM {RULES} ORDER BY 1");
    let select = s.sql(&sql);
    let delete = async {
        tokio::time::sleep(latency / 2).await;
        common::client(&sb, "us-east-1")
            .delete_pull_through_cache_rule()
            .ecr_repository_prefix("gone")
            .send()
            .await
            .expect("the rule is deleted");
    };
    let (result, ()) = tokio::join!(select, delete);
    let r = result.expect("the SELECT runs").remove(0);
    assert_eq!(
        rows(&r),
        [["ecr-public", "true"], ["ghcr", "false"], ["hub", "true"]]
    );
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let gone: Vec<_> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == VALIDATE && e.parameters["ecrRepositoryPrefix"] == "gone")
        .collect();
    assert_eq!(gone.len(), 1, "{gone:#?}");
    assert_eq!(
        gone[0].error_code.as_deref(),
        Some("PullThroughCacheRuleNotFoundException"),
        "the listing saw the rule, the validation did not: {:#?}",
        sb.log().entries()
    );
}

#[test]
fn describe_extended_names_the_call_of_each_lazy_column() {
    let sb = sandbox();
    let out = exec(&sb, &["-o", "csv"], &format!("DESCRIBE EXTENDED {RULES}"));
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].ends_with(",lazy_call"), "{}", lines[0]);
    for line in &lines[1..] {
        let lazy = line.starts_with("is_valid,") || line.starts_with("validation_failure,");
        assert_eq!(
            line.ends_with(",ValidatePullThroughCacheRule"),
            lazy,
            "{line}"
        );
    }
    assert_eq!(sb.log().len(), 0);
}
