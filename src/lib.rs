//! skyql: SQL for cloud inventory, starting with Amazon ECR pull-through cache rules.
//!
//! The library holds everything; `main.rs` only parses flags and wires these parts together.

pub mod aws;
pub mod cli;
pub mod copy_to;
pub mod dml;
pub mod docs;
pub mod engine;
pub mod error;
pub mod files;
pub mod formats;
pub mod iam;
pub mod resources;
pub mod sandbox;
pub mod schema;
pub mod session;
pub mod sql;
pub mod staged_file;
pub mod suggest;

pub use error::{Error, Result};
