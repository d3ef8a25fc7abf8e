//! README and the guide pages (docs/*.md) as written: every ```sql block and every
//! `skyql --sandbox …` line of a ```sh block runs against the demo data, and an output block
//! that follows a statement (```text for stdout, ```text stderr for stderr) is what it prints.

use crate::common;

use std::path::{Path, PathBuf};

use common::cli::{Output, Skyql};

/// The demo data's regions, which an SQL block is run over.
const DEMO_REGIONS: &str = "--regions=us-east-1,eu-west-1,ap-southeast-2";

/// One fenced block: its info string (`sql`, `text stderr`) and its text.
#[derive(Debug)]
struct Block {
    info: String,
    text: String,
    line: usize,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md page that is not generated (docs/resources holds those).
fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.insert(0, root().join("README.md"));
    pages
}

/// The fenced blocks of a markdown text, in order.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    text: String::new(),
                    line: n + 1,
                })
            }
            (Some(block), Some(_)) => out.push(block),
            (Some(mut block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    out
}

/// The flags an SQL block asks for on its first line (`-- skyql --dry-run --allow-bulk`).
fn flags_of(sql: &str) -> Vec<String> {
    let first = sql.lines().next().unwrap_or_default();
    match first.strip_prefix("-- skyql ") {
        Some(flags) => shlex::split(flags).expect("the flags line splits"),
        None => Vec::new(),
    }
}

/// The exit code an SQL block expects: 0 unless a leading comment line says `-- exits N …`
/// (an example of a refusal shows its error).
fn exit_of(sql: &str) -> i32 {
    sql.lines()
        .take_while(|l| l.starts_with("--"))
        .find_map(|l| l.strip_prefix("-- exits "))
        .map(|rest| {
            let code = rest.split(|c: char| !c.is_ascii_digit()).next();
            code.and_then(|c| c.parse().ok()).expect("`-- exits N`")
        })
        .unwrap_or(0)
}

/// Runs one SQL block against a fresh demo sandbox (each is written against the data as
/// shipped, not against what an earlier block changed).
fn run_sql(sql: &str) -> Output {
    Skyql::bare()
        .args(["--sandbox", DEMO_REGIONS])
        .args(flags_of(sql))
        .args(["exec", "-f", "-"])
        .stdin(sql)
        .run()
}

/// The arguments of a `skyql --sandbox …` line of a shell block, without a trailing comment
/// or redirection; `None` for any other line.
fn sandbox_command(line: &str) -> Option<Vec<String>> {
    let rest = line.trim().strip_prefix("skyql ")?;
    let words = shlex::split(rest).unwrap_or_else(|| panic!("the line does not split: {line}"));
    let end = (words.iter())
        .position(|w| w.starts_with('#') || w.starts_with('>') || w == "|" || w == "&")
        .unwrap_or(words.len());
    let words = words[..end].to_vec();
    (words.first().map(String::as_str) == Some("--sandbox")).then_some(words)
}

#[track_caller]
fn check(page: &Path, block: &Block, what: &str, out: &Output, code: i32) {
    assert_eq!(
        out.code,
        code,
        "{}:{}: {what} exits {}\n{}\n{}",
        page.display(),
        block.line,
        out.code,
        block.text,
        out.stderr
    );
}

#[test]
fn every_example_of_the_readme_and_the_guides_runs_and_prints_what_is_shown() {
    let (mut statements, mut commands, mut outputs) = (0, 0, 0);
    for page in pages() {
        let markdown = std::fs::read_to_string(&page).expect("the page reads");
        let blocks = blocks(&markdown);
        for (i, block) in blocks.iter().enumerate() {
            if block.info == "sql" {
                let out = run_sql(&block.text);
                check(&page, block, "the statement", &out, exit_of(&block.text));
                statements += 1;
                // The output blocks that follow it show what it prints.
                for shown in blocks[i + 1..]
                    .iter()
                    .take_while(|b| b.info.starts_with("text"))
                {
                    let (stream, printed) = match shown.info.as_str() {
                        "text stderr" => ("stderr", &out.stderr),
                        _ => ("stdout", &out.stdout),
                    };
                    assert_eq!(
                        printed,
                        &shown.text,
                        "{}:{}: the {stream} shown is not what the statement prints",
                        page.display(),
                        shown.line
                    );
                    outputs += 1;
                }
            } else if block.info == "sh" {
                for args in block.text.lines().filter_map(sandbox_command) {
                    let out = Skyql::bare().current_dir(root()).args(&args).run();
                    check(&page, block, &format!("skyql {}", args.join(" ")), &out, 0);
                    commands += 1;
                }
            }
        }
    }
    assert!(statements >= 5, "{statements} SQL blocks ran");
    assert!(commands >= 4, "{commands} sandbox commands ran");
    assert!(outputs >= 5, "{outputs} outputs compared");
}

#[test]
fn blocks_flags_and_commands_are_read_as_a_reader_would_type_them() {
    let md = "text\n```sql\n-- skyql --dry-run --allow-bulk\nDELETE …\n```\n```text stderr\nskyql: …\n```\n";
    let found = blocks(md);
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].info.as_str(), found[0].line), ("sql", 2));
    assert_eq!(flags_of(&found[0].text), ["--dry-run", "--allow-bulk"]);
    assert_eq!(found[1].info, "text stderr");
    assert_eq!(exit_of(&found[0].text), 0);
    assert_eq!(
        exit_of("-- skyql --allow-bulk\n-- exits 1: it holds images\nDELETE …\n"),
        1
    );
    assert_eq!(
        sandbox_command(r#"skyql --sandbox exec -o csv "SELECT 1" > out.csv   # a file"#),
        Some(vec![
            "--sandbox".into(),
            "exec".into(),
            "-o".into(),
            "csv".into(),
            "SELECT 1".into()
        ])
    );
    assert_eq!(
        sandbox_command("skyql --profile prod exec \"SELECT 1\""),
        None
    );
    assert_eq!(sandbox_command("cargo run -- --sandbox"), None);
}
