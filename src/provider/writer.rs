//! What a resource implements to be written: the checks and execs specific to it. The one
//! table (`table.rs`) reads the statement (directive, WHERE, SET pairs), checks what every
//! resource shares and asks the resource's writer for the exec of INSERT, UPDATE, DELETE or MERGE.

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
use super::dml::{DmlExec, MatchRequest, check_constant_values, is_null_literal};
use super::merge::MergeExec;
use super::policy_dml::{PolicyDmlExec, check_constant_assignments};
use super::policy_rows::PolicyView;
use crate::dml::OnConflict;
use crate::error::Error;
use crate::schema::{Resource, Verb};

/// SET pairs as physical expressions over the rows read.
pub type Assignments = Vec<(String, Arc<dyn PhysicalExpr>)>;

/// How one resource is written.
pub trait Writer: fmt::Debug + Send + Sync {
    /// Checks one SET pair of an UPDATE (an updatable column) before anything is read.
    fn check_set(&self, column: &str, value: &Expr) -> DfResult<()>;

    /// Whether UPDATE takes stackql's `data__PatchDocument`.
    fn takes_patch(&self) -> bool {
        false
    }

    /// The exec of an INSERT of the rows `input` produces.
    fn insert(
        &self,
        input: Arc<dyn ExecutionPlan>,
        on_conflict: Option<OnConflict>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>>;

    /// The exec of an UPDATE of the rows `read` matches; constant values are checked here, so
    /// a bad one fails before any call.
    fn update(
        &self,
        read: MatchRequest,
        assignments: Assignments,
        patch: Option<Patch>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>>;

    /// The exec of a DELETE of the rows `read` matches.
    fn delete(
        &self,
        read: MatchRequest,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>>;

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

    fn insert(
        &self,
        input: Arc<dyn ExecutionPlan>,
        on_conflict: Option<OnConflict>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let exec = DmlExec::insert(self.resource, input, on_conflict, Arc::clone(context));
        Ok(Arc::new(exec))
    }

    fn update(
        &self,
        read: MatchRequest,
        assignments: Assignments,
        patch: Option<Patch>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if !context.explaining() {
            check_constant_values(read.schema(), &assignments)?;
        }
        let exec = DmlExec::update(self.resource, read, assignments, patch, Arc::clone(context));
        Ok(Arc::new(exec))
    }

    fn delete(
        &self,
        read: MatchRequest,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(DmlExec::delete(
            self.resource,
            read,
            Arc::clone(context),
        )))
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

    fn insert(
        &self,
        input: Arc<dyn ExecutionPlan>,
        on_conflict: Option<OnConflict>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let exec = PolicyDmlExec::insert(
            self.resource,
            self.view,
            input,
            on_conflict,
            Arc::clone(context),
        );
        Ok(Arc::new(exec))
    }

    fn update(
        &self,
        read: MatchRequest,
        assignments: Assignments,
        _patch: Option<Patch>,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if !context.explaining() {
            check_constant_assignments(self.view, &read, &assignments)?;
        }
        let exec = PolicyDmlExec::update(
            self.resource,
            self.view,
            read,
            assignments,
            Arc::clone(context),
        );
        Ok(Arc::new(exec))
    }

    fn delete(
        &self,
        read: MatchRequest,
        context: &Arc<ProviderContext>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let exec = PolicyDmlExec::delete(self.resource, self.view, read, Arc::clone(context));
        Ok(Arc::new(exec))
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
