//! Pure translation of WHERE filters into an API request plan: which regions to call and which
//! identifiers to ask for. No I/O here; everything is decided before any call.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::expr::{Cast, InList, TryCast};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};

use crate::engine::request::ScanRequest;
use crate::error::{Error, Result};
use crate::schema::{Resource, check_region};

/// The column that chooses regions.
pub const REGION_COLUMN: &str = "region";

/// How far a filter can be pushed: region sets are exact (the API answers per region);
/// identifier sets are inexact because ECR treats `team` and `team/` as one rule, so
/// DataFusion re-checks them; anything else stays with DataFusion.
pub fn classify(resource: &Resource, filter: &Expr) -> TableProviderFilterPushDown {
    match literal_set(resource, filter) {
        Some((column, _)) if column == REGION_COLUMN => TableProviderFilterPushDown::Exact,
        Some(_) => TableProviderFilterPushDown::Inexact,
        // Any other predicate on region alone chooses regions too (see `narrow_regions`);
        // DataFusion re-checks it on the rows.
        None if reads_only_region(filter) => TableProviderFilterPushDown::Inexact,
        None => TableProviderFilterPushDown::Unsupported,
    }
}

/// Whether a filter reads the `region` column and nothing else (and holds no subquery, whose
/// answer is not known before the scan).
pub fn reads_only_region(filter: &Expr) -> bool {
    let columns = filter.column_refs();
    !columns.is_empty() && columns.iter().all(|c| c.name == REGION_COLUMN) && !has_subquery(filter)
}

/// The region rule: a predicate on `region` alone that is not `=`/`IN` (`LIKE 'us-%'`,
/// `<> 'us-east-1'`, `NOT IN (…)`, …) is evaluated over `scope` — the `--regions` given, else
/// every region of provider.yaml — and the regions it holds for are the ones called. (`=` and
/// `IN` pin their regions directly, as [`plan_request`] does.) Answers whether it narrowed.
pub fn narrow_regions(
    resource: &Resource,
    request: &mut ScanRequest,
    filters: &[Expr],
    scope: &[String],
) -> bool {
    let mut narrowed = false;
    // `=`/`IN` pinned their regions already, also outside the scope.
    let others = filters
        .iter()
        .filter(|f| reads_only_region(f) && literal_set(resource, f).is_none());
    for filter in others {
        if let Some(held) = regions_where(filter, scope) {
            request.regions = Some(match request.regions.take() {
                Some(pinned) => pinned.intersection(&held).cloned().collect(),
                None => held,
            });
            narrowed = true;
        }
    }
    narrowed
}

