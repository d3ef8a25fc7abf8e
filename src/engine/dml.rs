//! DML execution: INSERT, UPDATE and DELETE as one ExecutionPlan each. Planning makes no call;
//! when run, it reads what it needs, validates everything, plans the exact mutating calls (pure,
//! in `dml::call_plan`), then makes them one by one — or, with `--dry-run`, only reports them.

use super::exec_basics::exec_basics;
use super::lazy;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::compute::{cast, concat_batches, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::DFSchema;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use json_patch::Patch;

use super::applied::Rerun;
use super::context::ProviderContext;
use super::pushdown::{REGION_COLUMN, check_comparison_types, narrow_regions, plan_request};
use super::read_back::ItemReadBack;
use super::reader::reader_for;
use super::scan_filter::all_true;
use super::writer::{Insert, Update, Writer};
use crate::aws::mutate::Sender;
use crate::dml::call_plan::CallPlan;
use crate::dml::{Directive, DmlWhere, OnConflict};
use crate::engine::request::ScanRequest;
use crate::error::{Error, Result};
use crate::schema::{FetchOperation, Resource, schemas};

/// Which rows an UPDATE or DELETE acts on: the API request, the regions, and every WHERE
/// filter compiled against the table (re-checked on the rows read, since not all are pushed).
#[derive(Clone)]
pub struct MatchRequest {
    request: ScanRequest,
    regions: Vec<String>,
    filters: Vec<MatchFilter>,
    schema: DFSchema,
    bulk: bool,
    /// The WHERE is always false: nothing matches and no region is read.
    never: bool,
    /// The extra calls per row that the statement's expressions need (none unless they read
    /// a `fetched_by` column, such as `WHERE is_valid = false`).
    fetches: BTreeSet<FetchOperation>,
}

impl MatchRequest {
    /// The same request, also filling the lazy `columns` of the rows read.
    pub(crate) fn fetching<'a>(
        &self,
        resource: &Resource,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut read = self.clone();
        read.fetches.extend(resource.fetches_for(columns));
        read
    }
}

/// A WHERE filter, and whether it reads a column that costs an extra call per row.
#[derive(Clone)]
struct MatchFilter {
    expr: Arc<dyn PhysicalExpr>,
    fetched: bool,
}

impl MatchRequest {
    /// Compiles an expression over the table's columns.
    pub fn physical(&self, state: &dyn Session, expr: Expr) -> DfResult<Arc<dyn PhysicalExpr>> {
        state.create_physical_expr(expr, &self.schema)
    }

    /// The regions read.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The WHERE filters, compiled.
    pub fn filter_exprs(&self) -> impl Iterator<Item = &Arc<dyn PhysicalExpr>> {
        self.filters.iter().map(|f| &f.expr)
    }

    /// The table's schema the expressions are compiled against.
    pub fn schema(&self) -> &DFSchema {
        &self.schema
    }

    /// Says on stderr why nothing matched when the WHERE is always false.
    pub fn note_never(&self, context: &ProviderContext, verb: &str) {
        if self.never {
            context.note(format!(
                "{verb} matches no row: its WHERE is always false, so no region was read"
            ));
        }
    }

    /// Whether the identifier is not pinned (so the matches are listed on stderr).
    pub fn is_bulk(&self) -> bool {
        self.bulk
    }

    /// Notes the columns `exprs` read (UPDATE's SET values), so the rows read fill them.
    pub fn reads(&mut self, resource: &Resource, exprs: &[&Expr]) {
        for expr in exprs {
            self.fetches.extend(fetches_of(resource, expr));
        }
    }
}

/// The statement's own WHERE, which the session read from its plan before DataFusion's
/// optimizer could drop parts of it (see `dml_where`).
pub fn statement_where(directive: &mut Directive, verb: &str) -> DfResult<DmlWhere> {
    directive.where_clause.take().ok_or_else(|| {
        Error::Runtime(format!(
            "{verb} was planned without its WHERE being read from the statement; nothing was sent"
        ))
        .into()
    })
}

/// The extra calls needed to fill the columns `expr` reads.
pub(crate) fn fetches_of(resource: &Resource, expr: &Expr) -> BTreeSet<FetchOperation> {
    resource.fetches_for(expr.column_refs().into_iter().map(|c| c.name.as_str()))
}

