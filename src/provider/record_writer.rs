//! Writing a resource whose rows are independent items named by an identifier: a create call
//! per INSERT row, an update call per row whose values change, a delete call per matched row.
//! A resource brings only its `Sender`: the members sent are the columns' `source` names, and
//! the values are checked against the columns' `check` in its schema, before any call.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use json_patch::Patch;
use serde_json::Value;

use super::context::ProviderContext;
use super::dml::{
    self, MatchRequest, constant_assignments, is_null_literal, read_matches, set_values,
};
use super::pushdown::REGION_COLUMN;
use super::reader::reader_for;
use super::records::{Row, rows_of, without_nulls};
use super::writer::{Assignments, MergeChanges, Writer};
use crate::aws::mutate::Sender;
use crate::aws::request::ScanRequest;
use crate::dml::desired::{region_or_default, report_problems};
use crate::dml::plan::CallPlan;
use crate::dml::{ApiCall, Mutation, OnConflict};
use crate::ecr::constraints::canonical_value;
use crate::error::{Error, Result};
use crate::schema::{Resource, Verb, check_region, schemas};

/// Writes a resource of independent items.
#[derive(Debug)]
pub struct RecordWriter {
    /// The table's resource.
    pub resource: &'static Resource,
    /// How its calls are sent: all that is specific to it (its checks are in its schema).
    pub sender: Arc<dyn Sender>,
}

/// A row an INSERT asks for, checked: its number, region, identifier and members to send.
struct Desired {
    row: usize,
    region: String,
    id: String,
    values: Row,
}

impl RecordWriter {
    /// The value of `column` as sent: a nested column's JSON text parsed, a slash-insensitive
    /// prefix in its one spelling. Two spellings of an export are read as what they mean: a
    /// list column arrives from CSV as one item holding the list's JSON text, and an empty
    /// list where ECR takes none (its `check` wants at least one item) of an optional member
    /// is no value (NULL); a required one stays, and its check refuses it.
    fn parse(&self, column: &str, value: &Value) -> std::result::Result<Value, String> {
        let declared = self.resource.column(column);
        let nested = declared.is_some_and(|c| c.nested);
        let parsed = match (nested, value) {
            (true, Value::String(text)) => serde_json::from_str(text)
                .map(without_nulls)
                .map_err(|e| format!("'{text}' is not valid JSON ({e})"))?,
            (false, Value::String(text)) => canonical_value(column, text).into(),
            (false, Value::Array(items)) => match items.as_slice() {
                [Value::String(text)] if text.starts_with('[') => serde_json::from_str(text)
                    .ok()
                    .filter(Value::is_array)
                    .unwrap_or_else(|| value.clone()),
                _ => value.clone(),
            },
            _ => value.clone(),
        };
        let never_empty = declared
            .and_then(|c| c.check.as_ref())
            .is_some_and(|c| c.min_length.is_some_and(|n| n > 0))
            && !self.required(column);
        Ok(match parsed {
            Value::Array(items) if items.is_empty() && never_empty => Value::Null,
            other => other,
        })
    }

    /// A value a statement gives for `column`, as sent, or why ECR would refuse it (the
    /// column's `check`). Values read from ECR are only parsed: they are ECR's own.
    fn wire(&self, column: &str, value: &Value) -> std::result::Result<Value, String> {
        let value = self.parse(column, value)?;
        let declared = self.resource.column(column);
        match declared.and_then(|c| c.check.as_ref()?.problem(&value)) {
            Some(why) => match value.as_str() {
                Some(text) => Err(format!("'{text}': {why}")),
                None => Err(format!("{value}: {why}")),
            },
            None => Ok(value),
        }
    }

