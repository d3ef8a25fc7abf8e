//! MERGE into any writable resource: converge the regions a desired-state source names. Rows
//! are matched on region and identifier; the WHEN clauses decide which target rows are deleted
//! or updated and which source rows created (`MergeChanges`), and the resource's writer makes
//! the calls.
//!
//! A matched row whose create-only columns differ from the source's (a rule's upstream URL, say)
//! cannot be updated in place: it is an error. Replacing is explicit — a
//! `WHEN MATCHED AND t.upstream_registry_url <> s.upstream_registry_url THEN DELETE` clause
//! deletes it, and the next run creates it.

use super::changing::refuse_changing_functions;
use super::exec_basics::exec_basics;
use super::lazy;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, RecordBatch, StringArray, UInt32Array, new_null_array,
};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{Column as DfColumn, DFSchemaRef};
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{
    BinaryExpr, Expr, MergeIntoAction, MergeIntoClause, MergeIntoClauseKind, Operator,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

use super::context::ProviderContext;
use super::dml::{count_properties, count_stream, df, is_null_literal, utf8};
use super::permissions::{Columns, InputRows, MapRows, Touch, TouchingExec, row_values};
use super::pushdown::REGION_COLUMN;
use super::reader::{read_region, reader_for};
use super::records::{Row, rows_of};
use super::writer::{MergeChanges, MergeUpdate, Writer};
use crate::engine::request::ScanRequest;
use crate::error::{Error, Result};
use crate::schema::check_region;
use crate::schema::{FetchOperation, Resource, Verb, schemas};

/// Which rows a clause applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Matched,
    NotMatchedByTarget,
    NotMatchedBySource,
}

enum Action {
    Update(Vec<(String, Arc<dyn PhysicalExpr>)>),
    Insert(Vec<(String, Arc<dyn PhysicalExpr>)>),
    Delete,
}

struct Clause {
    category: Category,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    action: Action,
}

/// MERGE INTO one resource.
pub struct MergeExec {
    resource: &'static Resource,
    writer: Arc<dyn Writer>,
    source: Arc<dyn ExecutionPlan>,
    merge_schema: DFSchemaRef,
    /// Source column indices (in the source plan) holding the region and the identifier.
    key_columns: (usize, usize),
    clauses: Arc<Vec<Clause>>,
    logical_clauses: Vec<MergeIntoClause>,
    /// The extra calls per target row that the clauses need (none unless a condition or value
    /// reads a target column such as `t.is_valid`).
    fetches: Arc<BTreeSet<FetchOperation>>,
    context: Arc<ProviderContext>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for MergeExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MergeExec({})", self.resource.name())
    }
}