/// Plans which rows an UPDATE or DELETE touches; refuses an unpinned (bulk) statement
/// without `--allow-bulk` (a dry run may still show what it would match).
///
/// The rows are chosen by the statement's own WHERE (`clause`), never by the filters DataFusion
/// hands the hook: those lose a WHERE the optimizer proved false. A WHERE that is always false
/// matches nothing and reads no region.
pub fn dml_request(
    resource: &'static Resource,
    state: &dyn Session,
    clause: &DmlWhere,
    context: &ProviderContext,
    verb: &str,
) -> DfResult<MatchRequest> {
    let known = &schemas().provider.regions;
    let filters = &clause.filters;
    for f in filters {
        check_comparison_types(resource, f)?;
    }
    let mut request = plan_request(resource, filters, None, known)?;
    // Only `=`/`IN` pin: a policy chosen by `region LIKE '%'` is still a bulk statement.
    let regions_pinned = request.regions.is_some();
    narrow_regions(resource, &mut request, filters, &context.region_scope);
    // Contradictory pins (`region = 'a' AND region = 'b'`, the same for the identifier) leave
    // nothing to read.
    let empty = |pinned: &Option<BTreeSet<String>>| pinned.as_ref().is_some_and(BTreeSet::is_empty);
    let never = clause.never || empty(&request.regions) || empty(&request.identifiers);
    if never {
        request.regions = Some(BTreeSet::new());
    }
    // A policy is identified by its region; rules and statements by their identifier column.
    let id = &resource.doc.identifier;
    let bulk = !never
        && if id == REGION_COLUMN {
            !regions_pinned
        } else {
            request.identifiers.is_none()
        };
    if bulk && !context.allow_bulk() && !context.explaining() {
        let (scope, pin) = match resource.aliases().next() {
            // The rule tables: stackql's data__Identifier stands for the identifier.
            Some((alias, target)) => (
                if !clause.present {
                    "has no WHERE".to_string()
                } else {
                    "does not pin identifiers".to_string()
                },
                format!("WHERE {alias} = '…' (or {target} IN (…))"),
            ),
            None => (
                format!("does not pin {id}"),
                format!("WHERE {id} = '…' (or {id} IN (…))"),
            ),
        };
        return Err(Error::BulkRefused(format!(
            "{verb} {scope}, so it would act on every row of {} it matches: pin them with {pin}, \
             or pass --allow-bulk to act on exactly the rows it matches (review them first with \
             --dry-run --allow-bulk); nothing was sent",
            resource.qualified_name("aws")
        ))
        .into());
    }
    let regions: Vec<String> = match &request.regions {
        Some(pinned) => pinned.iter().cloned().collect(),
        None => context.default_regions.clone().map_err(Error::Usage)?,
    };
    let schema = DFSchema::try_from(resource.arrow_schema().as_ref().clone())?;
    let mut fetches = BTreeSet::new();
    let filters = filters
        .iter()
        .map(|f| {
            let needed = fetches_of(resource, f);
            let fetched = !needed.is_empty();
            fetches.extend(needed);
            Ok(MatchFilter {
                expr: state.create_physical_expr(f.clone(), &schema)?,
                fetched,
            })
        })
        .collect::<DfResult<Vec<_>>>()?;
    Ok(MatchRequest {
        request,
        regions,
        filters,
        schema,
        bulk,
        never,
        fetches,
    })
}

enum Kind {
    Insert {
        input: Arc<dyn ExecutionPlan>,
        on_conflict: Option<OnConflict>,
    },
    Update {
        matches: Arc<MatchRequest>,
        assignments: Vec<(String, Arc<dyn PhysicalExpr>)>,
        patch: Option<Patch>,
    },
    Delete {
        matches: Arc<MatchRequest>,
    },
}

/// One DML statement on one resource; answers a single `count` row.
pub struct DmlExec {
    resource: &'static Resource,
    writer: Arc<dyn Writer>,
    kind: Arc<Kind>,
    context: Arc<ProviderContext>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for DmlExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DmlExec({})", self.verb())
    }
}

/// The schema of every DML result: the rows changed.
pub fn count_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]))
}

