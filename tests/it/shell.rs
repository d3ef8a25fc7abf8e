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

/// `skyql` for a pseudo-terminal: an environment of PATH, HOME, an xterm and no pager (a real
/// `less` would wait for a key) unless a test names one.
fn terminal_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyql"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TERM", "xterm")
        .env("PAGER", "");
    command
}

/// A running `skyql shell` on a pseudo-terminal.
struct Shell {
    p: OsSession,
    home_dir: TempDir,
}

impl Shell {
    /// Starts the shell against `sb` (regions us-east-1 and eu-west-1) with `args`, on a
    /// 200 × 50 terminal and without a pager.
    fn start(sb: &Sandbox, args: &[&str]) -> Self {
        Self::start_with(sb, args, &[], (200, 50))
    }

    /// Starts the shell with `env` added and a terminal of `size` (columns, rows).
    fn start_with(sb: &Sandbox, args: &[&str], env: &[(&str, &str)], size: (u16, u16)) -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let mut command = terminal_command(home.path());
        command
            .env("AWS_CONFIG_FILE", home.path().join("no-such-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("no-such-credentials"),
            )
            .env("AWS_ENDPOINT_URL", sb.endpoint())
            .env("AWS_ACCESS_KEY_ID", &sb.keys().access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &sb.keys().secret_access_key)
            .env("AWS_REGION", "us-east-1")
            .envs(env.iter().copied())
            .current_dir(home.path())
            .args(["shell", "--regions", "us-east-1,eu-west-1"])
            .args(args);
        let mut p = Session::spawn(command).expect("the shell starts on a pty");
        p.get_process_mut()
            .set_window_size(size.0, size.1)
            .expect("window size");
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        let mut shell = Self { p, home_dir: home };
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

    /// The shell's home and current directory.
    fn home(&self) -> &Path {
        self.home_dir.path()
    }

    /// Resizes the terminal to `columns` × `rows`.
    fn resize(&mut self, columns: u16, rows: u16) {
        self.p
            .get_process_mut()
            .set_window_size(columns, rows)
            .expect("window size");
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
    // Commands and their words complete too: \ps<Tab> → \pset, nu<Tab> → null.
    shell.run("\\ps\t nu\t '(x)'", r#"Null display is "\(x\)"\."#);
    shell.quit();
}

#[test]
fn meta_commands_and_statements() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    // Help lists every command, the new psql ones too.
    shell.run(
        "\\?",
        r"\\x \[on\|off\|auto\][\s\S]*\\pset \[NAME \[VALUE\]\][\s\S]*\\o \[FILE\][\s\S]*\\i FILE[\s\S]*\\regions \[r1,r2\|all\]",
    );
    // The resources' long descriptions make their tables wider than the terminal's 200
    // columns: expanded (`\x auto`), each description whole.
    shell.run(
        "\\d",
        r"name +\| pull_through_cache_rules\r?\nid +\| aws\.ecr\.pull_through_cache_rules\r?\n",
    );
    shell.run(
        "\\d aws.ecr.pull_through_cache_rule",
        r"name +\| credential_arn\r?\ntype +\| Utf8\r?\n",
    );
    shell.run("SHOW PROVIDERS;", r"\| aws +\|");
    let resources = shell.run(
        "SHOW RESOURCES IN aws.ecr;",
        r"-\[ RECORD 6 \]-+\r?\nname +\| registry_policy_statements",
    );
    assert!(!resources.contains('…'), "nothing is cut: {resources}");
    shell.run(
        "SHOW SERVICES IN aws;",
        r"\| ecr +\| Amazon Elastic Container Registry",
    );
    shell.run(
        "SHOW RESOURCES IN aws.ecr LIKE '%rules';",
        r"name +\| pull_through_cache_rules\r?\n",
    );
    shell.run(
        "SHOW METHODS IN aws.ecr.pull_through_cache_rules;",
        r"ecr:DescribePullThroughCacheRules",
    );
    shell.run(
        "DESCRIBE EXTENDED aws.ecr.pull_through_cache_rules;",
        r"updatable +\| (true|false)\r?\nread_only +\| ",
    );
    shell.run("\\timing on", "Timing is on");
    shell.run("SELECT 40 + 2 AS answer;", r"1 row in [0-9.]+ s");
    shell.run("\\timing off", "Timing is off");
    shell.run("\\regions eu-west-1", "Regions: eu-west-1");
    shell.run(
        "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules;",
        r"\| +4 \|",
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
    shell.run("SELECT 40 + 2 AS answer;", r"\| +42 \|");
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
    shell.run("SELECT 40 + 2 AS answer;", r"\| +42 \|");
    shell.quit();
}

#[test]
fn history_persists_across_runs() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("nested").join("history");
    let path = file.to_str().expect("utf-8 path");
    let mut first = Shell::start(&sb, &["--history-file", path]);
    first.run("SELECT 40 + 2 AS answer;", r"\| +42 \|");
    first.quit();
    assert!(
        read(&file).contains("SELECT 40 + 2 AS answer;"),
        "{}",
        read(&file)
    );
    let mut second = Shell::start(&sb, &["--history-file", path]);
    // Up-arrow twice (past the `\q`) recalls the statement of the first run.
    second.run("\x1b[A\x1b[A", r"\| +42 \|");
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

const EU_DOCKER_HUB_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Zx56Cv";

/// The lines of a table (or expanded record) in pty output, without the echoed input.
fn table_lines(output: &str) -> Vec<&str> {
    output
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with('|') || l.starts_with('+'))
        .collect()
}

#[test]
fn continuation_lines_have_psqls_prompt_and_history_keeps_the_statement_once() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("history");
    let path = file.to_str().expect("utf-8 path");
    let mut shell = Shell::start(&sb, &["--history-file", path]);
    shell.enter("SELECT 40 + 2");
    // As wide as `skyql> `, ending in `-> `, as psql's `dbname-> `.
    shell.expect("    -> ");
    shell.enter("AS answer");
    shell.expect(r"    -> AS answer\r?\n    -> ");
    shell.run(";", r"\| +42 \|");
    shell.quit();
    let history = read(&file);
    let entries: Vec<&str> = history
        .lines()
        .filter(|l| l.contains("SELECT 40 + 2"))
        .collect();
    assert_eq!(entries.len(), 1, "one entry for the statement: {history}");
    assert!(
        entries[0].contains("AS answer") && entries[0].contains(';'),
        "{history}"
    );
    // Recalled, the statement runs whole.
    let mut again = Shell::start(&sb, &["--history-file", path]);
    again.run("\x1b[A\x1b[A", r"\| +42 \|");
    again.quit();
}

#[test]
fn multi_line_literals_run_and_are_remembered_exactly_as_typed() {
    let sb = common::cli::sandbox_with(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("history");
    let path = file.to_str().expect("utf-8 path");
    let mut shell = Shell::start(&sb, &["--history-file", path]);
    // A policy typed over lines, some indented by the user: sent exactly as typed.
    let policy_lines = [
        "INSERT INTO aws.ecr.registry_policy (region, policy_text) VALUES ('us-east-1', '{",
        "  \"Version\": \"2012-10-17\",",
        "  \"Statement\": [{\"Sid\": \"Pull\", \"Effect\": \"Allow\",",
        "        \"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:root\"},",
        "        \"Action\": \"ecr:BatchImportUpstreamImage\",",
        "        \"Resource\": \"arn:aws:ecr:us-east-1:123456789012:repository/*\"}]",
        "}');",
    ];
    for line in &policy_lines[..policy_lines.len() - 1] {
        shell.enter(line);
    }
    shell.run(policy_lines[policy_lines.len() - 1], r"\| +1 \|");
    // The newline is the literal's only character between `a` and `b`, as through exec.
    shell.enter("SELECT length('a");
    shell.run("b') AS n;", r"\| +3 \|");
    shell.quit();
    let typed = policy_lines.join("\n");
    let sent_text =
        &typed[typed.find("'{").expect("literal") + 1..typed.rfind("}'").expect("end") + 1];
    let puts: Vec<_> = sb
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == "PutRegistryPolicy")
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0].parameters["policyText"], sent_text);
    // History keeps the statements as typed (rustyline escapes a newline as `\n`).
    let history = read(&file);
    assert!(!history.contains('\u{2800}'), "{history}");
    assert!(
        history.contains("SELECT length('a\\nb') AS n;"),
        "{history}"
    );
    assert!(history.contains(&typed.replace('\n', "\\n")), "{history}");
    // Recalled from history (past the `\q`), it runs as typed again.
    let mut again = Shell::start(&sb, &["--history-file", path]);
    again.enter("\x1b[A\x1b[A");
    again.expect(r"\| +3 \|");
    again.expect("skyql> ");
    again.quit();
}

