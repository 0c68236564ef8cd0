//! A path or query parameter read from its text as a body's value is: typed by its schema's JSON
//! type, checked against the schema with every violation named by the parameter (and the text
//! sent), and parsed only then. A parameter sent twice is a violation, not a choice between its
//! values, so that two readers of one request cannot pick differently.

use std::{collections::HashMap, str::FromStr};

use serde_json::Value;
use spec_schema::{InstancePath, Validator, Violation};

/// The JSON type of a parameter, which says how its text is read before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    /// Taken as it is.
    String,
    /// A decimal integer.
    Integer,
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
}

/// Where [`parameter`] reads a parameter's text: the query's pairs, or the path's (one value
/// per name).
pub trait ParameterSource {
    /// Every value sent under `name`, in order.
    fn values(&self, name: &str) -> &[String];
}

impl ParameterSource for HashMap<String, String> {
    fn values(&self, name: &str) -> &[String] {
        self.get(name).map_or(&[], std::slice::from_ref)
    }
}

/// Reads the parameter `name` from `pairs` (path or query), checks it against its schema and
/// parses it. Problems are added to `violations`, under the parameter's name, with the text that
/// was sent as the value; the result is then `None`, as it is for an absent optional parameter.
pub fn parameter<T: FromStr>(
    pairs: &impl ParameterSource,
    name: &str,
    ty: ParameterType,
    required: bool,
    validator: &Validator,
    violations: &mut Vec<Violation>,
) -> Option<T> {
    let path = || InstancePath::from_segments([name]);
    let violation = |value: Option<Value>, keyword: &'static str, message: &'static str| {
        Violation::new(path(), value, keyword, message)
    };
    let text = match pairs.values(name) {
        [] => {
            if required {
                violations.push(violation(None, "required", "is a required field"));
            }
            return None;
        }
        [text] => text,
        several => {
            let sent = several.iter().cloned().map(Value::String).collect();
            violations.push(violation(
                Some(Value::Array(sent)),
                "uniqueKeys",
                "is sent more than once",
            ));
            return None;
        }
    };
    let sent = Some(Value::String(text.clone()));
    let value = match ty {
        ParameterType::String => Some(Value::String(text.clone())),
        ParameterType::Integer => text.parse::<i64>().ok().map(Value::from).or_else(|| {
            // Beyond i64, keep the number so that the schema's range reports it.
            text.parse::<u64>().ok().map(Value::from).or_else(|| {
                let is_integer = text
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit());
                (is_integer && !text.is_empty())
                    .then(|| text.parse::<f64>().ok().map(Value::from))
                    .flatten()
            })
        }),
        ParameterType::Number => text
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite())
            .map(Value::from),
        ParameterType::Boolean => match text.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    };
    let Some(value) = value else {
        let expected = match ty {
            ParameterType::String => "must be a string",
            ParameterType::Integer => "must be an integer",
            ParameterType::Number => "must be a number",
            ParameterType::Boolean => "must be a boolean",
        };
        violations.push(violation(sent, "type", expected));
        return None;
    };
    let found = validator.violations(&value);
    if !found.is_empty() {
        violations.extend(found.into_iter().map(|found| Violation {
            path: path(),
            value: sent.clone(),
            ..found
        }));
        return None;
    }
    match text.parse::<T>() {
        Ok(parsed) => Some(parsed),
        Err(_) => {
            violations.push(violation(sent, "type", "is out of range"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::query::query_pairs;

    /// Violations as (property, value sent, message), as a test compares them.
    fn named(violations: Vec<Violation>) -> Vec<(String, Option<Value>, String)> {
        violations
            .into_iter()
            .map(|v| (v.property_name().unwrap(), v.value, v.message.to_string()))
            .collect()
    }

    fn schema(schema: Value) -> Validator {
        Validator::for_schema(serde_json::Map::new(), &schema, "p").unwrap()
    }

    #[test]
    fn parameters_are_checked_against_their_schema() {
        let schema = spec_schema::to_json_schema(
            &json!({"type": "integer", "format": "int64", "minimum": 1}),
        )
        .unwrap();
        let validator = Validator::for_schema(serde_json::Map::new(), &schema, "id").unwrap();
        let pairs = query_pairs(Some(
            "id=42&bad=x&zero=0&huge=99999999999999999999&sp=a%20b&twice=1&twice=1",
        ));
        assert_eq!(pairs.values("sp"), ["a b"]);
        let mut violations = Vec::new();
        let read = |name: &str, required: bool, violations: &mut Vec<Violation>| {
            parameter::<i64>(
                &pairs,
                name,
                ParameterType::Integer,
                required,
                &validator,
                violations,
            )
        };
        assert_eq!(read("id", true, &mut violations), Some(42));
        assert_eq!(read("absent", false, &mut violations), None);
        assert!(violations.is_empty());
        for name in ["absent", "bad", "zero", "huge", "twice"] {
            assert_eq!(read(name, true, &mut violations), None);
        }
        let found = named(violations);
        assert_eq!(
            found,
            [
                ("absent".to_owned(), None, "is a required field".to_owned()),
                (
                    "bad".to_owned(),
                    Some(json!("x")),
                    "must be an integer".to_owned()
                ),
                (
                    "zero".to_owned(),
                    Some(json!("0")),
                    "must be at least 1".to_owned()
                ),
                (
                    "huge".to_owned(),
                    Some(json!("99999999999999999999")),
                    "must be at most 9223372036854775807".to_owned()
                ),
                // The same value twice is still two values: neither is chosen.
                (
                    "twice".to_owned(),
                    Some(json!(["1", "1"])),
                    "is sent more than once".to_owned()
                ),
            ]
        );
    }

    /// Booleans are `true` and `false` alone; an integer's text that is not one keeps its text as
    /// the value sent.
    #[test]
    fn booleans_and_integers_are_read_from_their_text() {
        let boolean =
            Validator::for_schema(serde_json::Map::new(), &json!({"type": "boolean"}), "b")
                .unwrap();
        let integer =
            Validator::for_schema(serde_json::Map::new(), &json!({"type": "integer"}), "n")
                .unwrap();
        let pairs = query_pairs(Some(
            "yes=true&no=false&shout=TRUE&half=1.5&exp=1e3&inf=inf",
        ));
        let mut violations = Vec::new();
        let flag = |name: &str, violations: &mut Vec<Violation>| {
            parameter::<bool>(
                &pairs,
                name,
                ParameterType::Boolean,
                true,
                &boolean,
                violations,
            )
        };
        assert_eq!(flag("yes", &mut violations), Some(true));
        assert_eq!(flag("no", &mut violations), Some(false));
        assert!(violations.is_empty());
        assert_eq!(flag("shout", &mut violations), None);
        for name in ["half", "exp", "inf"] {
            assert_eq!(
                parameter::<i64>(
                    &pairs,
                    name,
                    ParameterType::Integer,
                    true,
                    &integer,
                    &mut violations
                ),
                None
            );
        }
        let found = named(violations);
        assert_eq!(
            found,
            [
                (
                    "shout".to_owned(),
                    Some(json!("TRUE")),
                    "must be a boolean".to_owned()
                ),
                (
                    "half".to_owned(),
                    Some(json!("1.5")),
                    "must be an integer".to_owned()
                ),
                (
                    "exp".to_owned(),
                    Some(json!("1e3")),
                    "must be an integer".to_owned()
                ),
                (
                    "inf".to_owned(),
                    Some(json!("inf")),
                    "must be an integer".to_owned()
                ),
            ]
        );
    }

    /// Numbers are finite decimals (an exponent is one): `inf` and `NaN` parse as floats but are
    /// no JSON number, so they are of the wrong type, not out of the schema's range.
    #[test]
    fn numbers_are_finite_decimals() {
        let validator = schema(json!({"type": "number", "maximum": 10}));
        let pairs = query_pairs(Some("a=2.5&b=1e1&c=-0&d=inf&e=NaN&f=11&g="));
        let mut violations = Vec::new();
        let mut read = |name: &str| {
            parameter::<f64>(
                &pairs,
                name,
                ParameterType::Number,
                true,
                &validator,
                &mut violations,
            )
        };
        assert_eq!(read("a"), Some(2.5));
        assert_eq!(read("b"), Some(10.0));
        assert_eq!(read("c"), Some(-0.0));
        for refused in ["d", "e", "f", "g"] {
            assert_eq!(read(refused), None, "{refused}");
        }
        assert_eq!(
            named(violations),
            [
                (
                    "d".to_owned(),
                    Some(json!("inf")),
                    "must be a number".to_owned()
                ),
                (
                    "e".to_owned(),
                    Some(json!("NaN")),
                    "must be a number".to_owned()
                ),
                (
                    "f".to_owned(),
                    Some(json!("11")),
                    "must be at most 10".to_owned()
                ),
                (
                    "g".to_owned(),
                    Some(json!("")),
                    "must be a number".to_owned()
                ),
            ]
        );
    }

    /// Integers beyond `i64` keep their value for the schema to judge; a text the schema accepts
    /// but `T` cannot hold is out of range; an empty text or a lone sign is not an integer.
    #[test]
    fn integers_beyond_the_target_type_are_out_of_range() {
        let validator = schema(json!({"type": "integer"}));
        let pairs = query_pairs(Some(
            "small=127&big=128&u=18446744073709551615&minus=-&empty=",
        ));
        let mut violations = Vec::new();
        let mut read = |name: &str| {
            parameter::<i8>(
                &pairs,
                name,
                ParameterType::Integer,
                true,
                &validator,
                &mut violations,
            )
        };
        assert_eq!(read("small"), Some(127));
        for refused in ["big", "u", "minus", "empty"] {
            assert_eq!(read(refused), None, "{refused}");
        }
        assert_eq!(
            named(violations),
            [
                (
                    "big".to_owned(),
                    Some(json!("128")),
                    "is out of range".to_owned()
                ),
                (
                    "u".to_owned(),
                    Some(json!("18446744073709551615")),
                    "is out of range".to_owned()
                ),
                (
                    "minus".to_owned(),
                    Some(json!("-")),
                    "must be an integer".to_owned()
                ),
                (
                    "empty".to_owned(),
                    Some(json!("")),
                    "must be an integer".to_owned()
                ),
            ]
        );
    }

    /// A path's parameters come one per name; strings are taken as sent, and the schema's
    /// violations carry the parameter's name whatever path the validator reports them at.
    #[test]
    fn path_parameters_are_read_like_query_parameters() {
        let path: HashMap<String, String> =
            [("code".to_owned(), "ab".to_owned())].into_iter().collect();
        // `HashMap::values` would shadow the trait's method.
        assert_eq!(ParameterSource::values(&path, "code"), ["ab"]);
        assert!(ParameterSource::values(&path, "other").is_empty());
        let validator = schema(json!({"type": "string", "minLength": 3}));
        let mut violations = Vec::new();
        let read = |required: bool, name: &str, violations: &mut Vec<Violation>| {
            parameter::<String>(
                &path,
                name,
                ParameterType::String,
                required,
                &validator,
                violations,
            )
        };
        assert_eq!(read(true, "code", &mut violations), None);
        assert_eq!(read(false, "other", &mut violations), None);
        assert_eq!(
            named(violations),
            [(
                "code".to_owned(),
                Some(json!("ab")),
                "must be at least 3 characters long".to_owned()
            )]
        );
        let mut violations = Vec::new();
        let anything = schema(json!({"type": "string"}));
        let long: HashMap<String, String> = [("code".to_owned(), " a b ".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(
            parameter::<String>(
                &long,
                "code",
                ParameterType::String,
                true,
                &anything,
                &mut violations
            ),
            Some(" a b ".to_owned())
        );
        assert!(violations.is_empty());
    }
}
