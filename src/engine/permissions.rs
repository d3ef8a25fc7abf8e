//! Walks a planned statement to what it will touch — resource, verb, regions, columns and their
//! literal values — without calling AWS: the scopes `EXPLAIN PERMISSIONS` and
//! `skyql permissions` turn into IAM permissions. Each engine exec that calls AWS registers
//! how to read its touches (`TouchingExec`), so this walk names no exec type.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::common::ScalarValue;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_plan::ExecutionPlan;

use super::dml::utf8;
use super::pushdown::REGION_COLUMN;
use crate::dml::OnConflict;
use crate::error::{Error, Result};
use crate::iam::permissions::{ANY_REGION, Scope};
use crate::schema::{Resource, Verb};

/// Columns a statement uses, with their literal values when known.
pub type Columns = BTreeMap<String, Option<BTreeSet<String>>>;

/// What one plan node will do to one resource.
#[derive(Debug, Clone)]
pub struct Touch {
    /// The resource.
    pub resource: &'static Resource,
    /// What is done.
    pub verb: Verb,
    /// The regions called; `None` when the rows decide (INSERT, MERGE).
    pub regions: Option<Vec<String>>,
    /// The columns used.
    pub columns: Columns,
    /// An INSERT's ON CONFLICT, which also reads (and with DO UPDATE updates) existing rows.
    pub on_conflict: Option<OnConflict>,
    /// What the node's input rows decide (a local input is run for them).
    pub input: InputRows,
}

/// What the rows of a node's input decide of its touch. An input that reads no AWS table
/// (VALUES, a local file) is run to learn them before any call; one that reads AWS leaves the
/// regions unknown ([`ANY_REGION`]) and its values too.
#[derive(Clone, Default)]
pub enum InputRows {
    /// Nothing: planning decided the regions (a scan's, an UPDATE's or DELETE's WHERE).
    #[default]
    Ignored,
    /// They are the rows written (an INSERT's): their regions and column values.
    Written,
    /// They are a source the statement maps (a MERGE's): the function reads what its rows
    /// give this touch.
    Mapped(Arc<MapRows>),
}

/// What a source's rows give a touch: the columns with their values, the regions they name,
/// and whether some row names none (it then goes to the session's region).
pub type MapRows = dyn Fn(&RecordBatch) -> Result<(Columns, BTreeSet<String>, bool)> + Send + Sync;

impl std::fmt::Debug for InputRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ignored => "Ignored",
            Self::Written => "Written",
            Self::Mapped(_) => "Mapped",
        })
    }
}

/// An exec that calls AWS, as the permissions walk sees it: registered beside the exec with
/// `inventory::submit!`.
pub struct TouchingExec {
    /// The touches of `node` when it is of this exec type, else `None`.
    pub touches: fn(&dyn std::any::Any) -> Option<Vec<Touch>>,
}

inventory::collect!(TouchingExec);

/// The text values of a literal expression (`None` when it is not a literal).
pub fn literal_values(expr: &Arc<dyn PhysicalExpr>) -> Option<BTreeSet<String>> {
    let lit = (expr.as_ref() as &dyn std::any::Any).downcast_ref::<Literal>()?;
    match lit.value() {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(BTreeSet::from([s.clone()])),
        _ => None,
    }
}

