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
}
