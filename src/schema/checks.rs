//! ECR's constraints on a value, as provider-schemas writes them (a column's `check`), and
//! their evaluation on the JSON value a call would send. Messages are worded like ECR's
//! ValidationException ("must …"), so a refusal before any call reads like ECR's own.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// The constraints on one value: a string, a list (`items`) or a structure (`members`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Regular expression a string must match (the service model's pattern).
    #[serde(default)]
    pub pattern: Option<Pattern>,
    /// What the value is, named in messages: instead of a pattern's expression, and for a
    /// JSON document of the wrong kind (`a repository policy`).
    #[serde(default)]
    pub means: Option<String>,
    /// Least length of a string, or items of a list.
    #[serde(default)]
    pub min_length: Option<usize>,
    /// Greatest length of a string, or items of a list.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// The values a string may take.
    #[serde(default, rename = "enum")]
    pub values: Vec<String>,
    /// Whether a string must be a JSON object (a policy document).
    #[serde(default)]
    pub json_object: bool,
    /// The members such a JSON object must have, which tell its kind: a repository policy has
    /// `Statement`, a lifecycle policy `rules` (so one is never taken for the other).
    #[serde(default)]
    pub json_members: Vec<String>,
    /// The constraints on each item of a list.
    #[serde(default)]
    pub items: Option<Box<Check>>,
    /// The members of a structure, by wire name.
    #[serde(default)]
    pub members: BTreeMap<String, Check>,
    /// Whether a structure's member must be given.
    #[serde(default)]
    pub required: bool,
}

/// The JSON type a check is for.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    List,
    Structure,
}

impl Kind {
    /// "a string", as messages name it.
    fn noun(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::List => "a list",
            Kind::Structure => "a structure",
        }
    }
}

/// A regular expression, compiled once, when provider-schemas load (a bad one fails the load).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Pattern(Regex);

impl Pattern {
    /// The expression as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;

    fn try_from(pattern: String) -> Result<Self, String> {
        Regex::new(&pattern)
            .map(Pattern)
            .map_err(|e| format!("pattern {pattern}: {e}"))
    }
}

impl Check {
    /// Why ECR would refuse `value`, or `None`.
    pub fn problem(&self, value: &Value) -> Option<String> {
        match (value, self.kind()) {
            (Value::Null, _) => None,
            (Value::String(text), Kind::Text) => self.text_problem(text),
            (Value::Array(items), Kind::List) => self.length_problem(items.len()).or_else(|| {
                let each = self.items.as_deref()?;
                items.iter().enumerate().find_map(|(i, item)| {
                    each.problem(item)
                        .map(|why| format!("item {}: {why}", i + 1))
                })
            }),
            (Value::Object(given), Kind::Structure) => self.members_problem(given),
            // A value of another JSON type is never converted: ECR's model would refuse it.
            (_, kind) => Some(format!("must be {}", kind.noun())),
        }
    }

    /// What the checked value is: a list where `items` are checked, a structure where
    /// `members` are, else a string.
    fn kind(&self) -> Kind {
        match (&self.items, self.members.is_empty()) {
            (Some(_), _) => Kind::List,
            (None, false) => Kind::Structure,
            (None, true) => Kind::Text,
        }
    }

    fn members_problem(&self, given: &serde_json::Map<String, Value>) -> Option<String> {
        if let Some(unknown) = given.keys().find(|k| !self.members.contains_key(*k)) {
            let known: Vec<&str> = self.members.keys().map(String::as_str).collect();
            return Some(format!(
                "has no member {unknown} (it takes {})",
                known.join(", ")
            ));
        }
        self.members
            .iter()
            .find_map(|(name, check)| match given.get(name) {
                None | Some(Value::Null) if check.required => {
                    Some(format!("needs the string member {name}"))
                }
                None => None,
                Some(v) => check.problem(v).map(|why| format!("{name} {why}")),
            })
    }

    fn length_problem(&self, n: usize) -> Option<String> {
        match (self.min_length, self.max_length) {
            (Some(min), _) if n < min => {
                Some(format!("must have length greater than or equal to {min}"))
            }
            (_, Some(max)) if n > max => {
                Some(format!("must have length less than or equal to {max}"))
            }
            _ => None,
        }
    }

