//! `skyql shell`: the interactive loop. Reads statements with rustyline (history, completion,
//! multi-line until `;` with psql's continuation prompt), runs them with Ctrl-C cancelling, and
//! never exits on an error.

use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use super::args::{GlobalArgs, ShellArgs};
use super::exec::{Item, parse_items, report};
use super::headers::Headers;
use super::meta::{MetaStatement, answer, parse_meta};
use super::pager::{LongLines, Screen};
use super::print::write_batches_laid_out;
use super::progress;
use super::pset::Settings;
use super::session_setup::{self, OpenSession};
use super::shell_commands::{ShellCommand, help_text, parse_command};
use super::shell_external::{edit, run_command};
use super::shell_helper::{PROMPT, ShellHelper, typed};
use super::shell_input::QueryBuffer;
use super::shell_output::ResultsTo;
use super::statements::{shell_word, split_statements};
use crate::aws::settings::parse_regions;
use crate::error::{Error, Result};
use crate::sandbox::Sandbox;
use crate::schema::schemas;
use crate::session::{QueryResult, Session};
use crate::sql::parse::ParsedStatement;
use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

/// How deep `\i` files may include one another (a file that includes itself stops here).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Runs the shell until `\q` or Ctrl-D; answers the exit code (0).
pub async fn run(global: &GlobalArgs, args: &ShellArgs) -> Result<i32> {
    let OpenSession { session, sandbox } = session_setup::open(global).await?;
    // `--outfile` is where results go from the start, as psql's `-o FILE` is its `\o FILE`.
    let results_to = match &global.outfile {
        Some(path) => ResultsTo::file(path)?,
        None => ResultsTo::Stdout,
    };
    let mut shell = Shell {
        global: global.clone(),
        session,
        sandbox,
        settings: Settings::new(global.output),
        results_to,
        timing: false,
        depth: 0,
        last: None,
        edited: None,
    };
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|e| Error::Runtime(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ShellHelper::default()));
    ShellHelper::bind_enter(&mut editor);
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
        // One statement, however many lines: the editor continues it at Enter until its `;`.
        let input = match editor.readline(PROMPT) {
            // What runs, and what history keeps, is exactly what was typed.
            Ok(input) => typed(&input),
            // Ctrl-C at the prompt clears the statement typed so far.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Runtime(format!("cannot read input: {e}"))),
        };
        // Blanks and comments alone run nothing.
        if split_statements(&input).is_empty() {
            continue;
        }
        // History is best effort: the shell goes on without it.
        let _ = editor.add_history_entry(input.as_str());
        if let Some(path) = &history
            && let Err(e) = save_history(&mut editor, path)
        {
            eprintln!("skyql: warning: {e}");
        }
        let flow = shell.input(&input).await;
        // A statement `\e` ran is remembered as the editor left it.
        if let Some(edited) = shell.edited.take() {
            let _ = editor.add_history_entry(edited.as_str());
            if let Some(path) = &history
                && let Err(e) = save_history(&mut editor, path)
            {
                eprintln!("skyql: warning: {e}");
            }
        }
        match flow {
            Ok(Flow::Continue | Flow::Cancelled) => {}
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
    /// Ctrl-C stopped a statement: a `\i` file stops there too.
    Cancelled,
    Quit,
}

/// `table` as `\d` looks it up: a bare name is a provider table's when one has it
/// (`pull_through_cache_rules` → `aws.ecr.pull_through_cache_rules`), else a local table's.
fn qualified(table: &str) -> String {
    let s = schemas();
    if table.contains('.') {
        return table.to_string();
    }
    s.provider
        .services
        .iter()
        .find(|service| {
            s.resource(&service.name, &table.to_ascii_lowercase())
                .is_some()
        })
        .map_or_else(
            || table.to_string(),
            |service| {
                format!(
                    "{}.{}.{}",
                    s.provider.name,
                    service.name,
                    table.to_ascii_lowercase()
                )
            },
        )
}

/// The size of the terminal stdout is, as rows and columns; `None` when it is not one.
fn screen() -> Screen {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    console::Term::stdout()
        .size_checked()
        .map(|(rows, columns)| (usize::from(rows), usize::from(columns)))
        .filter(|(rows, columns)| *rows > 0 && *columns > 0)
}

