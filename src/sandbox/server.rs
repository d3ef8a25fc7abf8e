//! The HTTP side of the sandbox: awsJson1.1 and query framing, authentication, fault
//! injection, dispatch to ECR, STS or Organizations by the signature's service.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response, StatusCode};
use serde_json::{Map, Value};

use super::accounts::KeyBook;
use super::auth::{self, Verified};
use super::config::SandboxConfig;
use super::log::{LoggedRequest, RequestLog};
use super::registry::Registry;
use super::wire::ApiError;
use super::{organizations, sts};

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
    /// The registry of each account, by account id, under one lock (calls are tiny; latency
    /// is slept outside it).
    pub registries: Mutex<BTreeMap<String, Registry>>,
    /// The keys accepted: the configured ones and AssumeRole's sessions.
    pub keys: KeyBook,
    /// Every call.
    pub log: RequestLog,
    /// Calls so far per operation named in `lose_responses`.
    pub lost: Mutex<std::collections::HashMap<String, u64>>,
    /// The operations of `throttle_first` already throttled once.
    pub throttled: Mutex<std::collections::HashSet<String>>,
}

/// How a service frames its calls.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Protocol {
    /// awsJson1.1: `POST /`, the operation in X-Amz-Target, a JSON body (ECR, Organizations).
    Json,
    /// The query protocol: a form body naming its `Action`, an XML answer (STS).
    Query,
}

/// One call as read off the wire.
struct Call {
    protocol: Protocol,
    operation: String,
    /// The body's members (a query call's form fields as strings).
    parameters: Value,
}

impl Call {
    fn read(parts: &http::request::Parts, body: &[u8], service: Option<&str>) -> Self {
        if service == Some("sts") {
            let form: Map<String, Value> = form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            let operation = form.get("Action").and_then(Value::as_str);
            return Self {
                protocol: Protocol::Query,
                operation: operation.unwrap_or_default().to_string(),
                parameters: Value::Object(form),
            };
        }
        let target = (parts.headers.get("x-amz-target")).and_then(|v| v.to_str().ok());
        let prefix = match service {
            Some("organizations") => organizations::TARGET_PREFIX,
            _ => TARGET_PREFIX,
        };
        let operation = target.map(|t| t.strip_prefix(prefix).unwrap_or(t).to_string());
        let parameters = serde_json::from_slice::<Value>(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
        Self {
            protocol: Protocol::Json,
            operation: operation.unwrap_or_default(),
            parameters,
        }
    }
}

/// A successful answer in its protocol's form.
enum Reply {
    Json(Value),
    Xml(String),
}

/// The one handler: every call is `POST /`, its service named by the signature's scope.
pub async fn handle(State(shared): State<Arc<Shared>>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let (region, service) = auth::claimed_scope(&parts).unzip();
    let call = Call::read(&parts, &body, service.as_deref());

    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let mut account = None;
    let result = answer(&shared, &parts, &body, &call, &mut account);
    shared.log.push(LoggedRequest {
        operation: call.operation.clone(),
        region,
        account,
        parameters: call.parameters.clone(),
        status: result.as_ref().map_or_else(|e| e.status, |_| 200),
        error_code: result.as_ref().err().map(|e| e.code.to_string()),
    });
    respond(call.protocol, result)
}

/// Verifies the call and answers it, naming the account that signed it in `account`.
fn answer(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &[u8],
    call: &Call,
    account: &mut Option<String>,
) -> Result<Reply, ApiError> {
    let now = SystemTime::now();
    let verified = auth::verify(parts, body, now, |key| shared.keys.signer(key, now))?;
    *account = Some(verified.account_id.clone());
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return Err(ApiError::unknown_operation(format!(
            "{} {} is not an operation: the sandbox is called with POST /",
            parts.method,
            parts.uri.path()
        )));
    }
    let epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    // Millisecond precision, as ECR's timestamps carry.
    let seconds = (epoch.as_millis() as f64) / 1000.0;
    let caller = verified.account_id.as_str();
    match (verified.service.as_str(), &call.parameters) {
        ("sts", Value::Object(form)) => {
            let form = (form.iter())
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            sts::answer(shared, caller, &call.operation, &form, now).map(Reply::Xml)
        }
        ("organizations", _) => {
            let input = json_input(parts, body)?;
            organizations::answer(&shared.config, caller, &call.operation, &input, seconds)
                .map(Reply::Json)
        }
        _ => ecr(shared, parts, body, &call.operation, &verified, seconds).map(Reply::Json),
    }
}

/// The JSON body of an awsJson1.1 call, refused unless it is a JSON object sent as such.
fn json_input(parts: &http::request::Parts, body: &[u8]) -> Result<Value, ApiError> {
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
    Ok(input)
}

/// An ECR call, answered from the registry of the account that signed it.
fn ecr(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &[u8],
    operation: &str,
    verified: &Verified,
    now: f64,
) -> Result<Value, ApiError> {
    let input = json_input(parts, body)?;
    let Some(registered) = super::operations::operation(operation) else {
        return Err(ApiError::unknown_operation(format!(
            "Unknown operation: {TARGET_PREFIX}{operation}"
        )));
    };
    let region = verified.region.as_str();
    inject_faults(&shared.config, &verified.account_id, region, operation)?;
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
    let mut registries = shared.registries.lock().expect("registry lock");
    let registry = registries
        .get_mut(&verified.account_id)
        .ok_or_else(auth::invalid_token)?;
    let answer = (registered.handle)(registry, region, input, now)?;
    if let Some(path) = &shared.config.state_file
        && registered.kind == super::operations::Kind::Change
        && let Err(e) = super::state_file::save(&registries, path)
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

fn inject_faults(
    config: &SandboxConfig,
    account: &str,
    region: &str,
    operation: &str,
) -> Result<(), ApiError> {
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
                 policy allows the ecr:{operation} action"
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

fn respond(protocol: Protocol, result: Result<Reply, ApiError>) -> Response<Body> {
    let (status, body, error_type) = match (result, protocol) {
        (Ok(Reply::Json(v)), _) => (200, v.to_string(), None),
        (Ok(Reply::Xml(text)), _) => (200, text, None),
        (Err(e), Protocol::Json) => (e.status, e.body().to_string(), Some(e.code)),
        (Err(e), Protocol::Query) => (e.status, sts::error_xml(&e), None),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    let content_type = match protocol {
        Protocol::Json => CONTENT_TYPE,
        Protocol::Query => "text/xml",
    };
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
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
pub fn request_id() -> String {
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
