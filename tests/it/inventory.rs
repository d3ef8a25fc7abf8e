//! aws.ecr.repositories, aws.ecr.images and aws.ecr.registry against the demo sandbox through
//! the binary: pushdown and lazy calls seen in the request log, each UPDATE operation, the
//! refusals (exit 2, no request), DELETE of images in bulk and `--sandbox-state`.

use crate::common;

use common::cli::{
    Output, Skyql, demo_sandbox, dry_run_calls, exec, notes, refused_without_any_call,
};
use serde_json::{Value, json};
use skyql::sandbox::Sandbox;

const REPOS: &str = "aws.ecr.repositories";
const IMAGES: &str = "aws.ecr.images";
const REGISTRY: &str = "aws.ecr.registry";
const US: &str = "--regions=us-east-1";
/// A lifecycle policy long enough for ECR's 100-character minimum.
const LIFECYCLE: &str = r#"{"rules":[{"rulePriority":1,"description":"keep 20","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":20},"action":{"type":"expire"}}]}"#;

/// The operations logged so far, in order.
fn operations(sb: &Sandbox) -> Vec<String> {
    sb.log()
        .entries()
        .into_iter()
        .map(|e| e.operation)
        .collect()
}

/// The logged calls that change something (not Describe*, Get* or List*), as (operation, body).
fn changes(sb: &Sandbox) -> Vec<(String, Value)> {
    sb.log()
        .entries()
        .into_iter()
        .filter(|e| {
            !["Describe", "Get", "List"]
                .iter()
                .any(|p| e.operation.starts_with(p))
        })
        .map(|e| (e.operation, e.parameters))
        .collect()
}

/// `-o csv` rows of a us-east-1 query, header excluded.
fn us_rows(sb: &Sandbox, sql: &str) -> Vec<String> {
    let out = exec(sb, &["-o", "csv", US], sql);
    out.expect_code(0);
    out.stdout.lines().skip(1).map(str::to_string).collect()
}

/// One repository's JSON row (`-o json`) in us-east-1.
fn repository(sb: &Sandbox, name: &str, columns: &str) -> Value {
    let sql = format!("SELECT {columns} FROM {REPOS} WHERE repository_name = '{name}'");
    let out = exec(sb, &["-o", "json", US], &sql);
    out.expect_code(0);
    let rows = common::cli::json_rows(&out.stdout);
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    rows[0].clone()
}

#[track_caller]
fn ok(out: &Output) -> &Output {
    out.expect_code(0)
}

// ---------------------------------------------------------------------------------------------
// aws.ecr.repositories
// ---------------------------------------------------------------------------------------------

#[test]
fn names_are_sent_as_repository_names_and_a_missing_one_is_no_row() {
    let sb = demo_sandbox();
    let rows = us_rows(
        &sb,
        &format!(
            "SELECT repository_name, scan_on_push, encryption_type FROM {REPOS} \
             WHERE repository_name IN ('docker-hub/library/nginx', 'k8s/pause', 'no/such') ORDER BY 1"
        ),
    );
    assert_eq!(
        rows,
        [
            "docker-hub/library/nginx,true,AES256",
            "k8s/pause,false,AES256"
        ]
    );
    let sent: Vec<Value> = sb
        .log()
        .entries()
        .into_iter()
        .map(|e| e.parameters["repositoryNames"].clone())
        .collect();
    // The batch fails on the missing name (RepositoryNotFoundException), so each name is then
    // asked alone: the two found are rows, the missing one is none, and nothing is reported.
    assert_eq!(
        sent[0],
        json!(["docker-hub/library/nginx", "k8s/pause", "no/such"])
    );
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert!(operations(&sb).iter().all(|o| o == "DescribeRepositories"));
}

#[test]
fn lazy_columns_are_fetched_only_when_named_and_are_null_when_absent() {
    let sb = demo_sandbox();
    us_rows(&sb, &format!("SELECT * FROM {REPOS}"));
    assert_eq!(
        operations(&sb),
        ["DescribeRepositories"],
        "SELECT * leaves lazy columns out"
    );
    sb.log().clear();

    let row = repository(
        &sb,
        "team/scratch",
        "lifecycle_policy, repository_policy, tags",
    );
    assert_eq!(row["lifecycle_policy"], Value::Null);
    assert_eq!(row["repository_policy"], Value::Null);
    assert_eq!(
        serde_json::from_str::<Value>(row["tags"].as_str().unwrap()).unwrap(),
        json!([{"Key": "team", "Value": "platform"}])
    );
    let mut ops = operations(&sb);
    ops.sort();
    assert_eq!(
        ops,
        [
            "DescribeRepositories",
            "GetLifecyclePolicy",
            "GetRepositoryPolicy",
            "ListTagsForResource"
        ]
    );
}

