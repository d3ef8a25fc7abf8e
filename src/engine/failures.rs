//! Per-region failures of a statement: collected instead of aborting, so the other regions'
//! rows still print and the failing regions are named (exit 3).

use std::sync::{Arc, Mutex};

use crate::error::Error;

/// One region that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionFailure {
    /// The region.
    pub region: String,
    /// The operation that failed.
    pub operation: String,
    /// The AWS error code (or client failure kind).
    pub code: String,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for RegionFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "region {} failed: {}: {}: {}",
            self.region, self.operation, self.code, self.message
        )
    }
}

/// The failures of the statement running now, and how many region calls it made
/// (reset before each statement).
#[derive(Debug, Clone, Default)]
pub struct RegionFailures(Arc<Mutex<(Vec<RegionFailure>, usize)>>);

impl RegionFailures {
    /// Forgets everything (a new statement starts).
    pub fn reset(&self) {
        *self.0.lock().expect("failures lock") = (Vec::new(), 0);
    }

    /// Counts a region call about to be made.
    pub fn attempt(&self) {
        self.0.lock().expect("failures lock").1 += 1;
    }

    /// Records a failed region; errors other than API errors are kept with code `Error`.
    pub fn record(&self, region: &str, error: &Error) {
        let failure = match error {
            Error::Api {
                region,
                operation,
                code,
                message,
            } => RegionFailure {
                region: region.clone(),
                operation: operation.clone(),
                code: code.clone(),
                message: message.clone(),
            },
            other => RegionFailure {
                region: region.to_string(),
                operation: String::new(),
                code: "Error".into(),
                message: other.to_string(),
            },
        };
        self.0.lock().expect("failures lock").0.push(failure);
    }

    /// The failures recorded so far, sorted by region (kept for the statement's report).
    pub fn current(&self) -> Vec<RegionFailure> {
        let mut failures = self.0.lock().expect("failures lock").0.clone();
        failures.sort_by(|a, b| a.region.cmp(&b.region));
        failures
    }

    /// Takes the failures recorded so far (sorted by region) and the number of region calls.
    pub fn take(&self) -> (Vec<RegionFailure>, usize) {
        let (mut failures, attempted) = std::mem::take(&mut *self.0.lock().expect("failures lock"));
        failures.sort_by(|a, b| a.region.cmp(&b.region));
        (failures, attempted)
    }
}
