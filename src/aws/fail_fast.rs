//! A retry classifier that gives up at once on an endpoint that refuses connections or does
//! not answer within the timeouts: retrying those only multiplies the wait (eight attempts of
//! a 30 s timeout would be four minutes), while throttling and server errors are still retried.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

/// Forbids retrying a timed-out attempt or a refused connection.
#[derive(Debug)]
pub struct FailFast;

impl ClassifyRetry for FailFast {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let refused = err.as_connector_error().is_some_and(|c| {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(c);
            while let Some(e) = cause {
                if e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
                {
                    return true;
                }
                cause = e.source();
            }
            false
        });
        if refused
            || err.is_timeout_error()
            || err.as_connector_error().is_some_and(|c| c.is_timeout())
        {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "skyql: refused connections and timeouts are final"
    }
}
