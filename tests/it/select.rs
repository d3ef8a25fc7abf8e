//! SELECT through the library against the sandbox: pushdown seen in the request log, results, schema.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::cli::{
    DEMO_REGIONS, column, config_with, demo_sandbox, describes, describes_in, max_results_param,
    numbered_rules, prefixes_param, query, rows, sandbox_with, session,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use serde_json::{Value, json};
use skyql::sandbox::SandboxConfig;
use skyql::session::{Session, SessionOptions};

const RULES: &str = "aws.ecr.pull_through_cache_rules";
const RULE: &str = "aws.ecr.pull_through_cache_rule";

/// The columns of `SELECT *`: every column but the lazy ones (is_valid, validation_failure).
const COLUMNS: [&str; 10] = [
    "region",
    "registry_id",
    "ecr_repository_prefix",
    "upstream_registry_url",
    "upstream_registry",
    "upstream_repository_prefix",
    "credential_arn",
    "custom_role_arn",
    "created_at",
    "updated_at",
];

fn quay(prefix: &str) -> Value {
    json!({"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "quay.io"})
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The same three rules in each of the demo regions.
fn three_region_sandbox() -> skyql::sandbox::Sandbox {
    let rules = vec![quay("team-a"), quay("team-b"), quay("team-c")];
    sandbox_with(&[
        ("us-east-1", rules.clone()),
        ("eu-west-1", rules.clone()),
        ("ap-southeast-2", rules),
    ])
}

/// The regions of the Describe calls logged, with how many calls each.
fn describe_regions(sb: &skyql::sandbox::Sandbox) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for e in describes(sb) {
        *map.entry(e.region.unwrap_or_default()).or_insert(0) += 1;
    }
    map
}

fn once_each(regions: &[&str]) -> BTreeMap<String, usize> {
    regions.iter().map(|r| (r.to_string(), 1)).collect()
}

// ---------------------------------------------------------------------------------------------
// Identifier pushdown: one call per region, ecrRepositoryPrefixes sent
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_pushed_prefix_makes_one_call_per_region_with_the_prefix() {
    let sb = three_region_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    for filter in [
        "ecr_repository_prefix = 'team-b'",
        "'team-b' = ecr_repository_prefix",
        "data__Identifier = 'team-b'",
        "DATA__IDENTIFIER = 'team-b'",
    ] {
        sb.log().clear();
        let r = query(
            &s,
            &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE {filter}"),
        )
        .await;
        assert_eq!(
            sorted(column(&r, "region")),
            sorted(DEMO_REGIONS.iter().map(|s| s.to_string()).collect()),
            "{filter}"
        );
        assert_eq!(column(&r, "ecr_repository_prefix"), vec!["team-b"; 3]);
        assert_eq!(sb.log().len(), 3, "{filter}: {:#?}", sb.log().entries());
        assert_eq!(describe_regions(&sb), once_each(&DEMO_REGIONS), "{filter}");
        for call in describes(&sb) {
            assert_eq!(
                prefixes_param(&call),
                Some(vec!["team-b".to_string()]),
                "{filter}: {call:?}"
            );
            assert_eq!(call.status, 200);
        }
    }
}

#[tokio::test]
async fn the_singular_table_pushes_data_identifier() {
    let sb = three_region_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT region, ecr_repository_prefix, upstream_registry_url FROM {RULE} \
             WHERE region = 'eu-west-1' AND data__Identifier = 'team-c'"
        ),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![vec!["eu-west-1", "team-c", "quay.io"]],
        "the singular table answers the one rule"
    );
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(prefixes_param(&calls[0]), Some(vec!["team-c".to_string()]));

    sb.log().clear();
    let r = query(
        &s,
        &format!("SELECT region FROM {RULE} WHERE data__Identifier IN ('team-a', 'team-c')"),
    )
    .await;
    assert_eq!(r.num_rows(), 6, "two rules in each of three regions");
    assert_eq!(describe_regions(&sb), once_each(&DEMO_REGIONS));
    for call in describes(&sb) {
        assert_eq!(
            prefixes_param(&call),
            Some(vec!["team-a".to_string(), "team-c".to_string()])
        );
    }
}

