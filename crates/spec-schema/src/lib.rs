//! Reads an OpenAPI 3.0 document and turns its component schemas into JSON Schema.
//!
//! An OpenAPI 3.0 Schema Object is close to JSON Schema draft 4 but not the same: `nullable`
//! must become a type union with `"null"`, `$ref`s point into `#/components/schemas/`, and
//! `format: int32`/`int64` carry a range that no JSON Schema validator knows about. Everything in
//! this workspace that checks JSON against the spec (the server's request validation, the contract
//! suite's payloads and response checks) goes through [`Spec::json_schema_definitions`], so the
//! three cannot drift apart.
//!
//! [`Validator`] checks a value against one named schema and reports every [`Violation`] with the
//! JSON property it concerns, the value that was sent and a short message.

use std::{borrow::Cow, fmt};

use serde_json::{Map, Value};

/// Where converted component schemas live in the JSON Schema documents this crate builds.
pub const DEFINITIONS: &str = "definitions";

/// The OpenAPI document could not be read or does not have the expected shape.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The text is not YAML (JSON is YAML too).
    #[error("the OpenAPI document is not valid YAML")]
    Yaml(#[source] serde_yaml_ng::Error),
    /// The document has no `components.schemas` object.
    #[error("the OpenAPI document has no components.schemas object")]
    NoSchemas,
    /// A `$ref` points outside `#/components/schemas/`.
    #[error("unsupported $ref `{0}`: only #/components/schemas/ references are supported")]
    UnsupportedRef(String),
    /// No component schema has the requested name.
    #[error("no component schema named `{0}`")]
    UnknownSchema(String),
    /// The converted schema is not a valid JSON Schema.
    #[error("the schema `{name}` does not compile: {message}")]
    Compile {
        /// The component schema's name.
        name: String,
        /// What the JSON Schema compiler said.
        message: String,
    },
}

/// An OpenAPI 3.0 document, kept as JSON.
#[derive(Debug, Clone)]
pub struct Spec {
    document: Value,
}

impl Spec {
    /// Reads a document written in YAML or JSON.
    pub fn from_yaml(text: &str) -> Result<Self, SpecError> {
        let document = serde_yaml_ng::from_str(text).map_err(SpecError::Yaml)?;
        Ok(Self { document })
    }

    /// The whole document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The raw (OpenAPI dialect) component schemas.
    pub fn component_schemas(&self) -> Result<&Map<String, Value>, SpecError> {
        self.document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or(SpecError::NoSchemas)
    }

    /// Every component schema converted to JSON Schema draft 4, keyed by name, with `$ref`s
    /// rewritten to `#/definitions/<name>`.
    pub fn json_schema_definitions(&self) -> Result<Map<String, Value>, SpecError> {
        self.component_schemas()?
            .iter()
            .map(|(name, schema)| Ok((name.clone(), to_json_schema(schema)?)))
            .collect()
    }
}

/// Converts one OpenAPI 3.0 schema to JSON Schema draft 4.
///
/// - `nullable: true` adds `"null"` to `type`; a nullable schema with no `type` already accepts
///   null, and `nullable: false` is dropped.
/// - `$ref: '#/components/schemas/X'` becomes `#/definitions/X`.
/// - `format: int32` / `int64` gets the format's range where the schema states none, so that a
///   value the server could not store is reported, not truncated.
/// - OpenAPI-only keywords (`example`, `discriminator`, `xml`, `externalDocs`, `deprecated`,
///   `x-*`) are dropped; `readOnly` and `writeOnly` are kept (JSON Schema has them too, as
///   annotations a validator ignores), so that tools reading the converted schemas know them.
pub fn to_json_schema(schema: &Value) -> Result<Value, SpecError> {
    let Some(object) = schema.as_object() else {
        return Ok(schema.clone());
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "$ref" => {
                let target = value.as_str().unwrap_or_default();
                let name = target
                    .strip_prefix("#/components/schemas/")
                    .ok_or_else(|| SpecError::UnsupportedRef(target.to_owned()))?;
                out.insert(
                    key.clone(),
                    Value::String(format!("#/{DEFINITIONS}/{name}")),
                );
            }
            "properties" | "patternProperties" => {
                let converted = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, sub)| Ok((name.clone(), to_json_schema(sub)?)))
                    .collect::<Result<Map<_, _>, SpecError>>()?;
                out.insert(key.clone(), Value::Object(converted));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(key.clone(), to_json_schema(value)?);
            }
            "allOf" | "anyOf" | "oneOf" => {
                let converted = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(to_json_schema)
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(key.clone(), Value::Array(converted));
            }
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" | "deprecated" => {}
            other if other.starts_with("x-") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some((min, max)) = object
        .get("format")
        .and_then(Value::as_str)
        .and_then(int_range)
    {
        out.entry("minimum").or_insert(min);
        out.entry("maximum").or_insert(max);
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        match out.get_mut("type") {
            Some(Value::String(ty)) => {
                let ty = std::mem::take(ty);
                out.insert("type".into(), Value::Array(vec![ty.into(), "null".into()]));
            }
            Some(Value::Array(types)) if !types.contains(&"null".into()) => {
                types.push("null".into());
            }
            _ => {}
        }
        // A nullable `$ref` or composition must accept null before reaching the referenced schema.
        for combinator in ["$ref", "allOf", "anyOf", "oneOf"] {
            if let Some(inner) = out.remove(combinator) {
                let mut wrapped = Map::new();
                wrapped.insert(combinator.into(), inner);
                out.insert(
                    "anyOf".into(),
                    Value::Array(vec![serde_json::json!({"type": "null"}), wrapped.into()]),
                );
                break;
            }
        }
    }
    Ok(Value::Object(out))
}

