//! How skyql reaches AWS: profile, regions, endpoint, credentials and retries, resolved from
//! flags and the standard AWS environment, never from instance metadata for the region.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::ProvideRegion;
use aws_config::profile::ProfileFileRegionProvider;
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};
use crate::schema::check_region;
use crate::schema::schemas;

/// Default `--connect-timeout`: a reachable endpoint connects in well under a second.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `--read-timeout`: ECR answers in milliseconds; a minute-long silence is a dead peer.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `--retry-budget`: about five retries with the SDK's backoff (1, 2, 4, 8 s at most),
/// where eight attempts could wait a minute.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(20);
/// Default `--max-response-mb`: ECR's largest answers (a page of templates with their
/// policies) are a few megabytes.
pub const DEFAULT_MAX_RESPONSE_MB: u64 = 16;

/// Retry strategy for throttled or failed calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RetryMode {
    /// Exponential backoff with jitter.
    #[default]
    Standard,
    /// Standard plus client-side rate limiting that adapts to throttling.
    Adaptive,
}

/// Settings for every AWS call of a session.
#[derive(Clone)]
pub struct AwsSettings {
    /// Named profile (`--profile`), else `AWS_PROFILE`/default.
    pub profile: Option<String>,
    /// Region set from `--regions` (`all` already expanded); `None` means the profile's region.
    pub regions: Option<Vec<String>>,
    /// Endpoint override (the in-process sandbox); otherwise `AWS_ENDPOINT_URL[_ECR]` applies.
    pub endpoint_url: Option<String>,
    /// Static key pair (the in-process sandbox's); otherwise the default credential chain.
    pub static_keys: Option<(String, String)>,
    /// Regions called at once.
    pub max_concurrency: usize,
    /// Retry strategy.
    pub retry_mode: RetryMode,
    /// Attempts per call, including the first.
    pub max_attempts: u32,
    /// How long a connection may take to open.
    pub connect_timeout: Duration,
    /// How long an attempt may take, from sending its request to its answer's last byte.
    pub read_timeout: Duration,
    /// How long a statement keeps retrying while none of its calls succeeds.
    pub retry_budget: Duration,
    /// The most bytes an answer may hold.
    pub max_response_bytes: u64,
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials are never printed, also not in debug output.
        f.debug_struct("AwsSettings")
            .field("profile", &self.profile)
            .field("regions", &self.regions)
            .field("endpoint_url", &self.endpoint_url)
            .field(
                "static_keys",
                &self
                    .static_keys
                    .as_ref()
                    .map(|(akid, _)| (akid, "** redacted **")),
            )
            .field("max_concurrency", &self.max_concurrency)
            .field("retry_mode", &self.retry_mode)
            .field("max_attempts", &self.max_attempts)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry_budget", &self.retry_budget)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            profile: None,
            regions: None,
            endpoint_url: None,
            static_keys: None,
            max_concurrency: 16,
            retry_mode: RetryMode::Standard,
            max_attempts: 8,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            retry_budget: DEFAULT_RETRY_BUDGET,
            max_response_bytes: DEFAULT_MAX_RESPONSE_MB << 20,
        }
    }
}

/// Parses `--regions`: a comma-separated list, or `all` for every region in provider-schemas.
pub fn parse_regions(spec: &str) -> Result<Vec<String>> {
    let known = &schemas().provider.regions;
    if spec.trim().eq_ignore_ascii_case("all") {
        return Ok(known.clone());
    }
    let mut regions: Vec<String> = Vec::new();
    for r in spec.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        check_region(r, known).map_err(|e| Error::Usage(format!("--regions: {e}")))?;
        if !regions.iter().any(|x| x == r) {
            regions.push(r.to_string());
        }
    }
    if regions.is_empty() {
        return Err(Error::Usage("--regions is empty: give r1,r2 or all".into()));
    }
    Ok(regions)
}

