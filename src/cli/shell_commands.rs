//! The shell's psql-style backslash commands: their one definition (for help and completion)
//! and parsing.

use std::path::PathBuf;

use super::expanded::Expanded;
use super::meta::META_SYNTAX;
use super::pset::{Pset, parse_format, unquote};
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
    /// The words its first argument takes, for completion (`\x o<Tab>`).
    pub choices: &'static [&'static str],
}

/// Every backslash command (help, completion and the unknown-command error read this).
pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "\\d",
        args: "[TABLE]",
        help: "list the tables, or describe TABLE (a bare\n\
               name is looked up in aws.ecr first)",
        choices: &[],
    },
    CommandInfo {
        name: "\\dt",
        args: "",
        help: "list the tables",
        choices: &[],
    },
    CommandInfo {
        name: "\\x",
        args: "[on|off|auto]",
        help: "expanded display, a block per row; alone:\n\
               toggle (default auto: when a table is wider\n\
               than the terminal)",
        choices: &["auto", "off", "on"],
    },
    CommandInfo {
        name: "\\pset",
        args: "[NAME [VALUE]]",
        help: "display settings (alone: show them):\n\
               format table|csv|json|ndjson;\n\
               null TEXT shown for NULL (default empty);\n\
               pager on|off|always (on: when it does not fit)",
        choices: &["expanded", "format", "null", "pager"],
    },
    CommandInfo {
        name: "\\o",
        args: "[FILE]",
        help: "send results to FILE (emptied, then appended\n\
               to); alone: back to stdout; a format name\n\
               (`\\o csv`) sets the format as \\pset format",
        choices: &[],
    },
    CommandInfo {
        name: "\\i",
        args: "FILE",
        help: "run the statements and commands of FILE as if typed",
        choices: &[],
    },
    CommandInfo {
        name: "\\timing",
        args: "[on|off]",
        help: "print `N rows in T s` after results (alone: toggle)",
        choices: &["off", "on"],
    },
    CommandInfo {
        name: "\\regions",
        args: "[r1,r2|all]",
        help: "set the session's regions (reopens the session);\n\
               alone: show them",
        choices: &[],
    },
    CommandInfo {
        name: "\\profile",
        args: "NAME",
        help: "switch the AWS profile (reopens the session)",
        choices: &[],
    },
    CommandInfo {
        name: "\\conninfo",
        args: "",
        help: "what the session reaches: profile, regions,\n\
               endpoint, sandbox or AWS",
        choices: &[],
    },
    CommandInfo {
        name: "\\g",
        args: "",
        help: "run the last statement again",
        choices: &[],
    },
    CommandInfo {
        name: "\\e",
        args: "",
        help: "edit the last statement in $VISUAL or $EDITOR,\n\
               then run what the editor leaves",
        choices: &[],
    },
    CommandInfo {
        name: "\\!",
        args: "[COMMAND]",
        help: "run COMMAND in sh (alone: an interactive $SHELL)",
        choices: &[],
    },
    CommandInfo {
        name: "\\?",
        args: "",
        help: "this help",
        choices: &[],
    },
    CommandInfo {
        name: "\\q",
        args: "",
        help: "quit (Ctrl-D also quits)",
        choices: &[],
    },
];

/// A parsed backslash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellCommand {
    /// `\d [TABLE]`
    Describe(Option<String>),
    /// A display setting: `\pset …`, `\x …`, and `\o FORMAT` (the format, as before `\pset`).
    Pset(Pset),
    /// `\o FILE`, or `\o` alone (`None`): where results go.
    Output(Option<PathBuf>),
    /// `\i FILE`
    Include(PathBuf),
    /// `\timing [on|off]`; `None` toggles.
    Timing(Option<bool>),
    /// `\regions LIST`, or `\regions` alone (`None`): show them.
    Regions(Option<String>),
    /// `\conninfo`
    ConnInfo,
    /// `\g`: the last statement again.
    Again,
    /// `\e`: the last statement, edited.
    Edit,
    /// `\! [COMMAND]`
    System(Option<String>),
    /// `\profile NAME`
    Profile(String),
    /// `\?`
    Help,
    /// `\q`
    Quit,
}

