//! `aws.ecr.repository_creation_templates` against the demo sandbox: rows, prefix pushdown, the
//! question of which pull-through cache rules no template covers, and the writes (INSERT, UPDATE,
//! DELETE, INSERT … ON CONFLICT) proven from the sandbox's request log: the exact Create, Update
//! and Delete calls, no call for a no-op, every bad value refused before any call, bulk DELETE
//! refused, and the permissions (iam:PassRole, ecr:PutLifecyclePolicy) they need.

use crate::common;

use common::cli::{
    ALL_DEMO, DEMO_REGIONS, Output, Skyql, column, demo_sandbox, exec, json_rows, notes, query,
    refused_without_any_call, rows, session, write_file,
};
use serde_json::{Value, json};
use skyql::sandbox::Sandbox;

const TEMPLATES: &str = "aws.ecr.repository_creation_templates";
const DESCRIBE: &str = "DescribeRepositoryCreationTemplates";
const CREATE: &str = "CreateRepositoryCreationTemplate";
const UPDATE: &str = "UpdateRepositoryCreationTemplate";
const DELETE: &str = "DeleteRepositoryCreationTemplate";
/// The role the writes hand to ECR.
const ROLE: &str = "arn:aws:iam::123456789012:role/ecr-templates";

/// One template write: (operation, region, JSON parameters).
type Call = (String, String, Value);

fn call(operation: &str, region: &str, parameters: Value) -> Call {
    (operation.to_string(), region.to_string(), parameters)
}

/// The template writes (Create, Update, Delete) the sandbox saw, in order.
fn writes(sb: &Sandbox) -> Vec<Call> {
    sb.log()
        .entries()
        .into_iter()
        .filter(|e| [CREATE, UPDATE, DELETE].contains(&e.operation.as_str()))
        .map(|e| (e.operation, e.region.unwrap_or_default(), e.parameters))
        .collect()
}

/// The template writes a dry run lists on stderr (`skyql:   <Operation> <region> <JSON>`).
fn planned(stderr: &str) -> Vec<Call> {
    notes(stderr)
        .into_iter()
        .filter_map(|n| n.strip_prefix("  "))
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let (operation, region) = (parts.next()?, parts.next()?);
            [CREATE, UPDATE, DELETE].contains(&operation).then(|| {
                let parameters = serde_json::from_str(parts.next().unwrap_or_default())
                    .unwrap_or_else(|e| panic!("dry-run parameters are not JSON ({e}): {line}"));
                call(operation, region, parameters)
            })
        })
        .collect()
}

/// `columns` of every template of the demo regions (read with skyql), ordered by region and
/// prefix; the reads are left out of the log.
fn templates(sb: &Sandbox, columns: &str) -> Vec<Value> {
    let out = exec(
        sb,
        &["-o", "json", ALL_DEMO],
        &format!("SELECT {columns} FROM {TEMPLATES} ORDER BY region, prefix"),
    );
    out.expect_code(0);
    sb.log().clear();
    json_rows(&out.stdout)
}

/// Asserts a successful DML run: exit 0, `count` on stdout (csv) and the one stderr note.
#[track_caller]
fn done(out: &Output, count: u64, note: &str) {
    out.expect_code(0);
    assert_eq!(out.stdout, format!("count\n{count}\n"), "{}", out.stderr);
    assert_eq!(notes(&out.stderr), [note], "{}", out.stderr);
}

/// Which pull-through cache rules have no creation template that applies to them: the template
/// of the rule's prefix, else ROOT, with PULL_THROUGH_CACHE in applied_for (the query of docs/sql.md).
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
    .expect_stderr(&["can never match a row of aws.ecr.repository_creation_templates"]);
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

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

