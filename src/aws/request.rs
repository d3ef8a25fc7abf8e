//! What a scan asks the API for in each region: the request the engine's pushdown plans and the
//! client layer sends.

use std::collections::BTreeSet;

use crate::resources::ecr::constraints::DESCRIBE_PREFIXES_MAX;

/// What a scan will ask the API for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanRequest {
    /// Regions pinned by WHERE; `None` means the session's regions.
    pub regions: Option<BTreeSet<String>>,
    /// Identifiers pinned by WHERE; `None` means list everything.
    pub identifiers: Option<BTreeSet<String>>,
    /// Page size hint (`maxResults`) from LIMIT, when no identifiers are pinned.
    pub page_size: Option<i32>,
    /// Rows wanted per region at most (LIMIT), so paging can stop early.
    pub limit: Option<usize>,
}

impl ScanRequest {
    /// The identifiers in API-sized chunks (at most 100 per DescribePullThroughCacheRules call).
    pub fn identifier_chunks(&self) -> Option<Vec<Vec<String>>> {
        self.identifiers.as_ref().map(|ids| {
            let ids: Vec<String> = ids.iter().cloned().collect();
            ids.chunks(DESCRIBE_PREFIXES_MAX)
                .map(<[String]>::to_vec)
                .collect()
        })
    }
}