impl MergeExec {
    /// Checks and compiles a MERGE (no call is made here).
    #[allow(clippy::too_many_arguments)]
    pub fn try_new(
        resource: &'static Resource,
        writer: Arc<dyn Writer>,
        state: &dyn Session,
        source: Arc<dyn ExecutionPlan>,
        merge_schema: DFSchemaRef,
        on: Expr,
        clauses: Vec<MergeIntoClause>,
        context: Arc<ProviderContext>,
    ) -> Result<Self> {
        refuse_changing_functions(&on, "MERGE's ON")?;
        for clause in &clauses {
            if let Some(predicate) = &clause.predicate {
                refuse_changing_functions(predicate, "a WHEN clause of MERGE")?;
            }
        }
        let target_len = resource.columns.len();
        let key_columns = key_columns(resource, &merge_schema, &on, target_len)?;
        let fetches = target_fetches(resource, &merge_schema, &clauses, target_len);
        let mut compiled = Vec::new();
        for clause in &clauses {
            let category = match clause.kind {
                MergeIntoClauseKind::Matched => Category::Matched,
                MergeIntoClauseKind::NotMatched | MergeIntoClauseKind::NotMatchedByTarget => {
                    Category::NotMatchedByTarget
                }
                MergeIntoClauseKind::NotMatchedBySource => Category::NotMatchedBySource,
            };
            let compile = |e: &Expr| {
                state
                    .create_physical_expr(e.clone(), &merge_schema)
                    .map_err(|e| Error::from_datafusion(e, true))
            };
            let predicate = clause.predicate.as_ref().map(compile).transpose()?;
            let action = match &clause.action {
                MergeIntoAction::Update(assignments) => {
                    let mut out = Vec::new();
                    for (name, value) in assignments {
                        let column = name.rsplit('.').next().unwrap_or(name);
                        match resource.column(column) {
                            Some(c) if c.updatable => {}
                            _ => {
                                return Err(Error::Usage(format!(
                                    "MERGE … UPDATE SET {column}: only {} change in place; a {} whose other columns differ \
                                     must be deleted and re-created",
                                    resource.updatable_names(),
                                    resource.noun()
                                )));
                            }
                        }
                        if is_null_literal(value) {
                            return Err(Error::Usage(format!(
                                "MERGE … UPDATE SET {column} = NULL: {} cannot remove a value",
                                resource.operation(Verb::Update)
                            )));
                        }
                        out.push((column.to_string(), compile(value)?));
                    }
                    Action::Update(out)
                }
                MergeIntoAction::Insert { columns, values } => {
                    let names: Vec<String> = if columns.is_empty() {
                        resource.columns.iter().map(|c| c.name.clone()).collect()
                    } else {
                        columns
                            .iter()
                            .map(|c| {
                                let c = c.rsplit('.').next().unwrap_or(c);
                                resource
                                    .column_named(c)
                                    .map(|col| col.name.clone())
                                    .unwrap_or_else(|| c.to_string())
                            })
                            .collect()
                    };
                    if names.len() != values.len() {
                        return Err(Error::Usage(format!(
                            "MERGE … INSERT names {} columns but gives {} values",
                            names.len(),
                            values.len()
                        )));
                    }
                    let mut out = Vec::new();
                    for (name, value) in names.into_iter().zip(values) {
                        check_not_crossed(resource, &merge_schema, target_len, &name, value)?;
                        out.push((name, compile(value)?));
                    }
                    Action::Insert(out)
                }
                MergeIntoAction::Delete => {
                    if category == Category::NotMatchedBySource
                        && !context.allow_bulk()
                        && !context.explaining()
                    {
                        return Err(Error::BulkRefused(format!(
                            "WHEN NOT MATCHED BY SOURCE … THEN DELETE deletes every {} of the source's regions that the \
                             source does not list: pass --allow-bulk to do it (review it first with --dry-run --allow-bulk); nothing was sent",
                            resource.noun()
                        )));
                    }
                    Action::Delete
                }
            };
            // Values that read no column are checked now: a bad one fails before any call.
            if let Action::Update(values) | Action::Insert(values) = &action
                && !context.explaining()
            {
                writer
                    .check_merge_constants(&merge_schema, values)
                    .map_err(|e| Error::from_datafusion(e, true))?;
            }
            if matches!(action, Action::Insert(_)) && category != Category::NotMatchedByTarget {
                return Err(Error::Usage(
                    "MERGE can INSERT only WHEN NOT MATCHED".into(),
                ));
            }
            compiled.push(Clause {
                category,
                predicate,
                action,
            });
        }
        Ok(Self {
            resource,
            writer,
            source,
            merge_schema,
            key_columns,
            clauses: Arc::new(compiled),
            logical_clauses: clauses,
            fetches: Arc::new(fetches),
            context,
            properties: count_properties(),
        })
    }
}

/// Refuses an INSERT value that is a source column named after another of the table's
/// columns than the one it goes into (`INSERT (repository_policy, …) VALUES
/// (s.lifecycle_policy, …)`): the values pair with the columns by position, and such a pair is a
/// mistake, never made silently. Renaming it in the source (`lifecycle_policy AS x`) says it is meant.
fn check_not_crossed(
    resource: &Resource,
    schema: &DFSchemaRef,
    target_len: usize,
    column: &str,
    value: &Expr,
) -> Result<()> {
    let mut value = value;
    while let Expr::Cast(datafusion::logical_expr::Cast { expr, .. }) = value {
        value = expr;
    }
    let Expr::Column(source) = value else {
        return Ok(());
    };
    let from_source = schema
        .index_of_column(source)
        .is_ok_and(|i| i >= target_len);
    match resource.column_named(&source.name) {
        Some(meant) if from_source && !meant.name.eq_ignore_ascii_case(column) => {
            Err(Error::Usage(format!(
                "MERGE … INSERT: {source} would go into {column} (the values pair with the \
                 columns by position): put the values in the order of the columns; to mean it, \
                 rename it in the source (USING (SELECT {name} AS …)); nothing was sent",
                name = source.name
            )))
        }
        _ => Ok(()),
    }
}

