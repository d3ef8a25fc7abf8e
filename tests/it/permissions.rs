//! `EXPLAIN PERMISSIONS <statement>` and `skyql permissions`: the IAM permissions a statement or
//! script needs, derived from the plan against the sandbox without a single AWS call.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::cli::{
    ALL_DEMO, Output, RULES, Skyql, demo_sandbox, exec, json_rows, notes, write_file,
};
use common::secret_arn;
use serde_json::{Value, json};
use skyql::sandbox::Sandbox;

const POLICY: &str = "aws.ecr.registry_policy";
const STATEMENTS: &str = "aws.ecr.registry_policy_statements";
const SLR_SUFFIX: &str =
    "role/aws-service-role/pullthroughcache.ecr.amazonaws.com/AWSServiceRoleForECRPullThroughCache";
const ROLE: &str = "arn:aws:iam::123456789012:role/ecr-upstream";

/// One `EXPLAIN PERMISSIONS` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    action: String,
    resource: String,
    reason: String,
}

/// Runs `EXPLAIN PERMISSIONS <sql>` with `flags` and returns its rows; the run must succeed.
fn explain_with(sb: &Sandbox, flags: &[&str], sql: &str) -> Vec<Row> {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(flags);
    let out = exec(sb, &all, &format!("EXPLAIN PERMISSIONS {sql}"));
    out.expect_code(0);
    json_rows(&out.stdout)
        .into_iter()
        .map(|r| {
            let keys: Vec<&String> = r.as_object().expect("an object").keys().collect();
            assert_eq!(keys.len(), 3, "columns action, resource, reason: {r}");
            let text = |k: &str| {
                r[k].as_str()
                    .unwrap_or_else(|| panic!("{k}: {r}"))
                    .to_string()
            };
            Row {
                action: text("action"),
                resource: text("resource"),
                reason: text("reason"),
            }
        })
        .collect()
}

fn explain(sb: &Sandbox, sql: &str) -> Vec<Row> {
    explain_with(sb, &[], sql)
}

/// The distinct actions of some rows, sorted.
fn actions(rows: &[Row]) -> Vec<&str> {
    rows.iter()
        .map(|r| r.action.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The resources of one action, sorted.
fn resources_of<'a>(rows: &'a [Row], action: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = rows
        .iter()
        .filter(|r| r.action == action)
        .map(|r| r.resource.as_str())
        .collect();
    out.sort();
    out
}

/// The demo regions a reason names.
fn regions_named(reason: &str) -> Vec<&'static str> {
    ["ap-southeast-2", "eu-west-1", "us-east-1"]
        .into_iter()
        .filter(|r| reason.contains(r))
        .collect()
}

/// Asserts that a row's reason names its verb and table, and exactly `regions` of the demo's.
#[track_caller]
fn reason_names(row: &Row, verb: &str, table: &str, regions: &[&str]) {
    assert!(
        row.reason.starts_with(&format!("{verb} {table}")),
        "verb and table: {row:?}"
    );
    assert_eq!(regions_named(&row.reason), regions, "regions: {row:?}");
}

/// Asserts that the sandbox saw no call at all.
#[track_caller]
fn no_call(sb: &Sandbox) {
    assert_eq!(sb.log().len(), 0, "no call: {:#?}", sb.log().entries());
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN PERMISSIONS on the rule tables
// ---------------------------------------------------------------------------------------------

#[test]
fn select_of_rules_needs_only_describe() {
    let sb = demo_sandbox();
    for sql in [
        format!("SELECT ecr_repository_prefix, upstream_registry_url FROM {RULES}"),
        format!("SELECT count(*) FROM {RULES} WHERE region = 'eu-west-1'"),
        format!("SELECT region FROM {RULES} WHERE ecr_repository_prefix = 'quay'"),
    ] {
        let rows = explain(&sb, &sql);
        assert_eq!(
            rows.iter()
                .map(|r| (r.action.as_str(), r.resource.as_str()))
                .collect::<Vec<_>>(),
            vec![("ecr:DescribePullThroughCacheRules", "*")],
            "{sql}"
        );
        let region: &[&str] = if sql.contains("eu-west-1") {
            &["eu-west-1"]
        } else {
            &["us-east-1"]
        };
        reason_names(&rows[0], "SELECT", RULES, region);
    }
    no_call(&sb);
}

#[test]
fn selecting_or_filtering_validation_adds_validate() {
    let sb = demo_sandbox();
    for sql in [
        format!("SELECT ecr_repository_prefix, is_valid FROM {RULES}"),
        format!("SELECT ecr_repository_prefix FROM {RULES} WHERE validation_failure IS NOT NULL"),
        format!("SELECT *, is_valid FROM {RULES}"),
    ] {
        let rows = explain(&sb, &sql);
        assert_eq!(
            actions(&rows),
            [
                "ecr:DescribePullThroughCacheRules",
                "ecr:ValidatePullThroughCacheRule"
            ],
            "{sql}"
        );
        let validate = rows
            .iter()
            .find(|r| r.action == "ecr:ValidatePullThroughCacheRule")
            .unwrap();
        assert_eq!(validate.resource, "*");
        assert!(
            validate.reason.contains("is_valid or validation_failure"),
            "{validate:?}"
        );
    }
    // `*` leaves the lazy columns out, and with them their call.
    let rows = explain(&sb, &format!("SELECT * FROM {RULES}"));
    assert_eq!(actions(&rows), ["ecr:DescribePullThroughCacheRules"]);
    no_call(&sb);
}

#[test]
fn insert_of_a_rule_without_credential() {
    let sb = demo_sandbox();
    let rows = explain(
        &sb,
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) \
             VALUES ('eu-west-1', 'quay2', 'quay.io')"
        ),
    );
    assert_eq!(
        actions(&rows),
        [
            "ecr:CreatePullThroughCacheRule",
            "ecr:DescribePullThroughCacheRules",
            "iam:CreateServiceLinkedRole"
        ]
    );
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let slr = resources_of(&rows, "iam:CreateServiceLinkedRole");
    assert_eq!(slr.len(), 1);
    assert!(slr[0].starts_with("arn:aws:iam::"), "{slr:?}");
    assert!(slr[0].ends_with(SLR_SUFFIX), "{slr:?}");
    assert!(slr[0].ends_with("AWSServiceRoleForECRPullThroughCache"));
    for r in &rows {
        if r.action.starts_with("ecr:") {
            assert_eq!(r.resource, "*", "{r:?}");
        }
        reason_names(r, "INSERT", RULES, &["eu-west-1"]);
    }
    assert!(
        !rows
            .iter()
            .any(|r| r.action == "secretsmanager:GetSecretValue" || r.action == "iam:PassRole"),
        "no credential, no role: {rows:#?}"
    );
    no_call(&sb);
}

