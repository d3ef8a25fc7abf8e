//! Registry policy documents (pure): statements as rows and back, and every check ECR would make
//! of a document, done before any call. Each list member has a negated form (`NotPrincipal`,
//! `NotAction`, `NotResource`) shown in a column of its own; read-modify-write keeps every
//! member a change does not name verbatim.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::actions::check_action;
use crate::resources::ecr::constraints::POLICY_TEXT_MAX;

/// The policy language version skyql writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// One statement as a row of `aws.ecr.registry_policy_statements`; serialized, its members
/// are the columns' `source` names in provider-schemas. A member the statement lacks is `None`
/// (NULL): a `NotPrincipal` statement has `not_principals` and no `principals`.
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
    pub principals: Option<Vec<String>>,
    /// `NotPrincipal`: every principal but these, written as `principals` are.
    #[serde(rename = "NotPrincipal")]
    pub not_principals: Option<Vec<String>>,
    /// `Action`.
    #[serde(rename = "Action")]
    pub actions: Option<Vec<String>>,
    /// `NotAction`: every action but these.
    #[serde(rename = "NotAction")]
    pub not_actions: Option<Vec<String>>,
    /// `Resource`.
    #[serde(rename = "Resource")]
    pub resources: Option<Vec<String>>,
    /// `NotResource`: every resource but these.
    #[serde(rename = "NotResource")]
    pub not_resources: Option<Vec<String>>,
    /// `Condition` as JSON text.
    #[serde(rename = "Condition")]
    pub conditions: Option<String>,
}

/// What a list member of a statement holds, which says how its values are read, checked and
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Principals,
    Actions,
    Resources,
}

/// A list member of a statement and its negation (`Principal` and `NotPrincipal`): a statement
/// has one or the other, never both (IAM refuses both), and each is a column of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Form {
    holds: Holds,
    /// The members, positive and negated.
    member: &'static str,
    not_member: &'static str,
    /// Their columns.
    column: &'static str,
    not_column: &'static str,
    /// One of its values, in messages.
    noun: &'static str,
}

/// The three list members and their negations.
pub(crate) const FORMS: [Form; 3] = [
    Form {
        holds: Holds::Principals,
        member: "Principal",
        not_member: "NotPrincipal",
        column: "principals",
        not_column: "not_principals",
        noun: "principal",
    },
    Form {
        holds: Holds::Actions,
        member: "Action",
        not_member: "NotAction",
        column: "actions",
        not_column: "not_actions",
        noun: "action",
    },
    Form {
        holds: Holds::Resources,
        member: "Resource",
        not_member: "NotResource",
        column: "resources",
        not_column: "not_resources",
        noun: "resource",
    },
];

impl Form {
    /// The row's values of this form: (positive, negated).
    fn of(self, row: &StatementRow) -> (Option<&Vec<String>>, Option<&Vec<String>>) {
        match self.holds {
            Holds::Principals => (row.principals.as_ref(), row.not_principals.as_ref()),
            Holds::Actions => (row.actions.as_ref(), row.not_actions.as_ref()),
            Holds::Resources => (row.resources.as_ref(), row.not_resources.as_ref()),
        }
    }

    /// A member of this form as a list (lenient: reads whatever is there); `None` when absent.
    fn read(self, value: Option<&Value>) -> Option<Vec<String>> {
        let value = value?;
        Some(match self.holds {
            Holds::Principals => principals_of(value),
            Holds::Actions | Holds::Resources => strings(Some(value)),
        })
    }

    /// A list back into the statement's shape.
    fn written(self, list: &[String]) -> Value {
        match self.holds {
            Holds::Principals => principal_value(list),
            Holds::Actions | Holds::Resources => one_or_many(list),
        }
    }

    /// Checks one value.
    fn check(self, value: &str, region: &str) -> Result<(), String> {
        match self.holds {
            Holds::Principals => check_principal(value),
            Holds::Actions => check_action(value),
            Holds::Resources => check_resource(value, region),
        }
    }

