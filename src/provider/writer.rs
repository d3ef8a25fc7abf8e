//! What a resource implements to be written: its checks and how INSERT, UPDATE and DELETE run.
//! The one table (`table.rs`) reads the statement and checks what every resource shares; the
//! one DML exec (`dml.rs`) runs the writer's INSERT, UPDATE or DELETE (MERGE has its own exec).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, MergeIntoClause};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use json_patch::Patch;

use super::context::ProviderContext;
use super::dml::MatchRequest;
use crate::dml::OnConflict;
use crate::schema::Resource;

/// SET pairs as physical expressions over the rows read.
pub type Assignments = Vec<(String, Arc<dyn PhysicalExpr>)>;

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

    /// INSERT of `batches`: every row checked before any call; with `validate_only`, nothing
    /// more. Answers the rows changed.
    async fn run_insert(
        &self,
        batches: &[RecordBatch],
        on_conflict: Option<&OnConflict>,
        validate_only: bool,
        context: &ProviderContext,
    ) -> DfResult<u64>;

    /// UPDATE of the rows `read` matches.
    async fn run_update(
        &self,
        read: &MatchRequest,
        assignments: &Assignments,
        patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64>;

    /// DELETE of the rows `read` matches.
    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64>;

    /// The resource's table name, for messages.
    fn table(&self) -> String;

    /// Whether MERGE into the resource is supported (`merge` is overridden).
    fn merges(&self) -> bool {
        false
    }

    /// The exec of a MERGE into the resource (refused unless the writer has one).
    fn merge(
        &self,
        state: &dyn Session,
        source: Arc<dyn ExecutionPlan>,
        merge_schema: DFSchemaRef,
        on: Expr,
        clauses: Vec<MergeIntoClause>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let _ = (state, source, merge_schema, on, clauses, context);
        Err(crate::error::Error::Usage(format!(
            "MERGE into {} is not supported yet: converge it with INSERT … ON CONFLICT DO UPDATE, \
             UPDATE and DELETE",
            self.table()
        ))
        .into())
    }
}

/// The writer of `resource`, from its registered module. (A table without a method for a verb
/// never reaches its writer: `ResourceTable` refuses the verb first.)
pub fn writer_for(resource: &'static Resource) -> Arc<dyn Writer> {
    (super::module::module_for(resource).writer)(resource)
}
