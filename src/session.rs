//! A skyql session: a DataFusion context with the `aws` catalog, and statement execution that
//! keeps planning errors (nothing sent) apart from execution errors.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::memory::MemorySourceConfig;
use datafusion::execution::context::SessionContext;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::prelude::SessionConfig;
use datafusion::sql::parser::{CopyToStatement, Statement};

use crate::aws::{AwsSettings, EcrClients};
use crate::copy_to::{CopyTarget, copy_plan, source_statement};
use crate::engine::applied::AppliedCalls;
use crate::engine::dml::DmlExec;
use crate::engine::dml_where::dml_where;
use crate::engine::insert_literals::check_written_literals;
use crate::engine::merge::MergeExec;
use crate::engine::permissions::scopes as permission_scopes;
use crate::engine::pushdown::{check_text_casts, has_subquery};
use crate::engine::scan::unpinned_regions;
use crate::engine::{
    ProviderContext, RegionFailure, RegionFailures, RegionProgress, register_catalog,
};
use crate::error::{Error, Result};
use crate::files::{FileAccess, check_files, check_write, explain_unopened_file};
use crate::iam::permissions::{Need, needs};
use crate::schema::schemas;
use crate::sql::insert_columns::{check_positional_names, match_columns_by_name};
use crate::sql::parse::{ParsedStatement, parse_script};
use crate::sql::plain_errors::reword;
use crate::suggest::closest;

/// How a session behaves.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// How AWS is reached.
    pub aws: AwsSettings,
    /// A failed region fails the statement (exit 1, no rows) instead of partial results.
    pub strict: bool,
    /// DML reports the calls it would make and makes no mutating call.
    pub dry_run: bool,
    /// UPDATE/DELETE may act on rules their WHERE does not pin by identifier.
    pub allow_bulk: bool,
    /// DML may act although a region of its input failed (its rows are then missing).
    pub allow_partial: bool,
    /// Which local files SQL may read and write.
    pub files: FileAccess,
}

/// The result of one statement.
#[derive(Debug)]
pub struct QueryResult {
    /// Result schema.
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
    /// Regions that failed (their rows are missing); empty in strict mode.
    pub failures: Vec<RegionFailure>,
    /// Region calls the statement made (failed or not).
    pub regions_called: usize,
    /// What the statement reports besides rows (DML summaries, dry-run plans), for stderr.
    pub notes: Vec<String>,
    /// The session's regions its scans searched because no predicate on region chose them,
    /// when they are not every region (empty otherwise): a terminal is told, so that a row of
    /// another region is not silently absent.
    pub searched: Vec<String>,
}

/// A statement planned down to its physical plan, not yet run.
pub struct PlannedStatement {
    physical: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    task: Arc<datafusion::execution::TaskContext>,
    /// What planning found worth saying on stderr when the statement runs.
    notes: Vec<String>,
    /// See [`QueryResult::searched`].
    searched: Vec<String>,
}

impl PlannedStatement {
    /// The columns the statement answers with (none for CREATE, SET, …).
    pub fn schema(&self) -> SchemaRef {
        self.physical.schema()
    }
}

impl QueryResult {
    /// Total rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Whether every region the statement called failed: then it has no result at all.
    pub fn all_regions_failed(&self) -> bool {
        !self.failures.is_empty() && self.failures.len() >= self.regions_called
    }
}

/// A DataFusion context with the provider catalog registered.
pub struct Session {
    ctx: SessionContext,
    provider: Arc<ProviderContext>,
    files: FileAccess,
}

impl Session {
    /// Builds a session: resolves the default regions and loads the AWS configuration (no call).
    pub async fn new(options: SessionOptions) -> Result<Self> {
        options.aws.check_profile().await?;
        let default_regions = options.aws.default_regions().await;
        let home = default_regions
            .as_ref()
            .ok()
            .and_then(|r| r.first().cloned());
        let clients = EcrClients::load(&options.aws, home.as_deref()).await?;
        let provider = Arc::new(ProviderContext {
            clients,
            default_regions,
            region_scope: options
                .aws
                .regions
                .clone()
                .unwrap_or_else(|| schemas().provider.regions.clone()),
            failures: RegionFailures::default(),
            progress: RegionProgress::default(),
            strict: options.strict,
            dry_run: options.dry_run.into(),
            allow_bulk: options.allow_bulk.into(),
            allow_partial: options.allow_partial,
            directive: Default::default(),
            notes: Default::default(),
            validate_only: Default::default(),
            applied: Default::default(),
            explaining: Default::default(),
        });
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        // URL tables let scripts read desired state straight from files: `FROM 'desired.csv'`.
        let ctx = if options.files.read {
            ctx.enable_url_table()
        } else {
            ctx
        };
        register_catalog(&ctx, Arc::clone(&provider))?;
        Ok(Self {
            ctx,
            provider,
            files: options.files,
        })
    }

