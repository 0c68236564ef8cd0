//! The checks of an error answer against the API's error convention (the root
//! `x-contract.errors`): the envelope's constant members, its entries and joined message, and
//! an invalid request's labelled violations each named in it.

use super::*;
use crate::{
    extension::Errors,
    vocabulary::{Check, Mismatch, Problems},
};
use serde_json::{Value, json};
use spec_strategies::{Violation, ViolationKind};

/// An error answer as the spec's error convention builds one: the members it always holds with
/// their values, a non-empty list of entries, and (where the convention joins them) the entries
/// joined; first, whether the API's client decodes it (`typed`).
pub(crate) fn error_envelope(
    body: Option<&Value>,
    typed: &Result<(), String>,
    errors: &Errors,
) -> Vec<Outcome> {
    let decoded = typed_decode(typed);
    let Some(body) = body.filter(|body| body.is_object()) else {
        return vec![
            decoded,
            (
                Check::ErrorEnvelope,
                Err(Mismatch::new(
                    "not an object",
                    "the body is not a JSON object",
                )),
            ),
        ];
    };
    let mut outcomes = vec![decoded];
    if !errors.constant.is_empty() {
        let wrong: Vec<(&String, &Value)> = errors
            .constant
            .iter()
            .filter(|(pointer, value)| body.pointer(pointer) != Some(*value))
            .collect();
        outcomes.push((
            Check::ErrorEnvelope,
            check(wrong.is_empty(), || {
                let shown = |pointer: &str| match body.pointer(pointer) {
                    Some(value) => value.to_string(),
                    None => "missing".to_owned(),
                };
                let said: Vec<String> = wrong
                    .iter()
                    .map(|(pointer, value)| format!("{pointer} is {}, not {value}", shown(pointer)))
                    .collect();
                let kind: Vec<String> = wrong
                    .iter()
                    .map(|(pointer, value)| format!("{pointer} not {value}"))
                    .collect();
                let object = |pick: &dyn Fn(&str, &Value) -> Value| {
                    Value::Object(
                        wrong
                            .iter()
                            .map(|(pointer, value)| ((*pointer).clone(), pick(pointer, value)))
                            .collect(),
                    )
                };
                Mismatch::new(
                    kind.join(", "),
                    format!("an error answer of this API: {}", said.join("; ")),
                )
                .values(
                    object(&|_, value| value.clone()),
                    object(&|pointer, _| body.pointer(pointer).cloned().unwrap_or(Value::Null)),
                )
            }),
        ));
    }
    let entries = body.pointer(&errors.entries).and_then(Value::as_array);
    outcomes.push((
        Check::ErrorsListed,
        check(entries.is_some_and(|entries| !entries.is_empty()), || {
            Mismatch::new(
                "no entries",
                format!(
                    "{} is {}, where an error answer lists at least one",
                    errors.entries,
                    body.pointer(&errors.entries)
                        .cloned()
                        .unwrap_or(Value::Null)
                ),
            )
        }),
    ));
    if let (Some(joined), Some(property), Some(message)) =
        (&errors.joined, &errors.property, &errors.message)
    {
        let expected = entries.map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    format!(
                        "{}: {}",
                        entry
                            .get(property)
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                        entry
                            .get(message)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(&errors.separator)
        });
        let got = body.pointer(joined).and_then(Value::as_str);
        outcomes.push((
            Check::MessageJoin,
            match (expected, got) {
                (Some(expected), Some(got)) => check(expected == got, || {
                    Mismatch::new(
                        "not the entries joined",
                        format!(
                            "{joined} is {}, where the entries joined give {}",
                            json!(got),
                            json!(expected)
                        ),
                    )
                    .values(json!(expected), json!(got))
                }),
                (None, _) => Err(Mismatch::new(
                    "entries missing",
                    format!(
                        "{} is missing, so {joined} cannot be checked",
                        errors.entries
                    ),
                )),
                (_, None) => Err(Mismatch::new(
                    "joined text missing",
                    format!("{joined} is missing"),
                )),
            },
        ));
    }
    outcomes
}