/// The extra calls needed for the target columns the clauses read (columns before
/// `target_len` in the merge schema are the target's).
fn target_fetches(
    resource: &Resource,
    schema: &DFSchemaRef,
    clauses: &[MergeIntoClause],
    target_len: usize,
) -> BTreeSet<FetchOperation> {
    target_columns_read(schema, clauses, target_len)
        .filter_map(|i| resource.columns[i].fetched_by)
        .collect()
}

/// The indices of the target columns the clauses read (those before `target_len` in the
/// merge schema are the target's).
fn target_columns_read(
    schema: &DFSchemaRef,
    clauses: &[MergeIntoClause],
    target_len: usize,
) -> impl Iterator<Item = usize> {
    let read: BTreeSet<usize> = (clauses.iter())
        .flat_map(clause_exprs)
        .flat_map(|e| e.column_refs())
        .filter_map(|c| schema.index_of_column(c).ok())
        .filter(|&i| i < target_len)
        .collect();
    read.into_iter()
}

/// The source columns that ON equates with the target's region and identifier.
fn key_columns(
    resource: &Resource,
    schema: &DFSchemaRef,
    on: &Expr,
    target_len: usize,
) -> Result<(usize, usize)> {
    let wrong = || {
        Error::Usage(format!(
            "MERGE ON must match {noun}s by region and identifier: ON t.region = s.region AND t.{id} = s.{id} (got {on})",
            noun = resource.noun(),
            id = resource.doc.identifier
        ))
    };
    let index = |c: &DfColumn| schema.index_of_column(c).map_err(|_| wrong());
    let mut region = None;
    let mut identifier = None;
    for part in split_conjunction(on) {
        let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) = part
        else {
            return Err(wrong());
        };
        let (Expr::Column(l), Expr::Column(r)) = (left.as_ref(), right.as_ref()) else {
            return Err(wrong());
        };
        let (li, ri) = (index(l)?, index(r)?);
        let (target, source) = match (li < target_len, ri < target_len) {
            (true, false) => (li, ri - target_len),
            (false, true) => (ri, li - target_len),
            _ => return Err(wrong()),
        };
        match resource.columns[target].name.as_str() {
            REGION_COLUMN => region = Some(source),
            name if name == resource.doc.identifier => identifier = Some(source),
            _ => return Err(wrong()),
        }
    }
    match (region, identifier) {
        (Some(r), Some(i)) => Ok((r, i)),
        _ => Err(wrong()),
    }
}

