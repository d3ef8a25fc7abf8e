//! Pure planning of registry policy changes: whole policies (`aws.ecr.registry_policy`) and
//! statements added, changed or removed (`aws.ecr.registry_policy_statements`), as
//! PutRegistryPolicy / DeleteRegistryPolicy calls, one per region at most.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::call_plan::CallPlan;
use super::calls::{ApiCall, Mutation};
use super::directive::OnConflict;
use crate::error::{Error, Result};
use crate::iam::policy::{
    StatementRow, check_size, empty_document, parse, row_of, sid_of, statement_of, statements,
    with_statements,
};

/// A statement an INSERT asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatement {
    /// The 1-based row of the statement's input.
    pub row: usize,
    /// The region whose policy gets it.
    pub region: String,
    /// The statement (checked).
    pub statement: StatementRow,
}

/// The call that replaces a region's whole registry policy: every write of either policy
/// table is a read-modify-write of the one document.
pub const PUT_POLICY: &str = "PutRegistryPolicy";
/// The call that removes a region's registry policy (when no statement is left).
pub const DELETE_POLICY: &str = "DeleteRegistryPolicy";

fn put_policy(policy_text: String) -> Mutation {
    Mutation::new(
        PUT_POLICY,
        [("policyText", Some(Value::String(policy_text)))],
    )
}

fn delete_policy() -> Mutation {
    Mutation::new(DELETE_POLICY, [])
}

/// Current policies by region (`None`: the region has none).
pub type Policies = BTreeMap<String, Option<String>>;

/// Plans an INSERT of statements: each is added to its region's policy; a sid already there is
/// an error unless `on_conflict` says to skip it or to update the named columns.
pub fn plan_statement_insert(
    rows: &[NewStatement],
    current: &Policies,
    on_conflict: Option<&OnConflict>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    let mut regions: BTreeMap<&str, Vec<&NewStatement>> = BTreeMap::new();
    for r in rows {
        regions.entry(&r.region).or_default().push(r);
    }
    for (region, rows) in regions {
        let text = current.get(region).cloned().flatten();
        let doc = document(region, text.as_deref())?;
        let mut list = statements(&doc);
        let mut changed = false;
        for r in &rows {
            let sid = r.statement.sid.as_deref().unwrap_or_default();
            let Some(at) = list.iter().position(|s| sid_of(s) == Some(sid)) else {
                list.push(statement_of(&r.statement));
                plan.created += 1;
                changed = true;
                continue;
            };
            match on_conflict {
                None => {
                    return Err(Error::Usage(format!(
                        "row {}: sid '{sid}' already exists in {region}'s registry policy: choose another sid, \
                         add ON CONFLICT DO NOTHING (keep it) or ON CONFLICT DO UPDATE SET <column> = EXCLUDED.<column> \
                         (change it), or UPDATE it; nothing was sent",
                        r.row
                    )));
                }
                Some(OnConflict::DoNothing) => plan.unchanged += 1,
                Some(OnConflict::DoUpdate(columns)) => {
                    let mut merged = row_of(&list[at]);
                    for c in columns {
                        take_column(&mut merged, &r.statement, c);
                    }
                    let new = statement_of(&merged);
                    if new == list[at] {
                        plan.unchanged += 1;
                    } else {
                        list[at] = new;
                        plan.updated += 1;
                        changed = true;
                    }
                }
            }
        }
        if changed {
            plan.calls
                .push(put(region, &doc, list, single_row(rows_of(&rows)))?);
        }
    }
    Ok(plan)
}

/// Plans an UPDATE of statements: `changes` replaces statements by their position in each
/// region's current policy.
pub fn plan_statement_update(
    current: &BTreeMap<String, String>,
    changes: &BTreeMap<String, Vec<(usize, StatementRow)>>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    for (region, changes) in changes {
        let doc = document(region, current.get(region).map(String::as_str))?;
        let mut list = statements(&doc);
        let mut changed = false;
        for (at, row) in changes {
            let new = statement_of(row);
            match list.get_mut(*at) {
                Some(old) if *old == new => plan.unchanged += 1,
                Some(old) => {
                    *old = new;
                    plan.updated += 1;
                    changed = true;
                }
                None => {
                    return Err(Error::Runtime(format!(
                        "{region}: statement {at} is no longer in the registry policy"
                    )));
                }
            }
        }
        if changed {
            plan.calls.push(put(region, &doc, list, None)?);
        }
    }
    Ok(plan)
}

