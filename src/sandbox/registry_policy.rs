//! The registry permissions policy in the sandbox: Get/Put/DeleteRegistryPolicy, with the
//! structural checks ECR makes of the document. Kept in the registry's settings store.

use serde::Deserialize;
use serde_json::{Value, json};

use super::registry::Registry;
use super::registry_settings::TABLE;
use super::rules::parse;
use super::wire::{ApiError, Violations};
use crate::resources::ecr::constraints as c;

/// The registry store's key of the registry permissions policy.
const POLICY: &str = "policy";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutPolicyInput {
    policy_text: Option<String>,
}

impl Registry {
    /// GetRegistryPolicy.
    pub fn get_policy(&mut self, region: &str) -> Result<Value, ApiError> {
        let account = self.account_id.clone();
        match self.region(region).store(TABLE).get(POLICY) {
            Some(Value::String(text)) => Ok(json!({ "registryId": account, "policyText": text })),
            _ => Err(policy_not_found(&account)),
        }
    }

    /// PutRegistryPolicy: the document must be a policy ECR accepts for a registry.
    pub fn put_policy(&mut self, region: &str, body: Value) -> Result<Value, ApiError> {
        let input: PutPolicyInput = parse(body)?;
        let mut v = Violations::default();
        let text = v.required("policyText", input.policy_text.as_deref());
        v.check("policyText", text, |t| {
            if t.chars().count() > c::POLICY_TEXT_MAX {
                Err(format!(
                    "Member must have length less than or equal to {}",
                    c::POLICY_TEXT_MAX
                ))
            } else {
                Ok(())
            }
        });
        v.finish()?;
        let text = text.unwrap_or_default().to_string();
        check_policy(&text).map_err(|why| {
            ApiError::invalid_constraint(
                "PolicyText",
                &format!("Invalid registry policy provided: {why}"),
            )
        })?;
        let account = self.account_id.clone();
        let settings = self.region(region).store(TABLE);
        settings.insert(POLICY.into(), json!(text));
        Ok(json!({ "registryId": account, "policyText": text }))
    }

    /// DeleteRegistryPolicy: answers with the deleted document.
    pub fn delete_policy(&mut self, region: &str) -> Result<Value, ApiError> {
        let account = self.account_id.clone();
        let settings = self.region(region).store(TABLE);
        match settings.remove(POLICY) {
            Some(text) => Ok(json!({ "registryId": account, "policyText": text })),
            None => Err(policy_not_found(&account)),
        }
    }
}

fn policy_not_found(account: &str) -> ApiError {
    ApiError::client(
        "RegistryPolicyNotFoundException",
        format!("Registry policy does not exist in the registry with id '{account}'"),
    )
}

/// Structural checks of an IAM resource policy for a registry.
fn check_policy(text: &str) -> Result<(), String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let doc = doc.as_object().ok_or("the document is not a JSON object")?;
    let statements = match doc.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return Err("'Statement' must be a non-empty list of statements".into()),
    };
    if let Some(version) = doc.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(format!("unsupported Version {version}"));
    }
    for (i, s) in statements.iter().enumerate() {
        let n = i + 1;
        let s = s
            .as_object()
            .ok_or(format!("statement {n} is not an object"))?;
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => return Err(format!("statement {n}: 'Effect' must be Allow or Deny")),
        }
        // IAM refuses a member given with its negation.
        for member in ["Principal", "Action", "Resource"] {
            if s.contains_key(member) && s.contains_key(&format!("Not{member}")) {
                return Err(format!(
                    "statement {n} has both '{member}' and 'Not{member}'"
                ));
            }
        }
        if !s.contains_key("Principal") && !s.contains_key("NotPrincipal") {
            return Err(format!("statement {n} has no 'Principal'"));
        }
        let actions = match s.get("Action").or_else(|| s.get("NotAction")) {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .map(|a| {
                    a.as_str()
                        .map(str::to_string)
                        .ok_or(format!("statement {n}: an action is not a string"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("statement {n} has no 'Action'")),
        };
        if let Some(bad) = actions
            .iter()
            .find(|a| !a.to_ascii_lowercase().starts_with("ecr:"))
        {
            return Err(format!("statement {n}: '{bad}' is not an ecr action"));
        }
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_structure() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::123456789012:root"},
            "Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"*"}]}"#;
        assert!(check_policy(ok).is_ok());
        assert!(check_policy("{").unwrap_err().contains("not JSON"));
        assert!(check_policy(r#"{"Statement":[]}"#).is_err());
        assert!(
            check_policy(
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}"#
            )
            .unwrap_err()
            .contains("not an ecr action")
        );
        let both = r#"{"Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:*"}}"#;
        assert!(
            check_policy(both)
                .unwrap_err()
                .contains("both 'Principal' and 'NotPrincipal'")
        );
        let negated = r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"NotAction":"ecr:Describe*","NotResource":"*"}}"#;
        assert!(check_policy(negated).is_ok());
    }
}
crate::sandbox_operations!(
    Read GetRegistryPolicy => |r, region, _, _| r.get_policy(region);
    Change PutRegistryPolicy => |r, region, input, _| r.put_policy(region, input);
    Change DeleteRegistryPolicy => |r, region, _, _| r.delete_policy(region);
);