#[test]
fn insert_update_on_conflict_and_delete_make_exactly_the_template_calls() {
    let sb = demo_sandbox();
    let csv = ["-o", "csv"];
    // INSERT: one Create with the members given, the prefix in its one spelling; nothing read.
    let out = exec(
        &sb,
        &csv,
        &format!(
            r#"INSERT INTO {TEMPLATES} (region, prefix, applied_for, custom_role_arn, lifecycle_policy) VALUES ('us-east-1', 'quay/', ['PULL_THROUGH_CACHE'], '{ROLE}', '{{"rules": []}}')"#
        ),
    );
    done(&out, 1, &format!("INSERT on {TEMPLATES}: created 1"));
    assert_eq!(
        sb.log().entries().len(),
        1,
        "one Create, no read: {:#?}",
        sb.log().entries()
    );
    assert_eq!(
        writes(&sb),
        [call(
            CREATE,
            "us-east-1",
            json!({
                "prefix": "quay",
                "appliedFor": ["PULL_THROUGH_CACHE"],
                "customRoleArn": ROLE,
                "lifecyclePolicy": r#"{"rules": []}"#,
            })
        )]
    );
    let columns = "region, prefix, description, applied_for, image_tag_mutability, custom_role_arn, lifecycle_policy";
    let quay = |description: Value, applied_for: Value, mutability: &str| {
        json!({
            "region": "us-east-1", "prefix": "quay", "description": description,
            "applied_for": applied_for, "image_tag_mutability": mutability,
            "custom_role_arn": ROLE, "lifecycle_policy": r#"{"rules": []}"#,
        })
    };
    let got = templates(&sb, columns);
    assert_eq!(
        got.iter()
            .map(|t| format!(
                "{} {}",
                t["region"].as_str().unwrap(),
                t["prefix"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        ["eu-west-1 docker-hub", "us-east-1 ROOT", "us-east-1 quay"]
    );
    assert_eq!(
        got[2],
        quay(Value::Null, json!(["PULL_THROUGH_CACHE"]), "MUTABLE")
    );

    // UPDATE: one Update with the members set; the same UPDATE again is a no-op without a call.
    let update = format!(
        "UPDATE {TEMPLATES} SET description = 'Quay mirrors', applied_for = ['PULL_THROUGH_CACHE', 'REPLICATION'] \
         WHERE region = 'us-east-1' AND prefix = 'quay'"
    );
    let out = exec(&sb, &csv, &update);
    done(&out, 1, &format!("UPDATE on {TEMPLATES}: updated 1"));
    assert_eq!(
        writes(&sb),
        [call(
            UPDATE,
            "us-east-1",
            json!({"prefix": "quay", "description": "Quay mirrors", "appliedFor": ["PULL_THROUGH_CACHE", "REPLICATION"]})
        )]
    );
    sb.log().clear();
    let out = exec(&sb, &csv, &update);
    done(&out, 0, &format!("UPDATE on {TEMPLATES}: unchanged 1"));
    assert_eq!(writes(&sb), []);
    assert_eq!(sb.log().count(DESCRIBE), 1, "the template was read");
    // Only what differs is sent (the description is already so); `quay/` pins the same template.
    sb.log().clear();
    let out = exec(
        &sb,
        &csv,
        &format!(
            "UPDATE {TEMPLATES} SET description = 'Quay mirrors', image_tag_mutability = 'IMMUTABLE' \
             WHERE region = 'us-east-1' AND prefix = 'quay/'"
        ),
    );
    done(&out, 1, &format!("UPDATE on {TEMPLATES}: updated 1"));
    assert_eq!(
        writes(&sb),
        [call(
            UPDATE,
            "us-east-1",
            json!({"prefix": "quay", "imageTagMutability": "IMMUTABLE"})
        )]
    );

    // ON CONFLICT DO UPDATE: an Update of the SET columns only (applied_for differs but is not
    // in SET); DO NOTHING: no call for the existing template, a Create for the new one.
    sb.log().clear();
    let out = exec(
        &sb,
        &csv,
        &format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, description) \
             VALUES ('us-east-1', 'quay', ['REPLICATION'], 'From the upsert') \
             ON CONFLICT (region, prefix) DO UPDATE SET description = EXCLUDED.description"
        ),
    );
    done(&out, 1, &format!("INSERT on {TEMPLATES}: updated 1"));
    assert_eq!(
        writes(&sb),
        [call(
            UPDATE,
            "us-east-1",
            json!({"prefix": "quay", "description": "From the upsert"})
        )]
    );
    sb.log().clear();
    let out = exec(
        &sb,
        &csv,
        &format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, description) VALUES \
             ('us-east-1', 'quay', ['REPLICATION'], 'ignored'), ('eu-west-1', 'ghcr', ['CREATE_ON_PUSH'], NULL) \
             ON CONFLICT DO NOTHING"
        ),
    );
    // The existing template is kept as it is, and what differs from the row is named.
    done(
        &out,
        1,
        &format!(
            "INSERT on {TEMPLATES}: created 1, skipped 1 (row 1: template 'quay' in us-east-1 \
             exists with description 'From the upsert' (the row asks for 'ignored'), applied_for \
             [\"PULL_THROUGH_CACHE\",\"REPLICATION\"] (the row asks for [\"REPLICATION\"]), \
             image_tag_mutability 'IMMUTABLE' (the row asks for the default 'MUTABLE'), \
             lifecycle_policy '{{\"rules\": []}}' (the row asks for NULL), custom_role_arn '{ROLE}' \
             (the row asks for NULL))"
        ),
    );
    assert_eq!(
        writes(&sb),
        [call(
            CREATE,
            "eu-west-1",
            json!({"prefix": "ghcr", "appliedFor": ["CREATE_ON_PUSH"]})
        )]
    );
    let got = templates(&sb, columns);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert_eq!(
        got[3],
        quay(
            json!("From the upsert"),
            json!(["PULL_THROUGH_CACHE", "REPLICATION"]),
            "IMMUTABLE"
        )
    );
    assert_eq!(got[1]["prefix"], "ghcr");

    // DELETE: one Delete per matched template; again, nothing matches and nothing is sent.
    let delete = format!(
        "DELETE FROM {TEMPLATES} WHERE region IN ('us-east-1', 'eu-west-1') \
         AND prefix IN ('quay/', 'ghcr')"
    );
    let out = exec(&sb, &csv, &delete);
    done(&out, 2, &format!("DELETE on {TEMPLATES}: deleted 2"));
    let mut deleted = writes(&sb);
    deleted.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        deleted,
        [
            call(DELETE, "eu-west-1", json!({"prefix": "ghcr"})),
            call(DELETE, "us-east-1", json!({"prefix": "quay"})),
        ]
    );
    sb.log().clear();
    let out = exec(&sb, &csv, &delete);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(writes(&sb), []);
    let got = templates(&sb, "region, prefix");
    assert_eq!(
        got,
        [
            json!({"region": "eu-west-1", "prefix": "docker-hub"}),
            json!({"region": "us-east-1", "prefix": "ROOT"}),
        ]
    );
}

