//! How a failed SDK call is reported: the region, the operation, ECR's code (or the HTTP status
//! and the start of an answer that has none), the bound and flag a timeout or cap hit, and how
//! many attempts were made. A credential source's own output is never repeated.

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::answer_cap::AnswerTooLarge;
use super::attempts::{self, seconds};
use super::fail_fast::causes;
use crate::error::Error;

/// How much of an answer without an error code a message quotes.
const QUOTED_CHARS: usize = 120;

/// Whether `e` is the resource's "no such item" answer (its schema's `not_found`).
pub fn is_not_found<E: ProvideErrorMetadata, R>(
    e: &SdkError<E, R>,
    not_found: Option<&str>,
) -> bool {
    e.code().is_some() && e.code() == not_found
}

/// An SDK error as skyql's error, naming the region, the operation and the AWS error code, with
/// the attempts of the call the current record holds (see `attempts::recorded`).
///
/// Missing credentials are a usage error (exit 2): no request can have been sent, and every
/// region would say the same.
pub fn api_error<E>(region: &str, operation: &str, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let attempts = attempts::current().unwrap_or_default();
    if is_credentials_error(&e) {
        return Error::Usage(format!(
            "NoCredentials: no usable AWS credentials ({}); nothing was sent. Set \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile (`aws \
             configure`, `aws configure sso`) and pass --profile NAME or set AWS_PROFILE",
            without_source_output(&root_cause(&e))
        ));
    }
    let bounds = attempts.bounds;
    let (code, message, always) = match &e {
        SdkError::ServiceError(se) => match se.err().code() {
            Some(code) => (
                code.to_string(),
                se.err().message().unwrap_or("(no message)").to_string(),
                false,
            ),
            None => (
                status_code(se.raw()),
                format!("the answer has no AWS error code; {}", quoted(se.raw())),
                true,
            ),
        },
        SdkError::TimeoutError(_) => {
            let message = match bounds {
                Some(b) if attempts.attempt_timed_out => format!(
                    "the answer did not arrive in full within {} (--read-timeout)",
                    seconds(b.read_timeout)
                ),
                Some(b) => {
                    let message = format!(
                        "the call did not end within {} (--retry-budget {} + --read-timeout {}){}",
                        seconds(b.call_timeout()),
                        seconds(b.retry_budget),
                        seconds(b.read_timeout),
                        attempts.cut_short()
                    );
                    return api(region, operation, "Timeout", message);
                }
                None => root_cause(&e),
            };
            ("Timeout".to_string(), message, true)
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            let message = match bounds {
                Some(b) => format!(
                    "no connection within {} (--connect-timeout)",
                    seconds(b.connect_timeout)
                ),
                None => root_cause(&e),
            };
            ("Timeout".to_string(), message, true)
        }
        SdkError::DispatchFailure(_) => ("DispatchFailure".to_string(), root_cause(&e), true),
        SdkError::ResponseError(_) => {
            match causes(&e).find_map(|c| c.downcast_ref::<AnswerTooLarge>()) {
                Some(too_large) => ("AnswerTooLarge".to_string(), too_large.to_string(), true),
                None => (
                    "ResponseError".to_string(),
                    match e.raw_response() {
                        Some(raw) => format!(
                            "{}; the answer was HTTP {}",
                            root_cause(&e),
                            raw.status().as_u16()
                        ),
                        None => root_cause(&e),
                    },
                    true,
                ),
            }
        }
        _ => ("ClientError".to_string(), root_cause(&e), false),
    };
    let message = format!("{message}{}", attempts.summary(always));
    api(region, operation, &code, message)
}

fn api(region: &str, operation: &str, code: &str, message: String) -> Error {
    Error::Api {
        region: region.to_string(),
        operation: operation.to_string(),
        code: code.to_string(),
        message,
    }
}

