//! A retry classifier that gives up at once on an endpoint that refuses connections, does not
//! answer within the timeouts, or answers more than an answer may hold: retrying those only
//! multiplies the wait (eight attempts of a 30 s timeout would be four minutes), while
//! throttling and server errors are still retried.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

use super::answer_cap::AnswerTooLarge;

/// Forbids retrying a timed-out attempt, a refused connection or an oversized answer.
#[derive(Debug)]
pub struct FailFast;

impl ClassifyRetry for FailFast {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let too_large = causes(err).any(|e| e.downcast_ref::<AnswerTooLarge>().is_some());
        if too_large
            || is_refused(err)
            || err.is_timeout_error()
            || err.as_connector_error().is_some_and(|c| c.is_timeout())
        {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "skyql: refused connections, timeouts and oversized answers are final"
    }
}

/// Whether an attempt failed because the endpoint refused the connection (nothing was sent).
pub fn is_refused<E>(err: &OrchestratorError<E>) -> bool {
    err.as_connector_error().is_some_and(|c| {
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
    })
}

/// An error and its causes, outermost first.
pub fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}
