//! Making a mutating call: a resource's `Sender` turns the planned call (operation and wire
//! members) into its SDK call; this file sends it and settles a retry whose first response was
//! lost.

use async_trait::async_trait;

use super::clients::EcrClients;
use crate::dml::ApiCall;
use crate::error::{Error, Result};

/// How a mutating call ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The call was answered with success.
    Done,
    /// The first attempt's response was lost (a server error after the change committed); the
    /// retry was refused because the change was already there, and skyql checked that it is.
    AfterLostResponse,
}

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

    /// Whether the error `code` of a retried `call` only says that its change is already there
    /// (a Create answered "already exists" for exactly what it asked for). Only then is the
    /// call counted as done. (A Delete answered with the resource's `not_found` code is
    /// settled by `apply` for every resource.)
    async fn already_applied(
        &self,
        clients: &EcrClients,
        call: &ApiCall,
        code: &str,
        not_found: Option<&str>,
    ) -> Result<bool> {
        let _ = (clients, call, code, not_found);
        Ok(false)
    }
}

impl EcrClients {
    /// Makes one mutating call through the resource's sender. A retried call refused only
    /// because its change is there already succeeded: its first attempt committed and only its
    /// response was lost.
    ///
    /// Mutating calls are made one at a time, so the requests counted during this call are
    /// its own attempts.
    pub async fn apply(
        &self,
        sender: &dyn Sender,
        call: &ApiCall,
        not_found: Option<&str>,
    ) -> Result<Applied> {
        let before = self.requests_sent();
        let Err(e) = sender.send(self, call).await else {
            return Ok(Applied::Done);
        };
        let retried = self.requests_sent() - before > 1;
        if let Error::Api { code, .. } = &e
            && retried
        {
            // AWS names every removal Delete…; "not found" then means it was done.
            let deleted = call.mutation.operation.starts_with("Delete");
            if (deleted && not_found == Some(code.as_str()))
                || sender.already_applied(self, call, code, not_found).await?
            {
                return Ok(Applied::AfterLostResponse);
            }
        }
        Err(e)
    }
}

/// A planned call its resource's sender does not make: a planner bug, caught before sending.
pub fn not_sent(operation: &str, what: &str) -> Error {
    Error::Runtime(format!(
        "{operation} is not a {what} call skyql can send; nothing was sent"
    ))
}