impl DisplayAs for MergeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clauses: Vec<String> = self
            .logical_clauses
            .iter()
            .map(|c| {
                let action = match &c.action {
                    MergeIntoAction::Update(_) => "UPDATE",
                    MergeIntoAction::Insert { .. } => "INSERT",
                    MergeIntoAction::Delete => "DELETE",
                };
                format!(
                    "{:?}{} {action}",
                    c.kind,
                    if c.predicate.is_some() {
                        " AND …"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        write!(
            f,
            "MergeExec: aws.{}.{}, clauses=[{}]",
            self.resource.doc.service,
            self.resource.name(),
            clauses.join(", ")
        )?;
        write!(f, "{}", lazy::explain(&self.fetches))?;
        Ok(())
    }
}

impl ExecutionPlan for MergeExec {
    exec_basics!("MergeExec");

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.source]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let Some(source) = children.into_iter().next() else {
            return Ok(self);
        };
        Ok(Arc::new(MergeExec {
            resource: self.resource,
            writer: Arc::clone(&self.writer),
            source,
            merge_schema: Arc::clone(&self.merge_schema),
            key_columns: self.key_columns,
            clauses: Arc::clone(&self.clauses),
            logical_clauses: self.logical_clauses.clone(),
            fetches: Arc::clone(&self.fetches),
            context: Arc::clone(&self.context),
            properties: Arc::clone(&self.properties),
        }))
    }

    fn execute(
        &self,
        _partition: usize,
        task: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let (resource, writer, source, clauses, fetches, context) = (
            self.resource,
            Arc::clone(&self.writer),
            Arc::clone(&self.source),
            Arc::clone(&self.clauses),
            Arc::clone(&self.fetches),
            Arc::clone(&self.context),
        );
        let merge_schema = nullable(&self.merge_schema);
        let keys = self.key_columns;
        let run = async move {
            // A script check does not read targets; the statement's own checks ran while planning.
            if context
                .validate_only
                .load(std::sync::atomic::Ordering::SeqCst)
            {
                return Ok(0);
            }
            let source_schema = source.schema();
            let batches = datafusion::physical_plan::collect(source, task).await?;
            let source_batch = concat_batches(&source_schema, &batches)?;
            let count = run_merge(
                resource,
                writer.as_ref(),
                &source_batch,
                keys,
                &merge_schema,
                &clauses,
                &fetches,
                &context,
            )
            .await?;
            Ok(count)
        };
        Ok(count_stream(run))
    }
}

