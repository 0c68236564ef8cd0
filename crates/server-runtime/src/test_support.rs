//! Helpers the unit tests of several modules share: a request's headers built from pairs.

use http::{HeaderMap, HeaderName, HeaderValue};

/// A header map with these (name, value) pairs, a name given twice kept twice.
pub(crate) fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
        .collect()
}
