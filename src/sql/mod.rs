//! The sqlparser front: parsing scripts and stackql-compatibility rewrites.

pub mod parse;
pub mod rewrite;
pub mod suggest;
