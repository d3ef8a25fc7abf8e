//! The accounts a session reaches, and their credentials: `--accounts ID,…` or
//! `--accounts org` (discovered with Organizations ListAccounts) with `--role-name`, each
//! account's role assumed from the base credentials through a provider of its own that keeps
//! what it assumed, so that every region of an account shares one AssumeRole and no account's
//! credentials evict another's (the SDK's identity cache is per client, and the one an
//! `SdkConfig` carries holds 64 partitions).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{
    ProvideCredentials, SharedCredentialsProvider, error::CredentialsError, future,
};
use aws_sdk_ecr::error::ProvideErrorMetadata;
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::resources::ecr::constraints::check_registry_id;

/// The session name of every role skyql assumes (CloudTrail shows it).
pub const SESSION_NAME: &str = "skyql";

/// Which accounts a session reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    /// The account of the base credentials alone.
    Base,
    /// These accounts, each through the role `role_name`.
    Listed {
        /// The account ids, in the order given, without repeats.
        ids: Vec<String>,
        /// The role assumed in each.
        role_name: String,
        /// The external id the roles' trust policies require, if any.
        external_id: Option<String>,
    },
    /// The organization's ACTIVE accounts, each through the role `role_name`.
    Organization {
        /// The role assumed in each.
        role_name: String,
        /// The external id the roles' trust policies require, if any.
        external_id: Option<String>,
    },
}

/// Reads `--accounts`, `--role-name` and `--external-id`: every mistake is a usage error that
/// says how to fix it, before any call.
pub fn parse_source(
    accounts: Option<&str>,
    role_name: Option<&str>,
    external_id: Option<&str>,
) -> Result<AccountSource> {
    let Some(accounts) = accounts.map(str::trim) else {
        if role_name.is_some() || external_id.is_some() {
            return Err(Error::Usage(
                "--role-name and --external-id need --accounts (ID,ID,… or org): they name the \
                 role assumed in each account"
                    .into(),
            ));
        }
        return Ok(AccountSource::Base);
    };
    let role_name = match role_name.map(str::trim) {
        Some(name) if is_role_name(name) => name.to_string(),
        Some(name) => {
            return Err(Error::Usage(format!(
                "--role-name '{name}' is not an IAM role name (1-64 of letters, digits and \
                 +=,.@_-, optionally after a path/)"
            )));
        }
        None => {
            return Err(Error::Usage(format!(
                "--accounts {accounts} needs --role-name NAME: the role skyql assumes in each \
                 account (arn:aws:iam::<account>:role/NAME)"
            )));
        }
    };
    let external_id = external_id.map(str::to_string);
    if accounts.eq_ignore_ascii_case("org") {
        return Ok(AccountSource::Organization {
            role_name,
            external_id,
        });
    }
    let mut ids: Vec<String> = Vec::new();
    for id in accounts.split(',').map(str::trim) {
        check_registry_id(id).map_err(|_| {
            Error::Usage(format!(
                "--accounts: '{id}' is not a 12-digit account id (give ID,ID,… or org)"
            ))
        })?;
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    Ok(AccountSource::Listed {
        ids,
        role_name,
        external_id,
    })
}

fn is_role_name(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or_default();
    let chars_ok = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    };
    (1..=64).contains(&last.len()) && chars_ok(last) && name.split('/').all(chars_ok)
}

/// The ACTIVE accounts of the organization, from ListAccounts with the base credentials. It
/// pages while a token comes back, even after an empty page, as Organizations may answer one.
pub async fn organization_accounts(client: &aws_sdk_organizations::Client) -> Result<Vec<String>> {
    let (mut active, mut token) = (Vec::new(), None);
    loop {
        let page = client.list_accounts().set_next_token(token).send().await;
        let page = page.map_err(|e| {
            let (code, message) = (e.code().unwrap_or("Error"), e.message().unwrap_or_default());
            Error::Usage(format!(
                "--accounts org: Organizations ListAccounts failed: {code}: {message} (it must \
                 be called with credentials of the organization's management account or a \
                 delegated administrator)"
            ))
        })?;
        for account in page.accounts() {
            let is_active = account.state().is_some_and(|s| s.as_str() == "ACTIVE");
            if let (true, Some(id)) = (is_active, account.id()) {
                active.push(id.to_string());
            }
        }
        token = page.next_token;
        if token.is_none() {
            return Ok(active);
        }
    }
}

