//! The sqlparser front: parsing scripts, stackql-compatibility rewrites, `*` without lazy
//! columns, and INSERT's source columns paired with the table's by name.

pub mod insert_columns;
pub mod parse;
pub mod rewrite;
pub mod star;