/// What each entry says of the property at fault: its name, or with entries of text, the text.
fn named(body: Option<&Value>, errors: &Errors) -> Vec<String> {
    body.and_then(|body| body.pointer(&errors.entries))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| match &errors.property {
            Some(property) => entry.get(property).and_then(Value::as_str),
            None => entry.as_str(),
        })
        .map(str::to_owned)
        .collect()
}

/// An entry names `property`: the server says what it refused (with entries of text, one
/// mentions it).
pub(crate) fn names_property(body: Option<&Value>, property: &str, errors: &Errors) -> Outcome {
    let names = named(body, errors);
    let found = match errors.property {
        Some(_) => names.iter().any(|name| name == property),
        None => names.iter().any(|text| text.contains(property)),
    };
    (
        Check::NamesTheFault,
        check(found, || {
            Mismatch::new(
                format!("no entry names {property}"),
                format!(
                    "no entry of {} names {property}; they name {}",
                    errors.entries,
                    json!(names)
                ),
            )
            .values(json!(property), json!(names))
        }),
    )
}

/// The entries report exactly the labelled violations: one entry per label, under its property's
/// name, with the sent value as its attempted value and, for a missing field, the documented
/// message, as far as the spec's error convention names each; with entries of text, one entry
/// per label.
pub(crate) fn labelled_errors(
    body: Option<&Value>,
    labels: &[Violation],
    errors: &Errors,
) -> Vec<Outcome> {
    let entries: Vec<&Value> = body
        .and_then(|body| body.pointer(&errors.entries))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let broken: Vec<String> = labels
        .iter()
        .map(|label| format!("{} {}", property_name(label, errors), label.kind))
        .collect();
    let Some(property) = &errors.property else {
        return vec![(
            Check::ErrorsMatchViolations,
            check(entries.len() == labels.len(), || {
                Mismatch::new(
                    "another number of entries",
                    format!(
                        "expected {} entries, got {} (the request was sent with: {})",
                        labels.len(),
                        entries.len(),
                        broken.join(", ")
                    ),
                )
                .values(json!(labels.len()), json!(entries.len()))
            }),
        )];
    };
    // Each entry's name, and its attempted value and message where the convention names them
    // (`Some(None)`: named, but the entry lacks it).
    type Member = Option<Option<Value>>;
    let member = |entry: &Value, name: &Option<String>| -> Member {
        name.as_ref().map(|name| entry.get(name).cloned())
    };
    let entries: Vec<(String, Member, Member)> = entries
        .iter()
        .map(|entry| {
            (
                entry
                    .get(property)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                member(entry, &errors.attempted),
                member(entry, &errors.message),
            )
        })
        .collect();
    let mut expected: Vec<String> = labels
        .iter()
        .map(|label| property_name(label, errors))
        .collect();
    expected.sort();
    let mut got: Vec<String> = entries.iter().map(|(name, _, _)| name.clone()).collect();
    got.sort();
    let properties = check(expected == got, || {
        let missing = expected.iter().any(|name| !got.contains(name));
        let extra = got.iter().any(|name| !expected.contains(name));
        let kind = match (missing, extra) {
            (true, true) => "entries for other properties",
            (true, false) => "entries missing",
            (false, true) => "extra entries",
            (false, false) => "entries repeated",
        };
        Mismatch::new(
            kind,
            format!(
                "expected entries for {}, got {} (the request was sent with: {})",
                json!(expected),
                json!(got),
                broken.join(", ")
            ),
        )
        .values(json!(expected), json!(got))
    });
    let mut outcomes = vec![(Check::ErrorsMatchViolations, properties)];

    let mut attempted = Problems::default();
    let mut messages = Problems::default();
    for label in labels {
        let name = property_name(label, errors);
        let Some((_, value, message)) = entries.iter().find(|(entry, _, _)| *entry == name) else {
            continue;
        };
        let sent = label.sent.clone().unwrap_or(Value::Null);
        match value {
            Some(None) => attempted.add(
                "attempted value missing",
                format!("{name}: no attempted value, sent {sent}"),
            ),
            Some(Some(value)) if *value != sent => attempted.add(
                "attempted value differs",
                format!("{name}: attempted value {value}, sent {sent}"),
            ),
            _ => {}
        }
        let Some(message) = message else {
            continue;
        };
        let text = message.as_ref().and_then(Value::as_str).unwrap_or_default();
        match &errors.missing {
            Some(documented)
                if label.kind == ViolationKind::MissingRequired && text != documented =>
            {
                messages.add(
                    "not the documented message",
                    format!("{name}: {}, documented {}", json!(text), json!(documented)),
                );
            }
            _ if text.trim().is_empty() => {
                messages.add("empty message", format!("{name}: empty message"));
            }
            _ => {}
        }
    }
    if errors.attempted.is_some() {
        outcomes.push((Check::AttemptedValue, attempted.result()));
    }
    if errors.message.is_some() {
        outcomes.push((Check::Messages, messages.result()));
    }
    outcomes
}

