//! Whole requests of an operation: its path, query and header parameters and its body, valid or
//! with labelled violations.
//!
//! Parameters travel as text, so their values are kept as JSON the way they are sent: a valid
//! parameter holds a JSON value of its schema's type (rendered by [`parameter_text`]), and a
//! broken one holds the text sent, as a JSON string, which is also what a server reports as the
//! attempted value.

use proptest::{prelude::*, strategy::Union};
use serde_json::{Map, Value};

use crate::{
    invalid,
    labels::{InvalidCase, StrategyError, Violation, ViolationKind},
    schema::{Format, Node},
    valid,
};

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A path segment: never absent, never empty, never `.` or `..` (which would change the path).
    Path,
    /// The query string.
    Query,
    /// A request header: its text is visible ASCII with inner spaces only (what every HTTP
    /// stack carries unchanged), so generated strings are mapped onto that alphabet.
    Header,
}

/// A parameter as the strategies need it.
#[derive(Debug, Clone)]
pub struct ParameterShape {
    /// Its name.
    pub name: String,
    /// Where it is sent.
    pub location: Location,
    /// Whether it must be sent.
    pub required: bool,
    /// Its schema, converted to JSON Schema; `$ref`s resolve in the strategies' definitions.
    pub schema: Value,
}

/// What an operation's requests consist of.
#[derive(Debug, Clone, Default)]
pub struct RequestShape {
    /// Path, query and header parameters.
    pub parameters: Vec<ParameterShape>,
    /// The component schema of the JSON body, if there is one.
    pub body: Option<String>,
}

/// One request: parameters by name (a query or header parameter absent from its map is not
/// sent) and the body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Path parameters.
    pub path: Map<String, Value>,
    /// Query parameters.
    pub query: Map<String, Value>,
    /// Header parameters, by the name the spec gives them.
    pub headers: Map<String, Value>,
    /// The JSON body.
    pub body: Option<Value>,
}

/// A request with violations, each labelled with the parameter or property a server must name.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidRequest {
    /// The request.
    pub request: Request,
    /// Its violations: of parameters only, or of the body only (a server checks parameters
    /// first, so a request with both would have half of them unreported).
    pub violations: Vec<Violation>,
}

/// The text a parameter's value is sent as: a string as it is, anything else as JSON.
pub fn parameter_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl Request {
    /// The parameters sent at `location`.
    pub fn at(&self, location: Location) -> &Map<String, Value> {
        match location {
            Location::Path => &self.path,
            Location::Query => &self.query,
            Location::Header => &self.headers,
        }
    }

    /// The parameters sent at `location`, to change.
    pub fn at_mut(&mut self, location: Location) -> &mut Map<String, Value> {
        match location {
            Location::Path => &mut self.path,
            Location::Query => &mut self.query,
            Location::Header => &mut self.headers,
        }
    }
}

/// `text` as a header carries it unchanged: each character outside visible ASCII becomes one
/// inside it (so its length in characters, all a string schema here bounds, is kept), and so
/// does a space at either end, which HTTP strips.
fn header_text(text: &str) -> String {
    let last = text.chars().count().saturating_sub(1);
    text.chars()
        .enumerate()
        .map(|(index, c)| match c {
            '!'..='~' => c,
            ' ' if index != 0 && index != last => c,
            other => char::from(b'!' + (u32::from(other) % 94) as u8),
        })
        .collect()
}

/// A value of a header parameter: its strings made [`header_text`].
fn header_value(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(header_text(&text)),
        other => other,
    }
}

struct Parameter {
    name: String,
    location: Location,
    required: bool,
    node: Node,
}

fn parameters(
    shape: &RequestShape,
    definitions: &Map<String, Value>,
) -> Result<Vec<Parameter>, StrategyError> {
    shape
        .parameters
        .iter()
        .map(|parameter| {
            let node = Node::parse(&parameter.schema, definitions, &parameter.name)?;
            if matches!(
                node.non_null(),
                Node::Object { .. } | Node::Array(_) | Node::Any
            ) {
                return Err(StrategyError::Unsupported {
                    path: parameter.name.clone(),
                    what: "a parameter that is not a string, number, integer, boolean or enum"
                        .into(),
                });
            }
            Ok(Parameter {
                name: parameter.name.clone(),
                location: parameter.location,
                required: parameter.required || parameter.location == Location::Path,
                node,
            })
        })
        .collect()
}

/// A path segment a router sees as one: not empty, not `.` or `..`.
fn is_segment(text: &str) -> bool {
    !matches!(text, "" | "." | "..")
}

