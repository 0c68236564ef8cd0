//! Invalid payloads: a valid object with one to three properties broken, or a body that is not
//! an object. Every break is labelled with the property the server must name.

use proptest::{prelude::*, strategy::Union};
use serde_json::{Value, json};

use crate::{
    labels::{InvalidCase, StrategyError, Violation, ViolationKind},
    schema::{Format, Node},
    valid::{self, NUMBER_SPAN, int_value},
};

/// How many properties one case breaks at most.
const MAX_BROKEN: usize = 3;

pub(crate) fn strategy(
    node: &Node,
    name: &str,
) -> Result<BoxedStrategy<InvalidCase>, StrategyError> {
    let Node::Object {
        properties,
        required,
    } = node
    else {
        return Err(StrategyError::Unsupported {
            path: name.to_owned(),
            what: "invalid payloads for a schema that is not an object".into(),
        });
    };
    // Per property, a strategy that breaks it in one of the ways its schema allows.
    let breakers: Vec<BoxedStrategy<Violation>> = properties
        .iter()
        .filter_map(|(property, node)| {
            let kinds = kinds(node, required.contains(property));
            if kinds.is_empty() {
                return None;
            }
            let choices: Vec<BoxedStrategy<Violation>> = kinds
                .into_iter()
                .map(|kind| {
                    let property = property.clone();
                    breaking_value(node, kind)
                        .prop_map(move |sent| Violation {
                            property: Some(property.clone()),
                            kind,
                            sent,
                        })
                        .boxed()
                })
                .collect();
            Some(Union::new(choices).boxed())
        })
        .collect();

    let not_an_object = prop_oneof![
        prop::collection::vec(valid::any_value(), 0..3).prop_map(Value::Array),
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,8}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
    .prop_map(|body| InvalidCase {
        violations: vec![Violation {
            property: None,
            kind: if body.is_null() {
                ViolationKind::NullNotAllowed
            } else {
                ViolationKind::NotAnObject
            },
            sent: Some(body.clone()),
        }],
        body,
    });
    if breakers.is_empty() {
        return Ok(not_an_object.boxed());
    }

    let count = breakers.len();
    let broken =
        prop::sample::subsequence((0..count).collect::<Vec<_>>(), 1..=MAX_BROKEN.min(count))
            .prop_flat_map(move |chosen| {
                chosen
                    .into_iter()
                    .map(|index| breakers[index].clone())
                    .collect::<Vec<_>>()
            });
    let broken_object = (valid::strategy(node), broken).prop_map(|(mut body, violations)| {
        let object = body
            .as_object_mut()
            .expect("the valid strategy of an object");
        for violation in &violations {
            let property = violation.property.as_deref().expect("property violations");
            match &violation.sent {
                None => {
                    object.remove(property);
                }
                Some(value) => {
                    object.insert(property.to_owned(), value.clone());
                }
            }
        }
        InvalidCase { body, violations }
    });
    Ok(prop_oneof![9 => broken_object, 1 => not_an_object].boxed())
}

/// The ways `node` can be broken so that exactly one violation results.
fn kinds(node: &Node, required: bool) -> Vec<ViolationKind> {
    use ViolationKind::*;

    let mut kinds = Vec::new();
    if required {
        kinds.push(MissingRequired);
    }
    if !node.is_nullable() {
        kinds.push(NullNotAllowed);
    }
    let inner = node.non_null();
    if *inner != Node::Any {
        kinds.push(WrongType);
    }
    kinds.extend(value_kinds(inner, 0));
    kinds
}

/// The ways a value of `node`'s own type can break it: out of its bounds, of the wrong length
/// (a too short one at least `shortest` characters long), malformed, or not listed. A malformed
/// value of a formatted string is reported for its format only, so lengths are not broken then.
pub(crate) fn value_kinds(node: &Node, shortest: usize) -> Vec<ViolationKind> {
    use ViolationKind::*;

    let mut kinds = Vec::new();
    match node {
        Node::Integer { min, max } => {
            kinds.extend(min.map(|_| BelowMinimum));
            kinds.extend(max.map(|_| AboveMaximum));
        }
        Node::Number { min, max } => {
            kinds.extend(min.map(|_| BelowMinimum));
            kinds.extend(max.map(|_| AboveMaximum));
        }
        Node::String {
            min_len,
            max_len,
            format,
        } => match format {
            Some(_) => kinds.push(BadFormat),
            None => {
                kinds.extend(max_len.map(|_| TooLong));
                if *min_len > shortest {
                    kinds.push(TooShort);
                }
            }
        },
        Node::Enum(values) if not_listed(values).is_some() => kinds.push(NotInEnum),
        _ => {}
    }
    kinds
}

/// Values of the enum's own JSON type that it does not list (`None` when its values are not all
/// strings or all integers).
pub(crate) fn not_listed(values: &[Value]) -> Option<BoxedStrategy<Value>> {
    if values.iter().all(Value::is_string) {
        let listed = values.to_vec();
        return Some(
            "[A-Za-z_-]{1,12}"
                .prop_map(Value::String)
                .prop_filter("not listed", move |value| !listed.contains(value))
                .boxed(),
        );
    }
    if values.iter().all(|value| value.is_i64() || value.is_u64()) {
        let listed = values.to_vec();
        return Some(
            (-1000i64..=1000)
                .prop_map(Value::from)
                .prop_filter("not listed", move |value| !listed.contains(value))
                .boxed(),
        );
    }
    None
}