#[test]
fn every_bad_value_is_refused_before_any_call_naming_row_column_and_why() {
    let sb = demo_sandbox();
    let insert = format!(
        "INSERT INTO {TEMPLATES} (region, prefix, applied_for, image_tag_mutability, \
         encryption_configuration, lifecycle_policy, custom_role_arn) VALUES \
         ('us-east-1', 'good', ['PULL_THROUGH_CACHE'], NULL, NULL, NULL, NULL), \
         ('us-east-1', 'Bad Prefix', ['PULL_THROUGH_CACHE'], NULL, NULL, NULL, NULL), \
         ('us-east-1', 't3', ['NOPE'], NULL, NULL, NULL, NULL), \
         ('us-east-1', 't4', ['PULL_THROUGH_CACHE'], 'SOMETIMES', NULL, NULL, NULL), \
         ('us-east-1', 't5', ['PULL_THROUGH_CACHE'], NULL, '{{\"kmsKey\":\"x\"}}', NULL, NULL), \
         ('us-east-1', 't6', ['PULL_THROUGH_CACHE'], NULL, NULL, '{{not json', NULL), \
         ('us-east-1', 't7', ['PULL_THROUGH_CACHE'], NULL, NULL, NULL, 'arn:aws:iam::123:user/x'), \
         ('us-east-1', 't8', NULL, NULL, NULL, NULL, NULL), \
         ('us-east-1', 't9', [], NULL, NULL, NULL, NULL), \
         ('us-east-9', 't10', ['REPLICATION'], NULL, NULL, NULL, NULL), \
         ('us-east-1', 'good/', ['REPLICATION'], NULL, NULL, NULL, NULL)"
    );
    let problems = [
        "10 problem(s) in the rows; nothing was sent",
        "row 2: prefix: 'Bad Prefix': must satisfy regular expression pattern",
        r#"row 3: applied_for: ["NOPE"]: item 1: must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]"#,
        "row 4: image_tag_mutability: 'SOMETIMES': must satisfy enum value set",
        r#"row 5: encryption_configuration: {"kmsKey":"x"}: needs the string member encryptionType"#,
        "row 6: lifecycle_policy: '{not json' is not valid JSON",
        "row 7: custom_role_arn: 'arn:aws:iam::123:user/x' is not an IAM role ARN",
        "row 8: applied_for: is required",
        "row 9: applied_for: []: must have length greater than or equal to 1",
        "row 10: region: unknown region 'us-east-9'",
        // `good/` is `good`.
        "rows 1 and 11 both ask for template 'good' in us-east-1",
    ];
    // The dry run fails where the real run fails; neither makes a single request.
    for flags in [&[][..], &["--dry-run"][..]] {
        let out = exec(&sb, flags, &insert);
        refused_without_any_call(&sb, &out, &problems);
        assert!(!out.stderr.contains("row 1:"), "{}", out.stderr);
    }
    let out = exec(
        &sb,
        &[],
        &format!(
            r#"INSERT INTO {TEMPLATES} (region, prefix, applied_for, registry_id, created_at, description, resource_tags, repository_policy, image_tag_mutability_exclusion_filters) VALUES ('us-east-1', NULL, ['REPLICATION'], '123456789012', now(), repeat('x', 257), '[{{"Key":"team"}}]', '[1', '[{{"filterType":"WILDCARD","filter":""}}]')"#
        ),
    );
    refused_without_any_call(
        &sb,
        &out,
        &[
            "7 problem(s) in the rows; nothing was sent",
            "row 1: prefix: is required",
            "row 1: registry_id: is set by AWS and cannot be given",
            "row 1: created_at: is set by AWS and cannot be given",
            "row 1: description: 'xxx",
            "must have length less than or equal to 256",
            r#"row 1: resource_tags: [{"Key":"team"}]: item 1: needs the string member Value"#,
            "row 1: repository_policy: '[1' is not valid JSON",
            "row 1: image_tag_mutability_exclusion_filters:",
            "must have length greater than or equal to 1",
        ],
    );

    // UPDATE: a constant refused at planning, for the dry run too.
    let update = format!(
        "UPDATE {TEMPLATES} SET image_tag_mutability = 'SOMETIMES', lifecycle_policy = '{{not json', \
         applied_for = ['NOPE'] WHERE region = 'us-east-1' AND prefix = 'ROOT'"
    );
    for flags in [&[][..], &["--dry-run"][..]] {
        let out = exec(&sb, flags, &update);
        refused_without_any_call(
            &sb,
            &out,
            &[
                "3 problem(s)",
                "nothing was sent",
                "image_tag_mutability: 'SOMETIMES': must satisfy enum value set",
                "lifecycle_policy: '{not json' is not valid JSON",
                r#"applied_for: ["NOPE"]: item 1: must satisfy enum value set"#,
            ],
        );
    }
    for (set, words) in [
        (
            "registry_id = '123456789012'",
            &[
                "registry_id cannot change in place",
                "UPDATE can set only description, applied_for,",
                "(UpdateRepositoryCreationTemplate)",
            ][..],
        ),
        ("prefix = 'other'", &["prefix cannot change in place"][..]),
        (
            "created_at = now()",
            &["created_at cannot change in place"][..],
        ),
        (
            "description = NULL",
            &["description cannot be set to NULL", "cannot remove it"][..],
        ),
    ] {
        let sql =
            format!("UPDATE {TEMPLATES} SET {set} WHERE region = 'us-east-1' AND prefix = 'ROOT'");
        refused_without_any_call(&sb, &exec(&sb, &[], &sql), words);
    }
    let merge = format!(
        "MERGE INTO {TEMPLATES} t USING (SELECT 'us-east-1' AS region, 'ROOT' AS prefix) s \
         ON t.region = s.region AND t.prefix = s.prefix WHEN MATCHED THEN UPDATE SET registry_id = 'x'"
    );
    refused_without_any_call(
        &sb,
        &exec(&sb, &[], &merge),
        &["MERGE … UPDATE SET registry_id: only", "change in place"],
    );

    // A value computed per template is refused once the template is read: exit 1 (something
    // was sent), no write.
    let out = exec(
        &sb,
        &[],
        &format!(
            "UPDATE {TEMPLATES} SET description = repeat('x', 300) || prefix \
             WHERE region = 'us-east-1' AND prefix = 'ROOT'"
        ),
    );
    out.expect_code(1).expect_stderr(&[
        "description: 'xxx",
        "must have length less than or equal to 256",
        "found after 1 request(s)",
    ]);
    assert_eq!(sb.log().count(DESCRIBE), 1);
    assert_eq!(writes(&sb), []);
    let got = templates(&sb, "prefix, description");
    assert_eq!(
        got[1]["description"],
        "Every repository pull-through cache creates without a more specific template"
    );
}

#[test]
fn a_delete_that_does_not_pin_prefix_is_refused_and_a_dry_run_lists_what_it_matches() {
    let sb = demo_sandbox();
    let delete = format!("DELETE FROM {TEMPLATES} WHERE region = 'us-east-1'");
    for flags in [&[][..], &["--dry-run"][..]] {
        refused_without_any_call(
            &sb,
            &exec(&sb, flags, &delete),
            &[
                "DELETE does not pin prefix",
                "--allow-bulk",
                "nothing was sent",
            ],
        );
    }
    // With --allow-bulk the dry run lists the matches and the calls; it only reads.
    let out = exec(&sb, &["--dry-run", "--allow-bulk", "-o", "csv"], &delete);
    out.expect_code(0).expect_stderr(&[
        "DELETE without pinned identifiers matches 1 template(s): us-east-1 ROOT",
        &format!(
            "dry run: DELETE on {TEMPLATES} would make 1 call(s) (delete 1); nothing was changed"
        ),
    ]);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        planned(&out.stderr),
        [call(DELETE, "us-east-1", json!({"prefix": "ROOT"}))]
    );
    assert_eq!(writes(&sb), []);
    // Dry runs of INSERT and UPDATE: the planned calls, no write (INSERT reads nothing).
    sb.log().clear();
    let out = exec(
        &sb,
        &["--dry-run", "-o", "csv"],
        &format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, custom_role_arn) \
             VALUES ('eu-west-1', 'team/a/', ['CREATE_ON_PUSH'], '{ROLE}')"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        planned(&out.stderr),
        [call(
            CREATE,
            "eu-west-1",
            json!({"prefix": "team/a", "appliedFor": ["CREATE_ON_PUSH"], "customRoleArn": ROLE})
        )]
    );
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
    let out = exec(
        &sb,
        &["--dry-run", "-o", "csv"],
        &format!(
            "UPDATE {TEMPLATES} SET description = 'x' WHERE region = 'eu-west-1' AND prefix = 'docker-hub'"
        ),
    );
    out.expect_code(0);
    assert_eq!(
        planned(&out.stderr),
        [call(
            UPDATE,
            "eu-west-1",
            json!({"prefix": "docker-hub", "description": "x"})
        )]
    );
    assert_eq!(writes(&sb), []);
    // The real bulk DELETE with --allow-bulk: it says what it matched, then exactly the one
    // Delete; eu-west-1 untouched.
    sb.log().clear();
    let out = exec(&sb, &["--allow-bulk", "-o", "csv"], &delete);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        notes(&out.stderr),
        [
            "DELETE without pinned identifiers matches 1 template(s): us-east-1 ROOT".to_string(),
            format!("DELETE on {TEMPLATES}: deleted 1"),
        ]
    );
    assert_eq!(
        writes(&sb),
        [call(DELETE, "us-east-1", json!({"prefix": "ROOT"}))]
    );
    assert_eq!(
        templates(&sb, "region, prefix"),
        [json!({"region": "eu-west-1", "prefix": "docker-hub"})]
    );
}

