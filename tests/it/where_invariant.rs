//! One invariant, tested generatively: a write touches exactly the rows that a SELECT with the
//! same WHERE returns, or it is refused with exit code 2 and no API call at all.
//!
//! For each generated WHERE `w` over the rules, the registry policy statements, the
//! repositories and the images, against one sandbox shared by the whole property (the demo
//! data, plus registry policies in eu-west-1 and ap-southeast-2 so the statements table has
//! more than one row):
//! - `SELECT <region>, <identifier> FROM <table> WHERE w` over the three demo regions gives a
//!   set S of rows, or an error;
//! - `DELETE FROM <table> WHERE w` and a no-op `UPDATE <table> SET … WHERE w` (images have no
//!   UPDATE), run with
//!   `--dry-run --allow-bulk`, must list exactly S as their matches, and the DELETE must plan
//!   exactly the calls that remove S;
//! - a SELECT refused with exit 2 made no request, and the DML must then be refused with exit 2
//!   and no request too (as it must when the SELECT fails at run time: there is no S then);
//!   a DML refused with exit 2 (subqueries, by design) made no request;
//! - nothing else (exit 1, a mutating request in a dry run, a mismatch) is allowed.
//!
//! The runs are bounded (64 cases per table, a fixed seed unless `PROPTEST_RNG_SEED` is set;
//! `PROPTEST_CASES` raises the count for a local hunt).

use crate::common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use common::cli::{DEMO_REGIONS, column, settings};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use regex::Regex;
use serde_json::Value;
use skyql::sandbox::{LoggedRequest, Sandbox, SandboxConfig};
use skyql::session::{QueryResult, Session, SessionOptions};

/// The rules table.
const RULES: &str = "aws.ecr.pull_through_cache_rules";
/// The registry policy statements table.
const STATEMENTS: &str = "aws.ecr.registry_policy_statements";
/// Whether an operation changes something (a dry run must make none): every ECR operation
/// that reads is named Describe*, Get*, List* or Validate*.
fn is_mutating(operation: &str) -> bool {
    !["Describe", "Get", "List", "Validate"]
        .iter()
        .any(|read| operation.starts_with(read))
}
/// The demo's registry policy statement (us-east-1).
const DEMO_SID: &str = "PullThroughCacheFromReadOnlyRole";

/// A row's identity: (region, identifier).
type Row = (String, String);

// ---------------------------------------------------------------------------------------------
// The sandbox and the sessions, shared by every case
// ---------------------------------------------------------------------------------------------

