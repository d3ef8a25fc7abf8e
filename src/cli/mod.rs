//! The command line: flag definitions and the commands they run.

pub mod args;
pub mod exec;
pub mod print;
pub mod sandbox_cmd;
pub mod session_setup;