    /// The DataFusion context (for registering more tables, or inspection).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The session's default regions, or why there are none.
    pub fn default_regions(&self) -> &Result<Vec<String>, String> {
        &self.provider.default_regions
    }

    /// The mutating calls this session has made, and the one in flight (shared, for a report
    /// when the run is interrupted).
    pub fn applied_calls(&self) -> AppliedCalls {
        self.provider.applied.clone()
    }

    /// The region calls of the running statement, shared (for a progress display).
    pub fn progress(&self) -> RegionProgress {
        self.provider.progress.clone()
    }

    /// Parses a script (all of it, before anything runs).
    pub fn parse(&self, sql: &str) -> Result<Vec<ParsedStatement>> {
        parse_script(sql)
    }

    /// Plans one statement down to its physical plan. No API call happens here: scans call
    /// only when executed, so a script can be planned whole before anything runs.
    pub async fn plan(&self, parsed: ParsedStatement) -> Result<PlannedStatement> {
        if parsed.explain_permissions {
            let needs = self.needs(parsed).await?;
            let batch = permission_rows(&needs)?;
            let physical =
                MemorySourceConfig::try_new_exec(&[vec![batch.clone()]], batch.schema(), None)
                    .map_err(|e| Error::Runtime(e.to_string()))?;
            return Ok(PlannedStatement {
                physical,
                task: self.ctx.task_ctx(),
                notes: Vec::new(),
                searched: Vec::new(),
            });
        }
        *self.provider.directive.lock().expect("directive lock") = parsed.directive;
        let planned = self.plan_statement(parsed.statement).await;
        // A directive no hook took (e.g. planning failed first) must not reach the next statement.
        self.provider.take_directive();
        planned
    }

    /// The IAM permissions a statement needs, from its plan; no call is made (an INSERT's own
    /// VALUES are evaluated locally to learn its regions and ARNs). An unpinned UPDATE or DELETE
    /// is planned as a dry run would be, so it is explained rather than refused.
    pub async fn needs(&self, parsed: ParsedStatement) -> Result<Vec<Need>> {
        let dry_run = self.provider.dry_run();
        self.provider.dry_run.store(true, Ordering::SeqCst);
        self.provider.explaining.store(true, Ordering::SeqCst);
        *self.provider.directive.lock().expect("directive lock") = parsed.directive;
        let planned = self.plan_statement(parsed.statement).await;
        self.provider.explaining.store(false, Ordering::SeqCst);
        self.provider.take_directive();
        self.provider.dry_run.store(dry_run, Ordering::SeqCst);
        let planned = planned?;
        let scopes = permission_scopes(
            &planned.physical,
            Arc::clone(&planned.task),
            &self.provider.default_regions,
        )
        .await?;
        let mut needs: Vec<Need> = scopes.iter().flat_map(needs).collect();
        needs.sort();
        needs.dedup_by(|a, b| {
            a.action == b.action && a.resource == b.resource && a.reason == b.reason
        });
        Ok(needs)
    }

    async fn plan_statement(&self, statement: Statement) -> Result<PlannedStatement> {
        if let Statement::CopyTo(copy) = statement {
            return self.plan_copy(copy).await;
        }
        let state = self.ctx.state();
        let planning = |e| {
            let error = Error::from_datafusion(e, true);
            with_suggestion(reword(explain_unopened_file(error, self.files, &state)))
        };
        let mut statement = statement;
        match_columns_by_name(&state, &mut statement)
            .await
            .map_err(planning)?;
        let plan = state.statement_to_plan(statement).await.map_err(planning)?;
        // The WHERE of an UPDATE/DELETE is read now, from the statement as written: the
        // optimizer may turn it into an empty relation or a join the table hooks never see.
        let analyzed = state
            .analyzer()
            .execute_and_check(plan.clone(), state.config_options(), |_, _| {})
            .map_err(planning)?;
        check_files(
            &plan,
            self.files,
            self.provider.dry_run() && !self.provider.explaining(),
        )?;
        check_written_literals(&analyzed)?;
        check_positional_names(&analyzed)?;
        check_text_compared_with_numbers(&analyzed)?;
        let clause = dml_where(&analyzed)?;
        self.provider
            .directive
            .lock()
            .expect("directive lock")
            .where_clause = clause;
        let frame = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(planning)?;
        let task = Arc::new(frame.task_ctx());
        let physical = frame.create_physical_plan().await.map_err(planning)?;
        let notes = match (undecided_region(&analyzed), &self.provider.default_regions) {
            (true, Ok(regions)) => vec![format!(
                "warning: a predicate on region uses a subquery, so it cannot choose the regions \
                 before the scan: searched {} (the session's regions). Pin regions with \
                 region = '…' or region IN ('…', '…'), or widen with --regions all",
                regions.join(", ")
            )],
            _ => Vec::new(),
        };
        let unpinned = unpinned_regions(&physical);
        let every = &schemas().provider.regions;
        // The subquery warning already names the regions searched.
        let searched = if !notes.is_empty() || every.iter().all(|r| unpinned.contains(r)) {
            Vec::new()
        } else {
            unpinned.into_iter().collect()
        };
        Ok(PlannedStatement {
            physical,
            task,
            notes,
            searched,
        })
    }

