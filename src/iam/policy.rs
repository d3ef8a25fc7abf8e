//! Registry policy documents (pure): statements as rows and back, and every check ECR would make
//! of a document, done before any call. Read-modify-write keeps what skyql does not model
//! (other members, NotAction statements) verbatim.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::actions::check_action;
use crate::ecr::constraints::POLICY_TEXT_MAX;

/// The policy language version skyql writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// One statement as a row of `aws.ecr.registry_policy_statements`; serialized, its members
/// are the columns' `source` names in provider-schemas.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StatementRow {
    /// `Sid`.
    #[serde(rename = "Sid")]
    pub sid: Option<String>,
    /// `Effect` (Allow or Deny).
    #[serde(rename = "Effect")]
    pub effect: Option<String>,
    /// `Principal`: IAM ARNs and account ids as they are, service principals
    /// (`*.amazonaws.com`), `*`, or `<Type>:<value>` for other principal types.
    #[serde(rename = "Principal")]
    pub principals: Vec<String>,
    /// `Action`.
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    /// `Resource`.
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
    /// `Condition` as JSON text.
    #[serde(rename = "Condition")]
    pub conditions: Option<String>,
}

/// Parses a policy document: it must be a JSON object.
pub fn parse(text: &str) -> Result<Value, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("the policy is not valid JSON: {e}"))?;
    if !doc.is_object() {
        return Err("the policy must be a JSON object with Version and Statement".into());
    }
    Ok(doc)
}

