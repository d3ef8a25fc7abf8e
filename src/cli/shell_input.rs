//! The shell's inputs: when typed text is a whole input, and psql's query buffer for `\i` files.

use super::statements::{is_complete, shell_word, split_statements};

/// Whether `text` is a whole input of the shell: a backslash command or psql's bare word (a line
/// of their own), statements up to a final `;`, or nothing but blanks and comments.
pub fn is_whole(text: &str) -> bool {
    is_complete(text) || split_statements(text).is_empty()
}

/// The lines of a `\i` file's statement not yet ended by its `;`.
#[derive(Debug, Default)]
pub struct QueryBuffer {
    text: String,
}

impl QueryBuffer {
    /// Whether no statement is open.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Adds a line; answers a whole input when there is one: a backslash command or psql's
    /// bare `exit`/`quit`/`help` (a line of their own), or statements up to a final `;`. Blank and
    /// comment-only lines start nothing.
    pub fn push(&mut self, line: &str) -> Option<String> {
        if self.text.is_empty() {
            let trimmed = line.trim();
            if trimmed.starts_with('\\') || shell_word(trimmed).is_some() {
                return Some(trimmed.to_string());
            }
            if split_statements(line).is_empty() {
                return None;
            }
        } else {
            self.text.push('\n');
        }
        self.text.push_str(line);
        is_complete(&self.text).then(|| std::mem::take(&mut self.text))
    }

    /// What is left at the end of a file: its last statement, run although it lacks its `;`
    /// (as psql does at the end of `\i`).
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.text);
        (!split_statements(&rest).is_empty()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_runs_at_its_semicolon() {
        let mut buffer = QueryBuffer::default();
        assert_eq!(buffer.push("SELECT region"), None);
        assert!(!buffer.is_empty());
        assert_eq!(buffer.push("  FROM t -- a ; in a comment"), None);
        assert_eq!(
            buffer.push("WHERE x = ';';").as_deref(),
            Some("SELECT region\n  FROM t -- a ; in a comment\nWHERE x = ';';")
        );
        assert!(buffer.is_empty());
    }

    #[test]
    fn commands_are_one_line_and_blank_lines_start_nothing() {
        let mut buffer = QueryBuffer::default();
        assert_eq!(buffer.push("  "), None);
        assert_eq!(buffer.push("-- a comment"), None);
        assert!(buffer.is_empty());
        assert_eq!(buffer.push(" \\x on ").as_deref(), Some("\\x on"));
        assert_eq!(buffer.push("quit").as_deref(), Some("quit"));
        // Inside a statement, `quit` is a word of it.
        buffer.push("SELECT");
        assert_eq!(buffer.push("quit"), None);
    }

    #[test]
    fn whole_inputs() {
        for whole in [
            "",
            "  ",
            "-- a comment",
            "\\x on",
            "exit",
            "SELECT 1;",
            "SELECT 1; -- done",
        ] {
            assert!(is_whole(whole), "{whole:?}");
        }
        for open in [
            "SELECT 1",
            "SELECT ';",
            "SELECT 1; SELECT",
            "-- a comment\nSELECT",
        ] {
            assert!(!is_whole(open), "{open:?}");
        }
    }

    #[test]
    fn a_file_may_end_without_its_semicolon() {
        let mut buffer = QueryBuffer::default();
        buffer.push("SELECT 1");
        assert_eq!(buffer.finish().as_deref(), Some("SELECT 1"));
        assert_eq!(buffer.finish(), None);
        buffer.push("SELECT 1;");
        assert_eq!(buffer.finish(), None);
    }
}
