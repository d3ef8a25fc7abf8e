//! The registry policy tables on the document engine: each region's policy (GetRegistryPolicy)
//! is one document, shown whole (`aws.ecr.registry_policy`, one item) or one row per statement
//! (`aws.ecr.registry_policy_statements`); every write puts the whole document.

use std::sync::Arc;

use serde_json::Value;

use crate::dml::Mutation;
use crate::dml::document::{Checked, Document, Members};
use crate::engine::document_reader::DocumentReader;
use crate::engine::document_writer::DocumentWriter;
use crate::engine::module::ResourceModule;
use crate::error::{Error, Result};
use crate::iam::policy::{
    StatementRow, changed_statement, check_change, check_document, check_row, check_size,
    empty_document, parse, row_of, statement_of, statements, with_statements,
};
use crate::schema::Resource;

/// The policy document's member.
const TEXT: &str = "policyText";

/// The whole policy of a region: its one item is the document's text, as written.
#[derive(Debug)]
struct WholePolicy;

/// A region's policy as its statements: each kept verbatim unless a statement changes it.
#[derive(Debug)]
struct PolicyStatements;

impl Document for WholePolicy {
    fn items(&self, _region: &str, doc: &Members) -> Result<Vec<Value>> {
        Ok(doc.get(TEXT).cloned().into_iter().collect())
    }

    fn members(&self, item: &Value) -> Result<Members> {
        Ok(Members::from_iter([(TEXT.to_string(), item.clone())]))
    }

    fn item(&self, members: &Members, region: &str) -> Checked {
        let Some(text) = members.get(TEXT).and_then(Value::as_str) else {
            return Err(vec!["policy_text is required".into()]);
        };
        let problems = check_document(text, region);
        match problems.is_empty() {
            true => Ok(text.into()),
            false => Err(problems
                .iter()
                .map(|p| format!("policy_text: {p}"))
                .collect()),
        }
    }

    fn same(&self, a: &Value, b: &Value) -> bool {
        // The same document written with other spacing is no change.
        let json = |v: &Value| {
            v.as_str()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
        };
        a == b || json(a).is_some_and(|a| Some(a) == json(b))
    }

    fn write(&self, _region: &str, _doc: Option<&Members>, items: Vec<Value>) -> Result<Mutation> {
        Ok(match items.into_iter().next() {
            Some(text) => put(text),
            None => delete(),
        })
    }
}

impl Document for PolicyStatements {
    fn items(&self, region: &str, doc: &Members) -> Result<Vec<Value>> {
        Ok(statements(&document(region, Some(doc))?))
    }

    fn members(&self, item: &Value) -> Result<Members> {
        match serde_json::to_value(row_of(item)) {
            Ok(Value::Object(members)) => Ok(members),
            other => Err(Error::Runtime(format!("a statement as a row: {other:?}"))),
        }
    }

    fn item(&self, members: &Members, region: &str) -> Checked {
        let row: StatementRow = serde_json::from_value(Value::Object(members.clone()))
            .map_err(|e| vec![format!("not a statement: {e}")])?;
        let mut problems = check_row(&row, region);
        let statement = statement_of(&row);
        // Over the limit on its own, it is over it whatever the policy holds.
        let alone = with_statements(&empty_document(), vec![statement.clone()]);
        if let Err(e) = check_size(&alone) {
            problems.push(format!("statement {e}"));
        }
        problems.is_empty().then_some(statement).ok_or(problems)
    }

    fn changed(&self, old: &Value, set: &Members, region: &str) -> Checked {
        // Only the members named change: a NotPrincipal, an unknown member, a principal
        // written as one string all stay as they are.
        changed_statement(old, set, region)
    }

    fn check_change(&self, set: &Members, region: &str) -> Vec<String> {
        check_change(set, region)
    }

