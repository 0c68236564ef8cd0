//! Why a document or a schema cannot be used: one error for reading the document, converting
//! its schemas and compiling a validator, since a caller handles them alike (the spec is wrong,
//! or names a schema it does not have).

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
