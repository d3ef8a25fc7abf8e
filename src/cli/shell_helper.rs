//! The shell's rustyline helper: completion, a hint of the one possible completion, and the
//! validator that keeps a statement open until its `;`.

use std::borrow::Cow;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::complete::complete;
use super::statements::is_complete;

/// The helper the shell's editor uses.
#[derive(Debug, Default)]
pub struct ShellHelper;

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete(line, pos))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;

    /// The rest of the word when exactly one completion fits (at the end of the input only,
    /// where a hint cannot hide text).
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
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
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        // Dim, so a hint never reads as typed text.
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for ShellHelper {}
