//! provider-schemas: the declarations of resources (columns, keys, methods, permissions),
//! compiled into the binary and read by tables, DESCRIBE, completion and docs.

pub mod arn_scope;
pub mod arrow_type;
pub mod checks;
pub mod load;
pub mod model;
pub mod regions;

pub use load::schemas;
pub use model::{
    Batch, Column, ColumnUpdate, Difference, Example, Fetch, FetchOperation, Listing, Method,
    Missing, Permission, ProviderSchemas, Resource, ResourceKind, Source, Verb,
    without_trailing_slash,
};
pub use regions::check_region;
