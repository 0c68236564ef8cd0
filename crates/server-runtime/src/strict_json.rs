//! JSON with one meaning: an object that names a key twice is refused, where `serde_json::Value`
//! would keep the last value and a client and a server could each read a different request.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, map::Entry};

/// Why a text is not one JSON value.
#[derive(Debug)]
pub(crate) enum StrictError {
    /// Not JSON.
    Syntax(serde_json::Error),
    /// A key given twice: the path to it, from the root (array indexes as text).
    RepeatedKey(Vec<String>),
}

/// Parses `text` as `serde_json::from_str::<Value>` does (same recursion limit, same numbers),
/// refusing repeated keys.
pub(crate) fn from_str(text: &str) -> Result<Value, StrictError> {
    let repeated = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Strict {
        repeated: &repeated,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| match repeated.into_inner() {
        Some(mut path) => {
            // Filled innermost first, on the way out.
            path.reverse();
            StrictError::RepeatedKey(path)
        }
        None => StrictError::Syntax(error),
    })
}

/// A `Value` visitor that records where a repeated key was found.
#[derive(Clone, Copy)]
struct Strict<'a> {
    repeated: &'a RefCell<Option<Vec<String>>>,
}

impl Strict<'_> {
    /// On the way out of a failed nested value: adds `segment` to the repeated key's path.
    fn within<E>(self, segment: impl FnOnce() -> String, error: E) -> E {
        if let Some(path) = self.repeated.borrow_mut().as_mut() {
            path.push(segment());
        }
        error
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        loop {
            match items.next_element_seed(self) {
                Ok(Some(value)) => values.push(value),
                Ok(None) => return Ok(Value::Array(values)),
                Err(error) => return Err(self.within(|| values.len().to_string(), error)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            let value = match entries.next_value_seed(self) {
                Ok(value) => value,
                Err(error) => return Err(self.within(|| key, error)),
            };
            match map.entry(key) {
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
                Entry::Occupied(entry) => {
                    *self.repeated.borrow_mut() = Some(vec![entry.key().clone()]);
                    return Err(de::Error::custom("a key is repeated"));
                }
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn repeated(text: &str) -> Option<Vec<String>> {
        match from_str(text) {
            Err(StrictError::RepeatedKey(path)) => Some(path),
            _ => None,
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text =
            r#"{"a": [1, -2, 2.5, 18446744073709551615, "x", null, true, {}], "b": {"c": []}}"#;
        assert_eq!(
            from_str(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert_eq!(from_str("\"\\u00e9\"").unwrap(), json!("é"));
        for bad in ["", "{", "[1,]", "{} {}", "01", "[1] x"] {
            assert!(
                matches!(from_str(bad), Err(StrictError::Syntax(_))),
                "{bad}"
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(from_str(&deep), Err(StrictError::Syntax(_))));
    }

    #[test]
    fn names_where_a_key_is_repeated() {
        assert_eq!(
            repeated(r#"{"CreateMultiple": 1000, "CreateMultiple": 1}"#).unwrap(),
            ["CreateMultiple"]
        );
        assert_eq!(
            repeated(r#"{"a": {"b": [{"c": 1}, {"d": 1, "d": 1}]}}"#).unwrap(),
            ["a", "b", "1", "d"]
        );
        // Equal keys after unescaping are the same key.
        assert_eq!(repeated(r#"{"é": 1, "\u00e9": 2}"#).unwrap(), ["é"]);
        assert_eq!(repeated(r#"[{"a": 1}, {"a": 1}]"#), None);
    }
}
