//! Fan-out benchmark: 16 regions × 50 rules and × 200 repositories (us-east-1's holding one
//! image each) behind a sandbox that adds 100 ms to every call.
//!
//! Prints, per scenario, the wall time (best and median of several runs), the ideal (the round
//! trips it cannot avoid: every region called at once, its pages one after another; lazy calls
//! and a child table's parents in batches of FETCH_IN_FLIGHT), their ratio, and the API calls
//! made.
//! Run with `cargo bench --bench fanout` (builds release). Not a test: it asserts nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skyql::aws::AwsSettings;
use skyql::engine::lazy::FETCH_IN_FLIGHT;
use skyql::sandbox::{Sandbox, SandboxConfig};
use skyql::schema::schemas;
use skyql::session::{Session, SessionOptions};

const LATENCY: Duration = Duration::from_millis(100);
const REGIONS: usize = 16;
const RULES_PER_REGION: usize = 50;
const REPOSITORIES_PER_REGION: usize = 200;
/// DescribeRepositories answers 100 repositories a page unless asked for more.
const REPOSITORY_PAGES: u32 = 2;
const RUNS: usize = 7;

fn seeded_config(regions: &[String]) -> SandboxConfig {
    let mut config = SandboxConfig {
        latency: LATENCY,
        ..SandboxConfig::default()
    };
    for region in regions {
        let rules = (0..RULES_PER_REGION)
            .map(|i| json!({"ecrRepositoryPrefix": format!("rule-{i:03}"), "upstreamRegistryUrl": "public.ecr.aws"}))
            .collect();
        config.seed.insert(region.clone(), rules);
        let store = config.stores.entry(region.clone()).or_default();
        store.insert("repositories".into(), repositories(region));
        if region == "us-east-1" {
            store.insert("images".into(), images());
        }
    }
    config
}

/// 200 repositories of a region, each with a lifecycle policy, as the sandbox stores them.
fn repositories(region: &str) -> BTreeMap<String, Value> {
    (0..REPOSITORIES_PER_REGION)
        .map(|i| {
            let name = format!("docker-hub/library/app-{i:03}");
            let item = json!({
                "repository": {
                    "repositoryArn": format!("arn:aws:ecr:{region}:123456789012:repository/{name}"),
                    "registryId": "123456789012",
                    "repositoryName": name,
                    "repositoryUri": format!("123456789012.dkr.ecr.{region}.amazonaws.com/{name}"),
                    "createdAt": 1_714_219_200.0,
                    "imageTagMutability": "MUTABLE",
                    "imageScanningConfiguration": {"scanOnPush": false},
                    "encryptionConfiguration": {"encryptionType": "AES256"}
                },
                "tags": [],
                "lifecyclePolicyText": r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}"#
            });
            (name, item)
        })
        .collect()
}

/// One image in each of us-east-1's repositories.
fn images() -> BTreeMap<String, Value> {
    (0..REPOSITORIES_PER_REGION)
        .map(|i| {
            let name = format!("docker-hub/library/app-{i:03}");
            let digest = format!("sha256:{i:064x}");
            let item = json!({
                "registryId": "123456789012",
                "repositoryName": name,
                "imageDigest": digest,
                "imageTags": ["latest"],
                "imageSizeInBytes": 50_000_000,
                "imagePushedAt": 1_714_219_200.0,
                "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                "imageStatus": "ACTIVE"
            });
            (format!("{name}@{digest}"), item)
        })
        .collect()
}

struct Scenario {
    name: &'static str,
    sql: &'static str,
    expected_rows: usize,
    ideal_round_trips: u32,
}

