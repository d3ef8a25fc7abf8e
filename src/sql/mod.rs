//! The sqlparser front: parsing scripts, stackql-compatibility rewrites, `*` without lazy
//! columns, INSERT's source columns paired with the table's by name, DDL kept off the
//! provider's catalog, and DataFusion's errors in skyql's words.

pub mod ddl;
pub mod insert_columns;
pub mod parse;
pub mod plain_errors;
pub mod rewrite;
pub mod star;