#[test]
fn insert_creates_the_repository_with_its_tags_then_gives_it_its_lifecycle_policy() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv", US],
        &format!(
            "INSERT INTO {REPOS} (region, repository_name, image_tag_mutability, scan_on_push, tags, lifecycle_policy) \
             VALUES ('us-east-1', 'team/web', 'IMMUTABLE', true, '[{{\"Key\":\"team\",\"Value\":\"web\"}}]', '{LIFECYCLE}')"
        ),
    );
    ok(&out);
    assert_eq!(out.stdout, "count\n1\n");
    let changes = changes(&sb);
    assert_eq!(changes.len(), 2, "{changes:#?}");
    assert_eq!(changes[0].0, "CreateRepository");
    assert_eq!(
        changes[0].1,
        json!({
            "repositoryName": "team/web",
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": true},
            "tags": [{"Key": "team", "Value": "web"}]
        })
    );
    assert_eq!(changes[1].0, "PutLifecyclePolicy");
    assert_eq!(
        changes[1].1,
        json!({"repositoryName": "team/web", "lifecyclePolicyText": LIFECYCLE})
    );
    let row = repository(
        &sb,
        "team/web",
        "image_tag_mutability, scan_on_push, lifecycle_policy",
    );
    assert_eq!(
        row,
        json!({"image_tag_mutability": "IMMUTABLE", "scan_on_push": true, "lifecycle_policy": LIFECYCLE})
    );
}

#[test]
fn update_sends_one_operation_per_group_of_columns_changed() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv", US],
        &format!(
            "UPDATE {REPOS} SET image_tag_mutability = 'IMMUTABLE', scan_on_push = true \
             WHERE repository_name = 'docker-hub/library/python'"
        ),
    );
    ok(&out);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        changes(&sb),
        [
            (
                "PutImageTagMutability".to_string(),
                json!({"repositoryName": "docker-hub/library/python", "imageTagMutability": "IMMUTABLE"})
            ),
            (
                "PutImageScanningConfiguration".to_string(),
                json!({"repositoryName": "docker-hub/library/python", "imageScanningConfiguration": {"scanOnPush": true}})
            ),
        ]
    );
    let row = repository(
        &sb,
        "docker-hub/library/python",
        "image_tag_mutability, scan_on_push",
    );
    assert_eq!(
        row,
        json!({"image_tag_mutability": "IMMUTABLE", "scan_on_push": true})
    );

    // The same statement again changes nothing and sends nothing.
    sb.log().clear();
    ok(&exec(
        &sb,
        &["-o", "csv", US],
        &format!(
            "UPDATE {REPOS} SET image_tag_mutability = 'IMMUTABLE', scan_on_push = true \
             WHERE repository_name = 'docker-hub/library/python'"
        ),
    ));
    assert_eq!(changes(&sb), [], "a re-run converges without a call");
}

#[test]
fn set_lifecycle_policy_to_null_deletes_it() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[US],
        &format!("UPDATE {REPOS} SET lifecycle_policy = NULL WHERE repository_name = 'k8s/pause'"),
    );
    ok(&out);
    assert_eq!(
        changes(&sb),
        [(
            "DeleteLifecyclePolicy".to_string(),
            json!({"repositoryName": "k8s/pause"})
        )]
    );
    assert_eq!(
        repository(&sb, "k8s/pause", "lifecycle_policy")["lifecycle_policy"],
        Value::Null
    );
}

#[test]
fn tags_change_by_their_difference() {
    let sb = demo_sandbox();
    // team/scratch holds team=platform: change nothing of it, add owner, and drop team.
    let out = exec(
        &sb,
        &[US],
        &format!(
            "UPDATE {REPOS} SET tags = '[{{\"Key\":\"owner\",\"Value\":\"ana\"}}]' WHERE repository_name = 'team/scratch'"
        ),
    );
    ok(&out);
    let arn = "arn:aws:ecr:us-east-1:123456789012:repository/team/scratch";
    assert_eq!(
        changes(&sb),
        [
            (
                "TagResource".to_string(),
                json!({"resourceArn": arn, "tags": [{"Key": "owner", "Value": "ana"}]})
            ),
            (
                "UntagResource".to_string(),
                json!({"resourceArn": arn, "tagKeys": ["team"]})
            ),
        ]
    );
    let tags = repository(&sb, "team/scratch", "tags")["tags"].clone();
    assert_eq!(
        serde_json::from_str::<Value>(tags.as_str().unwrap()).unwrap(),
        json!([{"Key": "owner", "Value": "ana"}])
    );
}