    fn write(&self, region: &str, doc: Option<&Members>, items: Vec<Value>) -> Result<Mutation> {
        if items.is_empty() {
            // ECR refuses an empty policy: the last statement's removal deletes it.
            return Ok(delete());
        }
        let text = with_statements(&document(region, doc)?, items);
        check_size(&text).map_err(|e| {
            Error::Usage(format!(
                "{region}: with these changes {e}; nothing was sent"
            ))
        })?;
        Ok(put(text.into()))
    }
}

/// A region's current document, parsed (a new one where it has none).
fn document(region: &str, doc: Option<&Members>) -> Result<Value> {
    let Some(text) = doc.and_then(|d| d.get(TEXT)).and_then(Value::as_str) else {
        return Ok(empty_document());
    };
    parse(text).map_err(|e| {
        Error::Runtime(format!(
            "{region}: the current registry policy cannot be read ({e}); fix it with aws.ecr.registry_policy"
        ))
    })
}

fn put(text: Value) -> Mutation {
    Mutation::new("PutRegistryPolicy", [(TEXT, Some(text))])
}

fn delete() -> Mutation {
    Mutation::new("DeleteRegistryPolicy", [])
}

/// The table's reader: the whole policy where the region identifies a row, else statements.
fn reader(resource: &'static Resource) -> DocumentReader {
    let shape: &'static dyn Document = match resource.identified_by_region() {
        true => &WholePolicy,
        false => &PolicyStatements,
    };
    DocumentReader { resource, shape }
}

crate::ecr_operations!(
    GetRegistryPolicy => get_registry_policy,
    PutRegistryPolicy => put_registry_policy,
    DeleteRegistryPolicy => delete_registry_policy,
);

