//! Amazon ECR pull-through cache facts: field constraints and upstream registries.
//!
//! Shared by the sandbox (which enforces them the way ECR does) and by skyql's own
//! validation of statements before any call is made.

pub mod constraints;
pub mod upstream;
