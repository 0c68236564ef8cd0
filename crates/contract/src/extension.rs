//! The document root's `x-contract` extension, read by serde into typed structs that refuse a
//! key they do not know: the answers to requests no operation documents, the throttled answer,
//! and how the API's error answers are built.

use serde::Deserialize;
use serde_json::Value;

use crate::options::ContractError;

/// What the root's `x-contract` says a request no operation documents is answered with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The component schema of its body.
    pub(crate) schema: String,
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
    pub(crate) constant: std::collections::BTreeMap<String, Value>,
}

fn line_break() -> String {
    "\n".to_owned()
}

impl Root {
    /// Reads the document's root `x-contract` (JSON text, `null` when absent).
    pub(crate) fn parse(text: &str) -> Result<Self, ContractError> {
        let value: Value = serde_json::from_str(text).map_err(ContractError::spec)?;
        if value.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(value)
            .map_err(|error| ContractError::Spec(format!("the root x-contract: {error}")))
    }
}
