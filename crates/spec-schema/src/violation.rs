//! What a failed check reports: where in the value (a path that keeps every property name as
//! sent), which keyword, the value sent and a message in the API's own words. Built cheaply from
//! the validator's own report, since a rejected request is cheap for a client to send.

use std::{borrow::Cow, fmt};

use serde_json::Value;

/// One way in which a value breaks a schema.
///
/// Built from what the validator already holds (its shared path, the keyword's static name, the
/// schema's limit) rather than fresh strings: a rejected body is a client's mistake, cheap to
/// make, and its answer should cost little more than the parse. The message is rendered when it
/// is written ([`Message`] is `Display`).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Property names (and array indexes) from the root to the offending value; the root when
    /// the value as a whole is wrong.
    pub path: InstancePath,
    /// The value that was sent, `None` when the property is missing.
    pub value: Option<Value>,
    /// The JSON Schema keyword that failed (`required`, `type`, `minimum`, ...).
    pub keyword: Cow<'static, str>,
    /// A short message, in the style of API error entries (`is a required field`).
    pub message: Message,
}

impl Violation {
    /// A violation at `path` that no schema keyword names (a key sent twice, a parameter that
    /// does not parse): `keyword` is this crate's user's own word for it.
    pub fn new(
        path: InstancePath,
        value: Option<Value>,
        keyword: &'static str,
        message: impl Into<Message>,
    ) -> Self {
        Self {
            path,
            value,
            keyword: Cow::Borrowed(keyword),
            message: message.into(),
        }
    }

    /// The path as one dotted property name (`Value.Id`), or `None` for the root.
    pub fn property_name(&self) -> Option<String> {
        self.path.property_name()
    }

    pub(crate) fn from_error(error: jsonschema::ValidationError<'_>) -> Self {
        use jsonschema::error::ValidationErrorKind as Kind;

        let kind = error.kind();
        let instance = error.instance().as_ref();
        let path = InstancePath(error.instance_path().clone());
        // The sent value, cloned only for violations that have one (a missing property has none,
        // and its instance is the whole enclosing object).
        let sent = || Some(instance.clone());
        let text = |text: String| Message(Text::Owned(text));
        let (path, value, message) = match kind {
            Kind::Required { property } => {
                let property = property
                    .as_str()
                    .map_or_else(|| Cow::Owned(property.to_string()), Cow::Borrowed);
                let message = Message(Text::Static("is a required field"));
                (InstancePath(path.0.join(property)), None, message)
            }
            Kind::Type { .. } if instance.is_null() => {
                (path, sent(), Message(Text::Static("must not be null")))
            }
            Kind::Type { kind } => (path, sent(), type_message(kind)),
            Kind::Minimum { limit } => (path, sent(), Message(Text::AtLeast(limit.clone()))),
            Kind::Maximum { limit } => (path, sent(), Message(Text::AtMost(limit.clone()))),
            Kind::ExclusiveMinimum { limit } => {
                (path, sent(), Message(Text::GreaterThan(limit.clone())))
            }
            Kind::ExclusiveMaximum { limit } => {
                (path, sent(), Message(Text::LessThan(limit.clone())))
            }
            Kind::MinLength { limit } => (path, sent(), Message(Text::MinLength(*limit))),
            Kind::MaxLength { limit } => (path, sent(), Message(Text::MaxLength(*limit))),
            Kind::Format { format } => (path, sent(), text(format!("must be a valid {format}"))),
            Kind::Enum { options } => (path, sent(), text(format!("must be one of {options}"))),
            Kind::Pattern { pattern } => (
                path,
                sent(),
                text(format!("must match the pattern {pattern}")),
            ),
            _ => (path, sent(), text(error.to_string())),
        };
        Self {
            path,
            value,
            keyword: keyword(kind),
            message,
        }
    }
}

/// The keyword's name without a copy: `ValidationErrorKind::keyword` borrows from the error,
/// though every keyword but a custom one (which this crate never registers) is a literal.
fn keyword(kind: &jsonschema::error::ValidationErrorKind) -> Cow<'static, str> {
    use jsonschema::error::ValidationErrorKind as Kind;

    Cow::Borrowed(match kind {
        Kind::Required { .. } => "required",
        Kind::Type { .. } => "type",
        Kind::Minimum { .. } => "minimum",
        Kind::Maximum { .. } => "maximum",
        Kind::ExclusiveMinimum { .. } => "exclusiveMinimum",
        Kind::ExclusiveMaximum { .. } => "exclusiveMaximum",
        Kind::MinLength { .. } => "minLength",
        Kind::MaxLength { .. } => "maxLength",
        Kind::Format { .. } => "format",
        Kind::Enum { .. } => "enum",
        Kind::Pattern { .. } => "pattern",
        other => return Cow::Owned(other.keyword().to_owned()),
    })
}

