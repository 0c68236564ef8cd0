//! The JSON Schema that schemars derives from the shared types against the spec's component
//! schemas: the same property names, the same required set, the same types and nullability.
//!
//! Rust's `Option` blurs two things the spec keeps apart, so the comparison allows for it:
//! schemars leaves an `Option` field out of `required` (so for nullable properties only the types
//! are compared), and calls every `Option` nullable (so for optional properties a `null` the
//! types add is not a difference).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// Differences between the types and the spec, one line each; empty when they agree.
pub fn differences(
    derived: Vec<(&'static str, Value)>,
    spec_definitions: &Map<String, Value>,
) -> Vec<String> {
    let mut differences = Vec::new();
    let derived_names: BTreeSet<&str> = derived.iter().map(|(name, _)| *name).collect();
    let spec_names: BTreeSet<&str> = spec_definitions.keys().map(String::as_str).collect();
    if derived_names != spec_names {
        differences.push(format!(
            "types {} but spec schemas {}",
            listed(&derived_names),
            listed(&spec_names)
        ));
    }
    // The types refer to each other by their Rust names (`WidgetV2`), the spec by its component
    // names (`widget.v2`): each type's title is its Rust name.
    let components: BTreeMap<String, String> = derived
        .iter()
        .filter_map(|(name, root)| {
            let title = root.get("title")?.as_str()?;
            Some((title.to_owned(), (*name).to_owned()))
        })
        .collect();
    for (name, root) in derived {
        let Some(spec) = spec_definitions.get(name) else {
            continue;
        };
        let mut root = root;
        rename_references(&mut root, &components);
        inline_unnamed(&mut root, &spec_names);
        compare_object(name, spec, &root, &mut differences);
    }
    differences
}

fn compare_object(name: &str, spec: &Value, derived: &Value, out: &mut Vec<String>) {
    let properties = |schema: &Value| -> Map<String, Value> {
        schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let required = |schema: &Value| -> BTreeSet<String> {
        schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let (spec_properties, derived_properties) = (properties(spec), properties(derived));
    let spec_keys: BTreeSet<&String> = spec_properties.keys().collect();
    let derived_keys: BTreeSet<&String> = derived_properties.keys().collect();
    if spec_keys != derived_keys {
        out.push(format!(
            "{name}: properties {} in the types, {} in the spec",
            listed(&derived_keys),
            listed(&spec_keys)
        ));
    }
    let (spec_required, derived_required) = (required(spec), required(derived));
    for (property, spec_schema) in &spec_properties {
        let Some(derived_schema) = derived_properties.get(property) else {
            continue;
        };
        let spec_shape = shape(spec_schema);
        let mut derived_shape = shape(derived_schema);
        if !spec_required.contains(property) && !spec_shape.contains("null") {
            // An optional property is an `Option` in Rust, which schemars always calls nullable.
            derived_shape.remove("null");
        }
        if spec_shape != derived_shape {
            out.push(format!(
                "{name}.{property}: {} in the types, {} in the spec",
                listed(&derived_shape),
                listed(&spec_shape)
            ));
        }
        let nullable = spec_shape.contains("null") || spec_shape.contains("any");
        if !nullable && spec_required.contains(property) != derived_required.contains(property) {
            out.push(format!(
                "{name}.{property}: required {} in the types, {} in the spec",
                derived_required.contains(property),
                spec_required.contains(property)
            ));
        }
    }
}

/// A set as a person reads it: `(a, b)`.
fn listed<T: std::fmt::Display>(set: &BTreeSet<T>) -> String {
    let items: Vec<String> = set.iter().map(ToString::to_string).collect();
    format!("({})", items.join(", "))
}

/// Every `$ref` to a type named in `components` (by its Rust name) made to its component name.
fn rename_references(schema: &mut Value, components: &BTreeMap<String, String>) {
    match schema {
        Value::Object(members) => {
            if let Some(Value::String(reference)) = members.get_mut("$ref")
                && let Some((prefix, name)) = reference.rsplit_once('/')
                && let Some(component) = components.get(name)
            {
                *reference = format!("{prefix}/{component}");
            }
            members
                .values_mut()
                .for_each(|value| rename_references(value, components));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|value| rename_references(value, components)),
        _ => {}
    }
}

/// Each property's reference to a type the generator named for an inline schema of the spec (an
/// enum of one property, say), which the spec has no component for, replaced by its definition.
fn inline_unnamed(root: &mut Value, spec_names: &BTreeSet<&str>) {
    let definitions = root
        .get("definitions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let Some(properties) = root.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for property in properties.values_mut() {
        let target = property
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.rsplit('/').next())
            .filter(|name| !spec_names.contains(name))
            .and_then(|name| definitions.get(name));
        if let Some(definition) = target {
            *property = definition.clone();
        }
    }
}

/// The JSON types a schema admits (`any` for no constraint), with references by name and
/// arrays by their items.
fn shape(schema: &Value) -> BTreeSet<String> {
    let mut shapes = BTreeSet::new();
    match schema {
        Value::Bool(true) => {
            shapes.insert("any".to_owned());
        }
        Value::Object(object) => {
            if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                shapes.insert(format!(
                    "ref {}",
                    reference.rsplit('/').next().unwrap_or(reference)
                ));
            }
            for combinator in ["anyOf", "oneOf", "allOf"] {
                for alternative in object
                    .get(combinator)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    shapes.extend(shape(alternative));
                }
            }
            let types: Vec<&str> = match object.get("type") {
                Some(Value::String(ty)) => vec![ty.as_str()],
                Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for ty in types {
                if ty == "array" {
                    let items = object.get("items").map(shape).unwrap_or_default();
                    shapes.insert(format!("array of {}", listed(&items)));
                } else {
                    shapes.insert(ty.to_owned());
                }
            }
            if shapes.is_empty() {
                shapes.insert("any".to_owned());
            }
        }
        _ => {
            shapes.insert(format!("unknown {schema}"));
        }
    }
    shapes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_definitions() -> Map<String, Value> {
        serde_json::from_str(nexudus_client::API.schema_definitions).unwrap()
    }

    #[test]
    fn the_generated_types_agree_with_the_spec() {
        assert_eq!(
            differences((nexudus_client::API.derived_schemas)(), &spec_definitions()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn drift_is_reported() {
        let mut definitions = spec_definitions();
        let request = definitions["CoworkerTimePassCreate"]
            .as_object_mut()
            .unwrap();
        request["properties"]["Colour"] = serde_json::json!({"type": "string"});
        request["properties"]["CoworkerId"] = serde_json::json!({"type": "string"});
        request["required"]
            .as_array_mut()
            .unwrap()
            .retain(|name| name != "TimePassId");
        definitions.remove("PropertyError");
        let differences = differences((nexudus_client::API.derived_schemas)(), &definitions);
        assert_eq!(differences.len(), 4, "{differences:#?}");
        assert!(differences[0].contains("PropertyError"));
        assert!(differences[1].contains("Colour"));
        assert!(
            differences
                .iter()
                .any(|d| d.contains("TimePassId: required true in the types, false"))
        );
        assert!(
            differences
                .iter()
                .any(|d| d.starts_with("CoworkerTimePassCreate.CoworkerId"))
        );
    }
}
