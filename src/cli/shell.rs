//! `skyql shell`: the interactive loop. Reads statements with rustyline (history, completion,
//! multi-line until `;`), runs them with Ctrl-C cancelling, and never exits on an error.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use super::args::{GlobalArgs, ShellArgs};
use super::exec::{Item, parse_items, report};
use super::meta::{MetaStatement, answer, parse_meta};
use super::print::{OutputFormat, write_batches_fitted};
use super::progress;
use super::session_setup::{self, OpenSession};
use super::shell_commands::{ShellCommand, help_text, parse_command};
use super::shell_helper::ShellHelper;
use super::statements::shell_word;
use crate::aws::settings::parse_regions;
use crate::error::{Error, Result};
use crate::sandbox::Sandbox;
use crate::schema::schemas;
use crate::session::{QueryResult, Session};
use crate::sql::parse::ParsedStatement;
use datafusion::arrow::array::UInt64Array;

/// The prompt.
pub const PROMPT: &str = "skyql> ";

/// Runs the shell until `\q` or Ctrl-D; answers the exit code (0).
pub async fn run(global: &GlobalArgs, args: &ShellArgs) -> Result<i32> {
    let OpenSession { session, sandbox } = session_setup::open(global).await?;
    let mut shell = Shell {
        global: global.clone(),
        session,
        sandbox,
        format: global.output,
        timing: false,
    };
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|e| Error::Runtime(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ShellHelper));
    let history = history_path(args);
    if let Some(path) = &history {
        // A missing file is the first run; anything else is worth a word but not fatal.
        if let Err(e) = editor.load_history(path)
            && path.exists()
        {
            eprintln!(
                "skyql: warning: cannot read history {}: {e}",
                path.display()
            );
        }
    }
    eprintln!("skyql shell: end statements with `;`, \\? for help, \\q or Ctrl-D to quit.");
    loop {
        let input = match editor.readline(PROMPT) {
            Ok(input) => input,
            // Ctrl-C at the prompt clears the line.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Runtime(format!("cannot read input: {e}"))),
        };
        if input.trim().is_empty() {
            continue;
        }
        // History is best effort: the shell goes on without it.
        let _ = editor.add_history_entry(input.as_str());
        if let Some(path) = &history
            && let Err(e) = save_history(&mut editor, path)
        {
            eprintln!("skyql: warning: {e}");
        }
        match shell.input(&input).await {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => break,
            // The same message as exec mode, and the shell goes on.
            Err(e) => eprintln!("skyql: error: {}", e.bounded()),
        }
    }
    Ok(0)
}

/// Where the history lives: `--history-file`, else the user's data directory; none with
/// `--no-history`.
pub fn history_path(args: &ShellArgs) -> Option<PathBuf> {
    if args.no_history {
        return None;
    }
    if let Some(path) = &args.history_file {
        return Some(path.clone());
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("skyql").join("history"))
}

fn save_history(editor: &mut Editor<ShellHelper, DefaultHistory>, path: &PathBuf) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    editor
        .save_history(path)
        .map_err(|e| Error::Runtime(format!("cannot save history {}: {e}", path.display())))
}

/// What the loop does after an input.
enum Flow {
    Continue,
    Quit,
}

/// The shell's state between inputs.
struct Shell {
    global: GlobalArgs,
    session: Session,
    /// The `--sandbox` endpoint, kept across `\regions` and `\profile`.
    sandbox: Option<Sandbox>,
    format: OutputFormat,
    timing: bool,
}

impl Shell {
    async fn input(&mut self, input: &str) -> Result<Flow> {
        let trimmed = input.trim();
        if let Some(command) = shell_word(trimmed) {
            return self.command(parse_command(command)?).await;
        }
        if trimmed.starts_with('\\') {
            return self.command(parse_command(trimmed)?).await;
        }
        // The statement runs against Ctrl-C: dropping its future stops the in-flight calls.
        let cancel = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let applied = self.session.applied_calls();
        applied.clear();
        tokio::select! {
            result = self.statements(input) => result.map(|()| Flow::Continue),
            () = cancel => {
                eprintln!("skyql: cancelled");
                for line in applied.interruption_report() {
                    eprintln!("skyql: {line}");
                }
                Ok(Flow::Continue)
            }
        }
    }

    async fn statements(&self, input: &str) -> Result<()> {
        let session = &self.session;
        for (i, item) in parse_items(input)?.into_iter().enumerate() {
            let started = Instant::now();
            let (schema, batches) = match item {
                Item::Meta(answer) => (answer.schema, answer.batches),
                Item::Sql(statement) => {
                    let line = progress::start(session.progress());
                    let result = session.execute((*statement).clone()).await;
                    drop(line);
                    let result = match result {
                        // In the shell, a bulk statement is shown and confirmed instead of refused.
                        Err(Error::BulkRefused(_)) => match self.confirm_bulk(*statement).await? {
                            Some(result) => result,
                            None => continue,
                        },
                        other => other?,
                    };
                    report(&result, i + 1)?;
                    (result.schema, result.batches)
                }
            };
            if !schema.fields().is_empty() {
                self.print(&schema, &batches)?;
            }
            if self.timing {
                let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                let noun = if rows == 1 { "row" } else { "rows" };
                eprintln!("{rows} {noun} in {:.3} s", started.elapsed().as_secs_f64());
            }
        }
        Ok(())
    }

