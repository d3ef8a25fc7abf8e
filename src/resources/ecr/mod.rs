//! Amazon ECR: each resource's own code, and the facts of ECR's model they share with the
//! sandbox (field constraints, upstream registries).

pub mod constraints;
pub mod images;
pub mod pull_through_cache_rules;
pub mod registry;
pub mod registry_policy;
pub mod repositories;
pub mod repository_creation_templates;
pub mod upstream;
