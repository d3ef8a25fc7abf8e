//! `aws.ecr.registry_policy` and `aws.ecr.registry_policy_statements` against the sandbox: reads,
//! read-modify-write INSERT/UPDATE/DELETE (checked through the SDK, later SELECTs and the request
//! log), and bad input refused before any PutRegistryPolicy/DeleteRegistryPolicy.

use crate::common;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use common::cli::{
    ALL_DEMO, DEMO_REGIONS, Output, Skyql, demo_sandbox, exec, json_rows, notes, query, session,
    write_file,
};
use datafusion::arrow::datatypes::DataType;
use serde_json::{Value, json};
use skyql::sandbox::Sandbox;

/// The whole-policy table.
const POLICY: &str = "aws.ecr.registry_policy";
/// The one-row-per-statement table.
const STATEMENTS: &str = "aws.ecr.registry_policy_statements";
/// The columns the statement INSERTs give.
const COLUMNS: &str = "region, sid, principals, actions, resources";
/// The write operations of the policy tables.
const PUT: &str = "PutRegistryPolicy";
const DELETE: &str = "DeleteRegistryPolicy";
/// The one read they make.
const GET: &str = "GetRegistryPolicy";

/// The demo policy's statement (src/sandbox/demo-policy.json, us-east-1 only).
const DEMO_SID: &str = "PullThroughCacheFromReadOnlyRole";
const DEMO_USER: &str = "arn:aws:iam::111122223333:user/ecr-pull-through-cache-user";
const DEMO_RESOURCE: &str = "arn:aws:ecr:us-east-1:123456789012:repository/ecr-public/*";

fn demo_statement() -> Value {
    json!({
        "Sid": DEMO_SID,
        "Effect": "Allow",
        "Principal": { "AWS": DEMO_USER },
        "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        "Resource": DEMO_RESOURCE,
    })
}

fn demo_policy() -> Value {
    json!({ "Version": "2012-10-17", "Statement": [demo_statement()] })
}

// ---------------------------------------------------------------------------------------------
// Helpers: the request log, the sandbox state through the SDK, SQL
// ---------------------------------------------------------------------------------------------

/// The PutRegistryPolicy / DeleteRegistryPolicy calls logged so far as (operation, region,
/// parameters), in order.
fn writes(sb: &Sandbox) -> Vec<(String, String, Value)> {
    sb.log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == PUT || e.operation == DELETE)
        .map(|e| (e.operation, e.region.unwrap_or_default(), e.parameters))
        .collect()
}

/// The (operation, region) of every write, in order.
fn write_ops(sb: &Sandbox) -> Vec<(String, String)> {
    writes(sb).into_iter().map(|(o, r, _)| (o, r)).collect()
}

fn op(operation: &str, region: &str) -> (String, String) {
    (operation.to_string(), region.to_string())
}

/// The policy document of `region` as the sandbox holds it, read through the real SDK (`None`:
/// RegistryPolicyNotFoundException). The read is logged as a GetRegistryPolicy.
fn sdk_policy(sb: &Sandbox, region: &str) -> Option<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        match common::client(sb, region)
            .get_registry_policy()
            .send()
            .await
        {
            Ok(out) => {
                assert_eq!(out.registry_id(), Some(common::ACCOUNT));
                let text = out.policy_text().expect("a policy text");
                Some(serde_json::from_str(text).expect("the stored policy is JSON"))
            }
            Err(e) if e.code() == Some("RegistryPolicyNotFoundException") => None,
            Err(e) => panic!("GetRegistryPolicy {region}: {e:?}"),
        }
    })
}

/// The statements of the policy of `region` (none when it has no policy).
fn sdk_statements(sb: &Sandbox, region: &str) -> Vec<Value> {
    match sdk_policy(sb, region) {
        None => Vec::new(),
        Some(doc) => match &doc["Statement"] {
            Value::Array(list) => list.clone(),
            one @ Value::Object(_) => vec![one.clone()],
            other => panic!("Statement is {other}"),
        },
    }
}

/// The sids of the policy of `region`, in policy order.
fn sdk_sids(sb: &Sandbox, region: &str) -> Vec<String> {
    sdk_statements(sb, region)
        .iter()
        .map(|s| s["Sid"].as_str().expect("a sid").to_string())
        .collect()
}

/// The statement with `sid` in `region`'s policy.
fn sdk_statement(sb: &Sandbox, region: &str, sid: &str) -> Value {
    sdk_statements(sb, region)
        .into_iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {region}"))
}

/// Runs a SELECT over the demo regions as `-o json` and returns its rows.
fn select_json(sb: &Sandbox, sql: &str) -> Vec<Value> {
    let out = exec(sb, &["-o", "json", ALL_DEMO], sql);
    out.expect_code(0);
    json_rows(&out.stdout)
}

/// `INSERT INTO registry_policy_statements (region, sid, principals, actions, resources) VALUES …`.
fn insert_statements(values: &str) -> String {
    format!("INSERT INTO {STATEMENTS} ({COLUMNS}) VALUES {values}")
}

/// A statement row for `region` granting `actions` (SQL list text) on the region's repositories.
fn row(region: &str, sid: &str, principal: &str, actions: &str) -> String {
    format!(
        "('{region}', '{sid}', ['{principal}'], {actions}, ['arn:aws:ecr:{region}:123456789012:repository/*'])"
    )
}

/// A whole policy for `region` with one statement `sid`.
fn policy_text(region: &str, sid: &str, actions: &[&str]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::444455556666:root" },
            "Action": actions,
            "Resource": format!("arn:aws:ecr:{region}:123456789012:repository/*"),
        }]
    })
    .to_string()
}

/// Asserts a refusal before any write: exit 2, every word on stderr, nothing on stdout, no
/// PutRegistryPolicy/DeleteRegistryPolicy, and the policies unchanged.
#[track_caller]
fn refused_without_writes(sb: &Sandbox, out: &Output, words: &[&str]) {
    // Exit 2 promises that nothing was sent; a refusal found after a read is exit 1.
    out.expect_code(if sb.log().is_empty() { 2 } else { 1 })
        .expect_stderr(words);
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert!(
        !out.stderr.contains("panicked"),
        "a refusal is no panic: {}",
        out.stderr
    );
    assert_eq!(writes(sb), vec![], "no write may be made");
    assert_eq!(sdk_policy(sb, "us-east-1"), Some(demo_policy()));
    assert_eq!(sdk_policy(sb, "eu-west-1"), None);
    assert_eq!(sdk_policy(sb, "ap-southeast-2"), None);
}

/// Asserts that the run made no call of any kind (the refusal came from checking the rows or
/// the plan).
#[track_caller]
fn no_call_at_all(sb: &Sandbox) {
    assert_eq!(sb.log().len(), 0, "no call: {:#?}", sb.log().entries());
}

/// The calls a dry run listed on stderr as (operation, region, parameters).
fn planned_calls(stderr: &str) -> Vec<(String, String, Value)> {
    notes(stderr)
        .into_iter()
        .filter_map(|n| n.strip_prefix("  "))
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let operation = parts.next()?;
            if operation != PUT && operation != DELETE {
                return None;
            }
            let region = parts.next()?.to_string();
            let parameters = serde_json::from_str(parts.next()?)
                .unwrap_or_else(|e| panic!("dry-run parameters are not JSON ({e}): {line}"));
            Some((operation.to_string(), region, parameters))
        })
        .collect()
}

/// The policy document a logged or planned PutRegistryPolicy carries.
fn put_document(parameters: &Value) -> Value {
    serde_json::from_str(parameters["policyText"].as_str().expect("policyText"))
        .expect("policyText is JSON")
}

// ---------------------------------------------------------------------------------------------
// SELECT
// ---------------------------------------------------------------------------------------------

#[test]
fn registry_policy_gives_one_row_per_region_that_has_a_policy() {
    let sb = demo_sandbox();
    let rows = select_json(
        &sb,
        &format!("SELECT * FROM {POLICY} WHERE region = 'us-east-1'"),
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["region"], "us-east-1");
    assert_eq!(rows[0]["registry_id"], common::ACCOUNT);
    let text = rows[0]["policy_text"]
        .as_str()
        .expect("policy_text is text");
    let doc: Value = serde_json::from_str(text).expect("policy_text parses as JSON");
    assert_eq!(doc, demo_policy());

    // A region without a policy answers no row, with no warning: not an error.
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "json"],
        &format!("SELECT * FROM {POLICY} WHERE region = 'eu-west-1'"),
    );
    out.expect_code(0);
    assert_eq!(json_rows(&out.stdout), Vec::<Value>::new());
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let log = sb.log().entries();
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0].operation, GET);
    assert_eq!(
        log[0].error_code.as_deref(),
        Some("RegistryPolicyNotFoundException")
    );

    // Across the demo regions: one GetRegistryPolicy per region, exactly one row.
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv", ALL_DEMO],
        &format!("SELECT region, registry_id FROM {POLICY}"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "region,registry_id\nus-east-1,123456789012\n");
    let mut regions: Vec<String> = sb
        .log()
        .entries()
        .into_iter()
        .map(|e| {
            assert_eq!(e.operation, GET);
            e.region.unwrap_or_default()
        })
        .collect();
    regions.sort();
    assert_eq!(regions, DEMO_REGIONS);
    let out = exec(
        &sb,
        &["-o", "csv", ALL_DEMO],
        &format!("SELECT count(*) AS n FROM {POLICY}"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "n\n1\n");
    assert_eq!(writes(&sb), vec![]);
}