    /// A bulk UPDATE/DELETE/MERGE typed in the shell: show what it would do (a dry run: the
    /// matched rules and every call), then apply it only if the user says yes.
    async fn confirm_bulk(&self, statement: ParsedStatement) -> Result<Option<QueryResult>> {
        let (dry_run, allow_bulk) = (self.global.dry_run, self.global.allow_bulk);
        eprintln!("skyql: this statement does not pin identifiers; what it would do:");
        self.session.set_dml_mode(true, true);
        let preview = self.session.execute(statement.clone()).await;
        self.session.set_dml_mode(dry_run, allow_bulk);
        let preview = preview?;
        report(&preview, 1)?;
        let count = preview
            .batches
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<UInt64Array>()
                    .map(|c| c.value(0))
            })
            .unwrap_or(0);
        if count == 0 {
            eprintln!("skyql: nothing to change");
            return Ok(None);
        }
        eprint!("skyql: apply it to {count} rule(s)? [y/N] ");
        let _ = std::io::stderr().flush();
        let answer = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await
        .map_err(|e| Error::Runtime(e.to_string()))?
        .map_err(|e| Error::io("cannot read the answer", e))?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            eprintln!("skyql: not applied");
            return Ok(None);
        }
        self.session.set_dml_mode(dry_run, true);
        let applied = self.session.execute(statement).await;
        self.session.set_dml_mode(dry_run, allow_bulk);
        let applied = applied?;
        Ok(Some(applied))
    }

    fn print(
        &self,
        schema: &datafusion::arrow::datatypes::SchemaRef,
        batches: &[datafusion::arrow::record_batch::RecordBatch],
    ) -> Result<()> {
        if let Some(path) = &self.global.outfile {
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
            return write_batches_fitted(&mut file, self.format, schema, batches, None);
        }
        let stdout = std::io::stdout();
        let width = stdout
            .is_terminal()
            .then(|| {
                console::Term::stdout()
                    .size_checked()
                    .map(|(_, w)| w as usize)
            })
            .flatten()
            .filter(|w| *w >= 20);
        let mut out = stdout.lock();
        write_batches_fitted(&mut out, self.format, schema, batches, width)?;
        out.flush()
            .map_err(|e| Error::io("cannot write the results", e))
    }

    async fn command(&mut self, command: ShellCommand) -> Result<Flow> {
        match command {
            ShellCommand::Describe(None) => {
                let s = schemas();
                for service in &s.provider.services {
                    let listing = answer(&MetaStatement::ShowResources {
                        service: format!("{}.{}", s.provider.name, service.name),
                        like: None,
                    })?;
                    self.print(&listing.schema, &listing.batches)?;
                }
            }
            ShellCommand::Describe(Some(table)) => {
                let statement = format!("DESCRIBE {table}");
                match parse_meta(&statement) {
                    Some(meta) => {
                        let described = answer(&meta?)?;
                        self.print(&described.schema, &described.batches)?;
                    }
                    // Views and other DataFusion tables.
                    None => self.statements(&format!("{statement};")).await?,
                }
            }
            ShellCommand::Output(format) => {
                self.format = format;
                let name = format.to_possible_value().map(|v| v.get_name().to_string());
                eprintln!("Output format is {}.", name.unwrap_or_default());
            }
            ShellCommand::Timing(on) => {
                // Without on/off, `\timing` toggles, as in psql.
                self.timing = on.unwrap_or(!self.timing);
                let on = self.timing;
                eprintln!("Timing is {}.", if on { "on" } else { "off" });
            }
            ShellCommand::Regions(list) => {
                parse_regions(&list)?;
                let mut global = self.global.clone();
                global.regions = Some(list);
                self.reopen(global).await?;
            }
            ShellCommand::Profile(profile) => {
                let mut global = self.global.clone();
                global.profile = Some(profile);
                self.reopen(global).await?;
            }
            ShellCommand::Help => print!("{}", help_text()),
            ShellCommand::Quit => return Ok(Flow::Quit),
        }
        Ok(Flow::Continue)
    }

    /// Opens a session with new flags; on failure the old one stays.
    async fn reopen(&mut self, global: GlobalArgs) -> Result<()> {
        self.session = session_setup::reopen(&global, self.sandbox.as_ref()).await?;
        self.global = global;
        match self.session.default_regions() {
            Ok(regions) => eprintln!("Regions: {}.", regions.join(", ")),
            Err(why) => eprintln!("skyql: warning: {why}"),
        }
        Ok(())
    }
}