/// Where a [`Violation`] is in the checked value: a JSON pointer, shared with the validator's
/// own report (cloning it is a reference count). Ordered by the pointer's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstancePath(jsonschema::paths::Location);

impl InstancePath {
    /// The root: the value as a whole.
    pub fn root() -> Self {
        Self::default()
    }

    /// The path through these property names (array indexes as their digits).
    pub fn from_segments<S: AsRef<str>>(segments: impl IntoIterator<Item = S>) -> Self {
        Self(
            segments
                .into_iter()
                .fold(jsonschema::paths::Location::new(), |path, segment| {
                    path.join(segment.as_ref())
                }),
        )
    }

    /// The property names (and array indexes) from the root, in order.
    pub fn segments(&self) -> impl Iterator<Item = String> + '_ {
        // Read from the pointer's text (RFC 6901) rather than `Location::segments`, which skips
        // empty segments: `""` is a property name a client can send.
        self.0
            .as_str()
            .split('/')
            .skip(1)
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
    }

    /// The path as one dotted property name (`Value.Id`), or `None` for the root.
    pub fn property_name(&self) -> Option<String> {
        let segments: Vec<String> = self.segments().collect();
        (!segments.is_empty()).then(|| segments.join("."))
    }
}

/// A [`Violation`]'s message, rendered by `Display` (`must be at least 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Message(Text);

#[derive(Debug, Clone, PartialEq)]
enum Text {
    Static(&'static str),
    Owned(String),
    AtLeast(Value),
    AtMost(Value),
    GreaterThan(Value),
    LessThan(Value),
    MinLength(u64),
    MaxLength(u64),
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Text::Static(text) => f.write_str(text),
            Text::Owned(text) => f.write_str(text),
            Text::AtLeast(limit) => write!(f, "must be at least {limit}"),
            Text::AtMost(limit) => write!(f, "must be at most {limit}"),
            Text::GreaterThan(limit) => write!(f, "must be greater than {limit}"),
            Text::LessThan(limit) => write!(f, "must be less than {limit}"),
            Text::MinLength(limit) => write!(f, "must be at least {limit} characters long"),
            Text::MaxLength(limit) => write!(f, "must be at most {limit} characters long"),
        }
    }
}

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Self {
        Self(Text::Static(text))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self(Text::Owned(text))
    }
}

