//! Writing a resource whose rows are independent items named by an identifier: a create call
//! per INSERT row, an update call per row whose values change, a delete call per matched row.
//! A resource brings its `Sender` and, if ECR ties its columns together, its `ItemRules`: the
//! members sent are the columns' `source` names, and each value is checked against its
//! column's `check` in provider-schemas, before any call.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
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
use super::item_rules::ItemRules;
use super::pushdown::REGION_COLUMN;
use super::reader::reader_for;
use super::records::{Row, rows_of, without_nulls};
use super::writer::{Assignments, Insert, MergeChanges, Update, Writer};
use crate::aws::mutate::Sender;
use crate::dml::call_plan::CallPlan;
use crate::dml::problems::{checked_region, report_problems, set_by_aws};
use crate::dml::{ApiCall, Mutation, OnConflict, patch};
use crate::engine::request::ScanRequest;
use crate::error::{Error, Result};
use crate::schema::arn_scope::{ACCOUNT_COLUMN, account_of, region_problem};
use crate::schema::{Column, Resource, Verb};

/// Writes a resource of independent items.
#[derive(Debug)]
pub struct RecordWriter {
    /// The table's resource.
    pub resource: &'static Resource,
    /// How its calls are sent.
    pub sender: Arc<dyn Sender>,
    /// Its rules across columns, if any (each column's own check is in its schema).
    pub item_rules: Option<&'static dyn ItemRules>,
}

/// A row an INSERT asks for, checked: its number, region, identifier and members to send.
struct Desired {
    row: usize,
    region: String,
    id: String,
    values: Row,
    /// The values given read-only columns that name the item's owner (an export fed back
    /// with ON CONFLICT repeats them): they must equal the item's current ones.
    read_only: Row,
}

/// The account of the registry a statement writes, and how it is known ("the registry_id
/// read"): a custom role or a secret of another account is refused by ECR.
struct RegistryAccount {
    id: String,
    how: String,
}

impl RegistryAccount {
    /// The account the first of `items` names in `column` (an item read, or a row giving it).
    fn of<'a>(items: impl IntoIterator<Item = &'a Row>, how: &str) -> Option<Self> {
        items.into_iter().find_map(|row| {
            let id = row.get(ACCOUNT_COLUMN)?.as_str()?;
            Some(Self {
                id: id.to_string(),
                how: format!("the registry is account {id} ({how})"),
            })
        })
    }
}