/// The statements of a document (`Statement` may be one object or a list).
pub fn statements(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The document with its statements replaced, as compact text (the size limit counts
/// characters, so no indentation is spent).
pub fn with_statements(doc: &Value, statements: Vec<Value>) -> String {
    let mut map = doc.as_object().cloned().unwrap_or_default();
    map.entry("Version")
        .or_insert_with(|| Value::String(POLICY_VERSION.into()));
    map.insert("Statement".into(), Value::Array(statements));
    Value::Object(map).to_string()
}

/// A new, empty document.
pub fn empty_document() -> Value {
    json!({ "Version": POLICY_VERSION, "Statement": [] })
}

/// The `Sid` of a statement.
pub fn sid_of(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// A statement as a row (lenient: reads whatever is there).
pub fn row_of(statement: &Value) -> StatementRow {
    StatementRow {
        sid: sid_of(statement).map(str::to_string),
        effect: statement
            .get("Effect")
            .and_then(Value::as_str)
            .map(str::to_string),
        principals: principals_of(statement.get("Principal")),
        actions: strings(statement.get("Action")),
        resources: strings(statement.get("Resource")),
        conditions: statement.get("Condition").map(Value::to_string),
    }
}

/// A checked row as a statement.
pub fn statement_of(row: &StatementRow) -> Value {
    let mut s = Map::new();
    if let Some(sid) = &row.sid {
        s.insert("Sid".into(), json!(sid));
    }
    s.insert(
        "Effect".into(),
        json!(row.effect.as_deref().map(normal_effect).unwrap_or("Allow")),
    );
    s.insert("Principal".into(), principal_value(&row.principals));
    s.insert("Action".into(), one_or_many(&row.actions));
    if !row.resources.is_empty() {
        s.insert("Resource".into(), one_or_many(&row.resources));
    }
    if let Some(c) = &row.conditions
        && let Ok(v) = serde_json::from_str::<Value>(c)
    {
        s.insert("Condition".into(), v);
    }
    Value::Object(s)
}

/// Every problem of a statement row written to a policy in `region`.
pub fn check_row(row: &StatementRow, region: &str) -> Vec<String> {
    let mut out = Vec::new();
    match row.sid.as_deref() {
        None | Some("") => out.push(
            "sid is required: statements are added and deleted by their sid (letters and digits)"
                .into(),
        ),
        Some(sid) => {
            if let Err(e) = check_sid(sid) {
                out.push(e);
            }
        }
    }
    if let Some(e) = row.effect.as_deref()
        && !matches!(e.to_ascii_lowercase().as_str(), "allow" | "deny")
    {
        out.push(format!("effect '{e}' must be Allow or Deny"));
    }
    if row.principals.is_empty() {
        out.push(
            "principals is empty: name who the statement applies to, e.g. ['arn:aws:iam::111122223333:role/ci']"
                .into(),
        );
    }
    for p in &row.principals {
        if let Err(e) = check_principal(p) {
            out.push(e);
        }
    }
    if row.actions.is_empty() {
        out.push(
            "actions is empty: e.g. ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage']"
                .into(),
        );
    }
    out.extend(row.actions.iter().filter_map(|a| check_action(a).err()));
    if row.resources.is_empty() {
        out.push(format!(
            "resources is empty: e.g. ['arn:aws:ecr:{region}:<account>:repository/<prefix>/*']"
        ));
    }
    out.extend(
        row.resources
            .iter()
            .filter_map(|r| check_resource(r, region).err()),
    );
    if let Some(c) = &row.conditions {
        match serde_json::from_str::<Value>(c) {
            Ok(Value::Object(_)) => {}
            Ok(_) => out.push(format!(
                "conditions must be a JSON object such as {{\"StringEquals\": {{\"aws:PrincipalAccount\": \"111122223333\"}}}}, not {c}"
            )),
            Err(e) => out.push(format!("conditions is not valid JSON ({e}): {c}")),
        }
    }
    out
}

/// Every problem of a whole document for `region`: JSON, Version, statements, actions, sids and
/// the size limit.
pub fn check_document(text: &str, region: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = check_size(text) {
        out.push(e);
    }
    let doc = match parse(text) {
        Ok(d) => d,
        Err(e) => {
            out.push(e);
            return out;
        }
    };
    match doc.get("Version").and_then(Value::as_str) {
        Some("2012-10-17" | "2008-10-17") => {}
        Some(v) => out.push(format!("Version '{v}' is not 2012-10-17")),
        None => out.push(format!(
            "Version is missing: add \"Version\": \"{POLICY_VERSION}\""
        )),
    }
    let list = statements(&doc);
    if list.is_empty() {
        out.push("Statement must be a non-empty list of statements".into());
    }
    let mut sids = std::collections::HashSet::new();
    for (i, s) in list.iter().enumerate() {
        let n = i + 1;
        if !s.is_object() {
            out.push(format!("statement {n} is not a JSON object"));
            continue;
        }
        if let Some(sid) = sid_of(s) {
            if !sids.insert(sid.to_string()) {
                out.push(format!("statement {n}: sid '{sid}' appears twice"));
            }
            if let Err(e) = check_sid(sid) {
                out.push(format!("statement {n}: {e}"));
            }
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => out.push(format!(
                "statement {n}: Effect must be \"Allow\" or \"Deny\""
            )),
        }
        if s.get("Principal").is_none() && s.get("NotPrincipal").is_none() {
            out.push(format!("statement {n}: Principal is missing"));
        }
        let actions = match s.get("Action").or_else(|| s.get("NotAction")) {
            Some(v @ (Value::String(_) | Value::Array(_))) => strings(Some(v)),
            _ => {
                out.push(format!("statement {n}: Action is missing"));
                Vec::new()
            }
        };
        for a in actions {
            if let Err(e) = check_action(&a) {
                out.push(format!("statement {n}: {e}"));
            }
        }
        for r in strings(s.get("Resource")) {
            if let Err(e) = check_resource(&r, region) {
                out.push(format!("statement {n}: {e}"));
            }
        }
    }
    out
}

/// The 10240-character limit of PutRegistryPolicy.
pub fn check_size(text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if n > POLICY_TEXT_MAX {
        return Err(format!(
            "the policy is {n} characters, over ECR's limit of {POLICY_TEXT_MAX}: \
             merge statements or use wildcards (ecr:Describe*, repository/<prefix>/*)"
        ));
    }
    Ok(())
}

/// A sid: IAM allows ASCII letters and digits.
pub fn check_sid(sid: &str) -> Result<(), String> {
    if !sid.is_empty() && sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "sid '{sid}' may contain only ASCII letters and digits (e.g. PullThroughCacheFromReadOnlyRole)"
        ))
    }
}

fn check_principal(p: &str) -> Result<(), String> {
    let ok = p == "*"
        || p.starts_with("arn:")
        || (p.len() == 12 && p.chars().all(|c| c.is_ascii_digit()))
        || p.ends_with(".amazonaws.com")
        || p.split_once(':')
            .is_some_and(|(t, v)| matches!(t, "Federated" | "CanonicalUser") && !v.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "principal '{p}' is not an IAM ARN (arn:aws:iam::111122223333:role/name), a 12-digit account id, \
             a service principal (*.amazonaws.com) or '*'"
        ))
    }
}

/// A resource must be `*` or an ARN; an ECR ARN must name the policy's own region, since a
/// registry policy governs only its region's registry.
fn check_resource(r: &str, region: &str) -> Result<(), String> {
    if r == "*" {
        return Ok(());
    }
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return Err(format!(
            "resource '{r}' is not an ARN: write arn:aws:ecr:{region}:<account>:repository/<name or prefix/*>"
        ));
    }
    if parts[2] == "ecr" && !matches!(parts[3], "*" | "") && parts[3] != region {
        return Err(format!(
            "resource '{r}' is in region {} but this policy is {region}'s registry policy, which governs only {region}",
            parts[3]
        ));
    }
    Ok(())
}

