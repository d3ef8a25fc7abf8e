//! The one error type of skyql; it travels through DataFusion boxed, never as a string.

use std::io;

use datafusion::error::DataFusionError;

/// Everything that can go wrong, classified by what the user must do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line, statement or value; nothing was sent to AWS (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A statement DataFusion could not parse or plan; nothing was sent to AWS (exit 2).
    #[error("{0}")]
    Sql(String),
    /// An UPDATE, DELETE or MERGE that would act on rules it does not pin, without
    /// `--allow-bulk`; nothing was sent (exit 2). The shell offers to confirm it instead.
    #[error("{0}")]
    BulkRefused(String),
    /// An AWS API call failed (exit 1).
    #[error("{region}: {operation} failed: {code}: {message}")]
    Api {
        /// The region called.
        region: String,
        /// The ECR operation.
        operation: String,
        /// The AWS error code (e.g. AccessDeniedException), or the client-side failure kind.
        code: String,
        /// The message AWS (or the client) gave.
        message: String,
    },
    /// A failure while a statement ran (exit 1).
    #[error("{0}")]
    Runtime(String),
    /// A local I/O failure, with what was being done (exit 1).
    #[error("{context}: {source}")]
    Io {
        /// What skyql was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// The longest line of an error message [`Error::bounded`] prints.
pub const MAX_LINE: usize = 500;

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

    /// The message with every line cut to [`MAX_LINE`] characters: a value quoted in an error
    /// (a megabyte of policy text, say) must not flood the terminal.
    pub fn bounded(&self) -> String {
        self.to_string()
            .lines()
            .map(|line| match line.char_indices().nth(MAX_LINE) {
                Some((at, _)) => format!(
                    "{}… ({} more characters)",
                    &line[..at],
                    line[at..].chars().count()
                ),
                None => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The process exit code (DESIGN.md): 1 runtime or API error, 2 usage or SQL error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) | Self::Sql(_) | Self::BulkRefused(_) => 2,
            Self::Api { .. } | Self::Runtime(_) | Self::Io { .. } => 1,
        }
    }

    /// Recovers skyql's error from a DataFusion error. `planning` says whether it arose before
    /// execution started: then nothing was sent to AWS and DataFusion's own errors are SQL errors.
    pub fn from_datafusion(e: DataFusionError, planning: bool) -> Self {
        match e {
            DataFusionError::External(boxed) => match boxed.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Self::classified(other.to_string(), planning),
            },
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
                Self::from_datafusion(*inner, planning)
            }
            DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
                Ok(inner) => Self::from_datafusion(inner, planning),
                Err(shared) => match find_ours(&shared) {
                    Some(ours) => ours.duplicate(),
                    None => Self::classified(shared.strip_backtrace(), planning),
                },
            },
            other => Self::classified(other.strip_backtrace(), planning),
        }
    }

    fn classified(message: String, planning: bool) -> Self {
        if planning {
            Self::Sql(message)
        } else {
            Self::Runtime(message)
        }
    }

    /// A copy for errors DataFusion shares between partitions (behind an `Arc`).
    fn duplicate(&self) -> Self {
        match self {
            Self::Usage(m) => Self::Usage(m.clone()),
            Self::Sql(m) => Self::Sql(m.clone()),
            Self::BulkRefused(m) => Self::BulkRefused(m.clone()),
            Self::Runtime(m) => Self::Runtime(m.clone()),
            Self::Api {
                region,
                operation,
                code,
                message,
            } => Self::Api {
                region: region.clone(),
                operation: operation.clone(),
                code: code.clone(),
                message: message.clone(),
            },
            Self::Io { context, source } => Self::Io {
                context: context.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
        }
    }
}

/// Finds a skyql error inside a DataFusion error without taking it apart.
fn find_ours(e: &DataFusionError) -> Option<&Error> {
    match e {
        DataFusionError::External(b) => b.downcast_ref::<Error>(),
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            find_ours(inner)
        }
        DataFusionError::Shared(inner) => find_ours(inner),
        _ => None,
    }
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn our_errors_survive_datafusion() {
        let api = Error::Api {
            region: "eu-west-1".into(),
            operation: "DescribePullThroughCacheRules".into(),
            code: "AccessDeniedException".into(),
            message: "no".into(),
        };
        let shared = Arc::new(DataFusionError::Context(
            "ctx".into(),
            Box::new(DataFusionError::from(api)),
        ));
        // A second owner forces the path that copies the error out of the Arc.
        let keep = Arc::clone(&shared);
        let back = Error::from_datafusion(DataFusionError::Shared(shared), false);
        assert_eq!(back.exit_code(), 1);
        assert_eq!(
            back.to_string(),
            "eu-west-1: DescribePullThroughCacheRules failed: AccessDeniedException: no"
        );
        drop(keep);
        let usage =
            Error::from_datafusion(DataFusionError::from(Error::Usage("bad".into())), false);
        assert_eq!(
            (usage.exit_code(), usage.to_string()),
            (2, "bad".to_string())
        );
        let plan = Error::from_datafusion(DataFusionError::Plan("nope".into()), true);
        assert_eq!(plan.exit_code(), 2);
        let exec = Error::from_datafusion(DataFusionError::Execution("boom".into()), false);
        assert_eq!(exec.exit_code(), 1);
    }
}
