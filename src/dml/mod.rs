//! Configuration as data: INSERT, UPDATE and DELETE turned into checked plans of API calls.
//!
//! Everything here is pure: rows in, validated plans out. The provider executes the plans.

pub mod call_plan;
pub mod calls;
pub mod directive;
pub mod document;
pub mod patch;
pub mod problems;

pub use calls::{ApiCall, Mutation};
pub use directive::{Directive, DmlWhere, OnConflict};
