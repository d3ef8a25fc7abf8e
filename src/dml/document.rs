//! Pure planning of writes to a resource held as one document per region (the registry
//! policy): its items added, changed or removed, then at most one call per region writing the
//! whole document, or deleting it when no item is left.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::call_plan::CallPlan;
use super::calls::{ApiCall, Mutation};
use super::directive::OnConflict;
use crate::error::{Error, Result};
use crate::schema::Resource;

/// An item's or a document's members, by API name.
pub type Members = Map<String, Value>;

/// An item as ECR would take it, or every problem ECR would find in it.
pub type Checked = std::result::Result<Value, Vec<String>>;

/// What is specific to a document-held resource: how its document splits into items, how an
/// item is checked, and how a document is written. The engine does the rest.
pub trait Document: fmt::Debug + Send + Sync {
    /// The items of `region`'s document (`doc`: its members as read), verbatim and in order.
    fn items(&self, region: &str, doc: &Members) -> Result<Vec<Value>>;
    /// An item as the members of its row.
    fn members(&self, item: &Value) -> Result<Members>;
    /// The item a row's `members` ask for in `region`'s document, or every problem ECR would
    /// find in it.
    fn item(&self, members: &Members, region: &str) -> Checked;
    /// The item `old` becomes when the members `set` names take its values (a null: NULL), or
    /// every problem ECR would find in it, or why the change is ambiguous. By default the
    /// members of `old` with `set`'s in place, checked as a new item.
    fn changed(&self, old: &Value, set: &Members, region: &str) -> Checked {
        let mut members = self.members(old).map_err(|e| vec![e.to_string()])?;
        for (member, value) in set {
            match value {
                Value::Null => _ = members.remove(member),
                v => _ = members.insert(member.clone(), v.clone()),
            }
        }
        self.item(&members, region)
    }
    /// The problems of `set` (as for `changed`) that no current item can make right: an
    /// UPDATE's constant values are checked so before any call. By default `set`'s members
    /// checked as an item of their own (a document whose item is one member).
    fn check_change(&self, set: &Members, region: &str) -> Vec<String> {
        self.item(set, region).err().unwrap_or_default()
    }
    /// Whether two items mean the same: an unchanged item makes no call.
    fn same(&self, a: &Value, b: &Value) -> bool {
        a == b
    }
    /// The call that makes `items` the document of `region`, built on its current one (`doc`);
    /// `Err` when ECR would refuse the result.
    fn write(&self, region: &str, doc: Option<&Members>, items: Vec<Value>) -> Result<Mutation>;
}

/// A region's document as read: its members, and its items with their identifiers.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// The document's members (`None`: the region has none).
    pub doc: Option<Members>,
    /// Its items, in order, each with its identifier if it has one.
    pub items: Vec<(Option<String>, Value)>,
}

/// A checked item an INSERT row asks for.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The 1-based row.
    pub row: usize,
    /// The region whose document gets it.
    pub region: String,
    /// Its identifier, if it has one.
    pub id: Option<String>,
    /// The item.
    pub item: Value,
}

/// The identifier of an item of `region` with `members`: the region itself where it
/// identifies the table (one document, one item), else the identifier column's member.
pub fn id_of(resource: &Resource, region: &str, members: &Members) -> Option<String> {
    if resource.identified_by_region() {
        return Some(region.to_string());
    }
    let member = resource.member(&resource.doc.identifier)?;
    members.get(member)?.as_str().map(str::to_string)
}