#[test]
fn write_permissions_name_pass_role_on_the_role_and_put_lifecycle_policy_only_with_a_policy() {
    let sb = demo_sandbox();
    /// action → resources, from EXPLAIN PERMISSIONS.
    fn explain(sb: &Sandbox, sql: &str) -> Vec<(String, String)> {
        let out = exec(sb, &["-o", "json"], &format!("EXPLAIN PERMISSIONS {sql}"));
        out.expect_code(0);
        let mut got: Vec<(String, String)> = json_rows(&out.stdout)
            .iter()
            .map(|r| {
                let reason = r["reason"].as_str().unwrap();
                assert!(reason.contains(TEMPLATES), "{r}");
                (
                    r["action"].as_str().unwrap().to_string(),
                    r["resource"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        got.dedup();
        got
    }
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, r)| (a.to_string(), r.to_string()))
            .collect()
    };
    let with_policy = format!(
        r#"INSERT INTO {TEMPLATES} (region, prefix, applied_for, custom_role_arn, lifecycle_policy) VALUES ('us-east-1', 'quay', ['PULL_THROUGH_CACHE'], '{ROLE}', '{{"rules": []}}')"#
    );
    assert_eq!(
        explain(&sb, &with_policy),
        pairs(&[
            ("ecr:CreateRepository", "*"),
            ("ecr:CreateRepositoryCreationTemplate", "*"),
            ("ecr:PutLifecyclePolicy", "*"),
            ("iam:PassRole", ROLE),
        ])
    );
    // A plain INSERT reads nothing; ON CONFLICT reads the templates first, as its dry run shows.
    assert_eq!(
        explain(
            &sb,
            &format!("{with_policy} ON CONFLICT (region, prefix) DO NOTHING")
        ),
        pairs(&[
            ("ecr:CreateRepository", "*"),
            ("ecr:CreateRepositoryCreationTemplate", "*"),
            ("ecr:DescribeRepositoryCreationTemplate", "*"),
            ("ecr:PutLifecyclePolicy", "*"),
            ("iam:PassRole", ROLE),
        ])
    );
    // Neither a role nor a lifecycle policy: neither PassRole nor PutLifecyclePolicy.
    assert_eq!(
        explain(
            &sb,
            &format!(
                "INSERT INTO {TEMPLATES} (region, prefix, applied_for) VALUES ('us-east-1', 'quay', ['PULL_THROUGH_CACHE'])"
            )
        ),
        pairs(&[
            ("ecr:CreateRepository", "*"),
            ("ecr:CreateRepositoryCreationTemplate", "*"),
        ])
    );
    let other = "arn:aws:iam::123456789012:role/other";
    assert_eq!(
        explain(
            &sb,
            &format!(
                "UPDATE {TEMPLATES} SET custom_role_arn = '{other}' WHERE region = 'eu-west-1' AND prefix = 'docker-hub'"
            )
        ),
        pairs(&[
            ("ecr:DescribeRepositoryCreationTemplate", "*"),
            ("ecr:UpdateRepositoryCreationTemplate", "*"),
            ("iam:PassRole", other),
        ])
    );
    assert_eq!(
        explain(
            &sb,
            &format!(
                "UPDATE {TEMPLATES} SET lifecycle_policy = '{{}}' WHERE region = 'eu-west-1' AND prefix = 'docker-hub'"
            )
        ),
        pairs(&[
            ("ecr:DescribeRepositoryCreationTemplate", "*"),
            ("ecr:PutLifecyclePolicy", "*"),
            ("ecr:UpdateRepositoryCreationTemplate", "*"),
        ])
    );
    assert_eq!(
        explain(
            &sb,
            &format!(
                "DELETE FROM {TEMPLATES} WHERE region = 'eu-west-1' AND prefix = 'docker-hub'"
            )
        ),
        pairs(&[
            ("ecr:DeleteRepositoryCreationTemplate", "*"),
            ("ecr:DescribeRepositoryCreationTemplate", "*"),
        ])
    );
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());

    // `skyql permissions` on a script: one policy, PassRole on exactly the role, the writes
    // conditioned on the regions they act in.
    let skyql = Skyql::new(&sb);
    let script = write_file(
        &skyql.home_dir(),
        "templates.sql",
        &format!(
            "{with_policy};\nDELETE FROM {TEMPLATES} WHERE region = 'eu-west-1' AND prefix = 'docker-hub';\n"
        ),
    );
    let out = skyql.args(["permissions", "-f"]).args([&script]).run();
    out.expect_code(0)
        .expect_stderr(&["2 statement(s) need 6 action(s)"]);
    let doc: Value = serde_json::from_str(&out.stdout).expect("one JSON policy");
    let statements = doc["Statement"].as_array().expect("statements");
    let of = |action: &str| {
        statements
            .iter()
            .find(|s| s["Action"].as_array().unwrap().iter().any(|a| a == action))
            .unwrap_or_else(|| panic!("{action} in {doc:#}"))
    };
    assert_eq!(of("iam:PassRole")["Resource"], ROLE);
    assert_eq!(of("iam:PassRole")["Action"], json!(["iam:PassRole"]));
    let region_of =
        |action: &str| of(action)["Condition"]["StringEquals"]["aws:RequestedRegion"].clone();
    assert_eq!(region_of("ecr:PutLifecyclePolicy"), json!(["us-east-1"]));
    assert_eq!(
        region_of("ecr:CreateRepositoryCreationTemplate"),
        json!(["us-east-1"])
    );
    assert_eq!(
        region_of("ecr:DeleteRepositoryCreationTemplate"),
        json!(["eu-west-1"])
    );
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[test]
fn a_rerun_of_the_same_upsert_converges_without_a_write() {
    let sb = demo_sandbox();
    let upsert = format!(
        r#"INSERT INTO {TEMPLATES} (region, prefix, description, applied_for, image_tag_mutability,
             image_tag_mutability_exclusion_filters, encryption_configuration, resource_tags,
             repository_policy, lifecycle_policy, custom_role_arn)
           VALUES ('eu-west-1', 'team-a/', 'Team A', ['CREATE_ON_PUSH', 'REPLICATION'], 'IMMUTABLE_WITH_EXCLUSION',
             '[{{"filterType":"WILDCARD","filter":"latest"}}]',
             '{{"encryptionType":"KMS","kmsKey":"arn:aws:kms:eu-west-1:123456789012:key/abc"}}',
             '[{{"Key":"team","Value":"a"}}]', '{{"Version":"2012-10-17","Statement":[]}}', '{{"rules": []}}', '{ROLE}'),
             ('eu-west-1', 'docker-hub', 'Docker Hub, managed here', ['PULL_THROUGH_CACHE'], 'IMMUTABLE',
             NULL, NULL, NULL, NULL, NULL, NULL)
           ON CONFLICT (region, prefix) DO UPDATE SET description = EXCLUDED.description,
             applied_for = EXCLUDED.applied_for, image_tag_mutability = EXCLUDED.image_tag_mutability"#
    );
    let out = exec(&sb, &["-o", "csv"], &upsert);
    done(
        &out,
        2,
        &format!("INSERT on {TEMPLATES}: created 1, updated 1"),
    );
    let mut first: Vec<String> = writes(&sb)
        .iter()
        .map(|(op, _, p)| format!("{op} {}", p["prefix"]))
        .collect();
    first.sort();
    assert_eq!(
        first,
        [
            format!("{CREATE} \"team-a\""),
            format!("{UPDATE} \"docker-hub\"")
        ]
    );
    let before = templates(&sb, "*");
    // The second run reads, finds every value already so, and writes nothing.
    let out = exec(&sb, &["-o", "csv"], &upsert);
    done(&out, 0, &format!("INSERT on {TEMPLATES}: unchanged 2"));
    assert_eq!(writes(&sb), []);
    assert_eq!(sb.log().count(DESCRIBE), 1, "{:#?}", sb.log().entries());
    assert_eq!(templates(&sb, "*"), before);
}