#[test]
fn an_unpinned_select_says_on_the_terminal_which_regions_it_searched() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    let before = shell.run(
        "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules;",
        r"\| +9 \|",
    );
    assert!(
        before.contains("searched eu-west-1, us-east-1; \\regions all for every region"),
        "{before}"
    );
    // A pinned region is what was asked: nothing to say.
    shell.enter(
        "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules WHERE region = 'eu-west-1';",
    );
    let pinned = shell.expect(r"\| +4 \|");
    shell.expect("skyql> ");
    assert!(!pinned.contains("searched"), "{pinned}");
    shell.quit();

    // `exec` on a terminal says it too; with stderr piped (a script's log) it does not.
    let unpinned = "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules";
    let home = tempfile::tempdir().expect("temp dir");
    let mut command = terminal_command(home.path());
    command.args(["--sandbox", "exec", unpinned]);
    let mut p = Session::spawn(command).expect("exec starts on a pty");
    p.set_expect_timeout(Some(Duration::from_secs(60)));
    p.expect(Regex(
        "searched ap-southeast-2, eu-west-1, us-east-1; --regions all for every region",
    ))
    .expect("the searched regions on the terminal");
    let piped = Skyql::bare().args(["--sandbox", "exec", unpinned]).run();
    piped.expect_code(0);
    assert!(!piped.stderr.contains("searched"), "{}", piped.stderr);
}

