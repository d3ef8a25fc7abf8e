//! Splits typed or scripted text into statements at `;` outside quotes and comments, and tells
//! the shell whether its input is complete.

/// The statements of `text`, trimmed, without their `;`, blank ones dropped.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in terminators(text) {
        push_nonblank(&mut out, &text[start..end]);
        start = end + 1;
    }
    push_nonblank(&mut out, &text[start..]);
    out
}

/// Whether the shell has a whole input: blank, a backslash command (one line), or text whose
/// last non-blank, non-comment character is a `;` outside quotes.
pub fn is_complete(text: &str) -> bool {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('\\') || shell_word(trimmed).is_some() {
        return true;
    }
    match terminators(text).last() {
        Some(&last) => strip_comments(&text[last + 1..]).trim().is_empty(),
        None => false,
    }
}

/// psql 11+'s bare words, accepted on a line of their own (with or without `;`): `exit` and
/// `quit` leave the shell, `help` shows the help. Answers the backslash command each stands for.
pub fn shell_word(line: &str) -> Option<&'static str> {
    match line
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "exit" | "quit" => Some("\\q"),
        "help" => Some("\\?"),
        _ => None,
    }
}

fn push_nonblank(out: &mut Vec<String>, piece: &str) {
    if !strip_comments(piece).trim().is_empty() {
        out.push(piece.trim().to_string());
    }
}

/// Byte offsets of the `;` that end statements (not inside quotes or `--` comments).
fn terminators(text: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if comment {
            comment = c != '\n';
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '-') if chars.peek().map(|(_, n)| *n) == Some('-') => comment = true,
            (None, ';') => found.push(i),
            _ => {}
        }
    }
    found
}

/// `text` without `--` comments (outside quotes), for blank checks.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("--") {
            Some(i) if !line[..i].contains('\'') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psqls_bare_words_end_the_line() {
        for (line, command) in [
            ("exit", Some("\\q")),
            ("quit;", Some("\\q")),
            (" Help ", Some("\\?")),
            ("exit now", None),
        ] {
            assert_eq!(shell_word(line), command, "{line}");
        }
        assert!(is_complete("quit"));
        assert!(!is_complete("SELECT exit"));
    }

    #[test]
    fn splits_outside_quotes() {
        assert_eq!(
            split_statements("SELECT ';'; SHOW PROVIDERS ;\n\n-- done\n"),
            ["SELECT ';'", "SHOW PROVIDERS"]
        );
        assert!(split_statements("  ;; ").is_empty());
    }

    #[test]
    fn completeness() {
        assert!(is_complete(""));
        assert!(is_complete("\\o csv"));
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1; -- trailing"));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT ';"));
        assert!(!is_complete("SELECT 1 -- ;"));
        assert!(!is_complete("SELECT 1;\nSELECT 2"));
    }
}
