//! `skyql sandbox`: serve the ECR-compatible endpoint until interrupted.

use std::io::Write;
use std::time::Duration;

use super::args::SandboxArgs;
use crate::error::{Error, Result};
use crate::resources::ecr::constraints::check_registry_id;
use crate::sandbox::config::{parse_secret_fault, parse_seed};
use crate::sandbox::{KeyPair, Sandbox, SandboxConfig};

/// Turns the flags into a sandbox configuration (reading the seed file).
pub fn config_from_args(args: &SandboxArgs) -> Result<SandboxConfig> {
    let mut config = if args.demo {
        SandboxConfig::demo()
    } else {
        SandboxConfig::default()
    };
    if let Some(path) = &args.seed {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read the seed file {}", path.display()), e))?;
        config.add_seed(parse_seed(&text, &path.display().to_string())?);
    }
    check_registry_id(&args.account_id).map_err(|_| {
        Error::Usage(format!(
            "--account-id '{}' is not a 12-digit account id",
            args.account_id
        ))
    })?;
    config.port = args.port;
    config.keys = KeyPair {
        access_key_id: args.access_key_id.clone(),
        secret_access_key: args.secret_access_key.clone(),
    };
    config.account_id = args.account_id.clone();
    config.latency = Duration::from_millis(args.latency_ms);
    config.throttle_rate = args.throttle_rate;
    config.server_error_rate = args.server_error_rate;
    config.lose_responses = args.lose_responses.clone();
    config.state_file = args.state.clone();
    config.fail_regions = args.fail_regions.clone();
    for spec in &args.secret_faults {
        let (arn, kind) = parse_secret_fault(spec)?;
        config.secrets.insert(arn, kind);
    }
    config.request_log = args.request_log.clone();
    config = config.with_members(args.members);
    config.fail_assume_role = args.fail_assume_role.clone();
    config.external_id = args.external_id.clone();
    Ok(config)
}

/// Starts the sandbox, prints the shell-ready environment on stdout and serves until Ctrl-C or SIGTERM.
pub async fn run(args: &SandboxArgs) -> Result<()> {
    let config = config_from_args(args)?;
    let rules: usize = config.seed.values().map(Vec::len).sum();
    let regions = config.seed.len();
    let accounts = match config.members.len() {
        0 => String::new(),
        n => format!(", an organization of {} accounts", n + 1),
    };
    let sandbox = Sandbox::start(config)?;
    let mut out = std::io::stdout().lock();
    out.write_all(sandbox.exports().as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    drop(out);
    eprintln!(
        "skyql sandbox: endpoint on {} answering {} ECR operations, STS AssumeRole and \
         GetCallerIdentity, and Organizations ListAccounts ({rules} rules in {regions} \
         regions{accounts}); Ctrl-C to stop",
        sandbox.endpoint(),
        crate::sandbox::operations::names().len()
    );
    wait_for_stop().await;
    eprintln!("skyql sandbox: stopped");
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
