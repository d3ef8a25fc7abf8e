//! The awsJson1.1 wire format of errors, and ECR-style constraint-violation messages.

use serde_json::{Value, json};

/// An error answer: HTTP status, the `__type` error code and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// The error code, e.g. `PullThroughCacheRuleNotFoundException`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with HTTP 400, the status of every client-side ECR exception.
    pub fn client(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            message: message.into(),
        }
    }

    /// `InvalidParameterException`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::client("InvalidParameterException", message)
    }

    /// `InvalidParameterException` for a value that passes the service model's constraints but
    /// not ECR's own checks, worded like ECR's:
    /// `Invalid parameter at 'member' failed to satisfy constraint: 'why'`.
    pub fn invalid_constraint(member: &str, why: &str) -> Self {
        Self::invalid_parameter(format!(
            "Invalid parameter at '{member}' failed to satisfy constraint: '{why}'"
        ))
    }

    /// `SerializationException` (the body is not the JSON the operation takes).
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }

    /// `UnknownOperationException`, which AWS answers with HTTP 404.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self {
            status: 404,
            code: "UnknownOperationException",
            message: message.into(),
        }
    }

    /// `ServerException` (HTTP 500).
    pub fn server(message: impl Into<String>) -> Self {
        Self {
            status: 500,
            code: "ServerException",
            message: message.into(),
        }
    }

    /// An authentication failure (HTTP 403).
    pub fn auth(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 403,
            code,
            message: message.into(),
        }
    }

    /// The JSON body AWS sends with the error.
    pub fn body(&self) -> Value {
        json!({ "__type": self.code, "message": self.message })
    }
}

/// Collects constraint violations and reports them the way AWS does:
/// `2 validation errors detected: Value 'x' at 'member' failed to satisfy constraint: …; …`.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// Records that `value` at `member` broke `constraint` (a `Member must …` sentence).
    pub fn add(&mut self, member: &str, value: Option<&str>, constraint: &str) {
        let shown = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.0.push(format!(
            "Value {shown} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// Checks a required member: records `Member must not be null` when absent.
    pub fn required<'a>(&mut self, member: &str, value: Option<&'a str>) -> Option<&'a str> {
        if value.is_none() {
            self.add(member, None, "Member must not be null");
        }
        value
    }

    /// Runs `check` on a present value and records its violation, if any.
    pub fn check(
        &mut self,
        member: &str,
        value: Option<&str>,
        check: impl Fn(&str) -> Result<(), String>,
    ) {
        if let Some(v) = value
            && let Err(why) = check(v)
        {
            self.add(member, Some(v), &why);
        }
    }

    /// Runs `check` on every member of a list, naming each as AWS does: `member.1.member`, ….
    pub fn check_each(
        &mut self,
        member: &str,
        values: &[String],
        check: impl Fn(&str) -> Result<(), String>,
    ) {
        for (i, value) in values.iter().enumerate() {
            self.check(&format!("{member}.{}.member", i + 1), Some(value), &check);
        }
    }

    /// Checks a list of enum values, recording a violation that shows the whole list the way
    /// AWS does: `Value '[A, B]' at 'member' failed to satisfy constraint: Member must satisfy
    /// constraint: [Member must satisfy enum value set: […]]`.
    pub fn check_enum_list(&mut self, member: &str, values: &[String], allowed: &[&str]) {
        if values.iter().any(|v| !allowed.contains(&v.as_str())) {
            self.add(
                member,
                Some(&format!("[{}]", values.join(", "))),
                &format!(
                    "Member must satisfy constraint: [{}]",
                    crate::resources::ecr::constraints::enum_violation(allowed)
                ),
            );
        }
    }

    /// `Ok` when nothing was recorded, else a `ValidationException`.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            n => {
                let noun = if n == 1 { "error" } else { "errors" };
                Err(ApiError::client(
                    "ValidationException",
                    format!("{n} validation {noun} detected: {}", self.0.join("; ")),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_read_like_aws() {
        let mut v = Violations::default();
        v.required("ecrRepositoryPrefix", None);
        v.add(
            "maxResults",
            Some("0"),
            "Member must have value greater than or equal to 1",
        );
        let err = v.finish().unwrap_err();
        assert_eq!(err.code, "ValidationException");
        assert_eq!(
            err.message,
            "2 validation errors detected: Value null at 'ecrRepositoryPrefix' failed to satisfy \
             constraint: Member must not be null; Value '0' at 'maxResults' failed to satisfy \
             constraint: Member must have value greater than or equal to 1"
        );
        assert!(Violations::default().finish().is_ok());
    }

    #[test]
    fn list_members_are_numbered_from_one() {
        let mut v = Violations::default();
        v.check_each("prefixes", &["ok".into(), "BAD".into()], |p| {
            if p == "BAD" {
                Err("Member must be lower case".into())
            } else {
                Ok(())
            }
        });
        v.check_enum_list(
            "appliedFor",
            &["REPLICATION".into(), "X".into()],
            &["REPLICATION"],
        );
        v.check_enum_list("appliedFor", &["REPLICATION".into()], &["REPLICATION"]);
        assert_eq!(
            v.finish().unwrap_err().message,
            "2 validation errors detected: Value 'BAD' at 'prefixes.2.member' failed to satisfy \
             constraint: Member must be lower case; Value '[REPLICATION, X]' at 'appliedFor' failed \
             to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value \
             set: [REPLICATION]]"
        );
        assert_eq!(
            ApiError::invalid_constraint("lifecyclePolicy", "not JSON").message,
            "Invalid parameter at 'lifecyclePolicy' failed to satisfy constraint: 'not JSON'"
        );
    }
}
