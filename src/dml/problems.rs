//! Problems found in a statement's rows before any call: each names the row and column, and
//! all of them are reported at once.

use crate::error::{Error, Result};
use crate::schema::{check_region, schemas};

/// At most this many problems are listed before "and N more".
const MAX_LISTED: usize = 20;

/// The region of row `row`: the one it gives, else the session's only region.
pub fn region_or_default(
    given: Option<&str>,
    row: usize,
    default_regions: &Result<Vec<String>, String>,
) -> Result<String, String> {
    if let Some(r) = given {
        return Ok(r.to_string());
    }
    match default_regions {
        Ok(regions) if regions.len() == 1 => Ok(regions[0].clone()),
        Ok(regions) => Err(format!(
            "row {row}: region is not set and the session has {} regions ({}): give the row a region",
            regions.len(),
            regions.join(", ")
        )),
        Err(why) => Err(format!("row {row}: region is not set, and {why}")),
    }
}

/// The region of row `row` (given, else the session's only one), checked against the
/// regions provider-schemas knows.
pub fn checked_region(
    given: Option<&str>,
    row: usize,
    default_regions: &Result<Vec<String>, String>,
) -> Result<String, String> {
    let region = region_or_default(given, row, default_regions)?;
    check_region(&region, &schemas().provider.regions)
        .map(|_| region)
        .map_err(|e| format!("row {row}: region: {e}"))
}

/// The problem of an INSERT row that gives a value to a column AWS sets.
pub fn set_by_aws(row: usize, column: &str) -> String {
    format!("row {row}: {column}: is set by AWS and cannot be given (leave it out or NULL)")
}

/// Fails with every problem listed (the first 20), or succeeds when there is none.
pub fn report_problems(problems: &[String]) -> Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    let more = problems.len().saturating_sub(MAX_LISTED);
    let mut text = format!(
        "{} problem(s) in the rows; nothing was sent:\n  {}",
        problems.len(),
        problems
            .iter()
            .take(MAX_LISTED)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    if more > 0 {
        text.push_str(&format!("\n  … and {more} more"));
    }
    Err(Error::Usage(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_defaults_only_to_a_single_session_region() {
        let one = Ok(vec!["eu-west-1".to_string()]);
        assert_eq!(region_or_default(None, 3, &one), Ok("eu-west-1".into()));
        assert_eq!(region_or_default(Some("x"), 3, &one), Ok("x".into()));
        let two = Ok(vec!["a".to_string(), "b".to_string()]);
        let why = region_or_default(None, 3, &two).unwrap_err();
        assert!(
            why.starts_with("row 3: region is not set and the session has 2 regions (a, b)"),
            "{why}"
        );
    }

    #[test]
    fn every_problem_is_counted_and_the_first_twenty_listed() {
        assert!(report_problems(&[]).is_ok());
        let problems: Vec<String> = (1..=22).map(|n| format!("row {n}: x")).collect();
        let text = report_problems(&problems).unwrap_err().to_string();
        assert!(
            text.contains("22 problem(s) in the rows; nothing was sent"),
            "{text}"
        );
        assert!(
            text.contains("row 20: x") && !text.contains("row 21: x"),
            "{text}"
        );
        assert!(text.ends_with("… and 2 more"), "{text}");
    }
}
