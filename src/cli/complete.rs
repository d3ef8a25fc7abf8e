//! Tab completion of the shell as a pure function: keywords, provider, services, resources,
//! columns of the tables in the statement, and regions inside `region = '…'`, all from
//! provider-schemas.

use std::sync::LazyLock;

use regex::Regex;

use super::shell_commands::COMMANDS;
use crate::schema::{Resource, schemas};

/// SQL and meta-statement keywords offered for a word being typed.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "AS",
    "ORDER",
    "BY",
    "GROUP",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "COUNT",
    "ASC",
    "DESC",
    "JOIN",
    "LEFT",
    "INNER",
    "ON",
    "UNION",
    "ALL",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "EXPLAIN",
    "COPY",
    "TO",
    "WITH",
    "CREATE",
    "VIEW",
    "SHOW",
    "PROVIDERS",
    "SERVICES",
    "RESOURCES",
    "METHODS",
    "DESCRIBE",
    "EXTENDED",
    "CONFLICT",
    "DO",
    "NOTHING",
];

static REGION_LIST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)\bregion\s*(=|IN\s*\((\s*'[^']*'\s*,)*)\s*$").expect("valid")
});
static TABLE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b([a-z0-9_]+)\.([a-z0-9_]+)\.([a-z0-9_]+)\b"#).expect("valid")
});

/// Completions of `line` at byte offset `pos`: where the replaced text starts, and the
/// candidates (sorted, deduplicated). `line` is the whole input, so a multi-line statement's
/// tables count.
pub fn complete(line: &str, pos: usize) -> (usize, Vec<String>) {
    let pos = pos.min(line.len());
    let before = &line[..pos];
    // Inside a quoted string: only region names, and only after `region =` / `region IN (`.
    if let Some(quote) = open_quote(before) {
        let prefix = &before[quote + 1..];
        if REGION_LIST.is_match(&before[..quote]) {
            let regions = schemas()
                .provider
                .regions
                .iter()
                .filter(|r| r.starts_with(prefix));
            return (quote + 1, sorted(regions.cloned()));
        }
        return (pos, Vec::new());
    }
    // The first argument of a backslash command that takes words: `\x o` → off, on.
    if let Some((command, arg)) = before.trim_start().split_once(char::is_whitespace)
        && let Some(info) = COMMANDS
            .iter()
            .find(|c| c.name == command && !c.choices.is_empty())
    {
        let arg = arg.trim_start();
        if arg.contains(char::is_whitespace) {
            return (pos, Vec::new());
        }
        let choices = info.choices.iter().filter(|c| starts_with_ci(c, arg));
        return (pos - arg.len(), sorted(choices.map(|c| c.to_string())));
    }
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\' | '"')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    if word.starts_with('\\') {
        let commands = COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with(word));
        return (start, sorted(commands.map(str::to_string)));
    }
    let s = schemas();
    if let Some(dot) = word.rfind('.') {
        let qualifier = word[..dot].replace('"', "").to_ascii_lowercase();
        let partial = &word[dot + 1..];
        let names: Vec<String> = match qualifier.split('.').collect::<Vec<_>>()[..] {
            [p] if p == s.provider.name => s
                .provider
                .services
                .iter()
                .map(|svc| svc.name.clone())
                .collect(),
            [p, service] if p == s.provider.name => s
                .resources_of(service)
                .map(|r| r.name().to_string())
                .collect(),
            // `table.column` or `alias.column`: the columns of the statement's tables.
            _ => columns_of(&tables_in(statement_at(line, pos))),
        };
        let matching = names.into_iter().filter(|n| starts_with_ci(n, partial));
        return (start + dot + 1, sorted(matching));
    }
    let mut names = columns_of(&tables_in(statement_at(line, pos)));
    names.push(s.provider.name.clone());
    if !word.is_empty() {
        let lower = word.chars().next().is_some_and(char::is_lowercase);
        names.extend(KEYWORDS.iter().map(|k| {
            if lower {
                k.to_ascii_lowercase()
            } else {
                k.to_string()
            }
        }));
    }
    (
        start,
        sorted(names.into_iter().filter(|n| starts_with_ci(n, word))),
    )
}

/// The byte offset of the quote that opens an unterminated string in `text`, if any.
fn open_quote(text: &str) -> Option<usize> {
    let mut open = None;
    for (i, c) in text.char_indices() {
        if c == '\'' {
            open = if open.is_some() { None } else { Some(i) };
        }
    }
    open
}

