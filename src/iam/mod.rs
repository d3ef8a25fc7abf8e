//! IAM knowledge: the ECR action list, registry policy documents, and the permissions a
//! statement needs.

pub mod actions;
pub mod permissions;
pub mod policy;
