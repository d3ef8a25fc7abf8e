//! Counts the HTTP requests a session sends, retries included: an error found after a call
//! cannot claim that nothing was sent (exit 2), and a retried mutation is recognised as one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The number of requests sent so far, shared by every client of a session.
#[derive(Debug, Clone, Default)]
pub struct SentRequests(Arc<AtomicU64>);

impl SentRequests {
    /// Requests sent so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for SentRequests {
    fn name(&self) -> &'static str {
        "skyql: count requests sent"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
