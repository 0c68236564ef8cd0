//! The document and the checks that the unit tests of several modules share.

use serde_json::Value;

use crate::{spec::Spec, validator::Validator};

/// A document with a property of each kind the validator treats apart (`Thing`) and a
/// referenced object (`Child`).
pub(crate) const SPEC: &str = r##"
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

/// The validator of [`SPEC`]'s `Thing`.
pub(crate) fn validator() -> Validator {
    let spec = Spec::from_yaml(SPEC).unwrap();
    Validator::new(spec.json_schema_definitions().unwrap(), "Thing").unwrap()
}

/// Checks that `instance` breaks `Thing` in exactly these ways, as (property, value sent,
/// message).
#[track_caller]
pub(crate) fn check(instance: Value, expected: &[(&str, Option<Value>, &str)]) {
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