impl AwsSettings {
    /// Checks that the profile named by `--profile`, else by `AWS_PROFILE`, exists in the AWS
    /// config or credentials file, so a typo is an error naming it rather than another
    /// account's credentials or a missing region (exit 2). `AWS_PROFILE` is not checked when
    /// the session signs with keys of its own (the sandbox's).
    pub async fn check_profile(&self) -> Result<()> {
        let from_env = std::env::var("AWS_PROFILE")
            .ok()
            .filter(|p| !p.is_empty() && self.static_keys.is_none());
        let (name, named_by) = match (&self.profile, &from_env) {
            (Some(name), _) => (name.as_str(), format!("--profile {name}")),
            (None, Some(name)) => (name.as_str(), format!("AWS_PROFILE={name}")),
            (None, None) => return Ok(()),
        };
        let files = [
            ("AWS_CONFIG_FILE", "~/.aws/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        ]
        .map(|(var, default)| std::env::var(var).unwrap_or_else(|_| default.to_string()))
        .join(" or ");
        let set = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
            .await
            .map_err(|e| {
                Error::Usage(format!(
                    "{named_by}: cannot read the AWS config files ({files}): {e}"
                ))
            })?;
        if set.get_profile(name).is_some() {
            return Ok(());
        }
        let mut known: Vec<&str> = set.profiles().collect();
        known.sort_unstable();
        let suggestion = crate::suggest::closest(name, known.iter().copied())
            .map(|s| format!(". Did you mean '{s}'?"))
            .unwrap_or_default();
        Err(Error::Usage(format!(
            "{named_by}: profile '{name}' not found in {files}{}{suggestion}",
            if known.is_empty() {
                " (no profile is defined there)".to_string()
            } else {
                format!("; profiles there: {}", known.join(", "))
            }
        )))
    }

    /// The session's default regions: `--regions`, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else
    /// the profile's `region`, each checked like `--regions`. Instance metadata is deliberately
    /// not asked (it hangs off EC2).
    pub async fn default_regions(&self) -> Result<Vec<String>, String> {
        if let Some(regions) = &self.regions {
            return Ok(regions.clone());
        }
        let known = &schemas().provider.regions;
        let checked = |region: String, source: &str| match check_region(&region, known) {
            Ok(()) => Ok(vec![region]),
            Err(e) => Err(format!("the region from {source}: {e}")),
        };
        if let Some(region) = EnvironmentVariableRegionProvider::new().region().await {
            return checked(region.to_string(), "AWS_REGION / AWS_DEFAULT_REGION");
        }
        let mut profile = ProfileFileRegionProvider::builder();
        if let Some(name) = &self.profile {
            profile = profile.profile_name(name);
        }
        if let Some(region) = profile.build().region().await {
            return checked(region.to_string(), "the AWS profile");
        }
        Err("no AWS region is configured: pass --regions r1,r2 (or --regions all), set AWS_REGION, \
             or set `region` in your AWS profile; or pin regions in SQL with WHERE region = '…'"
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret_key() {
        let s = AwsSettings {
            static_keys: Some(("AKIDEXAMPLE".into(), "wJalrXUtnFEMI".into())),
            ..AwsSettings::default()
        };
        let text = format!("{s:?}");
        assert!(
            text.contains("AKIDEXAMPLE") && !text.contains("wJalrXUtnFEMI"),
            "{text}"
        );
    }

    #[test]
    fn regions_flag() {
        assert_eq!(
            parse_regions("us-east-1, eu-west-1,us-east-1").unwrap(),
            ["us-east-1", "eu-west-1"]
        );
        assert_eq!(parse_regions("all").unwrap(), schemas().provider.regions);
        assert!(parse_regions("").unwrap_err().to_string().contains("empty"));
        assert!(
            parse_regions("us-eats-1")
                .unwrap_err()
                .to_string()
                .contains("Did you mean 'us-east-1'?")
        );
    }
}
