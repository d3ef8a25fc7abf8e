//! What a scan asks the API for in each region: the request the engine's pushdown plans and its
//! listing sends.

use std::collections::BTreeSet;

/// What a scan will ask the API for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanRequest {
    /// Regions pinned by WHERE; `None` means the session's regions.
    pub regions: Option<BTreeSet<String>>,
    /// Identifiers pinned by WHERE; `None` means list everything.
    pub identifiers: Option<BTreeSet<String>>,
    /// A child table's parents pinned by WHERE (its parent key column); `None` means every
    /// parent in the region.
    pub parents: Option<BTreeSet<String>>,
    /// Page size hint (`maxResults`) from LIMIT, when no identifiers are pinned.
    pub page_size: Option<i32>,
    /// Rows wanted per region at most (LIMIT), so paging can stop early.
    pub limit: Option<usize>,
}
