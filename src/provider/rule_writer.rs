//! Writing pull-through cache rules: a Create, Update or Delete call per rule, planned by
//! `dml/plan.rs`; MERGE through its own exec.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, MergeIntoClause};
use datafusion::physical_plan::ExecutionPlan;
use json_patch::Patch;

use super::context::ProviderContext;
use super::dml::{self, MatchRequest, check_constant_values, is_null_literal, read_only_rule};
use super::merge::MergeExec;
use super::writer::{Assignments, Writer};
use crate::aws::rule_calls::RuleCalls;
use crate::dml::desired::validate_all;
use crate::dml::plan::plan_delete;
use crate::dml::{DesiredRule, OnConflict, RuleState};
use crate::error::Error;
use crate::schema::{Resource, Verb, schemas};

/// Writes pull-through cache rules: Create, Update and Delete calls per rule.
#[derive(Debug)]
pub struct RuleWriter {
    /// The table's resource.
    pub resource: &'static Resource,
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
        let plan = plan_delete(self.resource, &RuleState::from_batch(&found));
        Ok(dml::execute_plan(self.resource, "DELETE", plan, &RuleCalls, context).await?)
    }

    fn table(&self) -> String {
        self.resource.qualified_name("aws")
    }

    fn merges(&self) -> bool {
        true
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

inventory::submit! {
    super::module::ResourceModule {
        name: "pull_through_cache_rules",
        reader: |resource| Arc::new(super::rule_reader::RuleReader { resource }),
        writer: |resource| Arc::new(RuleWriter { resource }),
    }
}
