//! The TableProvider of the registry policy tables (`registry_policy`,
//! `registry_policy_statements`): scans, and INSERT/UPDATE/DELETE as read-modify-write plans.
//! As for the rules tables, hooks only plan and check; calls happen when the plan runs.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, MergeIntoClause, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::dml::is_null_literal;
use super::dml::{dml_request, statement_where};
use super::policy_dml::{PolicyDmlExec, check_constant_assignments};
use super::policy_scan::PolicyView;
use super::reader::{Reader, reader_for};
use super::scan::plan_scan;
use super::scan_filter;
use super::table::ProviderContext;
use crate::error::Error;
use crate::schema::Resource;

/// A registry policy table.
#[derive(Debug)]
pub struct PolicyTable {
    resource: &'static Resource,
    view: PolicyView,
    reader: Arc<dyn Reader>,
    schema: SchemaRef,
    context: Arc<ProviderContext>,
}

impl PolicyTable {
    /// The table for `resource`, shown as `view`.
    pub fn new(
        resource: &'static Resource,
        view: PolicyView,
        context: Arc<ProviderContext>,
    ) -> Self {
        Self {
            resource,
            view,
            reader: reader_for(resource),
            schema: resource.arrow_schema(),
            context,
        }
    }
}

#[async_trait]
impl TableProvider for PolicyTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        scan_filter::pushdown_of(self.resource, filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan_scan(
            self.resource,
            &self.reader,
            state,
            projection,
            filters,
            limit,
            &self.context,
        )
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let directive = self.context.take_directive();
        if insert_op != InsertOp::Append {
            return Err(Error::Usage(format!(
                "{insert_op} is not supported: use INSERT INTO … [ON CONFLICT …]"
            ))
            .into());
        }
        Ok(Arc::new(PolicyDmlExec::insert(
            self.resource,
            self.view,
            input,
            directive.on_conflict,
            Arc::clone(&self.context),
        )))
    }

    async fn update(
        &self,
        state: &dyn Session,
        _assignments: Vec<(String, Expr)>,
        _filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut directive = self.context.take_directive();
        let clause = statement_where(&mut directive, "UPDATE")?;
        // The SET pairs as written: DataFusion's are lost with a WHERE the optimizer proved false.
        let assignments = clause.assignments.clone();
        if directive.patch_document.is_some() {
            return Err(Error::Usage(format!(
                "data__PatchDocument is for the rule tables: SET the columns of {} directly ({})",
                self.resource.qualified_name("aws"),
                self.resource.updatable_names()
            ))
            .into());
        }
        for (column, value) in &assignments {
            if !self.resource.column(column).is_some_and(|c| c.updatable) {
                return Err(Error::Usage(format!(
                    "{column} cannot be set: UPDATE {} can set {}",
                    self.resource.qualified_name("aws"),
                    self.resource.updatable_names()
                ))
                .into());
            }
            let required = matches!(column.as_str(), "policy_text" | "principals" | "actions");
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
        }
        if assignments.is_empty() {
            return Err(Error::Usage(format!(
                "UPDATE sets nothing: SET one of {}",
                self.resource.updatable_names()
            ))
            .into());
        }
        let matches = dml_request(self.resource, state, &clause, &self.context, "UPDATE")?;
        let assignments = assignments
            .into_iter()
            .map(|(c, e)| Ok((c, matches.physical(state, e)?)))
            .collect::<DfResult<Vec<_>>>()?;
        // Constant values are checked now, so a bad one fails before any call (exit 2).
        if !self.context.explaining() {
            check_constant_assignments(self.view, &matches, &assignments)?;
        }
        Ok(Arc::new(PolicyDmlExec::update(
            self.resource,
            self.view,
            matches,
            assignments,
            Arc::clone(&self.context),
        )))
    }

    async fn merge_into(
        &self,
        _state: &dyn Session,
        _source: Arc<dyn ExecutionPlan>,
        _merge_schema: DFSchemaRef,
        _on: Expr,
        _clauses: Vec<MergeIntoClause>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.context.take_directive();
        Err(Error::Usage(format!(
            "MERGE is not supported on {}: converge it with INSERT … ON CONFLICT DO UPDATE, UPDATE and DELETE",
            self.resource.qualified_name("aws")
        ))
        .into())
    }

    async fn delete_from(
        &self,
        state: &dyn Session,
        _filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let clause = statement_where(&mut self.context.take_directive(), "DELETE")?;
        let matches = dml_request(self.resource, state, &clause, &self.context, "DELETE")?;
        Ok(Arc::new(PolicyDmlExec::delete(
            self.resource,
            self.view,
            matches,
            Arc::clone(&self.context),
        )))
    }
}