#[tokio::test]
async fn statements_are_one_row_each_with_list_columns() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    query(
        &s,
        &insert_statements(&format!(
            "{}, {}",
            row(
                "us-east-1",
                "ReplicationFromProd",
                "arn:aws:iam::444455556666:root",
                "['ecr:CreateRepository', 'ecr:ReplicateImage']"
            ),
            row(
                "eu-west-1",
                "ReadOnly",
                "111122223333",
                "['ecr:DescribeImages']"
            )
        )),
    )
    .await;
    let r = query(
        &s,
        &format!("SELECT * FROM {STATEMENTS} ORDER BY region, sid"),
    )
    .await;
    for name in [
        "principals",
        "not_principals",
        "actions",
        "not_actions",
        "resources",
        "not_resources",
    ] {
        match r.schema.field_with_name(name).expect(name).data_type() {
            DataType::List(item) => assert_eq!(item.data_type(), &DataType::Utf8, "{name}"),
            other => panic!("{name} is {other}, not a list of text"),
        }
    }
    for name in ["region", "registry_id", "sid", "effect", "conditions"] {
        assert_eq!(
            r.schema.field_with_name(name).expect(name).data_type(),
            &DataType::Utf8,
            "{name}"
        );
    }
    let user = format!("[{DEMO_USER}]");
    let resource = format!("[{DEMO_RESOURCE}]");
    assert_eq!(
        common::cli::rows(&r),
        vec![
            vec![
                "eu-west-1",
                "123456789012",
                "ReadOnly",
                "Allow",
                "[111122223333]",
                "NULL",
                "[ecr:DescribeImages]",
                "NULL",
                "[arn:aws:ecr:eu-west-1:123456789012:repository/*]",
                "NULL",
                "NULL",
            ],
            vec![
                "us-east-1",
                "123456789012",
                DEMO_SID,
                "Allow",
                user.as_str(),
                "NULL",
                "[ecr:CreateRepository, ecr:BatchImportUpstreamImage]",
                "NULL",
                resource.as_str(),
                "NULL",
                "NULL",
            ],
            vec![
                "us-east-1",
                "123456789012",
                "ReplicationFromProd",
                "Allow",
                "[arn:aws:iam::444455556666:root]",
                "NULL",
                "[ecr:CreateRepository, ecr:ReplicateImage]",
                "NULL",
                "[arn:aws:ecr:us-east-1:123456789012:repository/*]",
                "NULL",
                "NULL",
            ],
        ]
    );
    // Lists work as lists in SQL.
    let r = query(
        &s,
        &format!(
            "SELECT sid, array_length(actions) AS n, actions[1] AS first FROM {STATEMENTS} \
             WHERE region = 'us-east-1' ORDER BY sid"
        ),
    )
    .await;
    assert_eq!(
        common::cli::rows(&r),
        vec![
            vec![DEMO_SID, "2", "ecr:CreateRepository"],
            vec!["ReplicationFromProd", "2", "ecr:CreateRepository"],
        ]
    );
}

#[test]
fn json_output_shows_the_lists_as_arrays() {
    let sb = demo_sandbox();
    let rows = select_json(
        &sb,
        &format!(
            "SELECT region, sid, principals, actions, resources, conditions FROM {STATEMENTS}"
        ),
    );
    assert_eq!(
        rows,
        vec![json!({
            "region": "us-east-1",
            "sid": DEMO_SID,
            "principals": [DEMO_USER],
            "actions": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
            "resources": [DEMO_RESOURCE],
            "conditions": null,
        })]
    );
    let out = exec(
        &sb,
        &["-o", "ndjson"],
        &format!("SELECT sid, actions FROM {STATEMENTS}"),
    );
    out.expect_code(0);
    let line: Value = serde_json::from_str(out.stdout.trim()).expect("one JSON line");
    assert_eq!(
        line,
        json!({"sid": DEMO_SID, "actions": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]})
    );
}

#[test]
fn csv_output_renders_the_list_columns() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("SELECT sid, actions FROM {STATEMENTS}"),
    );
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "header and one row: {}", out.stdout);
    assert_eq!(lines[0], "sid,actions");
    assert!(lines[1].starts_with(DEMO_SID), "{}", lines[1]);
    for action in ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"] {
        assert!(lines[1].contains(action), "{action} missing: {}", lines[1]);
    }
}

#[test]
fn array_has_answers_who_may_batch_import_in_which_region() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &insert_statements(&format!(
            "{}, {}",
            row(
                "eu-west-1",
                "CacheForCi",
                "arn:aws:iam::444455556666:role/ci",
                "['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']"
            ),
            row(
                "ap-southeast-2",
                "ReadOnly",
                "arn:aws:iam::444455556666:role/auditor",
                "['ecr:DescribeImages']"
            )
        )),
    );
    out.expect_code(0);
    let rows = select_json(
        &sb,
        &format!(
            "SELECT region, sid, principals FROM {STATEMENTS} \
             WHERE array_has(actions, 'ecr:BatchImportUpstreamImage') ORDER BY region"
        ),
    );
    assert_eq!(
        rows,
        vec![
            json!({"region": "eu-west-1", "sid": "CacheForCi", "principals": ["arn:aws:iam::444455556666:role/ci"]}),
            json!({"region": "us-east-1", "sid": DEMO_SID, "principals": [DEMO_USER]}),
        ]
    );
    // Flattened: one row per (region, principal).
    let rows = select_json(
        &sb,
        &format!(
            "SELECT region, unnest(principals) AS principal FROM {STATEMENTS} \
             WHERE NOT array_has(actions, 'ecr:BatchImportUpstreamImage')"
        ),
    );
    assert_eq!(
        rows,
        vec![
            json!({"region": "ap-southeast-2", "principal": "arn:aws:iam::444455556666:role/auditor"})
        ]
    );
}

#[test]
fn conditions_are_json_text_when_the_statement_has_a_condition() {
    let sb = demo_sandbox();
    let condition = json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}});
    let out = exec(
        &sb,
        &[],
        &format!(
            "INSERT INTO {STATEMENTS} ({COLUMNS}, conditions) VALUES \
             ('us-east-1', 'AccountOnly', ['*'], ['ecr:DescribeImages'], ['*'], '{condition}')"
        ),
    );
    out.expect_code(0);
    assert_eq!(
        sdk_statement(&sb, "us-east-1", "AccountOnly")["Condition"],
        condition,
        "the Condition block is written as JSON, not as a string"
    );
    let rows = select_json(
        &sb,
        &format!("SELECT sid, conditions FROM {STATEMENTS} ORDER BY sid"),
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["sid"], "AccountOnly");
    let text = rows[0]["conditions"]
        .as_str()
        .expect("conditions is JSON text");
    assert_eq!(
        serde_json::from_str::<Value>(text).expect("parses"),
        condition
    );
    assert_eq!(rows[1]["sid"], DEMO_SID);
    assert_eq!(rows[1]["conditions"], Value::Null, "no Condition: NULL");
    // Conditions can be queried as JSON text.
    let rows = select_json(
        &sb,
        &format!("SELECT sid FROM {STATEMENTS} WHERE conditions LIKE '%aws:PrincipalAccount%'"),
    );
    assert_eq!(rows, vec![json!({"sid": "AccountOnly"})]);
}

// ---------------------------------------------------------------------------------------------
// INSERT into registry_policy_statements
// ---------------------------------------------------------------------------------------------