fn int_range(format: &str) -> Option<(Value, Value)> {
    match format {
        "int32" => Some((i32::MIN.into(), i32::MAX.into())),
        "int64" => Some((i64::MIN.into(), i64::MAX.into())),
        _ => None,
    }
}

/// Checks JSON values against one component schema of a [`Spec`].
pub struct Validator {
    name: String,
    inner: jsonschema::Validator,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Compiles a validator for the schema `name` out of converted definitions
    /// (see [`Spec::json_schema_definitions`]).
    pub fn new(definitions: Map<String, Value>, name: &str) -> Result<Self, SpecError> {
        // The schema itself at the root, not a `$ref` to it: every violation would otherwise
        // pay for the reference's step in its evaluation path (a third of the time of a
        // rejected body, measured by `cargo xtask bench`).
        let schema = definitions
            .get(name)
            .cloned()
            .ok_or_else(|| SpecError::UnknownSchema(name.to_owned()))?;
        Self::for_schema(definitions, &schema, name)
    }

    fn compile(document: &Value, name: &str) -> Result<Self, SpecError> {
        let inner = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            // Draft 4 knows no `uuid` format; OpenAPI documents use it all the time.
            .with_format("uuid", is_uuid)
            .with_format("date-time", is_date_time)
            .build(document)
            .map_err(|error| SpecError::Compile {
                name: name.to_owned(),
                message: error.to_string(),
            })?;
        Ok(Self {
            name: name.to_owned(),
            inner,
        })
    }

    /// Compiles a validator for a schema that is not a component (an operation parameter's,
    /// already converted with [`to_json_schema`]); `label` names it in errors. References in it
    /// resolve against `definitions`.
    pub fn for_schema(
        definitions: Map<String, Value>,
        schema: &Value,
        label: &str,
    ) -> Result<Self, SpecError> {
        let mut document = schema.as_object().cloned().unwrap_or_default();
        document.insert(DEFINITIONS.into(), Value::Object(definitions));
        Self::compile(&Value::Object(document), label)
    }

    /// The component schema (or label) this validator checks against.
    pub fn schema_name(&self) -> &str {
        &self.name
    }

