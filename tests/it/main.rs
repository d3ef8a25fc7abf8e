//! skyql's integration tests, one module per area, in one binary: each test binary links
//! DataFusion and the AWS SDK, so one binary builds and links once.

mod common;

mod accounts;
mod awscli;
mod bad_input;
mod cli_exec;
mod dml_insert;
mod dml_merge;
mod dml_safety;
mod dml_update_delete;
mod docs;
mod faults;
mod file_import;
mod guides;
mod inventory;
mod output_formats;
mod permissions;
mod readme;
mod registry_policy;
mod sandbox_accounts;
mod sandbox_protocol;
mod sandbox_sdk;
mod sandbox_templates;
mod select;
mod shell;
mod slt;
mod templates;
mod validation;
mod where_invariant;