/// The plan properties of every DML plan: one partition, one `count` row at the end.
pub(crate) fn count_properties() -> Arc<PlanProperties> {
    Arc::new(PlanProperties::new(
        EquivalenceProperties::new(count_schema()),
        Partitioning::UnknownPartitioning(1),
        EmissionType::Final,
        Boundedness::Bounded,
    ))
}

/// Any array as strings (values are compared and sent as text).
pub(crate) fn utf8(array: &ArrayRef) -> Result<StringArray> {
    let text = cast(array, &DataType::Utf8).map_err(|e| Error::Runtime(e.to_string()))?;
    Ok(text
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::new_null(array.len())))
}

impl DmlExec {
    fn new(
        resource: &'static Resource,
        writer: Arc<dyn Writer>,
        kind: Kind,
        context: Arc<ProviderContext>,
    ) -> Self {
        Self {
            resource,
            writer,
            kind: Arc::new(kind),
            context,
            properties: count_properties(),
        }
    }

    /// INSERT of the rows `input` produces.
    pub fn insert(
        resource: &'static Resource,
        writer: Arc<dyn Writer>,
        input: Arc<dyn ExecutionPlan>,
        on_conflict: Option<OnConflict>,
        context: Arc<ProviderContext>,
    ) -> Self {
        Self::new(
            resource,
            writer,
            Kind::Insert { input, on_conflict },
            context,
        )
    }

    /// UPDATE of the matched rows.
    pub fn update(
        resource: &'static Resource,
        writer: Arc<dyn Writer>,
        matches: MatchRequest,
        assignments: Vec<(String, Arc<dyn PhysicalExpr>)>,
        patch: Option<Patch>,
        context: Arc<ProviderContext>,
    ) -> Self {
        Self::new(
            resource,
            writer,
            Kind::Update {
                matches: Arc::new(matches),
                assignments,
                patch,
            },
            context,
        )
    }

    /// DELETE of the matched rows.
    pub fn delete(
        resource: &'static Resource,
        writer: Arc<dyn Writer>,
        matches: MatchRequest,
        context: Arc<ProviderContext>,
    ) -> Self {
        Self::new(
            resource,
            writer,
            Kind::Delete {
                matches: Arc::new(matches),
            },
            context,
        )
    }

    /// INSERT's `ON CONFLICT`, if any.
    pub fn on_conflict(&self) -> Option<&OnConflict> {
        match &*self.kind {
            Kind::Insert { on_conflict, .. } => on_conflict.as_ref(),
            _ => None,
        }
    }

    fn verb(&self) -> &'static str {
        match *self.kind {
            Kind::Insert { .. } => "INSERT",
            Kind::Update { .. } => "UPDATE",
            Kind::Delete { .. } => "DELETE",
        }
    }
}

impl DisplayAs for DmlExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DmlExec: {} aws.{}.{}",
            self.verb(),
            self.resource.doc.service,
            self.resource.name()
        )?;
        match &*self.kind {
            Kind::Insert { on_conflict, .. } => match on_conflict {
                Some(OnConflict::DoNothing) => write!(f, ", on_conflict=do_nothing"),
                Some(OnConflict::DoUpdate(cols)) => {
                    write!(f, ", on_conflict=do_update[{}]", cols.join(", "))
                }
                None => Ok(()),
            },
            Kind::Update { matches, .. } | Kind::Delete { matches } => {
                write!(f, ", regions=[{}]", matches.regions.join(", "))?;
                if let Some(ids) = &matches.request.identifiers {
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    write!(f, ", {}=[{}]", self.resource.doc.identifier, ids.join(", "))?;
                }
                if matches.bulk {
                    write!(f, ", bulk")?;
                }
                write!(f, "{}", lazy::explain(&matches.fetches))?;
                Ok(())
            }
        }
    }
}

impl ExecutionPlan for DmlExec {
    exec_basics!("DmlExec");

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        match &*self.kind {
            Kind::Insert { input, .. } => vec![input],
            _ => vec![],
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match (&*self.kind, children.into_iter().next()) {
            (Kind::Insert { on_conflict, .. }, Some(input)) => Ok(Arc::new(Self::insert(
                self.resource,
                Arc::clone(&self.writer),
                input,
                on_conflict.clone(),
                Arc::clone(&self.context),
            ))),
            _ => Ok(self),
        }
    }

