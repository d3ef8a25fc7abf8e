//! What a resource implements to be written: its checks and how INSERT, UPDATE, DELETE and the
//! changes a MERGE decided run. The one table (`table.rs`) reads the statement and checks what
//! every resource shares; the one DML exec (`dml.rs`) and the one MERGE exec (`merge.rs`) run
//! the writer.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;
use json_patch::Patch;
use serde_json::Value;

use super::context::ProviderContext;
use super::dml::MatchRequest;
use super::records::Row;
use crate::dml::OnConflict;
use crate::schema::Resource;

/// SET pairs as physical expressions over the rows read.
pub type Assignments = Vec<(String, Arc<dyn PhysicalExpr>)>;

/// An INSERT as its plan runs it.
#[derive(Debug, Clone, Copy)]
pub struct Insert<'a> {
    /// The rows to insert, as the input plan produced them.
    pub batches: &'a [RecordBatch],
    /// Its ON CONFLICT clause.
    pub on_conflict: Option<&'a OnConflict>,
    /// Only check the rows (a dry run, or EXPLAIN): no call.
    pub validate_only: bool,
}

/// An UPDATE as its plan runs it.
#[derive(Clone, Copy)]
pub struct Update<'a> {
    /// The rows it matches.
    pub read: &'a MatchRequest,
    /// Its SET pairs.
    pub assignments: &'a Assignments,
    /// The JSON patch of a SET of a document column, when it has one.
    pub patch: Option<&'a Patch>,
}

/// How one resource is written; the one DML exec (`dml.rs`) runs these.
#[async_trait]
pub trait Writer: fmt::Debug + Send + Sync {
    /// Checks one SET pair of an UPDATE (an updatable column) before anything is read.
    fn check_set(&self, column: &str, value: &Expr) -> DfResult<()>;

    /// Whether UPDATE takes stackql's `data__PatchDocument`.
    fn takes_patch(&self) -> bool {
        false
    }

    /// Checks the SET values that read no column (before any call, and in a script's check).
    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()>;

    /// Checks the values a `data__PatchDocument` gives whole fields, which are known before
    /// any item is read (before any call, and in a script's check).
    fn check_patch(&self, read: &MatchRequest, patch: &Patch) -> DfResult<()> {
        let _ = (read, patch);
        Ok(())
    }

    /// Checks the values of a MERGE's SET or INSERT that read no column (over `schema`, the
    /// target's columns and the source's), while it is planned: before any call.
    fn check_merge_constants(&self, schema: &DFSchema, values: &Assignments) -> DfResult<()> {
        let _ = (schema, values);
        Ok(())
    }

    /// INSERT of `insert.batches`: every row checked before any call; with `validate_only`,
    /// nothing more. Answers the rows changed.
    async fn run_insert(&self, insert: Insert<'_>, context: &ProviderContext) -> DfResult<u64>;

    /// UPDATE of the rows `read` matches.
    async fn run_update(&self, update: Update<'_>, context: &ProviderContext) -> DfResult<u64>;

    /// DELETE of the rows `read` matches.
    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64>;

    /// The resource's table name, for messages.
    fn table(&self) -> String;

    /// Whether MERGE into the resource is supported (`run_merge` is overridden): the table
    /// refuses a MERGE before planning it otherwise.
    fn merges(&self) -> bool {
        true
    }

    /// Makes the calls of the changes a MERGE decided on `target` (the rows read from the
    /// regions its source names): deletes first, so converging never trips a quota, then
    /// updates, then creates. Answers the rows changed.
    async fn run_merge(
        &self,
        target: &RecordBatch,
        changes: MergeChanges,
        context: &ProviderContext,
    ) -> DfResult<u64>;
}

/// What a MERGE decided, clause by clause, before any call.
#[derive(Debug, Default)]
pub struct MergeChanges {
    /// The target rows (indices into the target batch) to delete.
    pub deletes: Vec<usize>,
    /// The target rows to update.
    pub updates: Vec<MergeUpdate>,
    /// The rows to create: the 1-based source row and the values INSERT gives (NULL absent).
    pub inserts: Vec<(usize, Row)>,
}

/// One matched target row a MERGE updates.
#[derive(Debug)]
pub struct MergeUpdate {
    /// Its index in the target batch.
    pub target: usize,
    /// The 1-based source row it matched.
    pub source_row: usize,
    /// The values SET, by column (a NULL as `Value::Null`).
    pub set: Vec<(String, Value)>,
}

/// The refusal of a MERGE into a table whose writer has none.
pub fn merge_refused(table: &str) -> crate::error::Error {
    crate::error::Error::Usage(format!(
        "MERGE into {table} is not supported yet: converge it with INSERT … ON CONFLICT DO UPDATE, \
         UPDATE and DELETE"
    ))
}

/// The writer of `resource`, from its registered module; `None` for a read-only table. (A
/// table without a method for a verb never reaches its writer: `ResourceTable` refuses the
/// verb first.)
pub fn writer_for(resource: &'static Resource) -> Option<Arc<dyn Writer>> {
    let writer = super::module::module_for(resource)?.writer?;
    Some(writer(resource))
}
