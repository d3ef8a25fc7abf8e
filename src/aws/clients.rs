//! Per-region aws-sdk-ecr clients, bounded region concurrency, and how a failed call is reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::config::Region;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;

use super::sent::SentRequests;
use super::settings::{AwsSettings, RetryMode};
use crate::error::Error;

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
                    .retry_classifier(super::quota::QuotaIsFinal)
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
pub fn is_not_found<E: ProvideErrorMetadata, R>(
    e: &SdkError<E, R>,
    not_found: Option<&str>,
) -> bool {
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
