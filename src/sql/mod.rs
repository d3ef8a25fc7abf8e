//! The sqlparser front: parsing scripts, stackql-compatibility rewrites, and `*` without lazy columns.

pub mod parse;
pub mod rewrite;
pub mod star;
