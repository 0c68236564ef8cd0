//! A query string as its pairs, percent-decoded, with every value of a name kept in the order
//! sent: nothing is chosen here, so that [`parameter`](crate::parameter) can report a
//! name given twice instead of silently reading one of its values.

use std::collections::HashMap;

use crate::parameters::ParameterSource;

/// The query string's pairs, percent-decoded, every value of a name kept in order: a name given
/// twice is a violation of its parameter ([`parameter`](crate::parameter)), not a choice between
/// its values.
pub fn query_pairs(query: Option<&str>) -> QueryPairs {
    let mut pairs = QueryPairs::default();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned() {
        pairs.0.entry(name).or_default().push(value);
    }
    pairs
}

/// A query string's values by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPairs(HashMap<String, Vec<String>>);

impl ParameterSource for QueryPairs {
    fn values(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_keep_every_value_in_order() {
        let pairs = query_pairs(Some("a=2&b=x&a=1&a=2"));
        assert_eq!(pairs.values("a"), ["2", "1", "2"]);
        assert_eq!(pairs.values("b"), ["x"]);
    }

    /// A name that was not sent has no values, whether the query is absent, empty or names
    /// others; names are case-sensitive.
    #[test]
    fn unknown_names_have_no_values() {
        for query in [None, Some(""), Some("b=1"), Some("A=1")] {
            assert!(query_pairs(query).values("a").is_empty(), "{query:?}");
        }
        assert_eq!(query_pairs(None), query_pairs(Some("")));
    }

    /// Empty pieces (`&&`, a leading or trailing `&`) are no pairs; a name without `=` and a
    /// name with `=` and nothing after are both the empty value; an empty name is a name.
    #[test]
    fn empty_names_and_values() {
        let pairs = query_pairs(Some("&&flag&blank=&=orphan&"));
        assert_eq!(pairs.values("flag"), [""]);
        assert_eq!(pairs.values("blank"), [""]);
        assert_eq!(pairs.values(""), ["orphan"]);
        assert_eq!(query_pairs(Some("&&&")), QueryPairs::default());
    }

    /// `+` is a space and escapes are decoded in names and values alike; only the first `=`
    /// separates; an escape that is not UTF-8 is replaced, not refused (unlike a form body).
    #[test]
    fn names_and_values_are_percent_decoded() {
        let pairs = query_pairs(Some("a+b=c%20d+e&x%3Dy=1=2&bad=%FF&pct=%"));
        assert_eq!(pairs.values("a b"), ["c d e"]);
        assert_eq!(pairs.values("x=y"), ["1=2"]);
        assert_eq!(pairs.values("bad"), ["\u{FFFD}"]);
        assert_eq!(pairs.values("pct"), ["%"]);
    }
}
