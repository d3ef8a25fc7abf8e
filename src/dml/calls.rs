//! The mutating API calls a DML statement makes: an operation and its wire parameters, as data.
//! A resource's planner decides them; its sender (`aws/`) turns them into an SDK call.

use serde_json::{Map, Value};

/// One mutating call: the operation and its request body as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The ECR operation name, as the resource's schema gives it.
    pub operation: String,
    /// The request members, by wire name (absent members are not sent).
    pub params: Map<String, Value>,
}

/// A call in a region, tied to the statement row (INSERT) it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// The region called.
    pub region: String,
    /// What is done.
    pub mutation: Mutation,
    /// The 1-based source row (INSERT and MERGE), for error messages.
    pub row: Option<usize>,
}

impl Mutation {
    /// A call of `operation` with the members `params` gives (`None` values are left out).
    pub fn new<'a>(
        operation: &str,
        params: impl IntoIterator<Item = (&'a str, Option<Value>)>,
    ) -> Self {
        let mut body = Map::new();
        for (member, value) in params {
            let Some(value) = value else { continue };
            // `imageScanningConfiguration.scanOnPush` is a member inside a structure.
            let mut path: Vec<&str> = member.split('.').collect();
            let last = path.pop().unwrap_or_default();
            let mut at = &mut body;
            for part in path {
                let inner = at.entry(part).or_insert_with(|| Value::Object(Map::new()));
                if !inner.is_object() {
                    *inner = Value::Object(Map::new());
                }
                at = inner.as_object_mut().expect("made an object above");
            }
            at.insert(last.to_string(), value);
        }
        let params = body;
        Self {
            operation: operation.to_string(),
            params,
        }
    }

    /// A string member.
    pub fn text(&self, member: &str) -> Option<&str> {
        self.params.get(member).and_then(Value::as_str)
    }

    /// A string member, cloned (for an SDK builder's `set_…`).
    pub fn owned(&self, member: &str) -> Option<String> {
        self.text(member).map(str::to_string)
    }

    /// The request body as sent on the wire.
    pub fn params(&self) -> Value {
        Value::Object(self.params.clone())
    }
}

impl ApiCall {
    /// `text` with `{region}` and every `{member}` of the call's string members filled in (a
    /// hint that names the very repository a call failed on).
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.replace("{region}", &self.region);
        for (member, value) in &self.mutation.params {
            if let Some(value) = value.as_str() {
                out = out.replace(&format!("{{{member}}}"), value);
            }
        }
        out
    }
}

impl std::fmt::Display for ApiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.mutation.operation,
            self.region,
            self.mutation.params()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_hint_is_filled_with_the_region_and_the_string_members_of_its_call() {
        let call = ApiCall {
            region: "us-east-1".into(),
            mutation: Mutation::new(
                "DeleteRepository",
                [
                    ("repositoryName", Some(json!("k8s/pause"))),
                    ("force", Some(json!(false))),
                ],
            ),
            row: None,
        };
        assert_eq!(
            call.fill("region = '{region}' AND repository_name = '{repositoryName}' {force}"),
            "region = 'us-east-1' AND repository_name = 'k8s/pause' {force}"
        );
    }

    #[test]
    fn a_member_inside_a_structure_is_sent_nested() {
        let m = Mutation::new(
            "CreateRepository",
            [
                ("repositoryName", Some(json!("a"))),
                ("imageScanningConfiguration.scanOnPush", Some(json!(true))),
                ("encryptionConfiguration.encryptionType", Some(json!("KMS"))),
                ("encryptionConfiguration.kmsKey", Some(json!("k"))),
                ("tags", None),
            ],
        );
        assert_eq!(
            m.params(),
            json!({"repositoryName": "a", "imageScanningConfiguration": {"scanOnPush": true},
                "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "k"}})
        );
    }

    #[test]
    fn displays_operation_region_and_wire_parameters() {
        let call = ApiCall {
            region: "eu-west-1".into(),
            mutation: Mutation::new(
                "UpdatePullThroughCacheRule",
                [
                    ("ecrRepositoryPrefix", Some(json!("dh"))),
                    ("credentialArn", Some(json!("arn:x"))),
                    ("customRoleArn", None),
                ],
            ),
            row: None,
        };
        assert_eq!(
            call.to_string(),
            r#"UpdatePullThroughCacheRule eu-west-1 {"credentialArn":"arn:x","ecrRepositoryPrefix":"dh"}"#
        );
        assert_eq!(call.mutation.text("ecrRepositoryPrefix"), Some("dh"));
    }
}