    /// A value to show in a message.
    fn example(self, region: &str) -> String {
        match self.holds {
            Holds::Principals => "['arn:aws:iam::111122223333:role/ci']".into(),
            Holds::Actions => "['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage']".into(),
            Holds::Resources => format!("['arn:aws:ecr:{region}:<account>:repository/<prefix>/*']"),
        }
    }

    /// The problem of a statement that has neither form, or an empty list in one.
    fn empty(self, negated: bool, region: &str) -> String {
        let (column, not_column, noun) = (self.column, self.not_column, self.noun);
        let example = self.example(region);
        match negated {
            false => format!(
                "{column} is empty: name the {noun}s the statement applies to, e.g. {example} \
                 (or, for every {noun} but some, name those in {not_column})"
            ),
            true => format!(
                "{not_column} is empty: name the {noun}s the statement does not apply to, e.g. {example}"
            ),
        }
    }

    /// The refusal of one form set alone on a statement of the other (`negated`: the negated
    /// form was set), with the two statements the user may mean.
    fn inverted(self, negated: bool) -> String {
        let (member, not_member, column, not_column, noun) = (
            self.member,
            self.not_member,
            self.column,
            self.not_column,
            self.noun,
        );
        match negated {
            false => format!(
                "the statement has {not_column} ({not_member}: it applies to every {noun} but those), \
                 so setting {column} alone is ambiguous: it would replace {not_member} with {member} \
                 and invert the statement; set {not_column} to change the {noun}s it excepts, or set \
                 {column} and {not_column} = NULL together to make it apply to the {noun}s named"
            ),
            true => format!(
                "the statement has {column} ({member}: it applies to those {noun}s), so setting \
                 {not_column} alone is ambiguous: it would replace {member} with {not_member} and \
                 invert the statement; set {column} to change its {noun}s, or set {not_column} and \
                 {column} = NULL together to make it apply to every {noun} but those named"
            ),
        }
    }