#[test]
fn insert_with_a_credential_needs_get_secret_value_on_exactly_that_secret() {
    let sb = demo_sandbox();
    let secret = secret_arn("us-east-1", "docker-hub-2");
    let rows = explain(
        &sb,
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) \
             VALUES ('us-east-1', 'dh2', 'registry-1.docker.io', '{secret}')"
        ),
    );
    assert_eq!(
        actions(&rows),
        [
            "ecr:CreatePullThroughCacheRule",
            "ecr:DescribePullThroughCacheRules",
            "iam:CreateServiceLinkedRole",
            "secretsmanager:GetSecretValue"
        ]
    );
    assert_eq!(
        resources_of(&rows, "secretsmanager:GetSecretValue"),
        [secret.as_str()]
    );
    let why = rows
        .iter()
        .find(|r| r.action == "secretsmanager:GetSecretValue")
        .unwrap();
    assert!(why.reason.contains("credential_arn"), "{why:?}");

    // Two rows, two secrets, two regions: each secret on its own, both regions named.
    let eu = secret_arn("eu-west-1", "ghcr-2");
    let rows = explain(
        &sb,
        &format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) VALUES \
             ('us-east-1', 'dh2', 'registry-1.docker.io', '{secret}'), \
             ('eu-west-1', 'gh2', 'ghcr.io', '{eu}'), \
             ('eu-west-1', 'q2', 'quay.io', NULL)"
        ),
    );
    let mut both = vec![secret.as_str(), eu.as_str()];
    both.sort();
    assert_eq!(resources_of(&rows, "secretsmanager:GetSecretValue"), both);
    for r in &rows {
        reason_names(r, "INSERT", RULES, &["eu-west-1", "us-east-1"]);
    }
    no_call(&sb);
}

#[test]
fn update_of_custom_role_needs_pass_role_on_that_role() {
    let sb = demo_sandbox();
    let rows = explain(
        &sb,
        &format!(
            "UPDATE {RULES} SET custom_role_arn = '{ROLE}' \
             WHERE region = 'eu-west-1' AND ecr_repository_prefix = 'ecr-mirror'"
        ),
    );
    assert_eq!(
        actions(&rows),
        [
            "ecr:DescribePullThroughCacheRules",
            "ecr:UpdatePullThroughCacheRule",
            "iam:PassRole"
        ]
    );
    assert_eq!(resources_of(&rows, "iam:PassRole"), [ROLE]);
    for r in &rows {
        reason_names(r, "UPDATE", RULES, &["eu-west-1"]);
    }

    // A credential instead: GetSecretValue on it, no PassRole.
    let secret = secret_arn("us-east-1", "rotated");
    let rows = explain(
        &sb,
        &format!(
            "UPDATE {RULES} SET credential_arn = '{secret}' WHERE ecr_repository_prefix = 'docker-hub'"
        ),
    );
    assert_eq!(
        actions(&rows),
        [
            "ecr:DescribePullThroughCacheRules",
            "ecr:UpdatePullThroughCacheRule",
            "secretsmanager:GetSecretValue"
        ]
    );
    assert_eq!(
        resources_of(&rows, "secretsmanager:GetSecretValue"),
        [secret.as_str()]
    );
    no_call(&sb);
}

