//! The interactive shell driven through a pseudo-terminal against an in-process sandbox, and
//! meta statements through `skyql exec`.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::cli::{Skyql, demo_sandbox};
use expectrl::session::OsSession;
use expectrl::{ControlCode, Expect, Regex, Session};
use skyql::sandbox::{Sandbox, SandboxConfig};
use tempfile::TempDir;

/// A running `skyql shell` on a pseudo-terminal.
struct Shell {
    p: OsSession,
    _home: TempDir,
}

impl Shell {
    /// Starts the shell against `sb` (regions us-east-1 and eu-west-1) with `args`.
    fn start(sb: &Sandbox, args: &[&str]) -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_skyql"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("TERM", "xterm")
            .env("AWS_CONFIG_FILE", home.path().join("no-such-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("no-such-credentials"),
            )
            .env("AWS_ENDPOINT_URL", sb.endpoint())
            .env("AWS_ACCESS_KEY_ID", &sb.keys().access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &sb.keys().secret_access_key)
            .env("AWS_REGION", "us-east-1")
            .current_dir(home.path())
            .args(["shell", "--regions", "us-east-1,eu-west-1"])
            .args(args);
        let mut p = Session::spawn(command).expect("the shell starts on a pty");
        p.get_process_mut()
            .set_window_size(200, 50)
            .expect("window size");
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        let mut shell = Self { p, _home: home };
        shell.expect("skyql> ");
        shell
    }

    /// Waits for `needle` (a regex) and answers the output before it.
    #[track_caller]
    fn expect(&mut self, needle: &str) -> String {
        match self.p.expect(Regex(needle)) {
            Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
            Err(e) => panic!("waiting for {needle:?}: {e}"),
        }
    }

    /// Types `keys` and Enter.
    fn enter(&mut self, keys: &str) {
        self.p.send(format!("{keys}\r")).expect("send");
    }

    /// Types `keys`, Enter, and waits for `result` and then the prompt.
    #[track_caller]
    fn run(&mut self, keys: &str, result: &str) -> String {
        self.enter(keys);
        let before = self.expect(result);
        self.expect("skyql> ");
        before
    }

    /// `\q`, and the process ends with 0.
    fn quit(mut self) {
        self.enter("\\q");
        let status = self.p.get_process().wait().expect("wait");
        assert!(
            matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
            "{status:?}"
        );
    }
}

#[test]
fn multi_line_statement_runs_at_its_semicolon() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    shell.enter("SELECT ecr_repository_prefix");
    shell.enter("FROM aws.ecr.pull_through_cache_rules");
    shell.run(
        "WHERE region = 'eu-west-1' AND upstream_registry = 'gitlab-container-registry';",
        r"\| gitlab +\|",
    );
    shell.quit();
}

#[test]
fn tab_completes_tables_and_columns() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    // aws.e<Tab> → aws.ecr; pull_thr<Tab> → pull_through_cache_rule; regio<Tab> → region;
    // upstream_registry_u<Tab> → upstream_registry_url (a column of the table named before).
    shell.run(
        "SELECT ecr_repository_prefix FROM aws.e\t.pull_thr\ts WHERE regio\t = 'eu-west-1' AND upstream_registry_u\t = 'registry.gitlab.com';",
        r"\| gitlab +\|",
    );
    shell.quit();
}

#[test]
fn meta_commands_and_statements() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    shell.run("\\?", r"\\regions r1,r2\|all");
    shell.run(
        "\\d",
        r"\| pull_through_cache_rules +\| aws\.ecr\.pull_through_cache_rules",
    );
    shell.run(
        "\\d aws.ecr.pull_through_cache_rule",
        r"\| credential_arn +\| Utf8",
    );
    shell.run("SHOW PROVIDERS;", r"\| aws +\|");
    // The long descriptions are shortened to the terminal's 200 columns.
    shell.run("SHOW RESOURCES IN aws.ecr;", "…");
    shell.run(
        "SHOW SERVICES IN aws;",
        r"\| ecr +\| Amazon Elastic Container Registry",
    );
    shell.run(
        "SHOW RESOURCES IN aws.ecr LIKE '%rules';",
        r"\| pull_through_cache_rules +\|",
    );
    shell.run(
        "SHOW METHODS IN aws.ecr.pull_through_cache_rules;",
        r"ecr:DescribePullThroughCacheRules",
    );
    shell.run(
        "DESCRIBE EXTENDED aws.ecr.pull_through_cache_rules;",
        r"\| updatable +\| read_only",
    );
    shell.run("\\timing on", "Timing is on");
    shell.run("SELECT 40 + 2 AS answer;", r"1 row in [0-9.]+ s");
    shell.run("\\timing off", "Timing is off");
    shell.run("\\regions eu-west-1", "Regions: eu-west-1");
    shell.run(
        "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules;",
        r"\| 4 +\|",
    );
    shell.run("\\profile other", r"Regions: eu-west-1|error");
    // Errors never end the shell, and read as in exec mode.
    shell.run(
        "\\frobnicate",
        r"unknown command \\frobnicate: the commands are",
    );
    shell.run("SELECT * FROM aws.ecr.nope;", r"skyql: error: .*not found");
    shell.quit();
}

