//! The sandbox driven by the real aws-sdk-ecr client over HTTP: every operation, error and fault.

use crate::common;

use std::collections::HashMap;
use std::io::BufRead;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::operation::create_pull_through_cache_rule::CreatePullThroughCacheRuleError as CreateErr;
use aws_sdk_ecr::operation::delete_pull_through_cache_rule::DeletePullThroughCacheRuleError as DeleteErr;
use aws_sdk_ecr::operation::delete_registry_policy::DeleteRegistryPolicyError;
use aws_sdk_ecr::operation::describe_pull_through_cache_rules::DescribePullThroughCacheRulesError as DescribeErr;
use aws_sdk_ecr::operation::get_registry_policy::GetRegistryPolicyError;
use aws_sdk_ecr::operation::update_pull_through_cache_rule::UpdatePullThroughCacheRuleError as UpdateErr;
use aws_sdk_ecr::operation::validate_pull_through_cache_rule::ValidatePullThroughCacheRuleError as ValidateErr;
use aws_sdk_ecr::types::UpstreamRegistry;
use common::{ACCOUNT, client, client_with, code, one_shot, secret_arn, start, status};
use serde_json::{Value, json};
use skyql::sandbox::{SandboxConfig, Secret};

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ptc","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"arn:aws:ecr:us-east-1:123456789012:repository/*"}]}"#;

/// The prefixes of a describe page, in the order answered.
fn prefixes(rules: &[aws_sdk_ecr::types::PullThroughCacheRule]) -> Vec<String> {
    rules
        .iter()
        .map(|r| r.ecr_repository_prefix().unwrap_or_default().to_string())
        .collect()
}

async fn all_prefixes(ecr: &aws_sdk_ecr::Client) -> Vec<String> {
    let out = ecr
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect("describe");
    prefixes(out.pull_through_cache_rules())
}

// ---------------------------------------------------------------------------------------------
// Success paths
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_infers_the_upstream_and_defaults_the_upstream_prefix() {
    let sandbox = start(SandboxConfig::default());
    let ecr = client(&sandbox, "us-east-1");
    let before = common::now_secs();
    let out = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("quay-mirror")
        .upstream_registry_url("quay.io")
        .send()
        .await
        .expect("create");
    let after = common::now_secs();
    assert_eq!(out.ecr_repository_prefix(), Some("quay-mirror"));
    assert_eq!(out.upstream_registry_url(), Some("quay.io"));
    assert_eq!(out.upstream_registry(), Some(&UpstreamRegistry::Quay));
    assert_eq!(out.upstream_repository_prefix(), Some("ROOT"));
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    assert_eq!(out.credential_arn(), None);
    assert_eq!(out.custom_role_arn(), None);
    let created = out.created_at().expect("createdAt").as_secs_f64();
    assert!(
        created >= before - 1.0 && created <= after + 1.0,
        "createdAt {created} not within [{before}, {after}]"
    );
}

#[tokio::test]
async fn create_echoes_credential_role_and_upstream_prefix() {
    let sandbox = start(SandboxConfig::default());
    let ecr = client(&sandbox, "eu-west-1");
    let arn = secret_arn("eu-west-1", "docker-hub");
    let hub = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("docker-hub")
        .upstream_registry_url("registry-1.docker.io")
        .upstream_registry(UpstreamRegistry::DockerHub)
        .credential_arn(&arn)
        .send()
        .await
        .expect("create docker-hub");
    assert_eq!(hub.upstream_registry(), Some(&UpstreamRegistry::DockerHub));
    assert_eq!(hub.credential_arn(), Some(arn.as_str()));

    let role = "arn:aws:iam::123456789012:role/ecr-ptc-cross-account";
    let mirror = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("prod-mirror")
        .upstream_registry_url("111122223333.dkr.ecr.us-east-1.amazonaws.com")
        .custom_role_arn(role)
        .upstream_repository_prefix("prod")
        .send()
        .await
        .expect("create ecr-to-ecr");
    assert_eq!(mirror.upstream_registry(), Some(&UpstreamRegistry::Ecr));
    assert_eq!(mirror.custom_role_arn(), Some(role));
    assert_eq!(mirror.upstream_repository_prefix(), Some("prod"));
    assert_eq!(mirror.credential_arn(), None);
}

#[tokio::test]
async fn describe_lists_all_rules_sorted_and_selects_by_prefix() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = client(&sandbox, "us-east-1");
    assert_eq!(
        all_prefixes(&ecr).await,
        ["docker-hub", "ecr-public", "ghcr", "k8s", "quay"]
    );

    let out = ecr
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("quay")
        .ecr_repository_prefixes("docker-hub")
        .send()
        .await
        .expect("describe by prefix");
    let rules = out.pull_through_cache_rules();
    assert_eq!(prefixes(rules), ["docker-hub", "quay"]);
    assert_eq!(out.next_token(), None);
    let hub = &rules[0];
    assert_eq!(hub.upstream_registry_url(), Some("registry-1.docker.io"));
    assert_eq!(hub.upstream_registry(), Some(&UpstreamRegistry::DockerHub));
    assert_eq!(
        hub.credential_arn(),
        Some(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Xy12Ab"
        )
    );
    assert_eq!(hub.registry_id(), Some(ACCOUNT));
    assert_eq!(hub.upstream_repository_prefix(), Some("ROOT"));
    let demo_time = skyql::sandbox::config::DEMO_TIME;
    assert_eq!(hub.created_at().map(|t| t.as_secs_f64()), Some(demo_time));
    assert_eq!(hub.updated_at().map(|t| t.as_secs_f64()), Some(demo_time));
    assert_eq!(rules[1].upstream_registry(), Some(&UpstreamRegistry::Quay));
    assert_eq!(rules[1].credential_arn(), None);
}