#[test]
fn delete_of_rules_needs_describe_and_delete_in_the_pinned_regions() {
    let sb = demo_sandbox();
    let rows = explain(
        &sb,
        &format!(
            "DELETE FROM {RULES} WHERE region IN ('us-east-1', 'ap-southeast-2') AND ecr_repository_prefix = 'quay'"
        ),
    );
    assert_eq!(
        rows.iter()
            .map(|r| (r.action.as_str(), r.resource.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("ecr:DeletePullThroughCacheRule", "*"),
            ("ecr:DescribePullThroughCacheRules", "*"),
        ]
    );
    for r in &rows {
        reason_names(r, "DELETE", RULES, &["ap-southeast-2", "us-east-1"]);
    }
    no_call(&sb);
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN PERMISSIONS on the registry policy tables
// ---------------------------------------------------------------------------------------------

#[test]
fn registry_policy_statements_need_what_their_methods_declare() {
    let sb = demo_sandbox();
    let get = "ecr:GetRegistryPolicy";
    let put = "ecr:PutRegistryPolicy";
    let del = "ecr:DeleteRegistryPolicy";
    let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:DescribeImages","Resource":"*"}]}"#;
    let cases: Vec<(String, Vec<&str>, &[&str])> = vec![
        (
            format!("SELECT * FROM {POLICY} WHERE region IN ('us-east-1', 'eu-west-1')"),
            vec![get],
            &["eu-west-1", "us-east-1"],
        ),
        (
            format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{text}')"),
            vec![get, put],
            &["eu-west-1"],
        ),
        (
            format!(
                "INSERT INTO {POLICY} (region, policy_text) VALUES ('us-east-1', '{text}') \
                 ON CONFLICT DO UPDATE SET policy_text = EXCLUDED.policy_text"
            ),
            vec![get, put],
            &["us-east-1"],
        ),
        (
            format!("UPDATE {POLICY} SET policy_text = '{text}' WHERE region = 'ap-southeast-2'"),
            vec![get, put],
            &["ap-southeast-2"],
        ),
        (
            format!("DELETE FROM {POLICY} WHERE region = 'eu-west-1'"),
            vec![del, get],
            &["eu-west-1"],
        ),
        (
            format!(
                "SELECT region, sid FROM {STATEMENTS} WHERE array_has(actions, 'ecr:BatchImportUpstreamImage')"
            ),
            vec![get],
            &["us-east-1"],
        ),
        (
            format!(
                "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) VALUES \
                 ('ap-southeast-2', 'A', ['111122223333'], ['ecr:DescribeImages'], ['*'])"
            ),
            vec![get, put],
            &["ap-southeast-2"],
        ),
        (
            format!(
                "UPDATE {STATEMENTS} SET actions = ['ecr:*'] \
                 WHERE region = 'us-east-1' AND sid = 'PullThroughCacheFromReadOnlyRole'"
            ),
            vec![get, put],
            &["us-east-1"],
        ),
        (
            format!("DELETE FROM {STATEMENTS} WHERE region = 'eu-west-1' AND sid = 'A'"),
            vec![del, get, put],
            &["eu-west-1"],
        ),
    ];
    let mut failures = Vec::new();
    for (sql, expected, regions) in &cases {
        let rows = explain(&sb, sql);
        if actions(&rows) != *expected {
            failures.push(format!("{sql}\n  actions {:?}", actions(&rows)));
        }
        if rows.len() != expected.len() {
            failures.push(format!("{sql}\n  {} rows: {rows:#?}", rows.len()));
        }
        for r in &rows {
            if r.resource != "*" {
                failures.push(format!("{sql}\n  resource of {r:?}"));
            }
            if regions_named(&r.reason) != *regions {
                failures.push(format!(
                    "{sql}\n  reason names other regions than {regions:?}: {r:?}"
                ));
            }
            let verb = sql.split_whitespace().next().unwrap();
            let table = if sql.contains(STATEMENTS) {
                STATEMENTS
            } else {
                POLICY
            };
            if !r.reason.starts_with(&format!("{verb} {table}")) {
                failures.push(format!("{sql}\n  reason lacks the verb and table: {r:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The reasons are the declared ones.
    let rows = explain(
        &sb,
        &format!("DELETE FROM {STATEMENTS} WHERE region = 'eu-west-1' AND sid = 'A'"),
    );
    let delete = rows.iter().find(|r| r.action == del).unwrap();
    assert!(
        delete.reason.contains("when its last statement goes"),
        "{delete:?}"
    );
    no_call(&sb);
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN PERMISSIONS calls nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn explain_permissions_makes_no_call_even_where_the_statement_would() {
    let sb = demo_sandbox();
    let statements = [
        format!("SELECT * FROM {RULES}"),
        format!("SELECT * FROM {POLICY}"),
        format!("DELETE FROM {RULES}"),
        format!("DELETE FROM {STATEMENTS}"),
        format!("UPDATE {POLICY} SET policy_text = '{{}}'"),
        format!(
            "INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url) VALUES ('eu-west-1', 'q9', 'quay.io')"
        ),
        format!(
            "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) VALUES \
             ('us-east-1', 'A', ['111122223333'], ['ecr:DescribeImages'], ['*'])"
        ),
        format!(
            "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) \
             SELECT region, sid || 'Copy', principals, actions, resources FROM {STATEMENTS}"
        ),
        format!(
            "UPDATE {RULES} SET credential_arn = '{}' WHERE is_valid = false",
            secret_arn("us-east-1", "rotated")
        ),
    ];
    for sql in &statements {
        let rows = explain_with(&sb, &[ALL_DEMO], sql);
        assert!(!rows.is_empty(), "{sql}: explained");
        no_call(&sb);
    }
    // An unpinned DELETE is explained, not refused (it would be refused when run).
    let rows = explain_with(&sb, &[ALL_DEMO], &format!("DELETE FROM {STATEMENTS}"));
    assert_eq!(
        actions(&rows),
        [
            "ecr:DeleteRegistryPolicy",
            "ecr:GetRegistryPolicy",
            "ecr:PutRegistryPolicy"
        ]
    );
    for r in &rows {
        reason_names(
            r,
            "DELETE",
            STATEMENTS,
            &["ap-southeast-2", "eu-west-1", "us-east-1"],
        );
    }
    let out = exec(&sb, &[ALL_DEMO], &format!("DELETE FROM {STATEMENTS}"));
    out.expect_code(2).expect_stderr(&["does not pin sid"]);
    no_call(&sb);

    // The same as one script, mixed with EXPLAIN PERMISSIONS in lower case.
    let script = statements
        .iter()
        .map(|s| format!("explain permissions {s};"))
        .collect::<Vec<_>>()
        .join("\n");
    // csv is one table: the explanations of all statements share its columns and header.
    let out = exec(&sb, &["-o", "csv", ALL_DEMO], &script);
    out.expect_code(0);
    assert_eq!(
        out.stdout.matches("action,resource,reason\n").count(),
        1,
        "{}",
        out.stdout
    );
    for s in &statements {
        let verb = s.split_whitespace().next().unwrap();
        assert!(
            out.stdout.contains(&format!("\"{verb} ")),
            "{verb}: {}",
            out.stdout
        );
    }
    no_call(&sb);
}

#[test]
fn explain_permissions_in_a_script_explains_only_its_statement() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "ndjson"],
        &format!(
            "EXPLAIN PERMISSIONS DELETE FROM {STATEMENTS} WHERE sid = 'PullThroughCacheFromReadOnlyRole';\n\
             SELECT count(*) AS n FROM {STATEMENTS}"
        ),
    );
    out.expect_code(0);
    assert!(
        out.stdout.ends_with("{\"n\":1}\n"),
        "the SELECT ran and the DELETE did not: {}",
        out.stdout
    );
    let log = sb.log().entries();
    assert_eq!(log.len(), 1, "only the SELECT called: {log:#?}");
    assert_eq!(log[0].operation, "GetRegistryPolicy");
}

// ---------------------------------------------------------------------------------------------
// skyql permissions -f script.sql
// ---------------------------------------------------------------------------------------------

/// Runs `skyql permissions -f <script>` against `sb` with `flags`.
fn permissions(sb: &Sandbox, flags: &[&str], script: &str) -> Output {
    let skyql = Skyql::new(sb);
    let path = write_file(&skyql.home_dir(), "script.sql", script);
    skyql
        .args(flags)
        .args(["permissions", "-f"])
        .args([&path])
        .run()
}

/// The one JSON document on stdout.
fn document(out: &Output) -> Value {
    out.expect_code(0);
    let mut stream = serde_json::Deserializer::from_str(&out.stdout).into_iter::<Value>();
    let doc = stream
        .next()
        .expect("a document")
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", out.stdout));
    assert!(
        stream.next().is_none(),
        "exactly one document: {}",
        out.stdout
    );
    doc
}

/// Checks the shape every policy must have and answers action → (Resource, regions of its
/// aws:RequestedRegion condition).
fn check_policy_shape(doc: &Value) -> BTreeMap<String, (Value, Option<Vec<String>>)> {
    assert_eq!(doc["Version"], "2012-10-17", "{doc:#}");
    let statements = doc["Statement"].as_array().expect("Statement is a list");
    assert!(!statements.is_empty());
    let mut by_action = BTreeMap::new();
    let mut firsts = Vec::new();
    for s in statements {
        assert_eq!(s["Effect"], "Allow", "{s}");
        let keys: BTreeSet<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(
            keys.is_subset(&BTreeSet::from([
                "Effect",
                "Action",
                "Resource",
                "Condition"
            ])),
            "{s}"
        );
        let list: Vec<String> = s["Action"]
            .as_array()
            .expect("Action is a list")
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let mut sorted = list.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(list, sorted, "actions sorted and unique: {s}");
        firsts.push(list[0].clone());
        let regions = s.get("Condition").map(|c| {
            let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["StringEquals"], "{s}");
            let list: Vec<String> = c["StringEquals"]["aws:RequestedRegion"]
                .as_array()
                .unwrap_or_else(|| panic!("aws:RequestedRegion list: {s}"))
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            let mut sorted = list.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(list, sorted, "{s}");
            list
        });
        match &s["Resource"] {
            Value::String(r) if r == "*" => {}
            Value::String(_) => assert!(regions.is_none(), "{s}"),
            Value::Array(rs) => {
                assert!(rs.len() > 1, "one resource is a string: {s}");
                assert!(regions.is_none(), "{s}");
            }
            other => panic!("Resource {other}"),
        }
        for a in list {
            let previous = by_action.insert(a.clone(), (s["Resource"].clone(), regions.clone()));
            assert!(previous.is_none(), "{a} appears twice in {doc:#}");
        }
    }
    let mut sorted = firsts.clone();
    sorted.sort();
    assert_eq!(firsts, sorted, "statements are ordered by their actions");
    by_action
}

fn regions(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|r| r.to_string()).collect())
}

#[test]
fn permissions_prints_one_least_privilege_policy_for_a_script() {
    let sb = demo_sandbox();
    let secret = secret_arn("us-east-1", "docker-hub-2");
    let script = format!(
        "-- reads, a rule with a credential, a role, statements and a whole policy\n\
         SELECT ecr_repository_prefix FROM {RULES} WHERE region = 'eu-west-1';\n\
         INSERT INTO {RULES} (region, ecr_repository_prefix, upstream_registry_url, credential_arn) \
           VALUES ('us-east-1', 'dh2', 'registry-1.docker.io', '{secret}');\n\
         UPDATE {RULES} SET custom_role_arn = '{ROLE}' \
           WHERE region = 'eu-west-1' AND ecr_repository_prefix = 'ecr-mirror';\n\
         INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) \
           VALUES ('ap-southeast-2', 'A', ['111122223333'], ['ecr:DescribeImages'], ['*']);\n\
         DELETE FROM {POLICY} WHERE region = 'eu-west-1';\n"
    );
    let out = permissions(&sb, &[], &script);
    let doc = document(&out);
    let by_action = check_policy_shape(&doc);
    let star = json!("*");
    let expected: BTreeMap<String, (Value, Option<Vec<String>>)> = [
        (
            "ecr:CreatePullThroughCacheRule",
            (star.clone(), regions(&["us-east-1"])),
        ),
        (
            "ecr:DescribePullThroughCacheRules",
            (star.clone(), regions(&["eu-west-1", "us-east-1"])),
        ),
        (
            "ecr:UpdatePullThroughCacheRule",
            (star.clone(), regions(&["eu-west-1"])),
        ),
        (
            "ecr:GetRegistryPolicy",
            (star.clone(), regions(&["ap-southeast-2", "eu-west-1"])),
        ),
        (
            "ecr:PutRegistryPolicy",
            (star.clone(), regions(&["ap-southeast-2"])),
        ),
        (
            "ecr:DeleteRegistryPolicy",
            (star.clone(), regions(&["eu-west-1"])),
        ),
        (
            "iam:CreateServiceLinkedRole",
            (json!(format!("arn:aws:iam::*:{SLR_SUFFIX}")), None),
        ),
        ("iam:PassRole", (json!(ROLE), None)),
        ("secretsmanager:GetSecretValue", (json!(secret), None)),
    ]
    .into_iter()
    .map(|(a, v)| (a.to_string(), v))
    .collect();
    assert_eq!(by_action, expected, "{doc:#}");
    // Every region the script touches, and no other, appears in the conditions.
    let touched: BTreeSet<String> = by_action
        .values()
        .filter_map(|(_, r)| r.clone())
        .flatten()
        .collect();
    assert_eq!(
        touched,
        BTreeSet::from(["ap-southeast-2", "eu-west-1", "us-east-1"].map(String::from))
    );
    // The summary is on stderr only.
    assert!(!out.stdout.contains("skyql"), "{}", out.stdout);
    assert_eq!(
        notes(&out.stderr),
        ["5 statement(s) need 9 action(s) in 8 policy statement(s); \
             EXPLAIN PERMISSIONS <statement> says why each is needed"],
        "{}",
        out.stderr
    );
    no_call(&sb);
}

#[test]
fn permissions_of_a_script_in_one_region_name_only_that_region() {
    let sb = demo_sandbox();
    let script = format!(
        "SELECT * FROM {POLICY};\n\
         SELECT region, sid FROM {STATEMENTS};\n\
         UPDATE {STATEMENTS} SET actions = ['ecr:BatchImportUpstreamImage'] WHERE sid = 'PullThroughCacheFromReadOnlyRole';\n\
         SELECT ecr_repository_prefix FROM {RULES};"
    );
    let out = permissions(&sb, &[], &script);
    let doc = document(&out);
    let by_action = check_policy_shape(&doc);
    let only_us = regions(&["us-east-1"]);
    assert_eq!(
        by_action.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "ecr:DescribePullThroughCacheRules",
            "ecr:GetRegistryPolicy",
            "ecr:PutRegistryPolicy"
        ]
    );
    for (action, (resource, r)) in &by_action {
        assert_eq!(resource, "*", "{action}");
        assert_eq!(r, &only_us, "{action}");
    }
    // All three share their resource and region, so they are one statement.
    assert_eq!(doc["Statement"].as_array().unwrap().len(), 1, "{doc:#}");

    // --regions widens the reads of unpinned statements.
    let out = permissions(&sb, &[ALL_DEMO], &script);
    let by_action = check_policy_shape(&document(&out));
    assert_eq!(
        by_action["ecr:GetRegistryPolicy"].1,
        regions(&["ap-southeast-2", "eu-west-1", "us-east-1"])
    );
    no_call(&sb);
}

#[test]
fn permissions_reads_stdin_and_the_argument_too() {
    let sb = demo_sandbox();
    let sql = format!("SELECT * FROM {POLICY} WHERE region = 'eu-west-1'");
    let from_stdin = Skyql::new(&sb)
        .args(["permissions", "-f", "-"])
        .stdin(&sql)
        .run();
    let from_arg = Skyql::new(&sb).args(["permissions", &sql]).run();
    let expected = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["ecr:GetRegistryPolicy"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
        }]
    });
    assert_eq!(document(&from_stdin), expected);
    assert_eq!(document(&from_arg), expected);
    no_call(&sb);
}

