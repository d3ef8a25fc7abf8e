//! One retry budget per statement (`--retry-budget`): a call that failed on a broken endpoint
//! (a server error, a reset or closed connection) is retried only if the retry can start
//! within the budget counted from the statement's last successful call. A dead endpoint then
//! costs a statement the budget once, however many regions or calls it makes, while failures
//! spread over a long statement never exhaust it (every success gives the whole budget back).
//! Throttling is not a broken endpoint: it is retried up to `--max-attempts`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority, RetryReason,
};
use aws_smithy_types::retry::ErrorKind;

use super::attempts;

/// The time a statement may still spend retrying.
#[derive(Debug)]
pub struct RetryBudget {
    limit: Duration,
    since: Mutex<Instant>,
}

impl RetryBudget {
    /// A budget of `limit` without a successful call.
    pub fn new(limit: Duration) -> Self {
        Self {
            limit,
            since: Mutex::new(Instant::now()),
        }
    }

    /// A statement starts, or one of its calls succeeded: the whole budget is there again.
    pub fn progress(&self) {
        *self.since.lock().expect("budget lock") = Instant::now();
    }

    /// What is left of the budget.
    pub fn remaining(&self) -> Duration {
        self.limit
            .saturating_sub(self.since.lock().expect("budget lock").elapsed())
    }
}

/// Forbids a retry the other classifiers asked for after a non-throttling failure when the
/// SDK's backoff before it could end after the statement's budget, and notes in the call's
/// record what the last failure was.
#[derive(Debug)]
pub struct WithinBudget {
    /// The statement's budget.
    pub budget: Arc<RetryBudget>,
    /// The retry configuration's initial backoff (the first retry waits up to this long).
    pub initial_backoff: Duration,
    /// Its longest backoff.
    pub max_backoff: Duration,
}

impl WithinBudget {
    /// The longest the SDK waits before the retry that follows attempt `sent`: its standard
    /// backoff is a random fraction of `initial × 2^(sent - 1)`, at most `max_backoff`.
    fn longest_backoff(&self, sent: u32) -> Duration {
        let doubled = 2u32.checked_pow(sent.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(doubled)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

impl ClassifyRetry for WithinBudget {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        let retryable = previous.should_retry();
        let throttled = matches!(
            previous,
            RetryAction::RetryIndicated(RetryReason::RetryableError {
                kind: ErrorKind::ThrottlingError,
                ..
            })
        );
        let sent = attempts::current().map_or(1, |a| a.sent);
        let spent = retryable && !throttled && self.budget.remaining() < self.longest_backoff(sent);
        attempts::update(|a| {
            a.last_retryable = retryable;
            a.budget_spent = spent;
        });
        if spent {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "skyql: retries stay within the statement's retry budget"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // Last, so that it sees every other classifier's verdict.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_runs_out_only_without_progress() {
        let budget = RetryBudget::new(Duration::from_millis(50));
        assert!(budget.remaining() > Duration::from_millis(40));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(budget.remaining(), Duration::ZERO);
        budget.progress();
        assert!(
            budget.remaining() > Duration::from_millis(40),
            "a success gives the whole budget back"
        );
    }

    #[test]
    fn the_longest_backoff_doubles_up_to_its_maximum() {
        let within = WithinBudget {
            budget: Arc::new(RetryBudget::new(Duration::from_secs(20))),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
        };
        let waits: Vec<u64> = (1..=7)
            .map(|n| within.longest_backoff(n).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 20, 20]);
        assert_eq!(within.longest_backoff(64), Duration::from_secs(20));
    }
}
