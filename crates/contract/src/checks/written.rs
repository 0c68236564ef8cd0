//! The checks of what a success body says of the request: each `x-contract.success`
//! expectation, and a record read back as it was written.

use super::*;
use crate::{
    expression::Expression,
    vocabulary::{Check, Mismatch, Problems},
};
use serde_json::{Map, Value, json};
use spec_strategies::Request;
use std::collections::BTreeMap;

/// What a success body is checked against besides its schema: the request, the caller and the
/// values earlier answers gave.
pub(crate) struct SuccessContext<'a> {
    pub(crate) request: &'a Request,
    /// A query parameter's schema default, for one that was not sent.
    pub(crate) default: &'a dyn Fn(&str) -> Option<Value>,
    /// The caller's email, when known.
    pub(crate) caller: Option<&'a str>,
    /// Whether a value was given at a place before (and remember it).
    pub(crate) first_time: &'a mut dyn FnMut(&str, &Value) -> bool,
}

/// Each `x-contract.success` expectation: the value at the pointer is what the expression says.
pub(crate) fn success(
    body: Option<&Value>,
    expectations: &[(String, Expression)],
    context: &mut SuccessContext<'_>,
) -> Vec<Outcome> {
    expectations
        .iter()
        .map(|(pointer, expression)| {
            let name = Check::expectation(pointer, expression);
            let Some(got) = body.and_then(|body| body.pointer(pointer)) else {
                return (
                    name,
                    Err(Mismatch::new(
                        "missing",
                        format!("the body has nothing at {pointer}"),
                    )),
                );
            };
            let result = match expression {
                Expression::Unique => check((context.first_time)(pointer, got), || {
                    Mismatch::new(
                        "answered before",
                        format!("{got} was answered at {pointer} before"),
                    )
                }),
                Expression::Caller => match (context.caller, got.as_str()) {
                    (_, None) => Err(Mismatch::new(
                        "not a string",
                        format!("{got} is not a string"),
                    )),
                    (Some(caller), Some(text)) => check(caller == text, || {
                        Mismatch::new(
                            "not the caller",
                            format!("{got}, but the caller is {}", json!(caller)),
                        )
                        .values(json!(caller), got.clone())
                    }),
                    (None, Some(text)) => check(!text.is_empty(), || {
                        Mismatch::new("empty", "it is empty, where the caller's name is due")
                    }),
                },
                _ => match expression.evaluate(context.request, None, context.default) {
                    Some(expected) => check(same_json(&expected, got), || {
                        Mismatch::new("differs", format!("{got}, expected {expected}"))
                            .values(expected.clone(), got.clone())
                    }),
                    None => Err(Mismatch::new(
                        "no value in the request",
                        format!("{expression} has no value in the request sent"),
                    )),
                },
            };
            (name, result)
        })
        .collect()
}

/// Two JSON values are the same, numbers by value (`1` and `1.0` alike).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => a == b,
    }
}

/// Whether a property read back (`None`: left out of the record) is the one written: as
/// [`same_value`] has it, and a null written may read back as nothing.
pub(crate) fn reads_as_written(
    format: Option<&str>,
    written: &Value,
    read: Option<&Value>,
) -> bool {
    read.map_or(written.is_null(), |read| same_value(format, written, read))
}

