//! The command line: flag definitions and the commands they run.

pub mod args;
pub mod sandbox_cmd;
