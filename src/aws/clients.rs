//! Per-region aws-sdk-ecr clients, bounded region concurrency, and the paginated calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::validate_pull_through_cache_rule::ValidatePullThroughCacheRuleOutput;
use aws_sdk_ecr::types::PullThroughCacheRule;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::Semaphore;

use super::request::ScanRequest;
use super::sent::SentRequests;
use super::settings::{AwsSettings, RetryMode};
use crate::ecr::constraints::same_prefix;
use crate::error::{Error, Result};

const DESCRIBE: &str = "DescribePullThroughCacheRules";
const VALIDATE: &str = "ValidatePullThroughCacheRule";

/// ValidatePullThroughCacheRule calls in flight per region. One call per rule adds up (50
/// rules a region at most): a few round trips' worth of concurrency keeps a region quick
/// without bursting past ECR's request rate, which would only cost throttling retries.
pub const VALIDATE_IN_FLIGHT: usize = 8;

/// The ECR clients of a session: one per region, sharing one SDK configuration.
pub struct EcrClients {
    sdk: aws_config::SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    limiter: Arc<Semaphore>,
    sent: SentRequests,
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
        *TIMEOUTS.write().expect("timeouts lock") =
            Some((settings.connect_timeout, settings.read_timeout));
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(profile) = &settings.profile {
            // An explicit profile wins over environment keys, as in the AWS CLI: the default
            // chain would sign with AWS_ACCESS_KEY_ID, acting on another account silently.
            loader = loader.profile_name(profile).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(profile)
                    .build(),
            );
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
            sent: SentRequests::default(),
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
                    .retry_classifier(super::rule_calls::QuotaIsFinal)
                    .retry_classifier(super::fail_fast::FailFast)
                    .interceptor(self.sent.clone())
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// HTTP requests sent by this session's clients so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.sent.count()
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
        not_found: Option<&str>,
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
                Err(e) if is_not_found(&e, not_found) && single => {}
                Err(e) if is_not_found(&e, not_found) => {
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

    /// ValidatePullThroughCacheRule for the rule `prefix` of `region`; `None` when there is no
    /// such rule (it may have been deleted since it was listed).
    pub async fn validate_rule(
        &self,
        region: &str,
        prefix: &str,
        not_found: Option<&str>,
    ) -> Result<Option<ValidatePullThroughCacheRuleOutput>> {
        let result = self
            .client(region)
            .validate_pull_through_cache_rule()
            .ecr_repository_prefix(prefix)
            .send()
            .await;
        match result {
            Ok(answer) => Ok(Some(answer)),
            Err(e) if is_not_found(&e, not_found) => Ok(None),
            Err(e) => Err(api_error(region, VALIDATE, e)),
        }
    }

    /// ValidatePullThroughCacheRule for each of `prefixes` ([`VALIDATE_IN_FLIGHT`] calls at a
    /// time), answers in their order; `None` for a rule that no longer exists.
    pub async fn validate_prefixes(
        &self,
        region: &str,
        prefixes: Vec<String>,
        not_found: Option<&str>,
    ) -> Result<Vec<Option<ValidatePullThroughCacheRuleOutput>>> {
        // Owned prefixes: a stream over borrowed rules makes the future's Send bound
        // higher-ranked, which the plan's boxed stream cannot prove.
        futures::stream::iter(prefixes)
            .map(|prefix| async move { self.validate_rule(region, &prefix, not_found).await })
            .buffered(VALIDATE_IN_FLIGHT)
            .try_collect()
            .await
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

/// Names the flag that sets a timeout the message reports ("HTTP read timeout occurred after 30s").
fn with_flag(message: String) -> String {
    let Some((connect, read)) = *TIMEOUTS.read().expect("timeouts lock") else {
        return message;
    };
    if message.contains("connect timeout") {
        format!(
            "{message}: no connection within {} (--connect-timeout)",
            seconds(connect)
        )
    } else if message.contains("timeout") || message.contains("timed out") {
        format!(
            "{message}: no answer within the read timeout of {} (--read-timeout), or no \
             connection within {} (--connect-timeout)",
            seconds(read),
            seconds(connect)
        )
    } else {
        message
    }
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// The timeouts of the clients loaded last, for messages (the error of a timed-out call does
/// not carry them). Every session of a process is set from the same flags.
static TIMEOUTS: RwLock<Option<(Duration, Duration)>> = RwLock::new(None);

/// Whether a call failed because no credentials could be loaded (rather than on the network).
fn is_credentials_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Whether `e` is the resource's "no such item" answer (its schema's `not_found`).
fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>, not_found: Option<&str>) -> bool {
    e.code().is_some() && e.code() == not_found
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
        SdkError::TimeoutError(_) => ("Timeout".to_string(), with_flag(root_cause(&e))),
        SdkError::DispatchFailure(_) if is_credentials_error(&e) => (
            "NoCredentials".to_string(),
            format!(
                "no usable AWS credentials ({}). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 or configure a profile (`aws configure`, `aws configure sso`) and pass \
                 --profile NAME or set AWS_PROFILE",
                root_cause(&e)
            ),
        ),
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_string(), with_flag(root_cause(&e))),
        _ => ("ClientError".to_string(), root_cause(&e)),
    };
    Error::Api {
        region: region.to_string(),
        operation: operation.to_string(),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the SDK's default features off, the loaded configuration still carries an HTTPS
    /// client (hyper 1 and rustls, the system's roots): a local listener on an `https://`
    /// endpoint receives a TLS ClientHello from an ECR call. No network: the listener is on
    /// 127.0.0.1 and answers nothing.
    #[tokio::test]
    async fn an_https_endpoint_gets_a_tls_handshake() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut head = [0u8; 3];
            socket.read_exact(&mut head).await.expect("a record header");
            head
        });
        let settings = AwsSettings {
            endpoint_url: Some(format!("https://127.0.0.1:{port}")),
            static_keys: Some(("AKIDEXAMPLE".into(), "not-a-secret".into())),
            max_attempts: 1,
            ..AwsSettings::default()
        };
        let clients = EcrClients::load(&settings, Some("us-east-1")).await;
        let call = clients
            .client("us-east-1")
            .describe_pull_through_cache_rules()
            .send();
        let answer = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("the call ends");
        assert!(answer.is_err(), "nothing speaks TLS on the other end");
        let head = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the listener was reached")
            .unwrap();
        // A TLS handshake record (content type 22), TLS 1.x record version.
        assert_eq!(head[..2], [0x16, 0x03], "got {head:?}");
    }
}
