//! Helpers of the SELECT tests: running the `skyql` binary against a sandbox, seeds, the log.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skyql::aws::AwsSettings;
use skyql::sandbox::{LoggedRequest, Sandbox, SandboxConfig, Seed};
use skyql::session::{QueryResult, Session, SessionOptions};
use tempfile::TempDir;

/// The operation every SELECT makes.
pub const DESCRIBE: &str = "DescribePullThroughCacheRules";

/// How long one `skyql` run may take before the test fails instead of hanging.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The demo sandbox's three regions, in the order `--sandbox` uses them.
pub const DEMO_REGIONS: [&str; 3] = ["ap-southeast-2", "eu-west-1", "us-east-1"];

// ---------------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------------

/// `n` quay rules named `p00`, `p01`, … (sorted order equals numeric order up to 100; beyond,
/// three digits).
pub fn numbered_rules(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let prefix = if n > 100 {
                format!("p{i:03}")
            } else {
                format!("p{i:02}")
            };
            json!({"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "quay.io"})
        })
        .collect()
}

/// A sandbox configuration holding exactly `seed` (region → rule bodies).
pub fn config_with(seed: &[(&str, Vec<Value>)]) -> SandboxConfig {
    let mut config = SandboxConfig::default();
    let seed: Seed = seed
        .iter()
        .map(|(r, rules)| (r.to_string(), rules.clone()))
        .collect::<BTreeMap<_, _>>();
    config.add_seed(seed);
    config
}

/// A sandbox holding exactly `seed`.
pub fn sandbox_with(seed: &[(&str, Vec<Value>)]) -> Sandbox {
    super::start(config_with(seed))
}

/// The demo sandbox (the same data as `skyql --sandbox`).
pub fn demo_sandbox() -> Sandbox {
    super::start(SandboxConfig::demo())
}

// ---------------------------------------------------------------------------------------------
// The request log
// ---------------------------------------------------------------------------------------------

/// The DescribePullThroughCacheRules calls logged so far.
pub fn describes(sb: &Sandbox) -> Vec<LoggedRequest> {
    sb.log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == DESCRIBE)
        .collect()
}

/// The DescribePullThroughCacheRules calls made in `region`.
pub fn describes_in(sb: &Sandbox, region: &str) -> Vec<LoggedRequest> {
    describes(sb)
        .into_iter()
        .filter(|e| e.region.as_deref() == Some(region))
        .collect()
}

/// Calls per region (every operation).
pub fn calls_per_region(sb: &Sandbox) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for e in sb.log().entries() {
        *map.entry(e.region.unwrap_or_default()).or_insert(0) += 1;
    }
    map
}

/// The `ecrRepositoryPrefixes` parameter of a logged call, if it was sent.
pub fn prefixes_param(entry: &LoggedRequest) -> Option<Vec<String>> {
    entry
        .parameters
        .get("ecrRepositoryPrefixes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
}

/// The `maxResults` parameter of a logged call, if it was sent.
pub fn max_results_param(entry: &LoggedRequest) -> Option<i64> {
    entry.parameters.get("maxResults").and_then(Value::as_i64)
}

// ---------------------------------------------------------------------------------------------
// The library
// ---------------------------------------------------------------------------------------------

/// AWS settings that reach `sb` for `regions`.
pub fn settings(sb: &Sandbox, regions: &[&str]) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(sb.endpoint()),
        static_keys: Some((
            sb.keys().access_key_id.clone(),
            sb.keys().secret_access_key.clone(),
        )),
        regions: Some(regions.iter().map(|r| r.to_string()).collect()),
        ..Default::default()
    }
}

/// A session against `sb` whose default regions are `regions`.
pub async fn session(sb: &Sandbox, regions: &[&str]) -> Session {
    Session::new(SessionOptions {
        aws: settings(sb, regions),
        strict: false,
        ..SessionOptions::default()
    })
    .await
    .expect("the session opens")
}

/// Runs one statement and returns its result, panicking with the error.
pub async fn query(session: &Session, sql: &str) -> QueryResult {
    let mut results = session
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\n  failed: {e}"));
    assert_eq!(results.len(), 1, "one statement: {sql}");
    results.remove(0)
}

