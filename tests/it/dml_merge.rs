//! MERGE against the sandbox: converging the source's regions, idempotent re-runs, bulk safety,
//! dry runs, replacement refused, and bad ON clauses — counted from the request log.

use crate::common;

use std::path::PathBuf;

use common::cli::{Skyql, demo_sandbox, settings, write_file};
use skyql::sandbox::Sandbox;
use skyql::session::{QueryResult, Session, SessionOptions};
use tempfile::TempDir;

const CREATE: &str = "CreatePullThroughCacheRule";
const UPDATE: &str = "UpdatePullThroughCacheRule";
const DELETE: &str = "DeletePullThroughCacheRule";
const ROTATED: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Rotated1";
const GHCR: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/ghcr-Qw34Er";

/// The desired state of us-east-1: docker-hub's secret rotated, ghcr renamed to github, the rest as is.
fn desired(dir: &TempDir) -> PathBuf {
    write_file(
        dir.path(),
        "desired.csv",
        &format!(
            "region,ecr_repository_prefix,upstream_registry_url,credential_arn\n\
             us-east-1,ecr-public,public.ecr.aws,\n\
             us-east-1,docker-hub,registry-1.docker.io,{ROTATED}\n\
             us-east-1,quay,quay.io,\n\
             us-east-1,k8s,registry.k8s.io,\n\
             us-east-1,github,ghcr.io,{GHCR}\n"
        ),
    )
}

fn merge_sql(source: &std::path::Path, extra: &str) -> String {
    format!(
        "MERGE INTO aws.ecr.pull_through_cache_rules t USING '{}' s \
         ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
         {extra}",
        source.display()
    )
}

const CONVERGE: &str = "WHEN MATCHED THEN UPDATE SET credential_arn = s.credential_arn \
     WHEN NOT MATCHED THEN INSERT (region, ecr_repository_prefix, upstream_registry_url, credential_arn) \
     VALUES (s.region, s.ecr_repository_prefix, s.upstream_registry_url, s.credential_arn) \
     WHEN NOT MATCHED BY SOURCE THEN DELETE";

async fn session(sb: &Sandbox, allow_bulk: bool, dry_run: bool) -> Session {
    Session::new(SessionOptions {
        aws: settings(sb, &["us-east-1"]),
        allow_bulk,
        dry_run,
        ..SessionOptions::default()
    })
    .await
    .expect("the session opens")
}

async fn run(session: &Session, sql: &str) -> skyql::Result<QueryResult> {
    session.sql(sql).await.map(|mut r| r.remove(0))
}

fn count(result: &QueryResult) -> u64 {
    let column = result.batches[0].column(0);
    column
        .as_any()
        .downcast_ref::<datafusion::arrow::array::UInt64Array>()
        .expect("count is UInt64")
        .value(0)
}

fn mutations(sb: &Sandbox) -> (usize, usize, usize) {
    (
        sb.log().count(CREATE),
        sb.log().count(UPDATE),
        sb.log().count(DELETE),
    )
}

#[tokio::test]
async fn merge_converges_the_source_region_and_a_rerun_changes_nothing() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    let sql = merge_sql(&desired(&dir), CONVERGE);
    let session = session(&sb, true, false).await;

    let first = run(&session, &sql).await.unwrap();
    assert_eq!(
        count(&first),
        3,
        "create github, update docker-hub, delete ghcr"
    );
    assert_eq!(mutations(&sb), (1, 1, 1));
    let calls = sb.log().entries();
    let update = calls.iter().find(|e| e.operation == UPDATE).unwrap();
    assert_eq!(update.parameters["ecrRepositoryPrefix"], "docker-hub");
    assert_eq!(update.parameters["credentialArn"], ROTATED);
    let delete = calls.iter().find(|e| e.operation == DELETE).unwrap();
    assert_eq!(
        (
            delete.region.as_deref(),
            delete.parameters["ecrRepositoryPrefix"].as_str()
        ),
        (Some("us-east-1"), Some("ghcr"))
    );
    let create = calls.iter().find(|e| e.operation == CREATE).unwrap();
    assert_eq!(create.parameters["ecrRepositoryPrefix"], "github");
    assert!(
        first
            .notes
            .iter()
            .any(|n| n.contains("created 1, updated 1, deleted 1, unchanged 3")),
        "{:?}",
        first.notes
    );
    // Other regions are not the source's: untouched, not even read.
    assert!(
        calls
            .iter()
            .all(|e| e.region.as_deref() == Some("us-east-1")),
        "{calls:?}"
    );

    sb.log().clear();
    let again = run(&session, &sql).await.unwrap();
    assert_eq!(count(&again), 0);
    assert_eq!(
        mutations(&sb),
        (0, 0, 0),
        "a converged region needs no call"
    );
    assert!(
        again.notes.iter().any(|n| n.contains("unchanged 5")),
        "{:?}",
        again.notes
    );
}