#[tokio::test]
async fn short_and_long_in_lists_of_prefixes_are_both_pushed() {
    let rules: Vec<Value> = ["a1", "b2", "c3", "d4", "e5", "f6"]
        .iter()
        .map(|p| quay(p))
        .collect();
    let sb = sandbox_with(&[("us-east-1", rules)]);
    let s = session(&sb, &["us-east-1"]).await;
    // DataFusion turns IN lists of up to three values into OR chains; both forms must push.
    for (list, want) in [
        ("('b2')", vec!["b2"]),
        ("('b2', 'd4')", vec!["b2", "d4"]),
        ("('a1', 'c3', 'e5')", vec!["a1", "c3", "e5"]),
        ("('a1', 'c3', 'e5', 'f6')", vec!["a1", "c3", "e5", "f6"]),
        (
            "('f6', 'e5', 'd4', 'c3', 'b2')",
            vec!["b2", "c3", "d4", "e5", "f6"],
        ),
    ] {
        sb.log().clear();
        let r = query(
            &s,
            &format!(
                "SELECT ecr_repository_prefix FROM {RULES} WHERE ecr_repository_prefix IN {list} \
                 ORDER BY ecr_repository_prefix"
            ),
        )
        .await;
        assert_eq!(column(&r, "ecr_repository_prefix"), want, "{list}");
        let calls = describes(&sb);
        assert_eq!(calls.len(), 1, "{list}: {calls:#?}");
        assert_eq!(
            prefixes_param(&calls[0]),
            Some(want.iter().map(|s| s.to_string()).collect()),
            "{list}"
        );
    }
    // An explicit OR chain on the identifier and its alias is the same set.
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix FROM {RULES} \
             WHERE ecr_repository_prefix = 'a1' OR data__Identifier = 'f6' ORDER BY 1"
        ),
    )
    .await;
    assert_eq!(column(&r, "ecr_repository_prefix"), vec!["a1", "f6"]);
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        prefixes_param(&calls[0]),
        Some(vec!["a1".to_string(), "f6".to_string()])
    );
}

// ---------------------------------------------------------------------------------------------
// Full listings: one call per region per page, LIMIT as maxResults
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_listing_is_one_call_per_page() {
    let sb = sandbox_with(&[("us-east-1", numbered_rules(50))]);
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(&s, &format!("SELECT ecr_repository_prefix FROM {RULES}")).await;
    assert_eq!(r.num_rows(), 50);
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1, "50 rules fit the default page of 100");
    assert_eq!(prefixes_param(&calls[0]), None, "no identifiers sent");
    assert_eq!(
        max_results_param(&calls[0]),
        None,
        "no page size without LIMIT"
    );

    let sb = sandbox_with(&[("us-east-1", numbered_rules(250))]);
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(
        &s,
        &format!("SELECT ecr_repository_prefix FROM {RULES} ORDER BY 1"),
    )
    .await;
    let want: Vec<String> = (0..250).map(|i| format!("p{i:03}")).collect();
    assert_eq!(column(&r, "ecr_repository_prefix"), want, "every page read");
    let calls = describes(&sb);
    assert_eq!(calls.len(), 3, "250 rules are three pages of 100");
    assert!(calls[0].parameters.get("nextToken").is_none());
    assert!(calls[1].parameters.get("nextToken").is_some());
    assert!(calls[2].parameters.get("nextToken").is_some());
}

#[tokio::test]
async fn limit_is_sent_as_max_results_and_stops_paging() {
    let sb = sandbox_with(&[("us-east-1", numbered_rules(50))]);
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(
        &s,
        &format!("SELECT ecr_repository_prefix FROM {RULES} LIMIT 5"),
    )
    .await;
    assert_eq!(r.num_rows(), 5);
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(max_results_param(&calls[0]), Some(5));

    // A limit past one default page still needs only one call.
    let sb = sandbox_with(&[("us-east-1", numbered_rules(250))]);
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(&s, &format!("SELECT region FROM {RULES} LIMIT 150")).await;
    assert_eq!(r.num_rows(), 150);
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(max_results_param(&calls[0]), Some(150));

    // OFFSET: the scan must fetch offset + limit rows.
    sb.log().clear();
    let r = query(
        &s,
        &format!("SELECT region FROM {RULES} LIMIT 5 OFFSET 140"),
    )
    .await;
    assert_eq!(r.num_rows(), 5);
}