/// Every row of a result as strings (NULL as `NULL`, timestamps RFC 3339), in result order.
pub fn rows(result: &QueryResult) -> Vec<Vec<String>> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default()
        .with_null("NULL")
        .with_timestamp_tz_format(Some("%Y-%m-%dT%H:%M:%SZ"));
    let mut out = Vec::new();
    for batch in &result.batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formattable"))
            .collect();
        for row in 0..batch.num_rows() {
            out.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    out
}

/// The values of column `name` of a result, as strings.
pub fn column(result: &QueryResult, name: &str) -> Vec<String> {
    let index = result
        .schema
        .index_of(name)
        .unwrap_or_else(|_| panic!("no column {name} in {:?}", result.schema));
    rows(result)
        .into_iter()
        .map(|mut r| r.remove(index))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// What one `skyql` run produced.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Output {
    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A `skyql` invocation with an environment that only reaches the sandbox: `env_clear()`, then
/// PATH, HOME (a temp dir), AWS config and credential files that do not exist, and the
/// sandbox's endpoint and keys.
pub struct Skyql {
    command: Command,
    stdin: Option<Vec<u8>>,
    /// Kept alive while the command runs (HOME and the AWS files live in it).
    pub home: TempDir,
}

impl Skyql {
    /// `skyql` with no AWS at all (no endpoint, no keys, no region).
    pub fn bare() -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_skyql"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            // Tests never ask instance metadata (a link-local address) for credentials.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", home.path().join("no-such-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("no-such-credentials"),
            )
            .current_dir(home.path())
            .stdin(Stdio::null());
        Self {
            command,
            stdin: None,
            home,
        }
    }

    /// `skyql` reaching `sb` with its keys; `region` becomes AWS_REGION when given.
    pub fn against(sb: &Sandbox, region: Option<&str>) -> Self {
        let mut s = Self::bare();
        s.command
            .env("AWS_ENDPOINT_URL", sb.endpoint())
            .env("AWS_ACCESS_KEY_ID", &sb.keys().access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &sb.keys().secret_access_key);
        if let Some(region) = region {
            s.command.env("AWS_REGION", region);
        }
        s
    }

    /// `skyql` reaching `sb` with AWS_REGION=us-east-1.
    pub fn new(sb: &Sandbox) -> Self {
        Self::against(sb, Some("us-east-1"))
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Runs in `dir` (relative paths in the arguments are read from there).
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Feeds `text` on stdin.
    pub fn stdin(self, text: &str) -> Self {
        self.stdin_bytes(text.as_bytes())
    }

    /// Feeds `bytes` on stdin (text that need not be UTF-8).
    pub fn stdin_bytes(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self.command.stdin(Stdio::piped());
        self
    }

    /// The home directory of the run (a temp dir).
    pub fn home_dir(&self) -> PathBuf {
        self.home.path().to_path_buf()
    }

    /// Starts the process with stdout and stderr piped (for tests that read it themselves).
    pub fn spawn(mut self) -> (Child, TempDir) {
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("skyql starts");
        if let Some(bytes) = self.stdin.take() {
            let mut stdin = child.stdin.take().expect("piped stdin");
            std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
        (child, self.home)
    }

    /// Runs to the end (at most [`RUN_TIMEOUT`]) and collects both streams.
    pub fn run(self) -> Output {
        let start = Instant::now();
        let (mut child, _home) = self.spawn();
        let mut out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let status = wait_with_timeout(&mut child, RUN_TIMEOUT);
        let elapsed = start.elapsed();
        Output {
            code: status.code().unwrap_or(-1),
            stdout: out_reader.join().expect("stdout reader"),
            stderr: err_reader.join().expect("stderr reader"),
            elapsed,
        }
    }
}

/// Waits for `child`, killing it (and failing the test) after `timeout`.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("skyql did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// Parses the JSON output of `-o json`.
pub fn json_rows(stdout: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(stdout) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("not a JSON array: {other:?}\n{stdout}"),
    }
}

// ---------------------------------------------------------------------------------------------
// DML: mutating calls, stderr notes, dry-run plans
// ---------------------------------------------------------------------------------------------

/// The operation an INSERT makes per new rule.
pub const CREATE: &str = "CreatePullThroughCacheRule";
/// The operation an UPDATE makes per changed rule.
pub const UPDATE: &str = "UpdatePullThroughCacheRule";
/// The operation a DELETE makes per matched rule.
pub const DELETE: &str = "DeletePullThroughCacheRule";
/// Every operation that changes a rule.
pub const MUTATING: [&str; 3] = [CREATE, UPDATE, DELETE];

/// The mutating calls (Create, Update, Delete) logged so far, in order.
pub fn mutating_calls(sb: &Sandbox) -> Vec<LoggedRequest> {
    sb.log()
        .entries()
        .into_iter()
        .filter(|e| MUTATING.contains(&e.operation.as_str()))
        .collect()
}

/// The calls of `operation` logged so far as (region, parameters), in order.
pub fn calls_of(sb: &Sandbox, operation: &str) -> Vec<(String, Value)> {
    sb.log()
        .entries()
        .into_iter()
        .filter(|e| e.operation == operation)
        .map(|e| (e.region.unwrap_or_default(), e.parameters))
        .collect()
}

/// The (region, ecrRepositoryPrefix) of every call of `operation`, sorted.
pub fn prefixes_called(sb: &Sandbox, operation: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = calls_of(sb, operation)
        .into_iter()
        .map(|(region, p)| {
            let prefix = p["ecrRepositoryPrefix"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (region, prefix)
        })
        .collect();
    out.sort();
    out
}

/// The notes skyql wrote on stderr (`skyql: …` lines, without the prefix).
pub fn notes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("skyql: "))
        .collect()
}

