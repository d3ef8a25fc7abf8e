//! Making a mutating call: a resource's `Sender` turns the planned call (operation and wire
//! members) into its SDK call; this file sends it and settles a retry whose first response was
//! lost, from the resource's `not_found` and `already_exists` codes.

use async_trait::async_trait;

use super::clients::EcrClients;
use crate::dml::ApiCall;
use crate::error::{Error, Result};
use crate::schema::Resource;

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
}

/// Reads back the item a create call names (the engine does, through the resource's reader).
#[async_trait]
pub trait ReadBack: Send + Sync {
    /// Whether the item `call` creates exists with every member `call` sends.
    async fn is_as_asked(&self, clients: &EcrClients, call: &ApiCall) -> Result<bool>;
}

impl EcrClients {
    /// Makes one mutating call of `resource` through its sender. A retried call refused only
    /// because its change is there already succeeded: its first attempt committed and only its
    /// response was lost. That is a Delete answered with the resource's `not_found` code, or a
    /// Create answered with its `already_exists` code for an item `read_back` finds as asked.
    ///
    /// Mutating calls are made one at a time, so the requests counted during this call are
    /// its own attempts.
    pub async fn apply(
        &self,
        resource: &Resource,
        sender: &dyn Sender,
        read_back: &dyn ReadBack,
        call: &ApiCall,
    ) -> Result<Applied> {
        let before = self.requests_sent();
        let Err(e) = sender.send(self, call).await else {
            return Ok(Applied::Done);
        };
        let retried = self.requests_sent() - before > 1;
        if let Error::Api { code, .. } = &e
            && retried
        {
            // AWS names every removal Delete… and every creation Create….
            let operation = &call.mutation.operation;
            let code = Some(code.as_str());
            let settled = if operation.starts_with("Delete") {
                code == resource.doc.not_found.as_deref()
            } else {
                operation.starts_with("Create")
                    && code == resource.doc.already_exists.as_deref()
                    && read_back.is_as_asked(self, call).await?
            };
            if settled {
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
