//! What the attempts of one SDK call came to, recorded by an interceptor in a record the call's
//! own future carries (a task-local scope): a failure can say how many attempts were made and
//! why retrying stopped, and a mutation knows whether an attempt that failed may have been
//! applied before a retry met the changed state. The same interceptor counts every request a
//! session sends, so an error found after a call cannot claim that nothing was sent (exit 2).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::fail_fast::{causes, is_refused};
use super::quota::error_code;
use super::retry_budget::RetryBudget;

tokio::task_local! {
    /// The record of the call being made by the future that set it.
    static CALL: Arc<Mutex<Attempts>>;
}

/// The bounds of every call of a session (from the flags), for the messages that name them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
    /// `--read-timeout`: one attempt, from sending to the answer's last byte.
    pub read_timeout: Duration,
    /// `--retry-budget`: how long a statement keeps retrying without a successful call.
    pub retry_budget: Duration,
    /// `--max-attempts`.
    pub max_attempts: u32,
    /// `--max-response-mb`, in bytes.
    pub max_response_bytes: u64,
}

impl Bounds {
    /// The longest a call can take: retries start within the budget, and the last attempt
    /// then has its read timeout (the SDK's operation timeout).
    pub fn call_timeout(&self) -> Duration {
        self.retry_budget + self.read_timeout
    }
}

/// What the attempts of the last call made in a record's scope came to.
#[derive(Debug, Clone, Default)]
pub struct Attempts {
    /// The session's bounds (set once a call starts).
    pub bounds: Option<Bounds>,
    /// Requests sent (handed to the connection), the first included.
    pub sent: u32,
    /// Whether an attempt that failed may have been applied: it was answered with a server
    /// error (5xx) or with success whose body could not be read, or it had no answer after its
    /// request was sent (a timeout, a closed connection). Throttling and every other 4xx prove
    /// that nothing changed.
    pub may_have_applied: bool,
    /// The same, for the last attempt alone.
    pub last_may_have_applied: bool,
    /// Whether the last attempt ended at the read timeout (else a timeout is the call's own).
    pub attempt_timed_out: bool,
    /// Whether the last failure was one the SDK retries (throttling, 5xx, a reset connection).
    pub last_retryable: bool,
    /// Whether retrying stopped because the statement's retry budget was spent.
    pub budget_spent: bool,
    /// What the last failed attempt met (an error code, an HTTP status, a connection error).
    pub last_failure: Option<String>,
    in_flight: bool,
    started: Option<Instant>,
    elapsed: Duration,
}

impl Attempts {
    /// How long the call took (until now, if it has not ended).
    pub fn elapsed(&self) -> Duration {
        match self.started {
            Some(start) if self.elapsed.is_zero() => start.elapsed(),
            _ => self.elapsed,
        }
    }

    /// The attempts of a failed call for its message: how many, how long, and why retrying
    /// stopped (" (4 attempts in 6.2s; …)"); empty for a single attempt unless `always`.
    pub fn summary(&self, always: bool) -> String {
        if self.sent == 0 || (self.sent == 1 && !always && !self.budget_spent) {
            return String::new();
        }
        format!(" ({}{})", self.count(), self.why_stopped())
    }

    /// The attempts of a call its own timeout ended, and what the last of them had met.
    pub fn cut_short(&self) -> String {
        let last = match &self.last_failure {
            Some(failure) => format!("; the last attempt before it had failed with {failure}"),
            None => String::new(),
        };
        format!("{last} ({})", self.count())
    }

    fn count(&self) -> String {
        let n = self.sent;
        let s = if n == 1 { "" } else { "s" };
        format!("{n} attempt{s} in {:.1}s", self.elapsed().as_secs_f64())
    }

    fn why_stopped(&self) -> String {
        let Some(b) = self.bounds else {
            return String::new();
        };
        if self.budget_spent {
            format!(
                "; retries stopped: the next could not start within {} of the statement's \
                 last successful call (--retry-budget)",
                seconds(b.retry_budget)
            )
        } else if self.last_retryable && self.sent >= b.max_attempts {
            format!("; --max-attempts {}", b.max_attempts)
        } else if self.last_retryable {
            "; the SDK's retry quota for the session was spent".to_string()
        } else {
            String::new()
        }
    }
}

/// A duration as the flags take it ("3s", "0.5s").
pub fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Runs `call` (SDK calls made one after another) with a record of its own, and returns what
/// the attempts of its last SDK call came to. Concurrent calls each need their own scope.
pub async fn recorded<F: Future>(call: F) -> (F::Output, Attempts) {
    let record = Arc::new(Mutex::new(Attempts::default()));
    let out = CALL.scope(Arc::clone(&record), call).await;
    let attempts = record.lock().expect("attempts lock").clone();
    (out, attempts)
}

/// Runs `call` with a record of its own, for a caller that needs only its output (the record
/// is for `api_error`, called inside).
pub async fn in_own_record<F: Future>(call: F) -> F::Output {
    recorded(call).await.0
}

