//! "Did you mean …?" for unknown names: the closest candidate by edit distance.

use datafusion::common::utils::datafusion_strsim::levenshtein;

/// The candidate closest to `name` (case-insensitive), if it is close enough to be a typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&wanted, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        // Between equally close names, the one of the typed length: a typo replaces a
        // character more often than it adds one (`rulez` is `rules`, not `rule`).
        .min_by_key(|(d, c)| (*d, c.len().abs_diff(wanted.len())))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_only() {
        let names = ["region", "registry_id", "ecr_repository_prefix"];
        assert_eq!(closest("regoin", names), Some("region"));
        assert_eq!(
            closest("ecr_repo_prefix", names),
            Some("ecr_repository_prefix")
        );
        assert_eq!(closest("zzz", names), None);
    }
}
