//! Per-region aws-sdk-ecr clients, bounded region concurrency, and the paginated calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::types::PullThroughCacheRule;
use tokio::sync::Semaphore;

use super::settings::{AwsSettings, RetryMode};
use crate::ecr::constraints::same_prefix;
use crate::error::{Error, Result};
use crate::provider::pushdown::ScanRequest;

const DESCRIBE: &str = "DescribePullThroughCacheRules";

/// The ECR clients of a session: one per region, sharing one SDK configuration.
pub struct EcrClients {
    sdk: aws_config::SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    limiter: Arc<Semaphore>,
}

impl std::fmt::Debug for EcrClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the SDK config: it holds the credentials provider.
        f.debug_struct("EcrClients")
            .field("max_concurrency", &self.limiter.available_permits())
            .finish()
    }
}

impl EcrClients {
    /// Loads the AWS configuration (environment and profile files; no network call) for `home_region`.
    pub async fn load(settings: &AwsSettings, home_region: Option<&str>) -> Self {
        let retry = match settings.retry_mode {
            RetryMode::Standard => RetryConfig::standard(),
            RetryMode::Adaptive => RetryConfig::adaptive(),
        }
        .with_max_attempts(settings.max_attempts.max(1));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        // A region is always given so that aws-config never asks instance metadata for one.
        loader = loader.region(Region::new(home_region.unwrap_or("us-east-1").to_string()));
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((akid, secret)) = &settings.static_keys {
            loader = loader.credentials_provider(aws_sdk_ecr::config::Credentials::new(
                akid,
                secret,
                None,
                None,
                "skyql-sandbox",
            ));
        }
        Self {
            sdk: loader.load().await,
            clients: Mutex::new(HashMap::new()),
            limiter: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
        }
    }

    /// The client for `region` (built once, then reused with its connection pool).
    pub fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().expect("client cache lock");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let conf = aws_sdk_ecr::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_string()))
                    .retry_classifier(super::mutate::QuotaIsFinal)
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// Waits for a region slot (`--max-concurrency`); hold the permit while calling that region.
    pub async fn region_slot(&self) -> tokio::sync::OwnedSemaphorePermit {
        Arc::clone(&self.limiter)
            .acquire_owned()
            .await
            .expect("the limiter is never closed")
    }

    /// The rules of one region that `request` asks for, paginating to the end (or to the limit).
    ///
    /// With identifiers, each chunk of up to 100 is one call. ECR fails the whole call when any
    /// requested prefix does not exist; a single missing identifier simply has no row, and for
    /// several, one listing (a single page: the quota is 50 rules) answers for all of them.
    pub async fn describe_rules(
        &self,
        region: &str,
        request: &ScanRequest,
    ) -> Result<Vec<PullThroughCacheRule>> {
        let client = self.client(region);
        let Some(chunks) = request.identifier_chunks() else {
            return list_all(&client, region, request.page_size, request.limit).await;
        };
        let mut rules = Vec::new();
        for chunk in chunks {
            let single = chunk.len() == 1;
            let result = client
                .describe_pull_through_cache_rules()
                .set_ecr_repository_prefixes(Some(chunk))
                .send()
                .await;
            match result {
                Ok(page) => rules.extend(page.pull_through_cache_rules.unwrap_or_default()),
                Err(e) if is_not_found(&e) && single => {}
                Err(e) if is_not_found(&e) => {
                    let all = list_all(&client, region, None, None).await?;
                    let wanted = request
                        .identifiers
                        .as_ref()
                        .expect("chunks come from identifiers");
                    return Ok(all
                        .into_iter()
                        .filter(|r| {
                            let p = r.ecr_repository_prefix().unwrap_or_default();
                            wanted.iter().any(|w| same_prefix(w, p))
                        })
                        .collect());
                }
                Err(e) => return Err(api_error(region, DESCRIBE, e)),
            }
        }
        Ok(rules)
    }
}

/// Lists every rule of a region, page by page, stopping once `limit` rows are in hand.
async fn list_all(
    client: &Client,
    region: &str,
    page_size: Option<i32>,
    limit: Option<usize>,
) -> Result<Vec<PullThroughCacheRule>> {
    let mut rules = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .describe_pull_through_cache_rules()
            .set_max_results(page_size)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| api_error(region, DESCRIBE, e))?;
        rules.extend(page.pull_through_cache_rules.unwrap_or_default());
        token = page.next_token;
        if token.is_none() || limit.is_some_and(|n| rules.len() >= n) {
            return Ok(rules);
        }
    }
}

/// The innermost cause of a client-side failure ("Connection refused (os error 111)"): the
/// SDK's full error context is a long debug dump that buries it.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if text.is_empty() {
        DisplayErrorContext(e).to_string()
    } else {
        text
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("PullThroughCacheRuleNotFoundException")
}

/// An SDK error as skyql's error, naming the region, the operation and the AWS error code.
pub fn api_error<E, R>(region: &str, operation: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let (code, message) = match &e {
        SdkError::ServiceError(se) => (
            se.err().code().unwrap_or("UnknownError").to_string(),
            se.err().message().unwrap_or("(no message)").to_string(),
        ),
        SdkError::TimeoutError(_) => ("Timeout".to_string(), root_cause(&e)),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_string(), root_cause(&e)),
        _ => ("ClientError".to_string(), root_cause(&e)),
    };
    Error::Api {
        region: region.to_string(),
        operation: operation.to_string(),
        code,
        message,
    }
}
