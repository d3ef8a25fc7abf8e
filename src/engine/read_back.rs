//! Whether a create or delete whose response was lost had committed: the engine reads the item
//! back through the resource's reader and compares it with every member the call sent.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::Value;

use super::reader::reader_for;
use super::records::{Row, rows_of, without_nulls};
use crate::aws::EcrClients;
use crate::aws::mutate::ReadBack;
use crate::dml::ApiCall;
use crate::engine::request::ScanRequest;
use crate::error::Result;
use crate::schema::Resource;

/// Reads items of one resource back by identifier.
pub struct ItemReadBack(pub &'static Resource);

#[async_trait]
impl ReadBack for ItemReadBack {
    async fn is_as_asked(&self, clients: &EcrClients, call: &ApiCall) -> Result<Option<bool>> {
        let resource = self.0;
        let id_member = resource
            .member(&resource.doc.identifier)
            .unwrap_or_default();
        let Some(id) = call.mutation.owned(id_member) else {
            return Ok(None);
        };
        let request = ScanRequest {
            identifiers: Some(BTreeSet::from([id])),
            ..ScanRequest::default()
        };
        let read = reader_for(resource)
            .list(clients, &call.region, &request)
            .await?;
        Ok(Some(
            rows_of(&[read])?
                .iter()
                .any(|row| has_every_member(resource, row, call)),
        ))
    }
}

/// Whether `row` (as read) holds every member `call` sends. Members it did not send are not
/// compared: ECR fills them (a template's default encryption, a rule's inferred upstream).
fn has_every_member(resource: &Resource, row: &Row, call: &ApiCall) -> bool {
    call.mutation.params.iter().all(|(member, sent)| {
        let Some(column) = resource.column_by_member(member) else {
            return false;
        };
        let held = match (row.get(&column.name), column.nested) {
            (Some(Value::String(text)), true) => serde_json::from_str(text).map(without_nulls),
            (held, _) => Ok(held.cloned().unwrap_or(Value::Null)),
        };
        held.is_ok_and(|held| contains(&held, sent))
    })
}

/// Whether `held` holds `sent`: an object holds every member sent (ECR may add defaults
/// inside it, as `kmsKey`), any other value is equal.
fn contains(held: &Value, sent: &Value) -> bool {
    match (held, sent) {
        (Value::Object(held), Value::Object(sent)) => sent
            .iter()
            .all(|(k, v)| held.get(k).is_some_and(|h| contains(h, v))),
        _ => held == sent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dml::Mutation;
    use crate::schema::schemas;
    use serde_json::json;

    fn templates() -> &'static Resource {
        schemas()
            .resources
            .iter()
            .find(|r| r.name() == "repository_creation_templates")
            .expect("templates schema")
    }

    fn create(params: Value) -> ApiCall {
        let Value::Object(params) = params else {
            unreachable!()
        };
        ApiCall {
            region: "us-east-1".into(),
            mutation: Mutation {
                operation: "CreateRepositoryCreationTemplate".into(),
                params,
            },
            row: Some(1),
        }
    }

    fn row(value: Value) -> Row {
        let Value::Object(row) = value else {
            unreachable!()
        };
        row
    }

    #[test]
    fn an_item_with_every_sent_member_is_as_asked_defaults_aside() {
        let call = create(json!({
            "prefix": "hub",
            "appliedFor": ["PULL_THROUGH_CACHE"],
            "encryptionConfiguration": {"encryptionType": "KMS"},
        }));
        let read = row(json!({
            "region": "us-east-1",
            "prefix": "hub",
            "applied_for": ["PULL_THROUGH_CACHE"],
            "image_tag_mutability": "MUTABLE",
            "encryption_configuration": r#"{"encryptionType":"KMS","kmsKey":"arn:aws:kms:k"}"#,
        }));
        assert!(has_every_member(templates(), &read, &call));
    }

    #[test]
    fn an_item_that_differs_in_a_sent_member_or_lacks_one_is_not() {
        let call = create(json!({
            "prefix": "hub",
            "appliedFor": ["PULL_THROUGH_CACHE"],
            "description": "mine",
        }));
        let other = row(json!({
            "prefix": "hub",
            "applied_for": ["REPLICATION"],
            "description": "mine",
        }));
        assert!(!has_every_member(templates(), &other, &call));
        let without = row(json!({"prefix": "hub", "applied_for": ["PULL_THROUGH_CACHE"]}));
        assert!(!has_every_member(templates(), &without, &call));
    }
}