#[test]
fn a_null_in_an_upsert_keeps_only_what_ecr_fills_and_is_refused_elsewhere() {
    // One rule for every table: a NULL in an ON CONFLICT DO UPDATE row asks for no value. Where
    // ECR fills a value a Create leaves out (the schema's `default`: tag mutability, encryption,
    // tags), the NULL keeps it, as the Create would have; where it does not (the description),
    // the Update cannot remove a value, so the statement is refused before any write.
    let sb = demo_sandbox();
    let upsert = |description: &str| {
        format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, description, image_tag_mutability, \
               encryption_configuration, resource_tags) \
             VALUES ('us-east-1', 'ROOT', ['PULL_THROUGH_CACHE'], {description}, NULL, NULL, NULL) \
             ON CONFLICT (region, prefix) DO UPDATE SET description = EXCLUDED.description, \
               image_tag_mutability = EXCLUDED.image_tag_mutability, \
               encryption_configuration = EXCLUDED.encryption_configuration, \
               resource_tags = EXCLUDED.resource_tags"
        )
    };
    let before = templates(&sb, "*");
    let out = exec(&sb, &["-o", "csv"], &upsert("NULL"));
    // Exit 1, not 2: the template was read (one Describe) before the NULL could be judged.
    out.expect_code(1).expect_stderr(&[
        "row 1: cannot set description of template 'ROOT' in us-east-1 to NULL",
        "UpdateRepositoryCreationTemplate replaces a value but cannot remove it",
        "no change was made",
    ]);
    assert_eq!(out.stdout, "");
    assert_eq!(writes(&sb), []);
    let out = exec(&sb, &["-o", "csv"], &upsert("'Every repository, now'"));
    done(&out, 1, &format!("INSERT on {TEMPLATES}: updated 1"));
    assert_eq!(
        writes(&sb),
        [call(
            UPDATE,
            "us-east-1",
            json!({"prefix": "ROOT", "description": "Every repository, now"})
        )]
    );
    let after = templates(
        &sb,
        "region, prefix, image_tag_mutability, encryption_configuration, resource_tags",
    );
    assert!(
        after.contains(
            &json!({"region": "us-east-1", "prefix": "ROOT", "image_tag_mutability": "MUTABLE",
            "encryption_configuration": "{\"encryptionType\":\"AES256\"}", "resource_tags": "[]"})
        ),
        "{after:#?}"
    );
    assert_ne!(templates(&sb, "*"), before);
}

#[test]
fn a_patch_document_updates_a_template_as_stackql_writes_it() {
    // stackql's update form works on every writable table: the patch's fields are the members
    // (a nested one patched as its structure), and only what it changes is sent.
    let sb = demo_sandbox();
    let patch = r#"[{"op":"replace","path":"/Description","value":"Every cached repository"},
                    {"op":"add","path":"/ResourceTags/-","value":{"Key":"team","Value":"platform"}}]"#;
    let sql = format!(
        "UPDATE {TEMPLATES} SET data__PatchDocument = '{patch}' WHERE region = 'us-east-1' AND prefix = 'ROOT'"
    );
    let out = exec(&sb, &["-o", "csv"], &sql);
    done(&out, 1, &format!("UPDATE on {TEMPLATES}: updated 1"));
    assert_eq!(
        writes(&sb),
        [call(
            UPDATE,
            "us-east-1",
            json!({"prefix": "ROOT", "description": "Every cached repository",
                   "resourceTags": [{"Key": "team", "Value": "platform"}]})
        )]
    );
    // A patch that writes what AWS sets is refused before any call.
    let sb = demo_sandbox();
    let bad = format!(
        r#"UPDATE {TEMPLATES} SET data__PatchDocument = '[{{"op":"replace","path":"/RegistryId","value":"1"}}]' WHERE region = 'us-east-1' AND prefix = 'ROOT'"#
    );
    refused_without_any_call(
        &sb,
        &exec(&sb, &[], &bad),
        &["/RegistryId (registry_id)", "cannot change in place"],
    );
}