fn type_message(kind: &jsonschema::error::TypeKind) -> Message {
    use jsonschema::error::TypeKind;

    let names: Vec<String> = match kind {
        TypeKind::Single(ty) => vec![ty.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|ty| ty.to_string()).collect(),
    };
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| name != "null")
        .map(|name| match name.as_str() {
            "integer" | "object" | "array" => format!("an {name}"),
            _ => format!("a {name}"),
        })
        .collect();
    Message(Text::Owned(format!("must be {}", names.join(" or "))))
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::{test_fixture::check, validator::Validator};

    #[test]
    fn every_violation_is_reported_with_its_property() {
        check(
            json!({"Name": "abcd", "Key": "nope", "When": "2025-01-15", "Count": 1.5,
                   "Child": {}}),
            &[
                ("Child.Value", None, "is a required field"),
                ("Count", Some(json!(1.5)), "must be an integer"),
                ("Id", None, "is a required field"),
                ("Key", Some(json!("nope")), "must be a valid uuid"),
                (
                    "Name",
                    Some(json!("abcd")),
                    "must be at most 3 characters long",
                ),
                (
                    "When",
                    Some(json!("2025-01-15")),
                    "must be a valid date-time",
                ),
            ],
        );
    }

    #[test]
    fn ranges_types_and_nulls() {
        check(
            json!({"Id": 9223372036854775808u64, "Name": null, "Count": 2147483648u64}),
            &[
                (
                    "Count",
                    Some(json!(2147483648u64)),
                    "must be at most 2147483647",
                ),
                (
                    "Id",
                    Some(json!(9223372036854775808u64)),
                    "must be at most 9223372036854775807",
                ),
                ("Name", Some(Value::Null), "must not be null"),
            ],
        );
        check(
            json!({"Id": 0, "Name": 7}),
            &[
                ("Id", Some(json!(0)), "must be at least 1"),
                ("Name", Some(json!(7)), "must be a string"),
            ],
        );
        check(
            json!({"Id": "1", "Name": "a", "Note": 1}),
            &[
                ("Id", Some(json!("1")), "must be an integer"),
                ("Note", Some(json!(1)), "must be a string"),
            ],
        );
    }

    #[test]
    fn instance_paths_keep_every_property_name_as_sent() {
        let names = ["a/b", "~x", "", "0"];
        let path = InstancePath::from_segments(names);
        assert_eq!(path.segments().collect::<Vec<_>>(), names);
        assert_eq!(path.property_name().as_deref(), Some("a/b.~x..0"));
        assert_eq!(InstancePath::root().segments().count(), 0);
        assert_eq!(InstancePath::root().property_name(), None);
        // A key the schema does not know is reported where it was sent, even an empty one.
        let validator = Validator::for_schema(
            Map::new(),
            &json!({"properties": {"": {"type": "string"}}}),
            "empty name",
        )
        .unwrap();
        let violations = validator.violations(&json!({"": 1}));
        assert_eq!(violations[0].property_name().as_deref(), Some(""));
        assert_eq!(violations[0].message.to_string(), "must be a string");
    }

    /// Each message renders its limit as the schema wrote it.
    #[test]
    fn messages_render_their_limits() {
        let rendered = |text: Text| Message(text).to_string();
        assert_eq!(rendered(Text::AtLeast(json!(1))), "must be at least 1");
        assert_eq!(rendered(Text::AtMost(json!(2.5))), "must be at most 2.5");
        assert_eq!(
            rendered(Text::GreaterThan(json!(0))),
            "must be greater than 0"
        );
        assert_eq!(rendered(Text::LessThan(json!(-1))), "must be less than -1");
        assert_eq!(
            rendered(Text::MinLength(2)),
            "must be at least 2 characters long"
        );
        assert_eq!(
            rendered(Text::MaxLength(0)),
            "must be at most 0 characters long"
        );
        assert_eq!(Message::from("as given").to_string(), "as given");
        assert_eq!(Message::from(String::from("owned")).to_string(), "owned");
    }

    /// A violation made by hand (a key sent twice, say) keeps the keyword and message given.
    #[test]
    fn violations_made_by_hand_keep_their_words() {
        let violation = Violation::new(
            InstancePath::from_segments(["a", "b"]),
            Some(json!(1)),
            "uniqueKeys",
            "is sent more than once",
        );
        assert_eq!(violation.keyword, "uniqueKeys");
        assert_eq!(violation.property_name().as_deref(), Some("a.b"));
        assert_eq!(violation.message.to_string(), "is sent more than once");
        assert_eq!(violation.value, Some(json!(1)));
        let at_root = Violation::new(InstancePath::root(), None, "type", format!("{}", 7));
        assert_eq!(at_root.property_name(), None);
        assert_eq!(at_root.message.to_string(), "7");
    }

    /// A union of types names every type but `null`, in the validator's order rather than the
    /// schema's; a keyword with no message of its own keeps its name and the validator's own
    /// words (so those words change with the `jsonschema` version).
    #[test]
    fn unions_and_other_keywords_are_reported_in_words() {
        let validator = Validator::for_schema(
            Map::new(),
            &json!({"properties": {
                "U": {"type": ["string", "integer", "null"]},
                "M": {"type": "integer", "multipleOf": 3},
                "L": {"type": "array", "minItems": 1},
            }}),
            "words",
        )
        .unwrap();
        let report: Vec<(String, String, String)> = validator
            .violations(&json!({"U": true, "M": 4, "L": []}))
            .into_iter()
            .map(|v| {
                (
                    v.property_name().unwrap(),
                    v.keyword.into_owned(),
                    v.message.to_string(),
                )
            })
            .collect();
        assert_eq!(
            report,
            [
                (
                    "L".into(),
                    "minItems".into(),
                    "[] has less than 1 item".into()
                ),
                (
                    "M".into(),
                    "multipleOf".into(),
                    "4 is not a multiple of 3".into()
                ),
                (
                    "U".into(),
                    "type".into(),
                    "must be an integer or a string".into()
                ),
            ]
        );
    }
}
