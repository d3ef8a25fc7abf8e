//! The mutating calls a session has made so far, and the one in flight: what an interrupted
//! run reports, since a script stopped by Ctrl-C or SIGTERM must say what it already changed.

use std::sync::{Arc, Mutex};

/// Calls made (succeeded) and the call being made, shared by the session and its DML plans.
#[derive(Debug, Clone, Default)]
pub struct AppliedCalls(Arc<Mutex<Applied>>);

#[derive(Debug, Default)]
struct Applied {
    done: Vec<String>,
    in_flight: Option<String>,
}

impl AppliedCalls {
    /// Forgets what was made (a new input of the shell starts).
    pub fn clear(&self) {
        *self.0.lock().expect("applied lock") = Applied::default();
    }

    /// A call is about to be sent.
    pub fn start(&self, call: String) {
        self.0.lock().expect("applied lock").in_flight = Some(call);
    }

    /// The call in flight succeeded.
    pub fn succeeded(&self) {
        let mut a = self.0.lock().expect("applied lock");
        if let Some(call) = a.in_flight.take() {
            a.done.push(call);
        }
    }

    /// The call in flight failed (it is reported with its error).
    pub fn failed(&self) {
        self.0.lock().expect("applied lock").in_flight = None;
    }

    /// What an interruption leaves behind, for stderr: the calls that succeeded, then the one
    /// that was in flight (its outcome unknown).
    pub fn interruption_report(&self) -> Vec<String> {
        let a = self.0.lock().expect("applied lock");
        let mut lines = vec![if a.done.is_empty() {
            "no change had been made".to_string()
        } else {
            format!("{} call(s) had succeeded before it:", a.done.len())
        }];
        lines.extend(a.done.iter().map(|c| format!("  {c}")));
        if let Some(call) = &a.in_flight {
            lines.push(format!(
                "1 call was in flight and may or may not have been applied (re-run the script; it converges): {call}"
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_done_and_in_flight_calls() {
        let a = AppliedCalls::default();
        assert_eq!(a.interruption_report(), ["no change had been made"]);
        a.start("us-east-1 CreatePullThroughCacheRule q1".into());
        a.succeeded();
        a.start("us-east-1 CreatePullThroughCacheRule q2".into());
        let report = a.interruption_report();
        assert_eq!(report[0], "1 call(s) had succeeded before it:");
        assert!(report[1].contains("q1"));
        assert!(report[2].contains("in flight") && report[2].contains("q2"));
        a.failed();
        assert_eq!(a.interruption_report().len(), 2);
    }
}