#[test]
fn insert_into_a_region_without_a_policy_creates_it_with_one_put() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &insert_statements(&row(
            "eu-west-1",
            "ReplicationFromProd",
            "arn:aws:iam::444455556666:root",
            "['ecr:CreateRepository', 'ecr:ReplicateImage']",
        )),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert!(
        notes(&out.stderr).contains(&"INSERT on aws.ecr.registry_policy_statements: created 1"),
        "{}",
        out.stderr
    );
    let made = writes(&sb);
    assert_eq!(made.len(), 1, "{made:#?}");
    assert_eq!((made[0].0.as_str(), made[0].1.as_str()), (PUT, "eu-west-1"));
    let expected = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReplicationFromProd",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
            "Resource": "arn:aws:ecr:eu-west-1:123456789012:repository/*",
        }]
    });
    assert_eq!(put_document(&made[0].2), expected);
    assert_eq!(sdk_policy(&sb, "eu-west-1"), Some(expected));
    // The other regions are untouched.
    assert_eq!(sdk_policy(&sb, "us-east-1"), Some(demo_policy()));
    assert_eq!(sdk_policy(&sb, "ap-southeast-2"), None);
    let rows = select_json(
        &sb,
        &format!("SELECT region, registry_id FROM {POLICY} ORDER BY region"),
    );
    assert_eq!(
        rows,
        vec![
            json!({"region": "eu-west-1", "registry_id": common::ACCOUNT}),
            json!({"region": "us-east-1", "registry_id": common::ACCOUNT}),
        ]
    );
}

#[test]
fn insert_into_a_region_with_a_policy_keeps_the_existing_statement_verbatim() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &insert_statements(
            "('us-east-1', 'CiDescribe', ['arn:aws:iam::111122223333:role/ci', '444455556666'], \
             ['ecr:DescribeRepositories', 'ecr:DescribeImages'], ['*'])",
        ),
    );
    out.expect_code(0);
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    let statements = sdk_statements(&sb, "us-east-1");
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert_eq!(
        statements[0],
        demo_statement(),
        "the existing statement is kept as it was"
    );
    assert_eq!(
        statements[1],
        json!({
            "Sid": "CiDescribe",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:role/ci", "444455556666"]},
            "Action": ["ecr:DescribeRepositories", "ecr:DescribeImages"],
            "Resource": "*",
        })
    );
    assert_eq!(
        sdk_policy(&sb, "us-east-1").unwrap()["Version"],
        "2012-10-17"
    );
}

#[test]
fn several_rows_make_one_put_per_region() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &insert_statements(&format!(
            "{}, {}, {}",
            row("eu-west-1", "A", "111122223333", "['ecr:DescribeImages']"),
            row("us-east-1", "B", "111122223333", "['ecr:DescribeImages']"),
            row(
                "eu-west-1",
                "C",
                "444455556666",
                "['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']"
            ),
        )),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n3\n");
    let mut ops = write_ops(&sb);
    ops.sort();
    assert_eq!(ops, vec![op(PUT, "eu-west-1"), op(PUT, "us-east-1")]);
    assert_eq!(sdk_sids(&sb, "eu-west-1"), ["A", "C"]);
    assert_eq!(sdk_sids(&sb, "us-east-1"), [DEMO_SID, "B"]);
    assert_eq!(sdk_policy(&sb, "ap-southeast-2"), None);
}

#[test]
fn insert_without_a_region_goes_to_the_default_region() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            "INSERT INTO {STATEMENTS} (sid, effect, principals, actions, resources) VALUES \
             ('DenyDelete', 'deny', ['*'], ['ecr:DeleteRepository'], ['*'])"
        ),
    );
    out.expect_code(0);
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    assert_eq!(
        sdk_statement(&sb, "us-east-1", "DenyDelete"),
        json!({
            "Sid": "DenyDelete",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "ecr:DeleteRepository",
            "Resource": "*",
        })
    );
}

#[test]
fn on_conflict_do_nothing_makes_no_call_and_the_script_reruns() {
    let sb = demo_sandbox();
    let skyql = Skyql::new(&sb);
    let script = format!(
        "{} ON CONFLICT DO NOTHING;\nSELECT region, sid FROM {STATEMENTS} WHERE region IN ('us-east-1', 'eu-west-1') ORDER BY region, sid;",
        insert_statements(&format!(
            "{}, {}",
            // The demo sid with other content: kept as it is.
            row("us-east-1", DEMO_SID, "*", "['ecr:*']"),
            row(
                "eu-west-1",
                "NewOne",
                "111122223333",
                "['ecr:DescribeImages']"
            ),
        ))
    );
    // The script outlives the first run's home directory.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_file(dir.path(), "policy.sql", &script);
    let out = skyql
        .args(["-o", "ndjson", "exec", "-f"])
        .args([&path])
        .run();
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        format!(
            "{{\"count\":1}}\n{{\"region\":\"eu-west-1\",\"sid\":\"NewOne\"}}\n\
             {{\"region\":\"us-east-1\",\"sid\":\"{DEMO_SID}\"}}\n"
        )
    );
    // Kept as it is, and said to differ: drift stays visible. (The row's effect is the
    // default, Allow, as the statement's.)
    assert!(
        notes(&out.stderr).contains(
            &format!(
                "INSERT on aws.ecr.registry_policy_statements: created 1, skipped 1 (row 1: sid \
             '{DEMO_SID}' already exists in us-east-1's registry policy, with other \
             principals, actions, resources)"
            )
            .as_str()
        ),
        "{}",
        out.stderr
    );
    assert_eq!(write_ops(&sb), vec![op(PUT, "eu-west-1")]);
    assert_eq!(sdk_policy(&sb, "us-east-1"), Some(demo_policy()));

    // The same script again: everything is there, so no write at all.
    sb.log().clear();
    let out = Skyql::new(&sb)
        .args(["-o", "ndjson", "exec", "-f"])
        .args([&path])
        .run();
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        format!(
            "{{\"count\":0}}\n{{\"region\":\"eu-west-1\",\"sid\":\"NewOne\"}}\n\
             {{\"region\":\"us-east-1\",\"sid\":\"{DEMO_SID}\"}}\n"
        )
    );
    // The statement created is unchanged; the demo's still differs, and is said to.
    assert!(
        notes(&out.stderr).contains(
            &format!(
                "INSERT on aws.ecr.registry_policy_statements: skipped 1 (row 1: sid \
                 '{DEMO_SID}' already exists in us-east-1's registry policy, with other \
                 principals, actions, resources), unchanged 1"
            )
            .as_str()
        ),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&sb), vec![]);
}

#[test]
fn on_conflict_do_update_changes_only_the_named_column() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "{} ON CONFLICT DO UPDATE SET actions = EXCLUDED.actions",
            insert_statements(
                // Other principals and resources too: only actions may change.
                &format!(
                    "('us-east-1', '{DEMO_SID}', ['*'], ['ecr:BatchImportUpstreamImage'], ['*'])"
                )
            )
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    let mut expected = demo_statement();
    expected["Action"] = json!("ecr:BatchImportUpstreamImage");
    assert_eq!(sdk_statements(&sb, "us-east-1"), vec![expected]);

    // The same again changes nothing, so no write.
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "{} ON CONFLICT DO UPDATE SET actions = EXCLUDED.actions",
            insert_statements(&format!(
                "('us-east-1', '{DEMO_SID}', ['*'], ['ecr:BatchImportUpstreamImage'], ['*'])"
            ))
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(writes(&sb), vec![]);
}

// ---------------------------------------------------------------------------------------------
// UPDATE and DELETE on registry_policy_statements
// ---------------------------------------------------------------------------------------------

#[test]
fn update_sets_actions_by_sid_and_an_unchanged_update_makes_no_put() {
    let sb = demo_sandbox();
    let update = format!(
        "UPDATE {STATEMENTS} SET actions = ['ecr:BatchImportUpstreamImage'] \
         WHERE region = 'us-east-1' AND sid = '{DEMO_SID}'"
    );
    let out = exec(&sb, &["-o", "csv"], &update);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    let mut expected = demo_statement();
    expected["Action"] = json!("ecr:BatchImportUpstreamImage");
    assert_eq!(sdk_statements(&sb, "us-east-1"), vec![expected]);
    let rows = select_json(
        &sb,
        &format!("SELECT actions FROM {STATEMENTS} WHERE sid = '{DEMO_SID}'"),
    );
    assert_eq!(
        rows,
        vec![json!({"actions": ["ecr:BatchImportUpstreamImage"]})]
    );

    sb.log().clear();
    let out = exec(&sb, &["-o", "csv"], &update);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert!(
        notes(&out.stderr).contains(&"UPDATE on aws.ecr.registry_policy_statements: unchanged 1"),
        "{}",
        out.stderr
    );
    assert_eq!(writes(&sb), vec![]);
}

