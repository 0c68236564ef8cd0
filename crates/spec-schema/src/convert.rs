//! OpenAPI 3.0's schema dialect rewritten as JSON Schema draft 4, the one place that knows the
//! difference: every caller that validates against the spec (server, client, contract suite)
//! gets the same conversion, so their verdicts cannot drift apart.

use serde_json::{Map, Value};

use crate::error::SpecError;

/// Where converted component schemas live in the JSON Schema documents this crate builds.
pub const DEFINITIONS: &str = "definitions";

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{spec::Spec, test_fixture::SPEC};

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

    /// A nullable reference or composition cannot take `null` into a `type` it does not have: it
    /// becomes `anyOf` null or the original, so that null is accepted before the reference is
    /// followed.
    #[test]
    fn a_nullable_reference_or_composition_accepts_null_first() {
        assert_eq!(
            to_json_schema(&json!({"$ref": "#/components/schemas/A", "nullable": true})).unwrap(),
            json!({"anyOf": [{"type": "null"}, {"$ref": "#/definitions/A"}]})
        );
        assert_eq!(
            to_json_schema(
                &json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
            )
            .unwrap(),
            json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/definitions/A"}]}]})
        );
        assert_eq!(
            to_json_schema(&json!({"oneOf": [{"type": "string"}], "nullable": true})).unwrap(),
            json!({"anyOf": [{"type": "null"}, {"oneOf": [{"type": "string"}]}]})
        );
        // Not nullable, a reference stays as it is.
        assert_eq!(
            to_json_schema(&json!({"$ref": "#/components/schemas/A", "nullable": false})).unwrap(),
            json!({"$ref": "#/definitions/A"})
        );
    }

    /// A bound the schema states is kept; the format fills in only the other one, and only
    /// `int32` and `int64` carry a range.
    #[test]
    fn a_stated_bound_wins_over_the_format_range() {
        assert_eq!(
            to_json_schema(&json!({"type": "integer", "format": "int32", "minimum": 0})).unwrap(),
            json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": i32::MAX})
        );
        assert_eq!(
            to_json_schema(&json!({"type": "integer", "format": "int64", "maximum": 9})).unwrap(),
            json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": 9})
        );
        for unbounded in ["int16", "double", "date-time"] {
            let schema = json!({"type": "integer", "format": unbounded});
            assert_eq!(to_json_schema(&schema).unwrap(), schema, "{unbounded}");
        }
    }

    /// A schema that is not an object (`true`, say) is already JSON Schema; a `$ref` that is not
    /// a string names no component and is refused like a foreign one.
    #[test]
    fn non_object_schemas_pass_and_a_ref_must_be_a_string() {
        for schema in [json!(true), json!(false), json!(null)] {
            assert_eq!(to_json_schema(&schema).unwrap(), schema);
        }
        let Err(SpecError::UnsupportedRef(target)) = to_json_schema(&json!({"$ref": 1})) else {
            panic!()
        };
        assert_eq!(target, "");
        // Each `x-` key is dropped, however it is spelled after the prefix.
        assert_eq!(
            to_json_schema(&json!({"type": "string", "x-a": 1, "x-": 2, "X-b": 3})).unwrap(),
            json!({"type": "string", "X-b": 3})
        );
    }
}