inventory::submit! {
    ResourceModule {
        name: "registry_policy",
        reader: Some(|resource| Arc::new(reader(resource))),
        writer: Some(|resource| Arc::new(DocumentWriter { reader: reader(resource) })),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;

    use super::*;
    use crate::dml::OnConflict;
    use crate::dml::call_plan::CallPlan;
    use crate::dml::document::{Held, Wanted, id_of, plan_delete, plan_insert, plan_update};
    use crate::iam::policy::sid_of;
    use crate::schema::schemas;

    const REGION: &str = "us-east-1";

    fn table(name: &str) -> &'static Resource {
        schemas().resource("ecr", name).unwrap()
    }

    fn members(sid: &str, action: &str) -> Members {
        let row = json!({"Sid": sid, "Effect": "Allow", "Principal": ["arn:aws:iam::111122223333:role/ci"],
            "Action": [action], "Resource": ["*"]});
        row.as_object().cloned().unwrap()
    }

    fn wanted(row: usize, sid: &str, action: &str) -> Wanted {
        Wanted {
            row,
            region: REGION.into(),
            id: Some(sid.into()),
            item: PolicyStatements
                .item(&members(sid, action), REGION)
                .unwrap(),
        }
    }

    /// `REGION`'s policy with these statements, as the engine holds it once read.
    fn held_with(sids: &[(&str, &str)]) -> BTreeMap<String, Held> {
        let list = (sids.iter())
            .map(|(s, a)| PolicyStatements.item(&members(s, a), REGION).unwrap())
            .collect();
        let doc =
            Members::from_iter([(TEXT.into(), with_statements(&empty_document(), list).into())]);
        let items = PolicyStatements.items(REGION, &doc).unwrap().into_iter();
        let resource = table("registry_policy_statements");
        let items = items
            .map(|i| {
                (
                    id_of(resource, REGION, &PolicyStatements.members(&i).unwrap()),
                    i,
                )
            })
            .collect();
        BTreeMap::from([(
            REGION.into(),
            Held {
                doc: Some(doc),
                items,
            },
        )])
    }

    fn put_text(plan: &CallPlan) -> Value {
        let call = &plan.calls[0].mutation;
        assert_eq!(call.operation, "PutRegistryPolicy");
        serde_json::from_str(call.text(TEXT).unwrap()).unwrap()
    }

    fn sids(doc: &Value) -> Vec<String> {
        statements(doc)
            .iter()
            .filter_map(sid_of)
            .map(str::to_string)
            .collect()
    }

    fn insert(
        rows: &[Wanted],
        held: &BTreeMap<String, Held>,
        on: Option<&OnConflict>,
    ) -> Result<CallPlan> {
        plan_insert(
            &PolicyStatements,
            table("registry_policy_statements"),
            rows,
            held,
            on,
        )
    }

    #[test]
    fn insert_adds_to_no_policy_and_to_an_existing_one() {
        let plan = insert(&[wanted(1, "A", "ecr:*")], &BTreeMap::new(), None).unwrap();
        assert_eq!((plan.created, plan.calls.len()), (1, 1));
        assert_eq!(plan.calls[0].row, Some(1));
        assert_eq!(sids(&put_text(&plan)), ["A"]);
        let held = held_with(&[("Old", "ecr:GetAuthorizationToken")]);
        let plan = insert(
            &[wanted(1, "A", "ecr:*"), wanted(2, "B", "ecr:*")],
            &held,
            None,
        )
        .unwrap();
        assert_eq!(sids(&put_text(&plan)), ["Old", "A", "B"]);
        assert_eq!(plan.calls[0].row, None, "one call for two rows");
    }

    #[test]
    fn an_existing_sid_is_refused_unless_on_conflict() {
        let held = held_with(&[("A", "ecr:GetAuthorizationToken")]);
        let e = insert(&[wanted(3, "A", "ecr:*")], &held, None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("row 3: sid 'A' already exists in us-east-1's registry policy"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("ON CONFLICT DO UPDATE SET effect = EXCLUDED.effect, principals"),
            "{e}"
        );
        let plan = insert(
            &[wanted(1, "A", "ecr:*")],
            &held,
            Some(&OnConflict::DoNothing),
        )
        .unwrap();
        // Kept as it is, and said to differ.
        assert_eq!((plan.unchanged, plan.calls.len()), (0, 0));
        assert_eq!(
            plan.skipped,
            ["row 1: sid 'A' already exists in us-east-1's registry policy, with other actions"]
        );
        let update = OnConflict::DoUpdate(vec!["actions".into()]);
        let plan = insert(&[wanted(1, "A", "ecr:*")], &held, Some(&update)).unwrap();
        assert_eq!(plan.updated, 1);
        assert_eq!(statements(&put_text(&plan))[0]["Action"], "ecr:*");
        let plan = insert(
            &[wanted(1, "A", "ecr:GetAuthorizationToken")],
            &held,
            Some(&update),
        )
        .unwrap();
        assert_eq!(
            (plan.unchanged, plan.calls.len()),
            (1, 0),
            "the same statement"
        );
    }

    #[test]
    fn a_statement_over_the_size_limit_is_refused_alone_and_in_its_policy() {
        let resources: Vec<String> = (0..400)
            .map(|i| format!("arn:aws:ecr:us-east-1:123456789012:repository/team{i}/*"))
            .collect();
        let mut big = members("Big", "ecr:*");
        big.insert("Resource".into(), json!(resources));
        let problems = PolicyStatements.item(&big, REGION).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("over ECR's limit of 10240")),
            "{problems:?}"
        );
        // Each half fits alone; together they do not.
        let half = |sid: &str, from: usize| {
            let mut m = members(sid, "ecr:*");
            m.insert("Resource".into(), json!(resources[from..from + 130]));
            let item = PolicyStatements.item(&m, REGION).unwrap();
            Wanted {
                row: 1,
                region: REGION.into(),
                id: Some(sid.into()),
                item,
            }
        };
        let e = insert(&[half("A", 0), half("B", 130)], &BTreeMap::new(), None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("us-east-1: with these changes the policy is"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn delete_removes_positions_and_the_last_deletes_the_policy() {
        let held = held_with(&[("A", "ecr:*"), ("B", "ecr:*")]);
        let one = BTreeMap::from([(REGION.to_string(), BTreeSet::from([0]))]);
        let plan = plan_delete(&PolicyStatements, &held, &one).unwrap();
        assert_eq!(sids(&put_text(&plan)), ["B"]);
        let both = BTreeMap::from([(REGION.to_string(), BTreeSet::from([0, 1]))]);
        let plan = plan_delete(&PolicyStatements, &held, &both).unwrap();
        assert_eq!(plan.calls[0].mutation, delete());
        assert_eq!(plan.deleted, 2);
    }

    #[test]
    fn update_replaces_in_place_keeps_the_others_verbatim_and_skips_equal() {
        let mut held = held_with(&[("A", "ecr:*"), ("B", "ecr:*")]);
        // A statement no change names (here one of the negated form) is kept as it is.
        let odd = json!({"Sid": "Odd", "Effect": "Deny", "Principal": "*", "NotAction": "ecr:*"});
        held.get_mut(REGION)
            .unwrap()
            .items
            .push((Some("Odd".into()), odd.clone()));
        let same = PolicyStatements
            .item(&members("A", "ecr:*"), REGION)
            .unwrap();
        let changed = PolicyStatements
            .item(&members("B", "ecr:DescribeRegistry"), REGION)
            .unwrap();
        let changes = BTreeMap::from([(REGION.to_string(), vec![(0, same), (1, changed)])]);
        let plan = plan_update(&PolicyStatements, &held, &changes).unwrap();
        assert_eq!((plan.updated, plan.unchanged), (1, 1));
        let list = statements(&put_text(&plan));
        assert_eq!(list[1]["Action"], "ecr:DescribeRegistry");
        assert_eq!(list[2], odd);
    }

    #[test]
    fn the_whole_policy_is_one_item_sent_as_written() {
        let resource = table("registry_policy");
        let text = with_statements(
            &empty_document(),
            vec![
                PolicyStatements
                    .item(&members("A", "ecr:*"), REGION)
                    .unwrap(),
            ],
        );
        let members = Members::from_iter([(TEXT.to_string(), json!(text))]);
        let row = |region: &str| Wanted {
            row: 1,
            region: region.into(),
            id: id_of(resource, region, &members),
            item: WholePolicy.item(&members, region).unwrap(),
        };
        let doc = Members::from_iter([(TEXT.to_string(), json!(text))]);
        let items = vec![(
            Some(REGION.to_string()),
            WholePolicy.items(REGION, &doc).unwrap().remove(0),
        )];
        let held = BTreeMap::from([(
            REGION.to_string(),
            Held {
                doc: Some(doc),
                items,
            },
        )]);
        let plan = plan_insert(&WholePolicy, resource, &[row("eu-west-1")], &held, None).unwrap();
        assert_eq!(plan.created, 1);
        assert_eq!(
            plan.calls[0].mutation.text(TEXT),
            Some(text.as_str()),
            "sent as written"
        );
        let e = plan_insert(&WholePolicy, resource, &[row(REGION)], &held, None).unwrap_err();
        assert!(
            e.to_string()
                .contains("row 1: us-east-1 already has a registry policy"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("ON CONFLICT DO UPDATE SET policy_text = EXCLUDED.policy_text"),
            "{e}"
        );
        // The same document with other spacing is no change.
        let spaced: Value = serde_json::from_str::<Value>(&text).unwrap();
        let spaced = json!(serde_json::to_string_pretty(&spaced).unwrap());
        let changes = BTreeMap::from([(REGION.to_string(), vec![(0, spaced)])]);
        let plan = plan_update(&WholePolicy, &held, &changes).unwrap();
        assert_eq!((plan.unchanged, plan.calls.len()), (1, 0));
        let all = BTreeMap::from([(REGION.to_string(), BTreeSet::from([0]))]);
        let plan = plan_delete(&WholePolicy, &held, &all).unwrap();
        assert_eq!(
            (plan.deleted, plan.calls[0].mutation.clone()),
            (1, delete())
        );
    }
}
