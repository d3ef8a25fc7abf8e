//! Configuration as data: INSERT, UPDATE and DELETE turned into checked plans of API calls.
//!
//! Everything here is pure: rows in, validated plans out. The provider executes the plans.

pub mod calls;
pub mod desired;
pub mod directive;
pub mod patch;
pub mod plan;
pub mod policy;
pub mod state;

pub use calls::{ApiCall, Mutation};
pub use desired::DesiredRule;
pub use directive::{Directive, DmlWhere, OnConflict};
pub use state::RuleState;
