//! The ECR client layer over aws-sdk-ecr and aws-config: settings, per-region clients,
//! paginated calls, and conversion of answers to Arrow.

pub mod accounts;
pub mod answer_cap;
pub mod attempts;
pub mod clients;
pub mod convert;
pub mod fail_fast;
pub mod failure;
pub mod mutate;
pub mod quota;
pub mod retry_budget;
pub mod settings;
pub mod wire_call;

pub use clients::EcrClients;
pub use settings::{AwsSettings, RetryMode};
