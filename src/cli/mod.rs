//! The command line: flag definitions and the commands they run.

pub mod args;
pub mod complete;
pub mod docs_cmd;
pub mod exec;
pub mod expanded;
pub mod headers;
pub mod meta;
pub mod outfile;
pub mod pager;
pub mod permissions_cmd;
pub mod print;
pub mod progress;
pub mod pset;
pub mod sandbox_cmd;
pub mod session_setup;
pub mod shell;
pub mod shell_commands;
pub mod shell_external;
pub mod shell_helper;
pub mod shell_input;
pub mod shell_output;
pub mod statements;
pub mod table;
