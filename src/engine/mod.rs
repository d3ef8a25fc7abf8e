//! The DataFusion side: catalog `aws`, one schema per service, TableProviders, pushdown and scans.

pub mod applied;
pub mod batch;
pub mod catalog;
pub mod changing;
pub mod context;
pub mod dml;
pub mod dml_where;
pub mod document_reader;
pub mod document_writer;
mod exec_basics;
pub mod failures;
pub mod insert_literals;
pub mod item_rules;
pub mod lazy;
pub mod listing;
pub mod merge;
pub mod module;
pub mod permissions;
pub mod progress;
pub mod pushdown;
pub mod read_back;
pub mod reader;
pub mod record_writer;
pub mod records;
pub mod request;
pub mod scan;
pub mod scan_filter;
pub mod table;
pub mod writer;

pub use catalog::register_catalog;
pub use context::ProviderContext;
pub use failures::{RegionFailure, RegionFailures};
pub use progress::RegionProgress;
pub use table::ResourceTable;
