//! Writing a resource held as one document per region (the registry policy): every write is a
//! read-modify-write of the document. Each row is checked before any call, the documents are
//! read, the items added, changed or removed (planned in `dml::document`), and each changed
//! document written whole by one call (or, with `--dry-run`, reported). No MERGE.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use serde_json::Value;

use super::context::ProviderContext;
use super::dml::{
    MatchRequest, constant_assignments, execute_plan, is_null_literal, note_matches, set_values,
};
use super::document_reader::DocumentReader;
use super::pushdown::REGION_COLUMN;
use super::records::{Record, Row, records_batch, rows_of};
use super::scan_filter::all_true;
use super::writer::{Assignments, Insert, MergeChanges, Update, Writer, merge_refused};
use crate::aws::wire_call::WireSender;
use crate::dml::document::{Held, Members, Wanted, id_of, plan_delete, plan_insert, plan_update};
use crate::dml::problems::{checked_region, report_problems, set_by_aws};
use crate::error::{Error, Result};
use crate::schema::Resource;

/// Writes a document-held table, through the same reading as its SELECT.
#[derive(Debug)]
pub struct DocumentWriter {
    /// How the table is read (its resource and document shape).
    pub reader: DocumentReader,
}

/// What an UPDATE or DELETE matched: the documents read, and the matched rows with their
/// region and position in the region's document.
struct Matched {
    held: BTreeMap<String, Held>,
    rows: RecordBatch,
    at: Vec<(String, usize)>,
}

impl DocumentWriter {
    fn resource(&self) -> &'static Resource {
        self.reader.resource
    }

    /// The current documents of `regions`, and their rows as members.
    async fn read(
        &self,
        regions: impl IntoIterator<Item = &String>,
        context: &ProviderContext,
    ) -> Result<(BTreeMap<String, Held>, BTreeMap<String, Vec<Record>>)> {
        let (mut held, mut rows) = (BTreeMap::new(), BTreeMap::new());
        for region in regions {
            let (now, records) = self.reader.held(&context.clients, region).await?;
            held.insert(region.clone(), now);
            rows.insert(region.clone(), records);
        }
        Ok((held, rows))
    }

    /// Checks every INSERT row before any read; the error lists every problem.
    fn wanted(&self, batches: &[RecordBatch], context: &ProviderContext) -> Result<Vec<Wanted>> {
        let (r, shape) = (self.resource(), self.reader.shape);
        let mut problems = Vec::new();
        let mut wanted = Vec::new();
        let mut ids: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (i, row) in rows_of(batches)?.iter().enumerate() {
            let n = i + 1;
            let given = row.get(REGION_COLUMN).and_then(Value::as_str);
            let region = match checked_region(given, n, &context.default_regions) {
                Ok(region) => region,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let set_by = r
                .columns
                .iter()
                .filter(|c| c.read_only && row.contains_key(&c.name));
            problems.extend(set_by.map(|c| set_by_aws(n, &c.name)));
            let members = match members_of_row(r, row) {
                Ok(members) => members,
                Err(e) => {
                    problems.push(format!("row {n}: {e}"));
                    continue;
                }
            };
            let id = id_of(r, &region, &members);
            if let Some(id) = &id
                && let Some(first) = ids.insert((region.clone(), id.clone()), n)
            {
                let what = match r.identified_by_region() {
                    true => format!("write {region}'s {}: a region has one", r.document_noun()),
                    false => format!(
                        "add {} '{id}' to {region}'s {}; it is unique there",
                        r.doc.identifier,
                        r.document_noun()
                    ),
                };
                problems.push(format!("rows {first} and {n} both {what}"));
            }
            match shape.item(&members, &region) {
                Ok(item) => wanted.push(Wanted {
                    row: n,
                    region,
                    id,
                    item,
                }),
                Err(found) => problems.extend(found.into_iter().map(|p| format!("row {n}: {p}"))),
            }
        }
        report_problems(&problems)?;
        Ok(wanted)
    }

    /// Reads the rows an UPDATE or DELETE matches, with their positions, and lists them for
    /// review when the statement does not pin the identifier (or in a dry run).
    async fn matched(
        &self,
        read: &MatchRequest,
        context: &ProviderContext,
        verb: &str,
    ) -> Result<Matched> {
        let r = self.resource();
        read.note_never(context, verb);
        let (held, records) = self.read(read.regions(), context).await?;
        let mut batches = Vec::new();
        let mut at = Vec::new();
        for (region, records) in &records {
            let rows = records_batch(r, region, records, None)?;
            let keep = all_true(read.filter_exprs(), &rows)?;
            let kept = (keep.iter().enumerate()).filter(|(_, k)| k.unwrap_or(false));
            at.extend(kept.map(|(i, _)| (region.clone(), i)));
            batches.push(filter_record_batch(&rows, &keep).map_err(runtime)?);
        }
        let rows = concat_batches(&r.arrow_schema(), &batches).map_err(runtime)?;
        let pin = format!("a pinned {}", r.doc.identifier);
        note_matches(
            context,
            verb,
            read.is_bulk().then_some(&pin),
            &counted(r.noun()),
            || {
                let id = |region: &String, i: usize| held[region].items[i].0.as_deref();
                Ok((at.iter())
                    .map(|(region, i)| self.label(region, id(region, *i), *i))
                    .collect())
            },
        )?;
        Ok(Matched { held, rows, at })
    }

    /// How a matched item is named in a problem and in a review listing: its region, and its
    /// identifier (or its position, for an item without one).
    fn label(&self, region: &str, id: Option<&str>, at: usize) -> String {
        match (self.resource().identified_by_region(), id) {
            (true, _) => region.to_string(),
            (false, Some(id)) => format!("{region} {id}"),
            (false, None) => format!("{region} {} {}", self.resource().noun(), at + 1),
        }
    }
}