#[test]
fn update_can_compute_from_the_current_value() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!(
            "UPDATE {STATEMENTS} SET actions = array_append(actions, 'ecr:DescribeImages') \
             WHERE sid = '{DEMO_SID}'"
        ),
    );
    out.expect_code(0);
    assert_eq!(
        sdk_statement(&sb, "us-east-1", DEMO_SID)["Action"],
        json!([
            "ecr:CreateRepository",
            "ecr:BatchImportUpstreamImage",
            "ecr:DescribeImages"
        ])
    );
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
}

#[test]
fn delete_by_sid_keeps_the_other_statements() {
    let sb = demo_sandbox();
    exec(
        &sb,
        &[],
        &insert_statements(&format!(
            "{}, {}",
            row(
                "us-east-1",
                "Extra",
                "111122223333",
                "['ecr:DescribeImages']"
            ),
            row("us-east-1", "Another", "111122223333", "['ecr:ListImages']"),
        )),
    )
    .expect_code(0);
    assert_eq!(sdk_sids(&sb, "us-east-1"), [DEMO_SID, "Extra", "Another"]);
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {STATEMENTS} WHERE region = 'us-east-1' AND sid = 'Extra'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    let statements = sdk_statements(&sb, "us-east-1");
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0], demo_statement());
    assert_eq!(statements[1]["Sid"], "Another");
}

#[test]
fn deleting_the_last_statement_deletes_the_policy() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {STATEMENTS} WHERE sid = '{DEMO_SID}'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(DELETE, "us-east-1")]);
    assert_eq!(sdk_policy(&sb, "us-east-1"), None);
    let out = exec(
        &sb,
        &["-o", "json"],
        &format!("SELECT * FROM {POLICY} WHERE region = 'us-east-1'"),
    );
    out.expect_code(0);
    assert_eq!(json_rows(&out.stdout), Vec::<Value>::new());
    // Deleting it again matches nothing: no write.
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {STATEMENTS} WHERE sid = '{DEMO_SID}'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(writes(&sb), vec![]);
}

#[test]
fn delete_without_sid_is_refused_unless_allow_bulk() {
    let sb = demo_sandbox();
    let unpinned = format!("DELETE FROM {STATEMENTS} WHERE region = 'us-east-1'");
    let out = exec(&sb, &[], &unpinned);
    no_call_at_all(&sb);
    refused_without_writes(
        &sb,
        &out,
        &["does not pin sid", "--allow-bulk", "nothing was sent"],
    );
    sb.log().clear();
    let out = exec(
        &sb,
        &[],
        &format!("DELETE FROM {STATEMENTS} WHERE array_has(actions, 'ecr:CreateRepository')"),
    );
    out.expect_code(2).expect_stderr(&["does not pin sid"]);
    no_call_at_all(&sb);

    let out = exec(&sb, &["--allow-bulk", "-o", "csv"], &unpinned);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert!(
        notes(&out.stderr).iter().any(|n| n.contains(&format!(
            "DELETE without a pinned sid matches 1 statement(s): us-east-1 {DEMO_SID}"
        ))),
        "{}",
        out.stderr
    );
    assert_eq!(write_ops(&sb), vec![op(DELETE, "us-east-1")]);
    assert_eq!(sdk_policy(&sb, "us-east-1"), None);
}