    /// The problem of a statement given both forms.
    fn both(self) -> String {
        format!(
            "{} and {} are both set: a statement has {} or {}, not both (IAM refuses both); keep one",
            self.column, self.not_column, self.member, self.not_member
        )
    }
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
    let text = |member: &str| {
        statement
            .get(member)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let [principals, actions, resources] = FORMS.map(|f| {
        (
            f.read(statement.get(f.member)),
            f.read(statement.get(f.not_member)),
        )
    });
    StatementRow {
        sid: text("Sid"),
        effect: text("Effect"),
        principals: principals.0,
        not_principals: principals.1,
        actions: actions.0,
        not_actions: actions.1,
        resources: resources.0,
        not_resources: resources.1,
        conditions: statement.get("Condition").map(Value::to_string),
    }
}

/// A checked row as a statement (an INSERT defaults its effect to Allow).
pub fn statement_of(row: &StatementRow) -> Value {
    let mut s = members_of(row);
    s.entry("Effect").or_insert_with(|| json!("Allow"));
    Value::Object(s)
}

/// The members a row gives, as the statement writes them (a `None` gives none).
fn members_of(row: &StatementRow) -> Map<String, Value> {
    let mut s = Map::new();
    if let Some(sid) = &row.sid {
        s.insert("Sid".into(), json!(sid));
    }
    if let Some(effect) = &row.effect {
        s.insert("Effect".into(), json!(normal_effect(effect)));
    }
    for form in FORMS {
        let (positive, negated) = form.of(row);
        for (member, list) in [(form.member, positive), (form.not_member, negated)] {
            if let Some(list) = list {
                s.insert(member.into(), form.written(list));
            }
        }
    }
    if let Some(c) = &row.conditions
        && let Ok(v) = serde_json::from_str::<Value>(c)
    {
        s.insert("Condition".into(), v);
    }
    s
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
    for form in FORMS {
        match form.of(row) {
            (Some(_), Some(_)) => out.push(form.both()),
            (None, None) => out.push(form.empty(false, region)),
            _ => {}
        }
    }
    out.extend(check_values(row, region));
    out
}

/// Every problem of the values a row gives, whatever the statement they go to.
fn check_values(row: &StatementRow, region: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = row.effect.as_deref()
        && !matches!(e.to_ascii_lowercase().as_str(), "allow" | "deny")
    {
        out.push(format!("effect '{e}' must be Allow or Deny"));
    }
    for form in FORMS {
        let (positive, negated) = form.of(row);
        for (negated, list) in [(false, positive), (true, negated)] {
            let Some(list) = list else { continue };
            if list.is_empty() {
                out.push(form.empty(negated, region));
            }
            out.extend(list.iter().filter_map(|v| form.check(v, region).err()));
        }
    }
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

/// Every problem of a change to a statement that no current statement can make right: the
/// values `set` gives (members by name, a null for NULL), both forms of a member set, or a
/// form set to NULL alone (it would leave the statement without the member, or change
/// nothing). An UPDATE's constant values are checked so before any call.
pub fn check_change(set: &Map<String, Value>, region: &str) -> Vec<String> {
    let row = match row_given(set) {
        Ok(row) => row,
        Err(e) => return vec![e],
    };
    let mut out = check_values(&row, region);
    if set.get("Effect").is_some_and(Value::is_null) {
        out.push("effect cannot be NULL: a statement is 'Allow' or 'Deny'".into());
    }
    for form in FORMS {
        let (column, not_column) = (form.column, form.not_column);
        let nulled = |m: &str| set.get(m).map(Value::is_null);
        match (nulled(form.member), nulled(form.not_member)) {
            (Some(false), Some(false)) => out.push(form.both()),
            (Some(true), Some(true)) => out.push(format!(
                "{column} and {not_column} cannot both be NULL: a statement names its {}s in one of them",
                form.noun
            )),
            (Some(true), None) => out.push(format!(
                "{column} cannot be NULL alone: a statement needs {column} or {not_column}; \
                 to name in {not_column} the {}s it does not apply to instead, set {not_column} too",
                form.noun
            )),
            (None, Some(true)) => out.push(format!(
                "{not_column} cannot be NULL alone: a statement needs {column} or {not_column}; \
                 to name in {column} the {}s it applies to instead, set {column} too",
                form.noun
            )),
            _ => {}
        }
    }
    out
}

/// The values a change gives (its non-null members) as a row.
fn row_given(set: &Map<String, Value>) -> Result<StatementRow, String> {
    let given = (set.iter()).filter(|(_, v)| !v.is_null());
    let given = given.map(|(m, v)| (m.clone(), v.clone())).collect();
    serde_json::from_value(Value::Object(given)).map_err(|e| format!("not a statement: {e}"))
}

/// `old` changed by `set` (members by name, a null removes one) for a policy in `region`: every
/// member `set` does not name is kept verbatim, and so is one it sets to what it holds already.
/// A form set alone on a statement of the other form is refused, never converted: setting
/// `principals` on a `NotPrincipal` Deny would invert whom it denies.
pub fn changed_statement(
    old: &Value,
    set: &Map<String, Value>,
    region: &str,
) -> Result<Value, Vec<String>> {
    let Some(old) = old.as_object() else {
        return Err(vec![
            "the statement is not a JSON object: fix the policy with aws.ecr.registry_policy"
                .into(),
        ]);
    };
    let mut problems = check_change(set, region);
    for form in FORMS {
        let given = |m: &str| set.get(m).is_some_and(|v| !v.is_null());
        let alone =
            |m: &str, other: &str| given(m) && !set.contains_key(other) && old.contains_key(other);
        if alone(form.member, form.not_member) {
            problems.push(form.inverted(false));
        }
        if alone(form.not_member, form.member) {
            problems.push(form.inverted(true));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let row = row_given(set).map_err(|e| vec![e])?;
    let mut s = old.clone();
    for member in set.iter().filter(|(_, v)| v.is_null()).map(|(m, _)| m) {
        s.remove(member);
    }
    for (member, new) in members_of(&row) {
        // What reads the same as before stays as it was written.
        let reads = |v: &Value| {
            row_of(&Value::Object(Map::from_iter([(
                member.clone(),
                v.clone(),
            )])))
        };
        if !s.get(&member).is_some_and(|now| reads(now) == reads(&new)) {
            s.insert(member, new);
        }
    }
    Ok(Value::Object(s))
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
        for form in FORMS {
            out.extend(
                check_members(form, s, region)
                    .into_iter()
                    .map(|e| format!("statement {n}: {e}")),
            );
        }
    }
    out
}

/// The problems of one form's members in a statement of a whole document: both forms, no
/// `Principal` or `Action` of either form, an unknown action, a resource of another region.
fn check_members(form: Form, s: &Value, region: &str) -> Vec<String> {
    let (positive, negated) = (s.get(form.member), s.get(form.not_member));
    let mut out = Vec::new();
    if positive.is_some() && negated.is_some() {
        out.push(format!(
            "{} and {} together: IAM refuses a statement with both",
            form.member, form.not_member
        ));
    }
    let value = positive.or(negated);
    match form.holds {
        Holds::Principals if value.is_none() => out.push("Principal is missing".into()),
        Holds::Actions if !matches!(value, Some(Value::String(_) | Value::Array(_))) => {
            out.push("Action is missing".into())
        }
        Holds::Principals => {}
        Holds::Actions | Holds::Resources => {
            let values = [positive, negated].into_iter().flat_map(|v| strings(v));
            out.extend(values.filter_map(|v| form.check(&v, region).err()));
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

fn principals_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Object(map) => map
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
            row.principals.as_deref().unwrap(),
            ["arn:aws:iam::111122223333:user/ecr-pull-through-cache-user"]
        );
        assert_eq!(
            row.actions.as_deref().unwrap(),
            ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]
        );
        assert_eq!((&row.not_principals, &row.not_actions), (&None, &None));
        assert_eq!(row.conditions, None);
        assert_eq!(statement_of(&row), list[0]);
        assert!(check_document(SEED, "us-east-1").is_empty());
    }

    #[test]
    fn principals_keep_their_kind() {
        let row = StatementRow {
            principals: Some(vec![
                "111122223333".into(),
                "pullthroughcache.ecr.amazonaws.com".into(),
                "Federated:cognito-identity.amazonaws.com:x".into(),
            ]),
            ..StatementRow::default()
        };
        let v = statement_of(&row);
        assert_eq!(v["Principal"]["AWS"], json!("111122223333"));
        assert_eq!(
            v["Principal"]["Service"],
            json!("pullthroughcache.ecr.amazonaws.com")
        );
        assert_eq!(row_of(&v).principals.map(|p| p.len()), Some(3));
        let star = StatementRow {
            principals: Some(vec!["*".into()]),
            ..StatementRow::default()
        };
        assert_eq!(statement_of(&star)["Principal"], json!("*"));
    }

    #[test]
    fn row_problems_are_all_reported() {
        let row = StatementRow {
            sid: Some("has space".into()),
            effect: Some("Maybe".into()),
            principals: Some(vec!["bob".into()]),
            actions: Some(vec!["ecr:BatchImportUpstreamImages".into()]),
            resources: Some(vec![
                "arn:aws:ecr:eu-west-1:111122223333:repository/x/*".into(),
            ]),
            conditions: Some("{not json".into()),
            ..StatementRow::default()
        };
        assert_says(
            &check_row(&row, "us-east-1"),
            &[
                "sid 'has space'",
                "Allow or Deny",
                "principal 'bob'",
                "Did you mean 'ecr:BatchImportUpstreamImage'",
                "in region eu-west-1",
                "conditions is not valid JSON",
            ],
        );
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

    const REGION: &str = "us-east-1";

    /// Asserts that the problems found say each of `wants`.
    #[track_caller]
    fn assert_says(problems: &[String], wants: &[&str]) {
        let p = problems.join("\n");
        for want in wants {
            assert!(p.contains(want), "{want} missing from {p}");
        }
    }

    /// A Deny of every action but the reads, for every principal but the CI role, on every
    /// resource but the public ones.
    fn negated() -> Value {
        json!({"Sid": "DenyAllButCi", "Effect": "Deny",
            "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/ci"},
            "NotAction": ["ecr:Describe*", "ecr:BatchGetImage"],
            "NotResource": "arn:aws:ecr:us-east-1:111122223333:repository/public/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    }

    fn set(change: Value) -> Map<String, Value> {
        change.as_object().cloned().unwrap()
    }

    #[test]
    fn negated_members_read_as_their_own_columns_and_round_trip() {
        let row = row_of(&negated());
        assert_eq!(
            (&row.principals, &row.actions, &row.resources),
            (&None, &None, &None)
        );
        assert_eq!(
            row.not_principals.as_deref().unwrap(),
            ["arn:aws:iam::111122223333:role/ci"]
        );
        assert_eq!(
            row.not_actions.as_deref().unwrap(),
            ["ecr:Describe*", "ecr:BatchGetImage"]
        );
        assert_eq!(
            row.not_resources.as_deref().unwrap(),
            ["arn:aws:ecr:us-east-1:111122223333:repository/public/*"]
        );
        assert!(
            check_row(&row, REGION).is_empty(),
            "{:?}",
            check_row(&row, REGION)
        );
        assert_eq!(statement_of(&row), negated());
    }

    #[test]
    fn a_row_with_both_forms_or_neither_is_refused_and_negated_values_are_checked() {
        let row = StatementRow {
            sid: Some("A".into()),
            principals: Some(vec!["*".into()]),
            not_principals: Some(vec!["bob".into()]),
            not_actions: Some(vec!["ecr:BatchImportUpstreamImages".into()]),
            not_resources: Some(vec![
                "arn:aws:ecr:eu-west-1:111122223333:repository/x".into(),
            ]),
            ..StatementRow::default()
        };
        assert_says(
            &check_row(&row, REGION),
            &[
                "principals and not_principals are both set: a statement has Principal or NotPrincipal, not both",
                "principal 'bob' is not an IAM ARN",
                "Did you mean 'ecr:BatchImportUpstreamImage'",
                "in region eu-west-1",
            ],
        );
        let neither = StatementRow {
            sid: Some("A".into()),
            not_actions: Some(vec![]),
            ..StatementRow::default()
        };
        assert_says(
            &check_row(&neither, REGION),
            &[
                "principals is empty: name the principals the statement applies to",
                "name those in not_principals",
                "not_actions is empty: name the actions the statement does not apply to",
                "resources is empty",
            ],
        );
    }

    #[test]
    fn a_change_keeps_every_member_it_does_not_name_verbatim() {
        let old = negated();
        let new = changed_statement(
            &old,
            &set(json!({"NotAction": ["ecr:DescribeImages"]})),
            REGION,
        )
        .unwrap();
        assert_eq!(new["NotAction"], json!("ecr:DescribeImages"));
        for member in ["Sid", "Effect", "NotPrincipal", "NotResource", "Condition"] {
            assert_eq!(new[member].to_string(), old[member].to_string(), "{member}");
        }
        assert_eq!(
            new.as_object().unwrap().len(),
            old.as_object().unwrap().len()
        );
        // A value that reads as the member does now keeps the member's writing.
        let same = set(
            json!({"NotPrincipal": ["arn:aws:iam::111122223333:role/ci"], "Effect": "deny",
            "Condition": "{\"Bool\": {\"aws:SecureTransport\": \"false\"}}"}),
        );
        assert_eq!(changed_statement(&old, &same, REGION).unwrap(), old);
        // A member skyql has no column for is kept too.
        let mut odd = old.clone();
        odd["Extra"] = json!({"kept": [1, 2]});
        let new = changed_statement(&odd, &set(json!({"Effect": "Allow"})), REGION).unwrap();
        assert_eq!(
            (&new["Effect"], &new["Extra"]),
            (&json!("Allow"), &odd["Extra"])
        );
    }

    #[test]
    fn a_form_set_alone_on_a_statement_of_the_other_is_refused_never_converted() {
        let old = negated();
        let e = changed_statement(&old, &set(json!({"Principal": ["*"]})), REGION)
            .unwrap_err()
            .join("\n");
        assert!(
            e.contains("the statement has not_principals (NotPrincipal: it applies to every principal but those), so setting principals alone is ambiguous"),
            "{e}"
        );
        assert!(e.contains("invert the statement"), "{e}");
        assert!(
            e.contains("set principals and not_principals = NULL together"),
            "{e}"
        );
        let positive = json!({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": "*"});
        let e = changed_statement(
            &positive,
            &set(json!({"NotAction": ["ecr:DescribeImages"]})),
            REGION,
        )
        .unwrap_err()
        .join("\n");
        assert!(
            e.contains("the statement has actions (Action: it applies to those actions), so setting not_actions alone is ambiguous"),
            "{e}"
        );
        // Said with both columns, the conversion is what was asked for.
        let both = set(json!({"Principal": ["111122223333"], "NotPrincipal": null}));
        let new = changed_statement(&old, &both, REGION).unwrap();
        assert_eq!(new.get("NotPrincipal"), None);
        assert_eq!(new["Principal"], json!({"AWS": "111122223333"}));
        assert_eq!(new["NotAction"], old["NotAction"]);
        let both = set(json!({"NotAction": ["ecr:DescribeImages"], "Action": null}));
        let new = changed_statement(&positive, &both, REGION).unwrap();
        assert_eq!(
            (new.get("Action"), &new["NotAction"]),
            (None, &json!("ecr:DescribeImages"))
        );
    }

    #[test]
    fn changes_no_statement_can_take_are_refused_before_any_read() {
        for (change, want) in [
            (
                json!({"Principal": null}),
                "principals cannot be NULL alone: a statement needs principals or not_principals",
            ),
            (
                json!({"NotAction": null}),
                "not_actions cannot be NULL alone",
            ),
            (
                json!({"Resource": null, "NotResource": null}),
                "resources and not_resources cannot both be NULL",
            ),
            (
                json!({"Action": ["ecr:*"], "NotAction": ["ecr:*"]}),
                "actions and not_actions are both set",
            ),
            (json!({"Effect": null}), "effect cannot be NULL"),
            (json!({"NotPrincipal": []}), "not_principals is empty"),
            (json!({"NotPrincipal": ["bob"]}), "principal 'bob'"),
            (
                json!({"NotAction": ["ecr:Nope"]}),
                "unknown ECR action 'ecr:Nope'",
            ),
        ] {
            let p = check_change(&set(change.clone()), REGION).join("\n");
            assert!(p.contains(want), "{change}: {want} missing from {p}");
        }
        assert_eq!(
            check_change(
                &set(json!({"NotAction": ["ecr:*"], "Action": null})),
                REGION
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn documents_with_both_forms_or_bad_negated_values_are_refused() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "NotPrincipal": {"AWS": "111122223333"}, "Action": "ecr:*"},
            {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "ecr:Nope",
             "NotResource": "arn:aws:ecr:eu-west-1:111122223333:repository/x"}]});
        assert_says(
            &check_document(&doc.to_string(), REGION),
            &[
                "statement 1: Principal and NotPrincipal together",
                "statement 2: unknown ECR action 'ecr:Nope'",
                "statement 2: resource 'arn:aws:ecr:eu-west-1:111122223333:repository/x' is in region eu-west-1",
            ],
        );
        let fine = json!({"Version": "2012-10-17", "Statement": [negated()]});
        assert_eq!(
            check_document(&fine.to_string(), REGION),
            Vec::<String>::new()
        );
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
