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

/// The longest value quoted in an error message that [`Error::bounded`] prints whole.
pub const MAX_QUOTED: usize = 200;
/// The longest line of an error message [`Error::bounded`] prints: far beyond any message of
/// skyql's own (a table's column list is a few hundred characters), so only text quoted
/// from elsewhere can reach it.
pub const MAX_LINE: usize = 10_000;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The failure of a call made for one item (`repository 'a'`), named in the message: a
    /// child table's listing under one of its parents, say.
    pub fn within(mut self, what: &str) -> Self {
        match &mut self {
            Self::Api { operation, .. } => *operation = format!("{operation} of {what}"),
            Self::Runtime(message) => *message = format!("{what}: {message}"),
            _ => {}
        }
        self
    }

    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The message with every quoted value cut to [`MAX_QUOTED`] characters, and any line
    /// still longer than [`MAX_LINE`] cut at a blank: a value quoted in an error (a megabyte of
    /// policy text, say) must not flood the terminal, and skyql's own words (a list of valid
    /// columns) are never cut.
    pub fn bounded(&self) -> String {
        self.to_string()
            .lines()
            .map(|line| cut_line(&cut_quoted(line)))
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

/// `line` with each quoted value (`'…'`, opened after a blank or `(`, `[`, `=`, `,` and closed
/// before one or punctuation: an apostrophe inside a word opens nothing) longer than
/// [`MAX_QUOTED`] characters cut, saying how much is left out.
fn cut_quoted(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let opens = |i: usize| {
        chars[i] == '\''
            && (i == 0 || chars[i - 1].is_whitespace() || "([=,:".contains(chars[i - 1]))
    };
    let closes = |i: usize| {
        chars[i] == '\''
            && chars
                .get(i + 1)
                .is_none_or(|c| c.is_whitespace() || ")],.;:?!".contains(*c))
    };
    let mut out = String::with_capacity(line.len().min(4 * MAX_LINE));
    let mut i = 0;
    while i < chars.len() {
        if opens(i)
            && let Some(end) = (i + 1..chars.len()).find(|&j| closes(j))
            && end - i - 1 > MAX_QUOTED
        {
            out.extend(&chars[i..=i + MAX_QUOTED]);
            out.push_str(&format!(
                "…' ({} more characters)",
                end - i - 1 - MAX_QUOTED
            ));
            i = end + 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `line` cut at the last blank before [`MAX_LINE`] characters, when it is longer.
fn cut_line(line: &str) -> String {
    let Some((limit, _)) = line.char_indices().nth(MAX_LINE) else {
        return line.to_string();
    };
    let at = line[..limit].rfind(char::is_whitespace).unwrap_or(limit);
    format!(
        "{}… ({} more characters)",
        &line[..at],
        line[at..].chars().count()
    )
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
    fn only_quoted_values_are_cut_never_skyqls_words() {
        let columns = (0..60)
            .map(|i| format!("column_number_{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let long = Error::Usage(format!(
            "the rule's column 'nope' is not one of its columns: {columns}; nothing was sent"
        ));
        assert!(long.to_string().len() > 1000);
        assert_eq!(long.bounded(), long.to_string());
        let huge = Error::Usage(format!(
            "ecr_repository_prefix '{}' is too long; nothing was sent",
            "a".repeat(100_000)
        ));
        let shown = huge.bounded();
        assert!(shown.starts_with(&format!(
            "ecr_repository_prefix '{}…'",
            "a".repeat(MAX_QUOTED)
        )));
        assert!(
            shown.ends_with("(99800 more characters) is too long; nothing was sent"),
            "{shown}"
        );
        let unquoted = Error::Sql(format!("x {}", "word ".repeat(5_000)));
        let shown = unquoted.bounded();
        assert!(shown.len() < MAX_LINE + 100 && shown.ends_with("more characters)"));
    }

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