#[test]
fn permissions_refuses_a_script_with_a_syntax_error() {
    let sb = demo_sandbox();
    let out = permissions(
        &sb,
        &[],
        &format!("SELECT * FROM {POLICY};\nDELETE FROM {STATEMENTS} WHERE sid = ;"),
    );
    out.expect_code(2)
        .expect_stderr(&["syntax error", "Line: 2"]);
    assert_eq!(out.stdout, "", "no policy on stdout");
    no_call(&sb);
}

#[test]
fn permissions_refuses_an_unknown_table() {
    let sb = demo_sandbox();
    let out = permissions(
        &sb,
        &[],
        &format!("SELECT * FROM {POLICY};\nSELECT * FROM aws.ecr.registry_policy_statement;"),
    );
    out.expect_code(2).expect_stderr(&[
        "statement 2",
        "aws.ecr.registry_policy_statement",
        "not found",
        "Did you mean 'aws.ecr.registry_policy_statements'",
    ]);
    assert_eq!(out.stdout, "", "no policy on stdout");
    no_call(&sb);
}

#[test]
fn permissions_refuses_a_script_without_sql() {
    let sb = demo_sandbox();
    let out = permissions(&sb, &[], "-- nothing here\n");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    no_call(&sb);
}

// ---------------------------------------------------------------------------------------------
// Regions the rows decide
// ---------------------------------------------------------------------------------------------