#[test]
fn a_refused_drop_table_leaves_the_table_for_the_rest_of_the_session() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    let refused = shell.run(
        "DROP TABLE aws.ecr.pull_through_cache_rules;",
        "DDL cannot change it",
    );
    assert!(
        refused.contains("DROP TABLE aws.ecr.pull_through_cache_rules"),
        "{refused}"
    );
    shell.run(
        "SELECT count(*) AS n FROM aws.ecr.pull_through_cache_rules WHERE region = 'eu-west-1';",
        r"\| +4 \|",
    );
    shell.quit();
}

#[test]
fn psqls_dt_conninfo_regions_and_unqualified_d_work() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    shell.run("\\dt", r"registry_policy_statements");
    let info = shell.run("\\conninfo", r"Regions: us-east-1, eu-west-1\.");
    assert!(
        info.contains(&format!(
            "Connected to the endpoint {} (from AWS_ENDPOINT_URL)",
            sb.endpoint()
        )),
        "{info}"
    );
    shell.run("\\regions", r"Regions: us-east-1, eu-west-1\.");
    // A bare name is the provider table's.
    shell.run(
        "\\d pull_through_cache_rules",
        r"name +\| ecr_repository_prefix\r?\ntype +\| Utf8\r?\n",
    );
    shell.quit();
}

#[test]
fn backslash_g_reruns_e_edits_and_bang_runs_a_command() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    // An "editor" that turns the statement's 40 into 50, as a person would.
    let editor = dir.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/40/50/' \"$1\"\n").expect("editor script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let history = dir.path().join("history");
    let mut shell = Shell::start_with(
        &sb,
        &["--history-file", history.to_str().expect("utf-8")],
        &[("EDITOR", editor.to_str().expect("utf-8"))],
        (200, 50),
    );
    shell.run("\\g", "no statement has run yet");
    shell.run("SELECT 40 + 2 AS answer;", r"\| +42 \|");
    shell.run("\\g", r"\| +42 \|");
    shell.run("\\e", r"\| +52 \|");
    // The edited statement is the last one now, and history keeps it as it ran.
    shell.run("\\g", r"\| +52 \|");
    shell.run("\\! echo from-the-shell; echo second", "second");
    shell.quit();
    let kept = read(&history);
    assert!(kept.contains("SELECT 50 + 2 AS answer;"), "{kept}");
}