#[tokio::test]
async fn limit_is_not_applied_before_filters_or_ordering() {
    // The two rules a filter looks for are the last two of 150: a limit pushed below the
    // filter (or below ORDER BY) would miss them.
    let mut rules = numbered_rules(148);
    rules.push(
        json!({"ecrRepositoryPrefix": "z-hub", "upstreamRegistryUrl": "registry-1.docker.io",
        "credentialArn": common::secret_arn("us-east-1", "hub")}),
    );
    rules.push(json!({"ecrRepositoryPrefix": "z-k8s", "upstreamRegistryUrl": "registry.k8s.io"}));
    let sb = sandbox_with(&[("us-east-1", rules)]);
    let s = session(&sb, &["us-east-1"]).await;

    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix FROM {RULES} WHERE upstream_registry_url <> 'quay.io' LIMIT 2"
        ),
    )
    .await;
    assert_eq!(
        sorted(column(&r, "ecr_repository_prefix")),
        vec!["z-hub", "z-k8s"]
    );

    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix FROM {RULES} ORDER BY ecr_repository_prefix DESC LIMIT 3"
        ),
    )
    .await;
    assert_eq!(
        column(&r, "ecr_repository_prefix"),
        vec!["z-k8s", "z-hub", "p147"]
    );

    let r = query(
        &s,
        &format!(
            "SELECT upstream_registry, count(*) AS n FROM {RULES} GROUP BY 1 ORDER BY 1 LIMIT 5"
        ),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![
            vec!["docker-hub", "1"],
            vec!["k8s", "1"],
            vec!["quay", "148"]
        ]
    );
}

#[tokio::test]
async fn limit_on_several_regions_is_a_page_size_in_each() {
    let sb = sandbox_with(&[
        ("us-east-1", numbered_rules(20)),
        ("eu-west-1", numbered_rules(20)),
    ]);
    let s = session(&sb, &["us-east-1", "eu-west-1"]).await;
    let r = query(&s, &format!("SELECT region FROM {RULES} LIMIT 5")).await;
    assert_eq!(r.num_rows(), 5);
    let calls = describes(&sb);
    assert!(
        !calls.is_empty() && calls.len() <= 2,
        "at most one call per region: {calls:#?}"
    );
    for call in &calls {
        assert_eq!(max_results_param(call), Some(5));
    }
}

// ---------------------------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_region_predicate_calls_only_those_regions() {
    let sb = three_region_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;

    let r = query(
        &s,
        &format!("SELECT region, ecr_repository_prefix FROM {RULES} WHERE region = 'eu-west-1' ORDER BY 2"),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![
            vec!["eu-west-1", "team-a"],
            vec!["eu-west-1", "team-b"],
            vec!["eu-west-1", "team-c"]
        ]
    );
    assert_eq!(describe_regions(&sb), once_each(&["eu-west-1"]));

    sb.log().clear();
    let r = query(
        &s,
        &format!("SELECT DISTINCT region FROM {RULES} WHERE region IN ('us-east-1', 'ap-southeast-2') ORDER BY 1"),
    )
    .await;
    assert_eq!(column(&r, "region"), vec!["ap-southeast-2", "us-east-1"]);
    assert_eq!(
        describe_regions(&sb),
        once_each(&["us-east-1", "ap-southeast-2"])
    );

    // More than three values (an IN list, not an OR chain), including regions outside the
    // session's set: the predicate chooses the regions, not the session.
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT region FROM {RULES} \
             WHERE region IN ('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2', 'sa-east-1')"
        ),
    )
    .await;
    assert_eq!(r.num_rows(), 9, "us-west-2 and sa-east-1 hold no rules");
    assert_eq!(
        describe_regions(&sb),
        once_each(&[
            "us-east-1",
            "eu-west-1",
            "ap-southeast-2",
            "us-west-2",
            "sa-east-1"
        ])
    );

    // Region and identifier together: one call, in that region, with that prefix.
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT region FROM {RULES} WHERE region = 'ap-southeast-2' AND ecr_repository_prefix IN ('team-a', 'team-c')"
        ),
    )
    .await;
    assert_eq!(column(&r, "region"), vec!["ap-southeast-2"; 2]);
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(
        prefixes_param(&calls[0]),
        Some(vec!["team-a".to_string(), "team-c".to_string()])
    );
}