#[test]
fn dry_run_prints_the_planned_calls_and_changes_nothing() {
    let sb = demo_sandbox();
    // Deleting the only statement: DeleteRegistryPolicy is planned.
    let out = exec(
        &sb,
        &["--dry-run", "-o", "csv"],
        &format!("DELETE FROM {STATEMENTS} WHERE region = 'us-east-1' AND sid = '{DEMO_SID}'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert!(
        notes(&out.stderr).iter().any(|n| n.starts_with(
            "dry run: DELETE on aws.ecr.registry_policy_statements would make 1 call(s)"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        planned_calls(&out.stderr),
        vec![(DELETE.to_string(), "us-east-1".to_string(), json!({}))]
    );

    // Adding statements: the PutRegistryPolicy of each region, with the whole document.
    let out = exec(
        &sb,
        &["--dry-run"],
        &insert_statements(&format!(
            "{}, {}",
            row(
                "us-east-1",
                "Planned",
                "111122223333",
                "['ecr:DescribeImages']"
            ),
            row(
                "ap-southeast-2",
                "Planned",
                "111122223333",
                "['ecr:DescribeImages']"
            ),
        )),
    );
    out.expect_code(0);
    let planned = planned_calls(&out.stderr);
    assert_eq!(planned.len(), 2, "{}", out.stderr);
    let (operation, region, parameters) = &planned[1];
    assert_eq!((operation.as_str(), region.as_str()), (PUT, "us-east-1"));
    let doc = put_document(parameters);
    assert_eq!(doc["Statement"][0], demo_statement());
    assert_eq!(doc["Statement"][1]["Sid"], "Planned");
    assert_eq!(
        (planned[0].0.as_str(), planned[0].1.as_str()),
        (PUT, "ap-southeast-2")
    );

    // An unpinned DELETE is refused by a dry run as by the real run, and reviewed with
    // --dry-run --allow-bulk.
    let unpinned = format!("DELETE FROM {STATEMENTS} WHERE region = 'us-east-1'");
    exec(&sb, &["--dry-run"], &unpinned)
        .expect_code(2)
        .expect_stderr(&["--allow-bulk"]);
    let out = exec(&sb, &["--dry-run", "--allow-bulk"], &unpinned);
    out.expect_code(0);
    assert_eq!(planned_calls(&out.stderr).len(), 1, "{}", out.stderr);

    assert_eq!(writes(&sb), vec![], "a dry run writes nothing");
    assert_eq!(sdk_policy(&sb, "us-east-1"), Some(demo_policy()));
    assert_eq!(sdk_policy(&sb, "ap-southeast-2"), None);
}

// ---------------------------------------------------------------------------------------------
// aws.ecr.registry_policy: whole documents
// ---------------------------------------------------------------------------------------------

#[test]
fn registry_policy_insert_into_a_region_without_a_policy() {
    let sb = demo_sandbox();
    let text = policy_text(
        "eu-west-1",
        "ReplicationAccessCrossAccount",
        &["ecr:CreateRepository", "ecr:ReplicateImage"],
    );
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{text}')"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    let made = writes(&sb);
    assert_eq!(made.len(), 1, "{made:#?}");
    assert_eq!((made[0].0.as_str(), made[0].1.as_str()), (PUT, "eu-west-1"));
    assert_eq!(made[0].2["policyText"], text.as_str(), "sent as written");
    assert_eq!(
        sdk_policy(&sb, "eu-west-1"),
        Some(serde_json::from_str(&text).unwrap())
    );
    let rows = select_json(
        &sb,
        &format!("SELECT region, sid FROM {STATEMENTS} WHERE region = 'eu-west-1'"),
    );
    assert_eq!(
        rows,
        vec![json!({"region": "eu-west-1", "sid": "ReplicationAccessCrossAccount"})]
    );
}

#[test]
fn registry_policy_insert_into_a_region_that_has_one_is_refused() {
    let sb = demo_sandbox();
    let text = policy_text("us-east-1", "Other", &["ecr:DescribeImages"]);
    let out = exec(
        &sb,
        &[],
        &format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('us-east-1', '{text}')"),
    );
    refused_without_writes(
        &sb,
        &out,
        &[
            "row 1: us-east-1 already has a registry policy",
            "ON CONFLICT DO UPDATE SET policy_text = EXCLUDED.policy_text",
            "no change was made",
        ],
    );
}

#[test]
fn registry_policy_on_conflict_do_update_replaces_the_policy() {
    let sb = demo_sandbox();
    let text = policy_text("us-east-1", "Replaced", &["ecr:DescribeImages"]);
    let sql = format!(
        "INSERT INTO {POLICY} (region, policy_text) VALUES ('us-east-1', '{text}') \
         ON CONFLICT DO UPDATE SET policy_text = EXCLUDED.policy_text"
    );
    let out = exec(&sb, &["-o", "csv"], &sql);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    assert_eq!(
        sdk_policy(&sb, "us-east-1"),
        Some(serde_json::from_str(&text).unwrap())
    );
    // Again: the same document, no write.
    sb.log().clear();
    let out = exec(&sb, &["-o", "csv"], &sql);
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(writes(&sb), vec![]);
    // ON CONFLICT DO NOTHING keeps it.
    let other = policy_text("us-east-1", "Ignored", &["ecr:DescribeImages"]);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {POLICY} (region, policy_text) VALUES ('us-east-1', '{other}') ON CONFLICT DO NOTHING"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(writes(&sb), vec![]);
    assert_eq!(sdk_sids(&sb, "us-east-1"), ["Replaced"]);
}

#[test]
fn registry_policy_update_and_delete_by_region() {
    let sb = demo_sandbox();
    let text = policy_text("us-east-1", "Updated", &["ecr:BatchImportUpstreamImage"]);
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("UPDATE {POLICY} SET policy_text = '{text}' WHERE region = 'us-east-1'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(PUT, "us-east-1")]);
    assert_eq!(
        sdk_policy(&sb, "us-east-1"),
        Some(serde_json::from_str(&text).unwrap())
    );
    // A region without a policy: the UPDATE matches nothing.
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {POLICY} SET policy_text = '{}' WHERE region = 'eu-west-1'",
            policy_text("eu-west-1", "X", &["ecr:*"])
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n0\n");
    assert_eq!(writes(&sb), vec![]);

    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {POLICY} WHERE region = 'us-east-1'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(write_ops(&sb), vec![op(DELETE, "us-east-1")]);
    assert_eq!(sdk_policy(&sb, "us-east-1"), None);
    assert_eq!(
        select_json(&sb, &format!("SELECT region FROM {POLICY}")),
        Vec::<Value>::new()
    );
}

#[test]
fn registry_policy_update_or_delete_without_region_is_refused_unless_allow_bulk() {
    let sb = demo_sandbox();
    let text = policy_text("us-east-1", "Updated", &["ecr:DescribeImages"]);
    for sql in [
        format!("UPDATE {POLICY} SET policy_text = '{text}'"),
        format!("DELETE FROM {POLICY}"),
        format!("DELETE FROM {POLICY} WHERE registry_id = '123456789012'"),
    ] {
        let out = exec(&sb, &[ALL_DEMO], &sql);
        no_call_at_all(&sb);
        refused_without_writes(
            &sb,
            &out,
            &["does not pin region", "--allow-bulk", "nothing was sent"],
        );
        sb.log().clear();
    }
    let out = exec(
        &sb,
        &[ALL_DEMO, "--allow-bulk", "-o", "csv"],
        &format!("DELETE FROM {POLICY}"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    assert_eq!(
        write_ops(&sb),
        vec![op(DELETE, "us-east-1")],
        "only the region that has a policy"
    );
    assert_eq!(sdk_policy(&sb, "us-east-1"), None);
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2, the problem named, no write
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_statement_rows_are_refused_before_any_call() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            insert_statements(&row(
                "eu-west-1",
                "A",
                "111122223333",
                "['ecr:BatchImportUpstreamImages']",
            )),
            vec![
                "row 1: unknown ECR action 'ecr:BatchImportUpstreamImages'",
                "Did you mean 'ecr:BatchImportUpstreamImage'?",
            ],
        ),
        (
            insert_statements(&row("eu-west-1", "A", "111122223333", "['s3:GetObject']")),
            vec!["row 1: action 's3:GetObject' is not an ECR action"],
        ),
        (
            insert_statements(&row(
                "eu-west-1",
                "A",
                "111122223333",
                "['ecr:DescribeImages', 'ecr:Frobnicate*']",
            )),
            vec!["row 1: action pattern 'ecr:Frobnicate*' matches no ECR action"],
        ),
        (
            insert_statements(&row(
                "eu-west-1",
                "A",
                "111122223333",
                "['CreateRepository']",
            )),
            vec![
                "action 'CreateRepository' has no service prefix",
                "did you mean 'ecr:CreateRepository'",
            ],
        ),
        (
            insert_statements(
                "('eu-west-1', 'A', ['111122223333'], ['ecr:*'], \
                 ['arn:aws:ecr:us-east-1:123456789012:repository/x/*'])",
            ),
            vec![
                "row 1: resource 'arn:aws:ecr:us-east-1:123456789012:repository/x/*' is in region us-east-1",
                "eu-west-1's registry policy",
            ],
        ),
        (
            insert_statements("('eu-west-1', 'A', [], ['ecr:*'], ['*'])"),
            vec!["row 1: principals is empty"],
        ),
        (
            insert_statements(&row("eu-west-1", "has space", "111122223333", "['ecr:*']")),
            vec!["row 1: sid 'has space' may contain only ASCII letters and digits"],
        ),
        (
            insert_statements(&row("eu-west-1", "", "111122223333", "['ecr:*']")),
            vec!["row 1: sid is required"],
        ),
        (
            format!(
                "INSERT INTO {STATEMENTS} ({COLUMNS}, conditions) VALUES \
                 ('eu-west-1', 'A', ['111122223333'], ['ecr:*'], ['*'], '{{not json')"
            ),
            vec!["row 1: conditions is not valid JSON", "{not json"],
        ),
        (
            format!(
                "INSERT INTO {STATEMENTS} ({COLUMNS}, conditions) VALUES \
                 ('eu-west-1', 'A', ['111122223333'], ['ecr:*'], ['*'], '[1]')"
            ),
            vec!["row 1: conditions must be a JSON object"],
        ),
        (
            format!(
                "INSERT INTO {STATEMENTS} ({COLUMNS}, effect) VALUES \
                 ('eu-west-1', 'A', ['111122223333'], ['ecr:*'], ['*'], 'Maybe')"
            ),
            vec!["row 1: effect 'Maybe' must be Allow or Deny"],
        ),
        (
            insert_statements(&format!(
                "{}, {}",
                row(
                    "eu-west-1",
                    "Twice",
                    "111122223333",
                    "['ecr:DescribeImages']"
                ),
                row("eu-west-1", "Twice", "444455556666", "['ecr:ListImages']"),
            )),
            vec!["rows 1 and 2 both add sid 'Twice' to eu-west-1's registry policy"],
        ),
        (
            // Every problem of every row is listed, in one refusal.
            insert_statements(&format!(
                "{}, {}",
                row(
                    "eu-west-1",
                    "Good",
                    "111122223333",
                    "['ecr:DescribeImages']"
                ),
                row("us-east-9", "Bad", "111122223333", "['ecr:DescribeImages']"),
            )),
            vec!["row 2:", "us-east-9"],
        ),
    ];
    let mut failures = Vec::new();
    for (sql, words) in &cases {
        let sb = demo_sandbox();
        let out = exec(&sb, &[], sql);
        let mut wrong = Vec::new();
        if out.code != 2 {
            wrong.push(format!("exit {}", out.code));
        }
        for word in words.iter().chain(&["nothing was sent"]) {
            if !out.stderr.contains(word) {
                wrong.push(format!("stderr lacks {word:?}"));
            }
        }
        if !out.stdout.is_empty() {
            wrong.push(format!("stdout {:?}", out.stdout));
        }
        if !sb.log().is_empty() {
            wrong.push(format!("{} call(s) made", sb.log().len()));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{sql}\n  {}\n  stderr: {}",
                wrong.join("; "),
                out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_wildcards_and_any_case_are_accepted() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &insert_statements(&format!(
            "{}, {}",
            row(
                "eu-west-1",
                "Wild",
                "111122223333",
                "['ecr:Describe*', 'ecr:Get?egistryPolicy', 'ECR:listimages']"
            ),
            row("eu-west-1", "All", "444455556666", "['ecr:*']"),
        )),
    );
    out.expect_code(0);
    assert_eq!(write_ops(&sb), vec![op(PUT, "eu-west-1")]);
    let rows = select_json(
        &sb,
        &format!("SELECT sid, actions FROM {STATEMENTS} WHERE region = 'eu-west-1'"),
    );
    assert_eq!(
        rows,
        vec![
            json!({"sid": "Wild", "actions": ["ecr:Describe*", "ecr:Get?egistryPolicy", "ECR:listimages"]}),
            json!({"sid": "All", "actions": ["ecr:*"]}),
        ]
    );
}

#[test]
fn a_duplicate_sid_against_the_existing_policy_is_refused() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &insert_statements(&format!(
            "{}, {}",
            row(
                "us-east-1",
                "Fresh",
                "111122223333",
                "['ecr:DescribeImages']"
            ),
            row(
                "us-east-1",
                DEMO_SID,
                "111122223333",
                "['ecr:DescribeImages']"
            ),
        )),
    );
    refused_without_writes(
        &sb,
        &out,
        &[
            &format!("row 2: sid '{DEMO_SID}' already exists in us-east-1's registry policy"),
            "ON CONFLICT DO NOTHING",
            "no change was made",
        ],
    );
}

/// A statement for `region` whose policy alone is at most `max` characters but as close to it as
/// the repository ARNs allow.
fn big_statement(region: &str, max: usize) -> (String, usize) {
    let arn = |i: usize| format!("arn:aws:ecr:{region}:123456789012:repository/team{i:04}/*");
    let doc = |n: usize| {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "Big",
                "Effect": "Allow",
                "Principal": {"AWS": "111122223333"},
                "Action": "ecr:*",
                "Resource": (0..n).map(arn).collect::<Vec<_>>(),
            }]
        })
        .to_string()
        .chars()
        .count()
    };
    let mut n = 2;
    while doc(n + 1) <= max {
        n += 1;
    }
    let list = (0..n)
        .map(|i| format!("'{}'", arn(i)))
        .collect::<Vec<_>>()
        .join(", ");
    (
        format!("('{region}', 'Big', ['111122223333'], ['ecr:*'], [{list}])"),
        doc(n),
    )
}

