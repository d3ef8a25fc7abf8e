//! The shell's rustyline helper: completion (file names after `\i` and `\o`), a hint of the one
//! possible completion, and psql's continuation prompt on the lines of an unfinished statement.

use std::borrow::Cow;

use rustyline::completion::{Completer, FilenameCompleter};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{
    Cmd, ConditionalEventHandler, Context, Event, EventContext, EventHandler, Helper, KeyCode,
    KeyEvent, Modifiers, RepeatCount,
};

use super::complete::complete;
use super::shell_input::is_whole;

/// The prompt of a statement's first line.
pub const PROMPT: &str = "skyql> ";
/// The prompt of its next lines: as wide as [`PROMPT`], ending in `-> ` as psql's does.
pub const CONTINUATION_PROMPT: &str = "    -> ";

/// What Enter puts at the start of a continuation line: marks as wide as the prompt, which
/// [`ShellHelper::highlight`] draws as [`CONTINUATION_PROMPT`], and [`typed`] removes.
///
/// rustyline draws its prompt before the first line only, and reading each line with its own
/// `readline` would lose lines typed or pasted ahead (rustyline drops what it has read past the
/// end of a line when `readline` returns). So a statement stays one `readline` (one history
/// entry), and each of its lines starts with marks the width of the prompt: the cursor and the
/// drawing agree, since the prompt replaces marks of the same width. The mark is U+2800 BRAILLE
/// PATTERN BLANK, one column wide, blank where it is not drawn over (with NO_COLOR rustyline
/// highlights nothing), and a character nobody types in SQL: blanks were ambiguous, since a
/// line of a string literal may start with blanks of its own.
const INDENT_MARK: char = '\u{2800}';
const CONTINUATION_INDENT: &str = "\u{2800}\u{2800}\u{2800}\u{2800}\u{2800}\u{2800}\u{2800}";

/// The statement as typed: the editor's text without the marks Enter put where the
/// continuation prompt is drawn (wherever an edit left them).
pub fn typed(line: &str) -> String {
    line.replace(INDENT_MARK, "")
}

/// The helper the shell's editor uses.
#[derive(Default)]
pub struct ShellHelper {
    files: FilenameCompleter,
}

impl ShellHelper {
    /// Binds Enter on `editor` so that it continues an unfinished statement on a new line with
    /// the continuation prompt.
    pub fn bind_enter<H: Helper, I: rustyline::history::History>(
        editor: &mut rustyline::Editor<H, I>,
    ) {
        editor.bind_sequence(
            KeyEvent(KeyCode::Enter, Modifiers::NONE),
            EventHandler::Conditional(Box::new(ContinueStatement)),
        );
    }
}

/// Enter in an unfinished statement: a new line, starting with the continuation prompt. In a
/// whole one, rustyline's own Enter (the input is accepted).
struct ContinueStatement;

impl ConditionalEventHandler for ContinueStatement {
    fn handle(
        &self,
        _evt: &Event,
        _n: RepeatCount,
        _positive: bool,
        ctx: &EventContext<'_>,
    ) -> Option<Cmd> {
        (!is_whole(&typed(ctx.line()))).then(|| Cmd::Insert(1, format!("\n{CONTINUATION_INDENT}")))
    }
}

/// Whether `line` up to `pos` is the file argument of `\i` or `\o`.
fn file_argument(line: &str, pos: usize) -> bool {
    let before = line[..pos].trim_start();
    ["\\i ", "\\o "]
        .iter()
        .any(|command| before.starts_with(command))
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        if file_argument(line, pos) {
            let (start, paths) = self.files.complete_path(line, pos)?;
            return Ok((start, paths.into_iter().map(|p| p.replacement).collect()));
        }
        Ok(complete(line, pos))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;

    /// The rest of the word when exactly one completion fits (at the end of the input only,
    /// where a hint cannot hide text).
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() || file_argument(line, pos) {
            return None;
        }
        let (start, candidates) = complete(line, pos);
        let typed = &line[start..pos];
        match candidates.as_slice() {
            [only] if !typed.is_empty() && only.len() > typed.len() => {
                only.get(typed.len()..).map(str::to_string)
            }
            _ => None,
        }
    }
}

impl Highlighter for ShellHelper {
    /// Draws the continuation prompt over the blanks Enter put at the start of each line.
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        let indent = format!("\n{CONTINUATION_INDENT}");
        if line.contains(&indent) {
            Cow::Owned(line.replace(&indent, &format!("\n{CONTINUATION_PROMPT}")))
        } else {
            Cow::Borrowed(line)
        }
    }

    /// A statement of several lines is redrawn whole at each key, so its prompts stay drawn.
    fn highlight_char(&self, line: &str, _pos: usize, _kind: CmdKind) -> bool {
        line.contains('\n')
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        // Dim, so a hint never reads as typed text.
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

/// A statement is accepted once whole (a pasted one too, whose lines arrive without Enter's
/// continuation prompt).
impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_whole(&typed(ctx.input())) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_are_drawn_with_the_prompt_at_the_same_width() {
        assert_eq!(PROMPT.len(), CONTINUATION_PROMPT.len());
        let typed = format!("SELECT 1\n{CONTINUATION_INDENT}AS n\n{CONTINUATION_INDENT};");
        assert_eq!(
            ShellHelper::default().highlight(&typed, 0),
            "SELECT 1\n    -> AS n\n    -> ;"
        );
        assert!(ShellHelper::default().highlight_char(&typed, 0, CmdKind::Other));
        assert!(!ShellHelper::default().highlight_char("SELECT", 0, CmdKind::Other));
    }

    #[test]
    fn the_statement_is_what_was_typed_without_the_prompts_marks() {
        assert_eq!(
            CONTINUATION_INDENT.chars().count(),
            CONTINUATION_PROMPT.len()
        );
        assert!(CONTINUATION_INDENT.chars().all(|c| c == INDENT_MARK));
        // Blanks typed at the start of a line are the statement's own: only the marks go.
        let text = format!(
            "SELECT length('a\n{CONTINUATION_INDENT}b'),\n{CONTINUATION_INDENT}  'Line one\n{CONTINUATION_INDENT}       line two';"
        );
        assert_eq!(
            typed(&text),
            "SELECT length('a\nb'),\n  'Line one\n       line two';"
        );
        // A mark an edit moved into the text goes too.
        assert_eq!(
            typed("SELECT 1\n\u{2800}\u{2800}x\u{2800};"),
            "SELECT 1\nx;"
        );
    }
}
