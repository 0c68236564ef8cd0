//! An OpenAPI document held as JSON, and its component schemas taken out of it: the document is
//! kept whole so that tools reading more than schemas (paths, parameters, links) read the same
//! text the schemas came from.

use serde_json::{Map, Value};

use crate::{convert::to_json_schema, error::SpecError};

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_fixture::{SPEC, validator};

    #[test]
    fn the_document_is_kept_and_a_validator_names_its_schema() {
        let spec = Spec::from_yaml(SPEC).unwrap();
        assert_eq!(spec.document()["info"]["title"], json!("t"));
        assert_eq!(
            format!("{:?}", validator()),
            "Validator { name: \"Thing\", .. }"
        );
    }

    /// JSON is read as the YAML it is; a text that is neither, or a document without an object
    /// of component schemas, is refused with its own error.
    #[test]
    fn documents_are_yaml_or_json_with_an_object_of_schemas() {
        let json = Spec::from_yaml(
            r#"{"components": {"schemas": {"A": {"type": "string", "nullable": true}}}}"#,
        )
        .unwrap();
        assert_eq!(
            json.component_schemas().unwrap()["A"],
            json!({"type": "string", "nullable": true}),
            "the raw schemas keep the OpenAPI dialect"
        );
        assert_eq!(
            json.json_schema_definitions().unwrap()["A"],
            json!({"type": ["string", "null"]})
        );
        assert!(matches!(Spec::from_yaml("a: ["), Err(SpecError::Yaml(_))));
        for shapeless in ["{}", "components: {}", "components: {schemas: [A]}", "7"] {
            let spec = Spec::from_yaml(shapeless).unwrap();
            assert!(
                matches!(spec.component_schemas(), Err(SpecError::NoSchemas)),
                "{shapeless}"
            );
            assert!(
                matches!(spec.json_schema_definitions(), Err(SpecError::NoSchemas)),
                "{shapeless}"
            );
        }
    }

    /// One component that cannot be converted fails the whole document, naming the reference.
    #[test]
    fn a_foreign_reference_in_any_component_fails_the_definitions() {
        let spec = Spec::from_yaml(
            "components: {schemas: {A: {type: string}, B: {properties: {C: {$ref: 'other.yaml#/C'}}}}}",
        )
        .unwrap();
        let Err(SpecError::UnsupportedRef(target)) = spec.json_schema_definitions() else {
            panic!()
        };
        assert_eq!(target, "other.yaml#/C");
    }
}