#[test]
fn rows_with_a_defaulted_region_need_permissions_in_the_default_region() {
    let sb = demo_sandbox();
    let sql = format!(
        "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) VALUES \
         ('eu-west-1', 'A', ['111122223333'], ['ecr:DescribeImages'], ['*']), \
         (NULL, 'B', ['111122223333'], ['ecr:DescribeImages'], ['*'])"
    );
    // The statement writes both regions (AWS_REGION=us-east-1 is the default).
    let dry = exec(&sb, &["--dry-run"], &sql);
    dry.expect_code(0);
    assert!(
        dry.stderr.contains("PutRegistryPolicy us-east-1"),
        "{}",
        dry.stderr
    );
    assert!(
        dry.stderr.contains("PutRegistryPolicy eu-west-1"),
        "{}",
        dry.stderr
    );
    sb.log().clear();
    let rows = explain(&sb, &sql);
    for r in &rows {
        reason_names(r, "INSERT", STATEMENTS, &["eu-west-1", "us-east-1"]);
    }
    let by_action = check_policy_shape(&document(&permissions(&sb, &[], &format!("{sql};"))));
    assert_eq!(
        by_action["ecr:PutRegistryPolicy"].1,
        regions(&["eu-west-1", "us-east-1"])
    );
    no_call(&sb);
}

