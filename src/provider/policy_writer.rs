//! Writing the registry policy tables: a read-modify-write of one policy per region
//! (`policy_dml.rs`); no MERGE.

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use json_patch::Patch;

use super::context::ProviderContext;
use super::dml::{MatchRequest, is_null_literal};
use super::policy_dml::{self, check_constant_assignments};
use super::policy_rows::PolicyView;
use super::writer::{Assignments, MergeChanges, Writer, merge_refused};
use crate::dml::OnConflict;
use crate::error::Error;
use crate::schema::Resource;

/// Writes a registry policy table: a read-modify-write of one policy per region.
#[derive(Debug)]
pub struct PolicyWriter {
    /// The table's resource.
    pub resource: &'static Resource,
    /// Whole document or statements.
    pub view: PolicyView,
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
        Ok(check_constant_assignments(
            self.view,
            self.resource,
            read,
            assignments,
        )?)
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

    fn table(&self) -> String {
        self.resource.qualified_name("aws")
    }

    fn merges(&self) -> bool {
        false
    }

    async fn run_merge(
        &self,
        _target: &RecordBatch,
        _changes: MergeChanges,
        _context: &ProviderContext,
    ) -> DfResult<u64> {
        Err(merge_refused(&self.table()).into())
    }
}

inventory::submit! {
    super::module::ResourceModule {
        name: "registry_policy",
        reader: |resource| {
            let view = PolicyView::of(resource);
            std::sync::Arc::new(super::policy_reader::PolicyReader { resource, view })
        },
        writer: |resource| {
            let view = PolicyView::of(resource);
            std::sync::Arc::new(PolicyWriter { resource, view })
        },
    }
}
