//! The ECR client layer over aws-sdk-ecr and aws-config: settings, per-region clients,
//! paginated calls, and conversion of answers to Arrow.

pub mod answer_cap;
pub mod attempts;
pub mod clients;
pub mod convert;
pub mod document;
pub mod fail_fast;
pub mod failure;
pub mod mutate;
pub mod policy;
pub mod quota;
pub mod request;
pub mod retry_budget;
pub mod rules;
pub mod settings;
pub mod templates;

pub use clients::EcrClients;
pub use settings::{AwsSettings, RetryMode};