/// Reads the target (every item of the regions the source names), decides the changes clause
/// by clause, and has the writer make them.
#[allow(clippy::too_many_arguments)]
async fn run_merge(
    resource: &'static Resource,
    writer: &dyn Writer,
    source: &RecordBatch,
    (region_col, id_col): (usize, usize),
    merge_schema: &SchemaRef,
    clauses: &[Clause],
    fetches: &BTreeSet<FetchOperation>,
    context: &ProviderContext,
) -> DfResult<u64> {
    let known = &schemas().provider.regions;
    let noun = resource.noun();
    let id = resource.doc.identifier.as_str();
    // An item's key: its region and its identifier in ECR's one spelling.
    let key = |region: &str, value: &str| {
        (
            region.to_string(),
            resource.canonical(id, value).to_string(),
        )
    };
    let regions = utf8(source.column(region_col))?;
    let ids = utf8(source.column(id_col))?;
    let mut scope = BTreeSet::new();
    let mut by_key: HashMap<(String, String), usize> = HashMap::new();
    for i in 0..source.num_rows() {
        if regions.is_null(i) || ids.is_null(i) {
            return Err(Error::Usage(format!(
                "source row {}: region and {id} must not be NULL",
                i + 1
            ))
            .into());
        }
        check_region(regions.value(i), known)
            .map_err(|e| Error::Usage(format!("source row {}: {e}", i + 1)))?;
        scope.insert(regions.value(i).to_string());
        if let Some(first) = by_key.insert(key(regions.value(i), ids.value(i)), i) {
            return Err(Error::Usage(format!(
                "source rows {} and {} both describe {noun} '{}' in {}",
                first + 1,
                i + 1,
                ids.value(i),
                regions.value(i)
            ))
            .into());
        }
    }
    // The target: every item of the regions the source names.
    let target_schema = resource.arrow_schema();
    let reader = reader_for(resource);
    let mut parts = Vec::new();
    for region in &scope {
        let request = ScanRequest::default();
        parts.push(
            read_region(
                reader.as_ref(),
                resource,
                &context.clients,
                region,
                &request,
                fetches,
            )
            .await?,
        );
    }
    let target =
        concat_batches(&target_schema, &parts).map_err(|e| Error::Runtime(e.to_string()))?;
    let column = |name: &str| target.column_by_name(name).map(utf8).transpose();
    let (Some(target_regions), Some(target_ids)) = (column(REGION_COLUMN)?, column(id)?) else {
        return Err(Error::Runtime(format!("{}: no region or {id} column", resource.path)).into());
    };
    let create_only = create_only_texts(resource, &target, source)?;
    let mut matched = (Vec::new(), Vec::new());
    let mut by_source = Vec::new();
    let mut seen_sources = vec![false; source.num_rows()];
    for t in 0..target.num_rows() {
        match by_key.get(&key(target_regions.value(t), target_ids.value(t))) {
            Some(&s) => {
                matched.0.push(t as u32);
                matched.1.push(s as u32);
                seen_sources[s] = true;
            }
            None => by_source.push(t as u32),
        }
    }
    let by_target: Vec<u32> = (0..source.num_rows() as u32)
        .filter(|&s| !seen_sources[s as usize])
        .collect();

    let sets = [
        (Category::Matched, Some(&matched.0), Some(&matched.1)),
        (Category::NotMatchedByTarget, None, Some(&by_target)),
        (Category::NotMatchedBySource, Some(&by_source), None),
    ];
    let mut changes = MergeChanges::default();
    for (category, t_idx, s_idx) in sets {
        let n = t_idx.or(s_idx).map_or(0, Vec::len);
        if n == 0 {
            continue;
        }
        let batch = combined(merge_schema, &target, source, t_idx, s_idx, n)?;
        let mut taken = vec![false; n];
        for clause in clauses.iter().filter(|c| c.category == category) {
            let applies: BooleanArray = match &clause.predicate {
                Some(p) => {
                    let v = p
                        .evaluate(&batch)
                        .and_then(|v| v.into_array(n))
                        .map_err(df)?;
                    v.as_any()
                        .downcast_ref::<BooleanArray>()
                        .cloned()
                        .ok_or_else(|| Error::Runtime("a MERGE condition is not boolean".into()))?
                }
                None => BooleanArray::from(vec![true; n]),
            };
            let rows: Vec<usize> = (0..n)
                .filter(|&i| !taken[i] && applies.is_valid(i) && applies.value(i))
                .collect();
            for &i in &rows {
                taken[i] = true;
            }
            if rows.is_empty() {
                continue;
            }
            let target_row = |i: usize| t_idx.map(|t| t[i] as usize);
            let source_row = |i: usize| s_idx.map_or(i, |s| s[i] as usize);
            match &clause.action {
                Action::Delete => changes
                    .deletes
                    .extend(rows.iter().filter_map(|&i| target_row(i))),
                Action::Update(assignments) => {
                    let values = evaluate(assignments, &batch)?;
                    for &i in &rows {
                        let t = target_row(i).expect("UPDATE applies to matched rows");
                        let s = source_row(i);
                        let named = (target_regions.value(t), target_ids.value(t));
                        check_no_replacement(resource, &create_only, named, t, s)?;
                        let set = assignments
                            .iter()
                            .map(|(c, _)| {
                                (c.clone(), values[i].get(c).cloned().unwrap_or_default())
                            })
                            .collect();
                        changes.updates.push(MergeUpdate {
                            target: t,
                            source_row: s + 1,
                            set,
                        });
                    }
                }
                Action::Insert(columns) => {
                    let values = evaluate(columns, &batch)?;
                    for &i in &rows {
                        changes.inserts.push((source_row(i) + 1, values[i].clone()));
                    }
                }
            }
        }
    }
    writer.run_merge(&target, changes, context).await
}

/// Target columns (taken at `t_idx`, else NULL) followed by source columns (at `s_idx`, else NULL).
fn combined(
    schema: &SchemaRef,
    target: &RecordBatch,
    source: &RecordBatch,
    t_idx: Option<&Vec<u32>>,
    s_idx: Option<&Vec<u32>>,
    n: usize,
) -> Result<RecordBatch> {
    let pick = |batch: &RecordBatch, idx: Option<&Vec<u32>>| -> Result<Vec<ArrayRef>> {
        batch
            .columns()
            .iter()
            .map(|a| match idx {
                Some(i) => take(a.as_ref(), &UInt32Array::from(i.clone()), None)
                    .map_err(|e| Error::Runtime(e.to_string())),
                None => Ok(new_null_array(a.data_type(), n)),
            })
            .collect()
    };
    let mut arrays = pick(target, t_idx)?;
    arrays.extend(pick(source, s_idx)?);
    RecordBatch::try_new(Arc::clone(schema), arrays).map_err(|e| Error::Runtime(e.to_string()))
}

