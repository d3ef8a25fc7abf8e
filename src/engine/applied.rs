//! The mutating calls a session has made so far, and the one in flight: what an interrupted
//! run reports, since a script stopped by Ctrl-C or SIGTERM must say what it already changed,
//! and whether running it again converges.

use std::sync::{Arc, Mutex};

/// Calls made (succeeded) and the call being made, shared by the session and its DML plans.
#[derive(Debug, Clone, Default)]
pub struct AppliedCalls(Arc<Mutex<Applied>>);

#[derive(Debug, Default)]
struct Applied {
    done: Vec<(String, Rerun)>,
    in_flight: Option<(String, Rerun)>,
}

/// What running again the statement that made a call does with what the call made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rerun {
    /// It finds it done: an UPDATE, DELETE, MERGE or INSERT … ON CONFLICT converges.
    Converges,
    /// It fails on it: an INSERT without ON CONFLICT into `table` (whose items are `noun`s)
    /// finds the items it created and is refused (AlreadyExists).
    FailsOnCreated {
        /// The table inserted into.
        table: String,
        /// What one of its items is called.
        noun: String,
    },
}

impl AppliedCalls {
    /// Forgets what was made (a new input of the shell starts).
    pub fn clear(&self) {
        *self.0.lock().expect("applied lock") = Applied::default();
    }

    /// A call is about to be sent by a statement that re-runs as `rerun` says.
    pub fn start(&self, call: String, rerun: Rerun) {
        self.0.lock().expect("applied lock").in_flight = Some((call, rerun));
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

    /// What an interruption leaves behind, for stderr: the calls that succeeded, the one that
    /// was in flight (its outcome unknown), then what re-running does: it converges, unless a
    /// plain INSERT made a call, which would fail on what it created.
    pub fn interruption_report(&self) -> Vec<String> {
        let a = self.0.lock().expect("applied lock");
        let mut lines = vec![if a.done.is_empty() {
            "no change had been made".to_string()
        } else {
            format!("{} call(s) had succeeded before it:", a.done.len())
        }];
        lines.extend(a.done.iter().map(|(c, _)| format!("  {c}")));
        if let Some((call, _)) = &a.in_flight {
            lines.push(format!(
                "1 call was in flight and may or may not have been applied: {call}"
            ));
        }
        let mut plain_inserts: Vec<(&str, &str)> = Vec::new();
        for (_, rerun) in a.done.iter().chain(&a.in_flight) {
            if let Rerun::FailsOnCreated { table, noun } = rerun
                && !plain_inserts.iter().any(|(t, _)| t == table)
            {
                plain_inserts.push((table, noun));
            }
        }
        if a.done.is_empty() && a.in_flight.is_none() {
            return lines;
        }
        if plain_inserts.is_empty() {
            lines.push("re-run the script; it converges".into());
        }
        for (table, noun) in plain_inserts {
            lines.push(format!(
                "a re-run does not converge as it is: the INSERT INTO {table} has no ON CONFLICT, \
                 so it would fail on the {noun}(s) already created. Add ON CONFLICT DO NOTHING \
                 (keep them as they are) or ON CONFLICT DO UPDATE SET <column> = \
                 EXCLUDED.<column>, … (make them what it asks) to it, then re-run the script"
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
        a.start(
            "us-east-1 UpdatePullThroughCacheRule q1".into(),
            Rerun::Converges,
        );
        a.succeeded();
        a.start(
            "us-east-1 DeletePullThroughCacheRule q2".into(),
            Rerun::Converges,
        );
        let report = a.interruption_report();
        assert_eq!(report[0], "1 call(s) had succeeded before it:");
        assert!(report[1].contains("q1"));
        assert!(report[2].contains("in flight") && report[2].contains("q2"));
        assert_eq!(report[3], "re-run the script; it converges");
        a.failed();
        assert_eq!(a.interruption_report().len(), 3);
    }

    #[test]
    fn a_plain_insert_is_not_said_to_converge() {
        let a = AppliedCalls::default();
        let plain = Rerun::FailsOnCreated {
            table: "aws.ecr.pull_through_cache_rules".into(),
            noun: "rule".into(),
        };
        a.start(
            "us-east-1 CreatePullThroughCacheRule q1".into(),
            plain.clone(),
        );
        a.succeeded();
        a.start("us-east-1 CreatePullThroughCacheRule q2".into(), plain);
        let report = a.interruption_report();
        assert_eq!(report.len(), 4, "{report:?}");
        assert!(
            !report.iter().any(|l| l.contains("it converges")),
            "{report:?}"
        );
        assert!(
            report[3].starts_with(
                "a re-run does not converge as it is: the INSERT INTO \
                 aws.ecr.pull_through_cache_rules has no ON CONFLICT, so it would fail on the \
                 rule(s) already created. Add ON CONFLICT DO NOTHING"
            ),
            "{report:?}"
        );
    }
}