#[tokio::test]
async fn contradictory_region_predicates_make_no_call() {
    let sb = three_region_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!("SELECT * FROM {RULES} WHERE region = 'us-east-1' AND region = 'eu-west-1'"),
    )
    .await;
    assert_eq!(r.num_rows(), 0);
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[tokio::test]
async fn a_fan_out_returns_every_row_of_every_region() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT region, registry_id, ecr_repository_prefix, upstream_registry_url, credential_arn, \
             custom_role_arn, upstream_repository_prefix FROM {RULES}"
        ),
    )
    .await;
    assert_eq!(describe_regions(&sb), once_each(&DEMO_REGIONS));
    // The expected rows, straight from the demo seed.
    let mut want: Vec<Vec<String>> = Vec::new();
    for (region, rules) in skyql::sandbox::config::demo_seed() {
        for rule in rules {
            let field = |k: &str| {
                rule.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("NULL")
                    .to_string()
            };
            want.push(vec![
                region.clone(),
                "123456789012".to_string(),
                field("ecrRepositoryPrefix"),
                field("upstreamRegistryUrl"),
                field("credentialArn"),
                field("customRoleArn"),
                rule.get("upstreamRepositoryPrefix")
                    .and_then(Value::as_str)
                    .unwrap_or("ROOT")
                    .to_string(),
            ]);
        }
    }
    want.sort();
    let mut got = rows(&r);
    got.sort();
    assert_eq!(got.len(), 12);
    assert_eq!(got, want);
    assert!(r.failures.is_empty());
}

#[tokio::test]
async fn a_failing_region_is_reported_and_the_others_answer() {
    let mut config = config_with(&[
        ("us-east-1", vec![quay("team-a")]),
        ("eu-west-1", vec![quay("team-b")]),
        ("ap-southeast-2", vec![quay("team-c")]),
    ]);
    config.fail_regions = vec!["eu-west-1".into()];
    let sb = common::start(config);
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!("SELECT region, ecr_repository_prefix FROM {RULES} ORDER BY 1"),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![
            vec!["ap-southeast-2", "team-c"],
            vec!["us-east-1", "team-a"]
        ]
    );
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert_eq!(r.failures[0].region, "eu-west-1");
    assert_eq!(r.failures[0].code, "AccessDeniedException");
    assert_eq!(r.failures[0].operation, "DescribePullThroughCacheRules");
    let text = r.failures[0].to_string();
    assert!(
        text.contains("eu-west-1") && text.contains("AccessDeniedException"),
        "{text}"
    );

    // Strict: the statement fails, naming the region and the code.
    let strict = Session::new(SessionOptions {
        aws: common::cli::settings(&sb, &DEMO_REGIONS),
        strict: true,
        ..SessionOptions::default()
    })
    .await
    .unwrap();
    let err = strict
        .sql(&format!("SELECT * FROM {RULES}"))
        .await
        .expect_err("strict fails");
    assert_eq!(err.exit_code(), 1, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("eu-west-1") && text.contains("AccessDeniedException"),
        "{text}"
    );

    // Failures belong to their statement: the next one starts clean.
    let r = query(
        &s,
        &format!("SELECT * FROM {RULES} WHERE region = 'us-east-1'"),
    )
    .await;
    assert_eq!(r.num_rows(), 1);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
}

// ---------------------------------------------------------------------------------------------
// Missing identifiers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_identifiers_in_a_list_are_simply_absent() {
    let sb = sandbox_with(&[(
        "us-east-1",
        vec![quay("exists1"), quay("exists2"), quay("other")],
    )]);
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(
        &s,
        &format!(
            "SELECT ecr_repository_prefix FROM {RULES} \
             WHERE ecr_repository_prefix IN ('exists1', 'missing', 'exists2') ORDER BY 1"
        ),
    )
    .await;
    assert_eq!(
        column(&r, "ecr_repository_prefix"),
        vec!["exists1", "exists2"]
    );
    assert!(
        r.failures.is_empty(),
        "a missing rule is no failure: {:?}",
        r.failures
    );
    let calls = describes_in(&sb, "us-east-1");
    assert!(
        calls.len() <= 2,
        "at most the failed call and one listing: {calls:#?}"
    );
    assert_eq!(
        calls[0].error_code.as_deref(),
        Some("PullThroughCacheRuleNotFoundException")
    );
}

