//! The real AWS CLI (`aws`, awscli v1) against `skyql sandbox`: rules, templates, the registry policy, repositories, images and registry settings, pagination, errors.
//!
//! Each test starts the `skyql` binary as a child (`sandbox --port 0`), reads the `export` lines it
//! prints, and runs `aws ecr … --output json` with exactly that environment. The CLI is found on
//! PATH or named by `SKYQL_AWS_CLI`; without it the tests print `skipped: …` and pass, except under
//! CI (`CI=true`), where a missing CLI fails them unless `SKYQL_AWSCLI_UNAVAILABLE` gives the reason.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// The sandbox's account (its default `--account-id`).
const ACCOUNT: &str = "123456789012";
/// How long one `aws` invocation may take before the test gives up on it.
const CLI_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the sandbox may take to print its environment.
const START_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Finding the CLI
// ---------------------------------------------------------------------------------------------

/// The `aws` executable to use, or `None` (after printing why) when the test should be skipped.
/// Panics under CI when the CLI is missing and `SKYQL_AWSCLI_UNAVAILABLE` does not excuse it.
fn aws_cli() -> Option<PathBuf> {
    let problem = match locate_cli() {
        Ok(path) => match check_version(&path) {
            Ok(()) => return Some(path),
            Err(problem) => problem,
        },
        Err(problem) => problem,
    };
    let under_ci = std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false);
    if under_ci {
        match std::env::var("SKYQL_AWSCLI_UNAVAILABLE") {
            Ok(reason) => {
                eprintln!(
                    "skipped: {problem} (excused under CI: SKYQL_AWSCLI_UNAVAILABLE={reason})"
                );
                None
            }
            Err(_) => panic!(
                "{problem}; under CI (CI=true) the AWS CLI must be installed (.ci/run installs it), \
                 unless SKYQL_AWSCLI_UNAVAILABLE says why it cannot be"
            ),
        }
    } else {
        eprintln!(
            "skipped: {problem} (install awscli>=1.32, e.g. `pip install awscli`, or set SKYQL_AWS_CLI)"
        );
        None
    }
}

