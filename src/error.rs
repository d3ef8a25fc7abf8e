//! The one error type of skyql; it travels through DataFusion boxed, never as a string.

use std::io;

/// Everything that can go wrong, classified by what the user must do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line, statement or value; nothing was sent to AWS (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A local I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What skyql was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code this error maps to (see DESIGN.md: 1 runtime, 2 usage).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            Self::Io { .. } => 1,
        }
    }
}
