//! The resources of each service: what is specific to one table (its calls, its rules across
//! columns, the facts of its API), registered with the engine by name; the engine names none.

pub mod ecr;