    fn execute(
        &self,
        _partition: usize,
        task: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let (writer, kind, context) = (
            Arc::clone(&self.writer),
            Arc::clone(&self.kind),
            Arc::clone(&self.context),
        );
        let run = async move {
            let validate_only = context.validate_only.load(Ordering::SeqCst);
            match &*kind {
                Kind::Insert { input, on_conflict } => {
                    let batches =
                        datafusion::physical_plan::collect(Arc::clone(input), task).await?;
                    let insert = Insert {
                        batches: &batches,
                        on_conflict: on_conflict.as_ref(),
                        validate_only,
                    };
                    writer.run_insert(insert, &context).await
                }
                Kind::Update {
                    matches,
                    assignments,
                    ..
                } if validate_only => {
                    writer.check_constants(matches, assignments)?;
                    Ok(0)
                }
                // DELETE checked everything that needs no read while planning.
                _ if validate_only => Ok(0),
                Kind::Update {
                    matches,
                    assignments,
                    patch,
                } => {
                    let update = Update {
                        read: matches,
                        assignments,
                        patch: patch.as_ref(),
                    };
                    writer.run_update(update, &context).await
                }
                Kind::Delete { matches } => writer.run_delete(matches, &context).await,
            }
        };
        Ok(count_stream(run))
    }
}

/// The values of the assignments that read no column (constants), evaluated once on a row of
/// NULLs: what a script's check can validate before any statement runs.
pub(crate) fn constant_assignments<'a>(
    schema: &DFSchema,
    assignments: &'a [(String, Arc<dyn PhysicalExpr>)],
) -> Result<Vec<(&'a str, ArrayRef)>> {
    // One row of NULLs: every field nullable (a MERGE's schema may declare some not).
    let fields: Vec<Field> = (schema.as_arrow().fields().iter())
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let nulls = schema
        .fields()
        .iter()
        .map(|f| datafusion::arrow::array::new_null_array(f.data_type(), 1))
        .collect();
    let row = RecordBatch::try_new(schema, nulls).map_err(|e| Error::Runtime(e.to_string()))?;
    assignments
        .iter()
        .filter(|(_, e)| !reads_columns(e))
        .map(|(c, e)| {
            let value = e.evaluate(&row).and_then(|v| v.into_array(1)).map_err(df)?;
            Ok((c.as_str(), value))
        })
        .collect()
}

/// Whether an expression reads a column (its value then depends on the row).
fn reads_columns(expr: &Arc<dyn PhysicalExpr>) -> bool {
    let any: &dyn std::any::Any = expr.as_ref();
    any.is::<datafusion::physical_expr::expressions::Column>()
        || expr.children().into_iter().any(reads_columns)
}

/// The one-row `count` stream of a DML plan; `run` makes the calls when the plan executes.
pub(crate) fn count_stream(
    run: impl Future<Output = DfResult<u64>> + Send + 'static,
) -> SendableRecordBatchStream {
    let batch = async move {
        let count: ArrayRef = Arc::new(UInt64Array::from(vec![run.await?]));
        RecordBatch::try_new(count_schema(), vec![count]).map_err(DataFusionError::from)
    };
    Box::pin(RecordBatchStreamAdapter::new(
        count_schema(),
        futures::stream::once(batch),
    ))
}

/// The values the SET pairs give each row of `found`, by column.
pub(crate) fn set_values<'a>(
    assignments: &'a [(String, Arc<dyn PhysicalExpr>)],
    found: &RecordBatch,
) -> Result<Vec<(&'a str, ArrayRef)>> {
    assignments
        .iter()
        .map(|(name, expr)| {
            let values = expr
                .evaluate(found)
                .and_then(|v| v.into_array(found.num_rows()));
            Ok((name.as_str(), values.map_err(df)?))
        })
        .collect()
}

