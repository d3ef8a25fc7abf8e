//! SigV4 verification of incoming requests against the keys of the sandbox's accounts and the
//! temporary credentials AssumeRole issued (with aws-sigv4).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{NaiveDateTime, TimeZone, Utc};
use http::request::Parts;

use super::wire::ApiError;

/// The signing names the sandbox answers (ECR, STS and Organizations).
pub const SERVICES: [&str; 3] = ["ecr", "sts", "organizations"];
/// How far a request's X-Amz-Date may be from the server clock, as AWS allows.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The sandbox's own key pair: never a real credential.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// Access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// Secret access key (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// The key a request may be signed with, as the sandbox holds it.
#[derive(Clone)]
pub struct Signer {
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token temporary credentials must send (`X-Amz-Security-Token`).
    pub session_token: Option<String>,
    /// The account the key belongs to.
    pub account_id: String,
}

/// A request whose signature was verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope (`ecr`, `sts`, `organizations`).
    pub service: String,
    /// The account of the key that signed it.
    pub account_id: String,
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, PartialEq)]
pub struct Authorization<'a> {
    /// Access key id from the credential scope.
    pub access_key_id: &'a str,
    /// `YYYYMMDD` from the credential scope.
    pub date: &'a str,
    /// Region from the credential scope.
    pub region: &'a str,
    /// Service from the credential scope.
    pub service: &'a str,
    /// The signed header names, lowercase.
    pub signed_headers: Vec<&'a str>,
    /// The hex signature.
    pub signature: &'a str,
}

/// The region and service a request is signed for, from its credential scope, even when it
/// fails verification (the request log names the region of every call).
pub fn claimed_scope(parts: &Parts) -> Option<(String, String)> {
    let header = parts
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let a = parse_authorization(header).ok()?;
    Some((a.region.to_string(), a.service.to_string()))
}

/// Verifies the request's signature with the key `signer_of` finds for its access key id
/// (which answers the error of an unknown or expired key).
pub fn verify(
    parts: &Parts,
    body: &[u8],
    now: SystemTime,
    signer_of: impl Fn(&str) -> Result<Signer, ApiError>,
) -> Result<Verified, ApiError> {
    let Some(header) = parts.headers.get(http::header::AUTHORIZATION) else {
        return Err(ApiError::auth(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let header = header
        .to_str()
        .map_err(|_| incomplete("the Authorization header is not ASCII"))?;
    let auth = parse_authorization(header)?;
    let signer = signer_of(auth.access_key_id)?;
    let token = parts.headers.get("x-amz-security-token");
    if token.and_then(|t| t.to_str().ok()) != signer.session_token.as_deref() {
        return Err(invalid_token());
    }
    if !SERVICES.contains(&auth.service) {
        return Err(ApiError::auth(
            "InvalidSignatureException",
            format!(
                "Credential should be scoped to correct service: one of {}. ",
                SERVICES.join(", ")
            ),
        ));
    }
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."))?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete(format!(
            "X-Amz-Date '{amz_date}' is not in the form YYYYMMDD'T'HHMMSS'Z'"
        ))
    })?;
    if !amz_date.starts_with(auth.date) {
        return Err(ApiError::auth(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
                auth.date,
                &amz_date[..8]
            ),
        ));
    }
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(ApiError::auth(
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is now outside the 15 minute window around the server time."
            ),
        ));
    }
    let expected = expected_signature(parts, body, &signer, &auth, signed_at)?;
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(ApiError::auth(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS \
             Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(Verified {
        region: auth.region.to_string(),
        service: auth.service.to_string(),
        account_id: signer.account_id,
    })
}

/// The answer to a key the sandbox does not know.
pub fn invalid_token() -> ApiError {
    ApiError::auth(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=…, Signature=…`.
pub fn parse_authorization(header: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        incomplete(format!(
            "Unsupported Authorization header algorithm: '{}'",
            header.split(' ').next().unwrap_or("")
        ))
    })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(missing.join(" ")));
    }
    let scope: Vec<&str> = credential.unwrap_or_default().split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(incomplete(
            "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request.",
        ));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed.unwrap_or_default().split(';').collect(),
        signature: signature.unwrap_or_default(),
    })
}

/// Signs the request again with the sandbox's secret, over exactly the headers the client signed.
fn expected_signature(
    parts: &Parts,
    body: &[u8],
    signer: &Signer,
    auth: &Authorization<'_>,
    time: SystemTime,
) -> Result<String, ApiError> {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        for value in parts.headers.get_all(*name) {
            let value = value
                .to_str()
                .map_err(|_| incomplete(format!("header '{name}' is not ASCII")))?;
            headers.push((name, value));
        }
    }
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = format!("http://{host}{path_and_query}");

    let identity: Identity = Credentials::new(
        auth.access_key_id,
        &signer.secret_access_key,
        signer.session_token.clone(),
        None,
        "skyql-sandbox",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Only the client's signed headers are passed in, so nothing more must be excluded.
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| incomplete(e.to_string()))?
        .into();
    let request = SignableRequest::new(
        parts.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| incomplete(e.to_string()))?;
    let output = sign(request, &params).map_err(|e| incomplete(e.to_string()))?;
    Ok(output.signature().to_string())
}

fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok()?;
    Some(Utc.from_utc_datetime(&naive).into())
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::client("IncompleteSignatureException", message)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_authorization_header() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/ecr/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature=abcd",
        )
        .unwrap();
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.signed_headers, vec!["content-type", "host", "x-amz-date"]);
        assert_eq!(a.signature, "abcd");
        let err = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/ecr/aws4_request",
        )
        .unwrap_err();
        assert_eq!(err.code, "IncompleteSignatureException");
        assert!(err.message.contains("'Signature'"));
        assert!(parse_authorization("Basic xyz").is_err());
    }

    #[test]
    fn debug_redacts_the_secret() {
        let k = KeyPair {
            access_key_id: "AK".into(),
            secret_access_key: "very-secret".into(),
        };
        assert!(!format!("{k:?}").contains("very-secret"));
    }
}
