//! skyql's accounts layer against the sandbox's organization, through the real Organizations,
//! STS and ECR clients: discovery of the ACTIVE accounts, one AssumeRole per account shared by
//! its regions, and the accounts that refuse named with STS's code.

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_ecr::config::{Credentials, Region};
use skyql::aws::accounts::{self, Cached};
use skyql::sandbox::{Sandbox, SandboxConfig};

use crate::common::start;

const ROLE: &str = "skyql-inventory";

async fn base_config(sandbox: &Sandbox) -> aws_config::SdkConfig {
    let keys = sandbox.keys();
    let keys = Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        None,
        None,
        "t",
    );
    let cached = Cached::new(SharedCredentialsProvider::new(keys));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(sandbox.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(cached)
        .load()
        .await
}

#[tokio::test]
async fn an_organization_of_fifty_with_three_refusing_accounts() {
    let mut config = SandboxConfig::default().with_members(50);
    config.empty_first_page = true;
    let refusing = ["100000000007", "100000000023", "100000000041"];
    config.fail_assume_role = refusing.map(String::from).to_vec();
    let sandbox = start(config);
    let sdk = base_config(&sandbox).await;

    let org = aws_sdk_organizations::Client::new(&sdk);
    let ids = accounts::organization_accounts(&org)
        .await
        .expect("discovered");
    // 51 accounts less the five suspended ones (every tenth member).
    assert_eq!(ids.len(), 46, "{ids:?}");
    assert!(!ids.contains(&"100000000010".to_string()));
    assert!(ids.contains(&"123456789012".to_string()));
    assert_eq!(
        sandbox.log().count("ListAccounts"),
        4,
        "an empty page, then 20 + 20 + 11"
    );

    let (mut reached, mut refused) = (Vec::new(), Vec::new());
    for id in &ids {
        let account = accounts::assumed(&sdk, id, ROLE, None).await;
        match account.provider.provide_credentials().await {
            Ok(_) => reached.push(account),
            Err(e) => refused.push((id.clone(), accounts::credentials_failure(&e))),
        }
    }
    let refused_ids: Vec<&str> = refused.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(refused_ids, refusing);
    for (id, (code, message)) in &refused {
        assert_eq!(code, "AccessDenied", "{id}");
        assert!(
            message.contains(&format!("arn:aws:iam::{id}:role/{ROLE}")),
            "{message}"
        );
    }
    assert_eq!(reached.len(), 43);

    // Each account's clients in two regions share what its provider assumed: no AssumeRole
    // more, per account or per region.
    sandbox.log().clear();
    for account in &reached {
        for region in ["us-east-1", "eu-west-1"] {
            let conf = aws_sdk_ecr::config::Builder::from(&sdk)
                .region(Region::new(region))
                .credentials_provider(account.provider.clone())
                .build();
            let ecr = aws_sdk_ecr::Client::from_conf(conf);
            ecr.describe_pull_through_cache_rules()
                .send()
                .await
                .expect("describe as the member");
        }
    }
    let log = sandbox.log().entries();
    assert_eq!(sandbox.log().count("AssumeRole"), 0);
    let described: Vec<_> = log
        .iter()
        .filter(|e| e.operation == "DescribePullThroughCacheRules")
        .collect();
    assert_eq!(described.len(), 2 * reached.len());
    for account in &reached {
        let own = described
            .iter()
            .filter(|e| e.account.as_deref() == Some(account.id.as_str()));
        assert_eq!(
            own.count(),
            2,
            "{} was called in each region as itself",
            account.id
        );
    }
}

#[tokio::test]
async fn discovery_with_a_members_credentials_is_refused_and_says_why() {
    let sandbox = start(SandboxConfig::default().with_members(2));
    let sdk = base_config(&sandbox).await;
    let member = accounts::assumed(&sdk, "100000000001", ROLE, None).await;
    let as_member = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(sandbox.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(member.provider.clone())
        .load()
        .await;
    let org = aws_sdk_organizations::Client::new(&as_member);
    let e = accounts::organization_accounts(&org).await.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("AccessDeniedException") && text.contains("management account"),
        "{text}"
    );
}
