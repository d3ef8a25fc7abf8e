//! `skyql exec`: the statement loop of scripts. Parses everything first, runs statements in
//! order, prints each result to stdout (or --outfile), and reports failed regions on stderr.

use std::io::{BufWriter, ErrorKind, IsTerminal, Read};
use std::path::Path;

use super::args::{ExecArgs, GlobalArgs};
use super::headers::Headers;
use super::meta::{self, MetaAnswer};
use super::outfile::Output;
use super::print::{OutputFormat, write_batches, write_batches_continued};
use super::progress;
use super::session_setup;
use super::statements::split_statements;
use crate::error::{Error, Result};
use crate::session::{PlannedStatement, QueryResult};
use crate::sql::parse::{ParsedStatement, is_self_contained, parse_script};
use crate::staged_file::StagedFile;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

/// Exit code when some regions failed and the others' rows were printed.
pub const EXIT_PARTIAL: i32 = 3;
/// Exit code when SIGINT or SIGTERM stopped the run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// How the statements of a script ended.
enum Ran {
    /// All ran; this many region calls failed.
    Done(usize),
    /// The reader of stdout went away (`| head`): stop quietly.
    ReaderGone,
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM; answers which.
pub async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

/// Reads the script from the argument, `-f FILE` or `-f -` (stdin). A script that cannot be
/// read is the user's to fix, and nothing was sent: exit 2, naming the file.
pub fn read_script(args: &ExecArgs) -> Result<String> {
    let unreadable = |what: &str, e: std::io::Error| {
        let why = match e.kind() {
            ErrorKind::NotFound => "it does not exist".to_string(),
            ErrorKind::IsADirectory => "it is a directory".to_string(),
            ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
            ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Error::Usage(format!("cannot read {what}: {why}"))
    };
    match (&args.sql, &args.file) {
        (Some(sql), _) => Ok(sql.clone()),
        (None, Some(path)) if path == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| unreadable("SQL from stdin", e))?;
            Ok(text)
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| unreadable(&format!("SQL file {}", path.display()), e)),
        (None, None) => Err(Error::Usage(
            "no SQL given: skyql exec \"SELECT …\", or -f FILE, or -f - for stdin".into(),
        )),
    }
}

/// Runs a script; answers the exit code (0, or 3 for partial results).
pub async fn run(global: &GlobalArgs, args: &ExecArgs) -> Result<i32> {
    let script = read_script(args)?;
    run_script(global, &script).await
}

/// `skyql < script.sql`: runs piped stdin as a script. Stdin with no statement at all
/// (`< /dev/null`) is nothing to do, as psql has it: exit 0 (`skyql exec` with an empty script
/// is refused, since a command that names SQL and gives none is a mistake).
pub async fn run_piped(global: &GlobalArgs) -> Result<i32> {
    let script = read_script(&ExecArgs {
        sql: None,
        file: Some("-".into()),
    })?;
    if split_statements(&script).is_empty() {
        return Ok(0);
    }
    run_script(global, &script).await
}