fn normal_effect(e: &str) -> &'static str {
    if e.eq_ignore_ascii_case("deny") {
        "Deny"
    } else {
        "Allow"
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn one_or_many(list: &[String]) -> Value {
    match list {
        [one] => json!(one),
        many => json!(many),
    }
}

fn principals_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(kind, v)| {
                strings(Some(v))
                    .into_iter()
                    .map(move |p| match kind.as_str() {
                        "AWS" | "Service" => p,
                        other => format!("{other}:{p}"),
                    })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Principals back into IAM's shape: `*`, or `{"AWS": …, "Service": …}`.
fn principal_value(list: &[String]) -> Value {
    if list.iter().all(|p| p == "*") {
        return json!("*");
    }
    let mut by_kind: Map<String, Value> = Map::new();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for p in list {
        let (kind, value) = if p.ends_with(".amazonaws.com") {
            ("Service".to_string(), p.clone())
        } else if let Some((t, v)) = p
            .split_once(':')
            .filter(|(t, _)| matches!(*t, "Federated" | "CanonicalUser"))
        {
            (t.to_string(), v.to_string())
        } else {
            ("AWS".to_string(), p.clone())
        };
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, values)) => values.push(value),
            None => groups.push((kind, vec![value])),
        }
    }
    for (kind, values) in groups {
        by_kind.insert(kind, one_or_many(&values));
    }
    Value::Object(by_kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PullThroughCacheFromReadOnlyRole","Effect":"Allow",
        "Principal":{"AWS":"arn:aws:iam::111122223333:user/ecr-pull-through-cache-user"},
        "Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],
        "Resource":"arn:aws:ecr:us-east-1:111122223333:repository/ecr-public/*"}]}"#;

    #[test]
    fn seed_policy_reads_as_a_row_and_round_trips() {
        let doc = parse(SEED).unwrap();
        let list = statements(&doc);
        let row = row_of(&list[0]);
        assert_eq!(row.sid.as_deref(), Some("PullThroughCacheFromReadOnlyRole"));
        assert_eq!(
            row.principals,
            ["arn:aws:iam::111122223333:user/ecr-pull-through-cache-user"]
        );
        assert_eq!(
            row.actions,
            ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]
        );
        assert_eq!(row.conditions, None);
        assert_eq!(statement_of(&row), list[0]);
        assert!(check_document(SEED, "us-east-1").is_empty());
    }

    #[test]
    fn principals_keep_their_kind() {
        let row = StatementRow {
            principals: vec![
                "111122223333".into(),
                "pullthroughcache.ecr.amazonaws.com".into(),
                "Federated:cognito-identity.amazonaws.com:x".into(),
            ],
            ..StatementRow::default()
        };
        let v = statement_of(&row);
        assert_eq!(v["Principal"]["AWS"], json!("111122223333"));
        assert_eq!(
            v["Principal"]["Service"],
            json!("pullthroughcache.ecr.amazonaws.com")
        );
        assert_eq!(row_of(&v).principals.len(), 3);
        let star = StatementRow {
            principals: vec!["*".into()],
            ..StatementRow::default()
        };
        assert_eq!(statement_of(&star)["Principal"], json!("*"));
    }

    #[test]
    fn row_problems_are_all_reported() {
        let row = StatementRow {
            sid: Some("has space".into()),
            effect: Some("Maybe".into()),
            principals: vec!["bob".into()],
            actions: vec!["ecr:BatchImportUpstreamImages".into()],
            resources: vec!["arn:aws:ecr:eu-west-1:111122223333:repository/x/*".into()],
            conditions: Some("{not json".into()),
        };
        let p = check_row(&row, "us-east-1").join("\n");
        for want in [
            "sid 'has space'",
            "Allow or Deny",
            "principal 'bob'",
            "Did you mean 'ecr:BatchImportUpstreamImage'",
            "in region eu-west-1",
            "conditions is not valid JSON",
        ] {
            assert!(p.contains(want), "{want} missing from {p}");
        }
    }

    #[test]
    fn document_checks() {
        assert!(check_document("{", "us-east-1")[0].contains("not valid JSON"));
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"{}"}}]}}"#,
            "x".repeat(POLICY_TEXT_MAX)
        );
        let p = check_document(&big, "us-east-1").join("\n");
        assert!(p.contains("over ECR's limit of 10240"), "{p}");
        let dup = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:*"},
            {"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:Nope"}]}"#;
        let p = check_document(dup, "us-east-1").join("\n");
        assert!(p.contains("sid 'A' appears twice"), "{p}");
        assert!(p.contains("unknown ECR action 'ecr:Nope'"), "{p}");
    }

    #[test]
    fn with_statements_keeps_other_members() {
        let doc = json!({"Version": "2012-10-17", "Id": "keep", "Statement": []});
        let text = with_statements(&doc, vec![json!({"Sid": "A"})]);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["Id"], "keep");
        assert_eq!(statements(&back).len(), 1);
    }
}