fn locate_cli() -> Result<PathBuf, String> {
    if let Some(named) = std::env::var_os("SKYQL_AWS_CLI").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(&named);
        if path.components().count() > 1 {
            return if path.is_file() {
                Ok(path)
            } else {
                Err(format!(
                    "SKYQL_AWS_CLI={} does not name a file",
                    path.display()
                ))
            };
        }
        return find_on_path(&named.to_string_lossy())
            .ok_or_else(|| format!("SKYQL_AWS_CLI={} is not on PATH", named.to_string_lossy()));
    }
    find_on_path("aws").ok_or_else(|| "the AWS CLI (`aws`) is not on PATH".to_string())
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The CLI must honour AWS_ENDPOINT_URL (awscli 1.32+, AWS CLI v2 2.13+): an older one would send
/// the sandbox's fake credentials to the real endpoint instead.
fn check_version(aws: &Path) -> Result<(), String> {
    let output = Command::new(aws)
        .arg("--version")
        .env("AWS_PAGER", "")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{} --version`: {e}", aws.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let version = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix("aws-cli/"))
        .ok_or_else(|| {
            format!(
                "`{} --version` did not print aws-cli/<version>: {}",
                aws.display(),
                text.trim()
            )
        })?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let new_enough = match major {
        1 => minor >= 32,
        2 => minor >= 13,
        m => m > 2,
    };
    if new_enough {
        Ok(())
    } else {
        Err(format!(
            "{} is aws-cli/{version}, too old to honour AWS_ENDPOINT_URL (needs awscli>=1.32)",
            aws.display()
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox child and running the CLI against it
// ---------------------------------------------------------------------------------------------

/// A running `skyql sandbox` child; dropping it kills the child, so a failed assert leaks nothing.
struct Sandbox {
    child: Child,
    aws: PathBuf,
    dir: TempDir,
    env: Vec<(String, String)>,
    request_log: PathBuf,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one `aws` invocation did.
#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Sandbox {
    /// Starts `skyql sandbox --port 0 --request-log … <extra>` and reads its exports.
    fn start(aws: PathBuf, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let request_log = dir.path().join("requests.jsonl");
        let child = Command::new(env!("CARGO_BIN_EXE_skyql"))
            .arg("sandbox")
            .args(["--port", "0", "--request-log"])
            .arg(&request_log)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn skyql sandbox");
        let mut sandbox = Sandbox {
            child,
            aws,
            dir,
            env: Vec::new(),
            request_log,
        };
        let stdout = sandbox.child.stdout.take().expect("piped stdout");
        match read_exports(stdout) {
            Ok(env) => sandbox.env = env,
            Err(problem) => {
                let _ = sandbox.child.kill();
                let _ = sandbox.child.wait();
                let mut stderr = String::new();
                if let Some(mut err) = sandbox.child.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                panic!("skyql sandbox did not start: {problem}\nits stderr:\n{stderr}");
            }
        }
        for key in [
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ] {
            assert!(
                sandbox.env.iter().any(|(k, _)| k == key),
                "the sandbox printed no `export {key}=…`: {:?}",
                sandbox.env
            );
        }
        assert!(
            sandbox
                .var("AWS_ENDPOINT_URL")
                .starts_with("http://127.0.0.1:"),
            "endpoint {}",
            sandbox.var("AWS_ENDPOINT_URL")
        );
        assert_eq!(sandbox.var("AWS_REGION"), "us-east-1");
        assert_eq!(sandbox.var("AWS_DEFAULT_REGION"), "us-east-1");
        sandbox
    }

    /// The value the sandbox exported for `key`.
    fn var(&self, key: &str) -> &str {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no export {key}"))
    }

    /// Runs `aws ecr <args> --output json` with the sandbox's environment (plus `overrides`).
    fn run_with(&self, overrides: &[(&str, &str)], args: &[&str]) -> Run {
        let mut command = Command::new(&self.aws);
        // Nothing from the caller's AWS setup may leak in: no profile, config, endpoint override,
        // proxy or retry setting other than the ones set here.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("AWS_") || key.to_ascii_lowercase().ends_with("_proxy") {
                command.env_remove(key.as_ref());
            }
        }
        command
            .env(
                "AWS_CONFIG_FILE",
                self.dir.path().join("no-such-aws-config"),
            )
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("no-such-aws-credentials"),
            )
            .env("AWS_PAGER", "")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(overrides.iter().copied())
            .arg("ecr")
            .args(args)
            .args(["--output", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let described = format!("aws ecr {}", args.join(" "));
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {described}: {e}"));
        let stdout = drain(child.stdout.take().expect("piped stdout"));
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for aws") {
                break status;
            }
            if started.elapsed() > CLI_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{described} did not finish within {CLI_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        Run {
            status,
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        }
    }

    /// Runs a command that must succeed and answers its JSON output.
    fn ok(&self, args: &[&str]) -> Value {
        let run = self.run_with(&[], args);
        assert!(
            run.status.success(),
            "aws ecr {} failed ({}):\n{}",
            args.join(" "),
            run.status,
            run.stderr
        );
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "aws ecr {} printed no JSON ({e}):\n{}",
                args.join(" "),
                run.stdout
            )
        })
    }

    /// Runs a command that must fail with the service error `code`; answers its stderr.
    fn fails_with(&self, overrides: &[(&str, &str)], args: &[&str], code: &str) -> String {
        let run = self.run_with(overrides, args);
        let exit = run.status.code();
        // awscli v1 exits 255 on a service error, AWS CLI v2 254.
        assert!(
            matches!(exit, Some(254) | Some(255)),
            "aws ecr {} should fail with {code} (exit 254/255), exited {exit:?}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("({code})")),
            "aws ecr {} should report ({code}) on stderr, got:\n{}",
            args.join(" "),
            run.stderr
        );
        run.stderr
    }

    /// Every call the sandbox logged so far.
    fn logged(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.request_log).expect("read the request log");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}")))
            .collect()
    }
}

/// Reads the sandbox's `export K=V` lines (five of them) from its stdout, with a timeout.
fn read_exports(stdout: ChildStdout) -> Result<Vec<(String, String)>, String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut exports = Vec::new();
        while exports.len() < 5 {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => {
                    let _ = tx.send(Err(format!(
                        "stdout closed after {} export lines",
                        exports.len()
                    )));
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(format!("cannot read stdout: {e}")));
                    return;
                }
            }
            let line = line.trim_end();
            let Some((key, value)) = line
                .strip_prefix("export ")
                .and_then(|kv| kv.split_once('='))
            else {
                let _ = tx.send(Err(format!("unexpected stdout line {line:?}")));
                return;
            };
            exports.push((key.to_string(), value.to_string()));
        }
        let _ = tx.send(Ok(exports));
        // Keep reading so the sandbox never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(START_TIMEOUT)
        .map_err(|_| format!("no environment printed within {START_TIMEOUT:?}"))?
}

fn drain<R: Read + Send + 'static>(mut pipe: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn prefixes(described: &Value) -> Vec<String> {
    described["pullThroughCacheRules"]
        .as_array()
        .unwrap_or_else(|| panic!("no pullThroughCacheRules in {described}"))
        .iter()
        .map(|rule| {
            rule["ecrRepositoryPrefix"]
                .as_str()
                .expect("prefix")
                .to_string()
        })
        .collect()
}

fn secret(region: &str, name: &str) -> String {
    format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:ecr-pullthroughcache/{name}")
}

fn is_epoch_seconds(v: &Value) -> bool {
    // The CLI prints the wire's epoch seconds as they came; they must be a plausible time.
    v.as_f64().is_some_and(|t| t > 1.5e9 && t < 4.0e9)
}

macro_rules! cli_or_skip {
    () => {
        match aws_cli() {
            Some(aws) => aws,
            None => return,
        }
    };
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// Create, describe, update, validate and delete a rule, and describe the demo rules, all with
/// the region and credentials the sandbox printed.
#[test]
fn rule_lifecycle() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &["--demo"]);

    // The printed environment alone selects the sandbox and us-east-1: the demo rules are there.
    let demo = sandbox.ok(&["describe-pull-through-cache-rules"]);
    let demo_prefixes: BTreeSet<String> = prefixes(&demo).into_iter().collect();
    let expected: BTreeSet<String> = ["docker-hub", "ecr-public", "ghcr", "k8s", "quay"]
        .map(String::from)
        .into();
    assert_eq!(demo_prefixes, expected);
    assert!(demo.get("nextToken").is_none(), "{demo}");
    let ghcr = &demo["pullThroughCacheRules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ecrRepositoryPrefix"] == "ghcr")
        .expect("ghcr rule")
        .clone();
    assert_eq!(ghcr["upstreamRegistryUrl"], "ghcr.io");
    assert_eq!(ghcr["upstreamRegistry"], "github-container-registry");
    assert_eq!(ghcr["registryId"], ACCOUNT);
    assert!(is_epoch_seconds(&ghcr["createdAt"]), "{ghcr}");

    // A --region flag overrides the environment's region: eu-west-1 has its own demo rules.
    let eu = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        "eu-west-1",
        "--ecr-repository-prefixes",
        "prod-mirror",
    ]);
    let mirror = &eu["pullThroughCacheRules"][0];
    assert_eq!(prefixes(&eu), ["prod-mirror"]);
    assert_eq!(mirror["upstreamRegistry"], "ecr");
    assert_eq!(mirror["upstreamRepositoryPrefix"], "prod");
    assert_eq!(
        mirror["customRoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/ecr-ptc-cross-account")
    );

    // Create in a region the demo does not seed.
    let region = "eu-central-1";
    let first_secret = secret(region, "team-hub-AbC123");
    let created = sandbox.ok(&[
        "create-pull-through-cache-rule",
        "--region",
        region,
        "--ecr-repository-prefix",
        "team-hub",
        "--upstream-registry-url",
        "registry-1.docker.io",
        "--upstream-registry",
        "docker-hub",
        "--credential-arn",
        &first_secret,
        "--upstream-repository-prefix",
        "library",
    ]);
    assert_eq!(created["ecrRepositoryPrefix"], "team-hub");
    assert_eq!(created["upstreamRegistryUrl"], "registry-1.docker.io");
    assert_eq!(created["upstreamRegistry"], "docker-hub");
    assert_eq!(created["credentialArn"], first_secret.as_str());
    assert_eq!(created["upstreamRepositoryPrefix"], "library");
    assert_eq!(created["registryId"], ACCOUNT);
    assert!(is_epoch_seconds(&created["createdAt"]), "{created}");
    assert!(
        created.get("updatedAt").is_none(),
        "Create answers no updatedAt: {created}"
    );

    let described = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--ecr-repository-prefixes",
        "team-hub",
    ]);
    assert_eq!(prefixes(&described), ["team-hub"]);
    let rule = &described["pullThroughCacheRules"][0];
    assert_eq!(rule["credentialArn"], first_secret.as_str());
    assert_eq!(rule["createdAt"], created["createdAt"]);

    // Update the credential.
    let second_secret = secret(region, "team-hub-rotated-Zz9");
    let updated = sandbox.ok(&[
        "update-pull-through-cache-rule",
        "--region",
        region,
        "--ecr-repository-prefix",
        "team-hub",
        "--credential-arn",
        &second_secret,
    ]);
    assert_eq!(updated["ecrRepositoryPrefix"], "team-hub");
    assert_eq!(updated["registryId"], ACCOUNT);
    assert_eq!(updated["credentialArn"], second_secret.as_str());
    assert_eq!(updated["upstreamRepositoryPrefix"], "library");
    assert!(is_epoch_seconds(&updated["updatedAt"]), "{updated}");
    let after = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--ecr-repository-prefixes",
        "team-hub",
    ]);
    assert_eq!(
        after["pullThroughCacheRules"][0]["credentialArn"],
        second_secret.as_str()
    );

    // Validate.
    let validated = sandbox.ok(&[
        "validate-pull-through-cache-rule",
        "--region",
        region,
        "--ecr-repository-prefix",
        "team-hub",
    ]);
    assert_eq!(validated["ecrRepositoryPrefix"], "team-hub");
    assert_eq!(validated["registryId"], ACCOUNT);
    assert_eq!(validated["upstreamRegistryUrl"], "registry-1.docker.io");
    assert_eq!(validated["credentialArn"], second_secret.as_str());
    assert_eq!(validated["isValid"], true);

    // Delete answers the deleted rule; afterwards the rule is gone.
    let deleted = sandbox.ok(&[
        "delete-pull-through-cache-rule",
        "--region",
        region,
        "--ecr-repository-prefix",
        "team-hub",
    ]);
    assert_eq!(deleted["ecrRepositoryPrefix"], "team-hub");
    assert_eq!(deleted["upstreamRegistryUrl"], "registry-1.docker.io");
    assert_eq!(deleted["credentialArn"], second_secret.as_str());
    assert_eq!(deleted["registryId"], ACCOUNT);
    let empty = sandbox.ok(&["describe-pull-through-cache-rules", "--region", region]);
    assert_eq!(prefixes(&empty), Vec::<String>::new());

    // The sandbox saw each call signed for the region the CLI was told.
    let log = sandbox.logged();
    let ops_in_region: Vec<&str> = log
        .iter()
        .filter(|e| e["region"] == region)
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops_in_region,
        [
            "CreatePullThroughCacheRule",
            "DescribePullThroughCacheRules",
            "UpdatePullThroughCacheRule",
            "DescribePullThroughCacheRules",
            "ValidatePullThroughCacheRule",
            "DeletePullThroughCacheRule",
            "DescribePullThroughCacheRules",
        ]
    );
    let create = log
        .iter()
        .find(|e| e["operation"] == "CreatePullThroughCacheRule")
        .unwrap();
    assert_eq!(create["parameters"]["ecrRepositoryPrefix"], "team-hub");
    assert_eq!(create["parameters"]["upstreamRepositoryPrefix"], "library");
    assert_eq!(create["status"], 200);
}

/// The CLI follows nextToken: `--page-size 2` over 7 rules makes 4 Describe calls and prints all 7;
/// `--max-items` and `--starting-token` and the raw `--max-results`/`--next-token` work too.
#[test]
fn describe_paginates() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &[]);
    let region = "ap-northeast-1";
    let created: Vec<String> = (1..=7).map(|i| format!("mirror-{i}")).collect();
    for prefix in &created {
        sandbox.ok(&[
            "create-pull-through-cache-rule",
            "--region",
            region,
            "--ecr-repository-prefix",
            prefix,
            "--upstream-registry-url",
            "public.ecr.aws",
        ]);
    }

    let before = sandbox.logged().len();
    let all = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--page-size",
        "2",
    ]);
    let mut got = prefixes(&all);
    got.sort();
    assert_eq!(
        got, created,
        "the CLI must print every rule across the pages"
    );
    assert!(
        all.get("nextToken").is_none() && all.get("NextToken").is_none(),
        "{all}"
    );

    let calls: Vec<Value> = sandbox.logged().split_off(before);
    assert_eq!(
        calls.len(),
        4,
        "7 rules in pages of 2 take 4 calls: {calls:#?}"
    );
    for (i, call) in calls.iter().enumerate() {
        assert_eq!(call["operation"], "DescribePullThroughCacheRules");
        assert_eq!(call["region"], region);
        assert_eq!(call["status"], 200);
        assert_eq!(call["parameters"]["maxResults"], 2, "call {i}: {call}");
        assert_eq!(
            call["parameters"].get("nextToken").is_some(),
            i > 0,
            "only the calls after the first carry a nextToken: {call}"
        );
    }
    let tokens: BTreeSet<&str> = calls[1..]
        .iter()
        .map(|c| c["parameters"]["nextToken"].as_str().unwrap())
        .collect();
    assert_eq!(tokens.len(), 3, "each page has its own token");

    // --max-items stops early with a CLI NextToken that --starting-token resumes from.
    let head = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--page-size",
        "2",
        "--max-items",
        "3",
    ]);
    let head_prefixes = prefixes(&head);
    assert_eq!(head_prefixes.len(), 3, "{head}");
    let resume = head["NextToken"]
        .as_str()
        .unwrap_or_else(|| panic!("--max-items 3 of 7 must print a NextToken: {head}"));
    let tail = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--page-size",
        "2",
        "--starting-token",
        resume,
    ]);
    let mut joined: Vec<String> = head_prefixes.into_iter().chain(prefixes(&tail)).collect();
    assert_eq!(joined.len(), 7, "head + tail: {joined:?}");
    joined.sort();
    assert_eq!(joined, created);

    // The raw service parameters turn the CLI's paginator off: one page and the service's token.
    let page = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--max-results",
        "5",
    ]);
    assert_eq!(prefixes(&page).len(), 5, "{page}");
    let token = page["nextToken"]
        .as_str()
        .unwrap_or_else(|| panic!("a partial page carries nextToken: {page}"));
    let rest = sandbox.ok(&[
        "describe-pull-through-cache-rules",
        "--region",
        region,
        "--max-results",
        "5",
        "--next-token",
        token,
    ]);
    assert_eq!(prefixes(&rest).len(), 2, "{rest}");
    assert!(
        rest.get("nextToken").is_none(),
        "the last page has no token: {rest}"
    );
    let mut both: Vec<String> = prefixes(&page).into_iter().chain(prefixes(&rest)).collect();
    both.sort();
    assert_eq!(both, created);
}

/// Put, get and delete the registry policy, per region.
#[test]
fn registry_policy() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &[]);
    let region = "us-west-2";
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PullThroughCache",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
            "Resource": format!("arn:aws:ecr:{region}:{ACCOUNT}:repository/*")
        }]
    })
    .to_string();

    sandbox.fails_with(
        &[],
        &["get-registry-policy", "--region", region],
        "RegistryPolicyNotFoundException",
    );

    let put = sandbox.ok(&[
        "put-registry-policy",
        "--region",
        region,
        "--policy-text",
        &policy,
    ]);
    assert_eq!(put["registryId"], ACCOUNT);
    let put_policy: Value =
        serde_json::from_str(put["policyText"].as_str().expect("policyText")).unwrap();
    assert_eq!(put_policy["Statement"][0]["Sid"], "PullThroughCache");

    let got = sandbox.ok(&["get-registry-policy", "--region", region]);
    assert_eq!(got["registryId"], ACCOUNT);
    let got_policy: Value =
        serde_json::from_str(got["policyText"].as_str().expect("policyText")).unwrap();
    assert_eq!(got_policy, serde_json::from_str::<Value>(&policy).unwrap());

    // Policies are per region: the environment's us-east-1 has none.
    sandbox.fails_with(
        &[],
        &["get-registry-policy"],
        "RegistryPolicyNotFoundException",
    );

    let deleted = sandbox.ok(&["delete-registry-policy", "--region", region]);
    assert_eq!(deleted["registryId"], ACCOUNT);
    assert_eq!(
        serde_json::from_str::<Value>(deleted["policyText"].as_str().unwrap()).unwrap(),
        got_policy
    );
    sandbox.fails_with(
        &[],
        &["get-registry-policy", "--region", region],
        "RegistryPolicyNotFoundException",
    );
    sandbox.fails_with(
        &[],
        &["delete-registry-policy", "--region", region],
        "RegistryPolicyNotFoundException",
    );
}

/// Service errors reach the CLI as their codes, with its error exit status.
#[test]
fn error_paths() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &["--demo", "--fail-region", "sa-east-1"]);

    // A missing prefix fails Describe as a whole.
    let stderr = sandbox.fails_with(
        &[],
        &[
            "describe-pull-through-cache-rules",
            "--ecr-repository-prefixes",
            "no-such-prefix",
        ],
        "PullThroughCacheRuleNotFoundException",
    );
    assert!(
        stderr.contains("DescribePullThroughCacheRules"),
        "names the operation: {stderr}"
    );
    for op in [
        "update-pull-through-cache-rule",
        "delete-pull-through-cache-rule",
        "validate-pull-through-cache-rule",
    ] {
        let mut args = vec![op, "--ecr-repository-prefix", "no-such-prefix"];
        if op == "update-pull-through-cache-rule" {
            args.extend(["--credential-arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x-AbC123"]);
        }
        sandbox.fails_with(&[], &args, "PullThroughCacheRuleNotFoundException");
    }

    // The demo already has `quay` in us-east-1.
    sandbox.fails_with(
        &[],
        &[
            "create-pull-through-cache-rule",
            "--ecr-repository-prefix",
            "quay",
            "--upstream-registry-url",
            "quay.io",
        ],
        "PullThroughCacheRuleAlreadyExistsException",
    );

    // A wrong secret key: the signature does not verify.
    sandbox.fails_with(
        &[("AWS_SECRET_ACCESS_KEY", "not-the-sandbox-secret-key")],
        &["describe-pull-through-cache-rules"],
        "InvalidSignatureException",
    );
    // An unknown access key id.
    sandbox.fails_with(
        &[("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")],
        &["get-registry-policy"],
        "UnrecognizedClientException",
    );
    // --fail-region answers AccessDeniedException there, and only there.
    let denied = sandbox.fails_with(
        &[],
        &["describe-pull-through-cache-rules", "--region", "sa-east-1"],
        "AccessDeniedException",
    );
    assert!(
        denied.contains("ecr:DescribePullThroughCacheRules"),
        "{denied}"
    );
    sandbox.ok(&["describe-pull-through-cache-rules", "--region", "eu-west-1"]);

    // None of the failures was a malformed request: the sandbox logged each with its code.
    let codes: Vec<String> = sandbox
        .logged()
        .iter()
        .filter_map(|e| e["error_code"].as_str().map(String::from))
        .collect();
    assert!(
        codes.iter().all(|c| c != "SerializationException"
            && c != "ValidationException"
            && c != "UnknownOperationException"),
        "{codes:?}"
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "PullThroughCacheRuleNotFoundException")
            .count(),
        4
    );
}

/// The CLI retries ThrottlingException and gives up after AWS_MAX_ATTEMPTS calls.
#[test]
fn throttling_is_retried() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &["--throttle-rate", "1"]);
    let stderr = sandbox.fails_with(
        &[("AWS_MAX_ATTEMPTS", "3"), ("AWS_RETRY_MODE", "standard")],
        &["describe-pull-through-cache-rules"],
        "ThrottlingException",
    );
    assert!(stderr.contains("max retries: 2"), "{stderr}");
    let log = sandbox.logged();
    assert_eq!(log.len(), 3, "{log:#?}");
    assert!(
        log.iter()
            .all(|e| e["error_code"] == "ThrottlingException" && e["status"] == 400)
    );
}

// ---------------------------------------------------------------------------------------------
// Repository creation templates
// ---------------------------------------------------------------------------------------------

fn template_prefixes(described: &Value) -> Vec<String> {
    described["repositoryCreationTemplates"]
        .as_array()
        .unwrap_or_else(|| panic!("no repositoryCreationTemplates in {described}"))
        .iter()
        .map(|t| t["prefix"].as_str().expect("prefix").to_string())
        .collect()
}

/// Describe the demo's templates, then create, describe, update and delete one, with the
/// CLI's shorthand and JSON arguments for every member.
#[test]
fn template_lifecycle() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &["--demo"]);

    // The environment's us-east-1 has the demo's ROOT template.
    let demo = sandbox.ok(&["describe-repository-creation-templates"]);
    assert_eq!(demo["registryId"], ACCOUNT);
    assert_eq!(template_prefixes(&demo), ["ROOT"]);
    let root = &demo["repositoryCreationTemplates"][0];
    assert_eq!(
        root["appliedFor"],
        serde_json::json!(["PULL_THROUGH_CACHE"])
    );
    assert!(is_epoch_seconds(&root["createdAt"]), "{root}");
    let hub = sandbox.ok(&[
        "describe-repository-creation-templates",
        "--region",
        "eu-west-1",
        "--prefixes",
        "docker-hub",
        "no-such-prefix",
    ]);
    assert_eq!(
        template_prefixes(&hub),
        ["docker-hub"],
        "a missing prefix is left out"
    );
    let hub = &hub["repositoryCreationTemplates"][0];
    assert_eq!(hub["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(hub["encryptionConfiguration"]["encryptionType"], "KMS");

    let region = "eu-central-1";
    let role = format!("arn:aws:iam::{ACCOUNT}:role/ecr-template");
    let key = format!("arn:aws:kms:{region}:{ACCOUNT}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d");
    let encryption = serde_json::json!({"encryptionType": "KMS", "kmsKey": key}).to_string();
    let lifecycle = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":20},"action":{"type":"expire"}}]}"#;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"pull","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["ecr:BatchGetImage"]}}]}}"#
    );
    let created = sandbox.ok(&[
        "create-repository-creation-template",
        "--region",
        region,
        "--prefix",
        "team/app",
        "--description",
        "the app team",
        "--encryption-configuration",
        &encryption,
        "--resource-tags",
        "Key=team,Value=app",
        "Key=env,Value=prod",
        "--image-tag-mutability",
        "IMMUTABLE_WITH_EXCLUSION",
        "--image-tag-mutability-exclusion-filters",
        "filterType=WILDCARD,filter=latest",
        "--repository-policy",
        &policy,
        "--lifecycle-policy",
        lifecycle,
        "--applied-for",
        "PULL_THROUGH_CACHE",
        "REPLICATION",
        "--custom-role-arn",
        &role,
    ]);
    assert_eq!(created["registryId"], ACCOUNT);
    let t = &created["repositoryCreationTemplate"];
    assert_eq!(t["prefix"], "team/app");
    assert_eq!(t["description"], "the app team");
    assert_eq!(t["encryptionConfiguration"]["kmsKey"], key.as_str());
    assert_eq!(
        t["resourceTags"],
        serde_json::json!([{"Key": "team", "Value": "app"}, {"Key": "env", "Value": "prod"}])
    );
    assert_eq!(
        t["imageTagMutabilityExclusionFilters"],
        serde_json::json!([{"filterType": "WILDCARD", "filter": "latest"}])
    );
    assert_eq!(t["repositoryPolicy"], policy.as_str());
    assert_eq!(t["lifecyclePolicy"], lifecycle);
    assert_eq!(
        t["appliedFor"],
        serde_json::json!(["PULL_THROUGH_CACHE", "REPLICATION"])
    );
    assert_eq!(t["customRoleArn"], role.as_str());
    assert!(
        is_epoch_seconds(&t["createdAt"]) && is_epoch_seconds(&t["updatedAt"]),
        "{t}"
    );

    let described = sandbox.ok(&[
        "describe-repository-creation-templates",
        "--region",
        region,
        "--prefixes",
        "team/app",
    ]);
    assert_eq!(described["repositoryCreationTemplates"][0], *t);

    let updated = sandbox.ok(&[
        "update-repository-creation-template",
        "--region",
        region,
        "--prefix",
        "team/app",
        "--description",
        "the app team, all tags mutable",
        "--image-tag-mutability",
        "MUTABLE",
    ]);
    let u = &updated["repositoryCreationTemplate"];
    assert_eq!(u["description"], "the app team, all tags mutable");
    assert_eq!(u["imageTagMutability"], "MUTABLE");
    assert!(
        u.get("imageTagMutabilityExclusionFilters").is_none(),
        "the filters went with the mutability they qualified: {u}"
    );
    assert_eq!(u["resourceTags"], t["resourceTags"], "not named, so kept");
    assert_eq!(u["createdAt"], t["createdAt"]);

    let deleted = sandbox.ok(&[
        "delete-repository-creation-template",
        "--region",
        region,
        "--prefix",
        "team/app",
    ]);
    assert_eq!(deleted["registryId"], ACCOUNT);
    assert_eq!(deleted["repositoryCreationTemplate"]["prefix"], "team/app");
    let empty = sandbox.ok(&["describe-repository-creation-templates", "--region", region]);
    assert_eq!(template_prefixes(&empty), Vec::<String>::new());

    let ops: Vec<String> = sandbox
        .logged()
        .iter()
        .filter(|e| e["region"] == region)
        .map(|e| e["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ops,
        [
            "CreateRepositoryCreationTemplate",
            "DescribeRepositoryCreationTemplates",
            "UpdateRepositoryCreationTemplate",
            "DeleteRepositoryCreationTemplate",
            "DescribeRepositoryCreationTemplates",
        ]
    );
}

/// The CLI follows the templates' nextToken, and the service errors reach it as their codes.
#[test]
fn template_pages_and_errors() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &["--demo"]);
    let region = "ap-northeast-1";
    let created: Vec<String> = (1..=5).map(|i| format!("team-{i}")).collect();
    for prefix in &created {
        sandbox.ok(&[
            "create-repository-creation-template",
            "--region",
            region,
            "--prefix",
            prefix,
            "--applied-for",
            "CREATE_ON_PUSH",
        ]);
    }
    let before = sandbox.logged().len();
    let all = sandbox.ok(&[
        "describe-repository-creation-templates",
        "--region",
        region,
        "--page-size",
        "2",
    ]);
    assert_eq!(template_prefixes(&all), created);
    let calls = sandbox.logged().split_off(before);
    assert_eq!(calls.len(), 3, "5 templates in pages of 2: {calls:#?}");
    assert!(calls.iter().all(|c| c["parameters"]["maxResults"] == 2));
    let page = sandbox.ok(&[
        "describe-repository-creation-templates",
        "--region",
        region,
        "--max-results",
        "4",
    ]);
    assert_eq!(template_prefixes(&page).len(), 4);
    let token = page["nextToken"]
        .as_str()
        .expect("a partial page has a token");
    let rest = sandbox.ok(&[
        "describe-repository-creation-templates",
        "--region",
        region,
        "--max-results",
        "4",
        "--next-token",
        token,
    ]);
    assert_eq!(template_prefixes(&rest), ["team-5"]);

    // The demo's us-east-1 already has ROOT.
    sandbox.fails_with(
        &[],
        &[
            "create-repository-creation-template",
            "--prefix",
            "ROOT",
            "--applied-for",
            "REPLICATION",
        ],
        "TemplateAlreadyExistsException",
    );
    for op in [
        "update-repository-creation-template",
        "delete-repository-creation-template",
    ] {
        sandbox.fails_with(
            &[],
            &[op, "--prefix", "no-such-prefix"],
            "TemplateNotFoundException",
        );
    }
    let stderr = sandbox.fails_with(
        &[],
        &[
            "create-repository-creation-template",
            "--prefix",
            "team",
            "--applied-for",
            "PULL_THROUGH_CACHE",
            "--lifecycle-policy",
            "{not json",
        ],
        "InvalidParameterException",
    );
    assert!(stderr.contains("lifecyclePolicy"), "{stderr}");
    // The CLI checks neither patterns nor enum values: the sandbox does.
    let stderr = sandbox.fails_with(
        &[],
        &[
            "create-repository-creation-template",
            "--prefix",
            "Team",
            "--applied-for",
            "ON_A_WHIM",
        ],
        "ValidationException",
    );
    assert!(stderr.contains("2 validation errors detected"), "{stderr}");
    let missing = sandbox.ok(&[
        "describe-repository-creation-templates",
        "--prefixes",
        "no-such-prefix",
    ]);
    assert_eq!(template_prefixes(&missing), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Repositories, images and the registry
// ---------------------------------------------------------------------------------------------

/// The CLI reads the demo's repositories, images and registry settings, and creates, tags,
/// configures and deletes a repository, as it would against ECR.
#[test]
fn repositories_images_and_registry() {
    let aws = cli_or_skip!();
    let sandbox = Sandbox::start(aws, &["--demo"]);

    let described = sandbox.ok(&[
        "describe-repositories",
        "--repository-names",
        "docker-hub/library/nginx",
    ]);
    let nginx = &described["repositories"][0];
    assert_eq!(nginx["imageTagMutability"], "IMMUTABLE");
    assert_eq!(nginx["imageScanningConfiguration"]["scanOnPush"], true);
    assert!(is_epoch_seconds(&nginx["createdAt"]), "{nginx}");
    sandbox.fails_with(
        &[],
        &["describe-repositories", "--repository-names", "no/such"],
        "RepositoryNotFoundException",
    );
    // The CLI pages on its own (--page-size 2): every repository of us-east-1 arrives.
    let all = sandbox.ok(&["describe-repositories", "--page-size", "2"]);
    assert_eq!(all["repositories"].as_array().unwrap().len(), 8, "{all}");

    let images = sandbox.ok(&[
        "describe-images",
        "--repository-name",
        "docker-hub/library/nginx",
        "--filter",
        "tagStatus=TAGGED",
    ]);
    let images = images["imageDetails"].as_array().unwrap();
    assert_eq!(
        images.len(),
        2,
        "the untagged image is filtered out: {images:?}"
    );
    assert!(images.iter().all(|i| i["imageSizeInBytes"].is_u64()));

    let lifecycle = sandbox.ok(&["get-lifecycle-policy", "--repository-name", "k8s/pause"]);
    assert!(
        lifecycle["lifecyclePolicyText"]
            .as_str()
            .unwrap()
            .contains("rules")
    );
    sandbox.fails_with(
        &[],
        &["get-lifecycle-policy", "--repository-name", "team/scratch"],
        "LifecyclePolicyNotFoundException",
    );

    let registry = sandbox.ok(&["get-registry-scanning-configuration"]);
    assert_eq!(registry["scanningConfiguration"]["scanType"], "ENHANCED");
    let replication = sandbox.ok(&["describe-registry"]);
    assert_eq!(replication["registryId"], ACCOUNT);

    let created = sandbox.ok(&[
        "create-repository",
        "--repository-name",
        "team/cli",
        "--image-scanning-configuration",
        "scanOnPush=true",
        "--tags",
        "Key=team,Value=cli",
    ]);
    let arn = created["repository"]["repositoryArn"]
        .as_str()
        .unwrap()
        .to_string();
    sandbox.ok(&[
        "put-image-tag-mutability",
        "--repository-name",
        "team/cli",
        "--image-tag-mutability",
        "IMMUTABLE",
    ]);
    let tags = sandbox.ok(&["list-tags-for-resource", "--resource-arn", &arn]);
    assert_eq!(
        tags["tags"],
        serde_json::json!([{"Key": "team", "Value": "cli"}])
    );
    sandbox.fails_with(
        &[],
        &["delete-repository", "--repository-name", "k8s/pause"],
        "RepositoryNotEmptyException",
    );
    let deleted = sandbox.ok(&["delete-repository", "--repository-name", "team/cli"]);
    assert_eq!(deleted["repository"]["imageTagMutability"], "IMMUTABLE");

    let digest = "sha256:efc553da16aa59833a9a50e70d0ae46c45231e4a9fae8e701aa19adbdf1a1792";
    let batch = sandbox.ok(&[
        "batch-delete-image",
        "--repository-name",
        "k8s/pause",
        "--image-ids",
        &format!("imageDigest={digest}"),
        "imageDigest=sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ]);
    assert_eq!(batch["imageIds"][0]["imageDigest"], digest);
    assert_eq!(batch["failures"][0]["failureCode"], "ImageNotFound");
}