/// The statement around `pos`: from the `;` before it to the `;` after it.
fn statement_at(line: &str, pos: usize) -> &str {
    let from = line[..pos].rfind(';').map_or(0, |i| i + 1);
    let to = line[pos..].find(';').map_or(line.len(), |i| pos + i);
    &line[from..to]
}

/// The provider's resources named (`aws.ecr.<resource>`) in `statement`.
fn tables_in(statement: &str) -> Vec<&'static Resource> {
    let s = schemas();
    TABLE_NAME
        .captures_iter(statement)
        .filter(|c| c[1].eq_ignore_ascii_case(&s.provider.name))
        .filter_map(|c| s.resource(&c[2].to_ascii_lowercase(), &c[3].to_ascii_lowercase()))
        .collect()
}

fn columns_of(resources: &[&Resource]) -> Vec<String> {
    resources
        .iter()
        .flat_map(|r| {
            r.columns
                .iter()
                .map(|c| c.name.clone())
                .chain(r.aliases().map(|(a, _)| a.to_string()))
        })
        .collect()
}

fn starts_with_ci(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = names.collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_end(line: &str) -> (usize, Vec<String>) {
        complete(line, line.len())
    }

    #[test]
    fn keywords_in_the_case_typed() {
        assert_eq!(at_end("SEL"), (0, vec!["SELECT".to_string()]));
        assert_eq!(at_end("sel"), (0, vec!["select".to_string()]));
        assert!(at_end("SELECT * FR").1.contains(&"FROM".to_string()));
    }

    #[test]
    fn provider_services_and_resources() {
        assert_eq!(
            at_end("SELECT * FROM a").1,
            ["all", "and", "as", "asc", "aws"]
        );
        assert_eq!(at_end("SELECT * FROM aws."), (18, vec!["ecr".to_string()]));
        let (start, names) = at_end("SELECT * FROM aws.ecr.pull");
        assert_eq!(start, 22);
        assert_eq!(
            names,
            ["pull_through_cache_rule", "pull_through_cache_rules"]
        );
    }

    #[test]
    fn columns_of_the_tables_in_the_statement() {
        let line = "SELECT upstream_reg FROM aws.ecr.pull_through_cache_rules";
        let (start, names) = complete(line, "SELECT upstream_reg".len());
        assert_eq!(start, 7);
        assert_eq!(names, ["upstream_registry", "upstream_registry_url"]);
        // Multi-line, and after a qualifier.
        let line = "SELECT r.cred\nFROM aws.ecr.pull_through_cache_rules r";
        assert_eq!(complete(line, 13), (9, vec!["credential_arn".to_string()]));
        // Another statement's tables do not count.
        assert!(
            at_end("SELECT 1 FROM aws.ecr.pull_through_cache_rules; SELECT cred")
                .1
                .is_empty()
        );
        assert!(
            at_end("SELECT * FROM aws.ecr.pull_through_cache_rules WHERE data__")
                .1
                .contains(&"data__Identifier".to_string())
        );
    }

    #[test]
    fn regions_inside_region_predicates() {
        let line = "SELECT * FROM aws.ecr.pull_through_cache_rules WHERE region = 'eu-w";
        let (start, names) = at_end(line);
        assert_eq!(start, line.len() - 4);
        assert!(
            names.contains(&"eu-west-1".to_string()) && names.iter().all(|n| n.starts_with("eu-w"))
        );
        let line =
            "SELECT 1 FROM aws.ecr.pull_through_cache_rules WHERE region IN ('us-east-1', 'us-w";
        assert_eq!(at_end(line).1, ["us-west-1", "us-west-2"]);
        assert!(at_end("SELECT 'us-").1.is_empty());
    }

    #[test]
    fn backslash_commands() {
        let (start, names) = at_end("\\ti");
        assert_eq!((start, names), (0, vec!["\\timing".to_string()]));
        assert_eq!(at_end("\\p").1, ["\\profile", "\\pset"]);
        assert_eq!(
            at_end("\\x o"),
            (3, vec!["off".to_string(), "on".to_string()])
        );
        assert_eq!(at_end("\\pset pa"), (6, vec!["pager".to_string()]));
        assert!(at_end("\\pset pager o").1.is_empty());
        // `\d` completes table names as a statement does.
        assert_eq!(at_end("\\d aws.").1, ["ecr"]);
    }
}