#[test]
fn output_format_switches_to_csv() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    shell.run("SELECT 40 + 2 AS answer;", r"\| 42 +\|");
    shell.run("\\o csv", "Output format is csv");
    shell.run("SELECT 40 + 2 AS answer;", "answer\r?\n42\r?\n");
    shell.quit();
}

#[test]
fn ctrl_c_cancels_a_running_query_and_clears_a_line() {
    let mut config = SandboxConfig::demo();
    config.latency = Duration::from_secs(5);
    let sb = common::start(config);
    let mut shell = Shell::start(&sb, &["--no-history"]);
    // Ctrl-C on a line being typed clears it: the shell is still at a fresh prompt.
    shell.p.send("SELECT garbage").expect("send");
    shell.p.send(ControlCode::EndOfText).expect("ctrl-c");
    // If the line were not cleared, the next statement would be a syntax error.
    std::thread::sleep(Duration::from_millis(300));
    shell.enter("SELECT * FROM aws.ecr.pull_through_cache_rules;");
    // The progress line shows the query is in flight (stderr is the terminal).
    shell.expect("regions done");
    let pressed = Instant::now();
    shell.p.send(ControlCode::EndOfText).expect("ctrl-c");
    shell.expect("cancelled");
    shell.expect("skyql> ");
    let waited = pressed.elapsed();
    // The in-flight calls stopped: had the client kept waiting, the sandbox would have answered
    // (and logged) them after its 5 s latency; it logs none, because the connections were dropped.
    std::thread::sleep(Duration::from_millis(5500));
    assert!(
        sb.log().is_empty(),
        "calls completed after Ctrl-C: {:?}",
        sb.log().entries()
    );
    assert!(
        waited < Duration::from_secs(1),
        "the prompt came back after {waited:?}"
    );
    // The shell still works.
    shell.run("SELECT 40 + 2 AS answer;", r"\| 42 +\|");
    shell.quit();
}

#[test]
fn history_persists_across_runs() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("nested").join("history");
    let path = file.to_str().expect("utf-8 path");
    let mut first = Shell::start(&sb, &["--history-file", path]);
    first.run("SELECT 40 + 2 AS answer;", r"\| 42 +\|");
    first.quit();
    assert!(
        read(&file).contains("SELECT 40 + 2 AS answer;"),
        "{}",
        read(&file)
    );
    let mut second = Shell::start(&sb, &["--history-file", path]);
    // Up-arrow twice (past the `\q`) recalls the statement of the first run.
    second.run("\x1b[A\x1b[A", r"\| 42 +\|");
    second.quit();
}

#[test]
fn exec_answers_meta_statements() {
    let sb = demo_sandbox();
    let out = Skyql::new(&sb)
        .args(["exec", "-o", "csv", "SHOW RESOURCES IN aws.ecr"])
        .run();
    out.expect_code(0);
    assert!(
        out.stdout.starts_with("name,id,description\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("pull_through_cache_rule,aws.ecr.pull_through_cache_rule,"),
        "{}",
        out.stdout
    );
    // A second meta statement with other columns: one csv table each, so ndjson here.
    let out = Skyql::new(&sb)
        .args([
            "exec",
            "-o",
            "ndjson",
            "SHOW RESOURCES IN aws.ecr; DESCRIBE aws.ecr.pull_through_cache_rules",
        ])
        .run();
    out.expect_code(0);
    assert!(
        out.stdout.contains(r#"{"name":"region","type":"Utf8""#),
        "{}",
        out.stdout
    );
    let out = Skyql::new(&sb)
        .args(["exec", "SHOW RESOURCES IN aws.ecs"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("skyql: error: unknown service 'aws.ecs'"),
        "{}",
        out.stderr
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_bulk_delete_is_shown_then_applied_only_when_confirmed() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    // Regions are pinned, identifiers are not: a bulk statement.
    let bulk = "DELETE FROM aws.ecr.pull_through_cache_rules \
                WHERE region IN ('us-east-1', 'ap-southeast-2') AND upstream_registry = 'quay';";
    shell.enter(bulk);
    shell.expect("matches 2 rule");
    shell.expect(r"apply it to 2 rule\(s\)\? \[y/N\]");
    shell.enter("n");
    shell.expect("not applied");
    shell.expect("skyql> ");
    assert_eq!(
        sb.log().count("DeletePullThroughCacheRule"),
        0,
        "declined: nothing deleted"
    );

    shell.enter(bulk);
    shell.expect(r"apply it to 2 rule\(s\)\? \[y/N\]");
    shell.enter("y");
    shell.expect("deleted 2");
    shell.expect("skyql> ");
    let deleted: Vec<String> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == "DeletePullThroughCacheRule")
        .map(|e| {
            format!(
                "{} {}",
                e.region.unwrap_or_default(),
                e.parameters["ecrRepositoryPrefix"]
                    .as_str()
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        deleted,
        ["ap-southeast-2 quay", "us-east-1 quay"],
        "exactly the matches shown"
    );
    shell.quit();
}

#[test]
fn psqls_bare_exit_help_and_timing_toggle_work() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    shell.run("help", r"\\timing \[on\|off\]");
    shell.run("\\timing", "Timing is on");
    shell.run("\\timing", "Timing is off");
    shell.enter("exit");
    let status = shell.p.get_process().wait().expect("wait");
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
}
