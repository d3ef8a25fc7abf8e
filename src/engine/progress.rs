//! A live count of the region calls of the running statement, for a progress line.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Region calls started and finished by the running statement (reset before each statement).
/// Cloning shares the counters, so a progress display can watch a statement it does not own.
#[derive(Debug, Clone, Default)]
pub struct RegionProgress(Arc<(AtomicUsize, AtomicUsize)>);

impl RegionProgress {
    /// Forgets the previous statement.
    pub fn reset(&self) {
        self.0.0.store(0, Ordering::Relaxed);
        self.0.1.store(0, Ordering::Relaxed);
    }

    /// A region call is about to be made.
    pub fn started(&self) {
        self.0.0.fetch_add(1, Ordering::Relaxed);
    }

    /// A region call finished (successfully or not).
    pub fn finished(&self) {
        self.0.1.fetch_add(1, Ordering::Relaxed);
    }

    /// `(done, total)` so far.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.0.1.load(Ordering::Relaxed),
            self.0.0.load(Ordering::Relaxed),
        )
    }
}