    /// Checks one INSERT row; its problems name the row and the column.
    fn desired(
        &self,
        n: usize,
        row: &Row,
        conflict: bool,
        context: &ProviderContext,
    ) -> Result<Desired, Vec<String>> {
        let mut problems = Vec::new();
        let text = |c: &str| row.get(c).and_then(Value::as_str);
        let region =
            region_or_default(text(REGION_COLUMN), n, &context.default_regions).and_then(|r| {
                check_region(&r, &schemas().provider.regions)
                    .map(|_| r)
                    .map_err(|e| format!("row {n}: region: {e}"))
            });
        let mut values = Row::new();
        for c in &self.resource.columns {
            let Some(value) = row.get(&c.name) else {
                if c.name != REGION_COLUMN && self.required(&c.name) {
                    problems.push(format!("row {n}: {}: is required", c.name));
                }
                continue;
            };
            if c.name == REGION_COLUMN || c.fetched_by.is_some() {
                continue;
            }
            if c.read_only {
                // An export fed back with ON CONFLICT repeats what AWS set; it is not sent.
                if !conflict {
                    problems.push(format!(
                        "row {n}: {}: is set by AWS and cannot be given (leave it out or NULL)",
                        c.name
                    ));
                }
                continue;
            }
            match self.wire(&c.name, value) {
                // An export's empty list where ECR takes none: nothing to send.
                Ok(Value::Null) => {}
                Ok(v) => _ = values.insert(c.name.clone(), v),
                Err(why) => problems.push(format!("row {n}: {}: {why}", c.name)),
            }
        }
        let id = values
            .get(&self.resource.doc.identifier)
            .and_then(Value::as_str)
            .map(str::to_string);
        match (region, id) {
            (Ok(region), Some(id)) if problems.is_empty() => Ok(Desired {
                row: n,
                region,
                id,
                values,
            }),
            (region, _) => Err(region.err().into_iter().chain(problems).collect()),
        }
    }

    /// Whether INSERT's operation requires `column` (its `required_params`, by member name).
    fn required(&self, column: &str) -> bool {
        let method = self.resource.method(Verb::Insert);
        let member = self.resource.member(column).unwrap_or(column);
        method.is_some_and(|m| {
            m.required_params
                .iter()
                .any(|p| p.eq_ignore_ascii_case(member))
        })
    }

    /// A call of the resource's `verb` operation on `id` with the `values` (by column) given.
    fn call(
        &self,
        verb: Verb,
        region: &str,
        id: &str,
        values: &Row,
        row: Option<usize>,
    ) -> ApiCall {
        let r = self.resource;
        let id_member = r.member(&r.doc.identifier).unwrap_or_default();
        let members = values
            .iter()
            .filter_map(|(c, v)| Some((r.member(c)?, Some(v.clone()))));
        let members = std::iter::once((id_member, Some(Value::from(id)))).chain(members);
        ApiCall {
            region: region.to_string(),
            mutation: Mutation::new(r.operation(verb), members),
            row,
        }
    }

    /// What a NULL for `column` asks of an update (an upsert's or a MERGE's): no value, which
    /// the update refuses where there is one; or, where ECR fills a value a create leaves out
    /// (the column's `default`), nothing: what ECR set stays, as the create would have left it.
    fn null_for(&self, column: &str) -> Option<Value> {
        let filled = self
            .resource
            .column(column)
            .is_some_and(|c| c.filled_by_aws());
        (!filled).then_some(Value::Null)
    }

    /// The create call of a checked row.
    fn create(&self, d: &Desired) -> ApiCall {
        let mut values = d.values.clone();
        values.remove(&self.resource.doc.identifier);
        self.call(Verb::Insert, &d.region, &d.id, &values, Some(d.row))
    }

    /// The delete call of an item read.
    fn delete(&self, row: &Row) -> ApiCall {
        let id = text_of(row, &self.resource.doc.identifier);
        self.call(
            Verb::Delete,
            &text_of(row, REGION_COLUMN),
            &id,
            &Row::new(),
            None,
        )
    }

