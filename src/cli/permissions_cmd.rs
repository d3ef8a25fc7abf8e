//! `skyql permissions`: the one least-privilege IAM policy a script needs, derived from the plan
//! of each statement (no AWS call is made).

use std::collections::BTreeSet;
use std::io::Write;

use super::args::{ExecArgs, GlobalArgs};
use super::exec::{Item, parse_items, read_script};
use super::session_setup;
use crate::error::{Error, Result};
use crate::iam::permissions::{ANY_REGION, Need, policy_document};
use crate::sql::parse::is_self_contained;

/// Prints the policy document on stdout (or --outfile) and a summary on stderr.
pub async fn run(global: &GlobalArgs, args: &ExecArgs) -> Result<i32> {
    let script = read_script(args)?;
    let items = parse_items(&script)?;
    let open = session_setup::open(global).await?;
    let session = &open.session;
    let mut needs = Vec::new();
    let mut analysed = 0;
    for (i, item) in items.into_iter().enumerate() {
        let Item::Sql(statement) = item else {
            continue;
        };
        if !is_self_contained(&statement.statement) {
            eprintln!(
                "skyql: statement {} changes the session (CREATE, SET, …) and needs no AWS permission; \
                 statements that rely on it cannot be analysed",
                i + 1
            );
            continue;
        }
        let statement_needs = session.needs(*statement).await.map_err(|e| match e {
            Error::Usage(m) => Error::Usage(format!("statement {}: {m}", i + 1)),
            Error::Sql(m) => Error::Sql(format!("statement {}: {m}", i + 1)),
            other => other,
        })?;
        if let Some(note) = unknown_regions(i + 1, &statement_needs) {
            eprintln!("{note}");
        }
        needs.extend(statement_needs);
        analysed += 1;
    }
    if analysed == 0 {
        return Err(Error::Usage(
            "the script holds no SQL statement to analyse".into(),
        ));
    }
    let document = policy_document(&needs);
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| Error::Runtime(format!("cannot render the policy: {e}")))?;
    match &global.outfile {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}").map_err(|e| Error::io("cannot write to stdout", e))?;
        }
    }
    let actions: BTreeSet<&str> = needs.iter().map(|n| n.action.as_str()).collect();
    eprintln!(
        "skyql: {analysed} statement(s) need {} action(s) in {} policy statement(s); \
         EXPLAIN PERMISSIONS <statement> says why each is needed",
        actions.len(),
        document.statements.len()
    );
    Ok(0)
}

/// The warning for a statement whose regions are known only when it runs (an INSERT or MERGE
/// whose rows are read from AWS): its actions cannot be narrowed to regions.
fn unknown_regions(statement: usize, needs: &[Need]) -> Option<String> {
    let actions: BTreeSet<&str> = (needs.iter())
        .filter(|n| n.regions.contains(ANY_REGION))
        .map(|n| n.action.as_str())
        .collect();
    (!actions.is_empty()).then(|| {
        format!(
            "skyql: statement {statement} reads the rows that name its regions from AWS, so they \
             are known only when it runs: the policy allows {} in every region",
            actions.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}