#[tokio::test]
async fn a_single_missing_identifier_is_zero_rows_and_one_call() {
    let sb = sandbox_with(&[("us-east-1", vec![quay("exists1")])]);
    let s = session(&sb, &["us-east-1"]).await;
    let r = query(
        &s,
        &format!("SELECT * FROM {RULES} WHERE data__Identifier = 'missing'"),
    )
    .await;
    assert_eq!(r.num_rows(), 0);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let calls = describes(&sb);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(prefixes_param(&calls[0]), Some(vec!["missing".to_string()]));

    // The same on the singular table.
    sb.log().clear();
    let r = query(
        &s,
        &format!("SELECT * FROM {RULE} WHERE data__Identifier = 'missing'"),
    )
    .await;
    assert_eq!(r.num_rows(), 0);
    assert_eq!(describes(&sb).len(), 1);
}

#[tokio::test]
async fn missing_identifiers_are_no_failure_in_strict_mode_either() {
    let sb = sandbox_with(&[
        ("us-east-1", vec![quay("exists1"), quay("exists2")]),
        ("eu-west-1", vec![quay("exists2")]),
    ]);
    let strict = Session::new(SessionOptions {
        aws: common::cli::settings(&sb, &["us-east-1", "eu-west-1"]),
        strict: true,
        ..SessionOptions::default()
    })
    .await
    .unwrap();
    let r = query(
        &strict,
        &format!(
            "SELECT region, ecr_repository_prefix FROM {RULES} WHERE data__Identifier = 'exists1'"
        ),
    )
    .await;
    assert_eq!(rows(&r), vec![vec!["us-east-1", "exists1"]]);
    let r = query(
        &strict,
        &format!(
            "SELECT region, ecr_repository_prefix FROM {RULES} \
             WHERE ecr_repository_prefix IN ('exists1', 'exists2', 'missing') ORDER BY 1, 2"
        ),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![
            vec!["eu-west-1", "exists2"],
            vec!["us-east-1", "exists1"],
            vec!["us-east-1", "exists2"]
        ]
    );
}