/// The call's failure, for a mutation whose outcome a later read decides.
pub fn with_note(error: Error, note: &str) -> Error {
    match error {
        Error::Api {
            region,
            operation,
            code,
            message,
        } => Error::Api {
            region,
            operation,
            code,
            message: format!("{message}; {note}"),
        },
        Error::Runtime(message) => Error::Runtime(format!("{message}; {note}")),
        other => other,
    }
}

/// "HTTP 500 Internal Server Error": an answer's status, for an error without a code.
fn status_code(raw: &HttpResponse) -> String {
    let status = raw.status().as_u16();
    match http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("HTTP {status} {reason}"),
        None => format!("HTTP {status}"),
    }
}

/// The start of an answer's body, on one line and without control characters.
fn quoted(raw: &HttpResponse) -> String {
    let Some(bytes) = raw.body().bytes() else {
        return "its body was not read".to_string();
    };
    let text = String::from_utf8_lossy(bytes);
    let words: Vec<&str> = text.split_whitespace().collect();
    let line: String = words
        .join(" ")
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if line.is_empty() {
        return "its body is empty".to_string();
    }
    match line.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("it begins: {}…", &line[..at]),
        None => format!("it is: {line}"),
    }
}

/// The innermost cause of a client-side failure ("Connection refused (os error 111)"): the
/// SDK's full error context is a long debug dump that buries it.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let text = causes(e)
        .last()
        .map(ToString::to_string)
        .unwrap_or_default();
    if text.is_empty() {
        DisplayErrorContext(e).to_string()
    } else {
        text
    }
}

/// Whether a call failed because no credentials could be loaded (rather than on the network).
fn is_credentials_error(e: &(dyn std::error::Error + 'static)) -> bool {
    causes(e).any(|c| {
        c.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
    })
}

/// A credential source's message without what the source printed: a `credential_process`
/// that fails may have written the very secret it failed to hand over to its stderr, or
/// answered with it in a form the SDK could not parse.
fn without_source_output(text: &str) -> String {
    const OUTPUT: [&str; 3] = [
        "Stderr:",
        "could not parse response",
        "invalid JSON in response",
    ];
    match OUTPUT.iter().filter_map(|m| text.find(m)).min() {
        Some(at) => format!(
            "{}: its output is not shown, as it may hold a secret",
            text[..at].trim_end_matches([' ', '.', ',', ':'])
        ),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;

    #[test]
    fn a_credential_process_output_is_never_repeated() {
        let failed = "Error retrieving credentials: external process exited with code exit \
                      status: 1. Stderr: AKIAEXAMPLE wJalrXUtnFEMI/K7MDENG";
        let shown = without_source_output(failed);
        assert!(
            !shown.contains("wJalrXUtnFEMI") && !shown.contains("AKIAEXAMPLE"),
            "{shown}"
        );
        assert!(shown.contains("exited with code exit status: 1"), "{shown}");
        let unparsable = "Error retrieving credentials from external process, could not parse \
                          response: invalid JSON in response: secret-token-123";
        let shown = without_source_output(unparsable);
        assert!(!shown.contains("secret-token-123"), "{shown}");
        let plain = "the credential provider was not enabled";
        assert_eq!(without_source_output(plain), plain);
    }

    #[test]
    fn an_answer_without_a_code_is_quoted_on_one_line() {
        let html = format!(
            "<html>\n  <body>\x1b[31m<h1>500 Internal Server Error</h1>{}</body></html>",
            "x".repeat(300)
        );
        let raw = HttpResponse::new(500.try_into().unwrap(), SdkBody::from(html));
        assert_eq!(status_code(&raw), "HTTP 500 Internal Server Error");
        let quote = quoted(&raw);
        assert!(
            quote.starts_with("it begins: <html> <body>?[31m<h1>500 Internal Server Error</h1>xx"),
            "{quote}"
        );
        assert_eq!(
            quote.chars().count(),
            "it begins: ".len() + QUOTED_CHARS + 1
        );
        let empty = HttpResponse::new(502.try_into().unwrap(), SdkBody::from(""));
        assert_eq!(quoted(&empty), "its body is empty");
    }
}
