//! The HTTP side of the sandbox: awsJson1.1 framing, authentication, fault injection, dispatch.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use serde_json::Value;

use super::auth;
use super::config::SandboxConfig;
use super::log::{LoggedRequest, RequestLog};
use super::registry::Registry;
use super::wire::ApiError;

/// The X-Amz-Target prefix of every ECR operation.
pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";
/// The content type of awsJson1.1 requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Bodies larger than this are refused (ECR's largest input, a policy, is 10 KiB).
const MAX_BODY: usize = 1 << 20;

/// State shared by every connection.
pub struct Shared {
    /// Faults and keys.
    pub config: SandboxConfig,
    /// The registry, one lock for all regions (calls are tiny; latency is slept outside it).
    pub registry: Mutex<Registry>,
    /// Every call.
    pub log: RequestLog,
    /// Calls so far per operation named in `lose_responses`.
    pub lost: Mutex<std::collections::HashMap<String, u64>>,
    /// The operations of `throttle_first` already throttled once.
    pub throttled: Mutex<std::collections::HashSet<String>>,
}

/// The one handler: every ECR call is `POST /` with the operation in X-Amz-Target.
pub async fn handle(State(shared): State<Arc<Shared>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.strip_prefix(TARGET_PREFIX).unwrap_or(t).to_string())
        .unwrap_or_default();
    let parameters = serde_json::from_slice::<Value>(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));

    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let result = answer(&shared, &parts, &body, &operation);
    shared.log.push(LoggedRequest {
        operation: operation.clone(),
        region: auth::claimed_region(&parts),
        parameters,
        status: result.as_ref().map_or_else(|e| e.status, |_| 200),
        error_code: result.as_ref().err().map(|e| e.code.to_string()),
    });
    respond(result)
}

fn answer(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &[u8],
    operation: &str,
) -> Result<Value, ApiError> {
    let now = SystemTime::now();
    let region = auth::verify(parts, body, &shared.config.keys, now)?;
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return Err(ApiError::unknown_operation(format!(
            "{} {} is not an ECR operation: ECR is called with POST /",
            parts.method,
            parts.uri.path()
        )));
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim() == CONTENT_TYPE)
    }) {
        return Err(ApiError::unknown_operation(format!(
            "Unknown operation: the content type must be {CONTENT_TYPE}, not {}",
            content_type.unwrap_or("(none)")
        )));
    }
    let Some(registered) = super::operations::operation(operation) else {
        return Err(ApiError::unknown_operation(format!(
            "Unknown operation: {TARGET_PREFIX}{operation}"
        )));
    };
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::serialization(format!("Malformed JSON body: {e}")))?
    };
    if !input.is_object() {
        return Err(ApiError::serialization(
            "Start of structure or map expected, found a JSON value of another type",
        ));
    }
    inject_faults(&shared.config, &region, operation)?;
    if shared
        .config
        .throttle_first
        .iter()
        .any(|op| op == operation)
        && shared
            .throttled
            .lock()
            .expect("throttled lock")
            .insert(operation.to_string())
    {
        return Err(ApiError::client(
            "ThrottlingException",
            "Rate exceeded (injected: the first call of the operation)",
        ));
    }
    let epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    // Millisecond precision, as ECR's timestamps carry.
    let now = (epoch.as_millis() as f64) / 1000.0;
    // Every call of a listed operation counts: the 1st, 3rd, … lose their response.
    let lose = shared
        .config
        .lose_responses
        .iter()
        .any(|op| op == operation)
        && {
            let mut calls = shared.lost.lock().expect("lost lock");
            let n = calls.entry(operation.to_string()).or_default();
            *n += 1;
            *n % 2 == 1
        };
    let mut registry = shared.registry.lock().expect("registry lock");
    let answer = (registered.handle)(&mut registry, &region, input, now)?;
    if let Some(path) = &shared.config.state_file
        && registered.kind == super::operations::Kind::Change
        && let Err(e) = super::state_file::save(&registry, path)
    {
        return Err(ApiError::server(format!(
            "the sandbox could not keep its state: {e}"
        )));
    }
    if lose {
        return Err(ApiError::server(
            "The change was made, but its response was lost (injected by --lose-response)",
        ));
    }
    Ok(answer)
}

fn inject_faults(config: &SandboxConfig, region: &str, operation: &str) -> Result<(), ApiError> {
    let denied = config.fail_regions.iter().any(|r| r == region)
        || config
            .fail_operations
            .iter()
            .any(|(r, op)| r == region && op == operation);
    if denied {
        return Err(ApiError::client(
            "AccessDeniedException",
            format!(
                "User: arn:aws:iam::{account}:user/skyql-sandbox is not authorized to perform: ecr:{operation} \
                 on resource: arn:aws:ecr:{region}:{account}:registry/{account} because no identity-based \
                 policy allows the ecr:{operation} action",
                account = config.account_id
            ),
        ));
    }
    if config.throttle_rate > 0.0 && rand::random::<f64>() < config.throttle_rate {
        return Err(ApiError::client("ThrottlingException", "Rate exceeded"));
    }
    if config.server_error_rate > 0.0 && rand::random::<f64>() < config.server_error_rate {
        return Err(ApiError::server(
            "An internal error occurred in the sandbox (injected by --server-error-rate)",
        ));
    }
    Ok(())
}

fn respond(result: Result<Value, ApiError>) -> Response<Body> {
    let (status, body, error_type) = match result {
        Ok(v) => (200, v, None),
        Err(e) => (e.status, e.body(), Some(e.code)),
    };
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(code) = error_type {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    response
}

/// A request id in AWS's UUID form.
fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