#[tokio::test]
async fn update_changes_the_credential_and_sets_updated_at() {
    let mut config = SandboxConfig {
        seed_time: Some(1_700_000_000.0),
        ..SandboxConfig::default()
    };
    config.seed.insert(
        "us-east-1".into(),
        vec![common::rule_body_with_secret(
            "docker-hub",
            "registry-1.docker.io",
            &secret_arn("us-east-1", "old"),
        )],
    );
    let sandbox = start(config);
    let ecr = client(&sandbox, "us-east-1");
    let new_arn = secret_arn("us-east-1", "new");
    let before = common::now_secs();
    let out = ecr
        .update_pull_through_cache_rule()
        .ecr_repository_prefix("docker-hub")
        .credential_arn(&new_arn)
        .send()
        .await
        .expect("update");
    assert_eq!(out.ecr_repository_prefix(), Some("docker-hub"));
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    assert_eq!(out.credential_arn(), Some(new_arn.as_str()));
    assert_eq!(out.upstream_repository_prefix(), Some("ROOT"));
    let updated = out.updated_at().expect("updatedAt").as_secs_f64();
    assert!(
        updated >= before - 1.0,
        "updatedAt {updated} before {before}"
    );

    let rules = ecr
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("docker-hub")
        .send()
        .await
        .expect("describe")
        .pull_through_cache_rules
        .unwrap_or_default();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].credential_arn(), Some(new_arn.as_str()));
    assert_eq!(
        rules[0].updated_at().map(|t| t.as_secs_f64()),
        Some(updated)
    );
    assert_eq!(
        rules[0].created_at().map(|t| t.as_secs_f64()),
        Some(1_700_000_000.0),
        "an update keeps createdAt"
    );
}

#[tokio::test]
async fn delete_answers_the_deleted_rule_and_removes_it() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = client(&sandbox, "eu-west-1");
    let out = ecr
        .delete_pull_through_cache_rule()
        .ecr_repository_prefix("prod-mirror")
        .send()
        .await
        .expect("delete");
    assert_eq!(out.ecr_repository_prefix(), Some("prod-mirror"));
    assert_eq!(
        out.upstream_registry_url(),
        Some("111122223333.dkr.ecr.us-east-1.amazonaws.com")
    );
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    assert_eq!(out.upstream_repository_prefix(), Some("prod"));
    assert_eq!(
        out.custom_role_arn(),
        Some("arn:aws:iam::123456789012:role/ecr-ptc-cross-account")
    );
    assert_eq!(
        out.created_at().map(|t| t.as_secs_f64()),
        Some(skyql::sandbox::config::DEMO_TIME)
    );

    assert_eq!(
        all_prefixes(&ecr).await,
        ["docker-hub", "ecr-public", "gitlab"]
    );
    let err = ecr
        .delete_pull_through_cache_rule()
        .ecr_repository_prefix("prod-mirror")
        .send()
        .await
        .expect_err("deleted twice");
    assert!(matches!(
        err.into_service_error(),
        DeleteErr::PullThroughCacheRuleNotFoundException(_)
    ));
}

#[tokio::test]
async fn validate_reports_a_usable_rule_as_valid() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = client(&sandbox, "us-east-1");
    let out = ecr
        .validate_pull_through_cache_rule()
        .ecr_repository_prefix("docker-hub")
        .send()
        .await
        .expect("validate");
    assert!(out.is_valid());
    assert_eq!(out.failure(), None);
    assert_eq!(out.ecr_repository_prefix(), Some("docker-hub"));
    assert_eq!(out.registry_id(), Some(ACCOUNT));
    assert_eq!(out.upstream_registry_url(), Some("registry-1.docker.io"));
    assert_eq!(
        out.credential_arn(),
        Some(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Xy12Ab"
        )
    );
    assert_eq!(out.upstream_repository_prefix(), Some("ROOT"));
}

#[tokio::test]
async fn validate_reports_a_rule_whose_secret_became_unreadable() {
    let arn = secret_arn("us-east-1", "locked");
    let mut config = SandboxConfig::default();
    config.secrets.insert(arn.clone(), Secret::AccessDenied);
    // The seed stands for a rule created while the secret was still readable.
    config.seed.insert(
        "us-east-1".into(),
        vec![common::rule_body_with_secret("ghcr", "ghcr.io", &arn)],
    );
    let sandbox = start(config);
    let ecr = client(&sandbox, "us-east-1");
    let out = ecr
        .validate_pull_through_cache_rule()
        .ecr_repository_prefix("ghcr")
        .send()
        .await
        .expect("validate answers even for an invalid rule");
    assert!(!out.is_valid());
    let failure = out.failure().expect("a failure is given");
    assert!(
        failure.contains("UnableToAccessSecretException") && failure.contains(&arn),
        "{failure}"
    );
    assert_eq!(out.credential_arn(), Some(arn.as_str()));
}