/// The record of the last SDK call made in the current scope, if there is one.
pub fn current() -> Option<Attempts> {
    CALL.try_with(|r| r.lock().expect("attempts lock").clone())
        .ok()
}

/// Changes the current scope's record (nothing outside a scope).
pub(super) fn update(f: impl FnOnce(&mut Attempts)) {
    let _ = CALL.try_with(|r| f(&mut r.lock().expect("attempts lock")));
}

/// The number of requests sent so far, retries included, shared by every client of a session.
#[derive(Debug, Clone, Default)]
pub struct SentRequests(Arc<AtomicU64>);

impl SentRequests {
    /// Requests sent so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Records every attempt of every call into the scope it is made in, counts the session's
/// requests, and tells the statement's retry budget about successful calls.
#[derive(Debug, Clone)]
pub struct AttemptLog {
    /// The session's bounds.
    pub bounds: Bounds,
    /// The session's requests so far.
    pub sent: SentRequests,
    /// The statement's retry budget.
    pub budget: Arc<RetryBudget>,
}

impl Intercept for AttemptLog {
    fn name(&self) -> &'static str {
        "skyql: record each call's attempts"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let bounds = self.bounds;
        update(|a| {
            *a = Attempts {
                bounds: Some(bounds),
                started: Some(Instant::now()),
                ..Attempts::default()
            }
        });
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.sent.0.fetch_add(1, Ordering::SeqCst);
        update(|a| {
            a.sent += 1;
            a.in_flight = true;
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let outcome = context.output_or_error();
        if let Some(Ok(_)) = outcome {
            self.budget.progress();
        }
        let (maybe, timed_out, failure) = match outcome {
            Some(Err(err)) => (
                may_have_applied(err, context.response()),
                err.is_timeout_error(),
                Some(failure(err, context.response())),
            ),
            _ => (false, false, None),
        };
        update(|a| {
            // An attempt stopped before its request was sent (credentials, signing) sent nothing.
            let sent = std::mem::take(&mut a.in_flight);
            a.last_may_have_applied = sent && maybe;
            a.may_have_applied |= a.last_may_have_applied;
            a.attempt_timed_out = timed_out;
            a.last_failure = failure;
            // The classifiers say next whether this failure is retried.
            a.last_retryable = false;
            a.budget_spent = false;
        });
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        update(|a| {
            // An attempt still in flight was cut by the call's own timeout after it was sent.
            if std::mem::take(&mut a.in_flight) {
                a.last_may_have_applied = true;
                a.may_have_applied = true;
                a.attempt_timed_out = false;
            }
            a.elapsed = a.started.map(|s| s.elapsed()).unwrap_or_default();
        });
        Ok(())
    }
}

/// What a failed attempt met, in a few words: the answer's error code or HTTP status, else the
/// innermost cause of the connection's failure.
fn failure<E>(err: &OrchestratorError<E>, response: Option<&HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    if let Some(r) = response {
        return error_code(r).unwrap_or_else(|| format!("HTTP {}", r.status().as_u16()));
    }
    if err.is_timeout_error() {
        return "a timeout".to_string();
    }
    causes(err)
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Whether a failed attempt may have been applied: a 4xx answer proves it was not (throttling
/// included); a 5xx, an unreadable 2xx, or no answer at all after sending does not.
fn may_have_applied<E>(err: &OrchestratorError<E>, response: Option<&HttpResponse>) -> bool {
    match response {
        Some(r) => !r.status().is_client_error(),
        None => !is_refused(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Bounds {
        Bounds {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            retry_budget: Duration::from_secs(20),
            max_attempts: 8,
            max_response_bytes: 16 << 20,
        }
    }

    fn failed(sent: u32) -> Attempts {
        Attempts {
            bounds: Some(bounds()),
            sent,
            last_retryable: true,
            elapsed: Duration::from_millis(6_250),
            ..Attempts::default()
        }
    }

    #[test]
    fn a_summary_counts_the_attempts_and_says_why_retrying_stopped() {
        let one = Attempts {
            sent: 1,
            last_retryable: false,
            ..failed(1)
        };
        assert_eq!(one.summary(false), "", "one attempt is worth no words");
        assert_eq!(one.summary(true), " (1 attempt in 6.2s)");
        assert_eq!(
            failed(8).summary(false),
            " (8 attempts in 6.2s; --max-attempts 8)"
        );
        let budget = Attempts {
            budget_spent: true,
            ..failed(4)
        };
        assert_eq!(
            budget.summary(false),
            " (4 attempts in 6.2s; retries stopped: the next could not start within 20s of the \
             statement's last successful call (--retry-budget))"
        );
        let cut = Attempts {
            last_failure: Some("HTTP 503".into()),
            ..failed(3)
        };
        assert_eq!(
            cut.cut_short(),
            "; the last attempt before it had failed with HTTP 503 (3 attempts in 6.2s)"
        );
        assert_eq!(bounds().call_timeout(), Duration::from_secs(50));
    }
}
