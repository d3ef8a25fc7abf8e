//! The sandbox's awsJson1.1 framing and SigV4 checks, exercised with raw HTTP/1.1 requests.

use crate::common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{Value, json};
use skyql::sandbox::{Sandbox, SandboxConfig};

const JSON_11: &str = "application/x-amz-json-1.1";
const TARGET: &str = "AmazonEC2ContainerRegistry_V20150921.";

/// A parsed HTTP response.
#[derive(Debug)]
struct Response {
    status: u16,
    /// Header names lower-cased.
    headers: HashMap<String, String>,
    body: Value,
}

impl Response {
    /// Asserts an awsJson1.1 error answer: status, `x-amzn-errortype` and `{"__type", "message"}`.
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.headers.get("x-amzn-errortype").map(String::as_str),
            Some(code),
            "{self:?}"
        );
        assert_eq!(self.body["__type"], json!(code), "{self:?}");
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{self:?}"
        );
        assert_eq!(
            self.headers.get("content-type").map(String::as_str),
            Some(JSON_11)
        );
    }

    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

/// Sends one request over a fresh connection and reads the whole answer.
fn send(sandbox: &Sandbox, method: &str, headers: &[(String, String)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(sandbox.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!("{method} / HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(request.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body {body:?}: {e}"));
    Response {
        status,
        headers,
        body,
    }
}

/// The host header a client of this sandbox sends.
fn host(sandbox: &Sandbox) -> String {
    sandbox.addr().to_string()
}

/// Unsigned headers of an ECR call.
fn base_headers(sandbox: &Sandbox, target: &str, content_type: &str) -> Vec<(String, String)> {
    vec![
        ("host".into(), host(sandbox)),
        ("content-type".into(), content_type.into()),
        ("x-amz-target".into(), target.into()),
    ]
}

/// Signs `headers` + `body` with `secret` at `time` and answers the headers to send.
fn signed(
    sandbox: &Sandbox,
    method: &str,
    mut headers: Vec<(String, String)>,
    body: &[u8],
    secret: &str,
    time: SystemTime,
) -> Vec<(String, String)> {
    let identity: Identity =
        Credentials::new(&sandbox.keys().access_key_id, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("ecr")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let request = SignableRequest::new(
        method,
        format!("http://{}/", host(sandbox)),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(request, &params).expect("sign").into_parts();
    headers.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    headers
}

/// Sends a correctly signed call of `operation` (a full X-Amz-Target is built from it).
fn call(sandbox: &Sandbox, operation: &str, content_type: &str, body: &[u8]) -> Response {
    let headers = base_headers(sandbox, &format!("{TARGET}{operation}"), content_type);
    let headers = signed(
        sandbox,
        "POST",
        headers,
        body,
        &sandbox.keys().secret_access_key,
        SystemTime::now(),
    );
    send(sandbox, "POST", &headers, body)
}

#[test]
fn a_signed_call_succeeds_with_awsjson_framing() {
    let sandbox = common::start(SandboxConfig::demo());
    let r = call(
        &sandbox,
        "DescribePullThroughCacheRules",
        JSON_11,
        br#"{"ecrRepositoryPrefixes":["k8s"]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.headers.get("content-type").map(String::as_str),
        Some(JSON_11)
    );
    assert_eq!(r.headers.get("x-amzn-errortype"), None);
    let id = r.headers.get("x-amzn-requestid").expect("a request id");
    assert_eq!(id.len(), 36, "{id}");
    let rules = r.body["pullThroughCacheRules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["ecrRepositoryPrefix"], json!("k8s"));
    assert_eq!(rules[0]["upstreamRegistry"], json!("k8s"));
    // Timestamps are epoch seconds as JSON numbers.
    assert_eq!(
        rules[0]["createdAt"].as_f64(),
        Some(skyql::sandbox::config::DEMO_TIME)
    );
    assert!(r.body.get("nextToken").is_none());

    // An empty body is an empty input.
    let r = call(&sandbox, "DescribePullThroughCacheRules", JSON_11, b"");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.body["pullThroughCacheRules"].as_array().map(Vec::len),
        Some(5)
    );
}

#[test]
fn a_call_without_authorization_is_refused() {
    let sandbox = common::start(SandboxConfig::demo());
    let headers = base_headers(
        &sandbox,
        &format!("{TARGET}DescribePullThroughCacheRules"),
        JSON_11,
    );
    let r = send(&sandbox, "POST", &headers, b"{}");
    r.assert_error(403, "MissingAuthenticationTokenException");
    let entry = &sandbox.log().entries()[0];
    assert_eq!(entry.operation, "DescribePullThroughCacheRules");
    assert_eq!(entry.region, None);
    assert_eq!(entry.status, 403);
    assert_eq!(
        entry.error_code.as_deref(),
        Some("MissingAuthenticationTokenException")
    );
}

#[test]
fn signature_failures_are_invalid_signature() {
    let sandbox = common::start(SandboxConfig::demo());
    let target = format!("{TARGET}DeletePullThroughCacheRule");
    let body = br#"{"ecrRepositoryPrefix":"quay"}"#;

    // Signed with another secret.
    let headers = signed(
        &sandbox,
        "POST",
        base_headers(&sandbox, &target, JSON_11),
        body,
        "wrong-secret",
        SystemTime::now(),
    );
    send(&sandbox, "POST", &headers, body).assert_error(403, "InvalidSignatureException");

    // The body changed after signing.
    let headers = signed(
        &sandbox,
        "POST",
        base_headers(&sandbox, &target, JSON_11),
        body,
        &sandbox.keys().secret_access_key,
        SystemTime::now(),
    );
    send(
        &sandbox,
        "POST",
        &headers,
        br#"{"ecrRepositoryPrefix":"k8s"}"#,
    )
    .assert_error(403, "InvalidSignatureException");

    // Signed 20 minutes ago: outside AWS's 15-minute window.
    let headers = signed(
        &sandbox,
        "POST",
        base_headers(&sandbox, &target, JSON_11),
        body,
        &sandbox.keys().secret_access_key,
        SystemTime::now() - Duration::from_secs(20 * 60),
    );
    let r = send(&sandbox, "POST", &headers, body);
    r.assert_error(403, "InvalidSignatureException");
    assert!(r.message().contains("Signature expired"), "{r:?}");

    // None of them deleted the rule.
    let r = call(
        &sandbox,
        "DescribePullThroughCacheRules",
        JSON_11,
        br#"{"ecrRepositoryPrefixes":["quay"]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
}

#[test]
fn an_unknown_target_is_an_unknown_operation() {
    let sandbox = common::start(SandboxConfig::demo());
    let r = call(&sandbox, "DescribeImageScanFindings", JSON_11, b"{}");
    r.assert_error(404, "UnknownOperationException");
    assert!(r.message().contains("DescribeImageScanFindings"), "{r:?}");
    let r = call(&sandbox, "", JSON_11, b"{}");
    r.assert_error(404, "UnknownOperationException");
}

#[test]
fn a_json_content_type_is_an_unknown_operation() {
    let sandbox = common::start(SandboxConfig::demo());
    let r = call(
        &sandbox,
        "DescribePullThroughCacheRules",
        "application/json",
        b"{}",
    );
    r.assert_error(404, "UnknownOperationException");
    // The 1.0 flavour of the protocol is not ECR's either.
    let r = call(
        &sandbox,
        "DescribePullThroughCacheRules",
        "application/x-amz-json-1.0",
        b"{}",
    );
    r.assert_error(404, "UnknownOperationException");
}

#[test]
fn a_get_is_an_unknown_operation() {
    let sandbox = common::start(SandboxConfig::demo());
    let headers = signed(
        &sandbox,
        "GET",
        base_headers(&sandbox, &format!("{TARGET}GetRegistryPolicy"), JSON_11),
        b"",
        &sandbox.keys().secret_access_key,
        SystemTime::now(),
    );
    send(&sandbox, "GET", &headers, b"").assert_error(404, "UnknownOperationException");
}

#[test]
fn malformed_or_mistyped_json_is_a_serialization_error() {
    let sandbox = common::start(SandboxConfig::demo());
    let cases: [(&str, &[u8]); 4] = [
        ("DescribePullThroughCacheRules", b"{\"maxResults\": "),
        ("DescribePullThroughCacheRules", br#"{"maxResults": "50"}"#),
        (
            "DescribePullThroughCacheRules",
            br#"["not", "a", "structure"]"#,
        ),
        (
            "CreatePullThroughCacheRule",
            br#"{"ecrRepositoryPrefix": 7, "upstreamRegistryUrl": "quay.io"}"#,
        ),
    ];
    for (operation, body) in cases {
        let r = call(&sandbox, operation, JSON_11, body);
        r.assert_error(400, "SerializationException");
    }
    let codes: Vec<Option<String>> = sandbox
        .log()
        .entries()
        .into_iter()
        .map(|e| e.error_code)
        .collect();
    assert_eq!(codes, vec![Some("SerializationException".to_string()); 4]);
    // A malformed body is logged as the text that was sent.
    assert_eq!(
        sandbox.log().entries()[0].parameters,
        json!("{\"maxResults\": ")
    );
    // Nothing was created.
    let r = call(&sandbox, "DescribePullThroughCacheRules", JSON_11, b"{}");
    assert_eq!(
        r.body["pullThroughCacheRules"].as_array().map(Vec::len),
        Some(5)
    );
}

#[test]
fn a_missing_required_member_is_a_validation_error() {
    let sandbox = common::start(SandboxConfig::default());
    let r = call(&sandbox, "CreatePullThroughCacheRule", JSON_11, b"{}");
    r.assert_error(400, "ValidationException");
    assert_eq!(
        r.message(),
        "2 validation errors detected: Value null at 'ecrRepositoryPrefix' failed to satisfy \
         constraint: Member must not be null; Value null at 'upstreamRegistryUrl' failed to \
         satisfy constraint: Member must not be null"
    );
}

#[test]
fn server_errors_carry_the_error_type_header() {
    let sandbox = common::start(SandboxConfig {
        server_error_rate: 1.0,
        ..SandboxConfig::default()
    });
    call(&sandbox, "GetRegistryPolicy", JSON_11, b"{}").assert_error(500, "ServerException");
}