#[async_trait]
impl Writer for DocumentWriter {
    fn check_set(&self, column: &str, value: &Expr) -> DfResult<()> {
        let r = self.resource();
        if !r.column(column).is_some_and(|c| c.updatable) {
            return Err(Error::Usage(format!(
                "{column} cannot be set: UPDATE {} can set {}",
                r.qualified_name("aws"),
                r.updatable_names()
            ))
            .into());
        }
        // What INSERT requires, UPDATE cannot take away.
        if r.required_on_insert(column) && is_null_literal(value) {
            let required: Vec<&str> = (r.columns.iter())
                .filter(|c| c.updatable && r.required_on_insert(&c.name))
                .map(|c| c.name.as_str())
                .collect();
            let needs = match required.split_last() {
                Some((last, [])) => last.to_string(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => column.to_string(),
            };
            let (noun, table) = (r.noun(), r.qualified_name("aws"));
            return Err(Error::Usage(format!(
                "{column} cannot be NULL: a {noun} needs {needs} (DELETE FROM {table} removes a {noun})"
            ))
            .into());
        }
        Ok(())
    }

    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()> {
        // The values that do not depend on the current document, checked as a script's check
        // does before its first statement runs; the others once read.
        let (r, shape) = (self.resource(), self.reader.shape);
        let constants = constant_assignments(read.schema(), assignments)?;
        if constants.is_empty() {
            return Ok(());
        }
        let values = values_set(&constants, 1)?.pop().unwrap_or_default();
        let set = members_set(r, constants.iter().map(|(c, _)| *c), &values)?;
        // A problem found in several regions is told once, with their names.
        let mut found: Vec<(String, Vec<&str>)> = Vec::new();
        for region in read.regions() {
            for problem in shape.check_change(&set, region) {
                match found.iter_mut().find(|(p, _)| *p == problem) {
                    Some((_, regions)) => regions.push(region.as_str()),
                    None => found.push((problem, vec![region.as_str()])),
                }
            }
        }
        let problems: Vec<String> = (found.into_iter())
            .map(|(p, regions)| format!("{}: {p}", regions.join(", ")))
            .collect();
        Ok(report_problems(&problems)?)
    }

    async fn run_insert(&self, insert: Insert<'_>, context: &ProviderContext) -> DfResult<u64> {
        let (batches, on_conflict) = (insert.batches, insert.on_conflict);
        let wanted = self.wanted(batches, context)?;
        if insert.validate_only {
            return Ok(0);
        }
        let regions: BTreeSet<&String> = wanted.iter().map(|w| &w.region).collect();
        let (held, _) = self.read(regions, context).await?;
        let (r, shape) = (self.resource(), self.reader.shape);
        let plan = plan_insert(shape, r, &wanted, &held, on_conflict)?;
        Ok(execute_plan(r, "INSERT", plan, &WireSender, context).await?)
    }

    async fn run_update(&self, update: Update<'_>, context: &ProviderContext) -> DfResult<u64> {
        let (read, assignments) = (update.read, update.assignments);
        let (r, shape) = (self.resource(), self.reader.shape);
        let found = self.matched(read, context, "UPDATE").await?;
        let n = found.rows.num_rows();
        let new_rows = values_set(&set_values(assignments, &found.rows)?, n)?;
        let columns = || assignments.iter().map(|(c, _)| c.as_str());
        let mut problems = Vec::new();
        let mut changes: BTreeMap<String, Vec<(usize, Value)>> = BTreeMap::new();
        for (new, (region, at)) in new_rows.iter().zip(&found.at) {
            let set = members_set(r, columns(), new)?;
            let (id, old) = &found.held[region].items[*at];
            match shape.changed(old, &set, region) {
                Ok(item) => changes.entry(region.clone()).or_default().push((*at, item)),
                Err(found) => {
                    let label = self.label(region, id.as_deref(), *at);
                    problems.extend(found.into_iter().map(|p| format!("{label}: {p}")));
                }
            }
        }
        report_problems(&problems)?;
        let plan = plan_update(shape, &found.held, &changes)?;
        Ok(execute_plan(r, "UPDATE", plan, &WireSender, context).await?)
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        let found = self.matched(read, context, "DELETE").await?;
        let mut remove: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (region, at) in found.at {
            remove.entry(region).or_default().insert(at);
        }
        let plan = plan_delete(self.reader.shape, &found.held, &remove)?;
        let store = &WireSender;
        Ok(execute_plan(self.resource(), "DELETE", plan, store, context).await?)
    }

    fn table(&self) -> String {
        self.resource().qualified_name("aws")
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

/// A row's values as the item's members (each column's `source`); a list column's value must
/// be a list.
fn members_of_row(resource: &Resource, row: &Row) -> Result<Members> {
    let mut members = Members::new();
    for (column, value) in row {
        let list =
            (resource.column(column)).is_some_and(|c| matches!(c.data_type, DataType::List(_)));
        if list && !value.is_array() {
            return Err(Error::Usage(format!(
                "{column} must be a list such as ['a', 'b'], not {value}"
            )));
        }
        if let Some(member) = resource.member(column) {
            members.insert(member.to_string(), value.clone());
        }
    }
    Ok(members)
}

/// The values SET gives each of `n` rows, by column (a NULL left out).
fn values_set(columns: &[(&str, ArrayRef)], n: usize) -> Result<Vec<Row>> {
    if columns.is_empty() {
        return Ok(vec![Row::new(); n]);
    }
    let batch = RecordBatch::try_from_iter(columns.iter().map(|(c, v)| (*c, Arc::clone(v))))
        .map_err(runtime)?;
    rows_of(&[batch])
}

/// The members the columns SET (`columns`) change, with their values in `values` (a NULL,
/// absent there, is a null member): every other member of the item stays as it is.
fn members_set<'a>(
    resource: &Resource,
    columns: impl IntoIterator<Item = &'a str>,
    values: &Row,
) -> Result<Members> {
    let columns: Vec<&str> = columns.into_iter().collect();
    let given: Row = (columns.iter())
        .filter_map(|c| Some((c.to_string(), values.get(*c)?.clone())))
        .collect();
    let mut set = members_of_row(resource, &given)?;
    let nulls = (columns.iter()).filter(|c| !given.contains_key(**c));
    for member in nulls.filter_map(|c| resource.member(c)) {
        set.insert(member.to_string(), Value::Null);
    }
    Ok(set)
}

/// "statement(s)", "policy(ies)": a noun counted in a review listing.
fn counted(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) => format!("{stem}y(ies)"),
        None => format!("{noun}(s)"),
    }
}

fn runtime(e: impl ToString) -> Error {
    Error::Runtime(e.to_string())
}