#[tokio::test]
async fn deleting_what_the_source_omits_needs_allow_bulk() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    let session = session(&sb, false, false).await;
    let err = run(&session, &merge_sql(&desired(&dir), CONVERGE))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("--allow-bulk"), "{err}");
    assert_eq!(sb.log().len(), 0, "refused before any call");
}

#[tokio::test]
async fn a_dry_run_reports_every_call_and_makes_no_mutating_call() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    // A dry run is refused where the real run is: NOT MATCHED BY SOURCE … DELETE is bulk.
    let refused = run(
        &session(&sb, false, true).await,
        &merge_sql(&desired(&dir), CONVERGE),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.exit_code(), 2, "{refused}");
    let session = session(&sb, true, true).await;
    let result = run(&session, &merge_sql(&desired(&dir), CONVERGE))
        .await
        .unwrap();
    assert_eq!(count(&result), 3);
    assert_eq!(mutations(&sb), (0, 0, 0));
    let notes = result.notes.join("\n");
    assert!(
        notes.contains("dry run: MERGE on aws.ecr.pull_through_cache_rules would make 3 call(s)"),
        "{notes}"
    );
    assert!(
        notes.contains(r#"DeletePullThroughCacheRule us-east-1 {"ecrRepositoryPrefix":"ghcr"}"#),
        "{notes}"
    );
    assert!(
        notes.contains(r#"CreatePullThroughCacheRule us-east-1 {"credentialArn":"#),
        "{notes}"
    );
}

#[tokio::test]
async fn a_matched_rule_with_another_upstream_needs_replacing_and_replacing_is_explicit() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    let source = write_file(
        dir.path(),
        "moved.csv",
        "region,ecr_repository_prefix,upstream_registry_url\nus-east-1,quay,registry.k8s.io\n",
    );
    let session = session(&sb, false, false).await;
    let update = merge_sql(
        &source,
        "WHEN MATCHED THEN UPDATE SET credential_arn = NULL",
    );
    let err = run(&session, &update).await.unwrap_err();
    assert!(err.to_string().contains("cannot remove a value"), "{err}");

    let update = merge_sql(
        &source,
        "WHEN MATCHED THEN UPDATE SET custom_role_arn = 'arn:aws:iam::123456789012:role/x'",
    );
    let err = run(&session, &update).await.unwrap_err();
    // Found once the target is read: exit 1, since exit 2 promises that nothing was sent.
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(err.to_string().contains("needs replacing"), "{err}");
    assert_eq!(mutations(&sb), (0, 0, 0));

    let replace = merge_sql(
        &source,
        "WHEN MATCHED AND t.upstream_registry_url <> s.upstream_registry_url THEN DELETE",
    );
    let result = run(&session, &replace).await.unwrap();
    assert_eq!((count(&result), mutations(&sb)), (1, (0, 0, 1)));
}

#[tokio::test]
async fn on_must_match_region_and_identifier() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    let source = desired(&dir);
    let session = session(&sb, true, false).await;
    let sql = format!(
        "MERGE INTO aws.ecr.pull_through_cache_rules t USING '{}' s ON t.ecr_repository_prefix = s.ecr_repository_prefix \
         WHEN MATCHED THEN DELETE",
        source.display()
    );
    let err = run(&session, &sql).await.unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(
        err.to_string().contains(
            "ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix"
        ),
        "{err}"
    );
    assert_eq!(sb.log().len(), 0);
}

#[tokio::test]
async fn explain_merge_makes_no_call() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    let session = session(&sb, true, false).await;
    let result = run(
        &session,
        &format!("EXPLAIN {}", merge_sql(&desired(&dir), CONVERGE)),
    )
    .await
    .unwrap();
    let text = common::cli::rows(&result).concat().join("\n");
    assert!(
        text.contains("MergeExec: aws.ecr.pull_through_cache_rules"),
        "{text}"
    );
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn the_binary_refuses_an_unguarded_bulk_merge_with_exit_2() {
    let sb = demo_sandbox();
    let dir = TempDir::new().unwrap();
    let out = Skyql::new(&sb)
        .args([
            "--regions",
            "us-east-1",
            "exec",
            &merge_sql(&desired(&dir), CONVERGE),
        ])
        .run();
    out.expect_code(2);
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(sb.log().len(), 0);
}