impl RecordWriter {
    /// The writer of `resource`, its calls sent as their wire members, with its rules across
    /// columns (a resource module's `writer`).
    pub fn arc(
        resource: &'static Resource,
        item_rules: Option<&'static dyn ItemRules>,
    ) -> Arc<dyn super::writer::Writer> {
        let batch = (resource.method(Verb::Delete)).and_then(|m| m.batch.clone());
        let sender: Arc<dyn Sender> = match batch {
            Some(batch) => Arc::new(super::batch::BatchSender { batch }),
            None => Arc::new(crate::aws::wire_call::WireSender),
        };
        Arc::new(Self {
            resource,
            sender,
            item_rules,
        })
    }

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
            (false, Value::String(text)) => self.resource.canonical(column, text).into(),
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
            && !self.resource.required_on_insert(column);
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
            Some(why) => Err(format!("{} {why}", quoted_before(&value, &why))),
            None => Ok(value),
        }
    }

    /// Checks one INSERT row; its problems name the row and the column.
    fn desired(
        &self,
        n: usize,
        row: &Row,
        conflict: bool,
        default_regions: &Result<Vec<String>, String>,
    ) -> Result<Desired, Vec<String>> {
        let mut problems = Vec::new();
        let text = |c: &str| row.get(c).and_then(Value::as_str);
        let region = checked_region(text(REGION_COLUMN), n, default_regions);
        let mut values = Row::new();
        let mut read_only = Row::new();
        let mut bad = Vec::new();
        for c in &self.resource.columns {
            // '' is no value: stackql writes it for an unused optional field, CSV for an empty cell.
            let Some(value) = row.get(&c.name).filter(|v| v.as_str() != Some("")) else {
                if c.name != REGION_COLUMN && self.resource.required_on_insert(&c.name) {
                    problems.push(format!("row {n}: {}: is required", c.name));
                }
                continue;
            };
            if c.name == REGION_COLUMN {
                continue;
            }
            // A lazy column is an answer about the item unless the schema writes it.
            if c.read_only || (c.fetched_by.is_some() && !c.updatable) {
                // An export fed back with ON CONFLICT repeats what AWS set; it is not sent, but
                // an owner's id must be the item's (timestamps are history, not configuration).
                if !conflict {
                    problems.push(set_by_aws(n, &c.name));
                } else if c.fetched_by.is_none() && !matches!(c.data_type, DataType::Timestamp(..))
                {
                    read_only.insert(c.name.clone(), value.clone());
                }
                continue;
            }
            match self.wire(&c.name, value) {
                // An export's empty list where ECR takes none: nothing to send.
                Ok(Value::Null) => {}
                Ok(v) => _ = values.insert(c.name.clone(), v),
                Err(why) => {
                    problems.push(format!("row {n}: {}: {why}", c.name));
                    bad.push(c.name.as_str());
                }
            }
        }
        let mut across = self.item_problems(&values);
        if let Ok(region) = &region {
            across.extend(self.region_problems(&values, std::slice::from_ref(region)));
        }
        for (column, why) in across {
            // A column already refused on its own is not blamed twice.
            if !bad.contains(&column.as_str()) {
                problems.push(format!("row {n}: {column}: {why}"));
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
                read_only,
            }),
            (region, _) => Err(region.err().into_iter().chain(problems).collect()),
        }
    }

    /// The problems the resource's cross-column rules find in `item`.
    fn item_problems(&self, item: &Row) -> Vec<(String, String)> {
        self.item_rules
            .map(|rules| rules.problems(item))
            .unwrap_or_default()
    }

    /// The ARNs among `values` (by column, as sent) in none of `regions` where their column's
    /// `arn_scope` asks for the item's region: the column and why.
    fn region_problems(&self, values: &Row, regions: &[String]) -> Vec<(String, String)> {
        let noun = self.resource.noun();
        values
            .iter()
            .filter_map(|(column, value)| {
                let scope = &self.resource.column(column)?.arn_scope;
                let why = region_problem(scope, value.as_str()?, noun, regions)?;
                Some((column.clone(), format!("{} {why}", quoted(value))))
            })
            .collect()
    }

    /// The problems of ARNs that name another account than the registry's, where their
    /// column's `arn_scope` asks for it. A statement writes one registry (the caller's): its
    /// account is `known` where a read or the statement tells it, else the first account the
    /// items name, so two accounts among them are refused before any call. Each item comes
    /// with how messages name it ("row 2").
    fn account_problems<'a>(
        &self,
        items: impl IntoIterator<Item = (String, &'a Row)>,
        known: Option<RegistryAccount>,
    ) -> Vec<String> {
        let mut registry = known;
        let mut problems = Vec::new();
        for (item, values) in items {
            for (column, value) in values {
                let Some(c) = self.resource.column(column) else {
                    continue;
                };
                let Some(account) = value.as_str().and_then(|v| account_of(&c.arn_scope, v)) else {
                    continue;
                };
                match &registry {
                    Some(r) if r.id != account => problems.push(format!(
                        "{item}: {column}: {} is in account {account}, but {}: ECR takes it only \
                         from the registry's account",
                        quoted(value),
                        r.how
                    )),
                    Some(_) => {}
                    None => {
                        registry = Some(RegistryAccount {
                            id: account.to_string(),
                            how: format!(
                                "{item}'s {column} is in account {account}, and a statement \
                                 writes one registry"
                            ),
                        })
                    }
                }
            }
        }
        problems
    }

    /// Checks values a statement gives before any call (constants, by column): each against
    /// its column's `check`, and an ARN against `regions`, the regions whose items the
    /// statement can change (an UPDATE's), where known.
    fn check_values(&self, values: &[(String, Value)], regions: Option<&[String]>) -> Result<()> {
        let mut problems = Vec::new();
        for (column, value) in values {
            match self.wire(column, value) {
                Err(why) => problems.push(format!("{column}: {why}")),
                Ok(v) => {
                    let wired = Row::from_iter([(column.clone(), v)]);
                    let outside = regions.map(|r| self.region_problems(&wired, r));
                    for (column, why) in outside.unwrap_or_default() {
                        problems.push(format!("{column}: {why}"));
                    }
                }
            }
        }
        report_problems(&problems)
    }

    /// The values of the assignments that read no column, by column, as JSON.
    fn constants(
        &self,
        schema: &DFSchema,
        assignments: &Assignments,
    ) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::new();
        for (column, value) in constant_assignments(schema, assignments)? {
            let batch = RecordBatch::try_from_iter([(column, value)])
                .map_err(|e| Error::Runtime(e.to_string()))?;
            let row = rows_of(&[batch])?;
            if let Some(v) = row.first().and_then(|r| r.get(column)) {
                out.push((column.to_string(), v.clone()));
            }
        }
        Ok(out)
    }

    /// The current values of an item read, as sent (`parse`d), without what AWS sets.
    fn as_sent(&self, current: &Row) -> Result<Row> {
        let mut item = Row::new();
        for c in self.resource.columns.iter().filter(|c| !c.read_only) {
            if let Some(v) = current.get(&c.name).filter(|_| c.name != REGION_COLUMN) {
                let v = self.parse(&c.name, v).map_err(Error::Runtime)?;
                item.insert(c.name.clone(), v);
            }
        }
        Ok(item)
    }

    /// An upsert's row must ask for what the item was created with: a create-only column
    /// cannot change in place. One left out is what ECR fills (its `default`, or whatever it
    /// infers), so it is compared only with a declared default.
    fn check_same_creation(&self, d: &Desired, current: &Row) -> Result<()> {
        let now = self.as_sent(current)?;
        for c in self.resource.create_only_columns() {
            if let Some((have, want)) = self.difference(c, d.values.get(&c.name), &now)? {
                let noun = self.resource.noun();
                return Err(Error::Usage(format!(
                    "row {}: {noun} '{}' in {} exists with {} {have}, the row asks for {want}: \
                     only {} change in place; DELETE the {noun} first to re-create it",
                    d.row,
                    d.id,
                    d.region,
                    c.name,
                    self.resource.updatable_names()
                )));
            }
        }
        Ok(())
    }

    /// Whether the item `now` (as sent) differs in `c` from what a row asks (`want`; left
    /// out, what a create would get: the column's default, or whatever ECR infers, else no
    /// value): the current value and the one asked for, as messages show them.
    fn difference(
        &self,
        c: &Column,
        want: Option<&Value>,
        now: &Row,
    ) -> Result<Option<(String, String)>> {
        let have = now.get(&c.name).filter(|v| !v.is_null());
        let differs = match (want, &c.default) {
            (Some(w), _) => Some(w) != have,
            (None, Some(default)) => {
                let default = self.parse(&c.name, &Value::from(default.as_str()));
                have.is_some_and(|h| Some(h) != default.as_ref().ok())
            }
            (None, None) => !c.inferred && have.is_some(),
        };
        let asked = match (want, &c.default) {
            (Some(w), _) => quoted(w),
            (None, Some(default)) => format!("the default '{default}'"),
            (None, None) => "NULL".into(),
        };
        Ok(differs.then(|| (have.map_or("NULL".into(), quoted), asked)))
    }

    /// What an item that `ON CONFLICT DO NOTHING` leaves as it is has other than row `d`
    /// asks ("row 1: rule 'quay' in us-east-1 exists with upstream_registry_url 'quay.io' (the
    /// row asks for 'ghcr.io')"), or `None` when it is what the row asks: drift stays visible.
    fn differences(&self, d: &Desired, current: &Row) -> Result<Option<String>> {
        let now = self.as_sent(current)?;
        let mut differ = Vec::new();
        let compared = (self.resource.columns.iter())
            .filter(|c| !c.read_only && c.fetched_by.is_none() && c.name != REGION_COLUMN);
        for c in compared {
            if let Some((have, want)) = self.difference(c, d.values.get(&c.name), &now)? {
                differ.push(format!("{} {have} (the row asks for {want})", c.name));
            }
        }
        Ok((!differ.is_empty()).then(|| {
            format!(
                "row {}: {} '{}' in {} exists with {}",
                d.row,
                self.resource.noun(),
                d.id,
                d.region,
                differ.join(", ")
            )
        }))
    }

    /// Problems of upsert rows whose read-only values are not the item's current ones (an
    /// item that does not exist yet has none).
    fn read_only_problems(
        &self,
        desired: &[Desired],
        existing: &HashMap<(String, String), Row>,
    ) -> Vec<String> {
        let noun = self.resource.noun();
        let mut problems = Vec::new();
        for d in desired {
            let now = existing.get(&(d.region.clone(), d.id.clone()));
            for (column, value) in &d.read_only {
                match now.and_then(|r| r.get(column)) {
                    Some(v) if v == value => {}
                    Some(v) => problems.push(format!(
                        "row {}: {column}: {} differs from the {noun}'s current {}: a read-only \
                         column may repeat the current value (as an export does) or be left empty",
                        d.row,
                        quoted(value),
                        quoted(v)
                    )),
                    None => problems.push(format!(
                        "row {}: {column}: is set by AWS, and {noun} '{}' does not exist in {} \
                         yet: leave it empty",
                        d.row, d.id, d.region
                    )),
                }
            }
        }
        problems
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
        let members = values
            .iter()
            .filter_map(|(c, v)| Some((r.member(c)?, Some(v.clone()))));
        // A table identified by its region (the registry) sends no identifier.
        let id_member = r.member(&r.doc.identifier);
        let members = (id_member.map(|m| (m, Some(Value::from(id)))))
            .into_iter()
            .chain(members);
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
    /// The create call of a checked row, then the in-place updates of the columns it gives
    /// that the create does not take (`after_create`: a repository's lifecycle policy).
    fn create(&self, d: &Desired) -> Vec<ApiCall> {
        let r = self.resource;
        let mut values = d.values.clone();
        values.remove(&r.doc.identifier);
        let later = |c: &str| r.column_update(c).is_some_and(|u| u.after_create);
        let (after, now): (Row, Row) = values.into_iter().partition(|(c, _)| later(c));
        let create = self.call(Verb::Insert, &d.region, &d.id, &now, Some(d.row));
        let after = (!after.is_empty()).then(|| {
            self.column_updates(&d.region, &d.id, (&Row::new(), &after), &after, Some(d.row))
        });
        std::iter::once(create)
            .chain(after.into_iter().flatten())
            .collect()
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
    fn update(&self, current: &Row, wanted: &Row, row: Option<usize>) -> Result<Vec<ApiCall>> {
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
            let removable =
                (self.resource.column_update(column)).is_some_and(|u| u.removed_by.is_some());
            if new.is_null() && removable {
                // Removed when the item holds one (its lazy value was read for the update).
                if old.is_some() {
                    changed.insert(column.clone(), Value::Null);
                }
                continue;
            }
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
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let before = self.as_sent(current)?;
        let mut item = before.clone();
        item.extend(changed.clone());
        let problem = self
            .item_problems(&item)
            .into_iter()
            .find(|(column, _)| changed.contains_key(column));
        let label = |row: Option<usize>| {
            let row = row.map(|r| format!("row {r}: ")).unwrap_or_default();
            format!("{row}{} '{id}' in {region}", self.resource.noun())
        };
        if let Some((column, why)) = problem {
            let value = quoted(&changed[&column]);
            return Err(Error::Usage(format!(
                "{}: {column} {value}: {why}; nothing was sent",
                label(row)
            )));
        }
        // The secret of the item's region, the role and secret of its registry's account.
        let mut problems: Vec<String> = (self
            .region_problems(&changed, std::slice::from_ref(&region)))
        .into_iter()
        .map(|(column, why)| format!("{}: {column}: {why}", label(row)))
        .collect();
        let registry = RegistryAccount::of([current], &format!("the {} read", ACCOUNT_COLUMN));
        problems.extend(self.account_problems([(label(row), &changed)], registry));
        if let Some(problem) = problems.first() {
            return Err(Error::Usage(format!("{problem}; nothing was sent")));
        }
        if self.resource.doc.updates.is_empty() {
            return Ok(vec![self.call(Verb::Update, &region, &id, &changed, row)]);
        }
        // The members that name the item to an operation of its own (a repository's ARN).
        for column in self
            .resource
            .doc
            .updates
            .iter()
            .flat_map(|u| u.sends.values())
        {
            if let Some(v) = current.get(column) {
                item.entry(column.clone()).or_insert_with(|| v.clone());
            }
        }
        Ok(self.column_updates(&region, &id, (&before, &item), &changed, row))
    }

    /// The in-place operations that make the `changed` columns of an item so, in the order
    /// the schema lists them: each sends every column it sets (as the item will hold it), or
    /// its removal when its columns are set to NULL, or, for a list changed by difference, the
    /// items added and the keys removed. `items` is the item before and after.
    fn column_updates(
        &self,
        region: &str,
        id: &str,
        (before, after): (&Row, &Row),
        changed: &Row,
        row: Option<usize>,
    ) -> Vec<ApiCall> {
        let r = self.resource;
        let touched =
            (r.doc.updates.iter()).filter(|u| u.sets.iter().any(|c| changed.contains_key(c)));
        let mut calls = Vec::new();
        for u in touched {
            let named: Vec<(&str, Option<Value>)> = match u.sends.is_empty() {
                true => (r
                    .member(&r.doc.identifier)
                    .map(|m| (m, Some(Value::from(id)))))
                .into_iter()
                .collect(),
                false => (u.sends.iter())
                    .map(|(m, c)| (m.as_str(), after.get(c).cloned()))
                    .collect(),
            };
            let member = |c: &str| u.members.get(c).map(String::as_str).or(r.member(c));
            let value = |c: &str| after.get(c).filter(|v| !v.is_null()).cloned();
            let mut call = |operation: &str, members: Vec<(&str, Option<Value>)>| {
                calls.push(ApiCall {
                    region: region.to_string(),
                    mutation: Mutation::new(operation, named.iter().cloned().chain(members)),
                    row,
                });
            };
            let removed = u
                .sets
                .iter()
                .all(|c| changed.get(c).is_none_or(Value::is_null));
            match (&u.removed_by, &u.difference) {
                (Some(removal), _) if removed => call(removal, Vec::new()),
                (_, Some(d)) => {
                    let Some(column) = u.sets.first() else {
                        continue;
                    };
                    let (added, gone) =
                        list_difference(before.get(column), after.get(column), &d.key);
                    if !added.is_empty() {
                        call(
                            &u.operation,
                            vec![(member(column).unwrap_or(column), Some(Value::Array(added)))],
                        );
                    }
                    if !gone.is_empty() {
                        call(
                            &d.operation,
                            vec![(d.member.as_str(), Some(Value::Array(gone)))],
                        );
                    }
                }
                _ => call(
                    &u.operation,
                    (u.sets.iter())
                        .filter_map(|c| Some((member(c)?, value(c))))
                        .collect(),
                ),
            }
        }
        calls
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
        let updates = &self.resource.doc.updates;
        let update = match updates.is_empty() {
            true => self.resource.operation(Verb::Update).to_string(),
            false => (updates.iter().map(|u| u.operation.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        };
        // Where some columns are fixed at creation, re-creating is the way to change them.
        let noun = self.resource.noun();
        let recreate = self.resource.create_only_columns().next().is_some();
        if !self.resource.column(column).is_some_and(|c| c.updatable) {
            let others = match recreate {
                true => format!("; delete and re-create the {noun} to change the others"),
                false => String::new(),
            };
            return Err(Error::Usage(format!(
                "{column} cannot change in place: UPDATE can set only {} ({update}){others}",
                self.resource.updatable_names()
            ))
            .into());
        }
        let removable =
            (self.resource.column_update(column)).is_some_and(|u| u.removed_by.is_some());
        if is_null_literal(value) && !removable {
            let update =
                (self.resource.column_update(column)).map_or(update, |u| u.operation.clone());
            let without = match recreate {
                true => format!(" (delete and re-create the {noun} without it)"),
                false => String::new(),
            };
            return Err(Error::Usage(format!(
                "{column} cannot be set to NULL: {update} replaces a value but cannot remove it{without}"
            ))
            .into());
        }
        Ok(())
    }

    fn takes_patch(&self) -> bool {
        true
    }

    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()> {
        let values = self.constants(read.schema(), assignments)?;
        Ok(self.check_values(&values, Some(read.regions()))?)
    }

    fn check_patch(&self, read: &MatchRequest, patch: &Patch) -> DfResult<()> {
        let values = patch::constant_values(patch, self.resource)?;
        Ok(self.check_values(&values, Some(read.regions()))?)
    }

    fn check_merge_constants(&self, schema: &DFSchema, values: &Assignments) -> DfResult<()> {
        // The regions of a MERGE's items are its source rows', known only when it runs.
        Ok(self.check_values(&self.constants(schema, values)?, None)?)
    }

    async fn run_insert(&self, insert: Insert<'_>, context: &ProviderContext) -> DfResult<u64> {
        let (batches, on_conflict) = (insert.batches, insert.on_conflict);
        let mut problems = Vec::new();
        let mut desired = Vec::new();
        for (i, row) in rows_of(batches)?.iter().enumerate() {
            match self.desired(i + 1, row, on_conflict.is_some(), &context.default_regions) {
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
        // The registry's account where a row gives it (an export fed back), else whichever
        // account the rows' ARNs name first.
        let given = RegistryAccount::of(
            desired.iter().map(|d| &d.read_only),
            &format!("the {ACCOUNT_COLUMN} a row gives"),
        );
        problems.extend(self.account_problems(rows_named(&desired), given));
        report_problems(&problems)?;
        if insert.validate_only {
            return Ok(0);
        }
        let existing = match on_conflict {
            Some(_) => self.existing(&desired, context).await?,
            None => HashMap::new(),
        };
        let mut problems = self.read_only_problems(&desired, &existing);
        // What the read tells of the registry's account holds for the rows it creates too.
        let key = |d: &Desired| (d.region.clone(), d.id.clone());
        let read = RegistryAccount::of(existing.values(), &format!("the {ACCOUNT_COLUMN} read"));
        let created = desired.iter().filter(|d| !existing.contains_key(&key(d)));
        if read.is_some() {
            problems.extend(self.account_problems(rows_named(created), read));
        }
        report_problems(&problems)?;
        let mut plan = CallPlan {
            plain_insert: on_conflict.is_none(),
            ..CallPlan::default()
        };
        for d in &desired {
            match (existing.get(&key(d)), on_conflict) {
                (Some(current), Some(OnConflict::DoNothing)) => {
                    match self.differences(d, current)? {
                        Some(skipped) => plan.skipped.push(skipped),
                        None => plan.unchanged += 1,
                    }
                }
                (Some(current), Some(OnConflict::DoUpdate(columns))) => {
                    self.check_same_creation(d, current)?;
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
                    plan.calls.extend(self.create(d));
                    plan.created += 1;
                }
            }
        }
        self.execute("INSERT", plan, context).await
    }

    async fn run_update(&self, update: Update<'_>, context: &ProviderContext) -> DfResult<u64> {
        let (read, assignments, patch) = (update.read, update.assignments, update.patch);
        // The current values of the lazy columns assigned (an unchanged one makes no call).
        let read = &read.fetching(self.resource, assignments.iter().map(|(c, _)| c.as_str()));
        let found = read_matches(self.resource, read, context, "UPDATE").await?;
        let columns = set_values(assignments, &found)?;
        let current = rows_of(std::slice::from_ref(&found))?;
        let new_rows: Vec<Vec<(String, Value)>> = match (patch, columns.is_empty()) {
            (Some(p), _) => current
                .iter()
                .map(|row| patch::apply(p, row, self.resource))
                .collect::<Result<_>>()?,
            (None, true) => Vec::new(),
            (None, false) => rows_of(&[RecordBatch::try_from_iter(columns)?])?
                .into_iter()
                .map(|new| {
                    let value = |c: &String| new.get(c).cloned().unwrap_or(Value::Null);
                    assignments
                        .iter()
                        .map(|(c, _)| (c.clone(), value(c)))
                        .collect()
                })
                .collect(),
        };
        let mut plan = CallPlan::default();
        for (current, new) in current.iter().zip(new_rows) {
            let mut wanted = Row::new();
            for (column, value) in new {
                let value = match value {
                    Value::Null => Value::Null,
                    v => self.wire(&column, &v).map_err(|why| {
                        Error::Usage(format!("{column}: {why}; nothing was sent"))
                    })?,
                };
                wanted.insert(column, value);
            }
            plan.update(self.update(current, &wanted, None)?);
        }
        self.execute("UPDATE", plan, context).await
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        let found = rows_of(&[read_matches(self.resource, read, context, "DELETE").await?])?;
        let batch = (self.resource.method(Verb::Delete)).and_then(|m| m.batch.as_ref());
        let calls = match batch {
            Some(batch) => super::batch::batch_calls(self.resource, batch, &found),
            None => found.iter().map(|row| self.delete(row)).collect(),
        };
        let plan = CallPlan {
            calls,
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
        let mut created = Vec::new();
        for (s, values) in &changes.inserts {
            match self.desired(*s, values, false, &context.default_regions) {
                Ok(d) => created.push(d),
                Err(p) => problems.extend(p),
            }
        }
        // The target read tells the registry's account (when it holds an item).
        let read = RegistryAccount::of(&rows, &format!("the {ACCOUNT_COLUMN} read"));
        problems.extend(self.account_problems(rows_named(&created), read));
        for d in &created {
            plan.calls.extend(self.create(d));
            plan.created += 1;
        }
        report_problems(&problems)?;
        self.execute("MERGE", plan, context).await
    }

    fn table(&self) -> String {
        self.resource.qualified_name("aws")
    }
}

/// The rows of an INSERT or MERGE, with how messages name them ("row 2").
/// Of two lists of objects keyed by `key`: the items of `after` that `before` does not hold
/// as they are, and the keys of `before` that `after` no longer has.
fn list_difference(
    before: Option<&Value>,
    after: Option<&Value>,
    key: &str,
) -> (Vec<Value>, Vec<Value>) {
    let items = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let (before, after) = (items(before), items(after));
    let added = (after.iter())
        .filter(|i| !before.contains(i))
        .cloned()
        .collect();
    let kept: Vec<&Value> = after.iter().filter_map(|i| i.get(key)).collect();
    let gone = (before.iter())
        .filter_map(|i| i.get(key))
        .filter(|k| !kept.contains(k))
        .cloned()
        .collect();
    (added, gone)
}

fn rows_named<'a>(
    desired: impl IntoIterator<Item = &'a Desired>,
) -> impl Iterator<Item = (String, &'a Row)> {
    desired
        .into_iter()
        .map(|d| (format!("row {}", d.row), &d.values))
}

/// A value as a message shows it: text in quotes, anything else as JSON.
fn quoted(value: &Value) -> String {
    match value.as_str() {
        Some(text) => format!("'{text}'"),
        None => value.to_string(),
    }
}

/// `value` shown before the reason `why` it is refused: "'x': must …", but "'x' is not …".
fn quoted_before(value: &Value, why: &str) -> String {
    match why.starts_with("is ") {
        true => quoted(value),
        false => format!("{}:", quoted(value)),
    }
}

/// The text of `column` in a row ("" when NULL).
fn text_of(row: &Row, column: &str) -> String {
    row.get(column)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::ecr::pull_through_cache_rules::RuleItems;
    use crate::schema::schemas;
    use serde_json::json;

    const DH_SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-Ab12";

    fn rules() -> RecordWriter {
        let resource = schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap();
        RecordWriter {
            resource,
            sender: Arc::new(crate::aws::wire_call::WireSender),
            item_rules: Some(&RuleItems),
        }
    }

    fn row(value: Value) -> Row {
        value.as_object().cloned().unwrap_or_default()
    }

    fn desired(w: &RecordWriter, value: Value, conflict: bool) -> Result<Desired, Vec<String>> {
        w.desired(3, &row(value), conflict, &Ok(vec!["us-east-1".into()]))
    }

    /// A docker-hub rule as read.
    fn current() -> Row {
        row(json!({
            "region": "us-east-1", "registry_id": "123456789012", "ecr_repository_prefix": "dh",
            "upstream_registry_url": "registry-1.docker.io", "upstream_registry": "docker-hub",
            "upstream_repository_prefix": "ROOT", "credential_arn": DH_SECRET,
            "created_at": "2026-01-01T00:00:00Z"
        }))
    }

    #[test]
    fn each_insert_row_is_checked_by_column_and_across_columns() {
        let w = rules();
        let good = json!({"ecr_repository_prefix": "q1/", "upstream_registry_url": "quay.io", "credential_arn": ""});
        let d = desired(&w, good, false).unwrap();
        assert_eq!((d.region.as_str(), d.id.as_str()), ("us-east-1", "q1"));
        assert_eq!(
            w.create(&d)[0].to_string(),
            r#"CreatePullThroughCacheRule us-east-1 {"ecrRepositoryPrefix":"q1","upstreamRegistryUrl":"quay.io"}"#
        );
        let bad = json!({"ecr_repository_prefix": "Q1", "upstream_registry_url": "quay.io", "upstream_registry": "docker-hub", "registry_id": "1"});
        let problems = desired(&w, bad, false).err().unwrap();
        assert_eq!(
            problems,
            [
                "row 3: registry_id: is set by AWS and cannot be given (leave it out or NULL)",
                "row 3: ecr_repository_prefix: 'Q1': must satisfy regular expression pattern: ^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$",
                "row 3: upstream_registry: 'docker-hub' does not match upstream_registry_url 'quay.io' (that is quay)",
            ]
        );
        // A malformed credential is blamed once, not also as missing.
        let malformed = json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "registry-1.docker.io", "credential_arn": "arn:nope"});
        let problems = desired(&w, malformed, false).err().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("row 3: credential_arn: 'arn:nope': must have length"));
    }

    #[test]
    fn an_upsert_must_ask_for_what_the_item_was_created_with() {
        let w = rules();
        let same = json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "registry-1.docker.io", "credential_arn": DH_SECRET});
        assert!(
            w.check_same_creation(&desired(&w, same, true).unwrap(), &current())
                .is_ok()
        );
        let other = json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "ghcr.io", "credential_arn": DH_SECRET});
        let e = w.check_same_creation(&desired(&w, other, true).unwrap(), &current());
        assert_eq!(
            e.unwrap_err().to_string(),
            "row 3: rule 'dh' in us-east-1 exists with upstream_registry_url 'registry-1.docker.io', \
             the row asks for 'ghcr.io': only credential_arn, custom_role_arn change in place; \
             DELETE the rule first to re-create it"
        );
        // Left out, the upstream prefix is ECR's default ROOT, which this rule does not have.
        let mut team = current();
        team.insert("upstream_repository_prefix".into(), "team".into());
        let e = w.check_same_creation(&desired(&w, same_dh(), true).unwrap(), &team);
        assert!(e.unwrap_err().to_string().contains(
            "exists with upstream_repository_prefix 'team', the row asks for the default 'ROOT'"
        ));
    }

    fn same_dh() -> Value {
        json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "registry-1.docker.io", "credential_arn": DH_SECRET})
    }

    #[test]
    fn on_conflict_do_nothing_names_what_differs_from_the_row() {
        let w = rules();
        let d = desired(&w, same_dh(), true).unwrap();
        assert_eq!(w.differences(&d, &current()).unwrap(), None);
        let mut quay = current();
        quay.insert("upstream_registry_url".into(), "quay.io".into());
        quay.insert("upstream_registry".into(), "quay".into());
        quay.insert("upstream_repository_prefix".into(), "team".into());
        assert_eq!(
            w.differences(&d, &quay).unwrap().unwrap(),
            "row 3: rule 'dh' in us-east-1 exists with upstream_registry_url 'quay.io' (the row \
             asks for 'registry-1.docker.io'), upstream_repository_prefix 'team' (the row asks \
             for the default 'ROOT')"
        );
        // A value the row leaves out and the item has is a difference too.
        let role = "arn:aws:iam::123456789012:role/r";
        let mut ecr = current();
        ecr.insert(
            "upstream_registry_url".into(),
            "111122223333.dkr.ecr.us-east-1.amazonaws.com".into(),
        );
        ecr.insert("upstream_registry".into(), "ecr".into());
        ecr.remove("credential_arn");
        ecr.insert("custom_role_arn".into(), role.into());
        let asked = json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "111122223333.dkr.ecr.us-east-1.amazonaws.com"});
        let d = desired(&w, asked, true).unwrap();
        assert_eq!(
            w.differences(&d, &ecr).unwrap().unwrap(),
            format!(
                "row 3: rule 'dh' in us-east-1 exists with custom_role_arn '{role}' (the row asks for NULL)"
            )
        );
    }

    #[test]
    fn an_arn_must_be_in_the_items_region_and_the_registrys_account() {
        let w = rules();
        let eu = DH_SECRET.replace("us-east-1", "eu-west-1");
        let mut dh = same_dh();
        dh["credential_arn"] = eu.clone().into();
        assert_eq!(
            desired(&w, dh, false).err().unwrap(),
            [format!(
                "row 3: credential_arn: '{eu}' is in region eu-west-1, and the rule is in \
                 us-east-1: ECR takes it only from the rule's own region"
            )]
        );
        // An update: the item read tells the region and the account.
        let other = DH_SECRET.replace("123456789012", "999999999999");
        let e = w.update(&current(), &row(json!({"credential_arn": other})), Some(2));
        assert_eq!(
            e.unwrap_err().to_string(),
            format!(
                "row 2: rule 'dh' in us-east-1: credential_arn: '{other}' is in account \
                 999999999999, but the registry is account 123456789012 (the registry_id read): \
                 ECR takes it only from the registry's account; nothing was sent"
            )
        );
        let e = w.update(&current(), &row(json!({"credential_arn": eu})), None);
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("is in region eu-west-1, and the rule is in us-east-1"),
        );
        // Rows that name two accounts: one registry cannot hold both.
        let role = |account: &str| format!("arn:aws:iam::{account}:role/r");
        let (a, b) = (
            row(json!({"custom_role_arn": role("111111111111")})),
            row(json!({"custom_role_arn": role("222222222222")})),
        );
        let rows = [("row 1".to_string(), &a), ("row 2".to_string(), &b)];
        assert_eq!(
            w.account_problems(rows.clone(), None),
            [format!(
                "row 2: custom_role_arn: '{}' is in account 222222222222, but row 1's \
                 custom_role_arn is in account 111111111111, and a statement writes one registry: \
                 ECR takes it only from the registry's account",
                role("222222222222")
            )]
        );
        let known = RegistryAccount::of([&current()], "the registry_id read");
        assert_eq!(w.account_problems(rows, known).len(), 2);
    }

    #[test]
    fn an_upserts_read_only_values_must_be_the_current_ones() {
        let w = rules();
        let mut export = same_dh();
        export["registry_id"] = "123456789012".into();
        export["created_at"] = "2020-01-01T00:00:00Z".into();
        let d = desired(&w, export.clone(), true).unwrap();
        let existing = HashMap::from([(("us-east-1".to_string(), "dh".to_string()), current())]);
        assert_eq!(
            w.read_only_problems(std::slice::from_ref(&d), &existing),
            Vec::<String>::new()
        );
        export["registry_id"] = "111122223333".into();
        let d = desired(&w, export, true).unwrap();
        assert_eq!(
            w.read_only_problems(std::slice::from_ref(&d), &existing),
            [
                "row 3: registry_id: '111122223333' differs from the rule's current '123456789012': \
              a read-only column may repeat the current value (as an export does) or be left empty"
            ]
        );
        assert_eq!(
            w.read_only_problems(&[d], &HashMap::new()),
            [
                "row 3: registry_id: is set by AWS, and rule 'dh' does not exist in us-east-1 yet: leave it empty"
            ]
        );
    }

    #[test]
    fn an_update_changes_only_what_differs_and_is_checked_against_the_whole_item() {
        let w = rules();
        let rotated = DH_SECRET.replace("Ab12", "Cd34");
        let call = w.update(&current(), &row(json!({"credential_arn": rotated})), None);
        assert_eq!(
            call.unwrap()[0].to_string(),
            format!(
                r#"UpdatePullThroughCacheRule us-east-1 {{"credentialArn":"{rotated}","ecrRepositoryPrefix":"dh"}}"#
            )
        );
        let same = w.update(&current(), &row(json!({"credential_arn": DH_SECRET})), None);
        assert!(same.unwrap().is_empty());
        let unset = w.update(&current(), &row(json!({"credential_arn": null})), Some(2));
        assert!(
            unset
                .unwrap_err()
                .to_string()
                .starts_with("row 2: cannot set credential_arn of rule 'dh' in us-east-1 to NULL")
        );
        let role = "arn:aws:iam::123456789012:role/r";
        let e = w.update(&current(), &row(json!({"custom_role_arn": role})), None);
        assert_eq!(
            e.unwrap_err().to_string(),
            format!(
                "rule 'dh' in us-east-1: custom_role_arn '{role}': must be NULL: a custom role is only for ecr upstreams, not docker-hub; nothing was sent"
            )
        );
    }

    #[test]
    fn a_repository_changes_column_by_column_and_its_tags_by_difference() {
        let resource = schemas().resource("ecr", "repositories").unwrap();
        let w = RecordWriter {
            resource,
            sender: Arc::new(crate::aws::wire_call::WireSender),
            item_rules: None,
        };
        let arn = "arn:aws:ecr:us-east-1:111122223333:repository/quay/a";
        let current = row(json!({
            "region": "us-east-1", "registry_id": "111122223333", "repository_name": "quay/a",
            "repository_arn": arn, "image_tag_mutability": "MUTABLE", "scan_on_push": false,
            "lifecycle_policy": r#"{"rules":[]}"#,
            "tags": r#"[{"Key":"team","Value":"a"},{"Key":"cost","Value":"x"}]"#,
        }));
        let wanted = row(json!({
            "scan_on_push": true, "lifecycle_policy": null,
            "tags": [{"Key": "team", "Value": "b"}],
        }));
        let calls: Vec<String> = (w.update(&current, &wanted, None).unwrap())
            .iter()
            .map(ApiCall::to_string)
            .collect();
        assert_eq!(
            calls,
            [
                r#"PutImageScanningConfiguration us-east-1 {"imageScanningConfiguration":{"scanOnPush":true},"repositoryName":"quay/a"}"#.to_string(),
                r#"DeleteLifecyclePolicy us-east-1 {"repositoryName":"quay/a"}"#.to_string(),
                format!(r#"TagResource us-east-1 {{"resourceArn":"{arn}","tags":[{{"Key":"team","Value":"b"}}]}}"#),
                format!(r#"UntagResource us-east-1 {{"resourceArn":"{arn}","tagKeys":["cost"]}}"#),
            ]
        );
        // The same tags in another order, and the policy already absent: nothing to send.
        let same =
            row(json!({"tags": [{"Key": "cost", "Value": "x"}, {"Key": "team", "Value": "a"}]}));
        assert!(w.update(&current, &same, None).unwrap().is_empty());
    }
}
