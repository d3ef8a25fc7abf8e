//! Flag definitions (clap); the one source of `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::print::OutputFormat;
use crate::aws::RetryMode;

/// SQL for cloud inventory: query and manage Amazon ECR pull-through cache rules.
#[derive(Debug, Parser)]
#[command(name = "skyql", version, about, long_about = None)]
pub struct Cli {
    /// Global options (accepted before or after the subcommand).
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to run.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Output format of results.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Write results to PATH instead of stdout.
    #[arg(long, global = true, value_name = "PATH")]
    pub outfile: Option<PathBuf>,
    /// AWS profile to use (default: AWS_PROFILE, else the default profile).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Regions to query when WHERE does not pin them: r1,r2 or `all` (default: the profile's region).
    #[arg(long, global = true, value_name = "LIST")]
    pub regions: Option<String>,
    /// Regions called at once.
    #[arg(long, global = true, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub max_concurrency: u32,
    /// A failed region fails the statement (exit 1, no rows) instead of giving partial results (exit 3).
    #[arg(long, global = true)]
    pub strict: bool,
    /// Retry strategy for throttled calls (adaptive rate-limits the client after throttling;
    /// at a command-line tool's low request rate it can wait seconds before each retry).
    #[arg(long, global = true, value_enum, default_value_t = RetryMode::Standard)]
    pub retry_mode: RetryMode,
    /// Attempts per API call, including the first.
    #[arg(long, global = true, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Seconds a connection to AWS may take to open.
    #[arg(long, global = true, value_name = "SECS", default_value = "5", value_parser = seconds)]
    pub connect_timeout: Duration,
    /// Seconds one attempt of an API call may take, from sending it to the last byte of its
    /// answer; a timed-out attempt is not retried, and its region fails, named on stderr.
    #[arg(long, global = true, value_name = "SECS", default_value = "30", value_parser = seconds)]
    pub read_timeout: Duration,
    /// Seconds a statement keeps retrying failed calls (throttling, server errors, dropped
    /// connections) while none of its calls succeeds; no call lasts longer than this plus
    /// --read-timeout.
    #[arg(long, global = true, value_name = "SECS", default_value = "20", value_parser = seconds)]
    pub retry_budget: Duration,
    /// The most an API answer may hold, in MiB; a larger one fails its call.
    #[arg(long, global = true, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_response_mb: u64,
    /// INSERT/UPDATE/DELETE print each API call they would make and make no mutating call.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Let UPDATE/DELETE act on every rule their WHERE matches without pinning identifiers.
    #[arg(long, global = true)]
    pub allow_bulk: bool,
    /// Let INSERT … SELECT, UPDATE, DELETE and MERGE change rules although a region of their
    /// input failed (by default they make no change and exit 1, naming the failed regions).
    #[arg(long, global = true)]
    pub allow_partial: bool,
    /// Run against an in-process sandbox seeded with the demo data (no AWS account needed).
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Keep the in-process sandbox's state in FILE between runs (implies --sandbox): the demo
    /// data the first time, then whatever the runs changed.
    #[arg(long, global = true, value_name = "FILE")]
    pub sandbox_state: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL statements (separated by `;`) and print their results.
    Exec(ExecArgs),
    /// The interactive shell (also bare `skyql` when stdin is a terminal).
    Shell(ShellArgs),
    /// Serve the ECR-compatible sandbox on 127.0.0.1 and print the environment that selects it.
    Sandbox(Box<SandboxArgs>),
    /// Write the Markdown page of every resource, rendered from provider-schemas.
    Docs(DocsArgs),
    /// Print the least-privilege IAM policy a script needs, from its plan (no AWS call).
    Permissions(ExecArgs),
}

/// `skyql exec` arguments.
#[derive(Debug, Args, Clone)]
pub struct ExecArgs {
    /// The statements, e.g. "SELECT * FROM aws.ecr.pull_through_cache_rules".
    #[arg(value_name = "SQL", conflicts_with = "file")]
    pub sql: Option<String>,
    /// Read the statements from FILE (`-` for stdin).
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `skyql shell` flags.
#[derive(Debug, Args, Clone, Default)]
pub struct ShellArgs {
    /// Where the shell keeps its history (default: $XDG_DATA_HOME/skyql/history, else
    /// ~/.local/share/skyql/history).
    #[arg(long, value_name = "PATH", conflicts_with = "no_history")]
    pub history_file: Option<PathBuf>,
    /// Keep no history on disk.
    #[arg(long)]
    pub no_history: bool,
}

/// `skyql docs` flags.
#[derive(Debug, Args, Clone)]
pub struct DocsArgs {
    /// The directory to write `aws/<service>/<resource>.md` under.
    #[arg(long, value_name = "DIR", default_value = "docs/resources")]
    pub out: PathBuf,
}

/// `skyql sandbox` flags.
#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed file: {"<region>": [<CreatePullThroughCacheRule request body>, …]}.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Seed the built-in demo rules (us-east-1, eu-west-1, ap-southeast-2).
    #[arg(long)]
    pub demo: bool,
    /// Milliseconds added to every call.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction (0..=1) of calls answered with ThrottlingException.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = fraction)]
    pub throttle_rate: f64,
    /// Fraction (0..=1) of calls answered with ServerException (HTTP 500).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = fraction)]
    pub server_error_rate: f64,
    /// Carry out every other call of OPERATION, then answer it with ServerException, as when
    /// a response is lost after the change committed (repeatable).
    #[arg(long = "lose-response", value_name = "OPERATION")]
    pub lose_responses: Vec<String>,
    /// Answer every call signed for this region with AccessDeniedException (repeatable).
    #[arg(long = "fail-region", value_name = "REGION")]
    pub fail_regions: Vec<String>,
    /// Make a secret misbehave: ARN=not-found|access-denied|undecryptable (repeatable).
    #[arg(long = "secret-fault", value_name = "ARN=KIND")]
    pub secret_faults: Vec<String>,
    /// Append one JSON object per call to FILE.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Keep the registry in FILE: loaded when it exists, written after each change.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The access key id requests must be signed with.
    #[arg(long, default_value = crate::sandbox::config::DEFAULT_ACCESS_KEY_ID)]
    pub access_key_id: String,
    /// The secret key requests must be signed with (the sandbox's own; never a real credential).
    #[arg(long, default_value = crate::sandbox::config::DEFAULT_SECRET_ACCESS_KEY, hide_default_value = true)]
    pub secret_access_key: String,
    /// The account id of the sandbox's registry.
    #[arg(long, default_value = crate::sandbox::config::DEFAULT_ACCOUNT_ID)]
    pub account_id: String,
    /// Make the account an organization's management account with N member accounts
    /// (100000000001, …; every tenth SUSPENDED), each seeded like it and reached through
    /// AssumeRole of OrganizationAccountAccessRole or skyql-inventory.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub members: usize,
    /// Refuse AssumeRole into this account with AccessDenied (repeatable).
    #[arg(long = "fail-assume-role", value_name = "ACCOUNT")]
    pub fail_assume_role: Vec<String>,
    /// Require this external id of every AssumeRole.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
}

fn seconds(s: &str) -> Result<Duration, String> {
    let f: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if f > 0.0 && f <= 3600.0 {
        Ok(Duration::from_secs_f64(f))
    } else {
        Err(format!("{f} is not between 0 and 3600 seconds"))
    }
}

fn fraction(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err(format!("{f} is not between 0 and 1"))
    }
}
