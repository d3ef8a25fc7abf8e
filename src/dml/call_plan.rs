//! A statement's plan: the exact mutating calls it makes and what they amount to, which the
//! DML exec carries out or (with `--dry-run`) prints.

use super::calls::ApiCall;

/// The calls of a statement and what they amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPlan {
    /// The mutating calls, in order.
    pub calls: Vec<ApiCall>,
    /// Items to create.
    pub created: usize,
    /// Items to update.
    pub updated: usize,
    /// Items to delete.
    pub deleted: usize,
    /// Items already as asked (no call).
    pub unchanged: usize,
    /// Items left as they are although they differ from what was asked (`ON CONFLICT DO
    /// NOTHING` on an existing item): each says what differs, so drift stays visible.
    pub skipped: Vec<String>,
    /// The calls are an INSERT's without ON CONFLICT: running it again fails on the items it
    /// created (what an interrupted run's report says instead of "it converges").
    pub plain_insert: bool,
}

impl CallPlan {
    /// The row count a statement reports: rules changed.
    pub fn count(&self) -> u64 {
        (self.created + self.updated + self.deleted) as u64
    }

    /// Adds the update calls of one item, or counts it unchanged when there are none.
    pub fn update(&mut self, calls: Vec<ApiCall>) {
        match calls.is_empty() {
            false => {
                self.calls.extend(calls);
                self.updated += 1;
            }
            true => self.unchanged += 1,
        }
    }

    /// "created 2, updated 1, skipped 1 (…), unchanged 3" (only the non-zero parts; "no
    /// change" when empty).
    pub fn summary(&self) -> String {
        self.describe(["created", "updated", "deleted", "skipped"])
    }

    /// The same for a plan not carried out (a dry run): "create 2, update 1, unchanged 3".
    pub fn intent(&self) -> String {
        self.describe(["create", "update", "delete", "skip"])
    }

    fn describe(&self, verbs: [&str; 4]) -> String {
        let skipped = self.skipped.len();
        let counts = [
            self.created,
            self.updated,
            self.deleted,
            skipped,
            self.unchanged,
        ];
        let parts: Vec<String> = verbs
            .iter()
            .chain(&["unchanged"])
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| match *w == verbs[3] {
                true => format!("{w} {n} ({})", self.skipped.join("; ")),
                false => format!("{w} {n}"),
            })
            .collect();
        if parts.is_empty() {
            "no change".into()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dml::Mutation;

    fn call() -> ApiCall {
        ApiCall {
            region: "us-east-1".into(),
            mutation: Mutation::new("DeletePullThroughCacheRule", []),
            row: None,
        }
    }

    #[test]
    fn counts_and_summaries_name_only_what_happens() {
        let mut plan = CallPlan::default();
        assert_eq!(plan.summary(), "no change");
        plan.update(vec![call()]);
        plan.update(Vec::new());
        plan.calls.push(call());
        plan.deleted += 1;
        assert_eq!((plan.calls.len(), plan.count()), (2, 2));
        assert_eq!(plan.summary(), "updated 1, deleted 1, unchanged 1");
        assert_eq!(plan.intent(), "update 1, delete 1, unchanged 1");
        plan.skipped
            .push("rule 'q' in us-east-1 exists with upstream quay.io".into());
        assert_eq!(plan.count(), 2, "a skipped item is not changed");
        assert_eq!(
            plan.summary(),
            "updated 1, deleted 1, skipped 1 (rule 'q' in us-east-1 exists with upstream \
             quay.io), unchanged 1"
        );
        assert!(plan.intent().contains(", skip 1 (rule 'q'"));
    }
}
