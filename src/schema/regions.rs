//! Region names checked against the provider's list before any call.

use crate::error::{Error, Result};
use crate::suggest::closest;

/// Checks a region name against the provider's list, suggesting the closest.
pub fn check_region(region: &str, known_regions: &[String]) -> Result<()> {
    if known_regions.iter().any(|r| r == region) {
        return Ok(());
    }
    let hint = closest(region, known_regions.iter().map(String::as_str))
        .map(|c| format!(" Did you mean '{c}'?"))
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "unknown region '{region}'.{hint} Regions where ECR is offered: {}",
        known_regions.join(", ")
    )))
}