#[test]
fn expanded_display_on_off_and_auto_at_the_terminals_width() {
    let sb = demo_sandbox();
    let mut shell = Shell::start_with(&sb, &["--no-history"], &[], (80, 50));
    let all = "SELECT * FROM aws.ecr.pull_through_cache_rules \
               WHERE region = 'eu-west-1' AND data__Identifier = 'docker-hub';";
    let two = "SELECT region, ecr_repository_prefix FROM aws.ecr.pull_through_cache_rules \
               WHERE region = 'eu-west-1' AND data__Identifier = 'gitlab';";
    // Auto by default: twelve columns do not fit 80, so one block per row, values whole.
    shell.enter(all);
    shell.expect(r"-\[ RECORD 1 \]-+\+-+\r?\nregion +\| eu-west-1\r?\n");
    let record = shell.expect("skyql> ");
    let arn_line = format!("{:<26} | {EU_DOCKER_HUB_ARN}", "credential_arn");
    assert!(record.contains(&arn_line), "{record}");
    // A table that fits stays aligned.
    shell.run(two, r"\| eu-west-1 \| gitlab +\|");
    shell.run("\\x on", "Expanded display is on.");
    // psql's layout: the label, dashes to the end of the names, `-+-`, dashes over the values.
    shell.run(
        two,
        r"-\[ RECORD 1 \]---------\+----------\r?\nregion                \| eu-west-1\r?\necr_repository_prefix \| gitlab\r?\n",
    );
    shell.run("\\x", "Expanded display is off.");
    shell.run(two, r"\| region +\| ecr_repository_prefix \|");
    shell.run("\\x auto", "Expanded display is used automatically.");
    shell.run(two, r"\| region +\| ecr_repository_prefix \|");
    // At 30 columns the two-column table is too wide.
    shell.resize(30, 50);
    shell.run(two, r"-\[ RECORD 1 \]");
    shell.resize(80, 50);
    shell.quit();
}

#[test]
fn wrapping_shrinks_the_widest_columns_never_a_header_or_a_short_value() {
    let sb = demo_sandbox();
    let mut shell = Shell::start_with(&sb, &["--no-history"], &[], (80, 50));
    shell.run("\\x off", "Expanded display is off.");
    shell.enter(
        "SELECT region, ecr_repository_prefix, created_at, credential_arn \
         FROM aws.ecr.pull_through_cache_rules WHERE region = 'eu-west-1' AND data__Identifier = 'docker-hub';",
    );
    let output = shell.expect(r"\(1 row\)");
    shell.expect("skyql> ");
    let lines = table_lines(&output);
    assert!(
        lines.iter().all(|l| l.chars().count() <= 80),
        "{}",
        lines.join("\n")
    );
    // Every header is whole on its line, and the short values on the row's first line.
    for header in [
        "region",
        "ecr_repository_prefix",
        "created_at",
        "credential_arn",
    ] {
        assert!(
            lines[1].contains(&format!("| {header} ")),
            "{}",
            lines.join("\n")
        );
    }
    assert!(
        lines[3].contains("| eu-west-1 | docker-hub ")
            && lines[3].contains("| 2025-06-01T12:00:00Z | arn:aws:"),
        "{}",
        lines.join("\n")
    );
    shell.quit();
}

#[test]
fn tables_end_with_psqls_row_count_and_numbers_align_right() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    let shown = shell.run(
        "SELECT region, count(*) AS rules FROM aws.ecr.pull_through_cache_rules GROUP BY region ORDER BY region;",
        r"\(2 rows\)",
    );
    assert!(shown.contains("| eu-west-1 |     4 |"), "{shown}");
    shell.run("SELECT 1 AS n WHERE false;", r"\(0 rows\)");
    shell.quit();
}