#[tokio::test]
async fn registry_policy_put_get_delete() {
    let sandbox = start(SandboxConfig::default());
    let ecr = client(&sandbox, "us-east-1");
    let err = ecr
        .get_registry_policy()
        .send()
        .await
        .expect_err("no policy yet");
    let err = err.into_service_error();
    assert!(
        matches!(
            err,
            GetRegistryPolicyError::RegistryPolicyNotFoundException(_)
        ),
        "{err:?}"
    );

    let put = ecr
        .put_registry_policy()
        .policy_text(POLICY)
        .send()
        .await
        .expect("put");
    assert_eq!(put.registry_id(), Some(ACCOUNT));
    assert_eq!(put.policy_text(), Some(POLICY));

    let got = ecr.get_registry_policy().send().await.expect("get");
    assert_eq!(got.registry_id(), Some(ACCOUNT));
    assert_eq!(got.policy_text(), Some(POLICY));

    let deleted = ecr.delete_registry_policy().send().await.expect("delete");
    assert_eq!(deleted.registry_id(), Some(ACCOUNT));
    assert_eq!(deleted.policy_text(), Some(POLICY));

    let err = ecr.get_registry_policy().send().await.expect_err("deleted");
    assert_eq!(
        code(&err).as_deref(),
        Some("RegistryPolicyNotFoundException")
    );
    let err = ecr
        .delete_registry_policy()
        .send()
        .await
        .expect_err("nothing to delete");
    assert!(matches!(
        err.into_service_error(),
        DeleteRegistryPolicyError::RegistryPolicyNotFoundException(_)
    ));
}

#[tokio::test]
async fn put_registry_policy_refuses_a_non_ecr_action() {
    let sandbox = start(SandboxConfig::default());
    let ecr = one_shot(&sandbox, "us-east-1");
    let bad = POLICY.replace("ecr:CreateRepository", "s3:GetObject");
    let err = ecr
        .put_registry_policy()
        .policy_text(bad)
        .send()
        .await
        .expect_err("not an ECR policy");
    assert_eq!(code(&err).as_deref(), Some("InvalidParameterException"));
    let too_long = format!("{}{}", POLICY, " ".repeat(10_241 - POLICY.len() + 1));
    let err = ecr
        .put_registry_policy()
        .policy_text(too_long)
        .send()
        .await
        .expect_err("longer than 10240");
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));
    assert!(
        ecr.get_registry_policy().send().await.is_err(),
        "nothing stored"
    );
}

// ---------------------------------------------------------------------------------------------
// Error codes of CreatePullThroughCacheRule
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_twice_is_already_exists_also_with_a_trailing_slash() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = one_shot(&sandbox, "us-east-1");
    for prefix in ["quay", "quay/"] {
        let err = ecr
            .create_pull_through_cache_rule()
            .ecr_repository_prefix(prefix)
            .upstream_registry_url("quay.io")
            .send()
            .await
            .expect_err("exists");
        assert_eq!(status(&err), Some(400));
        let err = err.into_service_error();
        assert!(
            matches!(
                err,
                CreateErr::PullThroughCacheRuleAlreadyExistsException(_)
            ),
            "{prefix}: {err:?}"
        );
    }
}