/// Parses a line starting with `\`.
pub fn parse_command(line: &str) -> Result<ShellCommand> {
    // A shell command is the user's text to the end of the line, `;` included.
    if let Some(command) = line.trim().strip_prefix("\\!")
        && (command.is_empty() || command.starts_with(char::is_whitespace))
    {
        let command = command.trim();
        return Ok(ShellCommand::System(
            (!command.is_empty()).then(|| command.to_string()),
        ));
    }
    let line = line.trim().trim_end_matches(';').trim();
    let (name, arg) = match line.split_once(char::is_whitespace) {
        Some((n, a)) => (n, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let usage = |name: &str| {
        let c = COMMANDS
            .iter()
            .find(|c| c.name == name)
            .expect("a documented command");
        let help: Vec<&str> = c.help.lines().map(str::trim).collect();
        Error::Usage(format!("usage: {} {} ({})", c.name, c.args, help.join(" ")))
    };
    match (name, arg) {
        ("\\d", table) => Ok(ShellCommand::Describe(table.map(str::to_string))),
        ("\\dt", None) => Ok(ShellCommand::Describe(None)),
        ("\\dt", Some(_)) => Err(usage("\\dt")),
        ("\\x", None) => Ok(ShellCommand::Pset(Pset::Expanded(None))),
        ("\\x", Some(v)) => Expanded::parse(v)
            .map(|e| ShellCommand::Pset(Pset::Expanded(Some(e))))
            .ok_or_else(|| usage("\\x")),
        ("\\pset", args) => Pset::parse(args)
            .map(ShellCommand::Pset)
            .ok_or_else(|| usage("\\pset")),
        ("\\o", None) => Ok(ShellCommand::Output(None)),
        // A bare format name keeps its meaning from before `\pset` (`\o csv`); a file of that
        // name is `\o ./csv`.
        ("\\o", Some(arg)) => match parse_format(arg) {
            Some(format) => Ok(ShellCommand::Pset(Pset::Format(Some(format)))),
            None if arg.starts_with('|') => Err(Error::Usage(format!(
                "\\o {arg}: piping results to a command is not supported; {}",
                usage("\\o")
            ))),
            None => Ok(ShellCommand::Output(Some(PathBuf::from(unquote(arg))))),
        },
        ("\\i", Some(file)) => Ok(ShellCommand::Include(PathBuf::from(unquote(file)))),
        ("\\i", None) => Err(usage("\\i")),
        ("\\timing", Some(v)) if v.eq_ignore_ascii_case("on") => {
            Ok(ShellCommand::Timing(Some(true)))
        }
        ("\\timing", Some(v)) if v.eq_ignore_ascii_case("off") => {
            Ok(ShellCommand::Timing(Some(false)))
        }
        ("\\timing", None) => Ok(ShellCommand::Timing(None)),
        ("\\timing", _) => Err(usage("\\timing")),
        ("\\regions", list) => Ok(ShellCommand::Regions(list.map(str::to_string))),
        ("\\conninfo", _) => Ok(ShellCommand::ConnInfo),
        ("\\g", None) => Ok(ShellCommand::Again),
        ("\\g", Some(_)) => Err(Error::Usage(
            "\\g FILE is not supported: \\g runs the last statement again (\\o FILE sends results \
             to a file)"
                .into(),
        )),
        ("\\e", None) => Ok(ShellCommand::Edit),
        ("\\e", Some(_)) => Err(usage("\\e")),
        ("\\profile", Some(p)) => Ok(ShellCommand::Profile(p.to_string())),
        ("\\profile", None) => Err(usage("\\profile")),
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
        for (i, line) in c.help.lines().enumerate() {
            let left = if i == 0 { left.as_str() } else { "" };
            text.push_str(&format!("  {left:<24} {line}\n"));
        }
    }
    text.push_str("Meta statements (also in `skyql exec`):\n");
    for m in META_SYNTAX {
        text.push_str(&format!("  {m}\n"));
    }
    text.push_str(
        "SQL statements end with `;` and may span lines. Tab completes; Ctrl-C cancels a\n\
         running query or clears the statement; Ctrl-D quits.\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::pager::PagerMode;
    use crate::cli::print::OutputFormat;

    #[test]
    fn parses_commands() {
        assert_eq!(parse_command("\\d").unwrap(), ShellCommand::Describe(None));
        assert_eq!(
            parse_command("\\d aws.ecr.pull_through_cache_rules").unwrap(),
            ShellCommand::Describe(Some("aws.ecr.pull_through_cache_rules".into()))
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
            ShellCommand::Regions(Some("all".into()))
        );
        assert_eq!(
            parse_command("\\regions").unwrap(),
            ShellCommand::Regions(None)
        );
        assert_eq!(parse_command("\\dt").unwrap(), ShellCommand::Describe(None));
        assert_eq!(parse_command("\\conninfo").unwrap(), ShellCommand::ConnInfo);
        assert_eq!(parse_command("\\g").unwrap(), ShellCommand::Again);
        assert_eq!(parse_command("\\e").unwrap(), ShellCommand::Edit);
        // A shell command is taken to the end of the line, its `;` too.
        assert_eq!(
            parse_command("\\! echo a; echo b;").unwrap(),
            ShellCommand::System(Some("echo a; echo b;".into()))
        );
        assert_eq!(parse_command("\\!").unwrap(), ShellCommand::System(None));
        assert_eq!(
            parse_command("\\profile prod").unwrap(),
            ShellCommand::Profile("prod".into())
        );
        assert_eq!(parse_command("\\?").unwrap(), ShellCommand::Help);
        assert_eq!(parse_command("\\q").unwrap(), ShellCommand::Quit);
    }

    #[test]
    fn parses_psqls_display_and_file_commands() {
        assert_eq!(
            parse_command("\\x").unwrap(),
            ShellCommand::Pset(Pset::Expanded(None))
        );
        assert_eq!(
            parse_command("\\x auto").unwrap(),
            ShellCommand::Pset(Pset::Expanded(Some(Expanded::Auto)))
        );
        assert_eq!(
            parse_command("\\pset null '(null)'").unwrap(),
            ShellCommand::Pset(Pset::Null(Some("(null)".into())))
        );
        assert_eq!(
            parse_command("\\pset pager off").unwrap(),
            ShellCommand::Pset(Pset::Pager(Some(PagerMode::Off)))
        );
        assert_eq!(
            parse_command("\\pset format csv").unwrap(),
            ShellCommand::Pset(Pset::Format(Some(OutputFormat::Csv)))
        );
        // `\o FORMAT` sets the format, as it did before `\pset`; anything else is a file.
        assert_eq!(
            parse_command("\\o CSV").unwrap(),
            ShellCommand::Pset(Pset::Format(Some(OutputFormat::Csv)))
        );
        assert_eq!(
            parse_command("\\o out.txt").unwrap(),
            ShellCommand::Output(Some("out.txt".into()))
        );
        assert_eq!(
            parse_command("\\o './csv'").unwrap(),
            ShellCommand::Output(Some("./csv".into()))
        );
        assert_eq!(parse_command("\\o").unwrap(), ShellCommand::Output(None));
        assert_eq!(
            parse_command("\\i setup.sql").unwrap(),
            ShellCommand::Include("setup.sql".into())
        );
    }

    #[test]
    fn errors_say_what_is_accepted() {
        assert!(
            parse_command("\\pset format xml")
                .unwrap_err()
                .to_string()
                .contains("format table|csv|json|ndjson")
        );
        assert!(
            parse_command("\\x maybe")
                .unwrap_err()
                .to_string()
                .contains("on|off|auto")
        );
        assert!(
            parse_command("\\timing maybe")
                .unwrap_err()
                .to_string()
                .contains("on|off")
        );
        assert!(
            parse_command("\\i")
                .unwrap_err()
                .to_string()
                .contains("FILE")
        );
        assert!(
            parse_command("\\o |less")
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );
        let unknown = parse_command("\\zz").unwrap_err().to_string();
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
        for new in ["\\x [on|off|auto]", "\\pset", "\\o [FILE]", "\\i FILE"] {
            assert!(help.contains(new), "{help}");
        }
        assert!(help.contains("SHOW METHODS IN"));
        // It fits an 80-column terminal.
        assert!(help.lines().all(|l| l.chars().count() <= 80), "{help}");
    }
}
