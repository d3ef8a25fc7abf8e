//! What a resource implements to be written: its checks and how INSERT, UPDATE and DELETE run.
//! The one table (`table.rs`) reads the statement and checks what every resource shares; the
//! one DML exec (`dml.rs`) runs the writer's INSERT, UPDATE or DELETE (MERGE has its own exec).

use std::fmt;
use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, MergeIntoClause};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use json_patch::Patch;

use super::context::ProviderContext;
use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;

use super::dml::{self, MatchRequest, check_constant_values, is_null_literal, read_only_rule};
use super::merge::MergeExec;
use super::policy_dml::{self, check_constant_assignments};
use super::policy_rows::PolicyView;
use crate::dml::desired::validate_all;
use crate::dml::plan::plan_delete;
use crate::dml::{DesiredRule, OnConflict, RuleState};
use crate::error::Error;
use crate::schema::{Resource, Verb, schemas};

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

    /// The exec of a MERGE into the resource.
    fn merge(
        &self,
        state: &dyn Session,
        source: Arc<dyn ExecutionPlan>,
        merge_schema: DFSchemaRef,
        on: Expr,
        clauses: Vec<MergeIntoClause>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>>;
}

/// The writer of `resource`: the rule tables' or the registry policy tables'.
pub fn writer_for(resource: &'static Resource) -> Arc<dyn Writer> {
    match PolicyView::of(resource) {
        Some(view) => Arc::new(PolicyWriter { resource, view }),
        None => Arc::new(RuleWriter { resource }),
    }
}

/// Writes pull-through cache rules: Create, Update and Delete calls per rule.
#[derive(Debug)]
struct RuleWriter {
    resource: &'static Resource,
}

#[async_trait]
impl Writer for RuleWriter {
    fn check_set(&self, column: &str, value: &Expr) -> DfResult<()> {
        // The operation's name comes from the schema, as every message's does.
        let update = self
            .resource
            .method(Verb::Update)
            .map_or("the update call", |m| m.operation.as_str());
        if !self.resource.column(column).is_some_and(|c| c.updatable) {
            return Err(Error::Usage(format!(
                "{column} cannot change in place: UPDATE can set only {} ({update}); \
                 delete and re-create the rule to change the others",
                self.resource.updatable_names()
            ))
            .into());
        }
        if is_null_literal(value) {
            return Err(Error::Usage(format!(
                "{column} cannot be set to NULL: {update} replaces a value but cannot remove it \
                 (delete and re-create the rule without it)"
            ))
            .into());
        }
        Ok(())
    }

    fn takes_patch(&self) -> bool {
        true
    }

    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()> {
        Ok(check_constant_values(read.schema(), assignments)?)
    }

    async fn run_insert(
        &self,
        batches: &[RecordBatch],
        on_conflict: Option<&OnConflict>,
        validate_only: bool,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        if validate_only {
            let rows = DesiredRule::from_batches(batches);
            let known = &schemas().provider.regions;
            let read_only = read_only_rule(on_conflict);
            validate_all(
                &rows,
                self.resource,
                known,
                &context.default_regions,
                read_only,
            )?;
            return Ok(0);
        }
        Ok(dml::run_insert(self.resource, batches, on_conflict, context).await?)
    }

    async fn run_update(
        &self,
        read: &MatchRequest,
        assignments: &Assignments,
        patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        Ok(dml::run_update(self.resource, read, assignments, patch, context).await?)
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        let found = dml::read_matches(self.resource, read, context, "DELETE").await?;
        let plan = plan_delete(&RuleState::from_batch(&found));
        Ok(dml::execute_plan(self.resource, "DELETE", plan, context).await?)
    }

    fn merge(
        &self,
        state: &dyn Session,
        source: Arc<dyn ExecutionPlan>,
        merge_schema: DFSchemaRef,
        on: Expr,
        clauses: Vec<MergeIntoClause>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let exec = MergeExec::try_new(
            self.resource,
            state,
            source,
            merge_schema,
            on,
            clauses,
            Arc::clone(context),
        )?;
        Ok(Arc::new(exec))
    }
}

/// Writes a registry policy table: a read-modify-write of one policy per region.
#[derive(Debug)]
struct PolicyWriter {
    resource: &'static Resource,
    view: PolicyView,
}

#[async_trait]
impl Writer for PolicyWriter {
    fn check_set(&self, column: &str, value: &Expr) -> DfResult<()> {
        if !self.resource.column(column).is_some_and(|c| c.updatable) {
            return Err(Error::Usage(format!(
                "{column} cannot be set: UPDATE {} can set {}",
                self.resource.qualified_name("aws"),
                self.resource.updatable_names()
            ))
            .into());
        }
        let required = matches!(column, "policy_text" | "principals" | "actions");
        if required && is_null_literal(value) {
            return Err(Error::Usage(format!(
                "{column} cannot be NULL: {}",
                if column == "policy_text" {
                    "DELETE FROM aws.ecr.registry_policy removes a policy"
                } else {
                    "a statement needs principals and actions"
                }
            ))
            .into());
        }
        Ok(())
    }

    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()> {
        Ok(check_constant_assignments(self.view, read, assignments)?)
    }

    async fn run_insert(
        &self,
        batches: &[RecordBatch],
        on_conflict: Option<&OnConflict>,
        validate_only: bool,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let (resource, view) = (self.resource, self.view);
        Ok(
            policy_dml::run_insert(resource, view, batches, on_conflict, validate_only, context)
                .await?,
        )
    }

    async fn run_update(
        &self,
        read: &MatchRequest,
        assignments: &Assignments,
        _patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let (resource, view) = (self.resource, self.view);
        Ok(policy_dml::run_update(resource, view, read, assignments, context).await?)
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        Ok(policy_dml::run_delete(self.resource, self.view, read, context).await?)
    }

    fn merge(
        &self,
        _state: &dyn Session,
        _source: Arc<dyn ExecutionPlan>,
        _merge_schema: DFSchemaRef,
        _on: Expr,
        _clauses: Vec<MergeIntoClause>,
        _context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Err(Error::Usage(format!(
            "MERGE is not supported on {}: converge it with INSERT … ON CONFLICT DO UPDATE, UPDATE and DELETE",
            self.resource.qualified_name("aws")
        ))
        .into())
    }
}