    /// `COPY … TO`: DataFusion plans the query, and skyql writes the file (crate::copy_to) as
    /// `-o` writes it. The target is checked now, before any call; not when only explaining.
    async fn plan_copy(&self, copy: CopyToStatement) -> Result<PlannedStatement> {
        let explaining = self.provider.explaining();
        check_write(self.files, self.provider.dry_run() && !explaining)?;
        let target = CopyTarget::of(&copy)?;
        if !explaining {
            target.check()?;
        }
        let query = Box::pin(self.plan_statement(source_statement(copy.source)?)).await?;
        Ok(PlannedStatement {
            physical: copy_plan(query.physical, target, self.provider.failures.clone()),
            ..query
        })
    }

    /// Runs a planned statement, collecting its rows and the regions that failed.
    pub async fn run(&self, planned: PlannedStatement) -> Result<QueryResult> {
        self.provider.failures.reset();
        self.provider.progress.reset();
        self.provider.clients.start_statement();
        self.provider.take_notes();
        let schema = planned.physical.schema();
        let sent = self.provider.clients.requests_sent();
        let batches = datafusion::physical_plan::collect(planned.physical, planned.task)
            .await
            .map_err(|e| self.after_requests(Error::from_datafusion(e, false), sent))?;
        let (failures, attempted) = self.provider.failures.take();
        let mut notes = planned.notes;
        notes.extend(self.provider.take_notes());
        Ok(QueryResult {
            schema,
            batches,
            failures,
            regions_called: attempted,
            notes,
            searched: planned.searched,
        })
    }

    /// Checks a planned DML statement without changing anything: INSERT validates its rows
    /// (reading only its own input). Other statements are not run. A script calls this for every
    /// statement before running the first, so a bad row anywhere fails it before any change.
    pub async fn check(&self, planned: &PlannedStatement) -> Result<()> {
        // DataFusion wraps a DML plan without children (UPDATE, DELETE) in a CooperativeExec.
        let mut node = &planned.physical;
        while (node.as_ref() as &dyn std::any::Any).is::<CooperativeExec>()
            && let Some(child) = node.children().first()
        {
            node = child;
        }
        let root: &dyn std::any::Any = node.as_ref();
        if !(root.is::<DmlExec>() || root.is::<MergeExec>()) {
            return Ok(());
        }
        self.provider.validate_only.store(true, Ordering::SeqCst);
        self.provider.clients.start_statement();
        let sent = self.provider.clients.requests_sent();
        let result = datafusion::physical_plan::collect(
            Arc::clone(&planned.physical),
            Arc::clone(&planned.task),
        )
        .await;
        self.provider.validate_only.store(false, Ordering::SeqCst);
        self.provider.take_notes();
        result
            .map(|_| ())
            .map_err(|e| self.after_requests(Error::from_datafusion(e, false), sent))
    }

    /// Exit 2 promises that nothing was sent. An error of that kind found only after the
    /// statement made requests (a value checked against what a read returned) is reported as
    /// a runtime error (exit 1), saying how many requests were made.
    fn after_requests(&self, error: Error, sent_before: u64) -> Error {
        let made = self.provider.clients.requests_sent() - sent_before;
        if error.exit_code() != 2 || made == 0 {
            return error;
        }
        let message = error
            .to_string()
            .replace("nothing was sent", "no change was made");
        Error::Runtime(format!(
            "{message}\n  (found after {made} request(s) to AWS; no change was made by this statement)"
        ))
    }

    /// Changes how DML behaves for the statements that follow (the shell's bulk confirmation
    /// first dry-runs a refused statement, then runs it with bulk allowed).
    pub fn set_dml_mode(&self, dry_run: bool, allow_bulk: bool) {
        self.provider.dry_run.store(dry_run, Ordering::SeqCst);
        self.provider.allow_bulk.store(allow_bulk, Ordering::SeqCst);
    }

