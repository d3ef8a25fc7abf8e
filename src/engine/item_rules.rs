//! What a resource checks across the members of one item, beyond each column's own `check`
//! in provider-schemas: the rules ECR applies between columns (an upstream registry that needs
//! a credential, a prefix that only some rules may have). The record writer asks them of every
//! row an INSERT or MERGE creates and of every item an update would leave, before any call.

use std::fmt;

use super::records::Row;

/// The cross-column rules of one resource.
pub trait ItemRules: fmt::Debug + Send + Sync {
    /// Each problem of `item` (values by column, as they would be sent: an absent column is
    /// none), as the column to blame and why, worded to follow "column: ".
    fn problems(&self, item: &Row) -> Vec<(String, String)>;
}
