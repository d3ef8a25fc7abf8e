//! A retry classifier that makes ECR's quota errors final on every operation:
//! `LimitExceededException` is a service quota (50 pull-through cache rules a region, …), which
//! waiting does not lift, but the SDK's default classifier retries it as throttling.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use serde_json::Value;

/// The error code of an ECR quota.
const QUOTA: &str = "LimitExceededException";

/// Forbids retrying a quota error, whichever operation answered it.
#[derive(Debug)]
pub struct QuotaIsFinal;

impl ClassifyRetry for QuotaIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let failed = matches!(ctx.output_or_error(), Some(Err(_)));
        match failed && ctx.response().and_then(error_code).as_deref() == Some(QUOTA) {
            true => RetryAction::RetryForbidden,
            false => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "skyql: ECR's quota errors are final"
    }
}

/// The error code an awsJson answer names, read from the response itself (the operation's
/// typed error is not at hand for every operation): its `x-amzn-errortype` header, else the
/// body's `__type`, without the namespace or URI either may carry.
pub(super) fn error_code(response: &HttpResponse) -> Option<String> {
    let raw = match response.headers().get("x-amzn-errortype") {
        Some(header) => header.to_string(),
        None => {
            let body: Value = serde_json::from_slice(response.body().bytes()?).ok()?;
            body.get("__type")?.as_str()?.to_string()
        }
    };
    let code = raw.split(':').next()?;
    code.rsplit('#').next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;

    fn answer(header: Option<&str>, body: &str) -> HttpResponse {
        let mut response = HttpResponse::new(400.try_into().unwrap(), SdkBody::from(body));
        if let Some(h) = header {
            response
                .headers_mut()
                .insert("x-amzn-errortype", h.to_string());
        }
        response
    }

    #[test]
    fn the_code_is_read_from_the_header_or_the_body_in_any_spelling() {
        let header = answer(
            Some("LimitExceededException:http://internal.amazon.com/"),
            "{}",
        );
        assert_eq!(error_code(&header).as_deref(), Some(QUOTA));
        let body = answer(
            None,
            r#"{"__type": "com.amazonaws.ecr#LimitExceededException"}"#,
        );
        assert_eq!(error_code(&body).as_deref(), Some(QUOTA));
        let other = answer(None, r#"{"__type": "ThrottlingException"}"#);
        assert_eq!(error_code(&other).as_deref(), Some("ThrottlingException"));
        assert_eq!(error_code(&answer(None, "not json")), None);
    }
}
