//! The one listing of every resource, read from its SELECT method in provider-schemas: the
//! page loop (token and page-size members), pinned identifiers sent in chunks of the API's
//! maximum, the resource's `not_found` answer for a missing identifier, and the items of a
//! child table listed under each of its parents.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::lazy::FETCH_IN_FLIGHT;
use crate::aws::EcrClients;
use crate::aws::wire_call::{Members, is_code};
use crate::engine::request::ScanRequest;
use crate::error::{Error, Result};
use crate::schema::{Listing, Missing, Resource, Source, Verb, schemas};

/// The items of `resource` in `region` that `request` asks for, as the API's members, in
/// listing order.
pub fn list_items<'a>(
    clients: &'a EcrClients,
    resource: &'static Resource,
    region: &'a str,
    request: &'a ScanRequest,
) -> BoxFuture<'a, Result<Vec<Members>>> {
    Box::pin(async move {
        let listing = resource.listing().ok_or_else(|| {
            Error::Runtime(format!(
                "{}: the SELECT method has no `list`, and no module reads the table",
                resource.path
            ))
        })?;
        let Some(parent) = &listing.parent else {
            return list_under(clients, resource, listing, region, request, &listing.sends).await;
        };
        let keys: Vec<String> = match &request.parents {
            Some(pinned) => pinned.iter().cloned().collect(),
            None => parent_keys(clients, resource, region, &parent.table, &parent.column).await?,
        };
        let keys = keys.into_iter().filter(|k| request.keeps_parent(k));
        // Each parent's items, a few parents in flight at a time, in the parents' order. (The
        // futures are made first: a closure in the stream would make its Send bound
        // higher-ranked, which the boxed future cannot prove.)
        let calls: Vec<_> = keys
            .map(|key| under_parent(clients, resource, listing, region, request, key))
            .collect();
        let lists: Vec<Vec<Members>> = futures::stream::iter(calls)
            .buffered(FETCH_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(lists.into_iter().flatten().collect())
    })
}

/// The items listed under the parent `key`, each holding the key (a failure names the parent).
async fn under_parent(
    clients: &EcrClients,
    resource: &Resource,
    listing: &Listing,
    region: &str,
    request: &ScanRequest,
    key: String,
) -> Result<Vec<Members>> {
    let parent = listing.parent.as_ref().expect("a child table's listing");
    let mut body = listing.sends.clone();
    body.insert(parent.member.clone(), Value::from(key.as_str()));
    let parent_table = schemas().resource(&resource.doc.service, &parent.table);
    let mut items = match list_under(clients, resource, listing, region, request, &body).await {
        Ok(items) => items,
        // A parent that does not exist (pinned by the statement, or gone since it was listed)
        // has no children.
        Err(e) if parent_table.is_some_and(|t| is_code(&e, t.doc.not_found.as_deref())) => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.within(&format!("{} '{key}'", parent_noun(resource)))),
    };
    for item in &mut items {
        (item.entry(parent.member.clone())).or_insert_with(|| Value::from(key.as_str()));
    }
    Ok(items)
}

/// What a child table's parent item is called in messages (`repository`).
fn parent_noun(resource: &Resource) -> String {
    let parent = resource.listing().and_then(|l| l.parent.as_ref());
    let table = parent.and_then(|p| schemas().resource(&resource.doc.service, &p.table));
    table.map_or_else(|| "parent".into(), |t| t.noun().to_string())
}

/// The keys of every parent item in `region` (a child table whose parent is not pinned).
async fn parent_keys(
    clients: &EcrClients,
    resource: &Resource,
    region: &str,
    table: &str,
    column: &str,
) -> Result<Vec<String>> {
    let parent = schemas()
        .resource(&resource.doc.service, table)
        .ok_or_else(|| Error::Runtime(format!("{}: no parent table {table}", resource.path)))?;
    let member = match parent.column(column).map(|c| &c.source) {
        Some(Source::Field(m)) => m.clone(),
        _ => {
            return Err(Error::Runtime(format!(
                "{}: the parent {table} has no column {column}",
                resource.path
            )));
        }
    };
    let items = list_items(clients, parent, region, &ScanRequest::default()).await?;
    Ok(items
        .iter()
        .filter_map(|i| member_at(i, &member)?.as_str().map(str::to_string))
        .collect())
}

