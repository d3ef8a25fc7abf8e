//! The shell's programs of the user's own, as psql runs them: `\e` edits a statement in
//! `$VISUAL`/`$EDITOR`, `\!` runs a command (or an interactive shell) on the terminal.

use std::io::Write;
use std::process::Command;

use crate::error::{Error, Result};

/// The editor psql would start: `$VISUAL`, else `$EDITOR`, else `vi`.
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// Opens `text` in the user's editor on the terminal and answers what the file holds when the
/// editor exits. An editor that fails (or is quit with an error) changes nothing.
pub fn edit(text: &str) -> Result<String> {
    let mut file = tempfile::Builder::new()
        .prefix("skyql-edit-")
        .suffix(".sql")
        .tempfile()
        .map_err(|e| Error::io("cannot create a file to edit the statement in", e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| Error::io("cannot write the statement to edit", e))?;
    let editor = editor();
    // Through `sh -c`, as psql does: EDITOR may hold arguments (`code --wait`).
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .map_err(|e| Error::Usage(format!("cannot start the editor `{editor}`: {e}")))?;
    if !status.success() {
        return Err(Error::Usage(format!(
            "the editor `{editor}` ended with {status}: nothing was run"
        )));
    }
    std::fs::read_to_string(file.path())
        .map_err(|e| Error::io("cannot read the edited statement", e))
}

/// `\! COMMAND`: runs COMMAND with `sh -c` on the terminal; alone, an interactive `$SHELL`.
/// Its exit status is said when it is not success, and never ends the shell.
pub fn run_command(command: Option<&str>) -> Result<()> {
    let mut child = match command {
        Some(command) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(command);
            c
        }
        None => Command::new(std::env::var("SHELL").unwrap_or_else(|_| "sh".to_string())),
    };
    let _ = std::io::stdout().flush();
    let status = child
        .status()
        .map_err(|e| Error::Usage(format!("cannot run the command: {e}")))?;
    if !status.success() {
        eprintln!("skyql: the command ended with {status}");
    }
    Ok(())
}