#[test]
fn insert_select_is_not_narrowed_to_the_default_region() {
    let sb = demo_sandbox();
    let sql = format!(
        "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) \
         SELECT 'eu-west-1', sid, principals, actions, ['*'] FROM {STATEMENTS} WHERE region = 'us-east-1'"
    );
    let by_action = check_policy_shape(&document(&permissions(&sb, &[], &format!("{sql};"))));
    // Either not narrowed at all (the regions are known only when run) or narrowed to a set
    // that includes the region written.
    match &by_action["ecr:PutRegistryPolicy"].1 {
        None => {}
        Some(list) => assert!(
            list.iter().any(|r| r == "eu-west-1"),
            "PutRegistryPolicy must be allowed in eu-west-1, not only {list:?}"
        ),
    }
    no_call(&sb);
}

// ---------------------------------------------------------------------------------------------
// The permissions cover exactly the calls the dry run shows
// ---------------------------------------------------------------------------------------------

#[test]
fn every_call_a_dry_run_shows_is_in_the_statements_permissions() {
    let secret = secret_arn("us-east-1", "rotated");
    let dir = tempfile::tempdir().unwrap();
    let desired = write_file(
        dir.path(),
        "desired.csv",
        &format!(
            "region,ecr_repository_prefix,upstream_registry_url,credential_arn\n\
             us-east-1,docker-hub,registry-1.docker.io,{secret}\n\
             us-east-1,quay-new,quay.io,\n"
        ),
    );
    let merge = |clauses: &str| {
        format!(
            "MERGE INTO {RULES} t USING '{}' s \
             ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix {clauses}",
            desired.display()
        )
    };
    let forms = [
        format!(
            "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) VALUES ('q9', 'quay.io')"
        ),
        format!(
            "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url) \
             VALUES ('quay', 'quay.io'), ('q9', 'quay.io') ON CONFLICT DO NOTHING"
        ),
        format!(
            "INSERT INTO {RULES} (ecr_repository_prefix, upstream_registry_url, credential_arn) \
             VALUES ('docker-hub', 'registry-1.docker.io', '{secret}') \
             ON CONFLICT DO UPDATE SET credential_arn = EXCLUDED.credential_arn"
        ),
        format!(
            "UPDATE {RULES} SET credential_arn = '{secret}' WHERE ecr_repository_prefix = 'docker-hub'"
        ),
        format!(
            r#"UPDATE aws.ecr.pull_through_cache_rule SET data__PatchDocument = '[{{"op":"replace","path":"/CredentialArn","value":"{secret}"}}]' WHERE data__Identifier = 'docker-hub'"#
        ),
        format!("DELETE FROM {RULES} WHERE ecr_repository_prefix = 'quay'"),
        merge("WHEN MATCHED THEN UPDATE SET credential_arn = s.credential_arn"),
        merge(
            "WHEN NOT MATCHED THEN INSERT (region, ecr_repository_prefix, upstream_registry_url) \
             VALUES (s.region, s.ecr_repository_prefix, s.upstream_registry_url)",
        ),
        merge("WHEN NOT MATCHED BY SOURCE THEN DELETE"),
        format!(
            "INSERT INTO {STATEMENTS} (region, sid, principals, actions, resources) \
             VALUES ('us-east-1', 'New', ['111122223333'], ['ecr:DescribeImages'], ['*'])"
        ),
        format!(
            "UPDATE {STATEMENTS} SET effect = 'Deny' WHERE sid = 'PullThroughCacheFromReadOnlyRole'"
        ),
        format!("DELETE FROM {STATEMENTS} WHERE sid = 'PullThroughCacheFromReadOnlyRole'"),
    ];
    for sql in &forms {
        let sb = demo_sandbox();
        let flags = ["--allow-bulk"];
        let granted: BTreeSet<String> = actions(&explain_with(&sb, &flags, sql))
            .into_iter()
            .map(str::to_string)
            .collect();
        let out = exec(&sb, &["--dry-run", "--allow-bulk"], sql);
        out.expect_code(0);
        // Each planned call is a note `  <Operation> <region> <parameters>`.
        let operations: Vec<&str> = notes(&out.stderr)
            .into_iter()
            .filter_map(|n| n.strip_prefix("  ")?.split_whitespace().next())
            .collect();
        assert!(
            !operations.is_empty(),
            "{sql}: the dry run plans calls:\n{}",
            out.stderr
        );
        for operation in operations {
            let action = format!("ecr:{operation}");
            assert!(
                granted.contains(&action),
                "{sql}: the dry run calls {action}, which EXPLAIN PERMISSIONS lacks: {granted:?}"
            );
        }
    }
}

