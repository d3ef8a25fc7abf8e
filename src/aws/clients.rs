//! Per-region aws-sdk-ecr clients sharing one SDK configuration and its bounds (timeouts,
//! retries within the statement's budget, the answer cap), and bounded region concurrency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::config::Region;
use aws_types::service_config::ServiceConfigKey;
use tokio::sync::Semaphore;

use super::answer_cap::AnswerCap;
use super::attempts::{AttemptLog, Bounds, SentRequests};
use super::retry_budget::{RetryBudget, WithinBudget};
use super::settings::{AwsSettings, RetryMode};
use crate::error::{Error, Result};

pub use super::failure::{api_error, is_not_found};

/// The ECR clients of a session: one per region, sharing one SDK configuration.
pub struct EcrClients {
    sdk: aws_config::SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    limiter: Arc<Semaphore>,
    attempts: AttemptLog,
    /// The retry configuration's initial and longest backoff.
    backoff: (Duration, Duration),
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
    /// Loads the AWS configuration (environment and profile files; no network call) for
    /// `home_region`. An endpoint that is not http(s) is refused here (exit 2): every call to
    /// it would fail only after its retries.
    pub async fn load(settings: &AwsSettings, home_region: Option<&str>) -> Result<Self> {
        let bounds = Bounds {
            connect_timeout: settings.connect_timeout,
            read_timeout: settings.read_timeout,
            retry_budget: settings.retry_budget,
            max_attempts: settings.max_attempts.max(1),
            max_response_bytes: settings.max_response_bytes,
        };
        let retry = match settings.retry_mode {
            RetryMode::Standard => RetryConfig::standard(),
            RetryMode::Adaptive => RetryConfig::adaptive(),
        }
        .with_max_attempts(bounds.max_attempts);
        let backoff = (retry.initial_backoff(), retry.max_backoff());
        // The read timeout bounds a whole attempt, from sending to the answer's last byte: the
        // SDK's own read timeout restarts with every byte, so a trickling answer never ends.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(bounds.connect_timeout)
            .operation_attempt_timeout(bounds.read_timeout)
            .operation_timeout(bounds.call_timeout())
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts)
            .http_client(shared_http_client());
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
        let sdk = loader.load().await;
        if let Some(url) = ecr_endpoint(&sdk) {
            check_endpoint(&url)?;
        }
        Ok(Self {
            sdk,
            clients: Mutex::new(HashMap::new()),
            limiter: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            attempts: AttemptLog {
                bounds,
                sent: SentRequests::default(),
                budget: Arc::new(RetryBudget::new(bounds.retry_budget)),
            },
            backoff,
        })
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
                    .retry_classifier(WithinBudget {
                        budget: Arc::clone(&self.attempts.budget),
                        initial_backoff: self.backoff.0,
                        max_backoff: self.backoff.1,
                    })
                    .interceptor(self.attempts.clone())
                    .interceptor(AnswerCap {
                        max: self.attempts.bounds.max_response_bytes,
                    })
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// A statement starts: its retry budget is whole again.
    pub fn start_statement(&self) {
        self.attempts.budget.progress();
    }

    /// HTTP requests sent by this session's clients so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.attempts.sent.count()
    }

    /// Waits for a region slot (`--max-concurrency`); hold the permit while calling that region.
    pub async fn region_slot(&self) -> tokio::sync::OwnedSemaphorePermit {
        Arc::clone(&self.limiter)
            .acquire_owned()
            .await
            .expect("the limiter is never closed")
    }
}

/// The HTTPS client every client of the session uses: the SDK's default (rustls with aws-lc,
/// the proxy of `HTTPS_PROXY`/`NO_PROXY`), built once. Without it each `Client::from_conf`
/// builds a client and a connection pool of its own, so every region (and, with many
/// accounts, every account × region) would open its own connections.
fn shared_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    Builder::new().build_with_connector_fn(|settings, components| {
        let provider = tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc);
        let mut connector = ConnectorBuilder::default().tls_provider(provider);
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The ECR endpoint the clients will call, resolved as aws-sdk-ecr resolves it: the one given
/// in code, else `AWS_ENDPOINT_URL_ECR` or the profile's `ecr` service section, else
/// `AWS_ENDPOINT_URL` or the profile's `endpoint_url`.
fn ecr_endpoint(sdk: &aws_config::SdkConfig) -> Option<String> {
    if sdk.get_origin("endpoint_url").is_client_config() {
        return sdk.endpoint_url().map(str::to_string);
    }
    let key = ServiceConfigKey::builder()
        .service_id("ECR")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("the key has every part");
    sdk.service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| sdk.endpoint_url().map(str::to_string))
}

/// Refuses an endpoint that is not an http:// or https:// URL with a host.
fn check_endpoint(url: &str) -> Result<()> {
    let parsed = url.parse::<http::Uri>().ok();
    let web = parsed.as_ref().is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    if web {
        return Ok(());
    }
    let from = ["AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find(|var| std::env::var(var).is_ok_and(|v| v == url))
        .unwrap_or("the AWS profile's endpoint_url");
    Err(Error::Usage(format!(
        "the ECR endpoint '{url}' (from {from}) is not an http:// or https:// URL; nothing was sent"
    )))
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
        let clients = EcrClients::load(&settings, Some("us-east-1"))
            .await
            .unwrap();
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

    #[test]
    fn only_an_http_or_https_endpoint_with_a_host_is_called() {
        for good in [
            "http://127.0.0.1:4566",
            "https://ecr.eu-west-1.amazonaws.com",
        ] {
            assert!(check_endpoint(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://127.0.0.1:1",
            "localhost:4566",
            "http://",
            "not a url",
            "",
        ] {
            let e = check_endpoint(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(
                e.to_string().contains("not an http:// or https:// URL"),
                "{e}"
            );
        }
    }
}
