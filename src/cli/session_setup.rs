//! Turns the global flags into a session, starting the in-process demo sandbox for `--sandbox`.

use super::args::GlobalArgs;
use crate::aws::AwsSettings;
use crate::aws::settings::parse_regions;
use crate::error::Result;
use crate::files::FileAccess;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::session::{Session, SessionOptions};

/// A session and, with `--sandbox`, the sandbox it talks to (kept alive as long as the session).
pub struct OpenSession {
    /// The session.
    pub session: Session,
    /// The in-process sandbox, if any.
    pub sandbox: Option<Sandbox>,
}

/// The AWS settings the flags ask for.
pub fn aws_settings(global: &GlobalArgs) -> Result<AwsSettings> {
    Ok(AwsSettings {
        profile: global.profile.clone(),
        regions: global.regions.as_deref().map(parse_regions).transpose()?,
        max_concurrency: global.max_concurrency as usize,
        retry_mode: global.retry_mode,
        max_attempts: global.max_attempts,
        connect_timeout: global.connect_timeout,
        read_timeout: global.read_timeout,
        retry_budget: global.retry_budget,
        max_response_bytes: global.max_response_mb << 20,
        ..AwsSettings::default()
    })
}

/// Opens the session; with `--sandbox`, against a fresh demo sandbox whose regions become the
/// default region set (so the demo shows a multi-region fan-out) unless `--regions` is given.
pub async fn open(global: &GlobalArgs) -> Result<OpenSession> {
    let mut aws = aws_settings(global)?;
    let sandbox = if global.sandbox || global.sandbox_state.is_some() {
        let mut config = SandboxConfig::demo();
        config.state_file = global.sandbox_state.clone();
        let regions = demo_regions(&config);
        let sandbox = Sandbox::start(config)?;
        point_at(&mut aws, &sandbox);
        aws.regions.get_or_insert(regions);
        Some(sandbox)
    } else {
        None
    };
    let session = new_session(global, aws).await?;
    Ok(OpenSession { session, sandbox })
}

/// A new session with (changed) flags against the same sandbox, if any, so the shell's
/// `\regions` and `\profile` keep the sandbox's state.
pub async fn reopen(global: &GlobalArgs, sandbox: Option<&Sandbox>) -> Result<Session> {
    let mut aws = aws_settings(global)?;
    if let Some(sandbox) = sandbox {
        point_at(&mut aws, sandbox);
        aws.regions
            .get_or_insert_with(|| demo_regions(&SandboxConfig::demo()));
    }
    new_session(global, aws).await
}

async fn new_session(global: &GlobalArgs, aws: AwsSettings) -> Result<Session> {
    Session::new(SessionOptions {
        aws,
        strict: global.strict,
        dry_run: global.dry_run,
        allow_bulk: global.allow_bulk,
        allow_partial: global.allow_partial,
        files: FileAccess::CLI,
    })
    .await
}

fn demo_regions(config: &SandboxConfig) -> Vec<String> {
    config.seed.keys().cloned().collect()
}

fn point_at(aws: &mut AwsSettings, sandbox: &Sandbox) {
    aws.endpoint_url = Some(sandbox.endpoint());
    aws.static_keys = Some((
        sandbox.keys().access_key_id.clone(),
        sandbox.keys().secret_access_key.clone(),
    ));
}