#[test]
fn a_column_ecr_cannot_change_in_place_is_refused_naming_the_ones_it_can() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[US],
        &format!("UPDATE {REPOS} SET encryption_type = 'KMS' WHERE repository_name = 'k8s/pause'"),
    );
    refused_without_any_call(
        &sb,
        &out,
        &[
            "encryption_type cannot change in place",
            "scan_on_push",
            "lifecycle_policy",
            "tags",
        ],
    );
}

#[test]
fn a_bad_lifecycle_policy_is_refused_before_any_call_also_in_a_dry_run() {
    let sb = demo_sandbox();
    for flags in [&[US][..], &[US, "--dry-run"][..]] {
        let out = exec(
            &sb,
            flags,
            &format!(
                "UPDATE {REPOS} SET lifecycle_policy = '{{\"rules\": 1}}' WHERE repository_name = 'k8s/pause'"
            ),
        );
        refused_without_any_call(&sb, &out, &["lifecycle_policy"]);
    }
}

#[test]
fn delete_removes_an_empty_repository_and_a_full_one_is_refused_by_ecr_with_a_hint() {
    let sb = demo_sandbox();
    ok(&exec(
        &sb,
        &[US],
        &format!("DELETE FROM {REPOS} WHERE repository_name = 'team/scratch'"),
    ));
    assert_eq!(
        changes(&sb),
        [(
            "DeleteRepository".to_string(),
            json!({"repositoryName": "team/scratch"})
        )],
        "never with force"
    );
    assert_eq!(
        us_rows(
            &sb,
            &format!("SELECT 1 FROM {REPOS} WHERE repository_name = 'team/scratch'")
        )
        .len(),
        0
    );

    let out = exec(
        &sb,
        &[US],
        &format!("DELETE FROM {REPOS} WHERE repository_name = 'k8s/pause'"),
    );
    out.expect_code(1).expect_stderr(&[
        "RepositoryNotEmptyException",
        "DELETE FROM aws.ecr.images WHERE region = 'us-east-1' AND repository_name = 'k8s/pause'",
        "no call had succeeded before it",
    ]);
    // Its images gone first (by a statement that says so), the repository goes.
    ok(&exec(
        &sb,
        &[US, "--allow-bulk"],
        &format!("DELETE FROM {IMAGES} WHERE repository_name = 'k8s/pause'"),
    ));
    ok(&exec(
        &sb,
        &[US],
        &format!("DELETE FROM {REPOS} WHERE repository_name = 'k8s/pause'"),
    ));
    assert_eq!(
        us_rows(
            &sb,
            &format!("SELECT 1 FROM {REPOS} WHERE repository_name = 'k8s/pause'")
        )
        .len(),
        0
    );
}

// ---------------------------------------------------------------------------------------------
// aws.ecr.images
// ---------------------------------------------------------------------------------------------

#[test]
fn a_pinned_repository_is_the_only_one_asked_for_its_images() {
    let sb = demo_sandbox();
    let rows = us_rows(
        &sb,
        &format!(
            "SELECT image_tags, image_size_bytes FROM {IMAGES} WHERE repository_name = 'docker-hub/library/nginx' ORDER BY image_size_bytes"
        ),
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].ends_with(",69218304"),
        "the untagged image: {rows:?}"
    );
    let log = sb.log().entries();
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0].operation, "DescribeImages");
    assert_eq!(
        log[0].parameters["repositoryName"],
        "docker-hub/library/nginx"
    );
}

#[test]
fn without_a_pinned_repository_the_repositories_are_listed_first() {
    let sb = demo_sandbox();
    let rows = us_rows(
        &sb,
        &format!("SELECT repository_name, image_digest FROM {IMAGES}"),
    );
    assert_eq!(rows.len(), 12, "{rows:?}");
    let ops = operations(&sb);
    assert_eq!(ops[0], "DescribeRepositories");
    // One DescribeImages per repository of us-east-1 (team/scratch is empty but still asked).
    assert_eq!(
        ops.iter().filter(|o| *o == "DescribeImages").count(),
        8,
        "{ops:?}"
    );
}

const OLD: &str = "last_recorded_pull_time < TIMESTAMP '2025-03-03T00:00:00Z'";