fn valid_parameter(parameter: &Parameter) -> BoxedStrategy<Value> {
    // A query parameter has no null: a nullable one is sent with a value or not at all.
    let values = valid::strategy(parameter.node.non_null());
    match parameter.location {
        Location::Path => values
            .prop_filter("a path segment", |value| {
                value.as_str().is_none_or(is_segment)
            })
            .boxed(),
        Location::Query => values,
        Location::Header => values.prop_map(header_value).boxed(),
    }
}

/// Valid requests of `shape`: required parameters always, optional ones present or absent
/// (decided first, so that shrinking drops them first), and a valid body.
pub(crate) fn valid(
    shape: &RequestShape,
    definitions: &Map<String, Value>,
) -> Result<BoxedStrategy<Request>, StrategyError> {
    let parameters = parameters(shape, definitions)?;
    let body = shape
        .body
        .as_deref()
        .map(|name| body_node(name, definitions))
        .transpose()?;
    let mask = prop::collection::vec(any::<bool>(), parameters.len());
    let values: Vec<BoxedStrategy<Value>> = parameters.iter().map(valid_parameter).collect();
    let body = match body {
        Some(node) => valid::strategy(&node).prop_map(Some).boxed(),
        None => Just(None).boxed(),
    };
    let names: Vec<(String, Location, bool)> = parameters
        .iter()
        .map(|p| (p.name.clone(), p.location, p.required))
        .collect();
    Ok((mask, values, body)
        .prop_map(move |(mask, values, body)| {
            let mut request = Request {
                body,
                ..Request::default()
            };
            for ((name, location, required), (present, value)) in
                names.iter().zip(mask.into_iter().zip(values))
            {
                if *required || present {
                    request.at_mut(*location).insert(name.clone(), value);
                }
            }
            request
        })
        .boxed())
}

fn body_node(name: &str, definitions: &Map<String, Value>) -> Result<Node, StrategyError> {
    let schema = definitions
        .get(name)
        .ok_or_else(|| StrategyError::UnknownSchema(name.to_owned()))?;
    Node::parse(schema, definitions, name)
}

/// Invalid requests of `shape`: a valid request with one to three parameters broken, or with its
/// body broken as [`crate::Strategies::invalid`] breaks bodies.
pub(crate) fn invalid(
    shape: &RequestShape,
    definitions: &Map<String, Value>,
) -> Result<BoxedStrategy<InvalidRequest>, StrategyError> {
    let parameters = parameters(shape, definitions)?;
    let base = valid(shape, definitions)?;
    let mut parts: Vec<BoxedStrategy<InvalidRequest>> = Vec::new();

    let breakers: Vec<(String, Location, BoxedStrategy<Violation>)> = parameters
        .iter()
        .filter_map(|parameter| {
            let choices: Vec<BoxedStrategy<Violation>> = parameter_kinds(parameter)
                .into_iter()
                .map(|kind| {
                    let name = parameter.name.clone();
                    breaking_text(parameter, kind)
                        .prop_map(move |text| Violation {
                            property: Some(name.clone()),
                            kind,
                            sent: text.map(Value::String),
                        })
                        .boxed()
                })
                .collect();
            (!choices.is_empty()).then(|| {
                (
                    parameter.name.clone(),
                    parameter.location,
                    Union::new(choices).boxed(),
                )
            })
        })
        .collect();
    if !breakers.is_empty() {
        let count = breakers.len();
        let places: Vec<(String, Location)> = breakers
            .iter()
            .map(|(name, location, _)| (name.clone(), *location))
            .collect();
        let strategies: Vec<BoxedStrategy<Violation>> = breakers
            .into_iter()
            .map(|(_, _, strategy)| strategy)
            .collect();
        let broken = prop::sample::subsequence((0..count).collect::<Vec<_>>(), 1..=3.min(count))
            .prop_flat_map(move |chosen| {
                chosen
                    .into_iter()
                    .map(|index| strategies[index].clone().prop_map(move |v| (index, v)))
                    .collect::<Vec<_>>()
            });
        parts.push(
            (base.clone(), broken)
                .prop_map(move |(mut request, broken)| {
                    let mut violations = Vec::new();
                    for (index, violation) in broken {
                        let (name, location) = &places[index];
                        let map = request.at_mut(*location);
                        match &violation.sent {
                            None => {
                                map.remove(name);
                            }
                            Some(text) => {
                                map.insert(name.clone(), text.clone());
                            }
                        }
                        violations.push(violation);
                    }
                    InvalidRequest {
                        request,
                        violations,
                    }
                })
                .boxed(),
        );
    }
    if let Some(name) = &shape.body {
        let node = body_node(name, definitions)?;
        let bodies = invalid::strategy(&node, name)?;
        parts.push(
            (base, bodies)
                .prop_map(|(mut request, InvalidCase { body, violations })| {
                    request.body = Some(body);
                    InvalidRequest {
                        request,
                        violations,
                    }
                })
                .boxed(),
        );
    }
    if parts.is_empty() {
        return Err(StrategyError::Unsupported {
            path: "request".into(),
            what: "invalid requests of an operation with nothing to break".into(),
        });
    }
    Ok(Union::new(parts).boxed())
}

