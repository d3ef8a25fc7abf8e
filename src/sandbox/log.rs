//! The sandbox's request log: one record per call, kept in memory and optionally as JSON lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

/// One call as the sandbox saw it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoggedRequest {
    /// The operation named by X-Amz-Target (`DescribePullThroughCacheRules`), or what was sent.
    pub operation: String,
    /// The region of the signature's credential scope, when there was one.
    pub region: Option<String>,
    /// The account whose key signed the call, once the signature was verified.
    pub account: Option<String>,
    /// The request body (the operation's parameters).
    pub parameters: Value,
    /// The HTTP status answered.
    pub status: u16,
    /// The error code answered, if the call failed.
    pub error_code: Option<String>,
}

/// A shared, append-only request log.
#[derive(Clone, Default)]
pub struct RequestLog {
    entries: Arc<Mutex<Vec<LoggedRequest>>>,
    file: Option<Arc<Mutex<BufWriter<File>>>>,
}

impl RequestLog {
    /// A log that also appends each record as one JSON line to `path`.
    pub fn with_file(path: &Path) -> std::io::Result<Self> {
        // Appends, as `--request-log` promises: a log shared by several runs keeps them all.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            entries: Arc::default(),
            file: Some(Arc::new(Mutex::new(BufWriter::new(file)))),
        })
    }

    /// Appends a record (and flushes it to the file, so a reader sees it at once).
    pub fn push(&self, entry: LoggedRequest) {
        if let Some(file) = &self.file {
            let mut file = file.lock().expect("log file lock");
            // A full disk must not take the endpoint down; the in-memory log still has the record.
            let _ = serde_json::to_writer(&mut *file, &entry)
                .map_err(std::io::Error::from)
                .and_then(|_| file.write_all(b"\n"))
                .and_then(|_| file.flush());
        }
        self.entries.lock().expect("log lock").push(entry);
    }

    /// Every record so far.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.lock().expect("log lock").clone()
    }

    /// Forgets the in-memory records (the file keeps them).
    pub fn clear(&self) {
        self.entries.lock().expect("log lock").clear();
    }

    /// How many calls of `operation` were made.
    pub fn count(&self, operation: &str) -> usize {
        self.entries
            .lock()
            .expect("log lock")
            .iter()
            .filter(|e| e.operation == operation)
            .count()
    }

    /// How many calls were made in total.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("log lock").len()
    }

    /// Whether no call was made.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