#[tokio::main]
async fn main() {
    let regions: Vec<String> = schemas()
        .provider
        .regions
        .iter()
        .take(REGIONS)
        .cloned()
        .collect();
    let sandbox = Sandbox::start(seeded_config(&regions)).expect("sandbox starts");
    let aws = AwsSettings {
        regions: Some(regions.clone()),
        endpoint_url: Some(sandbox.endpoint()),
        static_keys: Some((
            sandbox.keys().access_key_id.clone(),
            sandbox.keys().secret_access_key.clone(),
        )),
        ..AwsSettings::default()
    };
    let session = Session::new(SessionOptions {
        aws,
        strict: true,
        ..SessionOptions::default()
    })
    .await
    .expect("session");
    let scenarios = [
        Scenario {
            name: "all regions, full listing",
            // The listing columns: `*` would add one ValidatePullThroughCacheRule per rule.
            sql: "SELECT * FROM aws.ecr.pull_through_cache_rules",
            expected_rows: REGIONS * RULES_PER_REGION,
            ideal_round_trips: 1,
        },
        Scenario {
            name: "all regions, pushed identifier",
            sql: "SELECT * FROM aws.ecr.pull_through_cache_rules WHERE ecr_repository_prefix = 'rule-007'",
            expected_rows: REGIONS,
            ideal_round_trips: 1,
        },
        Scenario {
            name: "one region, pushed identifier",
            sql: "SELECT * FROM aws.ecr.pull_through_cache_rule WHERE region = 'us-east-1' AND data__Identifier = 'rule-007'",
            expected_rows: 1,
            ideal_round_trips: 1,
        },
        Scenario {
            // One Describe, then a Validate per rule, FETCH_IN_FLIGHT at a time.
            name: "one region, is_valid of 50",
            sql: "SELECT ecr_repository_prefix, is_valid FROM aws.ecr.pull_through_cache_rules WHERE region = 'us-east-1'",
            expected_rows: RULES_PER_REGION,
            ideal_round_trips: 1 + RULES_PER_REGION.div_ceil(FETCH_IN_FLIGHT) as u32,
        },
        Scenario {
            // Each region's two pages, then its 200 GetLifecyclePolicy calls, 8 at a time.
            name: "all regions, lifecycle of 200",
            sql: "SELECT repository_name, lifecycle_policy FROM aws.ecr.repositories",
            expected_rows: REGIONS * REPOSITORIES_PER_REGION,
            ideal_round_trips: REPOSITORY_PAGES
                + REPOSITORIES_PER_REGION.div_ceil(FETCH_IN_FLIGHT) as u32,
        },
        Scenario {
            // The repositories' two pages, then a DescribeImages per repository, 8 at a time.
            name: "one region, images of 200",
            sql: "SELECT repository_name, image_digest FROM aws.ecr.images WHERE region = 'us-east-1'",
            expected_rows: REPOSITORIES_PER_REGION,
            ideal_round_trips: REPOSITORY_PAGES
                + REPOSITORIES_PER_REGION.div_ceil(FETCH_IN_FLIGHT) as u32,
        },
    ];
    println!(
        "skyql fan-out benchmark: {REGIONS} regions x {RULES_PER_REGION} rules, {} ms added per call, {RUNS} runs each\n",
        LATENCY.as_millis()
    );
    println!(
        "{:<32} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "scenario", "best", "median", "ideal", "ratio", "calls"
    );
    for s in &scenarios {
        let mut times = Vec::new();
        let mut calls = 0;
        for _ in 0..RUNS {
            sandbox.log().clear();
            let start = Instant::now();
            let results = session.sql(s.sql).await.expect("query runs");
            times.push(start.elapsed());
            let rows: usize = results.iter().map(|r| r.num_rows()).sum();
            assert_eq!(rows, s.expected_rows, "{}: wrong row count", s.name);
            calls = sandbox.log().len();
        }
        times.sort();
        let ideal = LATENCY * s.ideal_round_trips;
        let median = times[times.len() / 2];
        println!(
            "{:<32} {:>7.0}ms {:>7.0}ms {:>7.0}ms {:>7.2} {:>7}",
            s.name,
            times[0].as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            ideal.as_secs_f64() * 1e3,
            median.as_secs_f64() / ideal.as_secs_f64(),
            calls
        );
    }
}