/// The regions of `scope` for which `filter` (over `region` alone) is true; `None` when it
/// cannot be evaluated here.
fn regions_where(filter: &Expr, scope: &[String]) -> Option<BTreeSet<String>> {
    use datafusion::arrow::array::{Array, BooleanArray, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::common::DFSchema;
    use datafusion::execution::context::ExecutionProps;
    let schema = Schema::new(vec![Field::new(REGION_COLUMN, DataType::Utf8, true)]);
    let df_schema = DFSchema::try_from(schema.clone()).ok()?;
    let batch = RecordBatch::try_new(
        std::sync::Arc::new(schema),
        vec![std::sync::Arc::new(StringArray::from(scope.to_vec()))],
    )
    .ok()?;
    let physical = datafusion::physical_expr::create_physical_expr(
        filter,
        &df_schema,
        &ExecutionProps::new(),
        &Default::default(),
    )
    .ok()?;
    let held = physical
        .evaluate(&batch)
        .ok()?
        .into_array(scope.len())
        .ok()?;
    let held = held.as_any().downcast_ref::<BooleanArray>()?;
    Some(
        scope
            .iter()
            .enumerate()
            .filter(|(i, _)| held.is_valid(*i) && held.value(*i))
            .map(|(_, r)| r.clone())
            .collect(),
    )
}

/// Refuses a text column compared with a number (`region = 5`): DataFusion would cast every
/// value to a number and fail only after the calls were made. Checked before any call.
pub fn check_comparison_types(resource: &Resource, filter: &Expr) -> Result<()> {
    check_text_casts(filter, |c| {
        resource
            .column(&c.name)
            .is_some_and(|col| col.data_type == DataType::Utf8)
    })
}

/// Refuses a column that `is_text` says is text being cast to a number anywhere in `filter`
/// (how DataFusion compares text with a number).
pub fn check_text_casts(filter: &Expr, is_text: impl Fn(&Column) -> bool) -> Result<()> {
    let mut bad = None;
    let _ = filter.apply(|e| {
        if let Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) = e
            && field.data_type().is_numeric()
            && let Expr::Column(c) = expr.as_ref()
            && is_text(c)
        {
            bad = Some(c.name.clone());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    match bad {
        Some(name) => Err(Error::Usage(format!(
            "{name} is text: compare it with a string ({name} = '…'), not a number, which skyql \
             does not convert silently; nothing was sent"
        ))),
        None => Ok(()),
    }
}

/// Whether an expression holds a subquery (IN, EXISTS, a scalar or a set comparison): its
/// answer is not known before the statement runs.
pub fn has_subquery(expr: &Expr) -> bool {
    expr.exists(|e| {
        Ok(matches!(
            e,
            Expr::Exists(_)
                | Expr::InSubquery(_)
                | Expr::ScalarSubquery(_)
                | Expr::SetComparison(_)
        ))
    })
    .unwrap_or(true)
}

/// Whether the predicate is a constant that no row satisfies.
pub fn is_false_or_null(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(ScalarValue::Boolean(Some(b)), _) => !b,
        Expr::Literal(v, _) => v.is_null(),
        _ => false,
    }
}

/// Builds the request plan of a SELECT from the filters DataFusion pushed, checking every value
/// first; the singular table must be given its identifier.
pub fn plan(
    resource: &Resource,
    filters: &[Expr],
    limit: Option<usize>,
    known_regions: &[String],
) -> Result<ScanRequest> {
    let request = plan_request(resource, filters, limit, known_regions)?;
    if resource.requires_identifier() && request.identifiers.is_none() {
        let table = resource.qualified_name("aws");
        let plural = resource
            .doc
            .columns_from
            .as_deref()
            .unwrap_or("the plural table");
        let id = &resource.doc.identifier;
        let pin = resource
            .aliases()
            .next()
            .map_or(id.as_str(), |(alias, _)| alias);
        let noun = resource.noun();
        return Err(Error::Usage(format!(
            "{table} gets one {noun} by its identifier: add WHERE {pin} = '<{id}>' \
             (or IN (…)), or query aws.{}.{plural} to list {noun}s",
            resource.doc.service
        )));
    }
    Ok(request)
}

/// Builds the request plan from filters (of a SELECT, UPDATE or DELETE), checking every value.
pub fn plan_request(
    resource: &Resource,
    filters: &[Expr],
    limit: Option<usize>,
    known_regions: &[String],
) -> Result<ScanRequest> {
    let mut request = ScanRequest::default();
    for (column, values) in filters.iter().flat_map(|f| pins(resource, f)) {
        if column == REGION_COLUMN {
            for region in &values {
                check_region(region, known_regions)?;
            }
            request.regions = Some(intersect(request.regions.take(), values));
        } else if column == resource.doc.identifier {
            for id in &values {
                check_identifier(resource, &column, id)?;
            }
            request.identifiers = Some(intersect(request.identifiers.take(), values));
        } else if parent_column(resource) == Some(column.as_str()) {
            for key in &values {
                check_identifier(resource, &column, key)?;
            }
            request.parents = Some(intersect(request.parents.take(), values));
        }
    }
    if let Some(parent) = parent_column(resource) {
        for filter in filters {
            if let Some((column, prefixes)) = like_prefixes(resource, filter)
                && column == parent
            {
                request.parent_prefixes.push(prefixes);
            }
        }
    }
    if request.identifiers.is_none()
        && let Some(n) = limit
        && let Some(page) = resource.listing().and_then(|l| l.page.as_ref())
    {
        request.page_size = Some(n.clamp(1, page.max) as i32);
    }
    request.limit = limit;
    Ok(request)
}

/// The column of a child table that holds its parent's key (images' `repository_name`).
fn parent_column(resource: &Resource) -> Option<&str> {
    let parent = resource.listing()?.parent.as_ref()?;
    Some(parent.column.as_str())
}

/// Checks a pinned identifier value against its column's `check` (ECR's constraints): a value
/// that can never match is a mistake worth reporting before any call.
fn check_identifier(resource: &Resource, column: &str, id: &str) -> Result<()> {
    let check = resource.column(column).and_then(|c| c.check.as_ref());
    match check.and_then(|c| c.problem(&id.into())) {
        Some(why) => Err(Error::Usage(format!(
            "{column} '{id}' can never match a row of {}: it {why}",
            resource.qualified_name("aws")
        ))),
        None => Ok(()),
    }
}

fn intersect(current: Option<BTreeSet<String>>, new: BTreeSet<String>) -> BTreeSet<String> {
    match current {
        Some(cur) => cur.intersection(&new).cloned().collect(),
        None => new,
    }
}

/// Recognises `key = 'v'`, `'v' = key`, `key IN ('a', 'b')` and `key = 'a' OR key = 'b' …`
/// (DataFusion turns short IN lists into OR chains) on a key column of the resource;
/// answers the key's target column and the set of values.
pub fn literal_set(resource: &Resource, expr: &Expr) -> Option<(String, BTreeSet<String>)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (col, value) = match (key_column(resource, left), string_literal(right)) {
                (Some(c), Some(v)) => (c, v),
                _ => (key_column(resource, right)?, string_literal(left)?),
            };
            Some((col, BTreeSet::from([value])))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let (lc, mut lv) = literal_set(resource, left)?;
            let (rc, rv) = literal_set(resource, right)?;
            if lc != rc {
                return None;
            }
            lv.extend(rv);
            Some((lc, lv))
        }
        Expr::InList(InList {
            expr,
            list,
            negated: false,
        }) => {
            let col = key_column(resource, expr)?;
            let values = list
                .iter()
                .map(string_literal)
                .collect::<Option<BTreeSet<_>>>()?;
            Some((col, values))
        }
        _ => None,
    }
}