#[test]
fn tables_wrap_to_80_columns_without_cutting_values() {
    let sb = demo_sandbox();
    let mut shell = Shell::start_with(&sb, &["--no-history"], &[], (80, 50));
    shell.run("\\x off", "Expanded display is off.");
    shell.run("\\timing on", "Timing is on.");
    shell.enter(
        "SELECT region, ecr_repository_prefix, credential_arn FROM aws.ecr.pull_through_cache_rules \
         WHERE region = 'eu-west-1' AND data__Identifier = 'docker-hub';",
    );
    // The table comes before the timing line.
    let output = shell.expect("1 row in");
    shell.expect("skyql> ");
    let lines = table_lines(&output);
    assert!(
        lines.iter().all(|l| l.chars().count() <= 80),
        "{}",
        lines.join("\n")
    );
    assert!(!output.contains('…'), "nothing is cut: {output}");
    // The ARN's cell wraps over several lines (between the rule under the header and the last
    // one); read together they are the whole ARN.
    let rules: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].starts_with('+'))
        .collect();
    assert_eq!(rules.len(), 3, "{}", lines.join("\n"));
    let arn: String = lines[rules[1] + 1..rules[2]]
        .iter()
        .map(|l| l.split('|').nth(3).unwrap_or_default().trim())
        .collect();
    assert_eq!(arn, EU_DOCKER_HUB_ARN, "{}", lines.join("\n"));
    shell.quit();
}

