//! The ECR IAM action list (provider-schemas/aws/actions/ecr.yaml) and the check of the action
//! names a registry policy statement grants.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::suggest::closest;

/// The action list file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionList {
    /// The IAM service prefix (`ecr`).
    pub service: String,
    /// Where the list comes from.
    pub source: String,
    /// When it was extracted (the list knows no action added since).
    pub extracted: String,
    /// Every action.
    pub actions: Vec<Action>,
}

/// One IAM action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// The name without its prefix (`BatchImportUpstreamImage`).
    pub name: String,
    /// What it grants permission to do.
    pub grants: String,
}

/// The embedded file's path and text.
pub const ACTIONS_FILE: (&str, &str) = (
    "provider-schemas/aws/actions/ecr.yaml",
    include_str!("../../provider-schemas/aws/actions/ecr.yaml"),
);

static ECR_ACTIONS: LazyLock<ActionList> = LazyLock::new(|| {
    serde_yaml_ng::from_str(ACTIONS_FILE.1)
        .unwrap_or_else(|e| panic!("{} is invalid: {e}", ACTIONS_FILE.0))
});

/// The ECR action list (checked by a test, so this never fails in a release).
pub fn ecr_actions() -> &'static ActionList {
    &ECR_ACTIONS
}

/// Checks one action a registry policy statement names: `*`, `ecr:*`, an ECR action (IAM names
/// are case-insensitive) or a wildcard pattern matching at least one. The error says what is
/// wrong and suggests the nearest valid action.
pub fn check_action(action: &str) -> Result<(), String> {
    let list = ecr_actions();
    let names = || list.actions.iter().map(|a| a.name.as_str());
    if action == "*" {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        let hint = closest(action, names())
            .map(|c| format!(" (did you mean '{}:{c}'?)", list.service))
            .unwrap_or_default();
        return Err(format!(
            "action '{action}' has no service prefix: write it as '{}:<Action>'{hint}",
            list.service
        ));
    };
    if !service.eq_ignore_ascii_case(&list.service) {
        return Err(format!(
            "action '{action}' is not an ECR action: a registry policy can grant only {}:… actions",
            list.service
        ));
    }
    if name.contains(['*', '?']) {
        if names().any(|n| glob_match(&name.to_ascii_lowercase(), &n.to_ascii_lowercase())) {
            return Ok(());
        }
        return Err(format!(
            "action pattern '{action}' matches no ECR action (the list of {} actions, extracted {}, is in {})",
            list.actions.len(),
            list.extracted,
            ACTIONS_FILE.0
        ));
    }
    if names().any(|n| n.eq_ignore_ascii_case(name)) {
        return Ok(());
    }
    let hint = closest(name, names())
        .map(|c| format!(" Did you mean '{}:{c}'?", list.service))
        .unwrap_or_else(|| format!(" The ECR actions are listed in {}.", ACTIONS_FILE.0));
    Err(format!("unknown ECR action '{action}'.{hint}"))
}

/// IAM's wildcard match: `*` any run of characters, `?` exactly one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_seed_list() {
        let list = ecr_actions();
        assert_eq!(list.service, "ecr");
        // The seed's 48, and UpdateRepositoryCreationTemplate, which the ECR guide names.
        assert_eq!(list.actions.len(), 49);
        assert!(
            list.actions
                .iter()
                .any(|a| a.name == "BatchImportUpstreamImage")
        );
    }

    #[test]
    fn accepts_actions_wildcards_and_any_case() {
        for ok in [
            "*",
            "ecr:*",
            "ecr:BatchImportUpstreamImage",
            "ECR:batchimportupstreamimage",
            "ecr:Describe*",
            "ecr:*PullThroughCacheRule",
            "ecr:Get?egistryPolicy",
        ] {
            assert_eq!(check_action(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_with_a_suggestion() {
        let e = check_action("ecr:BatchImportUpstreamImages").unwrap_err();
        assert!(
            e.contains("Did you mean 'ecr:BatchImportUpstreamImage'?"),
            "{e}"
        );
        let e = check_action("CreateRepository").unwrap_err();
        assert!(e.contains("did you mean 'ecr:CreateRepository'"), "{e}");
        let e = check_action("s3:GetObject").unwrap_err();
        assert!(e.contains("not an ECR action"), "{e}");
        let e = check_action("ecr:Frobnicate*").unwrap_err();
        assert!(e.contains("matches no ECR action"), "{e}");
    }

    #[test]
    fn glob() {
        assert!(glob_match("describe*", "describeimages"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b", "axxc"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
    }
}
