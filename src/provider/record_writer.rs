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
use super::writer::{Assignments, MergeChanges, Writer};
use crate::aws::mutate::Sender;
use crate::aws::request::ScanRequest;
use crate::dml::call_plan::CallPlan;
use crate::dml::problems::{checked_region, report_problems, set_by_aws};
use crate::dml::{ApiCall, Mutation, OnConflict, patch};
use crate::ecr::constraints::canonical_value;
use crate::error::{Error, Result};
use crate::schema::{Resource, Verb};

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
            if c.read_only || c.fetched_by.is_some() {
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
        for (column, why) in self.item_problems(&values) {
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
            let (want, have) = (d.values.get(&c.name), now.get(&c.name));
            let differs = match (want, &c.default) {
                (None, Some(default)) => have.is_some_and(|h| h.as_str() != Some(default)),
                (None, None) => false,
                (Some(w), _) => Some(w) != have,
            };
            if differs {
                let shown = |v: Option<&Value>| v.map_or("NULL".into(), quoted);
                let noun = self.resource.noun();
                return Err(Error::Usage(format!(
                    "row {}: {noun} '{}' in {} exists with {} {}, the row asks for {}: only {} \
                     change in place; DELETE the {noun} first to re-create it",
                    d.row,
                    d.id,
                    d.region,
                    c.name,
                    shown(have),
                    shown(want),
                    self.resource.updatable_names()
                )));
            }
        }
        Ok(())
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
        if changed.is_empty() {
            return Ok(None);
        }
        let mut item = self.as_sent(current)?;
        item.extend(changed.clone());
        let problem = self
            .item_problems(&item)
            .into_iter()
            .find(|(column, _)| changed.contains_key(column));
        if let Some((column, why)) = problem {
            let row = row.map(|r| format!("row {r}: ")).unwrap_or_default();
            let value = quoted(&changed[&column]);
            return Err(Error::Usage(format!(
                "{row}{} '{id}' in {region}: {column} {value}: {why}; nothing was sent",
                self.resource.noun()
            )));
        }
        Ok(Some(self.call(Verb::Update, &region, &id, &changed, row)))
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
        if is_null_literal(value) {
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
        report_problems(&problems)?;
        if validate_only {
            return Ok(0);
        }
        let existing = match on_conflict {
            Some(_) => self.existing(&desired, context).await?,
            None => HashMap::new(),
        };
        report_problems(&self.read_only_problems(&desired, &existing))?;
        let mut plan = CallPlan::default();
        for d in &desired {
            match (existing.get(&(d.region.clone(), d.id.clone())), on_conflict) {
                (Some(_), Some(OnConflict::DoNothing)) => plan.unchanged += 1,
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
        patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64> {
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
            match self.desired(*s, values, false, &context.default_regions) {
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
    use crate::aws::rules::RuleCalls;
    use crate::provider::rules::RuleItems;
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
            sender: Arc::new(RuleCalls),
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
            w.create(&d).to_string(),
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
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("exists with upstream_repository_prefix 'team', the row asks for NULL")
        );
    }

    fn same_dh() -> Value {
        json!({"ecr_repository_prefix": "dh", "upstream_registry_url": "registry-1.docker.io", "credential_arn": DH_SECRET})
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
            call.unwrap().unwrap().to_string(),
            format!(
                r#"UpdatePullThroughCacheRule us-east-1 {{"credentialArn":"{rotated}","ecrRepositoryPrefix":"dh"}}"#
            )
        );
        let same = w.update(&current(), &row(json!({"credential_arn": DH_SECRET})), None);
        assert!(same.unwrap().is_none());
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
}
