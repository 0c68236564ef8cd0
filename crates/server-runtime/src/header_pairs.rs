//! A request's headers as parameter values: names matched without regard to case (HTTP's rule)
//! and every value of a name kept in the order sent, so that [`parameter`](crate::parameter)
//! reports a header parameter sent twice instead of reading one of its values.

use std::collections::HashMap;

use http::HeaderMap;

use crate::parameters::ParameterSource;

/// `headers`' values by name; a value that is not UTF-8 has its bytes replaced, as a query's
/// escapes are, so that the schema reports it rather than the header being taken as absent.
pub fn header_pairs(headers: &HeaderMap) -> HeaderPairs {
    let mut pairs = HeaderPairs::default();
    for (name, value) in headers {
        pairs
            .0
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    pairs
}

/// A request's header values by lower-case name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderPairs(HashMap<String, Vec<String>>);

impl ParameterSource for HeaderPairs {
    fn values(&self, name: &str) -> &[String] {
        self.0
            .get(&name.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn names_match_without_case_and_repeats_keep_every_value() {
        let mut headers = HeaderMap::new();
        headers.append("client_id", HeaderValue::from_static("one"));
        headers.append("Client_ID", HeaderValue::from_static("two"));
        headers.append("x-other", HeaderValue::from_static(""));
        let pairs = header_pairs(&headers);
        assert_eq!(pairs.values("client_id"), ["one", "two"]);
        assert_eq!(pairs.values("CLIENT_ID"), ["one", "two"]);
        assert_eq!(pairs.values("X-Other"), [""]);
        assert!(pairs.values("absent").is_empty());
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-bytes",
            HeaderValue::from_bytes(b"a\xffb").expect("obs-text is a header value"),
        );
        assert_eq!(header_pairs(&headers).values("x-bytes"), ["a\u{FFFD}b"]);
    }
}