/// Two more registry policies besides the demo's us-east-1 one: two statements each, one of
/// them with the demo's sid in another region (rows are identified by region and sid).
fn config() -> SandboxConfig {
    let mut config = SandboxConfig::demo();
    config.policies.insert(
        "eu-west-1".into(),
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReplicationFromProd",
                    "Effect": "Allow",
                    "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
                    "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                    "Resource": "arn:aws:ecr:eu-west-1:123456789012:repository/*"
                },
                {
                    "Sid": "DenyGhcrImport",
                    "Effect": "Deny",
                    "Principal": { "AWS": "arn:aws:iam::444455556666:role/ci" },
                    "Action": "ecr:BatchImportUpstreamImage",
                    "Resource": "arn:aws:ecr:eu-west-1:123456789012:repository/ghcr/*",
                    "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-abc123def4" } }
                }
            ]
        })
        .to_string(),
    );
    config.policies.insert(
        "ap-southeast-2".into(),
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": DEMO_SID,
                    "Effect": "Allow",
                    "Principal": { "AWS": "arn:aws:iam::111122223333:user/ecr-pull-through-cache-user" },
                    "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
                    "Resource": "arn:aws:ecr:ap-southeast-2:123456789012:repository/quay/*"
                },
                {
                    "Sid": "Team42",
                    "Effect": "Allow",
                    "Principal": { "AWS": ["arn:aws:iam::444455556666:role/ci", "444455556666"] },
                    "Action": "ecr:CreateRepository",
                    "Resource": [
                        "arn:aws:ecr:ap-southeast-2:123456789012:repository/team42/*",
                        "arn:aws:ecr:ap-southeast-2:123456789012:repository/ecr-public/*"
                    ]
                }
            ]
        })
        .to_string(),
    );
    config
}

/// What one statement did: its result, and the requests the sandbox logged meanwhile.
struct Outcome {
    result: skyql::Result<QueryResult>,
    requests: Vec<LoggedRequest>,
}

impl Outcome {
    fn code(&self) -> i32 {
        match &self.result {
            Ok(_) => 0,
            Err(e) => e.exit_code(),
        }
    }

    fn describe(&self) -> String {
        let result = match &self.result {
            Ok(r) => format!("ok, notes {:#?}", r.notes),
            Err(e) => format!("exit {}: {e}", e.exit_code()),
        };
        let requests: Vec<String> = self
            .requests
            .iter()
            .map(|r| format!("{} {}", r.operation, r.region.as_deref().unwrap_or("-")))
            .collect();
        format!("{result}\n  requests: {requests:?}")
    }

    fn mutating_requests(&self) -> Vec<&LoggedRequest> {
        self.requests
            .iter()
            .filter(|r| is_mutating(&r.operation))
            .collect()
    }
}

/// The sandbox, a runtime, a session that reads, and one that dry-runs DML with bulk allowed.
struct Harness {
    sb: Sandbox,
    runtime: tokio::runtime::Runtime,
    reader: Session,
    dry: Session,
    /// How many cases ended which way (`DELETE ran, matched some`, …), to show what was covered.
    tally: RefCell<BTreeMap<String, usize>>,
}

impl Harness {
    fn new() -> Self {
        let sb = common::start(config());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let open = |dry_run: bool| {
            runtime
                .block_on(Session::new(SessionOptions {
                    aws: settings(&sb, &DEMO_REGIONS),
                    dry_run,
                    allow_bulk: dry_run,
                    ..SessionOptions::default()
                }))
                .expect("the session opens")
        };
        let (reader, dry) = (open(false), open(true));
        Self {
            sb,
            runtime,
            reader,
            dry,
            tally: RefCell::default(),
        }
    }

    /// Counts one way a case ended.
    fn count(&self, what: String) {
        *self.tally.borrow_mut().entry(what).or_default() += 1;
    }

    /// How many cases ended `what`.
    fn counted(&self, what: &str) -> usize {
        self.tally.borrow().get(what).copied().unwrap_or_default()
    }

    /// Runs one statement, with the requests it made.
    fn run(&self, session: &Session, sql: &str) -> Outcome {
        let before = self.sb.log().len();
        let result = self.runtime.block_on(session.sql(sql)).map(|mut results| {
            assert_eq!(results.len(), 1, "one statement: {sql}");
            results.remove(0)
        });
        if result.is_err() {
            self.settle();
        }
        let requests = self.sb.log().entries().split_off(before);
        Outcome { result, requests }
    }

    /// Waits until the sandbox has logged every request already sent: a statement that fails in
    /// one region returns while its calls to the others may still be in flight, and those must
    /// be counted as its own, not as the next statement's.
    fn settle(&self) {
        let mut last = self.sb.log().len();
        let mut stable = 0;
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let now = self.sb.log().len();
            stable = if now == last { stable + 1 } else { 0 };
            last = now;
            if stable == 5 {
                return;
            }
        }
    }

    /// The rows a successful SELECT returned, as (region, identifier).
    fn rows(result: &QueryResult, id: &str) -> Vec<Row> {
        column(result, "region")
            .into_iter()
            .zip(column(result, id))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The notes of a dry run
// ---------------------------------------------------------------------------------------------

/// `DELETE matches 2 rule(s): us-east-1 quay, eu-west-1 k8s` (and the bulk and statement forms).
static MATCHES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(DELETE|UPDATE) (?:without (?:pinned identifiers|a pinned sid) )?matches (\d+) (?:rule|statement|repository|image)\(s\): ?(.*)$",
    )
    .expect("valid regex")
});

/// What a dry run said it matched: the rows listed, in order, and whether it said its WHERE is
/// always false (then nothing may be listed, and no region may be read).
#[derive(Debug, PartialEq)]
struct Matched {
    never: bool,
    rows: Vec<Row>,
}

/// The match notes of `verb`, checked for consistency: at most one list, whose count and items
/// agree; an always-false WHERE may say so instead of (or besides) an empty list.
fn matched(notes: &[String], verb: &str) -> Result<Matched, String> {
    let never = format!("{verb} matches no row: its WHERE is always false");
    let nevers = notes.iter().filter(|n| n.starts_with(&never)).count();
    let lists: Vec<_> = notes
        .iter()
        .filter_map(|n| MATCHES.captures(n))
        .filter(|c| &c[1] == verb)
        .collect();
    let rows = match lists.as_slice() {
        [] if nevers == 1 => Vec::new(),
        [c] if nevers <= 1 => {
            let n: usize = c[2].parse().map_err(|e| format!("count: {e}"))?;
            let rows: Vec<Row> = if c[3].is_empty() {
                Vec::new()
            } else {
                c[3].split(", ")
                    .map(|item| {
                        item.split_once(' ')
                            .map(|(r, id)| (r.to_string(), id.to_string()))
                            .ok_or_else(|| format!("not 'region id': {item:?}"))
                    })
                    .collect::<Result<_, _>>()?
            };
            if rows.len() != n {
                return Err(format!("says {n} but lists {}: {rows:?}", rows.len()));
            }
            rows
        }
        _ => {
            return Err(format!(
                "expected one match note of {verb}, found {nevers} 'always false' and {} lists",
                lists.len()
            ));
        }
    };
    if nevers == 1 && !rows.is_empty() {
        return Err(format!("says its WHERE is always false but lists {rows:?}"));
    }
    Ok(Matched {
        never: nevers == 1,
        rows,
    })
}

/// The calls a dry run planned (`  <Operation> <region> <JSON parameters>`).
fn planned(notes: &[String]) -> Result<Vec<(String, String, Value)>, String> {
    notes
        .iter()
        .filter_map(|n| n.strip_prefix("  "))
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let (Some(op), Some(region), Some(json)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("not a planned call: {line:?}"));
            };
            let params =
                serde_json::from_str(json).map_err(|e| format!("parameters ({e}): {line:?}"))?;
            Ok((op.to_string(), region.to_string(), params))
        })
        .collect()
}

/// The `count` a DML statement answered.
fn count(result: &QueryResult) -> Option<u64> {
    column(result, "count").first()?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

/// One table under test.
struct Table {
    name: &'static str,
    /// The column that identifies a row within its region in the SELECT (and its expression,
    /// where a row is named by two columns: an image is `repository@digest`).
    id: &'static str,
    id_expr: &'static str,
    /// A no-op UPDATE assignment that DataFusion keeps (it drops `SET c = c`); `None` for a
    /// table without UPDATE.
    noop_set: Option<&'static str>,
    /// The operation a DELETE plans, and the rows (ids) one of its calls removes.
    delete_op: &'static str,
    deleted_by: fn(&Value) -> Vec<String>,
}

const RULES_TABLE: Table = Table {
    name: RULES,
    id: "ecr_repository_prefix",
    id_expr: "ecr_repository_prefix",
    noop_set: Some("credential_arn = credential_arn || ''"),
    delete_op: "DeletePullThroughCacheRule",
    deleted_by: |p| member(p, "ecrRepositoryPrefix"),
};

/// (A DELETE of statements rewrites its region's policy: `statement_calls` checks it.)
const STATEMENTS_TABLE: Table = Table {
    name: STATEMENTS,
    id: "sid",
    id_expr: "sid",
    noop_set: Some("effect = effect || ''"),
    delete_op: "PutRegistryPolicy",
    deleted_by: |_| Vec::new(),
};

const REPOSITORIES_TABLE: Table = Table {
    name: "aws.ecr.repositories",
    id: "repository_name",
    id_expr: "repository_name",
    noop_set: Some("image_tag_mutability = image_tag_mutability || ''"),
    delete_op: "DeleteRepository",
    deleted_by: |p| member(p, "repositoryName"),
};

const IMAGES_TABLE: Table = Table {
    name: "aws.ecr.images",
    id: "image",
    id_expr: "repository_name || '@' || image_digest AS image",
    noop_set: None,
    delete_op: "BatchDeleteImage",
    deleted_by: |p| {
        let repository = p["repositoryName"].as_str().unwrap_or_default();
        let ids = p["imageIds"].as_array().cloned().unwrap_or_default();
        (ids.iter())
            .map(|i| {
                format!(
                    "{repository}@{}",
                    i["imageDigest"].as_str().unwrap_or_default()
                )
            })
            .collect()
    },
};

/// A string member of a call, as the one row it names.
fn member(params: &Value, name: &str) -> Vec<String> {
    vec![params[name].as_str().unwrap_or_default().to_string()]
}

/// Checks the invariant for one WHERE; `all` is every row of the table (for the DELETE plan).
fn check(
    h: &Harness,
    table: &Table,
    all: &BTreeMap<String, BTreeSet<String>>,
    w: &str,
) -> Result<(), String> {
    let select = format!(
        "SELECT region, {} FROM {} WHERE {w}",
        table.id_expr, table.name
    );
    let read = h.run(&h.reader, &select);
    let expected: Option<BTreeSet<Row>> = match &read.result {
        Ok(result) => {
            let rows = Harness::rows(result, table.id);
            let set: BTreeSet<Row> = rows.iter().cloned().collect();
            if set.len() != rows.len() {
                return Err(format!("{select}\n  returned a row twice: {rows:?}"));
            }
            Some(set)
        }
        Err(e) if e.exit_code() == 2 => {
            if !read.requests.is_empty() {
                return Err(format!(
                    "{select}\n  was refused with exit 2 after requests: {}",
                    read.describe()
                ));
            }
            None
        }
        // No set to compare with: the writes below must then be refused (exit 2, no request).
        Err(e) => {
            let reason: String = e.to_string().chars().take(48).collect();
            h.count(format!("SELECT failed with exit 1: {reason}…"));
            None
        }
    };

    let update = (table.noop_set).map(|set| {
        (
            "UPDATE",
            format!("UPDATE {} SET {set} WHERE {w}", table.name),
        )
    });
    let delete = ("DELETE", format!("DELETE FROM {} WHERE {w}", table.name));
    for (verb, sql) in std::iter::once(delete).chain(update) {
        let write = h.run(&h.dry, &sql);
        let context = || {
            format!(
                "{sql}\n  SELECT: {}\n  {verb}: {}",
                read.describe(),
                write.describe()
            )
        };
        if !write.mutating_requests().is_empty() {
            return Err(format!("a dry run made a mutating request\n{}", context()));
        }
        match (&expected, &write.result) {
            // Refused: only with exit 2, and with nothing sent (a SELECT that is refused must
            // see its write refused too, so this is the only way both can fail).
            (_, Err(e)) => {
                if write.code() != 2 || !write.requests.is_empty() {
                    return Err(format!(
                        "the {verb} failed other than by a refusal with no request\n{}",
                        context()
                    ));
                }
                if expected.is_some() {
                    let reason: String = e.to_string().chars().take(48).collect();
                    h.count(format!("{verb} refused alone: {reason}…"));
                } else {
                    h.count(format!("{verb} refused with the SELECT"));
                }
            }
            (None, Ok(_)) => {
                return Err(format!(
                    "the SELECT failed but the {verb} ran\n{}",
                    context()
                ));
            }
            (Some(s), Ok(result)) => {
                let found =
                    matched(&result.notes, verb).map_err(|e| format!("{e}\n{}", context()))?;
                if found.never && !write.requests.is_empty() {
                    return Err(format!(
                        "an always-false WHERE made requests\n{}",
                        context()
                    ));
                }
                let rows = found.rows;
                h.count(format!(
                    "{verb} ran, matched {}",
                    if rows.is_empty() { "none" } else { "some" }
                ));
                let set: BTreeSet<Row> = rows.iter().cloned().collect();
                if set.len() != rows.len() || &set != s {
                    return Err(format!(
                        "the {verb} matches {rows:?} but the SELECT returns {s:?}\n{}",
                        context()
                    ));
                }
                let calls = planned(&result.notes).map_err(|e| format!("{e}\n{}", context()))?;
                let verdict = if table.name == STATEMENTS {
                    statement_calls(verb, s, all, &calls)
                } else {
                    item_calls(table, verb, s, &calls)
                };
                verdict.map_err(|e| format!("{e}\n{}", context()))?;
                if verb == "DELETE" && count(result) != Some(s.len() as u64) {
                    return Err(format!(
                        "the DELETE counts {:?}, not {}\n{}",
                        count(result),
                        s.len(),
                        context()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The items a dry run plans to delete are exactly S (each once); an UPDATE that changes
/// nothing plans nothing (and never touches an item outside S).
fn item_calls(
    table: &Table,
    verb: &str,
    s: &BTreeSet<Row>,
    calls: &[(String, String, Value)],
) -> Result<(), String> {
    let mut touched = Vec::new();
    for (op, region, params) in calls {
        if verb == "UPDATE" || op != table.delete_op {
            return Err(format!("the {verb} plans {op}"));
        }
        touched.extend(
            (table.deleted_by)(params)
                .into_iter()
                .map(|id| (region.clone(), id)),
        );
    }
    let set: BTreeSet<Row> = touched.iter().cloned().collect();
    if set.len() != touched.len() {
        return Err(format!("the {verb} plans a call twice: {touched:?}"));
    }
    let ok = if verb == "DELETE" {
        &set == s
    } else {
        set.is_empty()
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the {verb} plans calls on {set:?}, the SELECT returns {s:?}"
        ))
    }
}

/// A DELETE of statements plans, per region of S, DeleteRegistryPolicy when S holds all of the
/// region's statements, else a PutRegistryPolicy of exactly the others; nothing elsewhere. An
/// UPDATE that changes nothing plans nothing outside S's regions.
fn statement_calls(
    verb: &str,
    s: &BTreeSet<Row>,
    all: &BTreeMap<String, BTreeSet<String>>,
    calls: &[(String, String, Value)],
) -> Result<(), String> {
    let mut by_region: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (region, sid) in s {
        by_region.entry(region).or_default().insert(sid);
    }
    let regions: Vec<&str> = calls.iter().map(|(_, r, _)| r.as_str()).collect();
    let distinct: BTreeSet<&str> = regions.iter().copied().collect();
    if distinct.len() != regions.len() {
        return Err(format!(
            "the {verb} plans two calls in one region: {regions:?}"
        ));
    }
    if verb == "UPDATE" {
        return match distinct.iter().find(|r| !by_region.contains_key(*r)) {
            Some(r) => Err(format!(
                "the UPDATE plans a call in {r}, where it matched nothing"
            )),
            None => Ok(()),
        };
    }
    if distinct != by_region.keys().copied().collect() {
        return Err(format!(
            "the DELETE plans calls in {distinct:?}, the SELECT returns rows in {:?}",
            by_region.keys().collect::<Vec<_>>()
        ));
    }
    for (op, region, params) in calls {
        let existing: BTreeSet<&str> = all
            .get(region)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let kept: BTreeSet<&str> = existing
            .difference(&by_region[region.as_str()])
            .copied()
            .collect();
        match op.as_str() {
            "DeleteRegistryPolicy" if kept.is_empty() => {}
            "PutRegistryPolicy" if !kept.is_empty() => {
                let text = params["policyText"].as_str().unwrap_or_default();
                let doc: Value =
                    serde_json::from_str(text).map_err(|e| format!("policyText ({e}): {text}"))?;
                let sids: BTreeSet<&str> = match &doc["Statement"] {
                    Value::Array(list) => list.iter().filter_map(|s| s["Sid"].as_str()).collect(),
                    one => one["Sid"].as_str().into_iter().collect(),
                };
                if sids != kept {
                    return Err(format!(
                        "the DELETE puts {sids:?} in {region}, keeping {kept:?} was expected"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "the DELETE plans {op} in {region}, keeping {kept:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Every row of a table, by region (checks the setup too).
fn baseline(h: &Harness, table: &Table) -> BTreeMap<String, BTreeSet<String>> {
    let sql = format!("SELECT region, {} FROM {}", table.id_expr, table.name);
    let out = h.run(&h.reader, &sql);
    let result = out.result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (region, id) in Harness::rows(&result, table.id) {
        all.entry(region).or_default().insert(id);
    }
    all
}

/// The property's configuration: 64 cases (or `PROPTEST_CASES`), no persistence file, and a
/// fixed seed (or `PROPTEST_RNG_SEED`) so CI runs the same cases every time.
fn proptest_config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let rng_seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(RngSeed::Fixed(0x5eed_57a7), RngSeed::Fixed);
    Config {
        cases,
        failure_persistence: None,
        rng_seed,
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// Runs the property over `strategy` for `table`.
fn property(table: &Table, strategy: BoxedStrategy<String>, expected_rows: usize) {
    let h = Harness::new();
    let all = baseline(&h, table);
    assert_eq!(
        all.values().map(BTreeSet::len).sum::<usize>(),
        expected_rows,
        "the sandbox's {} rows: {all:?}",
        table.name
    );
    let mut runner = TestRunner::new(proptest_config());
    let outcome = runner.run(&strategy, |w| {
        check(&h, table, &all, &w).map_err(TestCaseError::fail)
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let tally = h.tally.borrow().clone();
    eprintln!("{}: {tally:#?}", table.name);
    // The generators must keep reaching every kind of case, or the property proves little.
    let verbs = match table.noop_set {
        Some(_) => &["DELETE", "UPDATE"][..],
        None => &["DELETE"][..],
    };
    for verb in verbs {
        for what in [
            "ran, matched some",
            "ran, matched none",
            "refused with the SELECT",
        ] {
            assert!(
                h.counted(&format!("{verb} {what}")) > 0,
                "no case where the {verb} {what}: {tally:#?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Region values: the demo's, known regions outside the session's, and names that are no region.
const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "eu-central-1",
    "us-west-2",
    "us-east-7",
    "mars-north-1",
    "US-EAST-1",
];

/// Repository prefixes: the demo's, their trailing-slash forms, absent ones, and invalid ones.
const PREFIXES: &[&str] = &[
    "quay",
    "quay/",
    "k8s",
    "ecr-public",
    "ecr-public/",
    "docker-hub",
    "ghcr",
    "gitlab",
    "prod-mirror",
    "acr",
    "no-such-rule",
    "team/quay",
    "ROOT",
    "quay//",
    "q",
    "Quay",
    "a b",
    "/",
];

/// Registry ids: the sandbox's account, another, and one that is no account id.
const REGISTRY_IDS: &[&str] = &["123456789012", "111122223333", "12345"];

/// Statement ids: the sandbox's, an absent one, and invalid ones.
const SIDS: &[&str] = &[
    DEMO_SID,
    "ReplicationFromProd",
    "DenyGhcrImport",
    "Team42",
    "NoSuchStatement",
    "bad sid",
    "x-y",
    "",
];

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `col = 'v'`, `'v' = col`, `col <> 'v'`, `col IN (…)`, `col NOT IN (…)` over `values`.
fn compare(
    columns: &'static [&'static str],
    values: &'static [&'static str],
) -> BoxedStrategy<String> {
    prop_oneof![
        (
            select(columns),
            select(values),
            select(vec!["=", "<>"]),
            any::<bool>()
        )
            .prop_map(|(c, v, op, flipped)| if flipped {
                format!("'{v}' {op} {c}")
            } else {
                format!("{c} {op} '{v}'")
            }),
        (
            select(columns),
            proptest::collection::vec(select(values), 1..4),
            any::<bool>()
        )
            .prop_map(|(c, vs, not)| format!(
                "{c} {}IN ({})",
                if not { "NOT " } else { "" },
                quoted(&vs)
            )),
    ]
    .boxed()
}

/// Parts whose value does not depend on the row.
fn constants() -> BoxedStrategy<String> {
    select(vec![
        "1 = 1",
        "1 = 0",
        "true",
        "false",
        "NOT true",
        "NULL IS NULL",
        "CAST(NULL AS BOOLEAN)",
        "region = NULL",
    ])
    .prop_map(str::to_string)
    .boxed()
}

/// AND, OR and NOT over `leaf`, at most three levels deep.
fn combined(leaf: BoxedStrategy<String>) -> BoxedStrategy<String> {
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            2 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
            2 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            1 => inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
    .boxed()
}

/// WHERE clauses over the rules table.
fn rule_where() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => compare(&["region"], REGIONS),
        4 => compare(&["ecr_repository_prefix", "data__Identifier"], PREFIXES),
        1 => compare(
            &["upstream_registry"],
            &["quay", "github-container-registry", "ecr", "docker-hub"],
        ),
        1 => compare(&["upstream_registry_url"], &["quay.io", "public.ecr.aws", "ghcr.io"]),
        1 => compare(&["registry_id"], REGISTRY_IDS),
        2 => select(vec![
            "credential_arn IS NULL",
            "credential_arn IS NOT NULL",
            "upstream_registry IS NULL",
            "custom_role_arn IS NOT NULL",
            "upstream_repository_prefix = 'prod'",
            "credential_arn = NULL",
            "registry_id IS NULL",
            "created_at < now()",
            "created_at = TIMESTAMP '2025-06-01T12:00:00Z'",
            "updated_at IS NULL",
            "updated_at >= created_at",
            "is_valid = true",
            "validation_failure IS NOT NULL",
        ])
        .prop_map(str::to_string),
        2 => select(vec![
            "starts_with(ecr_repository_prefix, 'e')",
            "length(ecr_repository_prefix) > 4",
            "regexp_like(ecr_repository_prefix, '^[a-k]')",
            "ecr_repository_prefix BETWEEN 'a' AND 'h'",
            "coalesce(credential_arn, '') = ''",
            "upper(region) = 'EU-WEST-1'",
            "CASE WHEN region = 'us-east-1' THEN true ELSE false END",
            "ecr_repository_prefix IS NULL",
            "region = ecr_repository_prefix",
            "data__identifier = 'ghcr'",
            "ecr_repository_prefix || '/' = 'quay/'",
            "region = 5",
            "length(region) = 'x'",
        ])
        .prop_map(str::to_string),
        1 => (
            select(vec!["ecr_repository_prefix", "upstream_registry_url"]),
            select(vec!["%hub%", "e%", "%.io", "q%", "%"]),
            any::<bool>(),
        )
            .prop_map(|(c, p, not)| format!("{c} {}LIKE '{p}'", if not { "NOT " } else { "" })),
        1 => constants(),
        1 => select(vec![
            "ecr_repository_prefix IN (SELECT 'quay')",
            "ecr_repository_prefix NOT IN (SELECT 'k8s')",
            "EXISTS (SELECT 1)",
            "NOT EXISTS (SELECT 1 WHERE false)",
            "ecr_repository_prefix = (SELECT 'ghcr')",
            "region IN (SELECT 'eu-west-1')",
        ])
        .prop_map(str::to_string),
    ];
    combined(leaf.boxed())
}

/// WHERE clauses over the statements table.
fn statement_where() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => compare(&["region"], REGIONS),
        4 => compare(&["sid"], SIDS),
        1 => compare(&["effect"], &["Allow", "Deny", "allow"]),
        1 => compare(&["registry_id"], REGISTRY_IDS),
        2 => select(vec![
            "array_has(actions, 'ecr:CreateRepository')",
            "array_has(actions, 'ecr:ReplicateImage')",
            "array_has(principals, '444455556666')",
            "cardinality(resources) > 1",
            "conditions IS NULL",
            "conditions IS NOT NULL",
            "conditions LIKE '%PrincipalOrgID%'",
            "sid IS NULL",
            "registry_id IS NULL",
            "sid LIKE 'Pull%'",
            "sid LIKE '%o%'",
            "lower(effect) = 'deny'",
            "starts_with(sid, 'T')",
            "array_has(principals, sid)",
            "cardinality(actions) = 2",
            "resources[1] LIKE '%ecr-public%'",
            "CASE WHEN effect = 'Deny' THEN region <> 'eu-west-1' ELSE true END",
            "sid = 5",
        ])
        .prop_map(str::to_string),
        1 => constants(),
        1 => select(vec![
            "sid IN (SELECT 'Team42')",
            "sid NOT IN (SELECT 'DenyGhcrImport')",
            "EXISTS (SELECT 1)",
            "sid = (SELECT 'ReplicationFromProd')",
        ])
        .prop_map(str::to_string),
    ];
    combined(leaf.boxed())
}

/// Repository names: the demo's, absent ones, and ones ECR's pattern refuses.
const REPOSITORY_NAMES: &[&str] = &[
    "docker-hub/library/nginx",
    "docker-hub/library/python",
    "k8s/pause",
    "team/scratch",
    "quay/prometheus/prometheus",
    "docker-hub/library/redis",
    "quay/coreos/etcd",
    "no/such",
    "Team/Scratch",
    "a b",
    "x",
];

/// WHERE clauses over the repositories table.
fn repository_where() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => compare(&["region"], REGIONS),
        4 => compare(&["repository_name"], REPOSITORY_NAMES),
        1 => compare(&["image_tag_mutability"], &["MUTABLE", "IMMUTABLE", "mutable"]),
        1 => compare(&["registry_id"], REGISTRY_IDS),
        2 => select(vec![
            "scan_on_push",
            "NOT scan_on_push",
            "scan_on_push IS NULL",
            "encryption_type = 'AES256'",
            "kms_key IS NOT NULL",
            "lifecycle_policy IS NULL",
            "lifecycle_policy LIKE '%sinceImagePulled%'",
            "repository_policy IS NOT NULL",
            "tags LIKE '%platform%'",
            "created_at < TIMESTAMP '2024-06-01T00:00:00Z'",
            "repository_uri LIKE '%.dkr.ecr.eu-west-1.%'",
            "length(repository_name) > 12",
            "repository_name = 5",
        ])
        .prop_map(str::to_string),
        2 => (
            select(vec!["docker-hub/%", "quay/%", "%/library/%", "k8s/%", "team/%", "%"]),
            any::<bool>(),
        )
            .prop_map(|(p, not)| format!("repository_name {}LIKE '{p}'", if not { "NOT " } else { "" })),
        1 => constants(),
        1 => select(vec![
            "repository_name IN (SELECT 'k8s/pause')",
            "EXISTS (SELECT 1)",
        ])
        .prop_map(str::to_string),
    ];
    combined(leaf.boxed())
}

/// Image digests: two of the demo's, an absent one and one that is no digest.
const DIGESTS: &[&str] = &[
    "sha256:efc553da16aa59833a9a50e70d0ae46c45231e4a9fae8e701aa19adbdf1a1792",
    "sha256:3de9bdde3c62d89ffc56324b38943087b3fe1c5afd1741f41a226f2e686f22e5",
    "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "latest",
];

/// WHERE clauses over the images table.
fn image_where() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        3 => compare(&["region"], REGIONS),
        3 => compare(&["repository_name"], REPOSITORY_NAMES),
        2 => compare(&["image_digest"], DIGESTS),
        2 => select(vec![
            "image_size_bytes > 100000000",
            "last_recorded_pull_time IS NULL",
            "last_recorded_pull_time < TIMESTAMP '2025-03-03T00:00:00Z'",
            "coalesce(last_recorded_pull_time, image_pushed_at) < TIMESTAMP '2025-03-03T00:00:00Z'",
            "array_has(image_tags, '3.9')",
            "image_tags IS NULL",
            "cardinality(image_tags) = 1",
            "image_status = 'ACTIVE'",
            "image_digest LIKE 'sha256:3%'",
            "image_size_bytes = 'x'",
        ])
        .prop_map(str::to_string),
        2 => (
            select(vec!["docker-hub/%", "quay/%", "quay/p%", "%/library/%", "k8s/%", "%"]),
            any::<bool>(),
        )
            .prop_map(|(p, not)| format!("repository_name {}LIKE '{p}'", if not { "NOT " } else { "" })),
        1 => constants(),
        1 => select(vec![
            "repository_name IN (SELECT 'k8s/pause')",
            "image_digest = (SELECT 'latest')",
        ])
        .prop_map(str::to_string),
    ];
    combined(leaf.boxed())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn rules_write_exactly_what_select_returns() {
    property(&RULES_TABLE, rule_where(), 12);
}

#[test]
fn statements_write_exactly_what_select_returns() {
    property(&STATEMENTS_TABLE, statement_where(), 5);
}

#[test]
fn repositories_write_exactly_what_select_returns() {
    property(&REPOSITORIES_TABLE, repository_where(), 15);
}

#[test]
fn images_write_exactly_what_select_returns() {
    property(&IMAGES_TABLE, image_where(), 21);
}

/// Hand-picked WHERE clauses the generators may not hit with the fixed seed: the trailing slash,
/// the alias, invalid values, provably false parts and subqueries.
#[test]
fn chosen_clauses_hold_the_invariant() {
    let h = Harness::new();
    let rules = baseline(&h, &RULES_TABLE);
    let statements = baseline(&h, &STATEMENTS_TABLE);
    let mut failures = Vec::new();
    for w in [
        "ecr_repository_prefix = 'quay/'",
        "data__Identifier IN ('quay/', 'k8s') AND region <> 'ap-southeast-2'",
        "ecr_repository_prefix = 'q'",
        "region = 'us-east-7'",
        "region = 'eu-central-1'",
        "ecr_repository_prefix = 'quay' AND 1 = 0",
        "ecr_repository_prefix = 'q' AND 1 = 0",
        "credential_arn = NULL",
        "NOT (ecr_repository_prefix <> 'ghcr')",
        "ecr_repository_prefix IN (SELECT 'quay')",
        "upstream_registry_url LIKE '%hub%' OR ecr_repository_prefix LIKE 'e%'",
        "region = 5",
        "region = 5 OR EXISTS (SELECT 1)",
        "created_at = TIMESTAMP '2025-06-01T12:00:00Z' AND is_valid = true",
    ] {
        if let Err(e) = check(&h, &RULES_TABLE, &rules, w) {
            failures.push(e);
        }
    }
    for w in [
        &format!("sid = '{DEMO_SID}'"),
        "sid = 'bad sid'",
        "region = 'ap-southeast-2' AND sid <> 'Team42'",
        "array_has(actions, 'ecr:CreateRepository') AND region <> 'us-east-1'",
        "sid IN (SELECT 'Team42')",
        "false",
    ] {
        if let Err(e) = check(&h, &STATEMENTS_TABLE, &statements, w) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Regressions the property found
// ---------------------------------------------------------------------------------------------

/// Runs `check` for each WHERE and fails with every violation.
fn assert_invariant(table: &Table, clauses: &[&str]) {
    let h = Harness::new();
    let all = baseline(&h, table);
    let failures: Vec<String> = clauses
        .iter()
        .filter_map(|w| check(&h, table, &all, w).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `now()` in the WHERE of UPDATE/DELETE was left unfolded by the WHERE the session reads from
/// the statement, so the write failed with exit 1 ("invoke should not be called on a simplified
/// now() function") after reading a region, while the SELECT answered.
#[test]
fn regression_now_in_a_write_where() {
    assert_invariant(
        &RULES_TABLE,
        &[
            "created_at < now()",
            "ecr_repository_prefix = 'quay' AND created_at < now()",
            "NOT (created_at < now() OR region = 'us-east-1')",
        ],
    );
    assert_invariant(
        &STATEMENTS_TABLE,
        &["sid = 'Team42' AND now() > TIMESTAMP '2000-01-01T00:00:00Z'"],
    );
}

/// The registry policy tables' UPDATE/DELETE read the policies with registry_id NULL, while
/// SELECT fills it with the account id: `WHERE registry_id = '123456789012'` writes nothing
/// although the SELECT returns every statement, and `WHERE registry_id IS NULL` writes every
/// statement (a DELETE would delete the policies) although the SELECT returns none.
#[test]
fn regression_registry_id_in_a_statements_write_where() {
    assert_invariant(
        &STATEMENTS_TABLE,
        &[
            "registry_id = '123456789012'",
            "registry_id IS NULL",
            "region = 'us-east-1' AND registry_id IS NOT NULL",
        ],
    );
}

/// The same for the whole-policy table: a DELETE must match the policies the SELECT returns.
#[test]
fn regression_registry_id_in_a_policy_delete_where() {
    let h = Harness::new();
    let mut failures = Vec::new();
    for w in ["registry_id IS NULL", "registry_id = '123456789012'"] {
        let select = format!("SELECT region FROM aws.ecr.registry_policy WHERE {w}");
        let read = h.run(&h.reader, &select);
        let Ok(result) = &read.result else {
            failures.push(format!("{select}: {}", read.describe()));
            continue;
        };
        let mut expected = column(result, "region");
        expected.sort();
        let delete = format!("DELETE FROM aws.ecr.registry_policy WHERE {w}");
        let write = h.run(&h.dry, &delete);
        let listed: Option<Vec<String>> = write.result.as_ref().ok().and_then(|r| {
            r.notes.iter().find_map(|n| {
                let (_, list) = n.split_once(" policy(ies): ")?;
                let mut regions: Vec<String> = list
                    .split(", ")
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| r.trim().to_string())
                    .collect();
                regions.sort();
                Some(regions)
            })
        });
        if listed.as_ref() != Some(&expected) {
            failures.push(format!(
                "{delete}\n  matches {listed:?} but the SELECT returns {expected:?}\n  {}",
                write.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