/// The items of one listing (one parent's, for a child table) with `body`'s members sent.
async fn list_under(
    clients: &EcrClients,
    resource: &Resource,
    listing: &Listing,
    region: &str,
    request: &ScanRequest,
    body: &Members,
) -> Result<Vec<Members>> {
    let (Some(ids), Some(sent)) = (&request.identifiers, &listing.identifiers) else {
        return pages(
            clients,
            resource,
            region,
            body,
            request.page_size,
            request.limit,
        )
        .await;
    };
    let ids: Vec<&String> = ids.iter().collect();
    let mut items = Vec::new();
    for chunk in ids.chunks(sent.max.max(1)) {
        match by_identifiers(clients, resource, region, body, chunk).await {
            Ok(found) => items.extend(found),
            Err(e) if is_code(&e, resource.doc.not_found.as_deref()) && chunk.len() > 1 => {
                items.extend(match sent.missing {
                    Missing::Each => {
                        let calls: Vec<_> = (chunk.iter())
                            .map(|id| one_identifier(clients, resource, region, body, id))
                            .collect();
                        let found: Vec<Vec<Members>> = futures::stream::iter(calls)
                            .buffered(FETCH_IN_FLIGHT)
                            .try_collect()
                            .await?;
                        found.into_iter().flatten().collect()
                    }
                    Missing::List => {
                        let all = pages(clients, resource, region, body, None, None).await?;
                        keep_identifiers(resource, all, chunk)
                    }
                });
            }
            Err(e) => items.extend(missing_is_none(resource, e)?),
        }
    }
    Ok(items)
}

/// The item of one identifier: none when the resource's `not_found` code answers.
async fn one_identifier(
    clients: &EcrClients,
    resource: &Resource,
    region: &str,
    body: &Members,
    id: &String,
) -> Result<Vec<Members>> {
    match by_identifiers(clients, resource, region, body, &[id]).await {
        Ok(items) => Ok(items),
        Err(e) => missing_is_none(resource, e),
    }
}

/// A call for identifiers answered with the resource's `not_found` code: none of them exists.
fn missing_is_none(resource: &Resource, e: Error) -> Result<Vec<Members>> {
    match is_code(&e, resource.doc.not_found.as_deref()) {
        true => Ok(Vec::new()),
        false => Err(e),
    }
}

/// The items of the identifiers `ids` (one chunk), every page the answer has.
async fn by_identifiers(
    clients: &EcrClients,
    resource: &Resource,
    region: &str,
    body: &Members,
    ids: &[&String],
) -> Result<Vec<Members>> {
    let sent = (resource.listing().and_then(|l| l.identifiers.as_ref()))
        .expect("called for a listing that takes identifiers");
    let values: Vec<Value> = ids
        .iter()
        .map(|id| match &sent.within {
            Some(member) => {
                Value::Object(Members::from_iter([(member.clone(), id.as_str().into())]))
            }
            None => Value::from(id.as_str()),
        })
        .collect();
    let mut body = body.clone();
    body.insert(sent.member.clone(), Value::Array(values));
    pages(clients, resource, region, &body, None, None).await
}

/// Of `items`, the ones whose identifier is one of `ids` (in the identifier's one spelling).
fn keep_identifiers(resource: &Resource, items: Vec<Members>, ids: &[&String]) -> Vec<Members> {
    let id = &resource.doc.identifier;
    let Some(member) = resource.member(id) else {
        return items;
    };
    let wanted: BTreeSet<&str> = ids.iter().map(|i| resource.canonical(id, i)).collect();
    items
        .into_iter()
        .filter(|item| {
            let held = member_at(item, member).and_then(Value::as_str);
            held.is_some_and(|h| wanted.contains(resource.canonical(id, h)))
        })
        .collect()
}