/// Reads the rows a statement matches: the pushed request per region, then every filter.
/// When a filter or SET value reads a column that costs a call per rule, the filters that do
/// not read one run first, so only the rows they keep are fetched for.
pub(crate) async fn read_matches(
    resource: &'static Resource,
    matches: &MatchRequest,
    context: &ProviderContext,
    verb: &str,
) -> Result<RecordBatch> {
    let schema = resource.arrow_schema();
    let reader = reader_for(resource);
    matches.note_never(context, verb);
    let (late, early): (Vec<&MatchFilter>, Vec<&MatchFilter>) =
        matches.filters.iter().partition(|f| f.fetched);
    let keep = |batch: RecordBatch, filters: &[&MatchFilter]| -> Result<RecordBatch> {
        let held = all_true(filters.iter().map(|f| &f.expr), &batch)?;
        filter_record_batch(&batch, &held).map_err(|e| Error::Runtime(e.to_string()))
    };
    let mut batches = Vec::new();
    for region in &matches.regions {
        let listed = reader
            .list(&context.clients, region, &matches.request)
            .await?;
        let kept = keep(listed, &early)?;
        if matches.fetches.is_empty() {
            batches.push(kept);
            continue;
        }
        let (clients, fetches) = (&context.clients, &matches.fetches);
        let filled = super::lazy::fill(resource, clients, region, kept, fetches).await?;
        batches.push(keep(filled, &late)?);
    }
    let found = concat_batches(&schema, &batches).map_err(|e| Error::Runtime(e.to_string()))?;
    let bulk = matches.bulk.then_some("pinned identifiers");
    note_matches(
        context,
        verb,
        bulk,
        &format!("{}(s)", resource.noun()),
        || {
            let text = |name: &str| found.column_by_name(name).map(utf8).transpose();
            // An image is named within its repository (`repo@digest`); a registry is its
            // region alone.
            let parent = resource.listing().and_then(|l| l.parent.as_ref());
            let identifier = resource.doc.identifier.as_str();
            let (regions, ids) = (text(REGION_COLUMN)?, text(identifier)?);
            let parents = parent.map(|p| text(&p.column)).transpose()?.flatten();
            let value = |a: &Option<StringArray>, i| a.as_ref().map(|a| a.value(i).to_string());
            Ok((0..found.num_rows())
                .map(|i| {
                    let region = value(&regions, i).unwrap_or_default();
                    let id = value(&ids, i).unwrap_or_default();
                    match value(&parents, i) {
                        _ if identifier == REGION_COLUMN => region,
                        Some(parent) => format!("{region} {parent}@{id}"),
                        None => format!("{region} {id}"),
                    }
                })
                .collect())
        },
    )?;
    Ok(found)
}

/// Lists for review what a bulk statement (its WHERE `without` a pin), or any dry run, matched:
/// "DELETE without pinned identifiers matches 2 rule(s): us-east-1 quay, eu-west-1 k8s".
pub(crate) fn note_matches(
    context: &ProviderContext,
    verb: &str,
    without: Option<&str>,
    what: &str,
    listed: impl FnOnce() -> Result<Vec<String>>,
) -> Result<()> {
    if without.is_none() && !context.dry_run() {
        return Ok(());
    }
    let listed = listed()?;
    let without = without.map(|w| format!("without {w} ")).unwrap_or_default();
    let (n, list) = (listed.len(), listed.join(", "));
    context.note(format!("{verb} {without}matches {n} {what}: {list}"));
    Ok(())
}