/// Plans a DELETE of statements by their position in each region's current policy; a policy
/// left with no statement is deleted (ECR refuses an empty policy).
pub fn plan_statement_delete(
    current: &BTreeMap<String, String>,
    remove: &BTreeMap<String, BTreeSet<usize>>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    for (region, positions) in remove {
        if positions.is_empty() {
            continue;
        }
        let doc = document(region, current.get(region).map(String::as_str))?;
        let list: Vec<Value> = statements(&doc)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !positions.contains(i))
            .map(|(_, s)| s)
            .collect();
        plan.deleted += positions.len();
        plan.calls.push(if list.is_empty() {
            ApiCall {
                region: region.clone(),
                mutation: delete_policy(),
                row: None,
            }
        } else {
            put(region, &doc, list, None)?
        });
    }
    Ok(plan)
}

/// A whole policy an INSERT or UPDATE asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPolicy {
    /// The 1-based row (INSERT), if any.
    pub row: Option<usize>,
    /// The region.
    pub region: String,
    /// The document (checked).
    pub policy_text: String,
}

/// Plans INSERT (`insert` true) or UPDATE of whole policies. INSERT into a region that has a
/// policy is an error unless `on_conflict` decides; a document equal to the current one (as
/// JSON) makes no call.
pub fn plan_policy_put(
    rows: &[NewPolicy],
    current: &Policies,
    insert: bool,
    on_conflict: Option<&OnConflict>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    let mut seen = BTreeSet::new();
    for r in rows {
        if !seen.insert(&r.region) {
            return Err(Error::Usage(format!(
                "{}two rows set {}'s registry policy: a region has one policy; nothing was sent",
                r.row.map(|n| format!("row {n}: ")).unwrap_or_default(),
                r.region
            )));
        }
        let existing = current.get(&r.region).cloned().flatten();
        match (&existing, insert, on_conflict) {
            (Some(_), true, None) => {
                return Err(Error::Usage(format!(
                    "{}{} already has a registry policy: UPDATE aws.ecr.registry_policy, add ON CONFLICT DO UPDATE SET \
                     policy_text = EXCLUDED.policy_text, or change it statement by statement in \
                     aws.ecr.registry_policy_statements; nothing was sent",
                    r.row.map(|n| format!("row {n}: ")).unwrap_or_default(),
                    r.region
                )));
            }
            (Some(_), true, Some(OnConflict::DoNothing)) => plan.unchanged += 1,
            (Some(old), ..) if same_json(old, &r.policy_text) => plan.unchanged += 1,
            (old, ..) => {
                if old.is_some() {
                    plan.updated += 1;
                } else {
                    plan.created += 1;
                }
                plan.calls.push(ApiCall {
                    region: r.region.clone(),
                    mutation: put_policy(r.policy_text.clone()),
                    row: r.row,
                });
            }
        }
    }
    Ok(plan)
}

/// Plans a DELETE of whole policies in `regions` (those that have one).
pub fn plan_policy_delete(regions: &[String]) -> CallPlan {
    CallPlan {
        calls: regions
            .iter()
            .map(|region| ApiCall {
                region: region.clone(),
                mutation: delete_policy(),
                row: None,
            })
            .collect(),
        deleted: regions.len(),
        ..CallPlan::default()
    }
}

fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn document(region: &str, text: Option<&str>) -> Result<Value> {
    match text {
        None => Ok(empty_document()),
        Some(t) => parse(t).map_err(|e| {
            Error::Runtime(format!(
                "{region}: the current registry policy cannot be read ({e}); fix it with aws.ecr.registry_policy"
            ))
        }),
    }
}