#[test]
fn a_merge_that_sets_no_role_needs_no_pass_role() {
    let sb = demo_sandbox();
    let sql = format!(
        "MERGE INTO {RULES} t USING (SELECT 'us-east-1' AS region, 'quay' AS ecr_repository_prefix, \
         'quay.io' AS upstream_registry_url) s \
         ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
         WHEN NOT MATCHED THEN INSERT (region, ecr_repository_prefix, upstream_registry_url) \
         VALUES (s.region, s.ecr_repository_prefix, s.upstream_registry_url)"
    );
    let granted = explain(&sb, &sql);
    let names = actions(&granted);
    assert!(
        names.contains(&"ecr:CreatePullThroughCacheRule"),
        "{names:?}"
    );
    assert!(!names.contains(&"iam:PassRole"), "{names:?}");
    assert!(
        !names.contains(&"secretsmanager:GetSecretValue"),
        "{names:?}"
    );
}

#[test]
fn a_merge_inserting_a_role_from_a_source_column_of_another_name_needs_pass_role() {
    // The INSERT's columns are its own list, not the source's names (`role` here): the role
    // it sets needs iam:PassRole, as an UPDATE's does.
    let sb = demo_sandbox();
    let sql = format!(
        "MERGE INTO {RULES} t USING (SELECT 'us-east-1' AS region, 'mirror' AS prefix, \
         '111122223333.dkr.ecr.us-east-1.amazonaws.com' AS url, \
         'arn:aws:iam::123456789012:role/ecr-ptc' AS role) s \
         ON t.region = s.region AND t.ecr_repository_prefix = s.prefix \
         WHEN NOT MATCHED THEN INSERT (region, ecr_repository_prefix, upstream_registry_url, custom_role_arn) \
         VALUES (s.region, s.prefix, s.url, s.role)"
    );
    let granted = explain(&sb, &sql);
    assert!(
        actions(&granted).contains(&"iam:PassRole"),
        "{:?}",
        actions(&granted)
    );
    assert_eq!(sb.log().len(), 0);
}

// ---------------------------------------------------------------------------------------------
// MERGE: the regions of a local source are read before any call
// ---------------------------------------------------------------------------------------------