#[test]
fn an_unpinned_image_delete_needs_allow_bulk_and_a_dry_run_lists_the_batches() {
    let sb = demo_sandbox();
    let sql = format!("DELETE FROM {IMAGES} WHERE {OLD}");
    for flags in [&[US][..], &[US, "--dry-run"][..]] {
        let out = exec(&sb, flags, &sql);
        refused_without_any_call(&sb, &out, &["does not pin image_digest", "--allow-bulk"]);
    }

    let out = exec(&sb, &[US, "--dry-run", "--allow-bulk", "-o", "csv"], &sql);
    ok(&out);
    assert_eq!(out.stdout, "count\n5\n");
    assert!(changes(&sb).is_empty(), "a dry run changes nothing");
    let listed = notes(&out.stderr)
        .into_iter()
        .find(|n| n.contains("matches 5 image(s)"));
    assert!(
        listed.is_some_and(|l| l.contains("us-east-1 payments/api@sha256:7748")),
        "{}",
        out.stderr
    );
    let planned = dry_run_calls(&out.stderr);
    assert_eq!(planned.len(), 4, "one batch per repository: {planned:#?}");
    let prometheus = planned
        .iter()
        .find(|c| c.parameters["repositoryName"] == "quay/prometheus/prometheus")
        .expect("prometheus's batch");
    assert_eq!(prometheus.operation, "BatchDeleteImage");
    assert_eq!(
        prometheus.parameters["imageIds"].as_array().unwrap().len(),
        2
    );

    let out = exec(&sb, &[US, "--allow-bulk", "-o", "csv"], &sql);
    ok(&out);
    assert_eq!(out.stdout, "count\n5\n");
    let batches = changes(&sb);
    assert_eq!(batches.len(), 4);
    assert!(batches.iter().all(|(op, _)| op == "BatchDeleteImage"));
    assert_eq!(
        us_rows(&sb, &format!("SELECT 1 FROM {IMAGES} WHERE {OLD}")).len(),
        0
    );
    assert_eq!(us_rows(&sb, &format!("SELECT 1 FROM {IMAGES}")).len(), 7);
}

// ---------------------------------------------------------------------------------------------
// aws.ecr.registry
// ---------------------------------------------------------------------------------------------

#[test]
fn the_registry_is_one_row_per_region() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv", common::cli::ALL_DEMO],
        &format!("SELECT region, scan_type FROM {REGISTRY} ORDER BY region"),
    );
    ok(&out);
    assert_eq!(
        out.stdout,
        "region,scan_type\nap-southeast-2,BASIC\neu-west-1,BASIC\nus-east-1,ENHANCED\n"
    );
}

#[test]
fn registry_update_checks_its_json_before_any_call_then_puts_the_scanning_configuration() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[US],
        &format!("UPDATE {REGISTRY} SET scanning_rules = '[{{bad' WHERE region = 'eu-west-1'"),
    );
    refused_without_any_call(&sb, &out, &["scanning_rules", "is not valid JSON"]);

    ok(&exec(
        &sb,
        &[US],
        &format!("UPDATE {REGISTRY} SET scan_type = 'ENHANCED' WHERE region = 'eu-west-1'"),
    ));
    let changes = changes(&sb);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].0, "PutRegistryScanningConfiguration");
    assert_eq!(changes[0].1["scanType"], "ENHANCED");
    assert_eq!(
        changes[0].1["rules"],
        json!([{"repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}], "scanFrequency": "SCAN_ON_PUSH"}]),
        "the rules not assigned are sent as they are"
    );
}

// ---------------------------------------------------------------------------------------------
// The state file
// ---------------------------------------------------------------------------------------------

#[test]
fn repositories_and_images_persist_through_the_sandbox_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let run = |sql: &str| {
        let out = Skyql::bare()
            .args(["--sandbox-state"])
            .args([&state])
            .args(["-o", "csv", US, "--allow-bulk", "exec", sql])
            .run();
        out.expect_code(0);
        out.stdout
    };
    run(&format!(
        "INSERT INTO {REPOS} (region, repository_name) VALUES ('us-east-1', 'team/kept')"
    ));
    run(&format!(
        "DELETE FROM {IMAGES} WHERE repository_name = 'k8s/pause'"
    ));
    assert_eq!(
        run(&format!(
            "SELECT count(*) AS count FROM {REPOS} WHERE repository_name IN ('team/kept', 'k8s/pause')"
        )),
        "count\n2\n"
    );
    assert_eq!(
        run(&format!(
            "SELECT count(*) AS count FROM {IMAGES} WHERE repository_name = 'k8s/pause'"
        )),
        "count\n0\n"
    );
}