/// Makes the planned calls in order (or, in a dry run, only reports them); a failed call is
/// reported with every call that succeeded before it.
pub(crate) async fn execute_plan(
    resource: &'static Resource,
    verb: &str,
    plan: CallPlan,
    sender: &dyn Sender,
    context: &ProviderContext,
) -> Result<u64> {
    let table = resource.qualified_name("aws");
    refuse_partial_input(verb, &table, context)?;
    if context.dry_run() {
        context.note(format!(
            "dry run: {verb} on {table} would make {} call(s) ({}); nothing was changed",
            plan.calls.len(),
            plan.intent()
        ));
        for call in &plan.calls {
            context.note(format!("  {call}"));
        }
        return Ok(plan.count());
    }
    let rerun = match plan.plain_insert {
        true => Rerun::FailsOnCreated {
            table: table.clone(),
            noun: resource.noun().to_string(),
        },
        false => Rerun::Converges,
    };
    let mut done: Vec<String> = Vec::new();
    for call in &plan.calls {
        context.applied.start(call.to_string(), rerun.clone());
        let outcome = context
            .clients
            .apply(resource, sender, &ItemReadBack(resource), call)
            .await;
        if let Some(how) = outcome.as_ref().ok().and_then(|a| a.note()) {
            context.note(format!("{call}: {how}"));
        }
        if let Err(e) = outcome {
            context.applied.failed();
            // Nothing was sent (no credentials) and nothing was changed: the error as it is.
            if e.exit_code() == 2 && done.is_empty() {
                return Err(e);
            }
            let row = call.row.map(|r| format!("row {r}: ")).unwrap_or_default();
            let before = if done.is_empty() {
                "no call had succeeded before it".to_string()
            } else {
                format!(
                    "{} call(s) had succeeded before it:\n    {}",
                    done.len(),
                    done.join("\n    ")
                )
            };
            let hint = match &e {
                Error::Api { code, .. } => resource.doc.error_hints.get(code),
                _ => None,
            };
            let hint = hint
                .map(|h| format!("\n  hint: {}", call.fill(h)))
                .unwrap_or_default();
            return Err(Error::Runtime(format!(
                "{verb} on {table} stopped at {row}{call}\n  {e}{hint}\n  {before}"
            )));
        }
        context.applied.succeeded();
        done.push(call.to_string());
    }
    context.note(format!("{verb} on {table}: {}", plan.summary()));
    Ok(plan.count())
}

/// Refuses to change anything when a region read by the statement (its source query, or its
/// own read) failed: rows of that region are missing from what the plan was decided on, and a
/// MERGE would delete items only because their region could not be read.
fn refuse_partial_input(verb: &str, table: &str, context: &ProviderContext) -> Result<()> {
    let failed = context.failures.current();
    if failed.is_empty() || context.allow_partial {
        return Ok(());
    }
    let regions: BTreeSet<&str> = failed.iter().map(|f| f.region.as_str()).collect();
    let lines: Vec<String> = failed.iter().map(ToString::to_string).collect();
    Err(Error::Runtime(format!(
        "{verb} on {table} made no change: its input is incomplete because {} region(s) could \
         not be read ({}):\n  {}\n  Retry once the region(s) answer, or pass --allow-partial to \
         apply what was decided from the regions that were read",
        regions.len(),
        regions.into_iter().collect::<Vec<_>>().join(", "),
        lines.join("\n  ")
    )))
}

/// Whether an assigned value is NULL (DataFusion may wrap the literal in a cast or an alias).
pub(crate) fn is_null_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(v, _) => v.is_null(),
        Expr::Cast(c) => is_null_literal(&c.expr),
        Expr::TryCast(c) => is_null_literal(&c.expr),
        Expr::Alias(a) => is_null_literal(&a.expr),
        _ => false,
    }
}

pub(crate) fn df(e: DataFusionError) -> Error {
    Error::from_datafusion(e, false)
}

impl DmlExec {
    /// What the statement touches, for the permissions it needs. INSERT's regions and values
    /// come from its input rows, which the caller reads.
    pub fn touch(&self) -> super::permissions::Touch {
        use super::permissions::{Touch, literal_values};
        use crate::schema::Verb;
        let (verb, regions, columns) = match &*self.kind {
            Kind::Insert { .. } => (Verb::Insert, None, Default::default()),
            Kind::Update {
                matches,
                assignments,
                patch,
            } => {
                let mut columns: super::permissions::Columns = assignments
                    .iter()
                    .map(|(c, e)| (c.clone(), literal_values(e)))
                    .collect();
                if patch.is_some() {
                    // A JSON Patch may set any updatable column, with values known only when run.
                    for c in self.resource.columns.iter().filter(|c| c.updatable) {
                        columns.insert(c.name.clone(), None);
                    }
                }
                (Verb::Update, Some(matches.regions.clone()), columns)
            }
            Kind::Delete { matches } => (
                Verb::Delete,
                Some(matches.regions.clone()),
                Default::default(),
            ),
        };
        Touch {
            resource: self.resource,
            verb,
            regions,
            columns,
            on_conflict: self.on_conflict().cloned(),
            input: match verb {
                Verb::Insert => super::permissions::InputRows::Written,
                _ => Default::default(),
            },
        }
    }
}

inventory::submit! {
    super::permissions::TouchingExec {
        touches: |node| node.downcast_ref::<DmlExec>().map(|dml| vec![dml.touch()]),
    }
}
