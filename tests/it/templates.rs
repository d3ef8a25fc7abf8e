//! `aws.ecr.repository_creation_templates` (read-only) against the demo sandbox: rows, prefix
//! pushdown, DML refused before any call, permissions, and the question of which pull-through
//! cache rules no template covers.

use crate::common;

use common::cli::{DEMO_REGIONS, column, demo_sandbox, exec, query, rows, session};

const TEMPLATES: &str = "aws.ecr.repository_creation_templates";
const DESCRIBE: &str = "DescribeRepositoryCreationTemplates";

/// Which pull-through cache rules have no creation template that applies to them: the template
/// of the rule's prefix, else ROOT, with PULL_THROUGH_CACHE in applied_for (README's query).
pub const RULES_WITHOUT_TEMPLATE: &str = "\
SELECT r.region, r.ecr_repository_prefix
FROM aws.ecr.pull_through_cache_rules r
WHERE NOT EXISTS (
  SELECT 1 FROM aws.ecr.repository_creation_templates t
  WHERE t.region = r.region
    AND t.prefix IN (r.ecr_repository_prefix, 'ROOT')
    AND array_has(t.applied_for, 'PULL_THROUGH_CACHE'))
ORDER BY 1, 2";

#[tokio::test]
async fn the_demo_templates_are_rows_with_typed_and_json_columns() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT region, prefix, applied_for, image_tag_mutability, encryption_configuration, \
             resource_tags, created_at FROM {TEMPLATES} ORDER BY region"
        ),
    )
    .await;
    let got = rows(&r);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[0][..4],
        [
            "eu-west-1",
            "docker-hub",
            "[PULL_THROUGH_CACHE]",
            "IMMUTABLE_WITH_EXCLUSION"
        ]
    );
    assert!(
        got[0][4].contains(r#""encryptionType":"KMS""#),
        "{}",
        got[0][4]
    );
    assert!(
        got[0][5].contains(r#"{"Key":"team","Value":"platform"}"#),
        "{}",
        got[0][5]
    );
    assert_eq!(
        got[1][..4],
        ["us-east-1", "ROOT", "[PULL_THROUGH_CACHE]", "MUTABLE"]
    );
    assert_eq!(got[1][6], "2025-06-01T12:00:00Z");
    // One listing per region.
    assert_eq!(sb.log().count(DESCRIBE), DEMO_REGIONS.len());
}

#[tokio::test]
async fn a_prefix_in_where_is_sent_as_prefixes_and_a_trailing_slash_is_one_template() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!("SELECT region, prefix FROM {TEMPLATES} WHERE region = 'eu-west-1' AND prefix = 'docker-hub/'"),
    )
    .await;
    assert_eq!(rows(&r), [["eu-west-1", "docker-hub"]]);
    let calls = sb.log().entries();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(
        calls[0].parameters["prefixes"],
        serde_json::json!(["docker-hub"])
    );
    // A prefix that breaks ECR's pattern is refused before any call.
    sb.log().clear();
    exec(
        &sb,
        &[],
        &format!("SELECT * FROM {TEMPLATES} WHERE prefix = 'Bad Prefix'"),
    )
    .expect_code(2)
    .expect_stderr(&["can never match a repository creation template"]);
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn writes_are_refused_before_any_call_naming_what_the_table_supports() {
    let sb = demo_sandbox();
    for sql in [
        format!("DELETE FROM {TEMPLATES} WHERE region = 'us-east-1' AND prefix = 'ROOT'"),
        format!("INSERT INTO {TEMPLATES} (region, prefix) VALUES ('us-east-1', 'team')"),
        format!(
            "UPDATE {TEMPLATES} SET description = 'x' WHERE region = 'us-east-1' AND prefix = 'ROOT'"
        ),
    ] {
        exec(&sb, &[], &sql).expect_code(2).expect_stderr(&[
            "repository_creation_templates does not support",
            "it supports SELECT",
        ]);
    }
    assert_eq!(sb.log().len(), 0);
}

#[test]
fn permissions_name_the_describe_action() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("EXPLAIN PERMISSIONS SELECT * FROM {TEMPLATES}"),
    );
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("ecr:DescribeRepositoryCreationTemplate,*,"),
        "{}",
        out.stdout
    );
    assert_eq!(sb.log().len(), 0);
}

#[tokio::test]
async fn rules_without_a_creation_template_are_found_with_one_query() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(&s, RULES_WITHOUT_TEMPLATE).await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    // us-east-1 has a ROOT template for pull through cache; eu-west-1 covers docker-hub only;
    // ap-southeast-2 has none.
    let got: Vec<String> = rows(&r).iter().map(|r| r.join(" ")).collect();
    assert_eq!(
        got,
        [
            "ap-southeast-2 acr",
            "ap-southeast-2 ecr-public",
            "ap-southeast-2 quay",
            "eu-west-1 ecr-public",
            "eu-west-1 gitlab",
            "eu-west-1 prod-mirror",
        ]
    );
    let covered = query(
        &s,
        &format!("SELECT count(*) AS n FROM {TEMPLATES} WHERE array_has(applied_for, 'PULL_THROUGH_CACHE')"),
    )
    .await;
    assert_eq!(column(&covered, "n"), ["2"]);
}

#[tokio::test]
async fn star_over_a_join_leaves_out_the_lazy_columns_of_each_table() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT * FROM aws.ecr.pull_through_cache_rules r JOIN {TEMPLATES} t \
             ON t.region = r.region AND t.prefix = r.ecr_repository_prefix"
        ),
    )
    .await;
    let names: Vec<&str> = r
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names.len(), 10 + 14, "{names:?}");
    assert!(!names.contains(&"is_valid") && !names.contains(&"validation_failure"));
    assert_eq!(column(&r, "prefix"), ["docker-hub"]);
    assert_eq!(sb.log().count("ValidatePullThroughCacheRule"), 0);
}