    /// Whether `instance` satisfies the schema (much cheaper than [`Validator::violations`],
    /// which builds every violation's message).
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.inner.is_valid(instance)
    }

    /// Every violation of the schema by `instance`, sorted by property path then message, so
    /// that the same input always gives the same list.
    pub fn violations(&self, instance: &Value) -> Vec<Violation> {
        // No `is_valid` fast path: on a valid instance `iter_errors` costs the same (measured by
        // `cargo xtask bench`), and on an invalid one the check would be paid twice.
        let mut violations: Vec<Violation> = self
            .inner
            .iter_errors(instance)
            .map(Violation::from_error)
            .collect();
        // Messages are compared (rendered) only between violations of one property.
        violations.sort_by(|a, b| {
            a.path
                .cmp(&b.path)
                .then_with(|| a.message.to_string().cmp(&b.message.to_string()))
        });
        violations.dedup();
        // A value of the wrong type is one violation, its type: that a null is also not one of
        // an enum's strings, say, says nothing more.
        let mistyped: Vec<InstancePath> = violations
            .iter()
            .filter(|violation| violation.keyword == "type")
            .map(|violation| violation.path.clone())
            .collect();
        if !mistyped.is_empty() {
            violations.retain(|violation| {
                violation.keyword == "type" || !mistyped.contains(&violation.path)
            });
        }
        violations
    }
}

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
    /// A short message in the style of the Nexudus API (`is a required field`).
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

    fn from_error(error: jsonschema::ValidationError<'_>) -> Self {
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

/// An RFC 3339 date-time (`T` or `t` between date and time, a `Z`, `z` or numeric offset) that
/// names an instant whose UTC form is an RFC 3339 date-time too, that is within years 0000 to
/// 9999: a server that keeps date-times in UTC can store and answer every value this accepts.
fn is_date_time(text: &str) -> bool {
    use chrono::Datelike;

    // chrono also takes a space between date and time, which RFC 3339's grammar does not.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return false;
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .is_ok_and(|instant| (0..=9999).contains(&instant.to_utc().year()))
}

/// A hyphenated RFC 4122 uuid, the form Nexudus writes.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Thing:
      type: object
      required: [Id, Name]
      properties:
        Id: {type: integer, format: int64, minimum: 1}
        Name: {type: string, maxLength: 3}
        Note: {type: string, nullable: true}
        Key: {type: string, format: uuid, nullable: true}
        When: {type: string, format: date-time}
        Count: {type: integer, format: int32}
        Child: {$ref: '#/components/schemas/Child'}
        Any: {nullable: true, example: 1}
        Kind: {type: string, enum: [a, b]}
    Child:
      type: object
      required: [Value]
      properties:
        Value: {type: boolean}
"##;

    fn validator() -> Validator {
        let spec = Spec::from_yaml(SPEC).unwrap();
        Validator::new(spec.json_schema_definitions().unwrap(), "Thing").unwrap()
    }

    #[track_caller]
    fn check(instance: Value, expected: &[(&str, Option<Value>, &str)]) {
        let got: Vec<(String, Option<Value>, String)> = validator()
            .violations(&instance)
            .into_iter()
            .map(|v| {
                (
                    v.property_name().unwrap_or_default(),
                    v.value,
                    v.message.to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, Option<Value>, String)> = expected
            .iter()
            .map(|(p, v, m)| (p.to_string(), v.clone(), m.to_string()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn conversion_rewrites_openapi_dialect() {
        let spec = Spec::from_yaml(SPEC).unwrap();
        let defs = spec.json_schema_definitions().unwrap();
        let thing = &defs["Thing"]["properties"];
        assert_eq!(thing["Note"]["type"], json!(["string", "null"]));
        assert_eq!(thing["Child"]["$ref"], json!("#/definitions/Child"));
        assert_eq!(thing["Id"]["minimum"], json!(1));
        assert_eq!(thing["Id"]["maximum"], json!(i64::MAX));
        assert_eq!(thing["Count"]["minimum"], json!(i32::MIN));
        assert_eq!(thing["Any"], json!({}));
        // Annotations JSON Schema shares are kept; OpenAPI's own and extensions are dropped.
        assert_eq!(
            to_json_schema(
                &json!({"type": "integer", "writeOnly": true, "readOnly": false,
                                   "x-contract": {}, "deprecated": true, "example": 1})
            )
            .unwrap(),
            json!({"type": "integer", "writeOnly": true, "readOnly": false})
        );
    }

    #[test]
    fn date_times_name_an_instant_that_utc_can_write() {
        for accepted in [
            "2025-01-15T10:30:00Z",
            "2025-01-15t10:30:00.8822471z",
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59+14:00",
        ] {
            check(json!({"Id": 1, "Name": "a", "When": accepted}), &[]);
        }
        for rejected in [
            // In UTC these are years 10000 and -1.
            "9999-12-31T23:59:59-14:00",
            "0000-01-01T00:00:00+01:00",
            "2025-01-15 10:30:00Z",
            "2025-01-15T10:30:00",
            "2025-02-30T00:00:00Z",
            "2025-01-15T10:30:00+24:00",
        ] {
            check(
                json!({"Id": 1, "Name": "a", "When": rejected}),
                &[("When", Some(json!(rejected)), "must be a valid date-time")],
            );
        }
    }

    #[test]
    fn valid_instance_has_no_violations() {
        check(
            json!({"Id": 1, "Name": "abc", "Note": null, "Key": null, "Extra": [1]}),
            &[],
        );
        check(
            json!({"Id": i64::MAX, "Name": "", "Key": "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90",
                   "When": "2025-01-15T10:30:00Z", "Child": {"Value": true}}),
            &[],
        );
    }

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

    /// Every nesting the converter walks (array items, maps, `not`, the compositions, a nullable
    /// reference) is converted like the top level: the `nullable` and `int32` rules hold inside,
    /// `x-` keys and examples are gone, and the validator reports each nested violation at its
    /// full path with the same messages as a flat schema's.
    #[test]
    fn nested_schemas_validate_and_report_like_flat_ones() {
        const NESTED: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Leaf:
      type: object
      required: [Code]
      properties:
        Code: {type: string, pattern: '^[A-Z]{2}$', x-note: dropped, example: AB}
    Tree:
      type: object
      properties:
        Rows:
          type: array
          items:
            type: array
            items: {type: integer, format: int32, nullable: true}
        Tags:
          type: object
          additionalProperties: {$ref: '#/components/schemas/Leaf'}
        Odd: {not: {type: integer, multipleOf: 2}, type: integer}
        Both:
          allOf:
            - {$ref: '#/components/schemas/Leaf'}
            - {type: object, properties: {Size: {type: number, exclusiveMinimum: true, minimum: 0}}}
        Either:
          anyOf: [{type: string, minLength: 2}, {type: integer, maximum: 5, exclusiveMaximum: true}]
        One:
          oneOf: [{type: string, enum: [a, b]}, {type: boolean}]
        Parent:
          nullable: true
          allOf: [{$ref: '#/components/schemas/Leaf'}]
"##;
        let spec = Spec::from_yaml(NESTED).unwrap();
        let definitions = spec.json_schema_definitions().unwrap();
        let tree = &definitions["Tree"]["properties"];
        let rows = &tree["Rows"]["items"]["items"];
        assert_eq!(rows["type"], json!(["integer", "null"]));
        assert_eq!(
            (&rows["minimum"], &rows["maximum"]),
            (&json!(i32::MIN), &json!(i32::MAX))
        );
        assert_eq!(
            tree["Tags"]["additionalProperties"]["$ref"],
            json!("#/definitions/Leaf")
        );
        assert_eq!(
            tree["Both"]["allOf"][0]["$ref"],
            json!("#/definitions/Leaf")
        );
        assert_eq!(
            definitions["Leaf"]["properties"]["Code"],
            json!({"type": "string", "pattern": "^[A-Z]{2}$"})
        );
        let validator = Validator::new(definitions.clone(), "Tree").unwrap();
        let report = |instance: Value| -> Vec<(String, String)> {
            validator
                .violations(&instance)
                .into_iter()
                .map(|v| (v.property_name().unwrap_or_default(), v.message.to_string()))
                .collect()
        };
        let valid = json!({
            "Rows": [[1, null], []], "Tags": {"x": {"Code": "AB"}}, "Odd": 3,
            "Both": {"Code": "CD", "Size": 0.5}, "Either": 4, "One": "a", "Parent": null,
        });
        assert_eq!(report(valid.clone()), []);
        assert!(validator.is_valid(&valid));
        let invalid = json!({"Rows": [[2147483648u64]]});
        assert!(!validator.is_valid(&invalid));
        assert_eq!(
            report(invalid),
            [("Rows.0.0".into(), "must be at most 2147483647".into())]
        );
        assert_eq!(
            report(json!({"Tags": {"x": {"Code": "abc"}, "y": {}}})),
            [
                (
                    "Tags.x.Code".into(),
                    "must match the pattern ^[A-Z]{2}$".into()
                ),
                ("Tags.y.Code".into(), "is a required field".into()),
            ]
        );
        assert_eq!(report(json!({"Odd": 4})).len(), 1, "`not` is kept");
        assert_eq!(
            report(json!({"Both": {"Code": "AB", "Size": 0}})),
            [("Both.Size".into(), "must be greater than 0".into())]
        );
        assert_eq!(report(json!({"Either": 5})).len(), 1, "anyOf is kept");
        assert_eq!(report(json!({"One": "c"})).len(), 1, "oneOf is kept");
        assert_eq!(
            report(json!({"Parent": {"Code": "A"}})).len(),
            1,
            "a nullable allOf still checks"
        );
        // The messages of the keywords a flat schema uses, nested.
        let leafy = Validator::for_schema(
            definitions,
            &to_json_schema(&json!({
                "type": "object",
                "properties": {
                    "Short": {"type": "string", "minLength": 2},
                    "Low": {"type": "number", "maximum": 1, "exclusiveMaximum": true},
                    "Pick": {"type": "string", "enum": ["a"]},
                },
            }))
            .unwrap(),
            "leafy",
        )
        .unwrap();
        let messages: Vec<String> = leafy
            .violations(&json!({"Short": "x", "Low": 1, "Pick": "b"}))
            .into_iter()
            .map(|v| format!("{}: {}", v.property_name().unwrap(), v.message))
            .collect();
        assert_eq!(
            messages,
            [
                "Low: must be less than 1",
                "Pick: must be one of [\"a\"]",
                "Short: must be at least 2 characters long",
            ]
        );
        assert_eq!(leafy.schema_name(), "leafy");
    }

    /// `nullable` on a union of types adds `null` once, whether or not the union has it.
    #[test]
    fn nullable_unions_gain_null_once() {
        assert_eq!(
            to_json_schema(&json!({"type": ["string", "integer"], "nullable": true})).unwrap(),
            json!({"type": ["string", "integer", "null"]})
        );
        assert_eq!(
            to_json_schema(&json!({"type": ["string", "null"], "nullable": true})).unwrap(),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            to_json_schema(&json!({"type": "string", "nullable": false})).unwrap(),
            json!({"type": "string"})
        );
    }

    #[test]
    fn the_document_is_kept_and_a_validator_names_its_schema() {
        let spec = Spec::from_yaml(SPEC).unwrap();
        assert_eq!(spec.document()["info"]["title"], json!("t"));
        assert_eq!(
            format!("{:?}", validator()),
            "Validator { name: \"Thing\", .. }"
        );
    }

    #[test]
    fn uuids_are_hyphenated_hex_of_rfc_4122_length() {
        assert!(is_uuid("0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90"));
        assert!(is_uuid("0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90"));
        for refused in [
            "0d6b7c1e3f8a4c2e9b1d5a7e2f4c8d90",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d900",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9g",
            "0d6b7c1e-3f8a-4c2e-9b1d_5a7e2f4c8d90",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c-d90",
        ] {
            assert!(!is_uuid(refused), "{refused}");
        }
    }

    /// A value of the wrong type is one violation, whatever else of the schema it also breaks.
    #[test]
    fn a_mistyped_value_is_reported_once_by_its_type() {
        check(
            json!({"Id": 1, "Name": "a", "Kind": null}),
            &[("Kind", Some(Value::Null), "must not be null")],
        );
        check(
            json!({"Id": 1, "Name": "a", "Kind": 7}),
            &[("Kind", Some(json!(7)), "must be a string")],
        );
        let wrong = validator().violations(&json!({"Id": 1, "Name": "a", "Kind": "c"}));
        assert_eq!(wrong.len(), 1, "{wrong:?}");
        assert_eq!(wrong[0].keyword, "enum");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_root_violation() {
        check(json!([1]), &[("", Some(json!([1])), "must be an object")]);
    }

    #[test]
    fn inline_schemas_validate_with_the_definitions_at_hand() {
        let spec = Spec::from_yaml(SPEC).unwrap();
        let schema =
            to_json_schema(&json!({"type": "integer", "format": "int32", "minimum": 1})).unwrap();
        let validator =
            Validator::for_schema(spec.json_schema_definitions().unwrap(), &schema, "id").unwrap();
        assert_eq!(validator.schema_name(), "id");
        assert_eq!(validator.violations(&json!(3)), []);
        assert_eq!(
            validator.violations(&json!(0))[0].message.to_string(),
            "must be at least 1"
        );
        let child = json!({"$ref": "#/definitions/Child"});
        let validator =
            Validator::for_schema(spec.json_schema_definitions().unwrap(), &child, "c").unwrap();
        assert_eq!(
            validator.violations(&json!({}))[0].message.to_string(),
            "is a required field"
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

    #[test]
    fn unknown_schema_and_foreign_refs_are_errors() {
        let spec = Spec::from_yaml(SPEC).unwrap();
        assert!(matches!(
            Validator::new(spec.json_schema_definitions().unwrap(), "Nope"),
            Err(SpecError::UnknownSchema(_))
        ));
        assert!(matches!(
            to_json_schema(&json!({"$ref": "other.yaml#/X"})),
            Err(SpecError::UnsupportedRef(_))
        ));
    }
}