/// Every page of the listing operation with `body`, stopping once `limit` items are in hand
/// (and while a token comes back, even after an empty page). The page size is sent only when
/// given, and the token only when the answer gave one.
async fn pages(
    clients: &EcrClients,
    resource: &Resource,
    region: &str,
    body: &Members,
    size: Option<i32>,
    limit: Option<usize>,
) -> Result<Vec<Members>> {
    let listing = resource.listing().expect("a listed resource");
    let operation = resource.operation(Verb::Select);
    let mut items = Vec::new();
    let mut token: Option<Value> = None;
    loop {
        let mut call = body.clone();
        if let Some(page) = &listing.page {
            if let Some(n) = size {
                call.insert(page.size.clone(), n.into());
            }
            if let Some(t) = token.take() {
                call.insert(page.token.clone(), t);
            }
        }
        let Some(items_member) = &listing.items else {
            return Ok(vec![
                one_item(clients, listing, operation, region, &call).await?,
            ]);
        };
        let mut answer = clients.call(region, operation, &call).await?;
        let common: Vec<(String, Value)> = (listing.answer_members.iter())
            .filter_map(|m| Some((m.clone(), answer.get(m)?.clone())))
            .collect();
        if let Some(Value::Array(page)) = answer.remove(items_member) {
            for item in page {
                let Value::Object(mut item) = item else {
                    return Err(Error::Runtime(format!(
                        "{operation} answered an item of {items_member} that is not an object"
                    )));
                };
                for (m, v) in &common {
                    item.entry(m.clone()).or_insert_with(|| v.clone());
                }
                items.push(item);
            }
        }
        token = (listing.page.as_ref())
            .and_then(|p| answer.remove(&p.token))
            .filter(|t| !t.is_null());
        if token.is_none() || limit.is_some_and(|n| items.len() >= n) {
            return Ok(items);
        }
    }
}

/// A region's one item: the listing operation's answer with the answers of its `merges`
/// merged in, every call made at the same time.
async fn one_item(
    clients: &EcrClients,
    listing: &Listing,
    operation: &str,
    region: &str,
    body: &Members,
) -> Result<Members> {
    let empty = Members::new();
    let calls = std::iter::once(clients.call(region, operation, body))
        .chain((listing.merges.iter()).map(|op| clients.call(region, op, &empty)));
    let mut item = Members::new();
    for answer in futures::future::try_join_all(calls).await? {
        for (member, value) in answer {
            item.entry(member).or_insert(value);
        }
    }
    Ok(item)
}

/// The member at `path` (`imageScanningConfiguration.scanOnPush`: a member inside a
/// structure) of an item.
pub fn member_at<'a>(item: &'a Members, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = item.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_member_inside_a_structure_is_found_by_its_path() {
        let item = json!({"imageScanningConfiguration": {"scanOnPush": true}, "name": "a"});
        let item = item.as_object().unwrap();
        assert_eq!(
            member_at(item, "imageScanningConfiguration.scanOnPush"),
            Some(&json!(true))
        );
        assert_eq!(member_at(item, "name"), Some(&json!("a")));
        assert_eq!(member_at(item, "imageScanningConfiguration.other"), None);
        assert_eq!(member_at(item, "name.deeper"), None);
    }

    #[test]
    fn identifiers_kept_in_their_one_spelling() {
        let rules = schemas()
            .resource("ecr", "pull_through_cache_rules")
            .unwrap();
        let items: Vec<Members> = ["team/", "other", "x"]
            .iter()
            .map(|p| {
                json!({"ecrRepositoryPrefix": p})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect();
        let (team, x) = ("team".to_string(), "x/".to_string());
        let kept = keep_identifiers(rules, items, &[&team, &x]);
        let kept: Vec<_> = kept
            .iter()
            .map(|i| i["ecrRepositoryPrefix"].clone())
            .collect();
        assert_eq!(kept, [json!("team/"), json!("x")]);
    }
}