/// Every scope of a physical plan. INSERT inputs that read no AWS table are run (they are local
/// values) to learn the rows' regions and values; others are taken as unknown.
pub async fn scopes(
    plan: &Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    default_regions: &Result<Vec<String>, String>,
) -> Result<Vec<Scope>> {
    let defaults: BTreeSet<String> = default_regions
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    let mut pending = vec![Arc::clone(plan)];
    while let Some(node) = pending.pop() {
        let touches = touches(&node);
        // A local input is run once, for every touch its rows decide.
        let input = node.children().first().map(|i| Arc::clone(i));
        let local = match &input {
            Some(input)
                if touches
                    .iter()
                    .any(|t| !matches!(t.input, InputRows::Ignored))
                    && !reads_aws(input) =>
            {
                let batches =
                    datafusion::physical_plan::collect(Arc::clone(input), Arc::clone(&task))
                        .await
                        .map_err(|e| Error::from_datafusion(e, false))?;
                Some(
                    concat_batches(&input.schema(), &batches)
                        .map_err(|e| Error::Runtime(e.to_string()))?,
                )
            }
            _ => None,
        };
        for touch in touches {
            let mut scope = Scope {
                resource: touch.resource,
                verb: touch.verb,
                // Rows decide the regions (INSERT, MERGE): unknown unless read below.
                regions: touch
                    .regions
                    .map(|r| r.into_iter().collect())
                    .unwrap_or_else(|| BTreeSet::from([ANY_REGION.to_string()])),
                columns: touch.columns,
            };
            let read = match (&touch.input, &local) {
                (InputRows::Ignored, _) => None,
                (InputRows::Written, Some(rows)) => Some(row_values(std::slice::from_ref(rows))?),
                (InputRows::Mapped(map), Some(rows)) => Some(map(rows)?),
                (InputRows::Written, None) => {
                    // Read from AWS: the regions stay unknown, and it sets every input column.
                    for field in input.iter().flat_map(|i| i.schema().fields().to_vec()) {
                        scope.columns.insert(field.name().clone(), None);
                    }
                    None
                }
                (InputRows::Mapped(_), None) => None,
            };
            if let Some((columns, mut regions, defaulted)) = read {
                // A row without a region goes to the session's region.
                if defaulted {
                    regions.extend(defaults.iter().cloned());
                }
                if regions.is_empty() {
                    // No row, no call: no permission (no region would read as every region).
                    continue;
                }
                scope.columns = columns;
                scope.regions = regions;
            }
            // ON CONFLICT reads the existing rows, and DO UPDATE updates them where they differ:
            // the calls its dry run shows. Where INSERT's own call also replaces (a registry
            // policy's PutRegistryPolicy), its permissions already cover both.
            let own_call = |verb| scope.resource.method(verb).map(|m| &m.operation);
            let on_conflict = touch
                .on_conflict
                .filter(|_| own_call(Verb::Insert) != own_call(Verb::Update));
            if let Some(conflict) = on_conflict {
                out.push(Scope {
                    verb: Verb::Select,
                    columns: Columns::new(),
                    ..scope.clone()
                });
                if let OnConflict::DoUpdate(updated) = conflict {
                    out.push(Scope {
                        verb: Verb::Update,
                        columns: scope
                            .columns
                            .iter()
                            .filter(|(c, _)| updated.contains(c))
                            .map(|(c, v)| (c.clone(), v.clone()))
                            .collect(),
                        ..scope.clone()
                    });
                }
            }
            out.push(scope);
        }
        pending.extend(node.children().into_iter().cloned());
    }
    Ok(out)
}

/// What `node` touches: nothing unless it is an exec registered as calling AWS.
fn touches(node: &Arc<dyn ExecutionPlan>) -> Vec<Touch> {
    let any: &dyn std::any::Any = node.as_ref();
    inventory::iter::<TouchingExec>
        .into_iter()
        .find_map(|exec| (exec.touches)(any))
        .unwrap_or_default()
}

/// Whether running `plan` would call AWS.
fn reads_aws(plan: &Arc<dyn ExecutionPlan>) -> bool {
    !touches(plan).is_empty() || plan.children().into_iter().any(reads_aws)
}

/// The non-null values of every column of `batches`, the regions the rows name, and whether
/// some row names none.
pub(super) fn row_values(batches: &[RecordBatch]) -> Result<(Columns, BTreeSet<String>, bool)> {
    let mut columns = Columns::new();
    let mut defaulted = false;
    for batch in batches {
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            if field.name() == REGION_COLUMN {
                defaulted |= array.null_count() > 0;
            }
            if array.null_count() == array.len() {
                continue;
            }
            let entry = columns
                .entry(field.name().clone())
                .or_insert_with(|| Some(BTreeSet::new()));
            match (entry, utf8(array)) {
                (Some(values), Ok(strings)) => {
                    values.extend(strings.iter().flatten().map(str::to_string))
                }
                // Lists and other values that are not text: used, values not needed.
                (entry, _) => *entry = None,
            }
        }
        defaulted |= batch.column_by_name(REGION_COLUMN).is_none() && batch.num_rows() > 0;
    }
    let regions = columns
        .get(REGION_COLUMN)
        .cloned()
        .flatten()
        .unwrap_or_default();
    Ok((columns, regions, defaulted))
}
