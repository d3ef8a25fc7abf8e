//! Writing the registry policy tables: every write is a read-modify-write of one policy per
//! region. Each row is checked before any call, the current policies are read, the
//! PutRegistryPolicy / DeleteRegistryPolicy calls are planned (pure, in `dml::policy`) and
//! made (or, with `--dry-run`, reported). No MERGE.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::PhysicalExpr;
use json_patch::Patch;

use super::context::ProviderContext;
use super::dml::{
    MatchRequest, constant_assignments, execute_plan, is_null_literal, note_matches, set_values,
};
use super::policy_rows::{PolicyView, policy_rows, statement_of_row};
use super::pushdown::REGION_COLUMN;
use super::records::{Row, rows_of};
use super::scan_filter::all_true;
use super::writer::{Assignments, MergeChanges, Writer, merge_refused};
use crate::aws::policy::PolicyCalls;
use crate::dml::OnConflict;
use crate::dml::policy::{
    NewPolicy, NewStatement, Policies, plan_policy_delete, plan_policy_put, plan_statement_delete,
    plan_statement_insert, plan_statement_update,
};
use crate::dml::problems::{region_or_default, report_problems};
use crate::error::{Error, Result};
use crate::iam::policy::{
    StatementRow, check_document, check_row, check_size, empty_document, statement_of,
    with_statements,
};
use crate::schema::check_region;
use crate::schema::{Resource, schemas};
use serde_json::{Value, json};

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
        // What INSERT requires, UPDATE cannot take away.
        if self.resource.required_on_insert(column) && is_null_literal(value) {
            let why = match self.view {
                PolicyView::Document => "DELETE FROM aws.ecr.registry_policy removes a policy",
                PolicyView::Statements => "a statement needs principals, actions and resources",
            };
            return Err(Error::Usage(format!("{column} cannot be NULL: {why}")).into());
        }
        Ok(())
    }

    fn check_constants(&self, read: &MatchRequest, assignments: &Assignments) -> DfResult<()> {
        // The values that do not depend on the current policy (constants), checked as a
        // script's check does before its first statement runs; the others once read.
        let (resource, view, matches) = (self.resource, self.view, read);
        let constants = constant_assignments(matches.schema(), assignments)?;
        let Some(set) = values_set(&constants, 1)?
            .pop()
            .filter(|_| !constants.is_empty())
        else {
            return Ok(());
        };
        // A statement that is valid but for the constants set.
        let valid = json!({"sid": "Checked", "principals": ["*"], "actions": ["ecr:*"], "resources": ["*"]});
        let statement = with_set(
            valid.as_object().cloned().unwrap_or_default(),
            assignments,
            &set,
        );
        let statement = statement_of_row(resource, &statement)?;
        let mut problems = Vec::new();
        for region in matches.regions() {
            match view {
                PolicyView::Document => {
                    let Some(text) = set.get("policy_text").and_then(Value::as_str) else {
                        continue;
                    };
                    problems.extend(
                        check_document(text, region)
                            .into_iter()
                            .map(|p| format!("{region}: policy_text: {p}")),
                    );
                }
                PolicyView::Statements => problems.extend(
                    check_row(&statement, region)
                        .into_iter()
                        .map(|p| format!("{region}: {p}")),
                ),
            }
        }
        problems.dedup();
        Ok(report_problems(&problems)?)
    }

    async fn run_insert(
        &self,
        batches: &[RecordBatch],
        on_conflict: Option<&OnConflict>,
        validate_only: bool,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        // Every row checked before any read, then the current policies read.
        let (resource, view) = (self.resource, self.view);
        let rows = InputRows::check(view, resource, batches, context)?;
        if validate_only {
            return Ok(0);
        }
        let current = read_registry_policies(resource, &rows.regions(), context).await?;
        let current = current
            .into_iter()
            .map(|(r, p)| (r, p.map(|p| p.policy_text)))
            .collect();
        let plan = match rows {
            InputRows::Statements(rows) => plan_statement_insert(&rows, &current, on_conflict)?,
            InputRows::Policies(rows) => plan_policy_put(&rows, &current, true, on_conflict)?,
        };
        Ok(execute_plan(resource, "INSERT", plan, &PolicyCalls, context).await?)
    }

    async fn run_update(
        &self,
        read: &MatchRequest,
        assignments: &Assignments,
        _patch: Option<&Patch>,
        context: &ProviderContext,
    ) -> DfResult<u64> {
        let (resource, view, matches) = (self.resource, self.view, read);
        let read = read_matches(resource, view, matches, context, "UPDATE").await?;
        let current = rows_of(std::slice::from_ref(&read.rows))?;
        let new_rows = values_set(&set_values(assignments, &read.rows)?, current.len())?;
        let mut problems = Vec::new();
        let mut policies = Vec::new();
        let mut changes: BTreeMap<String, Vec<(usize, StatementRow)>> = BTreeMap::new();
        for ((row, new), (region, at)) in current.into_iter().zip(new_rows).zip(&read.positions) {
            let row = with_set(row, assignments, &new);
            match view {
                PolicyView::Document => {
                    let text = row.get("policy_text").and_then(Value::as_str);
                    let text = text.unwrap_or_default().to_string();
                    problems.extend(
                        check_document(&text, region)
                            .into_iter()
                            .map(|p| format!("{region}: policy_text: {p}")),
                    );
                    policies.push(NewPolicy {
                        row: None,
                        region: region.clone(),
                        policy_text: text,
                    });
                }
                PolicyView::Statements => {
                    let statement = statement_of_row(resource, &row)?;
                    let sid =
                        (statement.sid.clone()).unwrap_or_else(|| format!("statement {}", at + 1));
                    problems.extend(
                        check_row(&statement, region)
                            .into_iter()
                            .map(|p| format!("{region} {sid}: {p}")),
                    );
                    changes
                        .entry(region.clone())
                        .or_default()
                        .push((*at, statement));
                }
            }
        }
        report_problems(&problems)?;
        let plan = match view {
            PolicyView::Document => plan_policy_put(&policies, &read.policies, false, None)?,
            PolicyView::Statements => plan_statement_update(&read.texts(), &changes)?,
        };
        Ok(execute_plan(resource, "UPDATE", plan, &PolicyCalls, context).await?)
    }

    async fn run_delete(&self, read: &MatchRequest, context: &ProviderContext) -> DfResult<u64> {
        // The matched policies deleted, or the matched statements taken out of their policies.
        let (resource, view, matches) = (self.resource, self.view, read);
        let read = read_matches(resource, view, matches, context, "DELETE").await?;
        let plan = match view {
            PolicyView::Document => plan_policy_delete(&read.regions()),
            PolicyView::Statements => {
                let mut remove: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
                for (region, at) in &read.positions {
                    remove.entry(region.clone()).or_default().insert(*at);
                }
                plan_statement_delete(&read.texts(), &remove)?
            }
        };
        Ok(execute_plan(resource, "DELETE", plan, &PolicyCalls, context).await?)
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

/// The checked rows of an INSERT.
enum InputRows {
    Statements(Vec<NewStatement>),
    Policies(Vec<NewPolicy>),
}

impl InputRows {
    /// Reads and checks every row; the error lists every problem, before any call.
    fn check(
        view: PolicyView,
        resource: &Resource,
        batches: &[RecordBatch],
        context: &ProviderContext,
    ) -> Result<Self> {
        let known = &schemas().provider.regions;
        let mut problems = Vec::new();
        let mut statements = Vec::new();
        let mut policies = Vec::new();
        let mut sids: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (i, row) in rows_of(batches)?.iter().enumerate() {
            let n = i + 1;
            let text = |c: &str| row.get(c).and_then(Value::as_str);
            let region = match region_or_default(text(REGION_COLUMN), n, &context.default_regions) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            if let Err(e) = check_region(&region, known) {
                problems.push(format!("row {n}: {e}"));
                continue;
            }
            if text("registry_id").is_some() {
                problems.push(format!(
                    "row {n}: registry_id is read-only (the registry of the region is the caller's account); leave it out"
                ));
            }
            match view {
                PolicyView::Statements => {
                    let statement = statement_of_row(resource, row)?;
                    let before = problems.len();
                    problems.extend(
                        check_row(&statement, &region)
                            .into_iter()
                            .map(|p| format!("row {n}: {p}")),
                    );
                    if let Some(sid) = &statement.sid
                        && let Some(first) = sids.insert((region.clone(), sid.clone()), n)
                    {
                        problems.push(format!(
                            "rows {first} and {n} both add sid '{sid}' to {region}'s policy; a sid is unique in a policy"
                        ));
                    }
                    // Over the limit on its own, it is over it whatever the policy holds.
                    let alone = with_statements(&empty_document(), vec![statement_of(&statement)]);
                    if let Err(e) = check_size(&alone) {
                        problems.push(format!("row {n}: statement {e}"));
                    }
                    if problems.len() == before {
                        statements.push(NewStatement {
                            row: n,
                            region,
                            statement,
                        });
                    }
                }
                PolicyView::Document => match text("policy_text") {
                    None => problems.push(format!("row {n}: policy_text is required")),
                    Some(text) => {
                        let found = check_document(text, &region);
                        if found.is_empty() {
                            policies.push(NewPolicy {
                                row: Some(n),
                                region,
                                policy_text: text.to_string(),
                            });
                        }
                        problems.extend(
                            found
                                .into_iter()
                                .map(|p| format!("row {n}: policy_text: {p}")),
                        );
                    }
                },
            }
        }
        report_problems(&problems)?;
        Ok(match view {
            PolicyView::Statements => Self::Statements(statements),
            PolicyView::Document => Self::Policies(policies),
        })
    }

    /// The regions the rows go to.
    fn regions(&self) -> Vec<String> {
        let set: BTreeSet<&String> = match self {
            Self::Statements(rows) => rows.iter().map(|r| &r.region).collect(),
            Self::Policies(rows) => rows.iter().map(|r| &r.region).collect(),
        };
        set.into_iter().cloned().collect()
    }
}

/// The current policy of each region, as read (with its registry id, so the rows an UPDATE or
/// DELETE matches carry the same values as a SELECT's).
async fn read_registry_policies(
    resource: &Resource,
    regions: &[String],
    context: &ProviderContext,
) -> Result<BTreeMap<String, Option<crate::aws::policy::RegistryPolicy>>> {
    let mut out = BTreeMap::new();
    for region in regions {
        let policy = context
            .clients
            .get_registry_policy(region, resource.doc.not_found.as_deref())
            .await?;
        out.insert(region.clone(), policy);
    }
    Ok(out)
}

/// What an UPDATE or DELETE matched: the policies read, and the matched rows with their
/// region and statement position.
struct Matched {
    policies: Policies,
    rows: RecordBatch,
    positions: Vec<(String, usize)>,
}

impl Matched {
    fn regions(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.positions.iter().map(|(r, _)| r).collect();
        set.into_iter().cloned().collect()
    }

    fn texts(&self) -> BTreeMap<String, String> {
        self.policies
            .iter()
            .filter_map(|(r, t)| t.clone().map(|t| (r.clone(), t)))
            .collect()
    }
}

async fn read_matches(
    resource: &'static Resource,
    view: PolicyView,
    matches: &MatchRequest,
    context: &ProviderContext,
    verb: &str,
) -> Result<Matched> {
    matches.note_never(context, verb);
    let read = read_registry_policies(resource, matches.regions(), context).await?;
    let mut batches = Vec::new();
    let mut positions = Vec::new();
    for (region, policy) in &read {
        let (batch, at) = policy_rows(view, resource, region, policy.as_ref())?;
        positions.extend(at.into_iter().map(|p| (region.clone(), p)));
        batches.push(batch);
    }
    let schema = resource.arrow_schema();
    let all = concat_batches(&schema, &batches).map_err(|e| Error::Runtime(e.to_string()))?;
    let keep = all_true(matches.filter_exprs(), &all)?;
    let rows = filter_record_batch(&all, &keep).map_err(|e| Error::Runtime(e.to_string()))?;
    let positions: Vec<(String, usize)> = positions
        .into_iter()
        .zip(keep.iter())
        .filter(|(_, k)| k.unwrap_or(false))
        .map(|(p, _)| p)
        .collect();
    let pin = format!("a pinned {}", resource.doc.identifier);
    let what = match view {
        PolicyView::Document => "policy(ies)",
        PolicyView::Statements => "statement(s)",
    };
    note_matches(
        context,
        verb,
        matches.is_bulk().then_some(&pin),
        what,
        || {
            Ok(match view {
                PolicyView::Document => positions.iter().map(|(r, _)| r.clone()).collect(),
                PolicyView::Statements => rows_of(std::slice::from_ref(&rows))?
                    .iter()
                    .zip(&positions)
                    .map(|(row, (region, _))| {
                        let sid = row.get("sid").and_then(Value::as_str);
                        format!("{region} {}", sid.unwrap_or("(no sid)"))
                    })
                    .collect(),
            })
        },
    )?;
    let policies = read
        .into_iter()
        .map(|(region, p)| (region, p.map(|p| p.policy_text)))
        .collect();
    Ok(Matched {
        policies,
        rows,
        positions,
    })
}

/// The values SET gives each of `n` rows, by column (a NULL left out).
fn values_set(columns: &[(&str, ArrayRef)], n: usize) -> Result<Vec<Row>> {
    if columns.is_empty() {
        return Ok(vec![Row::new(); n]);
    }
    let batch = RecordBatch::try_from_iter(columns.iter().map(|(c, v)| (*c, Arc::clone(v))))
        .map_err(|e| Error::Runtime(e.to_string()))?;
    rows_of(&[batch])
}

/// `row` with the columns SET (`assignments`) taking their values in `set`: a NULL removes one.
fn with_set(mut row: Row, assignments: &[(String, Arc<dyn PhysicalExpr>)], set: &Row) -> Row {
    for (column, _) in assignments {
        match set.get(column) {
            Some(v) => _ = row.insert(column.clone(), v.clone()),
            None => _ = row.remove(column),
        }
    }
    row
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