#[test]
fn a_policy_over_the_size_limit_is_refused() {
    // A whole document over 10240 characters.
    let sb = demo_sandbox();
    let resources: Vec<String> = (0..200)
        .map(|i| format!("arn:aws:ecr:eu-west-1:123456789012:repository/team{i:04}/*"))
        .collect();
    let text = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Big", "Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": resources}]
    })
    .to_string();
    assert!(text.len() > 10240);
    let out = exec(
        &sb,
        &[],
        &format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{text}')"),
    );
    no_call_at_all(&sb);
    refused_without_writes(
        &sb,
        &out,
        &[
            &format!(
                "row 1: policy_text: the policy is {} characters, over ECR's limit of 10240",
                text.len()
            ),
            "nothing was sent",
        ],
    );

    // A statement that fits alone (into eu-west-1, which has no policy)…
    let (fits, size) = big_statement("eu-west-1", 10240 - 100);
    assert!(size <= 10240);
    let sb = demo_sandbox();
    exec(&sb, &[], &insert_statements(&fits)).expect_code(0);
    assert_eq!(write_ops(&sb), vec![op(PUT, "eu-west-1")]);

    // …but not merged with the demo statement of us-east-1.
    let sb = demo_sandbox();
    let (merged_too_big, _) = big_statement("us-east-1", 10240 - 100);
    let out = exec(&sb, &[], &insert_statements(&merged_too_big));
    refused_without_writes(
        &sb,
        &out,
        &[
            "us-east-1: with these changes the policy is",
            "over ECR's limit of 10240",
            "no change was made",
        ],
    );

    // UPDATE of a whole policy is held to it too.
    let sb = demo_sandbox();
    let big_us = text.replace("eu-west-1", "us-east-1");
    let out = exec(
        &sb,
        &[],
        &format!("UPDATE {POLICY} SET policy_text = '{big_us}' WHERE region = 'us-east-1'"),
    );
    refused_without_writes(&sb, &out, &["over ECR's limit of 10240"]);
}

#[test]
fn malformed_policy_documents_are_refused() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!(
                "INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{{not json')"
            ),
            vec!["row 1: policy_text: the policy is not valid JSON"],
        ),
        (
            format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '[1, 2]')"),
            vec!["row 1: policy_text: the policy must be a JSON object"],
        ),
        (
            format!(
                "INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{}')",
                policy_text("eu-west-1", "A", &["ecr:ReplicateImages"])
            ),
            vec![
                "statement 1: unknown ECR action 'ecr:ReplicateImages'",
                "Did you mean 'ecr:ReplicateImage'?",
            ],
        ),
        (
            format!(
                "INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{}')",
                policy_text("us-east-1", "A", &["ecr:ReplicateImage"])
            ),
            vec!["is in region us-east-1 but this policy is eu-west-1's registry policy"],
        ),
        (
            format!(
                "INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{}')",
                json!({"Version": "2012-10-17", "Statement": []})
            ),
            vec!["Statement must be a non-empty list"],
        ),
        (
            format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', NULL)"),
            vec!["row 1: policy_text is required"],
        ),
        (
            // A region has one policy: two rows for it are refused before any read.
            format!(
                "INSERT INTO {POLICY} (region, policy_text) VALUES ('eu-west-1', '{0}'), ('eu-west-1', '{0}')",
                policy_text("eu-west-1", "A", &["ecr:ReplicateImage"])
            ),
            vec!["rows 1 and 2 both write eu-west-1's registry policy: a region has one"],
        ),
        (
            format!(
                "INSERT INTO {POLICY} (region, registry_id, policy_text) VALUES ('eu-west-1', '123456789012', '{}')",
                policy_text("eu-west-1", "A", &["ecr:ReplicateImage"])
            ),
            vec!["row 1: registry_id: is set by AWS and cannot be given"],
        ),
    ];
    let mut failures = Vec::new();
    for (sql, words) in &cases {
        let sb = demo_sandbox();
        let out = exec(&sb, &[], sql);
        let mut wrong = Vec::new();
        if out.code != 2 {
            wrong.push(format!("exit {}", out.code));
        }
        for word in words.iter().chain(&["nothing was sent"]) {
            if !out.stderr.contains(word) {
                wrong.push(format!("stderr lacks {word:?}"));
            }
        }
        if !sb.log().is_empty() {
            wrong.push(format!("{} call(s) made", sb.log().len()));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{sql}\n  {}\n  stderr: {}",
                wrong.join("; "),
                out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // UPDATE with malformed JSON: refused after reading, before any write.
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &[],
        &format!("UPDATE {POLICY} SET policy_text = '{{\"Version\": ' WHERE region = 'us-east-1'"),
    );
    refused_without_writes(
        &sb,
        &out,
        &["us-east-1: policy_text: the policy is not valid JSON"],
    );
}

#[test]
fn bad_update_values_are_refused_before_any_write() {
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!("UPDATE {POLICY} SET policy_text = NULL WHERE region = 'us-east-1'"),
            vec![
                "policy_text cannot be NULL",
                "DELETE FROM aws.ecr.registry_policy",
            ],
        ),
        (
            format!("UPDATE {STATEMENTS} SET actions = NULL WHERE sid = '{DEMO_SID}'"),
            vec!["actions cannot be NULL"],
        ),
        (
            // What a statement needs, UPDATE cannot remove.
            format!("UPDATE {STATEMENTS} SET resources = NULL WHERE sid = '{DEMO_SID}'"),
            vec![
                "resources cannot be NULL alone",
                "a statement needs resources or not_resources",
            ],
        ),
        (
            format!("UPDATE {STATEMENTS} SET sid = 'Other' WHERE sid = '{DEMO_SID}'"),
            vec!["sid cannot be set"],
        ),
        (
            format!("UPDATE {POLICY} SET registry_id = '1' WHERE region = 'us-east-1'"),
            vec!["registry_id cannot be set"],
        ),
    ];
    for (sql, words) in &cases {
        let sb = demo_sandbox();
        let out = exec(&sb, &[], sql);
        no_call_at_all(&sb);
        refused_without_writes(&sb, &out, words);
    }
    // Constant values are checked before any call, in the regions the WHERE pins: an unknown
    // action, a resource of another region.
    for (set, word) in [
        (
            "actions = ['ecr:BatchImportUpstreamImages']",
            "Did you mean 'ecr:BatchImportUpstreamImage'?",
        ),
        (
            "resources = ['arn:aws:ecr:eu-west-1:123456789012:repository/*']",
            "is in region eu-west-1",
        ),
        ("principals = []", "principals is empty"),
        ("conditions = '{oops'", "conditions is not valid JSON"),
    ] {
        let sb = demo_sandbox();
        let out = exec(
            &sb,
            &[],
            &format!(
                "UPDATE {STATEMENTS} SET {set} WHERE region = 'us-east-1' AND sid = '{DEMO_SID}'"
            ),
        );
        no_call_at_all(&sb);
        refused_without_writes(&sb, &out, &["us-east-1: ", word]);
    }
}

// ---------------------------------------------------------------------------------------------
// Scripts: every statement is checked before the first runs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_row_in_the_last_statement_of_a_script_changes_nothing() {
    for last in [
        insert_statements(&row(
            "ap-southeast-2",
            "Bad",
            "111122223333",
            "['ecr:BatchImportUpstreamImages']",
        )),
        format!("INSERT INTO {POLICY} (region, policy_text) VALUES ('ap-southeast-2', '{{oops')"),
    ] {
        let sb = demo_sandbox();
        let script = format!(
            "{};\nINSERT INTO {POLICY} (region, policy_text) VALUES ('ap-southeast-2', '{}');\nDELETE FROM {STATEMENTS} WHERE region = 'us-east-1' AND sid = '{DEMO_SID}';\n{last};",
            insert_statements(&row(
                "eu-west-1",
                "Good",
                "111122223333",
                "['ecr:DescribeImages']"
            )),
            policy_text("ap-southeast-2", "Good", &["ecr:DescribeImages"]),
        );
        let skyql = Skyql::new(&sb);
        let path = write_file(&skyql.home_dir(), "script.sql", &script);
        let out = skyql.args(["exec", "-f"]).args([&path]).run();
        refused_without_writes(&sb, &out, &["row 1:", "nothing was sent"]);
        assert!(
            !out.stderr.contains("created"),
            "no statement ran: {}",
            out.stderr
        );
    }
}