#[tokio::test]
async fn contradictory_identifier_predicates_make_no_call() {
    let sb = three_region_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    for table in [RULES, RULE] {
        let r = query(
            &s,
            &format!(
                "SELECT * FROM {table} WHERE data__Identifier = 'team-a' AND ecr_repository_prefix = 'team-b'"
            ),
        )
        .await;
        assert_eq!(r.num_rows(), 0, "{table}");
    }
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

#[tokio::test]
async fn more_than_one_hundred_identifiers_are_sent_in_chunks() {
    let sb = sandbox_with(&[("us-east-1", numbered_rules(250))]);
    let s = session(&sb, &["us-east-1"]).await;
    let wanted: Vec<String> = (0..250).step_by(2).map(|i| format!("p{i:03}")).collect();
    let list = wanted
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let r = query(
        &s,
        &format!("SELECT ecr_repository_prefix FROM {RULES} WHERE ecr_repository_prefix IN ({list}) ORDER BY 1"),
    )
    .await;
    assert_eq!(column(&r, "ecr_repository_prefix"), wanted, "125 of 250");
    let calls = describes(&sb);
    let sizes: Vec<usize> = calls
        .iter()
        .map(|c| prefixes_param(c).map_or(0, |p| p.len()))
        .collect();
    assert_eq!(sizes, vec![100, 25], "{calls:#?}");
    let sent: BTreeSet<String> = calls
        .iter()
        .flat_map(|c| prefixes_param(c).unwrap_or_default())
        .collect();
    assert_eq!(sent, wanted.iter().cloned().collect::<BTreeSet<_>>());

    // With some of them missing: still every existing one, every call within 100.
    sb.log().clear();
    let mut ids: Vec<String> = (0..150).map(|i| format!("p{i:03}")).collect();
    ids.extend((0..20).map(|i| format!("gone{i:02}")));
    let list = ids
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let r = query(
        &s,
        &format!("SELECT ecr_repository_prefix FROM {RULES} WHERE ecr_repository_prefix IN ({list}) ORDER BY 1"),
    )
    .await;
    let want: Vec<String> = (0..150).map(|i| format!("p{i:03}")).collect();
    assert_eq!(column(&r, "ecr_repository_prefix"), want);
    for call in describes(&sb) {
        assert!(
            prefixes_param(&call).is_none_or(|p| (1..=100).contains(&p.len())),
            "{call:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Schema and data__Identifier
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn select_star_has_the_ten_listed_columns_no_lazy_one_and_no_data_identifier() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    for table in [RULES, RULE] {
        let where_ = if table == RULE {
            " WHERE data__Identifier = 'ecr-public'"
        } else {
            ""
        };
        let r = query(&s, &format!("SELECT * FROM {table}{where_}")).await;
        let names: Vec<&str> = r
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, COLUMNS, "{table}");
        for f in r.schema.fields() {
            let want = if f.name().ends_with("_at") {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            } else {
                DataType::Utf8
            };
            assert_eq!(f.data_type(), &want, "{table}.{}", f.name());
        }
        assert_eq!(r.num_rows(), if table == RULE { 3 } else { 12 }, "{table}");
        // `*` made no per-row call; the lazy columns are there when named.
        assert_eq!(sb.log().count("ValidatePullThroughCacheRule"), 0);
        let r = query(&s, &format!("SELECT *, is_valid FROM {table}{where_}")).await;
        assert_eq!(r.schema.fields().len(), COLUMNS.len() + 1);
        assert_eq!(
            r.schema.field(COLUMNS.len()).data_type(),
            &DataType::Boolean
        );
        sb.log().clear();
        let created = column(&r, "created_at");
        assert!(
            created.iter().all(|t| t == "2025-06-01T12:00:00Z"),
            "{created:?}"
        );
    }
}

#[tokio::test]
async fn data_identifier_works_in_where_on_both_tables() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    for table in [RULES, RULE] {
        let r = query(
            &s,
            &format!(
                "SELECT region, ecr_repository_prefix, credential_arn FROM {table} \
                 WHERE data__Identifier = 'docker-hub' ORDER BY region"
            ),
        )
        .await;
        assert_eq!(
            rows(&r),
            vec![
                vec![
                    "eu-west-1",
                    "docker-hub",
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Zx56Cv"
                ],
                vec![
                    "us-east-1",
                    "docker-hub",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Xy12Ab"
                ],
            ],
            "{table}"
        );
        // ap-southeast-2 has no docker-hub rule: its call fails with not found, which is no row.
        assert!(r.failures.is_empty(), "{table}: {:?}", r.failures);
    }
}

#[tokio::test]
async fn the_singular_table_without_identifier_is_refused_before_any_call() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    for sql in [
        format!("SELECT * FROM {RULE}"),
        format!("SELECT * FROM {RULE} WHERE region = 'us-east-1'"),
        format!("SELECT * FROM {RULE} WHERE upstream_registry = 'quay'"),
    ] {
        let err = s.sql(&sql).await.map(|_| ()).expect_err(&sql);
        assert_eq!(err.exit_code(), 2, "{sql}: {err}");
        let text = err.to_string();
        assert!(text.contains("data__Identifier"), "{sql}: {text}");
        assert!(text.contains(RULES), "names the plural table: {text}");
    }
    // EXPLAIN answers (as DataFusion does) with the planning error as a `physical_plan_error` row.
    let r = query(&s, &format!("EXPLAIN SELECT * FROM {RULE}")).await;
    let text = rows(&r)
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("physical_plan_error") && text.contains("data__Identifier"),
        "{text}"
    );
    assert_eq!(sb.log().len(), 0, "{:#?}", sb.log().entries());
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn explain_makes_no_call_and_shows_the_pushed_request() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!(
            "EXPLAIN SELECT region, credential_arn FROM {RULES} \
             WHERE region IN ('eu-west-1', 'us-east-1') AND data__Identifier IN ('gitlab', 'docker-hub')"
        ),
    )
    .await;
    let text = rows(&r)
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let scan = text
        .lines()
        .find(|l| l.contains("ResourceScanExec"))
        .unwrap_or_else(|| panic!("no ResourceScanExec in\n{text}"));
    assert!(scan.contains("regions=[eu-west-1, us-east-1]"), "{scan}");
    assert!(
        scan.contains("ecr_repository_prefix=[docker-hub, gitlab]"),
        "{scan}"
    );
    assert!(
        scan.contains("operation=DescribePullThroughCacheRules"),
        "{scan}"
    );

    let r = query(&s, &format!("EXPLAIN SELECT * FROM {RULES} LIMIT 7")).await;
    let text = rows(&r)
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let scan = text
        .lines()
        .find(|l| l.contains("ResourceScanExec"))
        .unwrap_or_else(|| panic!("no ResourceScanExec in\n{text}"));
    assert!(
        scan.contains("regions=[ap-southeast-2, eu-west-1, us-east-1]"),
        "the session's regions: {scan}"
    );
    assert!(scan.contains("max_results=7"), "{scan}");

    assert_eq!(
        sb.log().len(),
        0,
        "EXPLAIN calls nothing: {:#?}",
        sb.log().entries()
    );
}

