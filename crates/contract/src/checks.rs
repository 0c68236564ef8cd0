//! What a response must look like. Each function returns one outcome per named check, so that
//! the report can count every check separately.

use std::collections::BTreeSet;

use nexudus_types::ErrorEnvelope;
use serde_json::Value;
use spec_strategies::{Violation, ViolationKind};

/// The outcome of one named check: `Err` says what was wrong.
pub type Outcome = (&'static str, Result<(), String>);

/// `PropertyName` the spec's convention gives errors about the body as a whole.
pub const BODY_PROPERTY: &str = "$body";
/// The documented message for a missing required field.
pub const REQUIRED_MESSAGE: &str = "is a required field";
/// `Message` joins the entries of `Errors` with this (the spec's stated choice).
pub const MESSAGE_SEPARATOR: &str = "\n";

fn check(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}

/// The status is the one expected.
pub fn status(expected: u16, got: u16) -> Outcome {
    (
        "status",
        check(expected == got, || {
            format!("expected {expected}, got {got}")
        }),
    )
}

/// The raw body validates against the spec's schema for the status.
pub fn response_schema(
    validator: Option<&spec_schema::Validator>,
    body: Option<&Value>,
) -> Outcome {
    let result = match (validator, body) {
        (None, _) => Err("the spec documents no JSON body for this status".to_owned()),
        (_, None) => Err("the body is not JSON".to_owned()),
        (Some(validator), Some(body)) => {
            let violations = validator.violations(body);
            check(violations.is_empty(), || {
                let list: Vec<String> = violations
                    .iter()
                    .map(|v| {
                        format!(
                            "{}: {}",
                            v.property_name().unwrap_or_else(|| "(root)".into()),
                            v.message
                        )
                    })
                    .collect();
                format!(
                    "the body violates {}: {}",
                    validator.schema_name(),
                    list.join("; ")
                )
            })
        }
    };
    ("response schema", result)
}

/// The success envelope of a create: the documented keys and values.
pub fn success_envelope(
    body: Option<&Value>,
    required_keys: &[String],
    caller: Option<&str>,
    seen_ids: &mut BTreeSet<i64>,
) -> Vec<Outcome> {
    let Some(body) = body.and_then(Value::as_object) else {
        return vec![(
            "success envelope",
            Err("the body is not a JSON object".into()),
        )];
    };
    let missing: Vec<&str> = required_keys
        .iter()
        .filter(|key| !body.contains_key(key.as_str()))
        .map(String::as_str)
        .collect();
    let id = body
        .get("Value")
        .and_then(|value| value.get("Id"))
        .and_then(Value::as_i64);
    let new_id = match id {
        Some(id) if id > 0 => check(seen_ids.insert(id), || {
            format!("Value.Id {id} was returned before")
        }),
        Some(id) => Err(format!("Value.Id {id} is not positive")),
        None => Err(format!(
            "Value.Id is missing or not an integer: {:?}",
            body.get("Value")
        )),
    };
    let updated_by = body.get("UpdatedBy").and_then(Value::as_str);
    let updated_by = match (caller, updated_by) {
        (_, None) => Err("UpdatedBy is missing or not a string".to_owned()),
        (Some(caller), Some(got)) => check(caller == got, || {
            format!("UpdatedBy is {got:?}, the caller is {caller:?}")
        }),
        (None, Some(got)) => check(!got.is_empty(), || "UpdatedBy is empty".to_owned()),
    };
    vec![
        (
            "envelope keys",
            check(missing.is_empty(), || {
                format!("missing keys: {}", missing.join(", "))
            }),
        ),
        (
            "WasSuccessful true",
            check(
                body.get("WasSuccessful") == Some(&Value::Bool(true)),
                || format!("WasSuccessful is {:?}", body.get("WasSuccessful")),
            ),
        ),
        (
            "Errors null",
            check(body.get("Errors") == Some(&Value::Null), || {
                format!("Errors is {:?}", body.get("Errors"))
            }),
        ),
        ("new Value.Id", new_id),
        ("UpdatedBy caller", updated_by),
    ]
}

/// The error envelope: not successful, `Value` null, `Message` built from `Errors`.
pub fn error_envelope(body: Option<&Value>, typed: &Result<ErrorEnvelope, String>) -> Vec<Outcome> {
    let decoded = (
        "typed decode",
        typed
            .as_ref()
            .map(|_| ())
            .map_err(|error| format!("the generated client could not decode it: {error}")),
    );
    let Some(body) = body.and_then(Value::as_object) else {
        return vec![
            decoded,
            (
                "error envelope",
                Err("the body is not a JSON object".into()),
            ),
        ];
    };
    let envelope = (
        "error envelope",
        check(
            body.get("WasSuccessful") == Some(&Value::Bool(false))
                && body.get("Value") == Some(&Value::Null),
            || {
                format!(
                    "WasSuccessful {:?}, Value {:?}",
                    body.get("WasSuccessful"),
                    body.get("Value")
                )
            },
        ),
    );
    let errors = body.get("Errors").and_then(Value::as_array);
    let joined = errors.map(|errors| {
        errors
            .iter()
            .map(|error| {
                format!(
                    "{}: {}",
                    error
                        .get("PropertyName")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    error
                        .get("Message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(MESSAGE_SEPARATOR)
    });
    let message = body.get("Message").and_then(Value::as_str);
    let join = (
        "Message join",
        match (joined, message) {
            (Some(joined), Some(message)) => check(joined == message, || {
                format!("Message is {message:?}, the entries of Errors give {joined:?}")
            }),
            _ => Err("Errors or Message is missing".to_owned()),
        },
    );
    let non_empty = (
        "Errors listed",
        check(errors.is_some_and(|errors| !errors.is_empty()), || {
            "Errors is empty or missing".into()
        }),
    );
    vec![decoded, envelope, non_empty, join]
}

/// `Errors` reports exactly the labelled violations: one entry per label, with its
/// `PropertyName`, the sent value as `AttemptedValue` and, for a missing field, the documented
/// message.
pub fn labelled_errors(body: Option<&Value>, labels: &[Violation]) -> Vec<Outcome> {
    let entries: Vec<(String, Value, String)> = body
        .and_then(|body| body.get("Errors"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|entry| {
            (
                entry
                    .get("PropertyName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                entry
                    .get("AttemptedValue")
                    .cloned()
                    .unwrap_or(Value::String("<absent>".into())),
                entry
                    .get("Message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<String> = labels.iter().map(property_name).collect();
    expected.sort();
    let mut got: Vec<String> = entries.iter().map(|(name, _, _)| name.clone()).collect();
    got.sort();
    let properties = check(expected == got, || {
        format!("expected errors for {expected:?}, got {got:?}")
    });

    let mut attempted = Vec::new();
    let mut messages = Vec::new();
    for label in labels {
        let name = property_name(label);
        let Some((_, value, message)) = entries.iter().find(|(entry, _, _)| *entry == name) else {
            continue;
        };
        let sent = label.sent.clone().unwrap_or(Value::Null);
        if *value != sent {
            attempted.push(format!("{name}: AttemptedValue {value}, sent {sent}"));
        }
        if label.kind == ViolationKind::MissingRequired && message != REQUIRED_MESSAGE {
            messages.push(format!(
                "{name}: {message:?}, documented {REQUIRED_MESSAGE:?}"
            ));
        } else if message.trim().is_empty() {
            messages.push(format!("{name}: empty message"));
        }
    }
    vec![
        ("errors match violations", properties),
        (
            "AttemptedValue is the sent value",
            check(attempted.is_empty(), || attempted.join("; ")),
        ),
        (
            "messages",
            check(messages.is_empty(), || messages.join("; ")),
        ),
    ]
}

/// The `PropertyName` a labelled violation must be reported under.
pub fn property_name(label: &Violation) -> String {
    label
        .property
        .clone()
        .unwrap_or_else(|| BODY_PROPERTY.to_owned())
}
