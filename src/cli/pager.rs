//! psql's pager: on a terminal, results that do not fit go through `$PAGER` (else `less`).

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use console::measure_text_width;

/// When results go through the pager (psql's `\pset pager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PagerMode {
    /// Never.
    Off,
    /// When a result does not fit the terminal (the default).
    #[default]
    On,
    /// Every result shown on the terminal.
    Always,
}

impl PagerMode {
    /// Reads `on`, `off` or `always` (psql also takes true/false).
    pub fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "on" | "true" => Some(Self::On),
            "off" | "false" => Some(Self::Off),
            "always" => Some(Self::Always),
            _ => None,
        }
    }

    /// `\pset pager` alone: psql toggles between on and off.
    pub fn toggled(self) -> Self {
        match self {
            Self::Off => Self::On,
            Self::On | Self::Always => Self::Off,
        }
    }

    /// psql's message after `\pset pager`.
    pub fn message(self) -> &'static str {
        match self {
            Self::Off => "Pager usage is off.",
            Self::On => "Pager is used for long output.",
            Self::Always => "Pager is always used.",
        }
    }

    /// Whether `text` goes through the pager on a terminal of `rows` × `columns`: when it has
    /// as many lines as the screen (the prompt needs one) or a line wider than it.
    pub fn needed(self, text: &str, rows: usize, columns: usize) -> bool {
        match self {
            Self::Off => false,
            Self::Always => true,
            Self::On => {
                text.lines().count() >= rows
                    || text.lines().any(|l| measure_text_width(l) > columns)
            }
        }
    }
}

/// The terminal's size, rows and columns; `None` when stdout is not a terminal.
pub type Screen = Option<(usize, usize)>;

/// What a pager does with a line wider than the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongLines {
    /// Wraps it: every value of expanded records, csv or json is seen whole.
    Wrap,
    /// Chops it at the screen's edge and scrolls sideways: a wrapped line of an aligned table
    /// would break its columns apart.
    Chop,
}

impl LongLines {
    /// The `LESS` skyql gives `less` (unless the user set one): quit when the text fits one
    /// screen (F), keep colours (R), leave the text on the screen (X), and chop long lines
    /// (S) only for tables.
    pub fn less_flags(self) -> &'static str {
        match self {
            Self::Wrap => "FRX",
            Self::Chop => "FRSX",
        }
    }
}

/// Shows results on stdout, through the pager when its mode and the screen say so.
#[derive(Debug, Default)]
pub struct Pager {
    /// psql's `\pset pager`.
    pub mode: PagerMode,
    /// A pager that could not be started was reported already (once is enough).
    warned: bool,
}

impl Pager {
    /// Writes `text` to stdout, through the pager if it is needed on `screen`, its long lines
    /// wrapped or chopped as `lines` says. A pager that cannot be started is said once on
    /// stderr, and the text is printed without it.
    pub fn show(&mut self, text: &[u8], screen: Screen, lines: LongLines) -> std::io::Result<()> {
        let paged = match screen {
            Some((rows, columns)) => {
                self.mode
                    .needed(&String::from_utf8_lossy(text), rows, columns)
            }
            None => false,
        };
        if paged && let Some(command) = pager_command() {
            match run(&command, text, lines) {
                Ok(()) => return Ok(()),
                Err(why) if !self.warned => {
                    self.warned = true;
                    eprintln!(
                        "skyql: warning: cannot start the pager `{command}`: {why}; printing without it"
                    );
                }
                Err(_) => {}
            }
        }
        let mut out = std::io::stdout().lock();
        out.write_all(text)?;
        out.flush()
    }
}

/// psql's choice: `$PAGER` (empty or blank: no pager), else `less` when it is installed.
fn pager_command() -> Option<String> {
    match std::env::var("PAGER") {
        Ok(pager) if pager.trim().is_empty() => None,
        Ok(pager) => Some(pager),
        Err(_) => on_path("less").then(|| "less".to_string()),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| Path::new(&dir).join(program).is_file())
    })
}

/// Runs `command` through `sh -c`, as psql's popen does (PAGER may hold arguments), and feeds it
/// `text`. Unless the user set LESS, `less` gets [`LongLines::less_flags`].
fn run(command: &str, text: &[u8], lines: LongLines) -> Result<(), String> {
    let mut pager = Command::new("sh");
    pager.arg("-c").arg(command).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        pager.env("LESS", lines.less_flags());
    }
    let _ = std::io::stdout().flush();
    let mut child = pager.spawn().map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit before the end (`q` in less) closed its input: that is no error.
        match stdin.write_all(text) {
            Err(e) if e.kind() != ErrorKind::BrokenPipe => return Err(e.to_string()),
            _ => {}
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    // sh's own answer when the command cannot be found or run: nothing was shown.
    match status.code() {
        Some(127) => Err("command not found".into()),
        Some(126) => Err("cannot be run".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_is_needed_for_long_or_wide_text() {
        let lines = "a\n".repeat(24);
        assert!(PagerMode::On.needed(&lines, 24, 80));
        assert!(!PagerMode::On.needed(&lines, 25, 80));
        assert!(PagerMode::On.needed(&"x".repeat(81), 25, 80));
        assert!(!PagerMode::Off.needed(&lines, 2, 80));
        assert!(PagerMode::Always.needed("a\n", 25, 80));
        assert_eq!(PagerMode::Always.toggled(), PagerMode::Off);
        assert_eq!(PagerMode::parse("ALWAYS"), Some(PagerMode::Always));
        assert_eq!(PagerMode::parse("sometimes"), None);
    }
}