#[test]
fn a_csv_export_fed_back_with_on_conflict_changes_nothing() {
    // The export spells a list column as JSON text (applied_for) and holds ECR's empty list
    // where ECR takes none (exclusion filters); fed back, both read as what they mean, and
    // the upsert converges without a write. So does the export with its columns in reverse
    // order, as a spreadsheet may save it: the header's names pair the columns.
    let sb = demo_sandbox();
    let reversed = [
        "updated_at",
        "created_at",
        "custom_role_arn",
        "lifecycle_policy",
        "repository_policy",
        "resource_tags",
        "encryption_configuration",
        "image_tag_mutability_exclusion_filters",
        "image_tag_mutability",
        "applied_for",
        "description",
        "prefix",
        "registry_id",
        "region",
    ]
    .join(", ");
    let dir = tempfile::TempDir::new().unwrap();
    // The reversed export, fed back below as another account's.
    let mut exported = String::new();
    for columns in ["*", reversed.as_str()] {
        let export = exec(
            &sb,
            &["-o", "csv", ALL_DEMO],
            &format!("SELECT {columns} FROM {TEMPLATES}"),
        );
        export.expect_code(0);
        assert!(
            export.stdout.contains(r#""[""PULL_THROUGH_CACHE""]""#),
            "{}",
            export.stdout
        );
        let file = write_file(dir.path(), "templates.csv", &export.stdout);
        exported = export.stdout.clone();
        sb.log().clear();
        let out = exec(
            &sb,
            &["-o", "csv", ALL_DEMO],
            &format!(
                "INSERT INTO {TEMPLATES} SELECT * FROM '{}' ON CONFLICT (region, prefix) DO UPDATE SET \
                 description = EXCLUDED.description, applied_for = EXCLUDED.applied_for, \
                 image_tag_mutability_exclusion_filters = EXCLUDED.image_tag_mutability_exclusion_filters, \
                 resource_tags = EXCLUDED.resource_tags, encryption_configuration = EXCLUDED.encryption_configuration, \
                 lifecycle_policy = EXCLUDED.lifecycle_policy, repository_policy = EXCLUDED.repository_policy",
                file.display()
            ),
        );
        done(&out, 0, &format!("INSERT on {TEMPLATES}: unchanged 2"));
        assert_eq!(writes(&sb), []);
    }

    // An export of another account's registry is not this one's: its registry_id must be the
    // template's own, so the upsert is refused once the template is read, with no write.
    let other = exported.replace("123456789012", "111122223333");
    let file = write_file(dir.path(), "other.csv", &other);
    let out = exec(
        &sb,
        &["-o", "csv", ALL_DEMO],
        &format!(
            "INSERT INTO {TEMPLATES} SELECT * FROM '{}' ON CONFLICT (region, prefix) DO UPDATE SET \
             description = EXCLUDED.description",
            file.display()
        ),
    );
    out.expect_code(1).expect_stderr(&[
        "registry_id: '111122223333' differs from the template's current '123456789012'",
        "a read-only column may repeat the current value (as an export does) or be left empty",
    ]);
    assert_eq!(writes(&sb), []);
}

#[test]
fn the_template_quota_is_reported_and_never_retried() {
    // ECR's LimitExceededException is a quota on every operation, not throttling: the one
    // Create is reported, where the SDK alone would retry it.
    let mut config = skyql::sandbox::SandboxConfig::default();
    let full: Vec<Value> = (0..50)
        .map(|i| json!({"prefix": format!("team-{i:02}"), "appliedFor": ["PULL_THROUGH_CACHE"]}))
        .collect();
    config.templates.insert("us-east-1".into(), full);
    let sb = common::start(config);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for) VALUES ('us-east-1', 'one-more', ['PULL_THROUGH_CACHE'])"
        ),
    );
    out.expect_code(1)
        .expect_stderr(&["LimitExceededException", "no call had succeeded before it"]);
    let creates: Vec<_> = (sb.log().entries().into_iter())
        .filter(|e| e.operation == CREATE)
        .map(|e| e.error_code)
        .collect();
    assert_eq!(
        creates,
        [Some("LimitExceededException".to_string())],
        "one Create"
    );
}

#[test]
fn a_template_delete_whose_response_was_lost_succeeded() {
    // The engine settles it for every resource: a retried Delete answered with the schema's
    // `not_found` (TemplateNotFoundException) had committed.
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.lose_responses = vec![DELETE.into()];
    let sb = common::start(config);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {TEMPLATES} WHERE region = 'eu-west-1' AND prefix = 'docker-hub'"),
    );
    out.expect_code(0)
        .expect_stderr(&["response was lost", "found it done"]);
    assert_eq!(out.stdout, "count\n1\n");
    let deletes: Vec<u16> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == DELETE)
        .map(|e| e.status)
        .collect();
    assert_eq!(deletes, [500, 400]);
    assert_eq!(
        templates(&sb, "region, prefix"),
        [json!({"region": "us-east-1", "prefix": "ROOT"})]
    );
}

#[test]
fn a_template_create_whose_response_was_lost_succeeded() {
    // The first Create commits and loses its response (500); the SDK's retry is answered with
    // the schema's `already_exists` (TemplateAlreadyExistsException). The engine reads the
    // template back through its reader: it holds every member sent (ECR added its defaults),
    // so the INSERT succeeded, and a re-run changes nothing.
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config.lose_responses = vec![CREATE.into()];
    let sb = common::start(config);
    let insert = format!(
        "INSERT INTO {TEMPLATES} (region, prefix, applied_for, description) \
         VALUES ('us-east-1', 'lost', ['PULL_THROUGH_CACHE'], 'after a lost response')"
    );
    let out = exec(&sb, &["-o", "csv"], &insert);
    out.expect_code(0)
        .expect_stderr(&["response was lost", "found it done"]);
    assert_eq!(out.stdout, "count\n1\n");
    let statuses: Vec<(String, u16)> = sb
        .log()
        .entries()
        .into_iter()
        .map(|e| (e.operation, e.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (CREATE.to_string(), 500),
            (CREATE.to_string(), 400),
            (DESCRIBE.to_string(), 200)
        ]
    );
    let found = templates(&sb, "prefix, description, image_tag_mutability");
    assert!(
        found.contains(&json!({"prefix": "lost", "description": "after a lost response", "image_tag_mutability": "MUTABLE"})),
        "{found:#?}"
    );
    // The same INSERT again: the template exists, no response is lost, and it is refused.
    sb.log().clear();
    exec(&sb, &[], &insert)
        .expect_code(1)
        .expect_stderr(&["TemplateAlreadyExistsException", "no call had succeeded"]);
}

