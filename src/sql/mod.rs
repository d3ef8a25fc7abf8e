//! The sqlparser front: parsing scripts, stackql-compatibility rewrites, and `*` without lazy columns.

pub mod ddl;
pub mod parse;
pub mod plain_errors;
pub mod rewrite;
pub mod star;