fn put(region: &str, doc: &Value, list: Vec<Value>, row: Option<usize>) -> Result<ApiCall> {
    let policy_text = with_statements(doc, list);
    check_size(&policy_text).map_err(|e| {
        Error::Usage(format!(
            "{region}: with these changes {e}; nothing was sent"
        ))
    })?;
    Ok(ApiCall {
        region: region.to_string(),
        mutation: put_policy(policy_text),
        row,
    })
}

fn rows_of<'a>(rows: &'a [&'a NewStatement]) -> impl Iterator<Item = usize> + 'a {
    rows.iter().map(|r| r.row)
}

/// The row a call comes from, when it comes from exactly one.
fn single_row(mut rows: impl Iterator<Item = usize>) -> Option<usize> {
    let first = rows.next()?;
    rows.next().is_none().then_some(first)
}

/// Copies one column of `from` into `into` (ON CONFLICT DO UPDATE SET c = EXCLUDED.c).
fn take_column(into: &mut StatementRow, from: &StatementRow, column: &str) {
    match column {
        "effect" => into.effect = from.effect.clone(),
        "principals" => into.principals = from.principals.clone(),
        "actions" => into.actions = from.actions.clone(),
        "resources" => into.resources = from.resources.clone(),
        "conditions" => into.conditions = from.conditions.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sid: &str, action: &str) -> StatementRow {
        StatementRow {
            sid: Some(sid.into()),
            effect: Some("Allow".into()),
            principals: vec!["arn:aws:iam::111122223333:role/ci".into()],
            actions: vec![action.into()],
            resources: vec!["*".into()],
            conditions: None,
        }
    }

    fn new(row: usize, sid: &str, action: &str) -> NewStatement {
        NewStatement {
            row,
            region: "us-east-1".into(),
            statement: stmt(sid, action),
        }
    }

    fn policy_with(sids: &[(&str, &str)]) -> String {
        let list = sids
            .iter()
            .map(|(s, a)| statement_of(&stmt(s, a)))
            .collect();
        with_statements(&empty_document(), list)
    }

    fn put_text(plan: &CallPlan) -> Value {
        let call = &plan.calls[0].mutation;
        assert_eq!(call.operation, PUT_POLICY);
        serde_json::from_str(call.text("policyText").unwrap()).unwrap()
    }

    #[test]
    fn insert_adds_to_no_policy_and_to_an_existing_one() {
        let none = Policies::from([("us-east-1".into(), None)]);
        let plan = plan_statement_insert(&[new(1, "A", "ecr:*")], &none, None).unwrap();
        assert_eq!((plan.created, plan.calls.len()), (1, 1));
        assert_eq!(plan.calls[0].row, Some(1));
        let some = Policies::from([(
            "us-east-1".into(),
            Some(policy_with(&[("Old", "ecr:GetAuthorizationToken")])),
        )]);
        let plan =
            plan_statement_insert(&[new(1, "A", "ecr:*"), new(2, "B", "ecr:*")], &some, None)
                .unwrap();
        let doc = put_text(&plan);
        let list = statements(&doc);
        let sids: Vec<&str> = list.iter().filter_map(sid_of).collect();
        assert_eq!(sids, ["Old", "A", "B"]);
        assert_eq!(plan.calls[0].row, None, "one call for two rows");
    }

    #[test]
    fn duplicate_sid_is_refused_unless_on_conflict() {
        let some = Policies::from([(
            "us-east-1".into(),
            Some(policy_with(&[("A", "ecr:GetAuthorizationToken")])),
        )]);
        let e = plan_statement_insert(&[new(3, "A", "ecr:*")], &some, None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("row 3: sid 'A' already exists"),
            "{e}"
        );
        let plan =
            plan_statement_insert(&[new(1, "A", "ecr:*")], &some, Some(&OnConflict::DoNothing))
                .unwrap();
        assert!(plan.calls.is_empty());
        assert_eq!(plan.unchanged, 1);
        let update = OnConflict::DoUpdate(vec!["actions".into()]);
        let plan = plan_statement_insert(&[new(1, "A", "ecr:*")], &some, Some(&update)).unwrap();
        assert_eq!(plan.updated, 1);
        assert_eq!(statements(&put_text(&plan))[0]["Action"], "ecr:*");
        let same = OnConflict::DoUpdate(vec!["actions".into()]);
        let plan = plan_statement_insert(
            &[new(1, "A", "ecr:GetAuthorizationToken")],
            &some,
            Some(&same),
        )
        .unwrap();
        assert_eq!((plan.unchanged, plan.calls.len()), (1, 0));
    }

    #[test]
    fn size_limit_is_checked_before_the_call() {
        let mut big = stmt("Big", "ecr:*");
        big.resources = (0..400)
            .map(|i| format!("arn:aws:ecr:us-east-1:123456789012:repository/team{i}/*"))
            .collect();
        let rows = [NewStatement {
            row: 1,
            region: "us-east-1".into(),
            statement: big,
        }];
        let e = plan_statement_insert(&rows, &Policies::new(), None).unwrap_err();
        assert!(e.to_string().contains("over ECR's limit of 10240"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn delete_removes_positions_and_the_last_deletes_the_policy() {
        let current = BTreeMap::from([(
            "us-east-1".to_string(),
            policy_with(&[("A", "ecr:*"), ("B", "ecr:*")]),
        )]);
        let one = BTreeMap::from([("us-east-1".to_string(), BTreeSet::from([0]))]);
        let plan = plan_statement_delete(&current, &one).unwrap();
        let doc = put_text(&plan);
        let list = statements(&doc);
        assert_eq!(list.iter().filter_map(sid_of).collect::<Vec<_>>(), ["B"]);
        let both = BTreeMap::from([("us-east-1".to_string(), BTreeSet::from([0, 1]))]);
        let plan = plan_statement_delete(&current, &both).unwrap();
        assert_eq!(plan.calls[0].mutation, delete_policy());
        assert_eq!(plan.deleted, 2);
    }

    #[test]
    fn update_replaces_in_place_and_skips_equal() {
        let current = BTreeMap::from([(
            "us-east-1".to_string(),
            policy_with(&[("A", "ecr:*"), ("B", "ecr:*")]),
        )]);
        let changes = BTreeMap::from([(
            "us-east-1".to_string(),
            vec![
                (0, stmt("A", "ecr:*")),
                (1, stmt("B", "ecr:DescribeRegistry")),
            ],
        )]);
        let plan = plan_statement_update(&current, &changes).unwrap();
        assert_eq!((plan.updated, plan.unchanged), (1, 1));
        assert_eq!(
            statements(&put_text(&plan))[1]["Action"],
            "ecr:DescribeRegistry"
        );
    }

    #[test]
    fn whole_policy_insert_update_and_delete() {
        let text = policy_with(&[("A", "ecr:*")]);
        let row = |region: &str| NewPolicy {
            row: Some(1),
            region: region.into(),
            policy_text: text.clone(),
        };
        let current = Policies::from([
            ("us-east-1".into(), Some(text.clone())),
            ("eu-west-1".into(), None),
        ]);
        let plan = plan_policy_put(&[row("eu-west-1")], &current, true, None).unwrap();
        assert_eq!(plan.created, 1);
        let e = plan_policy_put(&[row("us-east-1")], &current, true, None).unwrap_err();
        assert!(
            e.to_string().contains("already has a registry policy"),
            "{e}"
        );
        let plan = plan_policy_put(&[row("us-east-1")], &current, false, None).unwrap();
        assert_eq!((plan.unchanged, plan.calls.len()), (1, 0), "same document");
        let e = plan_policy_put(&[row("eu-west-1"), row("eu-west-1")], &current, true, None)
            .unwrap_err();
        assert!(e.to_string().contains("two rows"), "{e}");
        let plan = plan_policy_delete(&["us-east-1".into()]);
        assert_eq!(plan.count(), 1);
    }
}
