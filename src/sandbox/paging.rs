//! Pagination of the sandbox's Describe operations: `maxResults` pages and opaque `nextToken`s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{ApiError, Violations};
use crate::resources::ecr::constraints as c;

/// The opaque pagination token: the region and the last key returned, base64-encoded.
#[derive(Debug, Serialize, Deserialize)]
struct PageToken {
    r: String,
    after: String,
}

/// Records a `maxResults` outside the bounds every paginated ECR Describe shares (1 to 1000).
pub fn check_max_results(v: &mut Violations, max_results: Option<i64>) {
    if let Some(n) = max_results
        && !(c::MAX_RESULTS.0..=c::MAX_RESULTS.1).contains(&n)
    {
        let bound = if n < c::MAX_RESULTS.0 {
            format!("greater than or equal to {}", c::MAX_RESULTS.0)
        } else {
            format!("less than or equal to {}", c::MAX_RESULTS.1)
        };
        v.add(
            "maxResults",
            Some(&n.to_string()),
            &format!("Member must have value {bound}"),
        );
    }
}

/// One page of `selected` (sorted by `key`, as a region's maps keep them): the items after the
/// token's key, at most `max_results` of them (100 when not given), and the token of the next
/// page when more remain. A token is bound to the region it was issued in.
pub fn page<T>(
    selected: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> String,
    region: &str,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = match next_token {
        Some(token) => Some(decode_token(token, region)?),
        None => None,
    };
    let page_size = max_results.map_or(c::DEFAULT_PAGE_SIZE, |n| n as usize);
    let mut remaining = selected
        .into_iter()
        .filter(|item| after.as_ref().is_none_or(|a| key(item) > *a));
    let page: Vec<T> = remaining.by_ref().take(page_size).collect();
    let next = match (remaining.next(), page.last()) {
        (Some(_), Some(last)) => Some(encode_token(region, &key(last))),
        _ => None,
    };
    Ok((page, next))
}

/// One page of a store's items (in key order), of the keys in `wanted` or of all.
pub fn store_page(
    store: &BTreeMap<String, Value>,
    wanted: Option<&[String]>,
    region: &str,
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let selected = (store.iter()).filter(|(k, _)| wanted.is_none_or(|w| w.contains(k)));
    let key = |(k, _): &(&String, &Value)| k.to_string();
    let (page, next) = page(selected, key, region, next_token, max_results)?;
    Ok((
        page.into_iter().map(|(_, item)| item.clone()).collect(),
        next,
    ))
}

/// A listing's answer: `out`'s members, the page as `member`, and the next page's token.
pub fn listing(
    mut out: Value,
    member: &str,
    page: impl IntoIterator<Item = Value>,
    next: Option<String>,
) -> Value {
    out[member] = Value::Array(page.into_iter().collect());
    if let Some(token) = next {
        out["nextToken"] = Value::String(token);
    }
    out
}

/// Checks a Describe that lists either a page (`maxResults`) or the identifiers given in
/// `member` (`repositoryNames`, `imageIds`: 1 to 100 of them), never both, as ECR does.
pub fn check_ids(
    member: &str,
    ids: Option<usize>,
    max_results: Option<i64>,
) -> Result<(), ApiError> {
    let mut v = Violations::default();
    check_max_results(&mut v, max_results);
    if ids.is_some_and(|n| n == 0 || n > c::IDS_PER_CALL) {
        let bound = c::IDS_PER_CALL;
        v.add(
            member,
            None,
            &format!("Member must have length between 1 and {bound}"),
        );
    }
    v.finish()?;
    if ids.is_some() && max_results.is_some() {
        return Err(ApiError::invalid_parameter(format!(
            "maxResults cannot be used with {member}"
        )));
    }
    Ok(())
}

/// A token that pages from the first item (for a service that answers an empty first page).
pub fn first_token(region: &str) -> String {
    encode_token(region, "")
}

fn encode_token(region: &str, after: &str) -> String {
    use base64::Engine;
    let raw = serde_json::to_vec(&PageToken {
        r: region.into(),
        after: after.into(),
    })
    .expect("serialisable");
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn decode_token(token: &str, region: &str) -> Result<String, ApiError> {
    use base64::Engine;
    let invalid = || {
        ApiError::invalid_parameter(
            "Invalid parameter at 'nextToken': the pagination token is invalid",
        )
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let t: PageToken = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    if t.r != region {
        return Err(invalid());
    }
    Ok(t.after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_tokens_and_stay_in_their_region() {
        let items: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
        let key = |s: &&String| s.to_string();
        let (first, token) = page(&items, key, "us-east-1", None, Some(2)).unwrap();
        assert_eq!(first, [&items[0], &items[1]]);
        let token = token.expect("more remain");
        let (second, _) = page(&items, key, "us-east-1", Some(&token), Some(2)).unwrap();
        assert_eq!(second, [&items[2], &items[3]]);
        let (all, none) = page(&items, key, "us-east-1", None, None).unwrap();
        assert_eq!((all.len(), none), (5, None));
        // A full last page carries no token.
        let (exact, none) = page(&items, key, "us-east-1", None, Some(5)).unwrap();
        assert_eq!((exact.len(), none), (5, None));
        let err = page(&items, key, "eu-west-1", Some(&token), None).unwrap_err();
        assert_eq!(err.code, "InvalidParameterException");
        assert!(page(&items, key, "us-east-1", Some("%%%"), None).is_err());
    }

    #[test]
    fn max_results_bounds() {
        let mut v = Violations::default();
        check_max_results(&mut v, Some(1));
        check_max_results(&mut v, Some(1000));
        check_max_results(&mut v, None);
        assert!(v.finish().is_ok());
        let mut v = Violations::default();
        check_max_results(&mut v, Some(0));
        check_max_results(&mut v, Some(1001));
        let message = v.finish().unwrap_err().message;
        assert!(message.contains("greater than or equal to 1"), "{message}");
        assert!(message.contains("less than or equal to 1000"), "{message}");
    }
}
