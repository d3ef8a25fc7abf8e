//! The sandbox as an organization, driven by the real STS, Organizations and ECR clients:
//! AssumeRole into member accounts (each with its own registry), its refusals, temporary
//! credentials and their expiry, and ListAccounts' pages.

use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_ecr::config::{Credentials, Region};
use aws_sdk_ecr::error::ProvideErrorMetadata;
use skyql::sandbox::{Sandbox, SandboxConfig};

use crate::common::{self, ACCOUNT, code, start};

const ROLE: &str = "skyql-inventory";

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE}")
}

fn base_credentials(sandbox: &Sandbox) -> Credentials {
    let keys = sandbox.keys();
    Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        None,
        None,
        "test",
    )
}

fn sts(sandbox: &Sandbox) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version_latest()
        .endpoint_url(sandbox.endpoint())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .credentials_provider(base_credentials(sandbox))
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

fn organizations(sandbox: &Sandbox, credentials: Credentials) -> aws_sdk_organizations::Client {
    let conf = aws_sdk_organizations::Config::builder()
        .behavior_version_latest()
        .endpoint_url(sandbox.endpoint())
        .region(aws_sdk_organizations::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .build();
    aws_sdk_organizations::Client::from_conf(conf)
}

fn ecr_as(sandbox: &Sandbox, region: &str, credentials: Credentials) -> aws_sdk_ecr::Client {
    let conf = aws_sdk_ecr::Config::builder()
        .behavior_version_latest()
        .endpoint_url(sandbox.endpoint())
        .region(Region::new(region.to_string()))
        .credentials_provider(credentials)
        .build();
    aws_sdk_ecr::Client::from_conf(conf)
}

/// The credentials AssumeRole answers for `account`'s role.
async fn assume(sandbox: &Sandbox, account: &str) -> Credentials {
    let out = sts(sandbox)
        .assume_role()
        .role_arn(role_arn(account))
        .role_session_name("skyql")
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    assert!(c.access_key_id().starts_with("ASIA"));
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "assumed",
    )
}

async fn registry_ids(ecr: &aws_sdk_ecr::Client) -> Vec<String> {
    let out = ecr.describe_pull_through_cache_rules().send().await;
    let rules = out
        .expect("describe")
        .pull_through_cache_rules
        .unwrap_or_default();
    rules.iter().filter_map(|r| r.registry_id.clone()).collect()
}

#[tokio::test]
async fn an_assumed_role_reaches_its_accounts_own_registry() {
    let sandbox = start(SandboxConfig::demo().with_members(3));
    let member = "100000000002";
    let assumed = assume(&sandbox, member).await;
    let ecr = ecr_as(&sandbox, "us-east-1", assumed.clone());

    let ids = registry_ids(&ecr).await;
    assert!(!ids.is_empty(), "the member holds the demo rules");
    assert!(ids.iter().all(|id| id == member), "{ids:?}");
    let base = common::client(&sandbox, "us-east-1");
    assert!(registry_ids(&base).await.iter().all(|id| id == ACCOUNT));

    // A change in the member's registry stays there.
    ecr.create_pull_through_cache_rule()
        .ecr_repository_prefix("member-only")
        .upstream_registry_url("public.ecr.aws")
        .send()
        .await
        .expect("create in the member");
    let prefixes = |rules: Vec<aws_sdk_ecr::types::PullThroughCacheRule>| -> Vec<String> {
        rules
            .into_iter()
            .filter_map(|r| r.ecr_repository_prefix)
            .collect()
    };
    let in_member = ecr
        .describe_pull_through_cache_rules()
        .send()
        .await
        .unwrap();
    assert!(
        prefixes(in_member.pull_through_cache_rules.unwrap_or_default())
            .contains(&"member-only".into())
    );
    let in_base = base
        .describe_pull_through_cache_rules()
        .send()
        .await
        .unwrap();
    assert!(
        !prefixes(in_base.pull_through_cache_rules.unwrap_or_default())
            .contains(&"member-only".into())
    );

    // The log names the account each call acted in.
    let log = sandbox.log().entries();
    let assumed_call = log.iter().find(|e| e.operation == "AssumeRole").unwrap();
    assert_eq!(assumed_call.account.as_deref(), Some(ACCOUNT));
    assert_eq!(assumed_call.parameters["RoleArn"], role_arn(member));
    let created = log
        .iter()
        .find(|e| e.operation == "CreatePullThroughCacheRule")
        .unwrap();
    assert_eq!(created.account.as_deref(), Some(member));

    // A session key without its token, or with another's, is refused.
    let tokenless = Credentials::new(
        assumed.access_key_id(),
        assumed.secret_access_key(),
        None,
        None,
        "no token",
    );
    let err = ecr_as(&sandbox, "us-east-1", tokenless)
        .describe_pull_through_cache_rules()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("UnrecognizedClientException"));
}