/// Plans an INSERT: each item is added to its region's document; one whose identifier is
/// there already is an error unless `on_conflict` keeps it or updates the columns it names.
pub fn plan_insert(
    shape: &dyn Document,
    resource: &Resource,
    rows: &[Wanted],
    held: &BTreeMap<String, Held>,
    on_conflict: Option<&OnConflict>,
) -> Result<CallPlan> {
    let mut plan = CallPlan {
        plain_insert: on_conflict.is_none(),
        ..CallPlan::default()
    };
    let mut regions: BTreeMap<&str, Vec<&Wanted>> = BTreeMap::new();
    for w in rows {
        regions.entry(&w.region).or_default().push(w);
    }
    for (region, rows) in regions {
        let now = held.get(region).cloned().unwrap_or_default();
        let mut items = now.items;
        let mut changed = false;
        for w in &rows {
            let at = (w.id.as_ref())
                .and_then(|id| items.iter().position(|(i, _)| i.as_ref() == Some(id)));
            let Some(at) = at else {
                items.push((w.id.clone(), w.item.clone()));
                plan.created += 1;
                changed = true;
                continue;
            };
            let columns = match on_conflict {
                None => return Err(exists(resource, w)),
                Some(OnConflict::DoNothing) => {
                    match shape.same(&w.item, &items[at].1) {
                        true => plan.unchanged += 1,
                        false => plan
                            .skipped
                            .push(skipped(shape, resource, w, &items[at].1)?),
                    }
                    continue;
                }
                Some(OnConflict::DoUpdate(columns)) => columns,
            };
            // The row's values as its item has them (an INSERT's defaults in place): what
            // EXCLUDED holds.
            let excluded = shape.members(&w.item)?;
            let set: Members = (columns.iter().filter_map(|c| resource.member(c)))
                .map(|m| {
                    (
                        m.to_string(),
                        excluded.get(m).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect();
            let new = shape
                .changed(&items[at].1, &set, region)
                .map_err(|problems| {
                    Error::Usage(format!(
                        "row {}: with ON CONFLICT DO UPDATE: {}; nothing was sent",
                        w.row,
                        problems.join("; ")
                    ))
                })?;
            if shape.same(&new, &items[at].1) {
                plan.unchanged += 1;
            } else {
                items[at].1 = new;
                plan.updated += 1;
                changed = true;
            }
        }
        if changed {
            // A call tied to one row names it when it fails.
            let row = match rows.as_slice() {
                [one] => Some(one.row),
                _ => None,
            };
            plan.calls.push(write(shape, region, &now.doc, items, row)?);
        }
    }
    Ok(plan)
}

/// "sid 'A' already exists in us-east-1's registry policy" (or "us-east-1 already has a
/// registry policy"): the item row `w` asks for, which its region's document holds.
fn already(resource: &Resource, w: &Wanted) -> String {
    let (region, noun) = (&w.region, resource.document_noun());
    match resource.identified_by_region() {
        true => format!("{region} already has a {noun}"),
        false => format!(
            "{} '{}' already exists in {region}'s {noun}",
            resource.doc.identifier,
            w.id.as_deref().unwrap_or_default()
        ),
    }
}

/// What `ON CONFLICT DO NOTHING` leaves as it is although it differs from row `w`: the
/// existing item and the columns whose members differ, so drift stays visible.
fn skipped(shape: &dyn Document, resource: &Resource, w: &Wanted, held: &Value) -> Result<String> {
    let held = shape.members(held)?;
    let wanted = shape.members(&w.item)?;
    // A member given as null is one not given.
    let get = |members: &'_ Members, m: &str| members.get(m).filter(|v| !v.is_null()).cloned();
    let differ: Vec<&str> = (resource.columns.iter())
        .filter(|c| {
            resource
                .member(&c.name)
                .is_some_and(|m| get(&wanted, m) != get(&held, m))
        })
        .map(|c| c.name.as_str())
        .collect();
    let what = match differ.is_empty() {
        true => "other values".to_string(),
        false => format!("other {}", differ.join(", ")),
    };
    Ok(format!(
        "row {}: {}, with {what}",
        w.row,
        already(resource, w)
    ))
}

/// The refusal of an INSERT whose item exists, with the ways to say what is meant.
fn exists(resource: &Resource, w: &Wanted) -> Error {
    let what = already(resource, w);
    let sets: Vec<String> = (resource.columns.iter().filter(|c| c.updatable))
        .map(|c| format!("{0} = EXCLUDED.{0}", c.name))
        .collect();
    Error::Usage(format!(
        "row {}: {what}: add ON CONFLICT DO NOTHING (keep it) or ON CONFLICT DO UPDATE SET {} \
         (change it), or UPDATE {}; nothing was sent",
        w.row,
        sets.join(", "),
        resource.qualified_name("aws")
    ))
}

/// Plans an UPDATE: `changes` replaces items by their position in each region's document.
pub fn plan_update(
    shape: &dyn Document,
    held: &BTreeMap<String, Held>,
    changes: &BTreeMap<String, Vec<(usize, Value)>>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    for (region, changes) in changes {
        let now = held.get(region).cloned().unwrap_or_default();
        let mut items = now.items;
        let mut changed = false;
        for (at, new) in changes {
            let Some((_, old)) = items.get_mut(*at) else {
                return Err(Error::Runtime(format!(
                    "{region}: item {at} is no longer in its document"
                )));
            };
            if shape.same(old, new) {
                plan.unchanged += 1;
            } else {
                *old = new.clone();
                plan.updated += 1;
                changed = true;
            }
        }
        if changed {
            plan.calls
                .push(write(shape, region, &now.doc, items, None)?);
        }
    }
    Ok(plan)
}

/// Plans a DELETE of the items at `remove`'s positions; a document left with none is deleted.
pub fn plan_delete(
    shape: &dyn Document,
    held: &BTreeMap<String, Held>,
    remove: &BTreeMap<String, BTreeSet<usize>>,
) -> Result<CallPlan> {
    let mut plan = CallPlan::default();
    for (region, positions) in remove.iter().filter(|(_, p)| !p.is_empty()) {
        let now = held.get(region).cloned().unwrap_or_default();
        let items = (now.items.into_iter().enumerate())
            .filter(|(i, _)| !positions.contains(i))
            .map(|(_, item)| item)
            .collect();
        plan.deleted += positions.len();
        plan.calls
            .push(write(shape, region, &now.doc, items, None)?);
    }
    Ok(plan)
}

/// The call writing `items` as `region`'s document.
fn write(
    shape: &dyn Document,
    region: &str,
    doc: &Option<Members>,
    items: Vec<(Option<String>, Value)>,
    row: Option<usize>,
) -> Result<ApiCall> {
    let items = items.into_iter().map(|(_, item)| item).collect();
    Ok(ApiCall {
        region: region.to_string(),
        mutation: shape.write(region, doc.as_ref(), items)?,
        row,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::schemas;

    /// A document of named strings, `{"Items": [{"Sid": "a", "V": "x"}]}`: the planner's
    /// bookkeeping without the policy language.
    #[derive(Debug)]
    struct Named;

    impl Document for Named {
        fn items(&self, _region: &str, doc: &Members) -> Result<Vec<Value>> {
            Ok(doc["Items"].as_array().cloned().unwrap_or_default())
        }
        fn members(&self, item: &Value) -> Result<Members> {
            Ok(item.as_object().cloned().unwrap_or_default())
        }
        fn item(&self, members: &Members, _region: &str) -> Checked {
            match members.get("Sid") {
                Some(_) => Ok(Value::Object(members.clone())),
                None => Err(vec!["sid is required".into()]),
            }
        }
        fn write(
            &self,
            _region: &str,
            doc: Option<&Members>,
            items: Vec<Value>,
        ) -> Result<Mutation> {
            let kept = doc.and_then(|d| d.get("Other")).cloned();
            Ok(Mutation::new(
                "Put",
                [("Items", Some(json!(items))), ("Other", kept)],
            ))
        }
    }

    fn item(sid: &str, v: &str) -> Value {
        json!({"Sid": sid, "Action": [v]})
    }

    fn held(items: &[Value]) -> BTreeMap<String, Held> {
        let doc = json!({"Items": items, "Other": "kept"})
            .as_object()
            .cloned();
        let items = (items.iter()).map(|i| (i["Sid"].as_str().map(str::to_string), i.clone()));
        BTreeMap::from([(
            "r".into(),
            Held {
                doc,
                items: items.collect(),
            },
        )])
    }

    fn wanted(row: usize, sid: &str, v: &str) -> Wanted {
        Wanted {
            row,
            region: "r".into(),
            id: Some(sid.into()),
            item: item(sid, v),
        }
    }

    #[test]
    fn one_call_per_document_keeps_what_the_items_are_not() {
        let statements = schemas()
            .resource("ecr", "registry_policy_statements")
            .unwrap();
        let now = held(&[item("a", "x"), item("b", "x")]);
        let rows = [wanted(1, "c", "x"), wanted(2, "a", "y")];
        let update = OnConflict::DoUpdate(vec!["actions".into()]);
        let plan = plan_insert(&Named, statements, &rows, &now, Some(&update)).unwrap();
        assert_eq!((plan.created, plan.updated, plan.calls.len()), (1, 1, 1));
        let sent = &plan.calls[0].mutation.params;
        assert_eq!(
            sent["Items"],
            json!([item("a", "y"), item("b", "x"), item("c", "x")])
        );
        assert_eq!(
            sent["Other"], "kept",
            "the document's other members are kept"
        );
        assert_eq!(plan.calls[0].row, None, "two rows, one call");

        let e = plan_insert(&Named, statements, &rows, &now, None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("row 2: sid 'a' already exists in r's registry policy"),
            "{e}"
        );

        let changes = BTreeMap::from([("r".into(), vec![(1, item("b", "x"))])]);
        let plan = plan_update(&Named, &now, &changes).unwrap();
        assert_eq!((plan.unchanged, plan.calls.len()), (1, 0), "the same item");
        let gone = BTreeMap::from([("r".into(), BTreeSet::from([0, 1]))]);
        let plan = plan_delete(&Named, &now, &gone).unwrap();
        assert_eq!(
            (plan.deleted, &plan.calls[0].mutation.params["Items"]),
            (2, &json!([]))
        );
    }
}
