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
    /// Name prefixes a child table's parent key must start with (`repository_name LIKE
    /// 'quay/%'`): each set is one condition of the WHERE, met by any of its prefixes. Only the
    /// parents that meet them all are asked for their items.
    pub parent_prefixes: Vec<BTreeSet<String>>,
    /// Page size hint (`maxResults`) from LIMIT, when no identifiers are pinned.
    pub page_size: Option<i32>,
    /// Rows wanted per region at most (LIMIT), so paging can stop early.
    pub limit: Option<usize>,
}

impl ScanRequest {
    /// Whether a parent's key meets every prefix condition.
    pub fn keeps_parent(&self, key: &str) -> bool {
        (self.parent_prefixes.iter()).all(|any| any.iter().any(|p| key.starts_with(p.as_str())))
    }
}