/// The key columns `expr` confines to a set of values, with the sets: those of
/// [`literal_set`], both sides' of an AND (intersected where both pin a column), and those
/// every side of an OR pins (united). So `(region = 'a' AND prefix = 'x') OR (region = 'b' AND
/// prefix = 'y')` reads regions a and b for prefixes x and y, and the filter, evaluated on
/// the rows read, keeps only its two pairs.
pub fn pins(resource: &Resource, expr: &Expr) -> BTreeMap<String, BTreeSet<String>> {
    if let Some((column, values)) = literal_set(resource, expr) {
        return BTreeMap::from([(column, values)]);
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return BTreeMap::new();
    };
    let (mut left, right) = (pins(resource, left), pins(resource, right));
    match op {
        Operator::And => {
            for (column, values) in right {
                let both = match left.remove(&column) {
                    Some(held) => held.intersection(&values).cloned().collect(),
                    None => values,
                };
                left.insert(column, both);
            }
            left
        }
        Operator::Or => left
            .into_iter()
            .filter_map(|(column, mut values)| {
                values.extend(right.get(&column)?.iter().cloned());
                Some((column, values))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The target column when `expr` is a key column (possibly cast, as DataFusion may coerce).
/// Recognises `key LIKE 'prefix%'` (a literal prefix, no other wildcard) and OR chains of
/// them on a key column; answers the column and the prefixes.
pub fn like_prefixes(resource: &Resource, expr: &Expr) -> Option<(String, BTreeSet<String>)> {
    match expr {
        Expr::Like(like)
            if !like.negated && !like.case_insensitive && like.escape_char.is_none() =>
        {
            let pattern = string_literal(&like.pattern)?;
            let prefix = pattern.strip_suffix('%')?;
            if prefix.contains(['%', '_', '\\']) {
                return None;
            }
            Some((
                key_column(resource, &like.expr)?,
                BTreeSet::from([prefix.to_string()]),
            ))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let (lc, mut lp) = like_prefixes(resource, left)?;
            let (rc, rp) = like_prefixes(resource, right)?;
            if lc != rc {
                return None;
            }
            lp.extend(rp);
            Some((lc, lp))
        }
        _ => None,
    }
}

fn key_column(resource: &Resource, expr: &Expr) -> Option<String> {
    match expr {
        Expr::Column(c) => resource.key_target(&c.name).map(str::to_string),
        Expr::Cast(c) => key_column(resource, &c.expr),
        Expr::TryCast(c) => key_column(resource, &c.expr),
        _ => None,
    }
}

fn string_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        Expr::Cast(c) => string_literal(&c.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;
    use datafusion::logical_expr::{col, lit};

    fn list() -> &'static Resource {
        schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap()
    }
    fn get() -> &'static Resource {
        schemas()
            .resource("ecr", "pull_through_cache_rule")
            .unwrap()
    }
    fn regions() -> &'static [String] {
        &schemas().provider.regions
    }
    fn set(v: &[&str]) -> Option<BTreeSet<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn an_or_of_pinned_pairs_pins_the_union_of_each_column() {
        let pair = |region: &str, prefix: &str| {
            col("region")
                .eq(lit(region))
                .and(col("ecr_repository_prefix").eq(lit(prefix)))
        };
        let either = pair("us-east-1", "hub").or(pair("eu-west-1", "quay"));
        let request = plan_request(list(), &[either], None, regions()).unwrap();
        assert_eq!(request.regions, set(&["eu-west-1", "us-east-1"]));
        assert_eq!(request.identifiers, set(&["hub", "quay"]));
        // A side that does not pin a column leaves it unpinned.
        let loose = pair("us-east-1", "hub").or(col("region").eq(lit("eu-west-1")));
        let request = plan_request(list(), &[loose], None, regions()).unwrap();
        assert_eq!(request.regions, set(&["eu-west-1", "us-east-1"]));
        assert_eq!(request.identifiers, None);
        // Contradictory pins inside an AND pin nothing; a NOT pins nothing.
        let never = col("region")
            .eq(lit("us-east-1"))
            .and(col("region").eq(lit("eu-west-1")));
        assert_eq!(
            pins(list(), &never),
            BTreeMap::from([("region".to_string(), BTreeSet::new())])
        );
        assert!(pins(list(), &Expr::Not(Box::new(pair("us-east-1", "hub")))).is_empty());
        // Every value is still checked before any call.
        let typo = pair("us-east-9", "hub").or(pair("eu-west-1", "quay"));
        assert!(plan_request(list(), &[typo], None, regions()).is_err());
    }

    #[test]
    fn a_literal_prefix_like_on_the_parent_key_chooses_the_parents_asked() {
        let images = schemas().resource("ecr", "images").unwrap();
        let name = || col("repository_name");
        let either = name().like(lit("quay/%")).or(name().like(lit("k8s/%")));
        let request = plan_request(
            images,
            &[either, name().like(lit("quay/p%"))],
            None,
            regions(),
        )
        .unwrap();
        assert_eq!(request.parent_prefixes.len(), 2);
        assert!(request.keeps_parent("quay/prometheus/prometheus"));
        assert!(!request.keeps_parent("k8s/pause"), "not under quay/p");
        assert!(!request.keeps_parent("docker-hub/library/nginx"));
        // Not a literal prefix (another wildcard, NOT LIKE, ILIKE): every parent is asked.
        for loose in [
            name().like(lit("quay_%")),
            name().like(lit("%/nginx")),
            name().not_like(lit("quay/%")),
            name().ilike(lit("quay/%")),
            name()
                .like(lit("quay/%"))
                .or(col("image_digest").like(lit("sha256:%"))),
        ] {
            let request = plan_request(images, &[loose], None, regions()).unwrap();
            assert!(request.parent_prefixes.is_empty(), "{request:?}");
        }
        // The rules have no parent: a LIKE on their identifier asks for nothing less.
        let rules = plan_request(
            list(),
            &[col("ecr_repository_prefix").like(lit("q%"))],
            None,
            regions(),
        );
        assert!(rules.unwrap().parent_prefixes.is_empty());
    }

    #[test]
    fn other_region_predicates_are_evaluated_over_the_scope() {
        let scope: Vec<String> = regions().to_vec();
        let narrowed = |filter: Expr| {
            let mut r = ScanRequest::default();
            assert!(narrow_regions(list(), &mut r, &[filter], &scope));
            r.regions.unwrap()
        };
        let us = narrowed(col("region").like(lit("us-%")));
        assert!(
            us.len() >= 4 && us.iter().all(|r| r.starts_with("us-")),
            "{us:?}"
        );
        let not_east = narrowed(col("region").not_eq(lit("us-east-1")));
        assert_eq!(not_east.len(), scope.len() - 1);
        assert!(!not_east.contains("us-east-1"));
        // Within --regions when given.
        let given = ["us-east-1".to_string(), "eu-west-1".to_string()];
        let mut r = ScanRequest::default();
        narrow_regions(list(), &mut r, &[col("region").like(lit("eu-%"))], &given);
        assert_eq!(r.regions, set(&["eu-west-1"]));
        // Not a predicate on region alone: left to DataFusion.
        let mut r = ScanRequest::default();
        let mixed = col("region")
            .like(lit("us-%"))
            .or(col("ecr_repository_prefix").eq(lit("k8s")));
        assert_eq!(
            classify(list(), &mixed),
            TableProviderFilterPushDown::Unsupported
        );
        assert!(!narrow_regions(list(), &mut r, &[mixed], &scope));
        assert_eq!(
            classify(list(), &col("region").ilike(lit("x"))),
            TableProviderFilterPushDown::Inexact
        );
        assert_eq!(
            classify(list(), &col("region").like(lit("us-%"))),
            TableProviderFilterPushDown::Inexact
        );
    }

    #[test]
    fn region_equality_and_in_choose_regions() {
        let r = plan(
            list(),
            &[col("region").eq(lit("eu-west-1"))],
            None,
            regions(),
        )
        .unwrap();
        assert_eq!(r.regions, set(&["eu-west-1"]));
        let f = col("region").in_list(vec![lit("us-east-1"), lit("eu-west-1")], false);
        assert_eq!(
            plan(list(), &[f], None, regions()).unwrap().regions,
            set(&["eu-west-1", "us-east-1"])
        );
        let f = lit("us-east-1").eq(col("region"));
        assert_eq!(
            plan(list(), &[f], None, regions()).unwrap().regions,
            set(&["us-east-1"])
        );
    }

    #[test]
    fn or_chains_are_recognised_like_in_lists() {
        let f = col("ecr_repository_prefix")
            .eq(lit("a1"))
            .or(col("ecr_repository_prefix").eq(lit("b2")))
            .or(col("ecr_repository_prefix").eq(lit("c3")));
        let r = plan(list(), std::slice::from_ref(&f), None, regions()).unwrap();
        assert_eq!(r.identifiers, set(&["a1", "b2", "c3"]));
        assert_eq!(classify(list(), &f), TableProviderFilterPushDown::Inexact);
        let mixed = col("region")
            .eq(lit("us-east-1"))
            .or(col("ecr_repository_prefix").eq(lit("a1")));
        assert_eq!(
            classify(list(), &mixed),
            TableProviderFilterPushDown::Unsupported
        );
    }

    #[test]
    fn filters_intersect() {
        let fs = [
            col("region").in_list(vec![lit("us-east-1"), lit("eu-west-1")], false),
            col("region").eq(lit("eu-west-1")),
        ];
        assert_eq!(
            plan(list(), &fs, None, regions()).unwrap().regions,
            set(&["eu-west-1"])
        );
        let fs = [
            col("region").eq(lit("us-east-1")),
            col("region").eq(lit("eu-west-1")),
        ];
        assert_eq!(
            plan(list(), &fs, None, regions()).unwrap().regions,
            set(&[])
        );
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify(list(), &col("region").eq(lit("x"))),
            TableProviderFilterPushDown::Exact
        );
        assert_eq!(
            classify(list(), &col("upstream_registry").eq(lit("quay"))),
            TableProviderFilterPushDown::Unsupported
        );
        assert_eq!(
            classify(list(), &col("region").in_list(vec![lit("a")], true)),
            TableProviderFilterPushDown::Inexact,
            "NOT IN chooses regions over the scope, and is re-checked"
        );
        assert_eq!(
            classify(list(), &col("region").not_eq(lit("a"))),
            TableProviderFilterPushDown::Inexact
        );
        assert_eq!(
            classify(get(), &col("data__Identifier").eq(lit("a1"))),
            TableProviderFilterPushDown::Inexact
        );
    }

    #[test]
    fn limit_is_a_page_size_hint_only_without_identifiers() {
        let r = plan(list(), &[], Some(5), regions()).unwrap();
        assert_eq!((r.page_size, r.limit), (Some(5), Some(5)));
        assert_eq!(
            plan(list(), &[], Some(50_000), regions())
                .unwrap()
                .page_size,
            Some(1000)
        );
        let r = plan(
            list(),
            &[col("ecr_repository_prefix").eq(lit("ab"))],
            Some(5),
            regions(),
        )
        .unwrap();
        assert_eq!(r.page_size, None);
    }

    #[test]
    fn bad_values_fail_before_any_call() {
        let err = plan(
            list(),
            &[col("ecr_repository_prefix").eq(lit("Bad Prefix"))],
            None,
            regions(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("can never match"), "{err}");
        let err = plan(
            list(),
            &[col("region").eq(lit("us-east-9"))],
            None,
            regions(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown region 'us-east-9'"),
            "{err}"
        );
        assert!(
            err.to_string().contains("Did you mean 'us-east-1'?"),
            "{err}"
        );
    }

    #[test]
    fn singular_table_requires_its_identifier() {
        let err = plan(
            get(),
            &[col("region").eq(lit("us-east-1"))],
            None,
            regions(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("data__Identifier = '<ecr_repository_prefix>'"),
            "{err}"
        );
        assert!(
            err.to_string().contains("aws.ecr.pull_through_cache_rules"),
            "{err}"
        );
        let r = plan(
            get(),
            &[col("data__identifier").eq(lit("ecr-public"))],
            None,
            regions(),
        )
        .unwrap();
        assert_eq!(r.identifiers, set(&["ecr-public"]));
    }

    #[test]
    fn every_identifier_of_a_long_list_is_pinned() {
        let ids: Vec<Expr> = (0..250).map(|i| lit(format!("p{i:03}"))).collect();
        let r = plan(
            list(),
            &[col("ecr_repository_prefix").in_list(ids, false)],
            None,
            regions(),
        )
        .unwrap();
        // The listing sends them 100 a call (`identifiers.max`).
        assert_eq!(r.identifiers.map(|ids| ids.len()), Some(250));
    }
}