/// The ways a parameter's text can be wrong so that exactly one violation results.
fn parameter_kinds(parameter: &Parameter) -> Vec<ViolationKind> {
    use ViolationKind::*;

    let mut kinds = Vec::new();
    if parameter.required && parameter.location != Location::Path {
        kinds.push(MissingRequired);
    }
    let node = parameter.node.non_null();
    // A parameter's text of another type: only where the parameter is not a string.
    let typed = match node {
        Node::Integer { .. } | Node::Number { .. } | Node::Boolean => true,
        Node::Enum(values) => !values.iter().all(Value::is_string),
        _ => false,
    };
    if typed {
        kinds.push(WrongType);
    }
    // An empty path segment changes the path: a too short one is at least one character long.
    let shortest = match parameter.location {
        Location::Path => 1,
        Location::Query | Location::Header => 0,
    };
    kinds.extend(invalid::value_kinds(node, shortest));
    kinds
}

/// A text that breaks the parameter in the way `kind` says; `None` means "leave it out".
fn breaking_text(parameter: &Parameter, kind: ViolationKind) -> BoxedStrategy<Option<String>> {
    use ViolationKind::*;

    let text =
        |values: Vec<&'static str>| prop::sample::select(values).prop_map(str::to_owned).boxed();
    let node = parameter.node.non_null();
    let strategy: BoxedStrategy<String> = match (kind, node) {
        (MissingRequired, _) => return Just(None).boxed(),
        (WrongType, Node::Integer { .. } | Node::Enum(_)) => {
            text(vec!["abc", "1.5", "1e3", "true", " 1", "0x10"])
        }
        (WrongType, Node::Number { .. }) => text(vec!["abc", "NaN", "inf", "1,5", "true"]),
        (WrongType, Node::Boolean) => text(vec!["yes", "1", "TRUE", "on", "False"]),
        (BelowMinimum, Node::Integer { min: Some(min), .. }) => {
            let min = *min;
            (1i128..=1000)
                .prop_map(move |k| (min - k).to_string())
                .boxed()
        }
        (AboveMaximum, Node::Integer { max: Some(max), .. }) => {
            let max = *max;
            (1i128..=1000)
                .prop_map(move |k| (max + k).to_string())
                .boxed()
        }
        (BelowMinimum, Node::Number { min: Some(min), .. }) => invalid::outside(*min, -1.0)
            .prop_map(|value| parameter_text(&value))
            .boxed(),
        (AboveMaximum, Node::Number { max: Some(max), .. }) => invalid::outside(*max, 1.0)
            .prop_map(|value| parameter_text(&value))
            .boxed(),
        (
            TooLong,
            Node::String {
                max_len: Some(max), ..
            },
        ) => {
            let max = *max;
            (max + 1..=max + 8, any::<u64>())
                .prop_map(|(len, seed)| valid::text(seed, len))
                .boxed()
        }
        (TooShort, Node::String { min_len, .. }) => {
            let (low, min) = match parameter.location {
                Location::Path => (1, *min_len),
                Location::Query | Location::Header => (0, *min_len),
            };
            (low..min, any::<u64>())
                .prop_map(|(len, seed)| valid::text(seed, len))
                .boxed()
        }
        (
            BadFormat,
            Node::String {
                format: Some(format),
                ..
            },
        ) => {
            let format: Format = *format;
            invalid::bad_format(format)
                .prop_map(|value| parameter_text(&value))
                .boxed()
        }
        (NotInEnum, Node::Enum(values)) => invalid::not_listed(values)
            .expect("parameter_kinds offers NotInEnum only for such enums")
            .prop_map(|value| parameter_text(&value))
            .boxed(),
        (kind, node) => unreachable!("parameter_kinds() never offers {kind:?} for {node:?}"),
    };
    match parameter.location {
        Location::Path => strategy
            .prop_filter("a path segment", |text| is_segment(text))
            .prop_map(Some)
            .boxed(),
        Location::Query => strategy.prop_map(Some).boxed(),
        // Only a length is wrong in these, which mapping keeps; any other text must already
        // be one a header carries, since mapping could make it valid.
        Location::Header if matches!(kind, TooLong | TooShort) => {
            strategy.prop_map(|text| Some(header_text(&text))).boxed()
        }
        Location::Header => strategy
            .prop_filter("a header's text", |text| header_text(text) == *text)
            .prop_map(Some)
            .boxed(),
    }
}
