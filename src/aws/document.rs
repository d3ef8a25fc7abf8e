//! How a resource held as one document per region is read; its writes are Put or Delete calls
//! of the whole document, sent as any resource's calls are.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::clients::EcrClients;
use super::mutate::Sender;
use crate::error::Result;

/// Reads and writes one document per region.
#[async_trait]
pub trait DocumentStore: Sender {
    /// The document of `region` as its API members; `None` when the region has none (the
    /// resource's `not_found` code is that answer, not a failure).
    async fn read(
        &self,
        clients: &EcrClients,
        region: &str,
        not_found: Option<&str>,
    ) -> Result<Option<Map<String, Value>>>;
}
