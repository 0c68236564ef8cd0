//! One schema compiled for checking values, with the formats the spec relies on registered
//! (draft 4 knows no `uuid`): every violation reported, in an order that is the same for the
//! same input, and a value of the wrong type reported once, by its type, since what else it
//! breaks says nothing more.

use std::fmt;

use serde_json::{Map, Value};

use crate::{
    convert::DEFINITIONS,
    error::SpecError,
    formats::{is_date_time, is_uuid},
    violation::{InstancePath, Violation},
};

/// Checks JSON values against one component schema of a [`Spec`](crate::Spec).
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
    /// (see [`Spec::json_schema_definitions`](crate::Spec::json_schema_definitions)).
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
    /// already converted with [`to_json_schema`](crate::to_json_schema)); `label` names it in errors. References in it
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        convert::to_json_schema,
        spec::Spec,
        test_fixture::{SPEC, check, validator},
    };

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
