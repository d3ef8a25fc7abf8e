//! An interceptor that caps what an answer may hold (`--max-response-mb`): the SDK reads a
//! whole answer into memory before parsing it, so an endpoint that sends an endless body would
//! otherwise grow the process until the read timeout ends it. ECR's largest answers (a page of
//! templates with their policies) are a few megabytes.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// An answer larger than the cap: declared so by its `Content-Length`, or found so while read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the answer is larger than {} (--max-response-mb){}", mib(*.limit), declared_text(*.declared))]
pub struct AnswerTooLarge {
    /// The cap, in bytes.
    pub limit: u64,
    /// The answer's declared length, when it declared one.
    pub declared: Option<u64>,
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes as f64 / (1 << 20) as f64)
}

fn declared_text(declared: Option<u64>) -> String {
    match declared {
        Some(n) => format!(": it declares {n} bytes, and none was read"),
        None => "; it was not read further".to_string(),
    }
}

/// Caps every answer at `max` bytes.
#[derive(Debug, Clone, Copy)]
pub struct AnswerCap {
    /// The most bytes an answer may hold.
    pub max: u64,
}

impl Intercept for AnswerCap {
    fn name(&self) -> &'static str {
        "skyql: cap what an answer may hold"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let limit = self.max;
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(Box::new(AnswerTooLarge { limit, declared }));
        }
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        let capped = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX)).map_err(
            move |e| -> BoxError {
                if e.is::<LengthLimitError>() {
                    Box::new(AnswerTooLarge {
                        limit,
                        declared: None,
                    })
                } else {
                    e
                }
            },
        );
        *response.body_mut() = SdkBody::from_body_1_x(capped);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_cap_and_its_flag() {
        let declared = AnswerTooLarge {
            limit: 1 << 20,
            declared: Some(5_000_000),
        };
        assert_eq!(
            declared.to_string(),
            "the answer is larger than 1 MiB (--max-response-mb): it declares 5000000 bytes, \
             and none was read"
        );
        let streamed = AnswerTooLarge {
            limit: 3 << 19,
            declared: None,
        };
        assert_eq!(
            streamed.to_string(),
            "the answer is larger than 1.5 MiB (--max-response-mb); it was not read further"
        );
    }
}