/// One call of a dry-run plan as printed on stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    /// The ECR operation.
    pub operation: String,
    /// The region it would be made in.
    pub region: String,
    /// Its JSON parameters.
    pub parameters: Value,
}

/// The calls a dry run listed on stderr (`skyql:   <Operation> <region> <JSON parameters>`).
pub fn dry_run_calls(stderr: &str) -> Vec<PlannedCall> {
    notes(stderr)
        .into_iter()
        .filter_map(|n| n.strip_prefix("  "))
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            let operation = parts.next()?;
            // A planned call's line starts with its operation (`CreateRepository`).
            if !operation.starts_with(|c: char| c.is_ascii_uppercase()) {
                return None;
            }
            let region = parts.next()?.to_string();
            let parameters = serde_json::from_str(parts.next()?)
                .unwrap_or_else(|e| panic!("dry-run parameters are not JSON ({e}): {line}"));
            Some(PlannedCall {
                operation: operation.to_string(),
                region,
                parameters,
            })
        })
        .collect()
}

/// Asserts a refusal at planning: exit 2, every word on stderr, nothing on stdout, no request.
#[track_caller]
pub fn refused_without_any_call(sb: &Sandbox, out: &Output, words: &[&str]) {
    out.expect_code(2).expect_stderr(words);
    assert_eq!(out.stdout, "", "nothing on stdout");
    assert_eq!(sb.log().len(), 0, "no request: {:#?}", sb.log().entries());
}

impl Output {
    /// Panics with stderr unless it holds every one of `words`.
    #[track_caller]
    pub fn expect_stderr(&self, words: &[&str]) -> &Self {
        for word in words {
            assert!(
                self.stderr.contains(word),
                "stderr lacks {word:?}:\n{}",
                self.stderr
            );
        }
        self
    }
}

// ---------------------------------------------------------------------------------------------
// DML through the binary
// ---------------------------------------------------------------------------------------------

/// The plural rules table.
pub const RULES: &str = "aws.ecr.pull_through_cache_rules";
/// The singular rule table.
pub const RULE: &str = "aws.ecr.pull_through_cache_rule";
/// The flag that selects the demo sandbox's three regions.
pub const ALL_DEMO: &str = "--regions=us-east-1,eu-west-1,ap-southeast-2";

/// `skyql <flags> exec <sql>` against `sb` (AWS_REGION=us-east-1).
pub fn exec(sb: &Sandbox, flags: &[&str], sql: &str) -> Output {
    Skyql::new(sb).args(flags).args(["exec", sql]).run()
}

/// The rows of a `-o csv` SELECT over the demo regions, header excluded.
pub fn csv_rows(sb: &Sandbox, sql: &str) -> Vec<String> {
    let out = exec(sb, &["-o", "csv", ALL_DEMO], sql);
    out.expect_code(0);
    out.stdout.lines().skip(1).map(str::to_string).collect()
}