/// Runs the statements of `script` with the global flags.
///
/// A script of self-contained statements is planned whole before anything runs, so a bad
/// statement anywhere fails it before any call (exit 2). Statements that change the session
/// (CREATE VIEW, SET, …) make later ones plannable only in order; then a planning error after
/// earlier statements ran is reported as a runtime error (exit 1), since calls were made.
pub async fn run_script(global: &GlobalArgs, script: &str) -> Result<i32> {
    let items = parse_items(script)?;
    if items.is_empty() {
        return Err(Error::Usage("the script holds no SQL statement".into()));
    }
    let open = session_setup::open(global).await?;
    let session = &open.session;
    let mut steps = Vec::with_capacity(items.len());
    let self_contained = items.iter().all(|item| match item {
        Item::Meta(_) => true,
        Item::Sql(p) => is_self_contained(&p.statement),
    });
    for item in items {
        steps.push(match item {
            Item::Meta(answer) => Step::Meta(answer),
            Item::Sql(statement) if self_contained => {
                let headers = Headers::of(&statement);
                Step::Planned(session.plan(*statement).await?, headers)
            }
            Item::Sql(statement) => Step::Unplanned(statement),
        });
    }
    // csv is one table: results with other columns than the first are refused up front.
    let mut table = OneTable::new(global.output);
    for step in &steps {
        let schema = match step {
            Step::Meta(answer) => answer.schema.clone(),
            Step::Planned(p, headers) => headers.schema(&p.schema()),
            Step::Unplanned(_) => continue,
        };
        if !schema.fields().is_empty() {
            table
                .next(&schema)
                .map_err(|m| Error::Usage(format!("{m}; nothing was sent")))?;
        }
    }
    let mut table = OneTable::new(global.output);
    // Then every DML statement's rows are checked, so a bad row in the last statement stops
    // the script before the first one changes anything.
    if steps.len() > 1 {
        for step in &steps {
            if let Step::Planned(p, _) = step {
                session.check(p).await?;
            }
        }
    }
    // An --outfile is written beside its target and renamed over it only when the script
    // ends without error, so a failed run leaves an existing file as it was.
    let mut out = match &global.outfile {
        Some(path) => Output::File(StagedFile::create(path)?),
        None => Output::Stdout(BufWriter::new(std::io::stdout().lock())),
    };
    let applied = session.applied_calls();
    let run_steps = async {
        let mut failed_regions = 0;
        for (i, step) in steps.into_iter().enumerate() {
            let (planned, headers) = match step {
                Step::Meta(answer) => {
                    match write_result(&mut out, &mut table, &answer.schema, &answer.batches) {
                        Err(Error::Io { source, .. }) if source.kind() == ErrorKind::BrokenPipe => {
                            return Ok(Ran::ReaderGone);
                        }
                        other => other?,
                    }
                    continue;
                }
                Step::Planned(p, headers) => (p, headers),
                Step::Unplanned(statement) => {
                    let headers = Headers::of(&statement);
                    match session.plan(*statement).await {
                        Ok(p) => (p, headers),
                        Err(e) if i > 0 && e.exit_code() == 2 => {
                            return Err(Error::Runtime(format!(
                                "statement {}: {e}\n  (statements 1 to {i} had already run)",
                                i + 1
                            )));
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            let line = progress::start(session.progress());
            let result = session.run(planned).await;
            drop(line);
            let result = result?;
            report(&result, i + 1, "--regions all")?;
            failed_regions += result.failures.len();
            // Statements without result columns (CREATE VIEW, SET) print nothing, keeping exports clean.
            if result.schema.fields().is_empty() {
                continue;
            }
            // psql's headers (`?column?`, `count`), in every format.
            let (schema, batches) = headers
                .rename(&result.schema, result.batches)
                .map_err(|e| Error::Runtime(format!("cannot name the columns: {e}")))?;
            match write_result(&mut out, &mut table, &schema, &batches) {
                Err(Error::Io { source, .. }) if source.kind() == ErrorKind::BrokenPipe => {
                    return Ok(Ran::ReaderGone);
                }
                other => other?,
            }
        }
        Ok::<_, Error>(Ran::Done(failed_regions))
    };
    let failed_regions = tokio::select! {
        result = run_steps => match result? {
            Ran::Done(n) => n,
            Ran::ReaderGone => return Ok(0),
        },
        signal = interrupted() => {
            // The statement's future is dropped: no further call is made.
            eprintln!("skyql: interrupted by {signal}");
            for line in applied.interruption_report() {
                eprintln!("skyql: {line}");
            }
            return Ok(EXIT_INTERRUPTED);
        }
    };
    out.finish()?;
    if failed_regions > 0 {
        eprintln!(
            "skyql: results are partial: {failed_regions} region call(s) failed and their rows are missing \
             (exit {EXIT_PARTIAL}; --strict fails instead)"
        );
        return Ok(EXIT_PARTIAL);
    }
    Ok(0)
}

/// The results printed so far, for formats whose output is one table (csv): a result with the
/// columns of the first continues it (no second header), one with other columns is refused,
/// since no CSV reader could tell where one table ends.
struct OneTable {
    format: OutputFormat,
    columns: Option<Vec<String>>,
}

impl OneTable {
    fn new(format: OutputFormat) -> Self {
        Self {
            format,
            columns: None,
        }
    }

    /// Takes the next result's schema; answers whether it continues the table printed so far.
    fn next(&mut self, schema: &SchemaRef) -> std::result::Result<bool, String> {
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        match &self.columns {
            None => {
                self.columns = Some(names);
                Ok(false)
            }
            Some(first) if self.format.one_table() && *first == names => Ok(true),
            Some(first) if self.format.one_table() => Err(format!(
                "-o {} prints one table, and this script's results have other columns ({}) than \
                 its first ({}): use -o ndjson (one JSON object per row, any statements), -o json \
                 (one array per result, one per line), one statement per run, or \
                 COPY (SELECT …) TO 'file.csv' per result",
                self.format.name(),
                names.join(", "),
                first.join(", ")
            )),
            Some(_) => Ok(false),
        }
    }
}

/// Prints one result set, continuing the csv table when it has the same columns.
fn write_result(
    out: &mut Output<'_>,
    table: &mut OneTable,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    let continued = table
        .next(schema)
        .map_err(|m| Error::Runtime(format!("{m} (the statements before it ran)")))?;
    if continued {
        write_batches_continued(out, table.format, schema, batches)
    } else {
        write_batches(out, table.format, schema, batches)
    }
}

/// Prints what a result reports besides rows on stderr: notes, the regions searched (on a
/// terminal, with `widen`, how to search every region), then failed regions.
///
/// When every region the statement called failed there is no result at all (an empty CSV
/// would pass for "no rules"), so statement `number` fails.
pub fn report(result: &QueryResult, number: usize, widen: &str) -> Result<()> {
    for note in &result.notes {
        eprintln!("skyql: {note}");
    }
    // A person reading a terminal may not know which regions the session has; a script's
    // log gets only what it asked for.
    if !result.searched.is_empty() && std::io::stderr().is_terminal() {
        eprintln!(
            "skyql: searched {}; {widen} for every region",
            result.searched.join(", ")
        );
    }
    for failure in &result.failures {
        eprintln!("skyql: warning: {failure}");
    }
    if result.all_regions_failed() {
        let regions: Vec<&str> = result.failures.iter().map(|f| f.region.as_str()).collect();
        return Err(Error::Runtime(format!(
            "statement {number}: every region called failed ({}); there is no result",
            regions.join(", ")
        )));
    }
    Ok(())
}

/// A statement of a script: a meta statement (answered already) or SQL for DataFusion.
pub enum Item {
    /// SHOW …, DESCRIBE aws.…: answered from provider-schemas.
    Meta(MetaAnswer),
    /// Everything else.
    Sql(Box<ParsedStatement>),
}

/// Parses a whole script (before anything runs). Meta statements are routed here, in one
/// place for exec and the shell; a script without any keeps sqlparser's own splitting, so
/// syntax errors keep their line numbers in the script.
pub fn parse_items(script: &str) -> Result<Vec<Item>> {
    let pieces = split_statements(script);
    if !pieces.iter().any(|p| meta::parse_meta(p).is_some()) {
        return Ok(parse_script(script)?
            .into_iter()
            .map(|p| Item::Sql(Box::new(p)))
            .collect());
    }
    let mut items = Vec::new();
    for piece in pieces {
        match meta::run_meta(&piece) {
            Some(answer) => items.push(Item::Meta(answer?)),
            None => items.extend(
                parse_script(&piece)?
                    .into_iter()
                    .map(|p| Item::Sql(Box::new(p))),
            ),
        }
    }
    Ok(items)
}

/// A statement of a script, planned ahead or not.
enum Step {
    Meta(MetaAnswer),
    /// Planned, with the headers its statement gives its result.
    Planned(PlannedStatement, Headers),
    Unplanned(Box<ParsedStatement>),
}