#[tokio::test]
async fn create_with_an_unsupported_upstream_url() {
    let sandbox = start(SandboxConfig::default());
    let ecr = one_shot(&sandbox, "us-east-1");
    for url in [
        "docker.io",
        "registry.example.com",
        "1.dkr.ecr.eu-west-1.amazonaws.com",
    ] {
        let err = ecr
            .create_pull_through_cache_rule()
            .ecr_repository_prefix("hub")
            .upstream_registry_url(url)
            .credential_arn(secret_arn("us-east-1", "hub"))
            .send()
            .await
            .expect_err("unsupported");
        let err = err.into_service_error();
        assert!(
            matches!(err, CreateErr::UnsupportedUpstreamRegistryException(_)),
            "{url}: {err:?}"
        );
        assert!(err.message().unwrap_or_default().contains(url));
    }
    assert!(
        all_prefixes(&client(&sandbox, "us-east-1"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_51st_rule_in_a_region_exceeds_the_quota() {
    let sandbox = start(SandboxConfig::default());
    let ecr = one_shot(&sandbox, "us-east-1");
    for i in 0..50 {
        ecr.create_pull_through_cache_rule()
            .ecr_repository_prefix(format!("team{i:02}"))
            .upstream_registry_url("public.ecr.aws")
            .send()
            .await
            .unwrap_or_else(|e| panic!("rule {i}: {:?}", e.into_service_error()));
    }
    let err = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("team50")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect_err("quota");
    assert_eq!(status(&err), Some(400));
    let err = err.into_service_error();
    assert!(
        matches!(err, CreateErr::LimitExceededException(_)),
        "{err:?}"
    );
    assert_eq!(sandbox.log().count("CreatePullThroughCacheRule"), 51);
    assert_eq!(all_prefixes(&client(&sandbox, "us-east-1")).await.len(), 50);

    // The quota is per region.
    one_shot(&sandbox, "eu-west-1")
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("team50")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect("another region has its own quota");
}

#[tokio::test]
async fn the_sdk_default_classifier_retries_limit_exceeded() {
    // ecr-api.md: LimitExceededException is final, but the SDK treats it as throttling,
    // so a client must not rely on the default retry policy for Create.
    let mut config = SandboxConfig::default();
    config.seed.insert(
        "us-east-1".into(),
        (0..50)
            .map(|i| common::rule_body(&format!("team{i:02}"), "public.ecr.aws"))
            .collect(),
    );
    let sandbox = start(config);
    let keys = sandbox.keys().clone();
    let ecr = client_with(
        &sandbox,
        "us-east-1",
        &keys.access_key_id,
        &keys.secret_access_key,
        Some(
            aws_sdk_ecr::config::retry::RetryConfig::standard()
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        ),
    );
    let err = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("team50")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect_err("quota");
    assert_eq!(code(&err).as_deref(), Some("LimitExceededException"));
    assert_eq!(sandbox.log().count("CreatePullThroughCacheRule"), 3);
}

#[tokio::test]
async fn secret_errors_on_create_and_update() {
    let not_found = secret_arn("us-east-1", "gone");
    let denied = secret_arn("us-east-1", "denied");
    let undecryptable = secret_arn("us-east-1", "rekeyed");
    let mut config = SandboxConfig {
        secrets: HashMap::from([
            (not_found.clone(), Secret::NotFound),
            (denied.clone(), Secret::AccessDenied),
            (undecryptable.clone(), Secret::Undecryptable),
        ]),
        ..SandboxConfig::default()
    };
    let good = secret_arn("us-east-1", "good");
    config.seed.insert(
        "us-east-1".into(),
        vec![common::rule_body_with_secret(
            "docker-hub",
            "registry-1.docker.io",
            &good,
        )],
    );
    let sandbox = start(config);
    let ecr = one_shot(&sandbox, "us-east-1");
    let other_region = secret_arn("eu-west-1", "hub");
    let other_account = secret_arn("us-east-1", "hub").replace(ACCOUNT, "111122223333");
    let cases = [
        (&not_found, "SecretNotFoundException"),
        (&other_region, "SecretNotFoundException"),
        (&other_account, "SecretNotFoundException"),
        (&denied, "UnableToAccessSecretException"),
        (&undecryptable, "UnableToDecryptSecretValueException"),
    ];
    for (arn, expected) in cases {
        let err = ecr
            .create_pull_through_cache_rule()
            .ecr_repository_prefix("hub2")
            .upstream_registry_url("registry-1.docker.io")
            .credential_arn(arn.as_str())
            .send()
            .await
            .expect_err("secret fault on create");
        let err = err.into_service_error();
        let typed = match &err {
            CreateErr::SecretNotFoundException(_) => "SecretNotFoundException",
            CreateErr::UnableToAccessSecretException(_) => "UnableToAccessSecretException",
            CreateErr::UnableToDecryptSecretValueException(_) => {
                "UnableToDecryptSecretValueException"
            }
            _ => "other",
        };
        assert_eq!(typed, expected, "create with {arn}: {err:?}");

        let err = ecr
            .update_pull_through_cache_rule()
            .ecr_repository_prefix("docker-hub")
            .credential_arn(arn.as_str())
            .send()
            .await
            .expect_err("secret fault on update");
        let err = err.into_service_error();
        let typed = match &err {
            UpdateErr::SecretNotFoundException(_) => "SecretNotFoundException",
            UpdateErr::UnableToAccessSecretException(_) => "UnableToAccessSecretException",
            UpdateErr::UnableToDecryptSecretValueException(_) => {
                "UnableToDecryptSecretValueException"
            }
            _ => "other",
        };
        assert_eq!(typed, expected, "update with {arn}: {err:?}");
    }
    // Nothing was created or changed.
    let rules = client(&sandbox, "us-east-1")
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect("describe")
        .pull_through_cache_rules
        .unwrap_or_default();
    assert_eq!(prefixes(&rules), ["docker-hub"]);
    assert_eq!(rules[0].credential_arn(), Some(good.as_str()));
}

#[tokio::test]
async fn validation_exceptions_name_the_member() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = one_shot(&sandbox, "us-east-1");

    let err = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("Bad_Prefix")
        .upstream_registry_url("quay.io")
        .send()
        .await
        .expect_err("bad prefix");
    let err = err.into_service_error();
    assert!(matches!(err, CreateErr::ValidationException(_)), "{err:?}");
    let msg = err.message().unwrap_or_default();
    assert!(
        msg.contains("'Bad_Prefix' at 'ecrRepositoryPrefix'") && msg.contains("regular expression"),
        "{msg}"
    );

    let err = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("hub")
        .upstream_registry_url("registry-1.docker.io")
        .credential_arn("arn:aws:secretsmanager:us-east-1:1:secret:x")
        .send()
        .await
        .expect_err("short credential ARN");
    let err = err.into_service_error();
    assert!(matches!(err, CreateErr::ValidationException(_)), "{err:?}");
    let msg = err.message().unwrap_or_default();
    assert!(
        msg.contains("at 'credentialArn'") && msg.contains("greater than or equal to 50"),
        "{msg}"
    );

    let err = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("hub")
        .upstream_registry_url("registry-1.docker.io")
        .upstream_registry(UpstreamRegistry::from("dockerhub"))
        .credential_arn(secret_arn("us-east-1", "hub"))
        .send()
        .await
        .expect_err("bad enum value");
    let err = err.into_service_error();
    assert!(matches!(err, CreateErr::ValidationException(_)), "{err:?}");
    let msg = err.message().unwrap_or_default();
    assert!(
        msg.contains("'dockerhub' at 'upstreamRegistry'") && msg.contains("enum value set"),
        "{msg}"
    );

    for (n, bound) in [
        (0, "greater than or equal to 1"),
        (1001, "less than or equal to 1000"),
    ] {
        let err = ecr
            .describe_pull_through_cache_rules()
            .max_results(n)
            .send()
            .await
            .expect_err("maxResults out of range");
        let err = err.into_service_error();
        assert!(
            matches!(err, DescribeErr::ValidationException(_)),
            "{err:?}"
        );
        let msg = err.message().unwrap_or_default();
        assert!(
            msg.contains(&format!("'{n}' at 'maxResults'")) && msg.contains(bound),
            "{msg}"
        );
    }
    for (list, value) in [(vec![], "null"), (vec!["quay".to_string(); 101], "null")] {
        let err = ecr
            .describe_pull_through_cache_rules()
            .set_ecr_repository_prefixes(Some(list))
            .send()
            .await
            .expect_err("1 to 100 prefixes");
        let err = err.into_service_error();
        assert!(
            matches!(err, DescribeErr::ValidationException(_)),
            "{err:?}"
        );
        let msg = err.message().unwrap_or_default();
        assert!(
            msg.contains(&format!("{value} at 'ecrRepositoryPrefixes'"))
                && msg.contains("length between 1 and 100"),
            "{msg}"
        );
    }
    // The bounds themselves are fine.
    for n in [1, 1000] {
        ecr.describe_pull_through_cache_rules()
            .max_results(n)
            .send()
            .await
            .unwrap_or_else(|e| panic!("maxResults {n}: {:?}", e.into_service_error()));
    }
}

#[tokio::test]
async fn invalid_parameter_exceptions() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = one_shot(&sandbox, "us-east-1");
    let hub_arn = secret_arn("us-east-1", "hub");

    let attempts = [
        (
            "upstreamRegistry does not match the URL",
            ecr.create_pull_through_cache_rule()
                .ecr_repository_prefix("gh")
                .upstream_registry_url("ghcr.io")
                .upstream_registry(UpstreamRegistry::Quay),
        ),
        (
            "docker-hub needs a credential",
            ecr.create_pull_through_cache_rule()
                .ecr_repository_prefix("hub")
                .upstream_registry_url("registry-1.docker.io"),
        ),
        (
            "quay takes no credential",
            ecr.create_pull_through_cache_rule()
                .ecr_repository_prefix("quay2")
                .upstream_registry_url("quay.io")
                .credential_arn(&hub_arn),
        ),
        (
            "upstreamRepositoryPrefix with ROOT",
            ecr.create_pull_through_cache_rule()
                .ecr_repository_prefix("ROOT")
                .upstream_registry_url("111122223333.dkr.ecr.us-east-1.amazonaws.com")
                .upstream_repository_prefix("prod"),
        ),
        (
            "a custom role for a non-ECR upstream",
            ecr.create_pull_through_cache_rule()
                .ecr_repository_prefix("quay2")
                .upstream_registry_url("quay.io")
                .custom_role_arn("arn:aws:iam::123456789012:role/ecr-ptc"),
        ),
        (
            "a custom role of another account",
            ecr.create_pull_through_cache_rule()
                .ecr_repository_prefix("mirror")
                .upstream_registry_url("111122223333.dkr.ecr.us-east-1.amazonaws.com")
                .custom_role_arn("arn:aws:iam::111122223333:role/ecr-ptc"),
        ),
        (
            "registryId of another account",
            ecr.create_pull_through_cache_rule()
                .registry_id("111122223333")
                .ecr_repository_prefix("quay2")
                .upstream_registry_url("quay.io"),
        ),
    ];
    for (why, call) in attempts {
        let err = call.send().await.expect_err(why);
        assert_eq!(status(&err), Some(400), "{why}");
        let err = err.into_service_error();
        assert!(
            matches!(err, CreateErr::InvalidParameterException(_)),
            "{why}: {err:?}"
        );
    }

    let err = ecr
        .describe_pull_through_cache_rules()
        .registry_id("111122223333")
        .send()
        .await
        .expect_err("another account");
    assert!(matches!(
        err.into_service_error(),
        DescribeErr::InvalidParameterException(_)
    ));
    let err = ecr
        .update_pull_through_cache_rule()
        .ecr_repository_prefix("quay")
        .credential_arn(&hub_arn)
        .send()
        .await
        .expect_err("quay takes no credential");
    assert!(matches!(
        err.into_service_error(),
        UpdateErr::InvalidParameterException(_)
    ));
    // The own account's id is accepted.
    let out = ecr
        .describe_pull_through_cache_rules()
        .registry_id(ACCOUNT)
        .send()
        .await
        .expect("own registry");
    assert_eq!(out.pull_through_cache_rules().len(), 5);
    // ROOT with the default upstream prefix is fine.
    let root = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("ROOT")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect("ROOT rule");
    assert_eq!(root.upstream_repository_prefix(), Some("ROOT"));
}

#[tokio::test]
async fn missing_rules_are_not_found_for_every_operation() {
    let sandbox = start(SandboxConfig::demo());
    let ecr = one_shot(&sandbox, "us-east-1");

    let err = ecr
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("nope")
        .send()
        .await
        .expect_err("describe");
    assert!(matches!(
        err.into_service_error(),
        DescribeErr::PullThroughCacheRuleNotFoundException(_)
    ));
    // One missing prefix fails the whole call, though the others exist.
    let err = ecr
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("quay")
        .ecr_repository_prefixes("nope")
        .ecr_repository_prefixes("k8s")
        .send()
        .await
        .expect_err("describe with one missing");
    let err = err.into_service_error();
    assert!(
        matches!(err, DescribeErr::PullThroughCacheRuleNotFoundException(_)),
        "{err:?}"
    );
    assert!(err.message().unwrap_or_default().contains("'nope'"));

    let err = ecr
        .update_pull_through_cache_rule()
        .ecr_repository_prefix("nope")
        .credential_arn(secret_arn("us-east-1", "hub"))
        .send()
        .await
        .expect_err("update");
    assert!(matches!(
        err.into_service_error(),
        UpdateErr::PullThroughCacheRuleNotFoundException(_)
    ));
    let err = ecr
        .delete_pull_through_cache_rule()
        .ecr_repository_prefix("nope")
        .send()
        .await
        .expect_err("delete");
    assert!(matches!(
        err.into_service_error(),
        DeleteErr::PullThroughCacheRuleNotFoundException(_)
    ));
    let err = ecr
        .validate_pull_through_cache_rule()
        .ecr_repository_prefix("nope")
        .send()
        .await
        .expect_err("validate");
    assert!(matches!(
        err.into_service_error(),
        ValidateErr::PullThroughCacheRuleNotFoundException(_)
    ));
    assert_eq!(sandbox.log().len(), 5);
    assert!(
        sandbox
            .log()
            .entries()
            .iter()
            .all(|e| e.error_code.as_deref() == Some("PullThroughCacheRuleNotFoundException"))
    );
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

fn config_with_120_rules() -> SandboxConfig {
    let mut config = SandboxConfig::default();
    // Seeded in reverse so the listing order cannot be the insertion order.
    config.seed.insert(
        "us-east-1".into(),
        (0..120)
            .rev()
            .map(|i| common::rule_body(&format!("team-{i:03}"), "public.ecr.aws"))
            .collect(),
    );
    config
}

#[tokio::test]
async fn describe_pages_through_120_rules() {
    let sandbox = start(config_with_120_rules());
    let ecr = client(&sandbox, "us-east-1");
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut tokens = Vec::new();
    loop {
        let out = ecr
            .describe_pull_through_cache_rules()
            .max_results(50)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("page");
        sizes.push(out.pull_through_cache_rules().len());
        seen.extend(prefixes(out.pull_through_cache_rules()));
        tokens.push(out.next_token().is_some());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, [50, 50, 20]);
    assert_eq!(tokens, [true, true, false]);
    let expected: Vec<String> = (0..120).map(|i| format!("team-{i:03}")).collect();
    assert_eq!(seen, expected, "every rule exactly once, sorted");

    // Without maxResults, ECR answers up to 100 rules a page.
    let first = ecr
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect("default page");
    assert_eq!(first.pull_through_cache_rules().len(), 100);
    assert!(first.next_token().is_some());
}

#[tokio::test]
async fn the_sdk_paginator_collects_all_120_rules() {
    let sandbox = start(config_with_120_rules());
    let ecr = client(&sandbox, "us-east-1");
    let rules: Vec<_> = ecr
        .describe_pull_through_cache_rules()
        .into_paginator()
        .page_size(50)
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(rules.len(), 120);
    let mut unique: Vec<String> = prefixes(&rules);
    unique.dedup();
    assert_eq!(unique.len(), 120);
    assert_eq!(sandbox.log().count("DescribePullThroughCacheRules"), 3);
    let max_results: Vec<Value> = sandbox
        .log()
        .entries()
        .iter()
        .map(|e| e.parameters["maxResults"].clone())
        .collect();
    assert_eq!(max_results, [json!(50), json!(50), json!(50)]);
}

#[tokio::test]
async fn a_page_token_is_bound_to_its_region() {
    let mut config = config_with_120_rules();
    config.add_seed(
        [(
            "eu-west-1".to_string(),
            vec![common::rule_body("quay", "quay.io")],
        )]
        .into(),
    );
    let sandbox = start(config);
    let token = client(&sandbox, "us-east-1")
        .describe_pull_through_cache_rules()
        .max_results(10)
        .send()
        .await
        .expect("page")
        .next_token
        .expect("more pages");
    let err = one_shot(&sandbox, "eu-west-1")
        .describe_pull_through_cache_rules()
        .next_token(token)
        .send()
        .await
        .expect_err("token of another region");
    assert_eq!(code(&err).as_deref(), Some("InvalidParameterException"));
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_secret_key_is_an_invalid_signature() {
    let sandbox = start(SandboxConfig::demo());
    let akid = sandbox.keys().access_key_id.clone();
    let ecr = client_with(
        &sandbox,
        "us-east-1",
        &akid,
        "not-the-sandbox-secret",
        Some(aws_sdk_ecr::config::retry::RetryConfig::standard().with_max_attempts(1)),
    );
    let err = ecr
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect_err("bad signature");
    assert_eq!(status(&err), Some(403));
    assert_eq!(code(&err).as_deref(), Some("InvalidSignatureException"));
    let entry = &sandbox.log().entries()[0];
    assert_eq!(entry.status, 403);
    assert_eq!(entry.region.as_deref(), Some("us-east-1"));
}

#[tokio::test]
async fn an_unknown_access_key_is_unrecognized() {
    let sandbox = start(SandboxConfig::demo());
    let secret = sandbox.keys().secret_access_key.clone();
    let ecr = client_with(
        &sandbox,
        "us-east-1",
        "AKIAUNKNOWNKEY000000",
        &secret,
        Some(aws_sdk_ecr::config::retry::RetryConfig::standard().with_max_attempts(1)),
    );
    let err = ecr
        .get_registry_policy()
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(code(&err).as_deref(), Some("UnrecognizedClientException"));
    assert_eq!(status(&err), Some(403));
}

// ---------------------------------------------------------------------------------------------
// Regions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn regions_are_isolated() {
    let sandbox = start(SandboxConfig::default());
    let us = client(&sandbox, "us-east-1");
    let eu = client(&sandbox, "eu-west-1");
    eu.create_pull_through_cache_rule()
        .ecr_repository_prefix("eu-only")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect("create in eu");
    us.create_pull_through_cache_rule()
        .ecr_repository_prefix("us-only")
        .upstream_registry_url("quay.io")
        .send()
        .await
        .expect("create in us");
    assert_eq!(all_prefixes(&eu).await, ["eu-only"]);
    assert_eq!(all_prefixes(&us).await, ["us-only"]);
    let err = us
        .describe_pull_through_cache_rules()
        .ecr_repository_prefixes("eu-only")
        .send()
        .await
        .expect_err("not in us-east-1");
    assert_eq!(
        code(&err).as_deref(),
        Some("PullThroughCacheRuleNotFoundException")
    );
    let err = eu
        .delete_pull_through_cache_rule()
        .ecr_repository_prefix("us-only")
        .send()
        .await
        .expect_err("not in eu-west-1");
    assert_eq!(
        code(&err).as_deref(),
        Some("PullThroughCacheRuleNotFoundException")
    );

    // The same prefix may exist in both regions.
    eu.create_pull_through_cache_rule()
        .ecr_repository_prefix("us-only")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect("same prefix, other region");

    us.put_registry_policy()
        .policy_text(POLICY)
        .send()
        .await
        .expect("put in us");
    let err = eu
        .get_registry_policy()
        .send()
        .await
        .expect_err("no policy in eu");
    assert_eq!(
        code(&err).as_deref(),
        Some("RegistryPolicyNotFoundException")
    );
    assert_eq!(
        us.get_registry_policy()
            .send()
            .await
            .expect("us policy")
            .policy_text(),
        Some(POLICY)
    );
    let regions: Vec<Option<String>> = sandbox
        .log()
        .entries()
        .iter()
        .map(|e| e.region.clone())
        .collect();
    assert_eq!(regions.first(), Some(&Some("eu-west-1".to_string())));
    assert_eq!(regions.get(1), Some(&Some("us-east-1".to_string())));
}

#[tokio::test]
async fn fail_regions_deny_only_those_regions() {
    let mut config = SandboxConfig::demo();
    config.fail_regions = vec!["eu-west-1".into()];
    let sandbox = start(config);
    let err = one_shot(&sandbox, "eu-west-1")
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("ecr:DescribePullThroughCacheRules")
    );
    let err = one_shot(&sandbox, "eu-west-1")
        .put_registry_policy()
        .policy_text(POLICY)
        .send()
        .await
        .expect_err("denied");
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
    assert_eq!(
        all_prefixes(&one_shot(&sandbox, "us-east-1")).await.len(),
        5
    );
}

// ---------------------------------------------------------------------------------------------
// Injected faults
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn throttling_without_retries() {
    let mut config = SandboxConfig::demo();
    config.throttle_rate = 1.0;
    let sandbox = start(config);
    let err = one_shot(&sandbox, "us-east-1")
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(status(&err), Some(400));
    assert_eq!(code(&err).as_deref(), Some("ThrottlingException"));
    assert_eq!(sandbox.log().count("DescribePullThroughCacheRules"), 1);
}

#[tokio::test]
async fn throttling_with_default_retries_still_fails_after_retrying() {
    let mut config = SandboxConfig::demo();
    config.throttle_rate = 1.0;
    let sandbox = start(config);
    let err = client(&sandbox, "us-east-1")
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(code(&err).as_deref(), Some("ThrottlingException"));
    let attempts = sandbox.log().count("DescribePullThroughCacheRules");
    assert!(attempts > 1, "the SDK retried: {attempts} attempts");
    assert!(
        sandbox
            .log()
            .entries()
            .iter()
            .all(|e| e.error_code.as_deref() == Some("ThrottlingException") && e.status == 400)
    );
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let mut config = SandboxConfig::demo();
    config.latency = std::time::Duration::from_millis(300);
    let sandbox = start(config);
    let ecr = client(&sandbox, "us-east-1");
    let started = std::time::Instant::now();
    assert_eq!(all_prefixes(&ecr).await.len(), 5);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_millis(300),
        "answered after {elapsed:?}"
    );
}

#[tokio::test]
async fn server_errors_are_http_500() {
    let mut config = SandboxConfig::demo();
    config.server_error_rate = 1.0;
    let sandbox = start(config);
    let ecr = one_shot(&sandbox, "us-east-1");
    let err = ecr
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect_err("server error");
    assert_eq!(status(&err), Some(500));
    let err = err.into_service_error();
    assert!(matches!(err, DescribeErr::ServerException(_)), "{err:?}");
    let err = ecr
        .create_pull_through_cache_rule()
        .ecr_repository_prefix("new")
        .upstream_registry_url("quay.io")
        .send()
        .await
        .expect_err("server error");
    assert!(matches!(
        err.into_service_error(),
        CreateErr::ServerException(_)
    ));
    let entries = sandbox.log().entries();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| e.status == 500 && e.error_code.as_deref() == Some("ServerException"))
    );
}

