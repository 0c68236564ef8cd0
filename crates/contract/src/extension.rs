//! The `x-contract` extension, read by serde into typed structs that refuse a key they do not
//! know, the error naming the key's path: at the document's root (the answers to requests no
//! operation documents, the throttled answer, how the API's error answers are built), on an
//! operation (what its success must hold, its paging, order and filters, how many records it
//! creates, who wrote a record last, the header naming a token endpoint's client) and on a response (whether a client can cause it).

use std::collections::BTreeMap;

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

/// Reads an `x-contract` extension (JSON text, `null` when absent): `Err` says at which key
/// it does not parse, as `x-contract.page: missing field `size``.
pub(crate) fn parse<T: DeserializeOwned + Default>(text: &str) -> Result<T, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| format!("x-contract: {error}"))?;
    if value.is_null() {
        return Ok(T::default());
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(".{path}")
        };
        format!("x-contract{at}: {}", error.inner())
    })
}

/// What the root's `x-contract` says a request no operation documents is answered with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The component schema of its body (none: it has no body).
    #[serde(default)]
    pub(crate) schema: Option<String>,
    /// Headers the answer carries.
    #[serde(default)]
    pub(crate) headers: Vec<String>,
}

/// The root's `x-contract`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Root {
    pub(crate) unknown_path: Option<Answer>,
    pub(crate) wrong_method: Option<Answer>,
    /// The answer to a request over the caller's limits, waited out and sent again.
    pub(crate) throttled: Option<Answer>,
    /// How the API's error answers are built: without it, only their status, media type and
    /// schema are checked.
    pub(crate) errors: Option<Errors>,
}

/// How the API's error answers are built (the root's `x-contract.errors`): where they list their
/// errors, and what each entry says.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Errors {
    /// A JSON pointer to the array of entries, one per error.
    pub(crate) entries: String,
    /// The member of an entry naming the property (or parameter) at fault; without it, entries
    /// are text, and only their number is checked against the faults sent.
    pub(crate) property: Option<String>,
    /// The member of an entry holding the value that was sent.
    pub(crate) attempted: Option<String>,
    /// The member of an entry holding its message.
    pub(crate) message: Option<String>,
    /// A JSON pointer to the entries' `property: message` texts joined by `separator`.
    pub(crate) joined: Option<String>,
    /// What joins the entries at `joined`.
    #[serde(default = "line_break")]
    pub(crate) separator: String,
    /// The property name of an error about the body as a whole.
    pub(crate) whole_body: Option<String>,
    /// The message of a required property left out.
    pub(crate) missing: Option<String>,
    /// Members every error answer holds, with their values, by JSON pointer.
    #[serde(default)]
    pub(crate) constant: BTreeMap<String, Value>,
}

fn line_break() -> String {
    "\n".to_owned()
}

/// An operation's `x-contract`, as written (its expressions and parameter names are checked
/// against the operation by the plan).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct OnOperation {
    /// JSON pointer into a success body, and the expression of what it must be.
    #[serde(default)]
    pub(crate) success: BTreeMap<String, Value>,
    pub(crate) page: Option<Page>,
    pub(crate) order: Option<OrderKeys>,
    /// Query parameter, and how it filters.
    #[serde(default)]
    pub(crate) filters: BTreeMap<String, FilterKeys>,
    /// The expression of how many records a success adds.
    pub(crate) creates: Option<Value>,
    pub(crate) last_write: Option<LastWrite>,
    /// On a token endpoint: the header parameter naming the client a grant is for, whose
    /// refresh tokens each new pair retires.
    pub(crate) client_header: Option<String>,
}

/// The members of a paging envelope, by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct Page {
    pub(crate) records: String,
    pub(crate) number: String,
    pub(crate) size: String,
    pub(crate) total_items: String,
    pub(crate) total_pages: String,
    pub(crate) first_item: String,
    pub(crate) last_item: String,
    pub(crate) has_next: String,
    pub(crate) has_previous: String,
}

/// `x-contract.order`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrderKeys {
    /// The query parameter naming the property.
    pub(crate) field: String,
    /// The query parameter giving the direction.
    pub(crate) direction: String,
    #[serde(default)]
    pub(crate) ascending: Value,
    #[serde(default)]
    pub(crate) descending: Value,
    /// Where nulls sort in ascending order.
    pub(crate) nulls: Nulls,
    /// The property that breaks ties, in the same direction.
    pub(crate) then: String,
}

/// Where nulls sort in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Nulls {
    First,
    Last,
}

/// One of `x-contract.filters`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterKeys {
    /// The record property it filters on.
    pub(crate) property: String,
    #[serde(rename = "match")]
    pub(crate) matching: Match,
}

/// How a filter parameter selects records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Match {
    Equal,
    /// At or after.
    From,
    /// At or before.
    To,
}

/// The record properties `x-contract.last-write` names, by JSON pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LastWrite {
    /// Who last wrote the record: the caller.
    pub(crate) by: Option<String>,
    /// When: never earlier than the time before.
    pub(crate) at: Option<String>,
}

/// A response's `x-contract`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OnResponse {
    /// Whether a client can make the server answer it (a storage failure cannot, nor, in a
    /// run's time, a timeout).
    #[serde(default = "yes")]
    pub(crate) reachable: bool,
}

impl Default for OnResponse {
    fn default() -> Self {
        Self { reachable: true }
    }
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_the_extension_does_not_have_is_refused_by_its_path() {
        let refused = |text: &str| parse::<OnOperation>(text).unwrap_err();
        assert!(
            refused(r#"{"colour": 1}"#).starts_with("x-contract.colour: unknown field `colour`"),
            "{}",
            refused(r#"{"colour": 1}"#)
        );
        let page = r#"{"page": {"records": "/R", "number": "/P", "size": "/S",
            "total-items": "/T", "total-pages": "/N", "first-item": "/F", "last-item": "/L",
            "has-next": "/X", "has-previous": "/V", "sise": "/S"}}"#;
        assert!(refused(page).starts_with("x-contract.page.sise: unknown field `sise`"));
        assert!(
            refused(r#"{"page": {"records": "/R"}}"#)
                .starts_with("x-contract.page: missing field `number`")
        );
        assert!(
            refused(r#"{"filters": {"from": {"property": "At", "match": "after"}}}"#)
                .starts_with("x-contract.filters.from.match: unknown variant `after`")
        );
        assert!(
            parse::<Root>(r#"{"errors": {"entries": "/E", "joint": "/M"}}"#)
                .unwrap_err()
                .starts_with("x-contract.errors.joint: unknown field `joint`")
        );
        assert!(parse::<OnResponse>(r#"{"reachable": "no"}"#).is_err());
    }

    #[test]
    fn an_absent_extension_says_nothing() {
        assert!(parse::<OnOperation>("null").unwrap().page.is_none());
        assert_eq!(parse::<Root>("null").unwrap(), Root::default());
        assert!(parse::<OnResponse>("null").unwrap().reachable);
        assert!(parse::<OnResponse>("{}").unwrap().reachable);
        assert!(
            !parse::<OnResponse>(r#"{"reachable": false}"#)
                .unwrap()
                .reachable
        );
    }
}
