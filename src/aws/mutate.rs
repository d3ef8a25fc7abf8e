//! Making a mutating call: a resource's `Sender` turns the planned call (operation and wire
//! members) into its SDK call; this file sends it and settles a failure that may hide success
//! (a lost response), from what its attempts came to, the resource's `not_found` and
//! `already_exists` codes, and a read of the item.

use async_trait::async_trait;

use super::attempts::recorded;
use super::clients::EcrClients;
use super::failure::with_note;
use crate::dml::ApiCall;
use crate::error::{Error, Result};
use crate::schema::Resource;

/// How a mutating call ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The call was answered with success.
    Done,
    /// An attempt that may have been applied failed (a server error, or no answer after the
    /// request was sent); the retry was refused because the change was already there, and
    /// skyql checked that it is.
    AfterLostResponse,
    /// The call's last answer was such a failure, and a read found the change made.
    FoundAfterError,
}

impl Applied {
    /// What stderr says about a call that succeeded this way.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Self::Done => None,
            Self::AfterLostResponse => Some(
                "its first response was lost after the change was made; the retry found it done",
            ),
            Self::FoundAfterError => Some(
                "its answer was an error after its request was sent; a read found the change in place",
            ),
        }
    }
}

/// What a failure says when the request may have been carried out.
const MAY_HAVE_BEEN_MADE: &str = "the request was sent, so the change may have been made";

/// Sends an SDK request builder made for `call`, answering skyql's error (the region, the
/// operation and ECR's code) on failure.
#[macro_export]
macro_rules! send_call {
    ($call:expr, $builder:expr) => {
        $builder.send().await.map(drop).map_err(|e| {
            $crate::aws::clients::api_error(&$call.region, &$call.mutation.operation, e)
        })
    };
}

/// How one resource's planned calls reach ECR (each resource's file in `aws/` implements it
/// over the SDK's typed builders).
#[async_trait]
pub trait Sender: std::fmt::Debug + Send + Sync {
    /// Sends `call` once (the SDK retries throttling and server errors itself).
    async fn send(&self, clients: &EcrClients, call: &ApiCall) -> Result<()>;
}

/// Reads back the item a create or delete call names (the engine does, through the
/// resource's reader).
#[async_trait]
pub trait ReadBack: Send + Sync {
    /// Whether the item `call` names exists with every member `call` sends; `None` when the
    /// call names no item that can be read back.
    async fn is_as_asked(&self, clients: &EcrClients, call: &ApiCall) -> Result<Option<bool>>;
}

impl EcrClients {
    /// Makes one mutating call of `resource` through its sender, and settles a failure that
    /// may hide success. Only an attempt that may have been applied (a 5xx, or no answer after
    /// its request was sent) can make a later refusal mean "done": a retried Delete answered
    /// with the resource's `not_found` code, or a retried Create answered with its
    /// `already_exists` code for an item `read_back` finds as asked. A call whose last attempt
    /// was such a failure is decided by reading the item back. Throttling and every other 4xx
    /// prove that nothing changed, so after those the refusal stands (the item was there
    /// before).
    pub async fn apply(
        &self,
        resource: &Resource,
        sender: &dyn Sender,
        read_back: &dyn ReadBack,
        call: &ApiCall,
    ) -> Result<Applied> {
        let (sent, attempts) = recorded(sender.send(self, call)).await;
        let Err(e) = sent else {
            return Ok(Applied::Done);
        };
        // AWS names every removal Delete… and every creation Create….
        let operation = &call.mutation.operation;
        let (create, delete) = (
            operation.starts_with("Create"),
            operation.starts_with("Delete"),
        );
        if !attempts.may_have_applied {
            return Err(e);
        }
        if !(create || delete) {
            return Err(match attempts.last_may_have_applied {
                true => with_note(e, MAY_HAVE_BEEN_MADE),
                false => e,
            });
        }
        let code = match &e {
            Error::Api { code, .. } => Some(code.as_str()),
            _ => None,
        };
        if delete && code == resource.doc.not_found.as_deref() {
            return Ok(Applied::AfterLostResponse);
        }
        if create && code == resource.doc.already_exists.as_deref() {
            return match read_back.is_as_asked(self, call).await? {
                Some(true) => Ok(Applied::AfterLostResponse),
                _ => Err(e),
            };
        }
        if !attempts.last_may_have_applied {
            return Err(e);
        }
        // The item as asked is there after a Create, and gone after a Delete.
        match read_back.is_as_asked(self, call).await {
            Ok(Some(held)) if held == create => Ok(Applied::FoundAfterError),
            Ok(Some(_)) => Err(with_note(e, "a read found the change not made")),
            Ok(None) => Err(with_note(
                e,
                &format!("{MAY_HAVE_BEEN_MADE}: check before re-running"),
            )),
            Err(read) => Err(with_note(
                e,
                &format!(
                    "{MAY_HAVE_BEEN_MADE}, and reading it back failed too ({read}): check \
                     before re-running"
                ),
            )),
        }
    }
}

/// A planned call its resource's sender does not make: a planner bug, caught before sending.
pub fn not_sent(operation: &str, what: &str) -> Error {
    Error::Runtime(format!(
        "{operation} is not a {what} call skyql can send; nothing was sent"
    ))
}
