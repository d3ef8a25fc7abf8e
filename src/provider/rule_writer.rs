//! Writing pull-through cache rules: a Create, Update or Delete call per rule, planned by
//! `dml/plan.rs`, for INSERT, UPDATE, DELETE and the changes a MERGE decided.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::Array;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;
use json_patch::Patch;
use serde_json::Value;

use super::context::ProviderContext;
use super::dml::{
    MatchRequest, constant_assignments, execute_plan, is_null_literal, read_matches, set_values,
    utf8,
};
use super::reader::Reader;
use super::rule_reader::RuleReader;
use super::writer::{Assignments, MergeChanges, Writer};
use crate::aws::request::ScanRequest;
use crate::aws::rule_calls::RuleCalls;
use crate::dml::desired::{ReadOnly, read_only_problems, report_problems, validate_all};
use crate::dml::plan::{plan_delete, plan_insert, plan_update, rule_key, value_problem};
use crate::dml::{DesiredRule, OnConflict, RuleState, patch};
use crate::error::{Error, Result};
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

    fn check_merge_constants(&self, schema: &DFSchema, values: &Assignments) -> DfResult<()> {
        Ok(check_constant_values(schema, values)?)
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
        Ok(run_insert(self.resource, batches, on_conflict, context).await?)
    }

    async fn run_update(
        &self,
        read: &MatchRequest,
        assignments: &Assignments,
        patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        Ok(run_update(self.resource, read, assignments, patch, context).await?)
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        let found = read_matches(self.resource, read, context, "DELETE").await?;
        let plan = plan_delete(self.resource, &RuleState::from_batch(&found));
        Ok(execute_plan(self.resource, "DELETE", plan, &RuleCalls, context).await?)
    }

    fn table(&self) -> String {
        self.resource.qualified_name("aws")
    }

    async fn run_merge(
        &self,
        target: &RecordBatch,
        changes: MergeChanges,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let resource = self.resource;
        let states = RuleState::from_batch(target);
        let deletes: Vec<RuleState> = changes.deletes.iter().map(|&t| states[t].clone()).collect();
        let (mut current, mut wanted) = (Vec::new(), Vec::new());
        for update in changes.updates {
            current.push(states[update.target].clone());
            wanted.push(update.set.into_iter().map(|(c, v)| (c, text(&v))).collect());
        }
        let inserts: Vec<DesiredRule> = changes
            .inserts
            .into_iter()
            .map(|(row, values)| DesiredRule {
                row,
                values: RuleState(values.into_iter().map(|(c, v)| (c, text(&v))).collect()),
            })
            .collect();
        let regions = validate_all(
            &inserts,
            resource,
            &schemas().provider.regions,
            &context.default_regions,
            ReadOnly::Refused,
        )?;
        // Deletes first, so a converging MERGE never trips the 50-rule quota on its way.
        let mut plan = plan_delete(resource, &deletes);
        plan.extend(plan_update(resource, &current, &wanted)?);
        plan.extend(plan_insert(
            resource,
            &inserts,
            &regions,
            &HashMap::new(),
            None,
        )?);
        Ok(execute_plan(resource, "MERGE", plan, &RuleCalls, context).await?)
    }
}

/// Checks the constant values an UPDATE of rules sets, as the rows of an INSERT are checked.
fn check_constant_values(
    schema: &DFSchema,
    assignments: &[(String, Arc<dyn PhysicalExpr>)],
) -> Result<()> {
    let mut problems = Vec::new();
    for (column, value) in constant_assignments(schema, assignments)? {
        let text = utf8(&value)?;
        if text.is_null(0) {
            continue;
        }
        let value = text.value(0);
        if let Some(why) = value_problem(column, value) {
            problems.push(format!("{column}: '{value}': {why}"));
        }
    }
    report_problems(&problems)
}

/// Read-only values in INSERT rows: refused, unless ON CONFLICT reads the rules they can be
/// compared with (an export fed back repeats them).
fn read_only_rule(on_conflict: Option<&OnConflict>) -> ReadOnly {
    if on_conflict.is_some() {
        ReadOnly::MatchState
    } else {
        ReadOnly::Refused
    }
}

async fn run_insert(
    resource: &'static Resource,
    batches: &[RecordBatch],
    on_conflict: Option<&OnConflict>,
    context: &ProviderContext,
) -> Result<u64> {
    let rows = DesiredRule::from_batches(batches);
    let regions = validate_all(
        &rows,
        resource,
        &schemas().provider.regions,
        &context.default_regions,
        read_only_rule(on_conflict),
    )?;
    let mut existing = HashMap::new();
    if on_conflict.is_some() {
        let mut wanted: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for (row, region) in rows.iter().zip(&regions) {
            wanted
                .entry(region.as_str())
                .or_default()
                .insert(row.values.prefix().to_string());
        }
        for (region, identifiers) in wanted {
            let request = ScanRequest {
                identifiers: Some(identifiers),
                ..ScanRequest::default()
            };
            for rule in read_region(resource, region, &request, context).await? {
                existing.insert(rule_key(rule.region(), rule.prefix()), rule);
            }
        }
    }
    if on_conflict.is_some() {
        report_problems(&read_only_problems(&rows, &regions, resource, &existing))?;
    }
    let plan = plan_insert(resource, &rows, &regions, &existing, on_conflict)?;
    execute_plan(resource, "INSERT", plan, &RuleCalls, context).await
}

async fn run_update(
    resource: &'static Resource,
    matches: &MatchRequest,
    assignments: &[(String, Arc<dyn PhysicalExpr>)],
    patch: Option<&Patch>,
    context: &ProviderContext,
) -> Result<u64> {
    let found = read_matches(resource, matches, context, "UPDATE").await?;
    let states = RuleState::from_batch(&found);
    let new_values: Vec<Vec<(String, Option<String>)>> = match patch {
        Some(p) => states
            .iter()
            .map(|s| patch::apply(p, s, resource))
            .collect::<Result<_>>()?,
        None => {
            let columns = set_values(assignments, &found)?
                .into_iter()
                .map(|(name, values)| Ok((name.to_string(), utf8(&values)?)))
                .collect::<Result<Vec<_>>>()?;
            (0..found.num_rows())
                .map(|i| {
                    columns
                        .iter()
                        .map(|(n, a)| (n.clone(), (!a.is_null(i)).then(|| a.value(i).to_string())))
                        .collect()
                })
                .collect()
        }
    };
    let plan = plan_update(resource, &states, &new_values)?;
    execute_plan(resource, "UPDATE", plan, &RuleCalls, context).await
}

/// The current state of the rules `request` names in one region (as listed: no extra call).
async fn read_region(
    resource: &'static Resource,
    region: &str,
    request: &ScanRequest,
    context: &ProviderContext,
) -> Result<Vec<RuleState>> {
    let listed = RuleReader { resource }
        .list(&context.clients, region, request)
        .await?;
    Ok(RuleState::from_batch(&listed))
}

/// A value as the rule planners take it: text, or `None` for NULL.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

inventory::submit! {
    super::module::ResourceModule {
        name: "pull_through_cache_rules",
        reader: |resource| Arc::new(super::rule_reader::RuleReader { resource }),
        writer: |resource| Arc::new(RuleWriter { resource }),
    }
}