/// The shell's state between inputs.
struct Shell {
    global: GlobalArgs,
    session: Session,
    /// The `--sandbox` endpoint, kept across `\regions` and `\profile`.
    sandbox: Option<Sandbox>,
    /// psql's display settings (`\pset`, `\x`).
    settings: Settings,
    /// `\o`: where results go.
    results_to: ResultsTo,
    timing: bool,
    /// How many `\i` files are being read, one inside the other.
    depth: usize,
    /// The statements last run (for `\g` and `\e`).
    last: Option<String>,
    /// A statement `\e` ran, for the history (which keeps what ran, not `\e`).
    edited: Option<String>,
}

impl Shell {
    /// Runs one input: a backslash command, or statements.
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
        self.last = Some(input.to_string());
        let applied = self.session.applied_calls();
        applied.clear();
        tokio::select! {
            result = self.statements(input) => result.map(|()| Flow::Continue),
            () = cancel => {
                eprintln!("skyql: cancelled");
                for line in applied.interruption_report() {
                    eprintln!("skyql: {line}");
                }
                Ok(Flow::Cancelled)
            }
        }
    }

    async fn statements(&mut self, input: &str) -> Result<()> {
        for (i, item) in parse_items(input)?.into_iter().enumerate() {
            let started = Instant::now();
            let (schema, batches) = match item {
                Item::Meta(answer) => (answer.schema, answer.batches),
                Item::Sql(statement) => {
                    // psql's headers (`?column?`, `count`) are read from the statement itself.
                    let headers = Headers::of(&statement);
                    let line = progress::start(self.session.progress());
                    let result = self.session.execute((*statement).clone()).await;
                    drop(line);
                    let result = match result {
                        // In the shell, a bulk statement is shown and confirmed instead of refused.
                        Err(Error::BulkRefused(_)) => match self.confirm_bulk(*statement).await? {
                            Some(result) => result,
                            None => continue,
                        },
                        other => other?,
                    };
                    report(&result, i + 1, "\\regions all")?;
                    headers
                        .rename(&result.schema, result.batches)
                        .map_err(|e| Error::Runtime(format!("cannot name the columns: {e}")))?
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
        report(&preview, 1, "\\regions all")?;
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

    /// Shows a result as the settings say: to the `\o` file, or on stdout (through the pager
    /// when it does not fit the terminal).
    fn print(&mut self, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<()> {
        let screen = match self.results_to {
            ResultsTo::Stdout => screen(),
            // A file gets tables as wide as their values, as exec writes them.
            ResultsTo::File { .. } => None,
        };
        let mut text = Vec::new();
        let layout = self.settings.layout(screen.map(|(_, columns)| columns));
        let aligned =
            write_batches_laid_out(&mut text, self.settings.format, schema, batches, &layout)?;
        if self.results_to.write_to_file(&text)? {
            return Ok(());
        }
        // An aligned table's lines scroll sideways; every other line is one value, seen whole.
        let lines = match aligned {
            true => LongLines::Chop,
            false => LongLines::Wrap,
        };
        self.settings
            .pager
            .show(&text, screen, lines)
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
                let statement = format!("DESCRIBE {}", qualified(&table));
                match parse_meta(&statement) {
                    Some(meta) => {
                        let described = answer(&meta?)?;
                        self.print(&described.schema, &described.batches)?;
                    }
                    // Views and other DataFusion tables.
                    None => self.statements(&format!("{statement};")).await?,
                }
            }
            ShellCommand::Pset(pset) => eprintln!("{}", self.settings.apply(pset)),
            ShellCommand::Output(path) => {
                self.results_to = match path {
                    Some(path) => ResultsTo::file(&path)?,
                    None => ResultsTo::Stdout,
                };
                eprintln!("Results go to {}.", self.results_to.describe());
            }
            ShellCommand::Include(path) => return self.include(&path).await,
            ShellCommand::Timing(on) => {
                // Without on/off, `\timing` toggles, as in psql.
                self.timing = on.unwrap_or(!self.timing);
                let on = self.timing;
                eprintln!("Timing is {}.", if on { "on" } else { "off" });
            }
            ShellCommand::Regions(None) => match self.session.default_regions() {
                Ok(regions) => eprintln!("Regions: {}.", regions.join(", ")),
                Err(why) => eprintln!("No regions: {why}"),
            },
            ShellCommand::Regions(Some(list)) => {
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
            // Help is no result: the terminal (and its pager), never the `\o` file.
            ShellCommand::Help => self
                .settings
                .pager
                .show(help_text().as_bytes(), screen(), LongLines::Wrap)
                .map_err(|e| Error::io("cannot write the help", e))?,
            ShellCommand::ConnInfo => eprintln!("{}", self.conninfo()),
            ShellCommand::Again => {
                let Some(last) = self.last.clone() else {
                    return Err(Error::Usage("\\g: no statement has run yet".into()));
                };
                return Box::pin(self.input(&last)).await;
            }
            ShellCommand::Edit => {
                let edited = edit(self.last.as_deref().unwrap_or_default())?;
                if split_statements(&edited).is_empty() {
                    eprintln!("skyql: the editor left no statement; nothing was run");
                    return Ok(Flow::Continue);
                }
                // What the editor left runs as typed, and is remembered as typed.
                let edited = edited.trim_end().to_string();
                eprintln!("{edited}");
                self.edited = Some(edited.clone());
                return Box::pin(self.input(&edited)).await;
            }
            ShellCommand::System(command) => run_command(command.as_deref())?,
            ShellCommand::Quit => return Ok(Flow::Quit),
        }
        Ok(Flow::Continue)
    }

    /// `\i FILE`: its lines as if typed, statement by statement. An error is reported with the
    /// file and line and the next statement runs; Ctrl-C stops the file, `\q` the shell.
    async fn include(&mut self, path: &Path) -> Result<Flow> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(Error::Usage(format!(
                "\\i {}: files include one another more than {MAX_INCLUDE_DEPTH} deep",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        self.depth += 1;
        let mut buffer = QueryBuffer::default();
        let mut first_line = 1;
        let mut flow = Flow::Continue;
        for (i, line) in text.lines().enumerate() {
            if buffer.is_empty() {
                first_line = i + 1;
            }
            if let Some(input) = buffer.push(line) {
                flow = self.included(path, first_line, &input).await;
                if !matches!(flow, Flow::Continue) {
                    break;
                }
            }
        }
        if matches!(flow, Flow::Continue)
            && let Some(input) = buffer.finish()
        {
            flow = self.included(path, first_line, &input).await;
        }
        self.depth -= 1;
        Ok(flow)
    }

    /// Runs one input of a `\i` file; an error is reported, naming where it is, and the file
    /// goes on.
    async fn included(&mut self, path: &Path, line: usize, input: &str) -> Flow {
        // Boxed: an input may itself be `\i`.
        match Box::pin(self.input(input)).await {
            Ok(flow) => flow,
            Err(e) => {
                eprintln!("skyql: error: {}:{line}: {}", path.display(), e.bounded());
                Flow::Continue
            }
        }
    }

    /// Opens a session with new flags; on failure the old one stays.
    /// `\conninfo`: what the session reaches, as psql says which server it is connected to.
    fn conninfo(&self) -> String {
        let regions = match self.session.default_regions() {
            Ok(regions) => regions.join(", "),
            Err(why) => format!("none ({why})"),
        };
        let (target, credentials) = match &self.sandbox {
            Some(sandbox) => (
                format!(
                    "the in-process sandbox at {} (demo data, no AWS account)",
                    sandbox.endpoint()
                ),
                "the sandbox's own keys".to_string(),
            ),
            None => {
                let endpoint = ["AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"]
                    .iter()
                    .find_map(|v| {
                        std::env::var(v)
                            .ok()
                            .filter(|e| !e.is_empty())
                            .map(|e| (v, e))
                    });
                let target = match endpoint {
                    Some((var, url)) => format!("the endpoint {url} (from {var})"),
                    None => "AWS (each region's own ECR endpoint)".to_string(),
                };
                let profile = match (&self.global.profile, std::env::var("AWS_PROFILE")) {
                    (Some(p), _) => format!("profile {p} (--profile)"),
                    (None, Ok(p)) if !p.is_empty() => format!("profile {p} (AWS_PROFILE)"),
                    _ => "the default credential chain".to_string(),
                };
                (target, profile)
            }
        };
        format!(
            "Connected to {target}.\nCredentials: {credentials}.\nRegions: {regions}.{}",
            match (self.global.dry_run, self.global.allow_bulk) {
                (true, _) => "\nDry run: DML makes no mutating call.",
                (false, true) => "\nBulk writes allowed (--allow-bulk).",
                _ => "",
            }
        )
    }

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
