//! Deletes through a batch operation (images through BatchDeleteImage): the items read are
//! grouped by the columns a call shares and sent in chunks of the operation's maximum, and an
//! item the answer lists as failed fails the call, naming it (one already gone is done).

use async_trait::async_trait;
use serde_json::Value;

use super::records::Row;
use crate::aws::EcrClients;
use crate::aws::mutate::Sender;
use crate::aws::wire_call::{Members, send_wire};
use crate::dml::{ApiCall, Mutation};
use crate::engine::pushdown::REGION_COLUMN;
use crate::error::{Error, Result};
use crate::schema::{Batch, Resource, Verb};

/// The batch calls that delete `rows`, in the order the rows were read.
pub fn batch_calls(resource: &Resource, batch: &Batch, rows: &[Row]) -> Vec<ApiCall> {
    let text = |row: &Row, column: &str| row.get(column).cloned().unwrap_or(Value::Null);
    // Groups in the order their first row comes, each with its identifiers.
    let mut groups: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    for row in rows {
        let key: Vec<Value> = std::iter::once(REGION_COLUMN)
            .chain(batch.by.iter().map(String::as_str))
            .map(|c| text(row, c))
            .collect();
        let id = text(row, &resource.doc.identifier);
        let id = match &batch.within {
            Some(member) => Value::Object(Members::from_iter([(member.clone(), id)])),
            None => id,
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((key, vec![id])),
        }
    }
    let operation = resource.operation(Verb::Delete);
    let mut calls = Vec::new();
    for (key, ids) in groups {
        for chunk in ids.chunks(batch.max.max(1)) {
            let shared = batch.by.iter().zip(&key[1..]);
            let members = shared
                .filter_map(|(c, v)| Some((resource.member(c)?, Some(v.clone()))))
                .chain([(batch.member.as_str(), Some(Value::Array(chunk.to_vec())))]);
            calls.push(ApiCall {
                region: key[0].as_str().unwrap_or_default().to_string(),
                mutation: Mutation::new(operation, members),
                row: None,
            });
        }
    }
    calls
}

/// Sends batch calls, failing one whose answer lists an item it could not delete.
#[derive(Debug)]
pub struct BatchSender {
    /// The resource's batch.
    pub batch: Batch,
}

#[async_trait]
impl Sender for BatchSender {
    async fn send(&self, clients: &EcrClients, call: &ApiCall) -> Result<()> {
        let answer = send_wire(clients, call).await?;
        match failed_items(&self.batch, &answer) {
            None => Ok(()),
            Some(why) => Err(Error::Runtime(why)),
        }
    }
}

/// What of a batch answer failed, item by item, leaving out the items already gone.
fn failed_items(batch: &Batch, answer: &Members) -> Option<String> {
    let failures = answer.get(&batch.failures)?.as_array()?;
    let failed: Vec<String> = failures
        .iter()
        .filter(|f| {
            let code = f.get("failureCode").and_then(Value::as_str);
            code.is_none() || code != batch.gone.as_deref()
        })
        .map(|f| {
            let code = f.get("failureCode").and_then(Value::as_str).unwrap_or("?");
            let reason = f.get("failureReason").and_then(Value::as_str);
            let item = f
                .as_object()
                .and_then(|o| o.values().find(|v| v.is_object()));
            let item = item.map_or_else(|| "an item".into(), Value::to_string);
            format!("{item}: {code} ({})", reason.unwrap_or("no reason given"))
        })
        .collect();
    (!failed.is_empty()).then(|| {
        format!(
            "{} item(s) of this call were not deleted (the others were): {}",
            failed.len(),
            failed.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;
    use serde_json::json;

    fn image(region: &str, repository: &str, digest: &str) -> Row {
        json!({"region": region, "repository_name": repository, "image_digest": digest})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn images_are_deleted_per_region_and_repository_in_chunks_of_the_maximum() {
        let images = schemas().resource("ecr", "images").unwrap();
        let batch = images.method(Verb::Delete).unwrap().batch.clone().unwrap();
        let mut rows: Vec<Row> = (0..150)
            .map(|i| image("us-east-1", "quay/a", &format!("sha256:{i:02x}")))
            .collect();
        rows.insert(1, image("eu-west-1", "quay/a", "sha256:ff"));
        rows.push(image("us-east-1", "quay/b", "sha256:aa"));
        let calls = batch_calls(images, &batch, &rows);
        let shape: Vec<(&str, &str, usize)> = calls
            .iter()
            .map(|c| {
                let p = &c.mutation.params;
                let ids = p["imageIds"].as_array().unwrap().len();
                (
                    c.region.as_str(),
                    p["repositoryName"].as_str().unwrap(),
                    ids,
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("us-east-1", "quay/a", 100),
                ("us-east-1", "quay/a", 50),
                ("eu-west-1", "quay/a", 1),
                ("us-east-1", "quay/b", 1)
            ]
        );
        assert_eq!(calls[0].mutation.operation, "BatchDeleteImage");
        assert_eq!(
            calls[2].mutation.params["imageIds"],
            json!([{"imageDigest": "sha256:ff"}])
        );
    }

    #[test]
    fn an_item_already_gone_is_done_and_any_other_failure_is_named() {
        let images = schemas().resource("ecr", "images").unwrap();
        let batch = images.method(Verb::Delete).unwrap().batch.clone().unwrap();
        let gone = json!({"failures": [{"imageId": {"imageDigest": "sha256:aa"},
            "failureCode": "ImageNotFound", "failureReason": "Requested image not found"}]});
        assert_eq!(failed_items(&batch, gone.as_object().unwrap()), None);
        let bad = json!({"imageIds": [], "failures": [
            {"imageId": {"imageDigest": "sha256:bb"}, "failureCode": "ImageReferencedByManifestList",
             "failureReason": "in use"}]});
        let why = failed_items(&batch, bad.as_object().unwrap()).unwrap();
        assert!(
            why.starts_with("1 item(s) of this call were not deleted"),
            "{why}"
        );
        assert!(
            why.contains(r#"{"imageDigest":"sha256:bb"}: ImageReferencedByManifestList (in use)"#),
            "{why}"
        );
    }
}