fn evaluate(exprs: &[(String, Arc<dyn PhysicalExpr>)], batch: &RecordBatch) -> Result<Vec<Row>> {
    let columns = exprs
        .iter()
        .map(|(c, e)| {
            let v = e
                .evaluate(batch)
                .and_then(|v| v.into_array(batch.num_rows()))
                .map_err(df)?;
            Ok((c.clone(), v))
        })
        .collect::<Result<Vec<(String, ArrayRef)>>>()?;
    if columns.is_empty() {
        return Ok(vec![Row::new(); batch.num_rows()]);
    }
    let batch = RecordBatch::try_from_iter(columns).map_err(|e| Error::Runtime(e.to_string()))?;
    rows_of(&[batch])
}

/// The create-only columns the source gives, as text on both sides (target, source): cast once
/// per MERGE, not per matched row.
type CreateOnly = Vec<(String, StringArray, StringArray)>;

fn create_only_texts(
    resource: &Resource,
    target: &RecordBatch,
    source: &RecordBatch,
) -> Result<CreateOnly> {
    let mut out = Vec::new();
    for column in resource.create_only_columns().map(|c| c.name.as_str()) {
        if let (Some(t), Some(s)) = (target.column_by_name(column), source.column_by_name(column)) {
            out.push((column.to_string(), utf8(t)?, utf8(s)?));
        }
    }
    Ok(out)
}

/// A matched item (target row `t`, named `id` in `region`) whose create-only columns differ
/// from source row `s`'s needs replacing, which an update cannot do.
fn check_no_replacement(
    resource: &Resource,
    create_only: &CreateOnly,
    (region, id): (&str, &str),
    t: usize,
    s: usize,
) -> Result<()> {
    for (column, target, source) in create_only {
        if source.is_null(s) {
            continue;
        }
        let want = source.value(s);
        let have = if target.is_null(t) {
            "NULL"
        } else {
            target.value(t)
        };
        if want != have {
            return Err(Error::Usage(format!(
                "source row {}: {} '{id}' in {region} has {column} '{have}' but the source asks for '{want}': it needs \
                 replacing, which UPDATE cannot do; add WHEN MATCHED AND t.{column} <> s.{column} THEN DELETE \
                 (the next run creates it), or DELETE it first",
                s + 1,
                resource.noun(),
            )));
        }
    }
    Ok(())
}

impl MergeExec {
    /// What the MERGE touches, for the permissions it needs: one touch per verb its clauses
    /// use. A local source (VALUES, a file) is read before any call for its regions and the
    /// values it sets ([`Self::source_rows`]); from AWS, they are known only when run.
    pub fn touches(&self) -> Vec<Touch> {
        // Each verb with the columns its clauses set (values come from the source rows): a
        // permission tied to a column (iam:PassRole for custom_role_arn) only when it is set.
        // The read of the target also fills the target columns the clauses read (is_valid).
        let target_len = self.resource.columns.len();
        let read: Columns =
            target_columns_read(&self.merge_schema, &self.logical_clauses, target_len)
                .map(|i| (self.resource.columns[i].name.clone(), None))
                .collect();
        let mut verbs: Vec<(Verb, Columns)> = vec![(Verb::Select, read)];
        for clause in &self.logical_clauses {
            let (verb, columns): (Verb, Vec<String>) = match &clause.action {
                MergeIntoAction::Update(assignments) => (
                    Verb::Update,
                    assignments.iter().map(|(c, _)| c.clone()).collect(),
                ),
                MergeIntoAction::Insert { columns, .. } if columns.is_empty() => (
                    Verb::Insert,
                    self.resource
                        .columns
                        .iter()
                        .filter(|c| !c.read_only)
                        .map(|c| c.name.clone())
                        .collect(),
                ),
                MergeIntoAction::Insert { columns, .. } => (Verb::Insert, columns.clone()),
                MergeIntoAction::Delete => (Verb::Delete, Vec::new()),
            };
            let entry = match verbs.iter_mut().find(|(v, _)| *v == verb) {
                Some(entry) => entry,
                None => {
                    verbs.push((verb, Default::default()));
                    verbs.last_mut().expect("just pushed")
                }
            };
            entry.1.extend(columns.into_iter().map(|c| (c, None)));
        }
        verbs
            .into_iter()
            .map(|(verb, columns)| Touch {
                resource: self.resource,
                verb,
                regions: None,
                input: InputRows::Mapped(self.source_rows(verb, columns.clone())),
                columns,
                on_conflict: None,
            })
            .collect()
    }