    /// Plans and runs one statement.
    pub async fn execute(&self, statement: ParsedStatement) -> Result<QueryResult> {
        let planned = self.plan(statement).await?;
        self.run(planned).await
    }

    /// Parses and runs every statement of `sql` in order, stopping at the first error.
    pub async fn sql(&self, sql: &str) -> Result<Vec<QueryResult>> {
        let mut results = Vec::new();
        for statement in self.parse(sql)? {
            results.push(self.execute(statement).await?);
        }
        Ok(results)
    }
}

/// Refuses, anywhere in a statement's filters, a text column of an AWS table cast to a number
/// (`region = 5 OR EXISTS (…)`, where the filter is not handed to the table): the cast would fail
/// only after the calls were made.
fn check_text_compared_with_numbers(plan: &datafusion::logical_expr::LogicalPlan) -> Result<()> {
    use datafusion::common::ExprSchema;
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::LogicalPlan;
    let mut result = Ok(());
    let _ = plan.apply(|node| {
        if let LogicalPlan::Filter(f) = node {
            let schema = f.input.schema();
            result = check_text_casts(&f.predicate, |c| {
                c.relation
                    .as_ref()
                    .is_some_and(|r| r.catalog() == Some("aws"))
                    && schema
                        .field_from_column(c)
                        .is_ok_and(|f| f.data_type() == &DataType::Utf8)
            });
        }
        Ok(if result.is_err() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    result
}

/// Whether a WHERE conjunct reads `region` through a subquery (`region IN (SELECT …)`): the
/// scan cannot use it to choose regions, so it searches the session's regions only.
fn undecided_region(plan: &datafusion::logical_expr::LogicalPlan) -> bool {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::{LogicalPlan, utils::split_conjunction};
    let mut found = false;
    let _ = plan.apply(|node| {
        if let LogicalPlan::Filter(f) = node {
            found = split_conjunction(&f.predicate).into_iter().any(|c| {
                c.column_refs()
                    .iter()
                    .any(|col| col.name == crate::engine::pushdown::REGION_COLUMN)
                    && has_subquery(c)
            });
        }
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// `EXPLAIN PERMISSIONS` rows: action, resource, reason.
fn permission_rows(needs: &[Need]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        ["action", "resource", "reason"]
            .map(|n| Field::new(n, DataType::Utf8, false))
            .to_vec(),
    ));
    let column = |f: fn(&Need) -> &str| -> ArrayRef {
        Arc::new(StringArray::from(needs.iter().map(f).collect::<Vec<_>>()))
    };
    RecordBatch::try_new(
        schema,
        vec![
            column(|n| &n.action),
            column(|n| &n.resource),
            column(|n| &n.reason),
        ],
    )
    .map_err(|e| Error::Runtime(e.to_string()))
}

/// Adds "Did you mean …?" to unknown-table and unknown-column errors.
fn with_suggestion(e: Error) -> Error {
    let Error::Sql(message) = &e else { return e };
    let s = schemas();
    let tables: Vec<String> = s
        .resources
        .iter()
        .map(|r| r.qualified_name(&s.provider.name))
        .collect();
    let mut columns: Vec<&str> = s
        .resources
        .iter()
        .flat_map(|r| r.columns.iter().map(|c| c.name.as_str()))
        .collect();
    columns.extend(s.resources.iter().flat_map(|r| r.aliases().map(|(a, _)| a)));
    let hint = if let Some(name) = between(message, "table '", "' not found") {
        closest(&name, tables.iter().map(String::as_str))
            .or_else(|| {
                closest(
                    name.rsplit('.').next().unwrap_or(&name),
                    tables.iter().map(|t| t.rsplit('.').next().unwrap_or(t)),
                )
            })
            .map(|t| {
                tables
                    .iter()
                    .find(|q| q.ends_with(t))
                    .cloned()
                    .unwrap_or_else(|| t.to_string())
            })
    } else if let Some(name) = between(message, "No field named ", ".") {
        let bare = name
            .trim_matches('"')
            .rsplit('.')
            .next()
            .unwrap_or(&name)
            .trim_matches('"')
            .to_string();
        closest(&bare, columns.iter().copied()).map(str::to_string)
    } else {
        None
    };
    match hint {
        // DataFusion suggests some names itself; one suggestion is enough.
        Some(h) if !message.contains("Did you mean") => {
            Error::Sql(format!("{message}\n  Did you mean '{h}'?"))
        }
        _ => e,
    }
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(text[from..from + len].to_string())
}
