//! Shared helpers of the sandbox integration tests: SDK clients, rule bodies and error probes.
#![allow(dead_code)] // Each test crate uses its own subset.

pub mod cli;

use aws_sdk_ecr::config::retry::RetryConfig;
use aws_sdk_ecr::config::{Credentials, Region};
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use serde_json::{Value, json};
use skyql::sandbox::{Sandbox, SandboxConfig};

/// The sandbox's default account id.
pub const ACCOUNT: &str = "123456789012";

/// Starts a sandbox, panicking with the reason if it cannot.
pub fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).expect("the sandbox starts")
}

/// An ECR client for `region` signed with the sandbox's keys and the SDK's default retries.
pub fn client(sandbox: &Sandbox, region: &str) -> aws_sdk_ecr::Client {
    let keys = sandbox.keys();
    client_with(
        sandbox,
        region,
        &keys.access_key_id,
        &keys.secret_access_key,
        None,
    )
}

/// An ECR client that makes exactly one attempt per call (for fault tests).
pub fn one_shot(sandbox: &Sandbox, region: &str) -> aws_sdk_ecr::Client {
    let keys = sandbox.keys();
    client_with(
        sandbox,
        region,
        &keys.access_key_id,
        &keys.secret_access_key,
        Some(RetryConfig::standard().with_max_attempts(1)),
    )
}

/// An ECR client with explicit keys and, optionally, retry configuration.
pub fn client_with(
    sandbox: &Sandbox,
    region: &str,
    access_key_id: &str,
    secret_access_key: &str,
    retry: Option<RetryConfig>,
) -> aws_sdk_ecr::Client {
    let mut builder = aws_sdk_ecr::Config::builder()
        .behavior_version_latest()
        .endpoint_url(sandbox.endpoint())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "test",
        ));
    if let Some(retry) = retry {
        builder = builder.retry_config(retry);
    }
    aws_sdk_ecr::Client::from_conf(builder.build())
}

/// A Secrets Manager ARN ECR accepts as a pull-through cache credential.
pub fn secret_arn(region: &str, name: &str) -> String {
    format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:ecr-pullthroughcache/{name}-AbCdEf")
}

/// A CreatePullThroughCacheRule body (for seeds).
pub fn rule_body(prefix: &str, url: &str) -> Value {
    json!({ "ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": url })
}

/// A CreatePullThroughCacheRule body with a credential (for seeds).
pub fn rule_body_with_secret(prefix: &str, url: &str, credential_arn: &str) -> Value {
    json!({
        "ecrRepositoryPrefix": prefix,
        "upstreamRegistryUrl": url,
        "credentialArn": credential_arn,
    })
}

/// The error code of a failed SDK call.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<String> {
    err.code().map(str::to_string)
}

/// The HTTP status of a failed SDK call's response, when there was one.
pub fn status<E>(err: &SdkError<E, aws_sdk_ecr::config::http::HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}