    /// What a local source's rows give the touch of `verb` (its `columns` when the rows do
    /// not say more). Every verb acts in the regions the source names, except INSERT, whose
    /// rows go to the region they are given (or the session's), as the writer sends them. The
    /// values INSERT and UPDATE set are their expressions evaluated on the source rows with
    /// the target's side NULL: exactly INSERT's (its rows match no target row); an UPDATE
    /// value that reads the target is known only when run.
    fn source_rows(&self, verb: Verb, columns: Columns) -> Arc<MapRows> {
        let clauses = Arc::clone(&self.clauses);
        let region_column = self.key_columns.0;
        let schema = nullable(&self.merge_schema);
        let target = self.resource.arrow_schema();
        let target_len = self.resource.columns.len();
        Arc::new(move |source: &RecordBatch| {
            let n = source.num_rows();
            let all: Vec<u32> = (0..n as u32).collect();
            let empty = RecordBatch::new_empty(Arc::clone(&target));
            let batch = combined(&schema, &empty, source, None, Some(&all), n)?;
            let mut set: Vec<(String, ArrayRef)> = Vec::new();
            let mut unknown = Vec::new();
            for clause in clauses.iter() {
                let exprs = match (&clause.action, verb) {
                    (Action::Insert(e), Verb::Insert) | (Action::Update(e), Verb::Update) => e,
                    _ => continue,
                };
                for (column, expr) in exprs {
                    let reads_target = collect_columns(expr).iter().any(|c| c.index() < target_len);
                    if verb == Verb::Update && reads_target {
                        unknown.push(column.clone());
                        continue;
                    }
                    let value = expr.evaluate(&batch).and_then(|v| v.into_array(n));
                    set.push((column.clone(), value.map_err(df)?));
                }
            }
            let (mut values, regions, defaulted) = match verb {
                Verb::Insert | Verb::Update if !set.is_empty() => {
                    row_values(&[RecordBatch::try_from_iter(set)
                        .map_err(|e| Error::Runtime(e.to_string()))?])?
                }
                Verb::Insert | Verb::Update => Default::default(),
                _ => (columns.clone(), BTreeSet::new(), false),
            };
            values.extend(unknown.into_iter().map(|c| (c, None)));
            if verb == Verb::Insert {
                return Ok((values, regions, defaulted));
            }
            let keys = utf8(source.column(region_column))?;
            let named = keys.iter().flatten().map(str::to_string).collect();
            Ok((values, named, false))
        })
    }
}

/// The expressions of a clause: its condition and the values it sets.
fn clause_exprs(clause: &MergeIntoClause) -> Vec<&Expr> {
    let mut exprs: Vec<&Expr> = clause.predicate.iter().collect();
    match &clause.action {
        MergeIntoAction::Update(assignments) => exprs.extend(assignments.iter().map(|(_, e)| e)),
        MergeIntoAction::Insert { values, .. } => exprs.extend(values),
        MergeIntoAction::Delete => {}
    }
    exprs
}

/// The merge schema with every column nullable: unmatched rows have NULL on one side
/// (expressions were compiled by column index, which this keeps).
fn nullable(merge_schema: &DFSchemaRef) -> SchemaRef {
    let fields: Vec<Field> = (merge_schema.as_arrow().fields().iter())
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new(fields))
}

inventory::submit! {
    TouchingExec {
        touches: |node| node.downcast_ref::<MergeExec>().map(MergeExec::touches),
    }
}