/// The credentials of one account: its own provider, to be set on every client of that
/// account (it assumes the role once and again only shortly before the credentials expire).
#[derive(Debug, Clone)]
pub struct AccountCredentials {
    /// The account id.
    pub id: String,
    /// Assumes the account's role, keeping the credentials.
    pub provider: SharedCredentialsProvider,
}

/// The credentials of `account` through `role_name`, assumed from `base`'s credentials when
/// first needed. The STS client is `base`'s (its endpoint settings, `AWS_ENDPOINT_URL_STS`).
pub async fn assumed(
    base: &SdkConfig,
    account: &str,
    role_name: &str,
    external_id: Option<&str>,
) -> AccountCredentials {
    let arn = format!("arn:aws:iam::{account}:role/{role_name}");
    let mut builder = AssumeRoleProvider::builder(arn).session_name(SESSION_NAME);
    if let Some(id) = external_id {
        builder = builder.external_id(id);
    }
    let provider = builder.configure(base).build().await;
    let kept = Cached::new(SharedCredentialsProvider::new(provider));
    AccountCredentials {
        id: account.to_string(),
        provider: SharedCredentialsProvider::new(kept),
    }
}

/// Why an account's credentials could not be had: the AWS error code and message when STS
/// answered one (AccessDenied, …), else the cause.
pub fn credentials_failure(e: &CredentialsError) -> (String, String) {
    use aws_sdk_sts::error::SdkError;
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        type Refused = SdkError<AssumeRoleError, aws_sdk_sts::config::http::HttpResponse>;
        if let Some(SdkError::ServiceError(se)) = err.downcast_ref::<Refused>() {
            let code = se.err().code().unwrap_or("Error").to_string();
            return (code, se.err().message().unwrap_or_default().to_string());
        }
        cause = err.source();
    }
    let text = aws_smithy_types::error::display::DisplayErrorContext(e).to_string();
    ("CredentialsError".into(), text)
}

/// Credentials resolved once and kept until five minutes before they expire, however many
/// clients ask (concurrent askers wait for the one resolution). Each account's assumed role is
/// kept so; so are the base credentials, which every AssumeRole signs with while the STS client
/// inside each account's provider has no cache of its own (an SSO or credential_process source
/// would otherwise run once per account).
#[derive(Debug)]
pub struct Cached {
    source: SharedCredentialsProvider,
    held: Arc<Mutex<Option<Credentials>>>,
}

impl Cached {
    /// Caches what `source` provides.
    pub fn new(source: SharedCredentialsProvider) -> Self {
        Self {
            source,
            held: Arc::default(),
        }
    }

    async fn get(&self) -> aws_credential_types::provider::Result {
        let mut held = self.held.lock().await;
        let fresh = |c: &Credentials| {
            let margin = SystemTime::now() + Duration::from_secs(300);
            c.expiry().is_none_or(|at| at > margin)
        };
        if let Some(c) = held.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let credentials = self.source.provide_credentials().await?;
        *held = Some(credentials.clone());
        Ok(credentials)
    }
}

impl ProvideCredentials for Cached {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_name_accounts_or_the_organization() {
        assert_eq!(parse_source(None, None, None).unwrap(), AccountSource::Base);
        let listed = parse_source(
            Some("111111111111, 222222222222,111111111111"),
            Some("skyql-inventory"),
            None,
        );
        assert_eq!(
            listed.unwrap(),
            AccountSource::Listed {
                ids: vec!["111111111111".into(), "222222222222".into()],
                role_name: "skyql-inventory".into(),
                external_id: None,
            }
        );
        let org = parse_source(Some("org"), Some("ops/reader"), Some("x-1"));
        assert_eq!(
            org.unwrap(),
            AccountSource::Organization {
                role_name: "ops/reader".into(),
                external_id: Some("x-1".into()),
            }
        );
    }

    #[test]
    fn a_mistake_in_the_flags_says_how_to_fix_it() {
        let cases = [
            (Some("111111111111"), None, "needs --role-name NAME"),
            (
                Some("1111,org"),
                Some("r"),
                "'1111' is not a 12-digit account id",
            ),
            (
                Some("111111111111"),
                Some("bad role!"),
                "is not an IAM role name",
            ),
            (None, Some("r"), "need --accounts"),
        ];
        for (accounts, role, says) in cases {
            let e = parse_source(accounts, role, None).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