// ---------------------------------------------------------------------------------------------
// Request log
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_request_log_records_every_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("requests.jsonl");
    let mut config = SandboxConfig::demo();
    config.request_log = Some(path.clone());
    let sandbox = start(config);
    let ecr = client(&sandbox, "eu-west-1");
    ecr.describe_pull_through_cache_rules()
        .ecr_repository_prefixes("gitlab")
        .max_results(10)
        .send()
        .await
        .expect("describe");
    ecr.delete_pull_through_cache_rule()
        .ecr_repository_prefix("nope")
        .send()
        .await
        .expect_err("missing");
    // The demo registry has a policy in us-east-1 only.
    client(&sandbox, "ap-southeast-2")
        .get_registry_policy()
        .send()
        .await
        .expect_err("no policy");

    let entries = sandbox.log().entries();
    assert_eq!(entries.len(), 3);
    assert_eq!(sandbox.log().len(), 3);
    assert_eq!(sandbox.log().count("DeletePullThroughCacheRule"), 1);

    assert_eq!(entries[0].operation, "DescribePullThroughCacheRules");
    assert_eq!(entries[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        entries[0].parameters,
        json!({"ecrRepositoryPrefixes": ["gitlab"], "maxResults": 10})
    );
    assert_eq!(entries[0].status, 200);
    assert_eq!(entries[0].error_code, None);

    assert_eq!(entries[1].operation, "DeletePullThroughCacheRule");
    assert_eq!(
        entries[1].parameters,
        json!({"ecrRepositoryPrefix": "nope"})
    );
    assert_eq!(entries[1].status, 400);
    assert_eq!(
        entries[1].error_code.as_deref(),
        Some("PullThroughCacheRuleNotFoundException")
    );

    assert_eq!(entries[2].operation, "GetRegistryPolicy");
    assert_eq!(entries[2].region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(
        entries[2].error_code.as_deref(),
        Some("RegistryPolicyNotFoundException")
    );

    let lines: Vec<Value> = std::io::BufReader::new(std::fs::File::open(&path).expect("log file"))
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, entry) in lines.iter().zip(&entries) {
        assert_eq!(line["operation"], json!(entry.operation));
        assert_eq!(line["region"], json!(entry.region));
        assert_eq!(line["parameters"], entry.parameters);
        assert_eq!(line["status"], json!(entry.status));
        assert_eq!(line["error_code"], json!(entry.error_code));
    }

    // clear() forgets the memory, not the file.
    sandbox.log().clear();
    assert!(sandbox.log().is_empty());
    client(&sandbox, "us-east-1")
        .describe_pull_through_cache_rules()
        .send()
        .await
        .expect("describe");
    assert_eq!(sandbox.log().len(), 1);
    let text = std::fs::read_to_string(&path).expect("log file");
    assert_eq!(text.lines().count(), 4);
}