    /// The update call that brings `current` to `wanted` (by column), if anything differs.
    fn update(&self, current: &Row, wanted: &Row, row: Option<usize>) -> Result<Option<ApiCall>> {
        let (id, region) = (
            text_of(current, &self.resource.doc.identifier),
            text_of(current, REGION_COLUMN),
        );
        let mut changed = Row::new();
        for (column, new) in wanted {
            let old = current
                .get(column)
                .map(|v| self.parse(column, v))
                .transpose()
                .map_err(Error::Runtime)?;
            let old = old.filter(|v| !v.is_null());
            if new.is_null() && old.is_some() {
                let row = row.map(|r| format!("row {r}: ")).unwrap_or_default();
                return Err(Error::Usage(format!(
                    "{row}cannot set {column} of {} '{id}' in {region} to NULL: {} replaces a value but cannot remove it; nothing was sent",
                    self.resource.noun(),
                    self.resource.operation(Verb::Update)
                )));
            }
            if !new.is_null() && old.as_ref() != Some(new) {
                changed.insert(column.clone(), new.clone());
            }
        }
        Ok((!changed.is_empty()).then(|| self.call(Verb::Update, &region, &id, &changed, row)))
    }

    /// The items of `desired` that exist, by (region, identifier), read through the resource's
    /// reader with the identifiers pinned.
    async fn existing(
        &self,
        desired: &[Desired],
        context: &ProviderContext,
    ) -> Result<HashMap<(String, String), Row>> {
        let mut wanted: BTreeMap<&str, std::collections::BTreeSet<String>> = BTreeMap::new();
        for d in desired {
            wanted.entry(&d.region).or_default().insert(d.id.clone());
        }
        let reader = reader_for(self.resource);
        let mut found = HashMap::new();
        for (region, ids) in wanted {
            let request = ScanRequest {
                identifiers: Some(ids),
                ..ScanRequest::default()
            };
            for row in rows_of(&[reader.list(&context.clients, region, &request).await?])? {
                found.insert(
                    (
                        region.to_string(),
                        text_of(&row, &self.resource.doc.identifier),
                    ),
                    row,
                );
            }
        }
        Ok(found)
    }

    async fn execute(
        &self,
        verb: &str,
        plan: CallPlan,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        Ok(dml::execute_plan(self.resource, verb, plan, self.sender.as_ref(), context).await?)
    }
}

#[async_trait]
impl Writer for RecordWriter {
    fn check_set(&self, column: &str, value: &Expr) -> DfResult<()> {
        let update = self.resource.operation(Verb::Update);
        if !self.resource.column(column).is_some_and(|c| c.updatable) {
            return Err(Error::Usage(format!(
                "{column} cannot change in place: UPDATE can set only {} ({update})",
                self.resource.updatable_names()
            ))
            .into());
        }
        if is_null_literal(value) {
            return Err(Error::Usage(format!(
                "{column} cannot be set to NULL: {update} replaces a value but cannot remove it"
            ))
            .into());
        }
        Ok(())
    }

    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()> {
        self.check_merge_constants(read.schema(), assignments)
    }

    fn check_merge_constants(&self, schema: &DFSchema, values: &Assignments) -> DfResult<()> {
        let mut problems = Vec::new();
        for (column, value) in constant_assignments(schema, values)? {
            let row = rows_of(&[RecordBatch::try_from_iter([(column, value)])?])?;
            if let Some(Err(why)) = row
                .first()
                .and_then(|r| r.get(column))
                .map(|v| self.wire(column, v))
            {
                problems.push(format!("{column}: {why}"));
            }
        }
        Ok(report_problems(&problems)?)
    }