#[tokio::test]
async fn non_key_filters_are_applied_after_a_full_listing() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    let r = query(
        &s,
        &format!(
            "SELECT region, ecr_repository_prefix FROM {RULES} \
             WHERE upstream_registry = 'quay' OR credential_arn LIKE '%gitlab%' ORDER BY 1, 2"
        ),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![
            vec!["ap-southeast-2", "quay"],
            vec!["eu-west-1", "gitlab"],
            vec!["us-east-1", "quay"]
        ]
    );
    assert_eq!(describe_regions(&sb), once_each(&DEMO_REGIONS));
    assert!(describes(&sb).iter().all(|c| prefixes_param(c).is_none()));

    // A disjunction across a region and an identifier cannot be pushed; the answer is still right.
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT region, ecr_repository_prefix FROM {RULES} \
             WHERE region = 'eu-west-1' OR ecr_repository_prefix = 'k8s' ORDER BY 1, 2"
        ),
    )
    .await;
    assert_eq!(
        rows(&r),
        vec![
            vec!["eu-west-1", "docker-hub"],
            vec!["eu-west-1", "ecr-public"],
            vec!["eu-west-1", "gitlab"],
            vec!["eu-west-1", "prod-mirror"],
            vec!["us-east-1", "k8s"],
        ]
    );
    assert_eq!(describe_regions(&sb), once_each(&DEMO_REGIONS));

    // NOT IN on region alone chooses the regions it holds for (over the session's --regions).
    sb.log().clear();
    let r = query(
        &s,
        &format!(
            "SELECT count(*) AS n FROM {RULES} WHERE region NOT IN ('us-east-1', 'eu-west-1')"
        ),
    )
    .await;
    assert_eq!(column(&r, "n"), vec!["3"]);
    assert_eq!(describe_regions(&sb), once_each(&["ap-southeast-2"]));
}

#[tokio::test]
async fn a_session_with_the_sandbox_config_default_has_no_rules() {
    // An empty sandbox answers an empty list, not an error.
    let sb = common::start(SandboxConfig::default());
    let s = session(&sb, &["us-east-1", "eu-west-1"]).await;
    let r = query(&s, &format!("SELECT * FROM {RULES}")).await;
    assert_eq!(r.num_rows(), 0);
    assert_eq!(r.schema.fields().len(), COLUMNS.len());
    assert_eq!(
        describe_regions(&sb),
        once_each(&["us-east-1", "eu-west-1"])
    );
}

#[test]
fn timestamps_are_exact_to_the_microsecond() {
    // The AWS CLI shows this rule's createdAt as 1796002379.948.
    let mut config = SandboxConfig::demo();
    config.seed_time = Some(1_796_002_379.948);
    let sb = common::start(config);
    let out = common::cli::Skyql::new(&sb)
        .args([
            "-o",
            "csv",
            "exec",
            &format!(
                "SELECT created_at, created_at = TIMESTAMP '2026-11-30T01:32:59.948Z' AS exact \
                 FROM {RULES} WHERE ecr_repository_prefix = 'quay'"
            ),
        ])
        .run();
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "created_at,exact\n2026-11-30T01:32:59.948Z,true\n"
    );
}