#[test]
fn pset_null_sets_the_text_of_null() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    let sql = "SELECT CAST(NULL AS VARCHAR) AS nothing, 'NULL' AS text;";
    // psql's default: NULL is an empty cell, the string 'NULL' is itself.
    shell.run(sql, r"\|         \| NULL \|");
    shell.run("\\pset null '(null)'", r#"Null display is "\(null\)"\."#);
    shell.run(sql, r"\| \(null\)  \| NULL \|");
    shell.run("\\pset null", r#"Null display is "\(null\)"\."#);
    shell.run("\\pset null ''", r#"Null display is ""\."#);
    shell.run(sql, r"\|         \| NULL \|");
    shell.quit();
}

#[test]
fn the_pager_shows_results_that_do_not_fit() {
    let sb = demo_sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let pager = dir.path().join("pager.sh");
    std::fs::write(&pager, "#!/bin/sh\necho PAGER-MARKER LESS=$LESS.\ncat\n")
        .expect("pager script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pager, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let pager = pager.to_str().expect("utf-8 path");
    let mut shell = Shell::start_with(&sb, &["--no-history"], &[("PAGER", pager)], (200, 50));
    // On (the default): a short result is printed as it is.
    let before = shell.run("SELECT 1 AS n;", r"\| 1 \|");
    assert!(!before.contains("PAGER-MARKER"), "{before}");
    // A result longer than the terminal goes through the pager.
    shell.resize(200, 10);
    shell.enter("SELECT region, ecr_repository_prefix FROM aws.ecr.pull_through_cache_rules;");
    shell.expect("PAGER-MARKER");
    shell.expect(r"\| us-east-1 +\| quay +\|");
    shell.expect("skyql> ");
    shell.resize(200, 50);
    shell.run("\\pset pager always", "Pager is always used.");
    shell.enter("SELECT 2 AS n;");
    // An aligned table scrolls sideways (less -S) ...
    shell.expect("PAGER-MARKER LESS=FRSX.");
    shell.expect(r"\| 2 \|");
    shell.expect("skyql> ");
    // ... while expanded records wrap, so a long value is seen whole.
    shell.run("\\x on", "Expanded display is on.");
    shell.enter("SELECT repeat('v', 300) AS long;");
    shell.expect("PAGER-MARKER LESS=FRX.");
    shell.expect(&format!("long \\| {}", "v".repeat(300)));
    shell.expect("skyql> ");
    shell.run("\\x auto", "Expanded display is used automatically.");
    shell.run("\\pset pager off", "Pager usage is off.");
    shell.resize(200, 10);
    let before = shell.run(
        "SELECT region, ecr_repository_prefix FROM aws.ecr.pull_through_cache_rules;",
        r"\| us-east-1 +\| quay +\|",
    );
    assert!(!before.contains("PAGER-MARKER"), "{before}");
    shell.quit();

    // A pager that cannot be started is said once, and results are printed without it.
    let mut shell = Shell::start_with(
        &sb,
        &["--no-history"],
        &[("PAGER", "/no/such/pager")],
        (200, 50),
    );
    shell.run("\\pset pager always", "Pager is always used.");
    shell.enter("SELECT 3 AS n;");
    shell.expect("cannot start the pager `/no/such/pager`");
    shell.expect(r"\| 3 \|");
    shell.expect("skyql> ");
    let before = shell.run("SELECT 4 AS n;", r"\| 4 \|");
    assert!(!before.contains("cannot start the pager"), "{before}");
    shell.quit();
}

#[test]
fn backslash_i_runs_a_file_as_if_typed() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    std::fs::write(
        shell.home().join("script.sql"),
        "-- set up\n\
         \\x off\n\
         SELECT 40 + 2 AS answer;\n\
         SELECT * FROM aws.ecr.nope;\n\
         SELECT upper('multi')\n  AS line;\n\
         SELECT upper('last') AS line\n",
    )
    .expect("script");
    // Relative to the current directory; an error names its line and the file goes on; the
    // last statement runs without its `;`, as psql's \i does.
    shell.enter("\\i script.sql");
    shell.expect("Expanded display is off.");
    shell.expect(r"\| +42 \|");
    shell.expect(r"skyql: error: script\.sql:4: .*not found");
    shell.expect(r"\| MULTI \|");
    shell.expect(r"\| LAST \|");
    shell.expect("skyql> ");
    shell.run("\\i missing.sql", "cannot read missing.sql");
    // The shell goes on.
    shell.run("SELECT 40 + 2 AS answer;", r"\| +42 \|");
    shell.quit();
}

#[test]
fn backslash_o_sends_results_to_a_file_until_o_alone() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    let out = shell.home().join("out.txt");
    std::fs::write(&out, "left from before\n").expect("old file");
    shell.run("\\timing on", "Timing is on.");
    shell.run("\\o out.txt", r"Results go to out\.txt\.");
    // Nothing on the terminal but the timing (on stderr).
    let shown = shell.run("SELECT upper('filed') AS dest;", "1 row in");
    assert!(!shown.contains("FILED"), "{shown}");
    shell.run("SELECT 2 AS n;", "1 row in");
    shell.run("\\o", r"Results go to stdout\.");
    shell.run("SELECT upper('shown') AS dest;", r"\| SHOWN \|");
    // Emptied when chosen, then each result appended.
    assert_eq!(
        read(&out),
        "+-------+\n| dest  |\n+-------+\n| FILED |\n+-------+\n(1 row)\n\
         +---+\n| n |\n+---+\n| 2 |\n+---+\n(1 row)\n"
    );
    // `\o FORMAT` still sets the format, as `\pset format` does.
    shell.run("\\o csv", "Output format is csv.");
    shell.run("SELECT 1 AS n;", "n\r?\n1\r?\n");
    shell.run("\\pset format json", "Output format is json.");
    shell.run("SELECT 1 AS n;", r#"\[\{"n":1\}\]"#);
    shell.quit();
}

#[test]
fn unaliased_columns_have_psqls_headers() {
    let sb = demo_sandbox();
    let mut shell = Shell::start(&sb, &["--no-history"]);
    shell.run(
        "SELECT 1, count(*), region FROM aws.ecr.pull_through_cache_rules \
         WHERE region = 'eu-west-1' GROUP BY region;",
        r"\| \?column\? \| count \| region +\|",
    );
    shell.quit();
}
