//! Request bodies checked against the spec before they are sent: the bounds, lengths, patterns
//! and formats that the types cannot hold (a `u64` id above `i64::MAX`, `CreateMultiple` 101, a
//! negative `Price`) give an error naming each property without a round trip. The rules are the
//! server's own: the spec's schemas, compiled by `spec-schema` as the reference server compiles
//! them.

use std::{collections::BTreeMap, sync::OnceLock};

use spec_schema::Validator;

/// The validator of each operation's JSON body, by the name `OperationInfo` gives the method.
fn validators() -> &'static Result<BTreeMap<&'static str, Validator>, String> {
    static VALIDATORS: OnceLock<Result<BTreeMap<&'static str, Validator>, String>> =
        OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let definitions: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(nexudus_types::SCHEMA_DEFINITIONS)
                .map_err(|error| format!("the spec's schemas are not JSON: {error}"))?;
        crate::REQUEST_SCHEMAS
            .iter()
            .map(|&(method, schema)| {
                Validator::new(definitions.clone(), schema)
                    .map(|validator| (method, validator))
                    .map_err(|error| {
                        format!("the spec's schema {schema} does not compile: {error}")
                    })
            })
            .collect()
    })
}

/// Why the JSON `body` of the operation whose method is `method` breaks the spec, one
/// `PropertyName: message` line per violation as the server's envelope words them (its
/// `Message`); `Ok` for a body that satisfies it, and for an operation without a JSON body.
pub(crate) fn body(method: &str, body: &[u8]) -> Result<(), String> {
    let validators = validators().as_ref().map_err(Clone::clone)?;
    let Some(validator) = validators.get(method) else {
        return Ok(());
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| format!("the request body is not JSON: {error}"))?;
    let lines: Vec<String> = validator
        .violations(&value)
        .iter()
        .map(|violation| match violation.property_name() {
            Some(name) => format!("{name}: {}", violation.message),
            None => violation.message.to_string(),
        })
        .collect();
    if lines.is_empty() {
        Ok(())
    } else {
        Err(lines.join("\n"))
    }
}