/// The name a labelled violation must be reported under: its property's, or for the body as a
/// whole, the convention's (`(body)` when it names none).
pub(crate) fn property_name(label: &Violation, errors: &Errors) -> String {
    label.property.clone().unwrap_or_else(|| {
        errors
            .whole_body
            .clone()
            .unwrap_or_else(|| "(body)".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checks::testing::*;
    use serde_json::json;

    /// The error convention of the workspace's spec (its root `x-contract.errors`).
    fn convention() -> Errors {
        serde_json::from_value(json!({
            "entries": "/Errors", "property": "PropertyName", "attempted": "AttemptedValue",
            "message": "Message", "joined": "/Message", "separator": "\n",
            "whole-body": "$body", "missing": "is a required field",
            "constant": {"/WasSuccessful": false, "/Value": null}
        }))
        .unwrap()
    }

    fn envelope(was_successful: Value, value: Value, errors: Value, message: &str) -> Value {
        json!({"WasSuccessful": was_successful, "Value": value, "Errors": errors, "Message": message})
    }

    #[test]
    fn error_envelopes_are_judged_by_each_rule() {
        let convention = convention();
        let errors = json!([
            {"PropertyName": "Price", "AttemptedValue": -1, "Message": "must be at least 0"},
            {"PropertyName": "Name", "AttemptedValue": null, "Message": "is a required field"}
        ]);
        let joined = "Price: must be at least 0\nName: is a required field";
        let good = envelope(json!(false), Value::Null, errors.clone(), joined);
        let typed = Ok(());
        let judged = |body: &Value| -> Vec<(Check, bool)> {
            error_envelope(Some(body), &typed, &convention)
                .into_iter()
                .map(|(name, result)| (name, result.is_ok()))
                .collect()
        };
        let names = [
            Check::TypedDecode,
            Check::ErrorEnvelope,
            Check::ErrorsListed,
            Check::MessageJoin,
        ];
        let passes = |failing: &[Check]| -> Vec<(Check, bool)> {
            names
                .iter()
                .map(|name| (name.clone(), !failing.contains(name)))
                .collect()
        };
        assert_eq!(judged(&good), passes(&[]));
        let succeeded = envelope(json!(true), Value::Null, errors.clone(), joined);
        assert_eq!(judged(&succeeded), passes(&[Check::ErrorEnvelope]));
        let valued = envelope(json!(false), json!({}), errors.clone(), joined);
        assert_eq!(judged(&valued), passes(&[Check::ErrorEnvelope]));
        let joined_otherwise = envelope(
            json!(false),
            Value::Null,
            errors.clone(),
            "Price: must be at least 0",
        );
        assert_eq!(judged(&joined_otherwise), passes(&[Check::MessageJoin]));
        let empty = envelope(json!(false), Value::Null, json!([]), "");
        assert_eq!(judged(&empty), passes(&[Check::ErrorsListed]));
        let undecoded = error_envelope(Some(&good), &Err("expected a map".into()), &convention);
        assert!(
            undecoded[0]
                .1
                .as_ref()
                .unwrap_err()
                .message
                .contains("expected a map")
        );
        assert_eq!(
            message(error_envelope(Some(&json!([])), &typed, &convention).remove(1)),
            "the body is not a JSON object"
        );
        // Plain words, no Rust formatting.
        assert_eq!(
            message(error_envelope(Some(&succeeded), &typed, &convention).remove(1)),
            "an error answer of this API: /WasSuccessful is true, not false"
        );

        assert_eq!(names_property(Some(&good), "Name", &convention).1, Ok(()));
        assert!(names_property(Some(&good), "Id", &convention).1.is_err());
        // Entries of text name a property by mentioning it.
        let text = Errors {
            entries: "/Problems".into(),
            ..convention.clone()
        };
        let text = Errors {
            property: None,
            attempted: None,
            message: None,
            joined: None,
            constant: BTreeMap::new(),
            ..text
        };
        let problems = json!({"Problems": ["Name: too long (\"xxxxxxxxxxx\")"]});
        assert_eq!(names_property(Some(&problems), "Name", &text).1, Ok(()));
        assert!(names_property(Some(&problems), "Weight", &text).1.is_err());
        assert_eq!(
            error_envelope(Some(&problems), &typed, &text)
                .into_iter()
                .map(|(check, result)| (check, result.is_ok()))
                .collect::<Vec<_>>(),
            [(Check::TypedDecode, true), (Check::ErrorsListed, true)]
        );

        let label = |property: Option<&str>, kind, sent: Option<Value>| Violation {
            property: property.map(str::to_owned),
            kind,
            sent,
        };
        let labels = [
            label(Some("Price"), ViolationKind::BelowMinimum, Some(json!(-1))),
            label(Some("Name"), ViolationKind::MissingRequired, None),
        ];
        let results = |body: &Value, labels: &[Violation]| -> Vec<bool> {
            labelled_errors(Some(body), labels, &convention)
                .into_iter()
                .map(|(_, result)| result.is_ok())
                .collect()
        };
        assert_eq!(results(&good, &labels), [true, true, true]);
        assert_eq!(results(&good, &labels[..1]), [false, true, true]);
        // The failure says what the request was sent with, so a reader sees what to expect.
        assert_eq!(
            message(labelled_errors(Some(&good), &labels[..1], &convention).remove(0)),
            r#"expected entries for ["Price"], got ["Name","Price"] (the request was sent with: Price below-minimum)"#
        );
        let mut attempted = good.clone();
        attempted["Errors"][0]["AttemptedValue"] = json!(-2);
        assert_eq!(results(&attempted, &labels), [true, false, true]);
        let mut worded = good.clone();
        worded["Errors"][1]["Message"] = json!("is required");
        assert_eq!(results(&worded, &labels), [true, true, false]);
        let mut silent = good.clone();
        silent["Errors"][0]["Message"] = json!(" ");
        assert_eq!(results(&silent, &labels), [true, true, false]);
        let whole = [label(None, ViolationKind::NotAnObject, Some(json!([])))];
        let body_error = json!({"Errors": [{"PropertyName": "$body", "AttemptedValue": [], "Message": "must be an object"}]});
        assert_eq!(results(&body_error, &whole), [true, true, true]);
        // With entries of text, only their number is checked.
        assert_eq!(
            labelled_errors(Some(&problems), &labels, &text)
                .into_iter()
                .map(|(check, result)| (check, result.is_ok()))
                .collect::<Vec<_>>(),
            [(Check::ErrorsMatchViolations, false)]
        );
        assert_eq!(
            labelled_errors(Some(&problems), &labels[..1], &text)[0].1,
            Ok(())
        );
    }
}