/// A MERGE converging eu-west-1's rules to `source` (which names eu-west-1 only), deleting
/// the rest of that region.
fn merge_in_eu_west_1(source: &str) -> String {
    format!(
        "MERGE INTO {RULES} t USING {source} s \
         ON t.region = s.region AND t.ecr_repository_prefix = s.ecr_repository_prefix \
         WHEN MATCHED THEN UPDATE SET credential_arn = s.credential_arn \
         WHEN NOT MATCHED THEN INSERT (region, ecr_repository_prefix, upstream_registry_url, credential_arn) \
           VALUES (s.region, s.ecr_repository_prefix, s.upstream_registry_url, s.credential_arn) \
         WHEN NOT MATCHED BY SOURCE THEN DELETE"
    )
}

#[test]
fn a_merge_from_values_is_granted_only_in_the_regions_its_rows_name() {
    // The MERGE deletes only in the regions its source names: its policy must not allow
    // deleting in every region, nor its secret beyond the one it sets.
    let sb = demo_sandbox();
    let secret = secret_arn("eu-west-1", "hub");
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "desired.csv",
        &format!(
            "region,ecr_repository_prefix,upstream_registry_url,credential_arn\n\
             eu-west-1,docker-hub,registry-1.docker.io,{secret}\n"
        ),
    );
    let values = format!(
        "(SELECT column1 AS region, column2 AS ecr_repository_prefix, column3 AS upstream_registry_url, \
         column4 AS credential_arn FROM (VALUES ('eu-west-1', 'docker-hub', 'registry-1.docker.io', '{secret}')))"
    );
    for source in [values, format!("'{}'", file.display())] {
        let sql = merge_in_eu_west_1(&source);
        let out = permissions(&sb, &["--allow-bulk"], &sql);
        let policy = check_policy_shape(&document(&out));
        for action in [
            "ecr:CreatePullThroughCacheRule",
            "ecr:DeletePullThroughCacheRule",
            "ecr:DescribePullThroughCacheRules",
            "ecr:UpdatePullThroughCacheRule",
        ] {
            assert_eq!(
                policy.get(action),
                Some(&(json!("*"), regions(&["eu-west-1"]))),
                "{action}: {policy:#?}"
            );
        }
        assert_eq!(
            policy.get("secretsmanager:GetSecretValue"),
            Some(&(json!(secret), None)),
            "{policy:#?}"
        );
        assert!(!out.stderr.contains("every region"), "{}", out.stderr);
        let rows = explain(&sb, &sql);
        assert!(
            rows.iter()
                .all(|r| regions_named(&r.reason) == ["eu-west-1"]),
            "{rows:#?}"
        );
        no_call(&sb);
    }
}

#[test]
fn a_merge_whose_source_reads_aws_says_its_regions_are_known_only_when_it_runs() {
    let sb = demo_sandbox();
    let sql = merge_in_eu_west_1(&format!(
        "(SELECT * FROM {RULES} WHERE region = 'us-east-1')"
    ));
    let out = permissions(&sb, &["--allow-bulk"], &sql);
    let policy = check_policy_shape(&document(&out));
    assert_eq!(
        policy.get("ecr:DeletePullThroughCacheRule"),
        Some(&(json!("*"), None)),
        "not narrowed: {policy:#?}"
    );
    out.expect_stderr(&[
        "statement 1 reads the rows that name its regions from AWS, so they are known only when it runs",
        "the policy allows ecr:CreatePullThroughCacheRule, ecr:DeletePullThroughCacheRule",
        "in every region",
    ]);
    let rows = explain_with(&sb, &["--allow-bulk"], &sql);
    let delete = rows
        .iter()
        .find(|r| r.action == "ecr:DeletePullThroughCacheRule")
        .unwrap();
    assert!(
        delete
            .reason
            .contains("in every region (its rows name the regions only when it runs)"),
        "{delete:?}"
    );
    no_call(&sb);
}

#[test]
fn a_statement_whose_local_source_has_no_row_needs_no_permission() {
    // No row, no call: an empty region set must not become a grant in every region.
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "empty.csv",
        "region,ecr_repository_prefix,upstream_registry_url,credential_arn\n",
    );
    let nothing = "(SELECT column1 AS region, column2 AS ecr_repository_prefix, \
                   column3 AS upstream_registry_url, column4 AS credential_arn \
                   FROM (VALUES ('eu-west-1', 'a', 'quay.io', NULL)) WHERE column1 = 'none')";
    let sql = format!(
        "INSERT INTO {RULES} SELECT * FROM '{}';\n{};\nSELECT * FROM {RULES} WHERE region = 'us-east-1'",
        file.display(),
        merge_in_eu_west_1(nothing)
    );
    let policy = check_policy_shape(&document(&permissions(&sb, &["--allow-bulk"], &sql)));
    assert_eq!(
        policy.keys().collect::<Vec<_>>(),
        ["ecr:DescribePullThroughCacheRules"],
        "{policy:#?}"
    );
    assert_eq!(
        policy["ecr:DescribePullThroughCacheRules"],
        (json!("*"), regions(&["us-east-1"]))
    );
    no_call(&sb);
}