#[test]
fn a_bad_update_value_in_the_last_statement_of_a_script_changes_nothing() {
    let sb = demo_sandbox();
    let script = format!(
        "{};\nUPDATE {STATEMENTS} SET actions = ['ecr:Bogus'] WHERE region = 'us-east-1' AND sid = '{DEMO_SID}';",
        insert_statements(&row(
            "eu-west-1",
            "Good",
            "111122223333",
            "['ecr:DescribeImages']"
        )),
    );
    let out = exec(&sb, &[], &script);
    refused_without_writes(&sb, &out, &["unknown ECR action 'ecr:Bogus'"]);
}

#[test]
fn a_statement_row_over_the_limit_in_the_last_statement_of_a_script_changes_nothing() {
    let sb = demo_sandbox();
    let resources = (0..200)
        .map(|i| format!("'arn:aws:ecr:ap-southeast-2:123456789012:repository/team{i:04}/*'"))
        .collect::<Vec<_>>()
        .join(", ");
    let script = format!(
        "{};\n{};",
        insert_statements(&row(
            "eu-west-1",
            "Good",
            "111122223333",
            "['ecr:DescribeImages']"
        )),
        insert_statements(&format!(
            "('ap-southeast-2', 'Big', ['111122223333'], ['ecr:*'], [{resources}])"
        )),
    );
    let out = exec(&sb, &[], &script);
    refused_without_writes(&sb, &out, &["over ECR's limit of 10240"]);
}

// ---------------------------------------------------------------------------------------------
// Negated statements (NotPrincipal, NotAction, NotResource): shown, written, never inverted
// ---------------------------------------------------------------------------------------------

/// A Deny of every action but two, for every principal but the CI role.
const NEGATED_SID: &str = "DenyAllButCi";
const CI_ROLE: &str = "arn:aws:iam::123456789012:role/ci";
/// An Allow of replication on every repository but the prod ones.
const NOT_PROD_SID: &str = "ReplicateAllButProd";

fn negated_statement() -> Value {
    json!({
        "Sid": NEGATED_SID,
        "Effect": "Deny",
        "NotPrincipal": { "AWS": CI_ROLE },
        "NotAction": ["ecr:DescribeImages", "ecr:BatchImportUpstreamImage"],
        "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/*",
        "Condition": { "Bool": { "aws:SecureTransport": "true" } },
    })
}

fn not_prod_statement() -> Value {
    json!({
        "Sid": NOT_PROD_SID,
        "Effect": "Allow",
        "Principal": { "AWS": "arn:aws:iam::444455556666:root" },
        "Action": "ecr:ReplicateImage",
        "NotResource": "arn:aws:ecr:us-east-1:123456789012:repository/prod/*",
    })
}

/// us-east-1's policy in `negated_sandbox`: the demo statement and the two negated ones.
fn negated_policy() -> Value {
    json!({ "Version": "2012-10-17",
            "Statement": [demo_statement(), negated_statement(), not_prod_statement()] })
}

/// The demo sandbox with `negated_policy` in us-east-1.
fn negated_sandbox() -> Sandbox {
    let mut config = skyql::sandbox::SandboxConfig::demo();
    config
        .policies
        .insert("us-east-1".into(), negated_policy().to_string());
    common::start(config)
}

/// Asserts that a statement changed nothing: no PutRegistryPolicy or DeleteRegistryPolicy, and
/// us-east-1's policy as `negated_policy`.
#[track_caller]
fn negated_policy_unchanged(sb: &Sandbox) {
    assert_eq!(writes(sb), vec![], "no write may be made");
    assert_eq!(sdk_policy(sb, "us-east-1"), Some(negated_policy()));
}

/// The one PutRegistryPolicy logged, its document's text as sent.
#[track_caller]
fn the_put_text(sb: &Sandbox) -> String {
    let writes = writes(sb);
    assert_eq!(writes.len(), 1, "one write: {writes:#?}");
    assert_eq!(
        (writes[0].0.as_str(), writes[0].1.as_str()),
        (PUT, "us-east-1")
    );
    writes[0].2["policyText"]
        .as_str()
        .expect("policyText")
        .to_string()
}

/// Asserts that every member of `old` but `changed` is in `new`, each byte for byte as JSON.
#[track_caller]
fn members_kept_verbatim(old: &Value, new: &Value, changed: &[&str]) {
    for (member, value) in old.as_object().expect("a statement") {
        if !changed.contains(&member.as_str()) {
            assert_eq!(
                new.get(member).map(Value::to_string),
                Some(value.to_string()),
                "{member} is kept as it was"
            );
        }
    }
}

#[test]
fn negated_members_show_in_their_own_columns_and_queries_can_test_them() {
    let sb = negated_sandbox();
    let rows = select_json(
        &sb,
        &format!(
            "SELECT sid, effect, principals, not_principals, actions, not_actions, resources, \
             not_resources FROM {STATEMENTS} WHERE region = 'us-east-1' ORDER BY sid"
        ),
    );
    // A positive column is NULL, never [], when the statement uses the negated form.
    assert_eq!(
        rows,
        vec![
            json!({"sid": NEGATED_SID, "effect": "Deny",
                   "principals": null, "not_principals": [CI_ROLE],
                   "actions": null,
                   "not_actions": ["ecr:DescribeImages", "ecr:BatchImportUpstreamImage"],
                   "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/*"],
                   "not_resources": null}),
            json!({"sid": DEMO_SID, "effect": "Allow",
                   "principals": [DEMO_USER], "not_principals": null,
                   "actions": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
                   "not_actions": null,
                   "resources": [DEMO_RESOURCE], "not_resources": null}),
            json!({"sid": NOT_PROD_SID, "effect": "Allow",
                   "principals": ["arn:aws:iam::444455556666:root"], "not_principals": null,
                   "actions": ["ecr:ReplicateImage"], "not_actions": null,
                   "resources": null,
                   "not_resources": ["arn:aws:ecr:us-east-1:123456789012:repository/prod/*"]}),
        ]
    );
    // `SELECT *` shows each negated column after its positive one.
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("SELECT * FROM {STATEMENTS} WHERE sid = '{NEGATED_SID}'"),
    );
    out.expect_code(0);
    assert_eq!(
        out.stdout.lines().next(),
        Some(
            "region,registry_id,sid,effect,principals,not_principals,actions,not_actions,\
             resources,not_resources,conditions"
        )
    );
    // Who is granted or denied ReplicateImage: array_has(actions, …) alone misses the Deny of
    // everything but two actions; the negated column finds it.
    let sids = |sql: &str| -> Vec<Value> {
        select_json(&sb, sql)
            .into_iter()
            .map(|r| r["sid"].clone())
            .collect()
    };
    assert_eq!(
        sids(&format!(
            "SELECT sid FROM {STATEMENTS} WHERE array_has(actions, 'ecr:ReplicateImage') \
             OR NOT array_has(not_actions, 'ecr:ReplicateImage') ORDER BY sid"
        )),
        vec![json!(NEGATED_SID), json!(NOT_PROD_SID)]
    );
    assert_eq!(
        sids(&format!(
            "SELECT sid FROM {STATEMENTS} WHERE not_actions IS NOT NULL \
             OR not_principals IS NOT NULL OR not_resources IS NOT NULL ORDER BY sid"
        )),
        vec![json!(NEGATED_SID), json!(NOT_PROD_SID)]
    );
    assert_eq!(writes(&sb), vec![]);
}