/// A value that breaks `node` in the way `kind` says; `None` means "leave the property out".
fn breaking_value(node: &Node, kind: ViolationKind) -> BoxedStrategy<Option<Value>> {
    use ViolationKind::*;

    let inner = node.non_null();
    let value: BoxedStrategy<Value> = match (kind, inner) {
        (MissingRequired, _) => return Just(None).boxed(),
        (NullNotAllowed, _) => Just(Value::Null).boxed(),
        (WrongType, node) => wrong_type(node),
        (BelowMinimum, Node::Integer { min: Some(min), .. }) => {
            let min = *min;
            (1i128..=1000).prop_map(move |k| int_value(min - k)).boxed()
        }
        (AboveMaximum, Node::Integer { max: Some(max), .. }) => {
            let max = *max;
            (1i128..=1000).prop_map(move |k| int_value(max + k)).boxed()
        }
        (BelowMinimum, Node::Number { min: Some(min), .. }) => {
            let min = *min;
            outside(min, -1.0)
        }
        (AboveMaximum, Node::Number { max: Some(max), .. }) => {
            let max = *max;
            outside(max, 1.0)
        }
        (
            TooLong,
            Node::String {
                max_len: Some(max), ..
            },
        ) => {
            let max = *max;
            (max + 1..=max + 8, any::<u64>())
                .prop_map(|(len, seed)| Value::String(valid::text(seed, len)))
                .boxed()
        }
        (TooShort, Node::String { min_len, .. }) => {
            let min = *min_len;
            (0..min, any::<u64>())
                .prop_map(|(len, seed)| Value::String(valid::text(seed, len)))
                .boxed()
        }
        (
            BadFormat,
            Node::String {
                format: Some(format),
                ..
            },
        ) => bad_format(*format),
        (NotInEnum, Node::Enum(values)) => {
            not_listed(values).expect("kinds() offers NotInEnum only for such enums")
        }
        (kind, node) => unreachable!("kinds() never offers {kind:?} for {node:?}"),
    };
    value.prop_map(Some).boxed()
}

/// A number beyond `bound` in `direction`, by a margin that survives floating point.
pub(crate) fn outside(bound: f64, direction: f64) -> BoxedStrategy<Value> {
    (0.01f64..=NUMBER_SPAN)
        .prop_map(move |margin| {
            let value = bound + direction * margin.max(bound.abs() * 1e-9);
            Value::from(value)
        })
        .boxed()
}

/// A JSON value of a type `node` does not accept (never null: that is its own kind).
fn wrong_type(node: &Node) -> BoxedStrategy<Value> {
    let candidates: Vec<Value> = match node {
        Node::Integer { .. } => vec![
            json!("1"),
            json!(true),
            json!(1.5),
            json!([1]),
            json!({"n": 1}),
        ],
        Node::Number { .. } => vec![json!("1.5"), json!(false), json!([]), json!({})],
        Node::String { .. } => vec![json!(0), json!(true), json!(["x"]), json!({"x": "y"})],
        Node::Boolean => vec![json!("true"), json!(1), json!([]), json!({})],
        Node::Array(_) => vec![json!("x"), json!(1), json!({})],
        Node::Object { .. } => vec![json!("x"), json!(1), json!([])],
        Node::Enum(values) => {
            // A value of a JSON type that none of the listed values has.
            let candidates = [json!("x"), json!(7), json!(true), json!([]), json!({})];
            let types: Vec<std::mem::Discriminant<Value>> =
                values.iter().map(std::mem::discriminant).collect();
            candidates
                .into_iter()
                .filter(|candidate| !types.contains(&std::mem::discriminant(candidate)))
                .collect()
        }
        Node::Any | Node::Nullable(_) => unreachable!("no wrong type for {node:?}"),
    };
    prop::sample::select(candidates).boxed()
}

pub(crate) fn bad_format(format: Format) -> BoxedStrategy<Value> {
    let fixed: Vec<&str> = match format {
        Format::DateTime => vec![
            // Well-formed, but in UTC year 10000.
            "9999-12-31T23:59:59-14:00",
            "2025-13-01T00:00:00Z",
            "2025-01-15T25:00:00Z",
            "2025-01-15T10:30:00",
            "2025-01-15",
            "15/01/2025 10:30",
            "yesterday",
            "",
        ],
        Format::Uuid => vec![
            "not-a-uuid",
            "0d6b7c1e3f8a4c2e9b1d5a7e2f4c8d90",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9",
            "{0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90}",
            "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8dzz",
            "",
        ],
    };
    prop_oneof![
        prop::sample::select(fixed).prop_map(|text| Value::String(text.to_owned())),
        "[g-z ]{1,12}".prop_map(Value::String),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::{Config, TestError, TestRunner};

    use super::*;

    /// The smallest value `strategy` shrinks to when every value fails.
    fn minimal(strategy: BoxedStrategy<Value>) -> Value {
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::default()
        });
        match runner.run(&strategy, |_| Err(TestCaseError::fail("every value"))) {
            Err(TestError::Fail(_, value)) => value,
            other => panic!("{other:?}"),
        }
    }

    /// A failing case reports the number nearest its bound: a hundredth past it, or a
    /// billionth of the bound where a hundredth is lost to rounding.
    #[test]
    fn a_number_past_its_bound_shrinks_to_just_past_it() {
        assert_eq!(minimal(outside(5.0, -1.0)), json!(5.0 - 0.01));
        assert_eq!(minimal(outside(-2.5, 1.0)), json!(-2.5 + 0.01));
        assert_eq!(minimal(outside(1e17, 1.0)), json!(1e17 + 1e8));
        assert_eq!(minimal(outside(-1e17, -1.0)), json!(-1e17 - 1e8));
    }
}