/// Whether a value read back is the one written, as the spec normalises a property of this
/// `format`: date-times as the same instant, uuids in any case, numbers by value.
pub(crate) fn same_value(format: Option<&str>, written: &Value, read: &Value) -> bool {
    match (format, written, read) {
        (Some("date-time"), Value::String(a), Value::String(b)) => {
            instant(a).is_some() && instant(a) == instant(b)
        }
        (Some("uuid"), Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        _ => same_json(written, read),
    }
}

/// A record read back holds every property that was sent (but write-only ones) as sent:
/// date-times as the same instant, uuids in any case, numbers by value.
pub(crate) fn read_back(
    sent: Option<&Value>,
    read: Option<&Value>,
    write_only: &std::collections::BTreeSet<String>,
    formats: &BTreeMap<String, String>,
) -> Outcome {
    let result = (|| {
        let sent = sent
            .and_then(Value::as_object)
            .ok_or_else(|| Mismatch::new("nothing sent", "nothing was sent"))?;
        let read = read.and_then(Value::as_object).ok_or_else(|| {
            Mismatch::new("not an object", "the record read is not a JSON object")
        })?;
        let mut expected = Map::new();
        let mut got = Map::new();
        for (name, value) in sent {
            if write_only.contains(name) {
                continue;
            }
            match read.get(name) {
                // A null sent reads back as null, or as nothing (a property left out).
                None if value.is_null() => {}
                None => {
                    expected.insert(name.clone(), value.clone());
                }
                Some(read) if !same_value(formats.get(name).map(String::as_str), value, read) => {
                    expected.insert(name.clone(), value.clone());
                    got.insert(name.clone(), read.clone());
                }
                Some(_) => {}
            }
        }
        let mut problems = Problems::default();
        for (name, value) in &expected {
            match got.get(name) {
                Some(read) => problems.add(
                    "a property reads back otherwise",
                    format!("{name} was sent as {value}, read back as {read}"),
                ),
                None => problems.add("a property sent is missing", format!("{name} is missing")),
            }
        }
        problems.result().map_err(|mismatch| {
            mismatch.values(Value::Object(expected.clone()), Value::Object(got.clone()))
        })
    })();
    (Check::ReadsBackAsSent, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use serde_json::json;

    #[test]
    fn read_back_normalises_by_format() {
        let formats = BTreeMap::from([
            ("When".to_owned(), "date-time".to_owned()),
            ("Key".to_owned(), "uuid".to_owned()),
        ]);
        let write_only = std::collections::BTreeSet::from(["Count".to_owned()]);
        let sent = json!({"When": "2026-07-31T02:00:00+02:00", "Key": "0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90", "Count": 3, "Price": 1, "Note": null});
        let read = json!({"When": "2026-07-31T00:00:00Z", "Key": "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90", "Count": 1, "Price": 1.0, "Note": null});
        assert_eq!(
            read_back(Some(&sent), Some(&read), &write_only, &formats).1,
            Ok(())
        );
        let mut changed = read.clone();
        changed["Note"] = json!("x");
        let result = read_back(Some(&sent), Some(&changed), &write_only, &formats)
            .1
            .unwrap_err();
        assert_eq!(result.message, "Note was sent as null, read back as \"x\"");
        assert_eq!(result.kind, "a property reads back otherwise");
        assert_eq!(
            (result.expected, result.got),
            (Some(json!({"Note": null})), Some(json!({"Note": "x"})))
        );
        let mut moved = read.clone();
        moved["When"] = json!("2026-07-31T00:00:01Z");
        moved.as_object_mut().unwrap().remove("Price");
        assert_eq!(
            message(read_back(Some(&sent), Some(&moved), &write_only, &formats)),
            "Price is missing; When was sent as \"2026-07-31T02:00:00+02:00\", read back as \"2026-07-31T00:00:01Z\""
        );
        // A null sent may read back as nothing.
        let mut left_out = read.clone();
        left_out.as_object_mut().unwrap().remove("Note");
        assert_eq!(
            read_back(Some(&sent), Some(&left_out), &write_only, &formats).1,
            Ok(())
        );
        // Text that is no date-time is never the same instant, even as itself.
        assert!(!same_value(Some("date-time"), &json!("x"), &json!("y")));
        assert!(!same_value(Some("uuid"), &json!("a"), &json!("b")));
        assert!(!same_value(None, &json!(1), &json!(2)));
        assert!(same_value(None, &json!(2), &json!(2.0)));
        assert!(reads_as_written(None, &Value::Null, None));
        assert!(!reads_as_written(None, &json!(0), None));
        assert!(!reads_as_written(None, &Value::Null, Some(&json!(0))));
    }

    #[test]
    fn success_expectations_compare_with_the_request_and_the_caller() {
        let request = Request {
            body: Some(json!({"Price": 5})),
            ..Request::default()
        };
        let expectations: Vec<(String, Expression)> = [
            ("/Value/Price", json!("$request.body#/Price")),
            ("/Value/Id", json!("$unique")),
            ("/Value/By", json!("$caller")),
            ("/Value/Kind", json!("pass")),
        ]
        .into_iter()
        .map(|(pointer, value)| (pointer.to_owned(), Expression::parse(&value).unwrap()))
        .collect();
        let mut seen = Vec::new();
        let mut judge = |body: Value, caller: Option<&str>| -> Vec<Result<(), String>> {
            let mut first_time = |pointer: &str, value: &Value| {
                let entry = (pointer.to_owned(), value.clone());
                let first = !seen.contains(&entry);
                seen.push(entry);
                first
            };
            let default = |_: &str| None;
            let mut context = SuccessContext {
                request: &request,
                default: &default,
                caller,
                first_time: &mut first_time,
            };
            success(Some(&body), &expectations, &mut context)
                .into_iter()
                .map(|(_, result)| result.map_err(|mismatch| mismatch.message))
                .collect()
        };
        let body = |price: Value, id: u64, by: &str| json!({"Value": {"Price": price, "Id": id, "By": by, "Kind": "pass"}});
        assert_eq!(
            judge(body(json!(5.0), 1, "a@b.c"), Some("a@b.c")),
            [Ok(()), Ok(()), Ok(()), Ok(())]
        );
        assert_eq!(
            judge(body(json!(6), 1, "d@e.f"), Some("a@b.c")),
            [
                Err("6, expected 5".into()),
                Err("1 was answered at /Value/Id before".into()),
                Err("\"d@e.f\", but the caller is \"a@b.c\"".into()),
                Ok(())
            ]
        );
        let unknown_caller = judge(body(json!(5), 2, ""), None);
        assert_eq!(
            unknown_caller[2],
            Err("it is empty, where the caller's name is due".into())
        );
        assert_eq!(judge(body(json!(5), 3, "x"), None)[2], Ok(()));
        let missing = judge(json!({"Value": {}}), None);
        assert_eq!(
            missing[0],
            Err("the body has nothing at /Value/Price".into())
        );
    }
}