    async fn run_insert(
        &self,
        batches: &[RecordBatch],
        on_conflict: Option<&OnConflict>,
        validate_only: bool,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let mut problems = Vec::new();
        let mut desired = Vec::new();
        for (i, row) in rows_of(batches)?.iter().enumerate() {
            match self.desired(i + 1, row, on_conflict.is_some(), context) {
                Ok(d) => desired.push(d),
                Err(p) => problems.extend(p),
            }
        }
        let mut seen = HashMap::new();
        for d in &desired {
            if let Some(first) = seen.insert((&d.region, &d.id), d.row) {
                problems.push(format!(
                    "rows {first} and {} both ask for {} '{}' in {}",
                    d.row,
                    self.resource.noun(),
                    d.id,
                    d.region
                ));
            }
        }
        report_problems(&problems)?;
        if validate_only {
            return Ok(0);
        }
        let existing = match on_conflict {
            Some(_) => self.existing(&desired, context).await?,
            None => HashMap::new(),
        };
        let mut plan = CallPlan::default();
        for d in &desired {
            match (existing.get(&(d.region.clone(), d.id.clone())), on_conflict) {
                (Some(_), Some(OnConflict::DoNothing)) => plan.unchanged += 1,
                (Some(current), Some(OnConflict::DoUpdate(columns))) => {
                    let wanted: Row = columns
                        .iter()
                        .filter_map(|c| {
                            let value = d.values.get(c).cloned().or_else(|| self.null_for(c));
                            Some((c.clone(), value?))
                        })
                        .collect();
                    plan.update(self.update(current, &wanted, Some(d.row))?);
                }
                _ => {
                    plan.calls.push(self.create(d));
                    plan.created += 1;
                }
            }
        }
        self.execute("INSERT", plan, context).await
    }

    async fn run_update(
        &self,
        read: &MatchRequest,
        assignments: &Assignments,
        _patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let found = read_matches(self.resource, read, context, "UPDATE").await?;
        let columns = set_values(assignments, &found)?;
        let new_rows = match columns.is_empty() {
            true => Vec::new(),
            false => rows_of(&[RecordBatch::try_from_iter(columns)?])?,
        };
        let mut plan = CallPlan::default();
        for (current, new) in rows_of(&[found])?.iter().zip(new_rows) {
            let mut wanted = Row::new();
            for (column, _) in assignments {
                let value = new.get(column).map(|v| self.wire(column, v)).transpose();
                let value = value
                    .map_err(|why| Error::Usage(format!("{column}: {why}; nothing was sent")))?;
                wanted.insert(column.clone(), value.unwrap_or(Value::Null));
            }
            plan.update(self.update(current, &wanted, None)?);
        }
        self.execute("UPDATE", plan, context).await
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        let found = rows_of(&[read_matches(self.resource, read, context, "DELETE").await?])?;
        let plan = CallPlan {
            calls: found.iter().map(|row| self.delete(row)).collect(),
            deleted: found.len(),
            ..CallPlan::default()
        };
        self.execute("DELETE", plan, context).await
    }

    async fn run_merge(
        &self,
        target: &RecordBatch,
        changes: MergeChanges,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let rows = rows_of(std::slice::from_ref(target))?;
        let mut problems = Vec::new();
        let mut plan = CallPlan::default();
        for &t in &changes.deletes {
            plan.calls.push(self.delete(&rows[t]));
            plan.deleted += 1;
        }
        for update in &changes.updates {
            let (t, s) = (update.target, update.source_row);
            let mut wanted = Row::new();
            for (column, value) in &update.set {
                if value.is_null() {
                    if let Some(null) = self.null_for(column) {
                        wanted.insert(column.clone(), null);
                    }
                    continue;
                }
                match self.wire(column, value) {
                    Ok(v) => _ = wanted.insert(column.clone(), v),
                    Err(why) => problems.push(format!("source row {s}: {column}: {why}")),
                }
            }
            if problems.is_empty() {
                plan.update(self.update(&rows[t], &wanted, Some(s))?);
            }
        }
        for (s, values) in &changes.inserts {
            match self.desired(*s, values, false, context) {
                Ok(d) => {
                    plan.calls.push(self.create(&d));
                    plan.created += 1;
                }
                Err(p) => problems.extend(p),
            }
        }
        report_problems(&problems)?;
        self.execute("MERGE", plan, context).await
    }

    fn table(&self) -> String {
        self.resource.qualified_name("aws")
    }
}

/// The text of `column` in a row ("" when NULL).
fn text_of(row: &Row, column: &str) -> String {
    row.get(column)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