    fn text_problem(&self, text: &str) -> Option<String> {
        if let Some(why) = self.length_problem(text.chars().count()) {
            return Some(why);
        }
        if !self.values.is_empty() && !self.values.iter().any(|v| v == text) {
            return Some(format!(
                "must satisfy enum value set: [{}]",
                self.values.join(", ")
            ));
        }
        if let Some(pattern) = &self.pattern
            && !pattern.0.is_match(text)
        {
            return Some(match &self.means {
                Some(means) => format!("is not {means}"),
                None => format!(
                    "must satisfy regular expression pattern: {}",
                    pattern.as_str()
                ),
            });
        }
        if self.json_object || !self.json_members.is_empty() {
            return match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(document)) => self.document_problem(&document),
                Ok(_) => Some("must be a JSON object".into()),
                Err(e) => Some(format!("is not valid JSON ({e})")),
            };
        }
        None
    }

    /// Why a JSON object is not of the kind `json_members` describes (its members say which
    /// document it is instead).
    fn document_problem(&self, document: &serde_json::Map<String, Value>) -> Option<String> {
        if self.json_members.iter().all(|m| document.contains_key(m)) {
            return None;
        }
        let kind = self
            .means
            .as_deref()
            .unwrap_or("the JSON document expected");
        let has = match document.keys().map(String::as_str).collect::<Vec<_>>() {
            keys if keys.is_empty() => "it has no member".to_string(),
            keys => format!("its members are {}", keys.join(", ")),
        };
        Some(format!(
            "is not {kind} (a JSON object with {}): {has}",
            self.json_members.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(yaml: &str) -> Check {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn strings_are_checked_for_length_values_pattern_and_json() {
        let c = check("{min_length: 2, max_length: 4, pattern: '^[a-z]+$'}");
        assert_eq!(c.problem(&json!("ab")), None);
        let short = c.problem(&json!("a")).unwrap();
        assert_eq!(short, "must have length greater than or equal to 2");
        assert!(
            c.problem(&json!("AB"))
                .unwrap()
                .contains("pattern: ^[a-z]+$")
        );
        let role = check("{pattern: '^arn:', means: an ARN}");
        assert_eq!(role.problem(&json!("x")).unwrap(), "is not an ARN");
        let e = check("{enum: [A, B]}").problem(&json!("C")).unwrap();
        assert_eq!(e, "must satisfy enum value set: [A, B]");
        let doc = check("{json_object: true}");
        assert_eq!(doc.problem(&json!("{}")), None);
        assert_eq!(doc.problem(&json!("[]")).unwrap(), "must be a JSON object");
        assert!(
            doc.problem(&json!("{x"))
                .unwrap()
                .starts_with("is not valid JSON")
        );
    }

    #[test]
    fn a_json_document_of_another_kind_is_named_by_its_members() {
        let policy =
            check("{json_object: true, json_members: [Statement], means: a repository policy}");
        assert_eq!(policy.problem(&json!(r#"{"Statement": []}"#)), None);
        assert_eq!(
            policy.problem(&json!(r#"{"rules": []}"#)).unwrap(),
            "is not a repository policy (a JSON object with Statement): its members are rules"
        );
        assert_eq!(
            policy.problem(&json!("{}")).unwrap(),
            "is not a repository policy (a JSON object with Statement): it has no member"
        );
        assert_eq!(
            policy.problem(&json!("[]")).unwrap(),
            "must be a JSON object"
        );
    }

    #[test]
    fn lists_and_structures_name_the_item_and_member() {
        let tags = check(
            "{items: {members: {Key: {required: true, max_length: 3}, Value: {required: true}}}}",
        );
        assert_eq!(tags.problem(&json!([{"Key": "a", "Value": "b"}])), None);
        assert_eq!(
            tags.problem(&json!([{"Key": "a", "Value": "b"}, {"Key": "a"}]))
                .unwrap(),
            "item 2: needs the string member Value"
        );
        assert_eq!(
            tags.problem(&json!([{"Key": "long", "Value": "b"}]))
                .unwrap(),
            "item 1: Key must have length less than or equal to 3"
        );
        assert!(
            tags.problem(&json!([{"Key": "a", "Value": "b", "X": 1}]))
                .unwrap()
                .starts_with("item 1: has no member X")
        );
        let list = check("{min_length: 1, items: {enum: [A]}}");
        assert!(
            list.problem(&json!([]))
                .unwrap()
                .contains("greater than or equal to 1")
        );
        assert_eq!(
            list.problem(&json!(["B"])).unwrap(),
            "item 1: must satisfy enum value set: [A]"
        );
    }

    #[test]
    fn a_value_of_another_json_type_is_refused_not_converted() {
        let list = check("{min_length: 1, items: {enum: [A]}}");
        assert_eq!(list.problem(&json!("A")).unwrap(), "must be a list");
        let text = check("{max_length: 256}");
        for other in [json!(5), json!(true), json!(1.5e3), json!(["a"]), json!({})] {
            assert_eq!(text.problem(&other).unwrap(), "must be a string", "{other}");
        }
        let structure = check("{members: {kmsKey: {max_length: 3}}}");
        assert_eq!(
            structure.problem(&json!([])).unwrap(),
            "must be a structure"
        );
        let tags = check("{items: {members: {Key: {required: true}}}}");
        assert_eq!(
            tags.problem(&json!([{"Key": 5}])).unwrap(),
            "item 1: Key must be a string"
        );
    }

    #[test]
    fn a_bad_pattern_fails_when_the_schemas_load() {
        let bad =
            serde_yaml_ng::from_str::<Check>("{items: {members: {Key: {pattern: '(unclosed'}}}}");
        assert!(bad.unwrap_err().to_string().contains("(unclosed"));
        assert!(check("{pattern: '^a+$'}").problem(&"aa".into()).is_none());
    }
}