#[test]
fn insert_writes_negated_members_checked_as_the_positive_ones() {
    let sb = demo_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "INSERT INTO {STATEMENTS} (region, sid, effect, not_principals, not_actions, resources) \
             VALUES ('us-east-1', '{NEGATED_SID}', 'Deny', ['{CI_ROLE}'], \
             ['ecr:DescribeImages', 'ecr:BatchImportUpstreamImage'], \
             ['arn:aws:ecr:us-east-1:123456789012:repository/*'])"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    let text = the_put_text(&sb);
    // The demo statement is sent exactly as it was.
    assert!(
        text.contains(&demo_statement().to_string()),
        "{text} keeps {}",
        demo_statement()
    );
    let mut expected = negated_statement();
    expected.as_object_mut().unwrap().remove("Condition");
    assert_eq!(
        sdk_statements(&sb, "us-east-1"),
        vec![demo_statement(), expected]
    );

    // Bad rows are refused before any call, with every problem.
    let cases: [(&str, &[&str]); 5] = [
        (
            "['*'], ['bob'], ['ecr:*'], NULL, ['*'], NULL",
            &[
                "row 1: principals and not_principals are both set: a statement has Principal or NotPrincipal, not both (IAM refuses both); keep one",
                "row 1: principal 'bob' is not an IAM ARN",
            ],
        ),
        (
            "NULL, ['111122223333'], NULL, ['ecr:BatchImportUpstreamImages'], ['*'], NULL",
            &[
                "row 1: unknown ECR action 'ecr:BatchImportUpstreamImages'. Did you mean 'ecr:BatchImportUpstreamImage'?",
            ],
        ),
        (
            "['111122223333'], NULL, ['ecr:*'], NULL, NULL, \
             ['arn:aws:ecr:eu-west-1:123456789012:repository/*']",
            &[
                "row 1: resource 'arn:aws:ecr:eu-west-1:123456789012:repository/*' is in region eu-west-1",
            ],
        ),
        (
            "NULL, NULL, ['ecr:*'], NULL, ['*'], NULL",
            &[
                "row 1: principals is empty: name the principals the statement applies to",
                "name those in not_principals",
            ],
        ),
        (
            "['111122223333'], NULL, ['ecr:*'], ['ecr:*'], ['*'], []",
            &[
                "row 1: actions and not_actions are both set",
                "row 1: not_resources is empty: name the resources the statement does not apply to",
            ],
        ),
    ];
    for (values, words) in cases {
        let sb = demo_sandbox();
        let out = exec(
            &sb,
            &[],
            &format!(
                "INSERT INTO {STATEMENTS} (region, sid, principals, not_principals, actions, \
                 not_actions, resources, not_resources) VALUES ('us-east-1', 'Bad', {values})"
            ),
        );
        no_call_at_all(&sb);
        refused_without_writes(&sb, &out, words);
    }
}

#[test]
fn update_of_one_form_on_a_statement_of_the_other_is_refused_with_the_reason() {
    // Known only once the policy is read: the one read, no write.
    let cases: [(String, &[&str]); 4] = [
        (
            format!(
                "UPDATE {STATEMENTS} SET principals = ['{CI_ROLE}'] WHERE sid = '{NEGATED_SID}'"
            ),
            &[
                "us-east-1 DenyAllButCi: the statement has not_principals (NotPrincipal: it applies to every principal but those), so setting principals alone is ambiguous: it would replace NotPrincipal with Principal and invert the statement",
                "set not_principals to change the principals it excepts, or set principals and not_principals = NULL together",
            ],
        ),
        (
            format!(
                "UPDATE {STATEMENTS} SET actions = ['ecr:DescribeImages'] WHERE sid = '{NEGATED_SID}'"
            ),
            &["us-east-1 DenyAllButCi: the statement has not_actions (NotAction"],
        ),
        (
            format!(
                "UPDATE {STATEMENTS} SET not_resources = ['arn:aws:ecr:us-east-1:123456789012:repository/x/*'] \
                 WHERE sid = '{DEMO_SID}'"
            ),
            &[&format!(
                "us-east-1 {DEMO_SID}: the statement has resources (Resource: it applies to those resources), so setting not_resources alone is ambiguous"
            )],
        ),
        (
            // ON CONFLICT DO UPDATE of one form is the same change.
            format!(
                "INSERT INTO {STATEMENTS} (region, sid, effect, principals, actions, resources) \
                 VALUES ('us-east-1', '{NEGATED_SID}', 'Deny', ['{CI_ROLE}'], ['ecr:*'], ['*']) \
                 ON CONFLICT DO UPDATE SET principals = EXCLUDED.principals"
            ),
            &["row 1: with ON CONFLICT DO UPDATE: the statement has not_principals"],
        ),
    ];
    for (sql, words) in &cases {
        for flags in [&[][..], &["--dry-run"][..]] {
            let sb = negated_sandbox();
            let out = exec(&sb, flags, sql);
            out.expect_code(1).expect_stderr(words);
            if !sql.contains("ON CONFLICT") {
                out.expect_stderr(&["no change was made"]);
            }
            assert_eq!(out.stdout, "");
            let log: Vec<String> = sb
                .log()
                .entries()
                .into_iter()
                .map(|e| e.operation)
                .collect();
            assert_eq!(log, vec![GET], "{sql} {flags:?}: the read, and no write");
            negated_policy_unchanged(&sb);
        }
    }
    // What no statement can take is refused before any call.
    for (set, word) in [
        (
            format!("principals = ['{CI_ROLE}'], not_principals = ['{CI_ROLE}']"),
            "principals and not_principals are both set",
        ),
        (
            "principals = NULL".to_string(),
            "principals cannot be NULL alone: a statement needs principals or not_principals",
        ),
        (
            "not_actions = NULL, actions = NULL".to_string(),
            "actions and not_actions cannot both be NULL",
        ),
        ("effect = NULL".to_string(), "effect cannot be NULL"),
        (
            "not_actions = ['ecr:BatchImportUpstreamImages']".to_string(),
            "Did you mean 'ecr:BatchImportUpstreamImage'?",
        ),
    ] {
        let sb = negated_sandbox();
        let out = exec(
            &sb,
            &[],
            &format!(
                "UPDATE {STATEMENTS} SET {set} WHERE region = 'us-east-1' AND sid = '{NEGATED_SID}'"
            ),
        );
        out.expect_code(2)
            .expect_stderr(&["us-east-1: ", word, "nothing was sent"]);
        no_call_at_all(&sb);
        negated_policy_unchanged(&sb);
    }
}

#[test]
fn update_of_a_negated_statement_keeps_every_member_it_does_not_name() {
    let sb = negated_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!(
            "UPDATE {STATEMENTS} SET not_actions = ['ecr:DescribeImages'] WHERE sid = '{NEGATED_SID}'"
        ),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    let text = the_put_text(&sb);
    for other in [demo_statement(), not_prod_statement()] {
        assert!(text.contains(&other.to_string()), "{text} keeps {other}");
    }
    let new = sdk_statement(&sb, "us-east-1", NEGATED_SID);
    assert_eq!(new["NotAction"], json!("ecr:DescribeImages"));
    members_kept_verbatim(&negated_statement(), &new, &["NotAction"]);
    assert_eq!(new.get("Principal"), None, "still a NotPrincipal statement");
    assert_eq!(new.get("Action"), None, "still a NotAction statement");

    // The conversion said in full is allowed: principals set, not_principals NULL.
    sb.log().clear();
    let out = exec(
        &sb,
        &[],
        &format!(
            "UPDATE {STATEMENTS} SET principals = ['{CI_ROLE}'], not_principals = NULL \
             WHERE sid = '{NEGATED_SID}'"
        ),
    );
    out.expect_code(0);
    let before = new;
    let new = sdk_statement(&sb, "us-east-1", NEGATED_SID);
    assert_eq!(new.get("NotPrincipal"), None);
    assert_eq!(new["Principal"], json!({ "AWS": CI_ROLE }));
    members_kept_verbatim(&before, &new, &["NotPrincipal", "Principal"]);
    assert_eq!(
        sdk_statement(&sb, "us-east-1", DEMO_SID).to_string(),
        demo_statement().to_string()
    );

    // A statement of the other forms: a new effect keeps its NotResource and the rest as they are.
    sb.log().clear();
    let out = exec(
        &sb,
        &[],
        &format!("UPDATE {STATEMENTS} SET effect = 'deny' WHERE sid = '{NOT_PROD_SID}'"),
    );
    out.expect_code(0);
    let new = sdk_statement(&sb, "us-east-1", NOT_PROD_SID);
    assert_eq!(new["Effect"], "Deny");
    members_kept_verbatim(&not_prod_statement(), &new, &["Effect"]);
}

#[test]
fn delete_of_a_negated_statement_keeps_the_others_byte_for_byte() {
    let sb = negated_sandbox();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {STATEMENTS} WHERE sid = '{DEMO_SID}'"),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "count\n1\n");
    let text = the_put_text(&sb);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["Statement"],
        json!([negated_statement(), not_prod_statement()])
    );
    for kept in [negated_statement(), not_prod_statement()] {
        assert!(text.contains(&kept.to_string()), "{text} keeps {kept}");
    }
    sb.log().clear();
    let out = exec(
        &sb,
        &["-o", "csv"],
        &format!("DELETE FROM {STATEMENTS} WHERE sid = '{NEGATED_SID}'"),
    );
    out.expect_code(0);
    assert_eq!(sdk_statements(&sb, "us-east-1"), vec![not_prod_statement()]);
}
