//! What every table of a session shares while a statement runs: clients, regions, flags, and
//! what the statement reports (failed regions, progress, notes, calls made).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::error::Result as DfResult;

use super::applied::AppliedCalls;
use super::failures::RegionFailures;
use super::progress::RegionProgress;
use crate::aws::EcrClients;
use crate::dml::Directive;

/// What every table of a session shares: clients, default regions, flags, and what the
/// running statement reports (failed regions, DML notes).
#[derive(Debug)]
pub struct ProviderContext {
    /// The ECR clients.
    pub clients: EcrClients,
    /// The session's regions, or why there are none (reported only when a query needs them).
    pub default_regions: Result<Vec<String>, String>,
    /// The regions a predicate on region other than `=`/`IN` is evaluated over: `--regions`
    /// when given, else every region of provider.yaml (`pushdown::narrow_regions`).
    pub region_scope: Vec<String>,
    /// Where failed regions are recorded.
    pub failures: RegionFailures,
    /// Region calls started and finished by the running statement (for the shell's progress line).
    pub progress: RegionProgress,
    /// `--strict`: a failed region fails the statement instead of being collected.
    pub strict: bool,
    /// `--dry-run`: DML plans its calls and reports them without making any mutating call.
    pub dry_run: AtomicBool,
    /// `--allow-bulk`: UPDATE/DELETE may act on rules their WHERE does not pin by identifier.
    pub allow_bulk: AtomicBool,
    /// `--allow-partial`: DML may change what it can decide although some region of its input
    /// (or of its own read) failed.
    pub allow_partial: bool,
    /// The directive of the statement being planned (taken by the DML hooks).
    pub directive: Mutex<Directive>,
    /// Notes of the running statement for stderr (DML summaries, dry-run plans).
    pub notes: Mutex<Vec<String>>,
    /// Set while EXPLAIN PERMISSIONS plans a statement: its values are not checked (the
    /// permissions of a statement are explained even when its values would be refused).
    pub explaining: AtomicBool,
    /// The mutating calls made so far (reported when a run is interrupted).
    pub applied: AppliedCalls,
    /// Set while a script is checked before it runs: DML validates its rows and stops there.
    pub validate_only: AtomicBool,
}

impl ProviderContext {
    /// Whether DML only reports its calls.
    pub fn dry_run(&self) -> bool {
        self.dry_run.load(Ordering::SeqCst)
    }

    /// Whether the statement is planned only to explain its permissions.
    pub fn explaining(&self) -> bool {
        self.explaining.load(Ordering::SeqCst)
    }

    /// Whether UPDATE/DELETE/MERGE may act on rules they do not pin.
    pub fn allow_bulk(&self) -> bool {
        self.allow_bulk.load(Ordering::SeqCst)
    }

    /// Takes the directive of the statement being planned.
    pub fn take_directive(&self) -> Directive {
        std::mem::take(&mut *self.directive.lock().expect("directive lock"))
    }

    /// Adds a note for stderr.
    pub fn note(&self, line: impl Into<String>) {
        self.notes.lock().expect("notes lock").push(line.into());
    }

    /// Takes the notes so far.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().expect("notes lock"))
    }

    /// Makes a scan's call to one region: waits for a region slot and counts the call for the
    /// progress line and the failure report. A failure is recorded, so the region is named and
    /// its rows are known to be missing (`None`), unless `--strict` makes it the statement's error.
    pub async fn call_region<T>(
        &self,
        region: &str,
        call: impl Future<Output = crate::error::Result<T>>,
    ) -> DfResult<Option<T>> {
        let _slot = self.clients.region_slot().await;
        self.failures.attempt();
        self.progress.started();
        let answer = call.await;
        self.progress.finished();
        match answer {
            Ok(v) => Ok(Some(v)),
            // A usage error (no credentials) is the statement's: every region would say it.
            Err(e) if !self.strict && e.exit_code() != 2 => {
                self.failures.record(region, &e);
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}
