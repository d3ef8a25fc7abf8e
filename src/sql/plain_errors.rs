//! DataFusion's and Arrow's planning errors said in skyql's words where a user can act on them:
//! a word that is not a time, a boolean compared with text, a lateral `unnest`.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::Error;

static NOT_A_TIMESTAMP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Error parsing timestamp from '([^']*)'").expect("valid"));
static BOOLEAN_AND_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"comparison operation (?:Boolean (\S+) Utf8|Utf8 (\S+) Boolean)").expect("valid")
});
static OUTER_COLUMN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"OuterReferenceColumn\(.*?Column \{ relation: .*?, name: "([^"]+)" \}"#)
        .expect("valid")
});

/// `error` in skyql's words when it is a planning error of one of the kinds above; else as
/// it is.
pub fn reword(error: Error) -> Error {
    match &error {
        Error::Sql(message) => reworded(message).map_or(error, Error::Sql),
        _ => error,
    }
}

fn reworded(message: &str) -> Option<String> {
    if let Some(c) = NOT_A_TIMESTAMP.captures(message) {
        return Some(format!(
            "'{}' is not a time: write a timestamp as RFC 3339 (TIMESTAMP \
             '2025-06-01T12:00:00Z') or a date ('2025-06-01'); a time relative to now is an \
             expression (now() - INTERVAL '1 day')",
            &c[1]
        ));
    }
    if BOOLEAN_AND_TEXT.is_match(message) {
        return Some(
            "a boolean column (such as is_valid) is compared with text: compare it with true or \
             false, without quotes (is_valid = false), or test it with IS NULL"
                .into(),
        );
    }
    if let Some(c) = OUTER_COLUMN.captures(message) {
        let column = &c[1];
        return Some(format!(
            "{column} is read from another table of the FROM (a lateral join, such as CROSS JOIN \
             unnest({column})), which is not supported: unnest in the select list instead \
             (SELECT sid, unnest({column}) AS item FROM aws.ecr.registry_policy_statements)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datafusions_words_become_skyqls() {
        let time = reworded(
            "Arrow error: Parser error: Error parsing timestamp from 'yesterday': timestamp must \
             contain at least 10 characters",
        )
        .unwrap();
        assert!(time.starts_with("'yesterday' is not a time"), "{time}");
        for m in [
            "Error during planning: Cannot infer common argument type for comparison operation Boolean = Utf8",
            "Error during planning: Cannot infer common argument type for comparison operation Utf8 != Boolean",
        ] {
            assert!(
                reworded(m)
                    .unwrap()
                    .contains("compare it with true or false"),
                "{m}"
            );
        }
        let lateral = reworded(
            r#"This feature is not implemented: Physical plan does not support logical expression OuterReferenceColumn(Field { name: "actions", data_type: List(Field { data_type: Utf8, nullable: true }), nullable: true }, Column { relation: Some(Bare { table: "s" }), name: "actions" })"#,
        )
        .unwrap();
        assert!(
            lateral.starts_with("actions is read from another table"),
            "{lateral}"
        );
        assert!(lateral.contains("unnest(actions) AS item"), "{lateral}");
        assert_eq!(reworded("No field named x."), None);
        let runtime = reword(Error::Runtime("Error parsing timestamp from 'x'".into()));
        assert!(matches!(runtime, Error::Runtime(m) if m.starts_with("Error parsing")));
    }
}
