//! The operations the sandbox answers: each resource file registers its own
//! (`sandbox_operations!`), so no list names them all and none can be forgotten.

use serde_json::Value;

use super::registry::Registry;
use super::wire::ApiError;

/// Answers one operation in a region on the registry state, at the time `now` (epoch seconds).
pub type Handler = fn(&mut Registry, &str, Value, f64) -> Result<Value, ApiError>;

/// Whether an operation changes the registry (and so its state file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads only.
    Read,
    /// Changes the registry.
    Change,
}

/// One ECR operation the sandbox implements.
pub struct SandboxOperation {
    /// Its name (`DescribeRepositories`).
    pub name: &'static str,
    /// Whether it changes the registry.
    pub kind: Kind,
    /// What answers it.
    pub handle: Handler,
}

inventory::collect!(SandboxOperation);

/// Registers sandbox operations: `sandbox_operations!(Read DescribeImages => handler; …)`.
#[macro_export]
macro_rules! sandbox_operations {
    ($($kind:ident $name:ident => $handle:expr;)+) => {$(
        ::inventory::submit! {
            $crate::sandbox::operations::SandboxOperation {
                name: stringify!($name),
                kind: $crate::sandbox::operations::Kind::$kind,
                handle: $handle,
            }
        }
    )+};
}

/// The operation registered as `name`.
pub fn operation(name: &str) -> Option<&'static SandboxOperation> {
    inventory::iter::<SandboxOperation>
        .into_iter()
        .find(|o| o.name == name)
}

/// Every operation's name, sorted (for the sandbox's banner and tests).
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<_> = inventory::iter::<SandboxOperation>
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_is_registered_once() {
        // `operation` answers with the first registration, so a second one would never be used.
        let names = names();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
        assert!(operation("DescribeRepositories").is_some_and(|o| o.kind == Kind::Read));
        assert!(operation("BatchDeleteImage").is_some_and(|o| o.kind == Kind::Change));
        assert!(operation("DescribeEverything").is_none());
    }
}
