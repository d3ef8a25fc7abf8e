//! STS in the sandbox: AssumeRole into the organization's accounts and GetCallerIdentity, over
//! the query protocol the SDK speaks (a form body, an XML answer), with STS's errors.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};

use super::server::Shared;
use super::wire::ApiError;

/// The XML namespace of STS answers.
const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// Bounds of DurationSeconds (a role's maximum session duration is at most 12 hours).
const DURATION: (u64, u64) = (900, 43_200);

/// Answers the STS `action` of the account `caller` with `params`, as the XML of its result.
pub fn answer(
    shared: &Shared,
    caller: &str,
    action: &str,
    params: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<String, ApiError> {
    let result = match action {
        "AssumeRole" => assume_role(shared, caller, params, now)?,
        "GetCallerIdentity" => format!(
            "<Arn>arn:aws:iam::{caller}:user/skyql-sandbox</Arn><UserId>AIDASKYQLSANDBOX</UserId>\
             <Account>{caller}</Account>"
        ),
        other => {
            return Err(ApiError {
                status: 400,
                code: "InvalidAction",
                message: format!("Could not find operation {other} for version 2011-06-15"),
            });
        }
    };
    Ok(format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        super::server::request_id()
    ))
}

fn assume_role(
    shared: &Shared,
    caller: &str,
    params: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<String, ApiError> {
    let config = &shared.config;
    let given = |name: &str| params.get(name).map(String::as_str);
    let arn = given("RoleArn").ok_or_else(|| validation("roleArn", "Member must not be null"))?;
    let session_name = given("RoleSessionName")
        .ok_or_else(|| validation("roleSessionName", "Member must not be null"))?;
    let name_ok = (2..=64).contains(&session_name.len())
        && (session_name.chars()).all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        let pattern = "Member must satisfy regular expression pattern: [\\w+=,.@-]*";
        return Err(validation("roleSessionName", pattern));
    }
    let duration = match given("DurationSeconds").map(str::parse::<u64>) {
        None => config.session_duration,
        Some(Ok(s)) if (DURATION.0..=DURATION.1).contains(&s) => Duration::from_secs(s),
        Some(_) => {
            let why = format!(
                "Member must have value between {} and {}",
                DURATION.0, DURATION.1
            );
            return Err(validation("durationSeconds", &why));
        }
    };
    let (account, role) = role_of(arn).ok_or_else(|| {
        validation(
            "roleArn",
            "Member must be the ARN of an IAM role: arn:aws:iam::<account>:role/<name>",
        )
    })?;
    let known = config.account_ids().contains(&account.to_string());
    let active = config
        .members
        .iter()
        .all(|m| m.id != account || m.state == "ACTIVE");
    let trusted = !config.fail_assume_role.iter().any(|a| a == account)
        && config.roles.iter().any(|r| r == role)
        && config
            .external_id
            .as_deref()
            .is_none_or(|id| given("ExternalId") == Some(id));
    if !(known && active && trusted) {
        return Err(ApiError::auth(
            "AccessDenied",
            format!(
                "User: arn:aws:iam::{caller}:user/skyql-sandbox is not authorized to perform: \
                 sts:AssumeRole on resource: {arn}"
            ),
        ));
    }
    let session = shared.keys.issue(account, duration, now);
    let expires: DateTime<Utc> = session.expires.into();
    Ok(format!(
        "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROASKYQLSANDBOX:{session_name}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{role}/{session_name}</Arn></AssumedRoleUser>",
        session.access_key_id,
        escape(&session.signer.secret_access_key),
        escape(session.signer.session_token.as_deref().unwrap_or_default()),
        expires.to_rfc3339_opts(SecondsFormat::Secs, true),
    ))
}

/// The account and role name of `arn:aws:iam::<account>:role/<path/><name>`.
fn role_of(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    let ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (ok && !name.is_empty()).then_some((account, name))
}

fn validation(member: &str, why: &str) -> ApiError {
    ApiError::client(
        "ValidationError",
        format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: {why}"
        ),
    )
}

/// An STS error as the query protocol answers it; the sandbox's authentication errors carry
/// STS's own codes.
pub fn error_xml(e: &ApiError) -> String {
    let code = match e.code {
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "ExpiredTokenException" => "ExpiredToken",
        other => other,
    };
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{code}</Code>\
         <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(&e.message),
        super::server::request_id()
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_their_account_and_role() {
        assert_eq!(
            role_of("arn:aws:iam::100000000001:role/skyql-inventory"),
            Some(("100000000001", "skyql-inventory"))
        );
        assert_eq!(
            role_of("arn:aws:iam::100000000001:role/ops/skyql-inventory"),
            Some(("100000000001", "skyql-inventory"))
        );
        assert_eq!(role_of("arn:aws:iam::1000:role/x"), None);
        assert_eq!(role_of("arn:aws:iam::100000000001:user/x"), None);
    }

    #[test]
    fn errors_carry_sts_codes() {
        let xml = error_xml(&super::super::auth::invalid_token());
        assert!(xml.contains("<Code>InvalidClientTokenId</Code>"), "{xml}");
        assert!(xml.contains("<Type>Sender</Type>"), "{xml}");
    }
}