/// A MERGE converging the templates of us-east-1 and eu-west-1 to two rows each, from `source`.
fn merge_templates(source: &str, insert_applied_for: &str) -> String {
    format!(
        "MERGE INTO {TEMPLATES} t USING ({source}) s \
         ON t.region = s.region AND t.prefix = s.prefix \
         WHEN MATCHED THEN UPDATE SET description = s.description \
         WHEN NOT MATCHED THEN INSERT (region, prefix, description, applied_for) \
           VALUES (s.region, s.prefix, s.description, {insert_applied_for}) \
         WHEN NOT MATCHED BY SOURCE THEN DELETE"
    )
}

/// The desired templates, in this order (VALUES keeps it; a UNION's branches may come in any).
const DESIRED_TEMPLATES: &str = "\
    SELECT column1 AS region, column2 AS prefix, column3 AS description FROM (VALUES \
    ('us-east-1', 'ROOT', 'Every repository, managed'), \
    ('us-east-1', 'quay', 'Quay mirrors'), \
    ('eu-west-1', 'ghcr', 'GitHub mirrors'))";

#[test]
fn merge_converges_the_templates_of_the_source_regions_and_a_rerun_changes_nothing() {
    let sb = demo_sandbox();
    let merge = merge_templates(DESIRED_TEMPLATES, "['PULL_THROUGH_CACHE']");
    // NOT MATCHED BY SOURCE … DELETE is bulk: refused without --allow-bulk, before any call.
    refused_without_any_call(&sb, &exec(&sb, &[], &merge), &["--allow-bulk"]);
    // The dry run lists the calls the run then makes: deletes first, then updates, creates.
    let out = exec(&sb, &["--dry-run", "--allow-bulk"], &merge);
    out.expect_code(0);
    let expected = [
        call(DELETE, "eu-west-1", json!({"prefix": "docker-hub"})),
        call(
            UPDATE,
            "us-east-1",
            json!({"prefix": "ROOT", "description": "Every repository, managed"}),
        ),
        call(
            CREATE,
            "us-east-1",
            json!({"prefix": "quay", "description": "Quay mirrors", "appliedFor": ["PULL_THROUGH_CACHE"]}),
        ),
        call(
            CREATE,
            "eu-west-1",
            json!({"prefix": "ghcr", "description": "GitHub mirrors", "appliedFor": ["PULL_THROUGH_CACHE"]}),
        ),
    ];
    let mut planned_calls = planned(&out.stderr);
    let mut want = expected.to_vec();
    // The creates follow the source's row order, the deletes and updates the target's.
    planned_calls.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(planned_calls, want, "{}", out.stderr);
    assert_eq!(writes(&sb), []);
    sb.log().clear();
    let out = exec(&sb, &["-o", "csv", "--allow-bulk"], &merge);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n4\n", "{}", out.stderr);
    let mut made = writes(&sb);
    made.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(made, want);
    assert_eq!(writes(&sb)[0].0, DELETE, "deletes run first");
    assert_eq!(
        templates(&sb, "region, prefix, description"),
        [
            json!({"region": "eu-west-1", "prefix": "ghcr", "description": "GitHub mirrors"}),
            json!({"region": "us-east-1", "prefix": "ROOT", "description": "Every repository, managed"}),
            json!({"region": "us-east-1", "prefix": "quay", "description": "Quay mirrors"}),
        ]
    );
    // Converged: the same MERGE reads and writes nothing.
    let out = exec(&sb, &["-o", "csv", "--allow-bulk"], &merge);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n", "{}", out.stderr);
    assert_eq!(writes(&sb), []);
}

#[test]
fn a_merge_with_a_bad_value_writes_nothing_and_names_it() {
    let sb = demo_sandbox();
    // A constant is checked while the MERGE is planned: exit 2, no request, also dry.
    let constant = merge_templates(DESIRED_TEMPLATES, "['NOPE']");
    for flags in [&["--allow-bulk"][..], &["--allow-bulk", "--dry-run"][..]] {
        refused_without_any_call(
            &sb,
            &exec(&sb, flags, &constant),
            &[
                "applied_for",
                "NOPE",
                "must satisfy enum value set",
                "nothing was sent",
            ],
        );
    }
    // A value from the source is known only when the source is read, after the target: exit
    // 1, the source row named, no write.
    let long = "SELECT column1 AS region, column2 AS prefix, column3 AS description FROM (VALUES \
         ('us-east-1', 'ROOT', 'fine'), ('us-east-1', 'quay', repeat('x', 300)))";
    let out = exec(
        &sb,
        &["--allow-bulk"],
        &merge_templates(long, "['PULL_THROUGH_CACHE']"),
    );
    out.expect_code(1).expect_stderr(&[
        "row 2: description",
        "must have length less than or equal to 256",
    ]);
    assert_eq!(writes(&sb), []);
}

#[test]
fn a_write_whose_where_cannot_be_decided_first_is_refused_or_reads_nothing() {
    let sb = demo_sandbox();
    // A subquery: refused before any call, pointing at this table's identifier and at MERGE,
    // also under --dry-run.
    let subquery = format!(
        "DELETE FROM {TEMPLATES} WHERE prefix IN \
         (SELECT ecr_repository_prefix FROM aws.ecr.pull_through_cache_rules)"
    );
    for flags in [&[][..], &["--dry-run"][..]] {
        let out = exec(&sb, flags, &subquery);
        out.expect_code(2).expect_stderr(&[
            "a subquery in the WHERE of DELETE is not supported",
            "(WHERE prefix IN ('a', 'b')), or converge the table with MERGE … USING (SELECT …)",
        ]);
        assert!(sb.log().is_empty(), "{:#?}", sb.log().entries());
    }
    // A WHERE the planner folds to false reads no region and writes nothing.
    for sql in [
        format!("DELETE FROM {TEMPLATES} WHERE 1 = 0"),
        format!("UPDATE {TEMPLATES} SET description = 'x' WHERE prefix = 'ROOT' AND prefix = 'x'"),
    ] {
        let out = exec(&sb, &["-o", "csv"], &sql);
        out.expect_code(0)
            .expect_stderr(&["matches no row: its WHERE is always false"]);
        assert_eq!(out.stdout, "count\n0\n");
        assert!(sb.log().is_empty(), "{:#?}", sb.log().entries());
    }
}