#[test]
fn region_predicates_other_than_equality_choose_the_regions_to_call() {
    let rules = numbered_rules(2);
    let sb = sandbox_with(&[
        ("us-east-1", rules.clone()),
        ("us-west-2", rules.clone()),
        ("eu-west-1", rules.clone()),
        ("ap-southeast-2", rules),
    ]);
    let run = |flags: &[&str], condition: &str| {
        sb.log().clear();
        let out = common::cli::Skyql::new(&sb)
            .args(flags)
            .args([
                "-o",
                "csv",
                "exec",
                &format!("SELECT DISTINCT region FROM {RULES} WHERE {condition} ORDER BY 1"),
            ])
            .run();
        out.expect_code(0);
        let called: BTreeSet<String> = describes(&sb)
            .into_iter()
            .filter_map(|e| e.region)
            .collect();
        (out.stdout, called, out.stderr)
    };
    // AWS_REGION=us-east-1 alone, yet LIKE finds every us- region with rules.
    let (rows, called, _) = run(&[], "region LIKE 'us-%'");
    assert_eq!(rows, "region\nus-east-1\nus-west-2\n");
    assert!(called.iter().all(|r| r.starts_with("us-")), "{called:?}");
    assert!(
        called.contains("us-west-2") && called.len() >= 4,
        "{called:?}"
    );
    // <> and NOT IN are evaluated over every region of provider.yaml.
    let (rows, called, _) = run(&[], "region <> 'us-east-1'");
    assert_eq!(rows, "region\nap-southeast-2\neu-west-1\nus-west-2\n");
    assert!(!called.contains("us-east-1"), "{called:?}");
    let (rows, _, _) = run(&[], "region NOT IN ('us-east-1', 'us-west-2')");
    assert_eq!(rows, "region\nap-southeast-2\neu-west-1\n");
    // Within --regions when it is given.
    let (rows, called, _) = run(&["--regions", "us-east-1,eu-west-1"], "region LIKE '%-1'");
    assert_eq!(rows, "region\neu-west-1\nus-east-1\n");
    assert_eq!(called.len(), 2, "{called:?}");
    // A subquery cannot choose regions before the scan: stderr says what was searched.
    let (rows, called, stderr) = run(&[], "region IN (SELECT 'eu-west-1')");
    assert_eq!(rows, "region\n");
    assert_eq!(called, BTreeSet::from(["us-east-1".to_string()]));
    assert!(
        stderr.contains("searched us-east-1") && stderr.contains("--regions all"),
        "{stderr}"
    );
}

/// Every table of provider-schemas reads every column its YAML declares, lazy ones included,
/// from the demo sandbox: each reader's mapping knows each `source` the YAML names (an unknown
/// one fails the region), and the types are the YAML's.
#[tokio::test]
async fn every_table_reads_every_column_its_schema_declares() {
    let sb = demo_sandbox();
    let s = session(&sb, &DEMO_REGIONS).await;
    for resource in &skyql::schema::schemas().resources {
        let table = resource.qualified_name("aws");
        let columns: Vec<&str> = resource.columns.iter().map(|c| c.name.as_str()).collect();
        let pin = if resource.requires_identifier() {
            " WHERE data__Identifier = 'ecr-public'"
        } else {
            ""
        };
        let r = query(
            &s,
            &format!("SELECT {} FROM {table}{pin}", columns.join(", ")),
        )
        .await;
        assert!(r.failures.is_empty(), "{table}: {:?}", r.failures);
        assert!(r.num_rows() > 0, "{table}: the demo has rows");
        assert_eq!(r.schema.fields().len(), columns.len(), "{table}");
        for (field, column) in r.schema.fields().iter().zip(&resource.columns) {
            assert_eq!(field.name(), &column.name, "{table}");
            assert_eq!(
                field.data_type(),
                &column.data_type,
                "{table}.{}",
                column.name
            );
        }
    }
}

#[tokio::test]
async fn every_region_shares_one_connection_pool() {
    // Six regions called one after another, twice: every client of the session draws on one
    // pool, so one kept-alive connection carries all twelve calls (a pool per client would
    // open one per region).
    let sb = demo_sandbox();
    let regions = [
        "us-east-1",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "ap-southeast-2",
        "ap-northeast-1",
    ];
    let mut aws = common::cli::settings(&sb, &regions);
    aws.max_concurrency = 1;
    let session = Session::new(SessionOptions {
        aws,
        ..SessionOptions::default()
    })
    .await
    .expect("the session opens");
    for _ in 0..2 {
        query(
            &session,
            "SELECT count(*) FROM aws.ecr.pull_through_cache_rules",
        )
        .await;
    }
    assert_eq!(describes(&sb).len(), 12);
    assert_eq!(
        sb.connections(),
        1,
        "connections opened for 12 calls in 6 regions"
    );
}
