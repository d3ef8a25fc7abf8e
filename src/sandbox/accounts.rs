//! Who may call the sandbox: the management account's configured keys, and the temporary
//! credentials (with session tokens) that AssumeRole issues into the organization's accounts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::auth::{Signer, invalid_token};
use super::config::SandboxConfig;
use super::wire::ApiError;

/// Temporary credentials AssumeRole issued.
#[derive(Clone)]
pub struct Session {
    /// The access key id (`ASIA…`).
    pub access_key_id: String,
    /// The key, its token and its account.
    pub signer: Signer,
    /// When the credentials stop working.
    pub expires: SystemTime,
}

/// The keys the sandbox accepts.
pub struct KeyBook {
    base_key: String,
    base: Signer,
    sessions: Mutex<HashMap<String, Session>>,
}

impl KeyBook {
    /// The configured keys, belonging to the configured (management) account.
    pub fn new(config: &SandboxConfig) -> Self {
        Self {
            base_key: config.keys.access_key_id.clone(),
            base: Signer {
                secret_access_key: config.keys.secret_access_key.clone(),
                session_token: None,
                account_id: config.account_id.clone(),
            },
            sessions: Mutex::default(),
        }
    }

    /// The key of `access_key_id` at `now`: an unknown key is refused, an expired session
    /// answers ExpiredTokenException (so a client learns to refresh, not to give up).
    pub fn signer(&self, access_key_id: &str, now: SystemTime) -> Result<Signer, ApiError> {
        if access_key_id == self.base_key {
            return Ok(self.base.clone());
        }
        let sessions = self.sessions.lock().expect("sessions lock");
        let session = sessions.get(access_key_id).ok_or_else(invalid_token)?;
        if session.expires <= now {
            return Err(ApiError::client(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ));
        }
        Ok(session.signer.clone())
    }

    /// Issues credentials into `account` lasting `duration` from `now`.
    pub fn issue(&self, account: &str, duration: Duration, now: SystemTime) -> Session {
        let session = Session {
            access_key_id: format!("ASIA{}", random_text(16, UPPER_DIGITS)),
            signer: Signer {
                secret_access_key: random_text(40, BASE64),
                session_token: Some(random_text(356, BASE64)),
                account_id: account.to_string(),
            },
            expires: now + duration,
        };
        let mut sessions = self.sessions.lock().expect("sessions lock");
        // Expired sessions are dropped here, so a long-running sandbox holds only live ones.
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(session.access_key_id.clone(), session.clone());
        session
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_text(len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| alphabet[rand::random_range(0..alphabet.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_work_until_they_expire() {
        let book = KeyBook::new(&SandboxConfig::default());
        let now = SystemTime::now();
        let base = book
            .signer(super::super::config::DEFAULT_ACCESS_KEY_ID, now)
            .unwrap();
        assert_eq!(base.account_id, super::super::config::DEFAULT_ACCOUNT_ID);
        assert!(base.session_token.is_none());
        let session = book.issue("100000000001", Duration::from_secs(900), now);
        assert!(session.access_key_id.starts_with("ASIA"));
        let signer = book.signer(&session.access_key_id, now).unwrap();
        assert_eq!(signer.account_id, "100000000001");
        assert!(signer.session_token.is_some());
        let later = now + Duration::from_secs(901);
        let err = book.signer(&session.access_key_id, later).err().unwrap();
        assert_eq!(err.code, "ExpiredTokenException");
        let err = book.signer("ASIAUNKNOWN", now).err().unwrap();
        assert_eq!(err.code, "UnrecognizedClientException");
    }
}
