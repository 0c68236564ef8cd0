//! What an operation's schemas say of the values it writes and the records it lists: which body
//! properties are write-only, how each reads back (its format, its value when left out), which
//! are plain strings, and the schema of a list's records.

use std::collections::{BTreeMap, BTreeSet};

use api_description::Operation;
use serde_json::{Map, Value};

use crate::extension::Page;

/// What the request body's schema says of its properties.
pub(super) struct Body {
    /// Marked `writeOnly`: sent, but not read back.
    pub(super) write_only: BTreeSet<String>,
    /// Each one's `format`.
    pub(super) formats: BTreeMap<String, String>,
    /// Each but the write-only ones, with the value it reads back as when left out.
    pub(super) left_out: BTreeMap<String, Option<Value>>,
    /// The plain strings (no format, enum or pattern), with their `maxLength`.
    pub(super) plain_strings: BTreeMap<String, Option<u64>>,
}

impl Body {
    pub(super) fn of(operation: &Operation, definitions: &Map<String, Value>) -> Self {
        let body_schema = operation
            .request_schema
            .and_then(|name| definitions.get(name))
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object);
        let properties = || body_schema.into_iter().flatten();
        let write_only: BTreeSet<String> = properties()
            .filter(|(_, schema)| schema.get("writeOnly") == Some(&Value::Bool(true)))
            .map(|(name, _)| name.clone())
            .collect();
        let left_out = properties()
            .filter(|(name, _)| !write_only.contains(name.as_str()))
            .map(|(name, schema)| {
                let schema = resolve(schema, definitions);
                let value = schema
                    .get("default")
                    .cloned()
                    .or(allows(schema, "null").then_some(Value::Null));
                (name.clone(), value)
            })
            .collect();
        let plain_strings = properties()
            .map(|(name, schema)| (name, resolve(schema, definitions)))
            .filter(|(_, schema)| {
                allows(schema, "string")
                    && ["format", "enum", "pattern"]
                        .iter()
                        .all(|key| schema.get(key).is_none())
            })
            .map(|(name, schema)| {
                (
                    name.clone(),
                    schema.get("maxLength").and_then(Value::as_u64),
                )
            })
            .collect();
        Self {
            write_only,
            formats: formats_of(body_schema, definitions),
            left_out,
            plain_strings,
        }
    }
}

/// Whether `schema`'s `type` (one or a list) allows `ty`.
fn allows(schema: &Value, ty: &str) -> bool {
    match schema.get("type") {
        Some(Value::Array(types)) => types.contains(&Value::from(ty)),
        Some(Value::String(one)) => one == ty,
        _ => false,
    }
}

/// The schema of a page's records, resolved: the items of the array at `page.records` in the
/// schema of the success body.
pub(super) fn record<'d>(
    operation: &Operation,
    success_status: u16,
    page: &Page,
    definitions: &'d Map<String, Value>,
) -> Option<&'d Value> {
    let mut schema = definitions.get(operation.response(success_status)?.schema?)?;
    for segment in page.records.split('/').skip(1) {
        schema = resolve(schema.get("properties")?.get(segment)?, definitions);
    }
    Some(resolve(schema.get("items")?, definitions))
}

/// The `format` of each property that has one.
pub(super) fn formats_of(
    properties: Option<&Map<String, Value>>,
    definitions: &Map<String, Value>,
) -> BTreeMap<String, String> {
    properties
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            resolve(schema, definitions)
                .get("format")
                .and_then(Value::as_str)
                .map(|format| (name.clone(), format.to_owned()))
        })
        .collect()
}

/// `schema`, or the definition its `$ref` names.
pub(crate) fn resolve<'a>(schema: &'a Value, definitions: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.rsplit('/').next())
        .and_then(|name| definitions.get(name))
        .unwrap_or(schema)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_type_allows_what_it_names_alone_or_in_a_list() {
        assert!(allows(&json!({"type": "string"}), "string"));
        assert!(allows(&json!({"type": ["string", "null"]}), "null"));
        assert!(!allows(&json!({"type": ["string"]}), "null"));
        assert!(!allows(&json!({"enum": ["a"]}), "string"));
    }

    #[test]
    fn a_reference_resolves_to_its_definition_and_anything_else_to_itself() {
        let definitions = json!({"Name": {"type": "string"}});
        let definitions = definitions.as_object().unwrap();
        let named = json!({"$ref": "#/components/schemas/Name"});
        assert_eq!(resolve(&named, definitions), &json!({"type": "string"}));
        let unknown = json!({"$ref": "#/components/schemas/Other"});
        assert_eq!(resolve(&unknown, definitions), &unknown);
        let formats = formats_of(
            json!({"At": {"type": "string", "format": "date-time"}, "Who": named}).as_object(),
            definitions,
        );
        assert_eq!(formats, BTreeMap::from([("At".into(), "date-time".into())]));
    }
}
