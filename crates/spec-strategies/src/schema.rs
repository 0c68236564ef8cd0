//! The subset of JSON Schema the strategies understand, parsed once so that unsupported
//! keywords are refused up front instead of producing wrong data.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::labels::StrategyError;

/// A schema, reduced to what generating values needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Any JSON value (a schema with no `type`).
    Any,
    /// `true` or `false`.
    Boolean,
    /// An integer within the schema's inclusive bounds, if it states them.
    Integer {
        /// `minimum`.
        min: Option<i128>,
        /// `maximum`.
        max: Option<i128>,
    },
    /// A finite number within the schema's inclusive bounds, if it states them.
    Number {
        /// `minimum`.
        min: Option<f64>,
        /// `maximum`.
        max: Option<f64>,
    },
    /// A string.
    String {
        /// Shortest length, in characters.
        min_len: usize,
        /// Longest length, in characters, if bounded.
        max_len: Option<usize>,
        /// `date-time` or `uuid`, if the string has one of those formats.
        format: Option<Format>,
    },
    /// An array of one item schema.
    Array(Box<Node>),
    /// An object.
    Object {
        /// The properties in a stable order.
        properties: Vec<(String, Node)>,
        /// The required ones.
        required: BTreeSet<String>,
    },
    /// The inner schema, or `null`.
    Nullable(Box<Node>),
    /// One of these values (`enum`), never null.
    Enum(Vec<Value>),
}

/// A string format the strategies generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 3339 date-time.
    DateTime,
    /// Hyphenated uuid.
    Uuid,
}

const MAX_DEPTH: usize = 16;

impl Node {
    /// Parses `schema`, resolving `#/definitions/` references in `definitions`.
    pub fn parse(
        schema: &Value,
        definitions: &Map<String, Value>,
        path: &str,
    ) -> Result<Self, StrategyError> {
        parse(schema, definitions, path, 0)
    }

    /// Whether `null` is allowed.
    pub fn is_nullable(&self) -> bool {
        matches!(self, Node::Nullable(_) | Node::Any)
    }

    /// The schema without its nullability.
    pub fn non_null(&self) -> &Node {
        match self {
            Node::Nullable(inner) => inner,
            other => other,
        }
    }
}

fn unsupported(path: &str, what: impl Into<String>) -> StrategyError {
    StrategyError::Unsupported {
        path: path.to_owned(),
        what: what.into(),
    }
}

fn parse(
    schema: &Value,
    definitions: &Map<String, Value>,
    path: &str,
    depth: usize,
) -> Result<Node, StrategyError> {
    if depth > MAX_DEPTH {
        return Err(unsupported(
            path,
            format!("a schema nested more than {MAX_DEPTH} levels deep (or a recursive one)"),
        ));
    }
    let Some(object) = schema.as_object() else {
        return match schema {
            Value::Bool(true) => Ok(Node::Any),
            _ => Err(unsupported(path, format!("the schema {schema}"))),
        };
    };
    for keyword in [
        "const",
        "pattern",
        "oneOf",
        "allOf",
        "not",
        "multipleOf",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "additionalProperties",
    ] {
        if object.contains_key(keyword) {
            return Err(unsupported(path, format!("`{keyword}`")));
        }
    }
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix("#/definitions/")
            .ok_or_else(|| unsupported(path, format!("the reference {reference}")))?;
        let target = definitions
            .get(name)
            .ok_or_else(|| unsupported(path, format!("the reference {reference}")))?;
        return parse(target, definitions, path, depth + 1);
    }
    if let Some(alternatives) = object.get("anyOf").and_then(Value::as_array) {
        // Only the shape spec-schema writes for a nullable reference: [{type: null}, X].
        let null = serde_json::json!({"type": "null"});
        return match alternatives.as_slice() {
            [first, other] if *first == null => Ok(Node::Nullable(Box::new(parse(
                other,
                definitions,
                path,
                depth + 1,
            )?))),
            _ => Err(unsupported(path, "`anyOf` other than a nullable reference")),
        };
    }
    if let Some(values) = object.get("enum") {
        let values = values
            .as_array()
            .filter(|values| !values.is_empty())
            .ok_or_else(|| unsupported(path, format!("the enum {values}")))?;
        let nullable = values.contains(&Value::Null);
        let node = Node::Enum(values.iter().filter(|v| !v.is_null()).cloned().collect());
        return Ok(if nullable {
            Node::Nullable(Box::new(node))
        } else {
            node
        });
    }
    let types: Vec<&str> = match object.get("type") {
        None => return Ok(Node::Any),
        Some(Value::String(ty)) => vec![ty.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        Some(other) => return Err(unsupported(path, format!("the type {other}"))),
    };
    let nullable = types.contains(&"null");
    let types: Vec<&str> = types.into_iter().filter(|ty| *ty != "null").collect();
    let [ty] = types.as_slice() else {
        return Err(unsupported(path, "a union of several non-null types"));
    };
    let node = match *ty {
        "boolean" => Node::Boolean,
        "integer" => Node::Integer {
            min: integer_bound(object.get("minimum"), path)?,
            max: integer_bound(object.get("maximum"), path)?,
        },
        "number" => Node::Number {
            min: object.get("minimum").and_then(Value::as_f64),
            max: object.get("maximum").and_then(Value::as_f64),
        },
        "string" => Node::String {
            min_len: length(object.get("minLength"), path)?.unwrap_or(0),
            max_len: length(object.get("maxLength"), path)?,
            format: match object.get("format").and_then(Value::as_str) {
                Some("date-time") => Some(Format::DateTime),
                Some("uuid") => Some(Format::Uuid),
                _ => None,
            },
        },
        "array" => Node::Array(Box::new(match object.get("items") {
            Some(items) => parse(items, definitions, &format!("{path}[]"), depth + 1)?,
            None => Node::Any,
        })),
        "object" => {
            let mut properties = Vec::new();
            if let Some(map) = object.get("properties").and_then(Value::as_object) {
                for (name, schema) in map {
                    let path = format!("{path}.{name}");
                    properties.push((name.clone(), parse(schema, definitions, &path, depth + 1)?));
                }
            }
            let required = object
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Node::Object {
                properties,
                required,
            }
        }
        other => return Err(unsupported(path, format!("the type `{other}`"))),
    };
    Ok(if nullable {
        Node::Nullable(Box::new(node))
    } else {
        node
    })
}

fn integer_bound(value: Option<&Value>, path: &str) -> Result<Option<i128>, StrategyError> {
    let Some(value) = value else { return Ok(None) };
    if let Some(n) = value.as_i64() {
        return Ok(Some(n.into()));
    }
    if let Some(n) = value.as_u64() {
        return Ok(Some(n.into()));
    }
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e30 => Ok(Some(f as i128)),
        _ => Err(unsupported(path, format!("the integer bound {value}"))),
    }
}

fn length(value: Option<&Value>, path: &str) -> Result<Option<usize>, StrategyError> {
    match value {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| unsupported(path, format!("the length {value}"))),
    }
}