#[test]
fn a_value_of_another_type_is_refused_in_every_write_before_any_call() {
    // A number or boolean for text, a string for a list: INSERT refused them, and every other
    // write (UPDATE SET, ON CONFLICT DO UPDATE, MERGE's UPDATE SET and INSERT, a JSON Patch)
    // refuses them too instead of sending "5", "true" or "1500.0". Also in a dry run.
    let root = "WHERE region = 'us-east-1' AND prefix = 'ROOT'";
    let patch = |op: &str| format!("UPDATE {TEMPLATES} SET data__PatchDocument = '[{op}]' {root}");
    let merge = |clause: &str| {
        format!(
            "MERGE INTO {TEMPLATES} t USING (VALUES ('us-east-1', 'ROOT'), ('us-east-1', 'new-one')) \
             s(region, prefix) ON t.region = s.region AND t.prefix = s.prefix {clause}"
        )
    };
    let cases = [
        (
            format!("UPDATE {TEMPLATES} SET description = 5 {root}"),
            "description: 5 is not text: write it as a string ('5')",
        ),
        (
            format!("UPDATE {TEMPLATES} SET description = true {root}"),
            "description: true is not text",
        ),
        (
            format!("UPDATE {TEMPLATES} SET description = 1.5e3 {root}"),
            "description: 1500 is not text",
        ),
        (
            format!("UPDATE {TEMPLATES} SET applied_for = 'REPLICATION' {root}"),
            "applied_for: 'REPLICATION' is text where a list is expected: write ['REPLICATION']",
        ),
        (
            format!(
                "INSERT INTO {TEMPLATES} (region, prefix, applied_for, description) VALUES \
                 ('us-east-1', 'ROOT', ['PULL_THROUGH_CACHE'], 5) \
                 ON CONFLICT DO UPDATE SET description = EXCLUDED.description"
            ),
            "description: 5 is not text",
        ),
        (
            merge("WHEN MATCHED THEN UPDATE SET description = 5"),
            "description: 5 is not text",
        ),
        (
            merge(
                "WHEN NOT MATCHED THEN INSERT (region, prefix, applied_for, description) \
                 VALUES (s.region, s.prefix, ['REPLICATION'], true)",
            ),
            "description: true is not text",
        ),
        (
            patch(r#"{"op":"replace","path":"/Description","value":5}"#),
            r#"data__PatchDocument sets /Description to 5: it must be a string (such as "5")"#,
        ),
        (
            patch(r#"{"op":"replace","path":"/AppliedFor","value":"REPLICATION"}"#),
            r#"sets /AppliedFor to "REPLICATION": it must be a list of strings (such as ["REPLICATION"])"#,
        ),
        (
            patch(r#"{"op":"add","path":"/ResourceTags","value":5}"#),
            "resource_tags: 5: must be a list",
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

#[test]
fn a_patch_document_sets_a_list_column_as_a_list() {
    // A list field takes a list (it was refused as "must be a string"), or an item appended.
    let sb = demo_sandbox();
    let sql = |op: &str| {
        format!(
            "UPDATE {TEMPLATES} SET data__PatchDocument = '[{op}]' \
             WHERE region = 'us-east-1' AND prefix = 'ROOT'"
        )
    };
    let out = exec(
        &sb,
        &["-o", "csv"],
        &sql(r#"{"op":"add","path":"/AppliedFor/-","value":"REPLICATION"}"#),
    );
    done(&out, 1, &format!("UPDATE on {TEMPLATES}: updated 1"));
    let replaced = r#"{"op":"replace","path":"/AppliedFor","value":["CREATE_ON_PUSH"]}"#;
    let out = exec(&sb, &["-o", "csv"], &sql(replaced));
    done(&out, 1, &format!("UPDATE on {TEMPLATES}: updated 1"));
    assert_eq!(
        writes(&sb),
        [
            call(
                UPDATE,
                "us-east-1",
                json!({"prefix": "ROOT", "appliedFor": ["PULL_THROUGH_CACHE", "REPLICATION"]})
            ),
            call(
                UPDATE,
                "us-east-1",
                json!({"prefix": "ROOT", "appliedFor": ["CREATE_ON_PUSH"]})
            )
        ]
    );
}

#[test]
fn a_custom_role_of_another_account_is_refused_before_any_change() {
    // ECR takes a template's role only from the registry's account. The account is known from
    // the templates a statement reads anyway (registry_id): an UPDATE's, an upsert's, a
    // MERGE's target. It is refused there, before any write, and the dry run fails the same.
    let other = "arn:aws:iam::999999999999:role/ecr-templates";
    let refusal = format!(
        "custom_role_arn: '{other}' is in account 999999999999, but the registry is account \
         123456789012 (the registry_id read): ECR takes it only from the registry's account"
    );
    let statements = [
        format!(
            "UPDATE {TEMPLATES} SET custom_role_arn = '{other}' \
             WHERE region = 'eu-west-1' AND prefix = 'docker-hub'"
        ),
        format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, custom_role_arn) VALUES \
             ('eu-west-1', 'docker-hub', ['PULL_THROUGH_CACHE'], '{other}') \
             ON CONFLICT DO UPDATE SET custom_role_arn = EXCLUDED.custom_role_arn"
        ),
        // A new template, in a region whose read shows the registry's account.
        format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, custom_role_arn) VALUES \
             ('eu-west-1', 'docker-hub', ['PULL_THROUGH_CACHE'], NULL), \
             ('eu-west-1', 'quay', ['PULL_THROUGH_CACHE'], '{other}') ON CONFLICT DO NOTHING"
        ),
        format!(
            "MERGE INTO {TEMPLATES} t USING (VALUES ('eu-west-1', 'quay')) s(region, prefix) \
             ON t.region = s.region AND t.prefix = s.prefix WHEN NOT MATCHED THEN \
             INSERT (region, prefix, applied_for, custom_role_arn) \
             VALUES (s.region, s.prefix, ['PULL_THROUGH_CACHE'], '{other}')"
        ),
    ];
    for sql in &statements {
        for flags in [&[][..], &["--dry-run"]] {
            let sb = demo_sandbox();
            let out = exec(&sb, flags, sql);
            out.expect_code(1)
                .expect_stderr(&[&refusal, "no change was made by this statement"]);
            assert_eq!(writes(&sb), [], "{sql}");
        }
    }
    // A plain INSERT reads nothing, so the account is not known before its Create; two
    // accounts among its values are, though: one registry cannot take both.
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["--dry-run"],
        &format!(
            "INSERT INTO {TEMPLATES} (region, prefix, applied_for, custom_role_arn) VALUES \
             ('eu-west-1', 'quay', ['PULL_THROUGH_CACHE'], '{other}'), \
             ('us-east-1', 'quay', ['PULL_THROUGH_CACHE'], '{ROLE}')"
        ),
    );
    refused_without_any_call(
        &sb,
        &out,
        &[&format!(
            "row 2: custom_role_arn: '{ROLE}' is in account 123456789012, but row 1's \
             custom_role_arn is in account 999999999999, and a statement writes one registry"
        )],
    );
}
