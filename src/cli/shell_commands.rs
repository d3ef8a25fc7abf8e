//! The shell's psql-style backslash commands: their one definition (for help and completion)
//! and parsing.

use clap::ValueEnum;

use super::meta::META_SYNTAX;
use super::print::OutputFormat;
use crate::error::{Error, Result};

/// A backslash command as documented.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    /// `\d`
    pub name: &'static str,
    /// Its arguments, for help.
    pub args: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// Every backslash command (help, completion and the unknown-command error read this).
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "\\d",
        args: "[TABLE]",
        help: "list the tables, or describe TABLE",
    },
    CommandInfo {
        name: "\\o",
        args: "table|csv|json|ndjson",
        help: "set the output format",
    },
    CommandInfo {
        name: "\\timing",
        args: "[on|off]",
        help: "print `N rows in T s` after each result (alone: toggle)",
    },
    CommandInfo {
        name: "\\regions",
        args: "r1,r2|all",
        help: "set the session's regions (reopens the session)",
    },
    CommandInfo {
        name: "\\profile",
        args: "NAME",
        help: "switch the AWS profile (reopens the session)",
    },
    CommandInfo {
        name: "\\?",
        args: "",
        help: "this help",
    },
    CommandInfo {
        name: "\\q",
        args: "",
        help: "quit (Ctrl-D also quits)",
    },
];

/// A parsed backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellCommand {
    /// `\d [TABLE]`
    Describe(Option<String>),
    /// `\o FORMAT`
    Output(OutputFormat),
    /// `\timing [on|off]`; `None` toggles.
    Timing(Option<bool>),
    /// `\regions LIST`
    Regions(String),
    /// `\profile NAME`
    Profile(String),
    /// `\?`
    Help,
    /// `\q`
    Quit,
}

/// Parses a line starting with `\`.
pub fn parse_command(line: &str) -> Result<ShellCommand> {
    let line = line.trim().trim_end_matches(';').trim();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let usage = |i: usize| {
        let c = COMMANDS[i];
        Error::Usage(format!("usage: {} {} ({})", c.name, c.args, c.help))
    };
    match (name, arg) {
        ("\\d", table) => Ok(ShellCommand::Describe(table.map(str::to_string))),
        ("\\o", Some(format)) => OutputFormat::from_str(format, true)
            .map(ShellCommand::Output)
            .map_err(|_| usage(1)),
        ("\\o", None) => Err(usage(1)),
        ("\\timing", Some(v)) if v.eq_ignore_ascii_case("on") => {
            Ok(ShellCommand::Timing(Some(true)))
        }
        ("\\timing", Some(v)) if v.eq_ignore_ascii_case("off") => {
            Ok(ShellCommand::Timing(Some(false)))
        }
        ("\\timing", None) => Ok(ShellCommand::Timing(None)),
        ("\\timing", _) => Err(usage(2)),
        ("\\regions", Some(list)) => Ok(ShellCommand::Regions(list.to_string())),
        ("\\regions", None) => Err(usage(3)),
        ("\\profile", Some(p)) => Ok(ShellCommand::Profile(p.to_string())),
        ("\\profile", None) => Err(usage(4)),
        ("\\?" | "\\h" | "\\help", _) => Ok(ShellCommand::Help),
        ("\\q" | "\\quit", _) => Ok(ShellCommand::Quit),
        _ => Err(Error::Usage(format!(
            "unknown command {name}: the commands are {} (\\? for help)",
            COMMANDS
                .iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The help `\?` prints: every backslash command and meta statement.
pub fn help_text() -> String {
    let mut text = String::from("Commands:\n");
    for c in COMMANDS {
        let left = format!("{} {}", c.name, c.args);
        text.push_str(&format!("  {left:<32} {}\n", c.help));
    }
    text.push_str("Meta statements (also in `skyql exec`):\n");
    for m in META_SYNTAX {
        text.push_str(&format!("  {m}\n"));
    }
    text.push_str(
        "SQL statements end with `;` and may span lines. Tab completes; Ctrl-C cancels a running\n\
         query or clears the line; Ctrl-D quits.\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(parse_command("\\d").unwrap(), ShellCommand::Describe(None));
        assert_eq!(
            parse_command("\\d aws.ecr.pull_through_cache_rules").unwrap(),
            ShellCommand::Describe(Some("aws.ecr.pull_through_cache_rules".into()))
        );
        assert_eq!(
            parse_command("\\o CSV").unwrap(),
            ShellCommand::Output(OutputFormat::Csv)
        );
        assert_eq!(
            parse_command("\\timing on").unwrap(),
            ShellCommand::Timing(Some(true))
        );
        assert_eq!(
            parse_command("\\timing").unwrap(),
            ShellCommand::Timing(None)
        );
        assert_eq!(
            parse_command("\\regions all").unwrap(),
            ShellCommand::Regions("all".into())
        );
        assert_eq!(
            parse_command("\\profile prod").unwrap(),
            ShellCommand::Profile("prod".into())
        );
        assert_eq!(parse_command("\\?").unwrap(), ShellCommand::Help);
        assert_eq!(parse_command("\\q").unwrap(), ShellCommand::Quit);
    }

    #[test]
    fn errors_say_what_is_accepted() {
        assert!(
            parse_command("\\o xml")
                .unwrap_err()
                .to_string()
                .contains("table|csv|json|ndjson")
        );
        assert!(
            parse_command("\\timing maybe")
                .unwrap_err()
                .to_string()
                .contains("on|off")
        );
        let unknown = parse_command("\\x").unwrap_err().to_string();
        for c in COMMANDS {
            assert!(unknown.contains(c.name), "{unknown}");
        }
    }

    #[test]
    fn help_lists_every_command() {
        let help = help_text();
        for c in COMMANDS {
            assert!(help.contains(c.name), "{help}");
        }
        assert!(help.contains("SHOW METHODS IN"));
    }
}
