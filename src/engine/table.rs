//! The one TableProvider of every provider-schemas resource: SELECT through the resource's
//! `Reader` and the one scan, INSERT/UPDATE/DELETE/MERGE through its `Writer`. Every hook only
//! plans and checks; API calls happen when the plan runs.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::DFSchemaRef;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{
    Expr, MergeIntoAction, MergeIntoClause, TableProviderFilterPushDown,
};
use datafusion::physical_plan::ExecutionPlan;

use super::context::ProviderContext;
use super::dml::{DmlExec, dml_request, statement_where};
use super::merge::MergeExec;
use super::reader::{Reader, reader_for};
use super::scan::plan_scan;
use super::scan_filter;
use super::writer::{Writer, merge_refused, writer_for};
use crate::dml::patch;
use crate::error::Error;
use crate::schema::{Resource, Verb, schemas};

/// One resource as a table.
#[derive(Debug)]
pub struct ResourceTable {
    resource: &'static Resource,
    reader: Arc<dyn Reader>,
    writer: Option<Arc<dyn Writer>>,
    schema: SchemaRef,
    context: Arc<ProviderContext>,
}

impl ResourceTable {
    /// The table for `resource`.
    pub fn new(resource: &'static Resource, context: Arc<ProviderContext>) -> Self {
        Self {
            resource,
            reader: reader_for(resource),
            writer: writer_for(resource),
            schema: resource.arrow_schema(),
            context,
        }
    }
}

#[async_trait]
impl TableProvider for ResourceTable {
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
        self.check_verb(Verb::Insert)?;
        let directive = self.context.take_directive();
        if insert_op != InsertOp::Append {
            return Err(Error::Usage(format!(
                "{insert_op} is not supported: use INSERT INTO … [ON CONFLICT …]"
            ))
            .into());
        }
        Ok(Arc::new(DmlExec::insert(
            self.resource,
            self.writer()?,
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
        self.check_verb(Verb::Update)?;
        let mut directive = self.context.take_directive();
        let clause = statement_where(&mut directive, "UPDATE")?;
        // The SET pairs as written: DataFusion's are lost with a WHERE the optimizer proved false.
        let assignments = clause.assignments.clone();
        let patch = match directive.patch_document.as_deref() {
            Some(text) if self.writer()?.takes_patch() => Some(patch::parse(text, self.resource)?),
            Some(_) => {
                return Err(Error::Usage(format!(
                    "{} takes no data__PatchDocument: SET its columns directly ({})",
                    self.resource.qualified_name("aws"),
                    self.resource.updatable_names()
                ))
                .into());
            }
            None => None,
        };
        for (column, value) in &assignments {
            self.writer()?.check_set(column, value)?;
        }
        if assignments.is_empty() && patch.is_none() {
            return Err(Error::Usage(format!(
                "UPDATE sets nothing: SET one of {}",
                self.resource.updatable_names()
            ))
            .into());
        }
        let mut read = dml_request(self.resource, state, &clause, &self.context, "UPDATE")?;
        read.reads(
            self.resource,
            &assignments.iter().map(|(_, e)| e).collect::<Vec<_>>(),
        );
        let assignments = assignments
            .into_iter()
            .map(|(c, e)| Ok((c, read.physical(state, e)?)))
            .collect::<DfResult<Vec<_>>>()?;
        // Constant values are checked now, so a bad one fails before any call (exit 2).
        if !self.context.explaining() {
            self.writer()?.check_constants(&read, &assignments)?;
            if let Some(patch) = &patch {
                self.writer()?.check_patch(&read, patch)?;
            }
        }
        Ok(Arc::new(DmlExec::update(
            self.resource,
            self.writer()?,
            read,
            assignments,
            patch,
            Arc::clone(&self.context),
        )))
    }

    async fn merge_into(
        &self,
        state: &dyn Session,
        source: Arc<dyn ExecutionPlan>,
        merge_schema: DFSchemaRef,
        on: Expr,
        clauses: Vec<MergeIntoClause>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.context.take_directive();
        for clause in &clauses {
            let verb = match clause.action {
                MergeIntoAction::Update(_) => Verb::Update,
                MergeIntoAction::Insert { .. } => Verb::Insert,
                MergeIntoAction::Delete => Verb::Delete,
            };
            self.check_verb(verb)?;
        }
        if !self.writer()?.merges() {
            return Err(merge_refused(&self.writer()?.table()).into());
        }
        let exec = MergeExec::try_new(
            self.resource,
            self.writer()?,
            state,
            source,
            merge_schema,
            on,
            clauses,
            Arc::clone(&self.context),
        )?;
        Ok(Arc::new(exec))
    }

    async fn delete_from(
        &self,
        state: &dyn Session,
        _filters: Vec<Expr>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.check_verb(Verb::Delete)?;
        let clause = statement_where(&mut self.context.take_directive(), "DELETE")?;
        let read = dml_request(self.resource, state, &clause, &self.context, "DELETE")?;
        Ok(Arc::new(DmlExec::delete(
            self.resource,
            self.writer()?,
            read,
            Arc::clone(&self.context),
        )))
    }
}

impl ResourceTable {
    /// The table's writer; a read-only table (no write method, so no writer) refuses MERGE
    /// here, as its `check_verb` refuses the other writes.
    fn writer(&self) -> DfResult<Arc<dyn Writer>> {
        self.writer.clone().ok_or_else(|| {
            let table = self.resource.qualified_name("aws");
            Error::Usage(format!("{table} is read-only: it supports SELECT")).into()
        })
    }

    /// Refuses a verb the resource's schema declares no method for, naming the tables of the
    /// same AWS resource type that have one, else the verbs this table supports.
    fn check_verb(&self, verb: Verb) -> DfResult<()> {
        if self.resource.method(verb).is_some() {
            return Ok(());
        }
        let others: Vec<String> = schemas()
            .resources_of(&self.resource.doc.service)
            .filter(|r| r.doc.resource_type == self.resource.doc.resource_type)
            .filter(|r| r.method(verb).is_some())
            .map(|r| r.qualified_name("aws"))
            .collect();
        let table = self.resource.qualified_name("aws");
        let hint = if others.is_empty() {
            let verbs: Vec<&str> = self
                .resource
                .doc
                .methods
                .iter()
                .map(|m| m.verb.as_str())
                .collect();
            format!("it supports {}", verbs.join(", "))
        } else {
            format!("use {}", others.join(" or "))
        };
        Err(Error::Usage(format!(
            "{table} does not support {}; {hint}",
            verb.as_str()
        ))
        .into())
    }
}
