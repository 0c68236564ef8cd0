//! What the strategies say of what they make: an invalid payload's labelled violations, each
//! with its kind, and why a schema gets no strategy.

use serde_json::Value;

/// A schema the strategies cannot be derived from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// No definition has this name.
    #[error("no schema named `{0}`")]
    UnknownSchema(String),
    /// The schema uses something these strategies do not generate.
    #[error("{path}: {what} is not supported")]
    Unsupported {
        /// Where in the schema.
        path: String,
        /// What.
        what: String,
    },
}

/// What is wrong in one place of an invalid payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ViolationKind {
    /// A required property is absent.
    MissingRequired,
    /// A value of the wrong JSON type.
    WrongType,
    /// `null` where the schema does not allow it.
    NullNotAllowed,
    /// A number below `minimum`.
    BelowMinimum,
    /// A number above `maximum`.
    AboveMaximum,
    /// A string that is not of the schema's `format`.
    BadFormat,
    /// A string longer than `maxLength`.
    TooLong,
    /// A string shorter than `minLength`.
    TooShort,
    /// The body is not a JSON object.
    NotAnObject,
    /// A value the schema's `enum` does not list.
    NotInEnum,
}

impl ViolationKind {
    /// A short name (`missing-required`).
    pub fn name(self) -> &'static str {
        match self {
            Self::MissingRequired => "missing-required",
            Self::WrongType => "wrong-type",
            Self::NullNotAllowed => "null-not-allowed",
            Self::BelowMinimum => "below-minimum",
            Self::AboveMaximum => "above-maximum",
            Self::BadFormat => "bad-format",
            Self::TooLong => "too-long",
            Self::TooShort => "too-short",
            Self::NotAnObject => "not-an-object",
            Self::NotInEnum => "not-in-enum",
        }
    }
}

/// The short name, as reports print it.
impl std::fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One labelled violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The property (dotted path from the root) or parameter, or `None` for the body as a whole.
    pub property: Option<String>,
    /// What is wrong.
    pub kind: ViolationKind,
    /// The value that was sent, `None` when the property is missing.
    pub sent: Option<Value>,
}

/// An invalid payload and the violations it contains, in property order.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidCase {
    /// The payload.
    pub body: Value,
    /// Its violations, one per broken property.
    pub violations: Vec<Violation>,
}