#[tokio::test]
async fn assume_role_is_refused_where_a_role_would_refuse_it() {
    let mut config = SandboxConfig::default().with_members(10);
    config.fail_assume_role = vec!["100000000003".into()];
    let sandbox = start(config);
    let sts = sts(&sandbox);
    let refused = |arn: String| {
        let sts = sts.clone();
        async move {
            let err = (sts
                .assume_role()
                .role_arn(&arn)
                .role_session_name("skyql")
                .send())
            .await
            .expect_err(&arn);
            (code(&err), err.message().unwrap_or_default().to_string())
        }
    };
    // A role that refuses, an account suspended (member 10), one outside the organization,
    // and a role no account has.
    for arn in [
        role_arn("100000000003"),
        role_arn("100000000010"),
        role_arn("999999999999"),
        "arn:aws:iam::100000000001:role/NoSuchRole".to_string(),
    ] {
        let (code, message) = refused(arn.clone()).await;
        assert_eq!(code.as_deref(), Some("AccessDenied"), "{arn}");
        assert!(
            message.contains("sts:AssumeRole") && message.contains(&arn),
            "{message}"
        );
    }
    let (code, _) = refused("arn:aws:iam::1234:user/x".into()).await;
    assert_eq!(code.as_deref(), Some("ValidationError"));
    // Other members still work.
    assume(&sandbox, "100000000001").await;
}

#[tokio::test]
async fn a_required_external_id_must_be_sent() {
    let mut config = SandboxConfig::default().with_members(1);
    config.external_id = Some("skyql-7f3a".into());
    let sandbox = start(config);
    let call = |external: Option<&str>| {
        let request = sts(&sandbox)
            .assume_role()
            .role_arn(role_arn("100000000001"))
            .role_session_name("skyql")
            .set_external_id(external.map(str::to_string));
        request.send()
    };
    let err = call(None).await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"));
    let err = call(Some("wrong")).await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"));
    call(Some("skyql-7f3a"))
        .await
        .expect("the right external id");
}

#[tokio::test]
async fn aws_configs_assume_role_provider_signs_ecr_calls_as_the_member() {
    let sandbox = start(SandboxConfig::demo().with_members(2));
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(sandbox.endpoint())
        .region(Region::new("eu-west-1"))
        .credentials_provider(base_credentials(&sandbox))
        .load()
        .await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn("100000000001"))
        .session_name("skyql")
        .configure(&sdk)
        .build()
        .await;
    let credentials = provider.provide_credentials().await.expect("assumed");
    assert!(credentials.session_token().is_some());
    assert!(
        credentials.expiry().is_some(),
        "the expiry is parsed from the XML"
    );
    let ecr = ecr_as(&sandbox, "eu-west-1", credentials);
    let ids = registry_ids(&ecr).await;
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id == "100000000001"),
        "{ids:?}"
    );
}

#[tokio::test]
async fn expired_credentials_are_refused_with_expired_token() {
    let mut config = SandboxConfig::default().with_members(1);
    config.session_duration = Duration::from_millis(300);
    let sandbox = start(config);
    let assumed = assume(&sandbox, "100000000001").await;
    let ecr = ecr_as(&sandbox, "us-east-1", assumed);
    ecr.describe_pull_through_cache_rules()
        .send()
        .await
        .expect("fresh");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = ecr
        .describe_pull_through_cache_rules()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ExpiredTokenException"));
}

/// Every account of ListAccounts with its State, following tokens page by page.
async fn list_accounts(
    client: &aws_sdk_organizations::Client,
) -> (Vec<(String, String)>, Vec<usize>) {
    let (mut accounts, mut pages, mut token) = (Vec::new(), Vec::new(), None);
    loop {
        let out = client
            .list_accounts()
            .set_next_token(token)
            .send()
            .await
            .expect("list");
        let page = out.accounts.unwrap_or_default();
        pages.push(page.len());
        for a in page {
            let state = a.state.map(|s| s.as_str().to_string()).unwrap_or_default();
            accounts.push((a.id.unwrap_or_default(), state));
        }
        token = out.next_token;
        if token.is_none() {
            return (accounts, pages);
        }
    }
}

#[tokio::test]
async fn list_accounts_pages_by_twenty_and_answers_only_the_management_account() {
    let mut config = SandboxConfig::default().with_members(44);
    config.empty_first_page = true;
    let sandbox = start(config);
    let org = organizations(&sandbox, base_credentials(&sandbox));
    let (accounts, pages) = list_accounts(&org).await;
    assert_eq!(
        pages,
        [0, 20, 20, 5],
        "an empty first page with a token, then pages of 20"
    );
    assert_eq!(accounts.len(), 45);
    assert!(accounts.contains(&(ACCOUNT.to_string(), "ACTIVE".to_string())));
    let suspended: Vec<&str> = (accounts.iter())
        .filter(|(_, s)| s == "SUSPENDED")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        suspended,
        [
            "100000000010",
            "100000000020",
            "100000000030",
            "100000000040"
        ]
    );

    let err = org
        .list_accounts()
        .max_results(21)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationException"));
    let member = organizations(&sandbox, assume(&sandbox, "100000000001").await);
    let err = member.list_accounts().send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("AccessDeniedException"));
}
