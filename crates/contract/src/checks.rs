//! What a response must look like. Each function returns one outcome per named check, so that
//! the report can count every check separately. Nothing here names an operation or a property:
//! the rules come from the spec's schemas and `x-contract` extension, or from the conventions
//! the spec states for its error envelope.
//!
//! An answer is checked in layers: its status first; when the status is not the one
//! expected, nothing else of the answer is judged (its other checks would only repeat the
//! fault). Then its content type, the headers its status documents and its body against the
//! status's schema; only a body of the documented shape gets the checks of what it means
//! (`x-contract` expectations, paging, the error envelope's rules).

use std::{cmp::Ordering, collections::BTreeMap};

use serde_json::{Map, Value, json};
use spec_strategies::{Request, Violation, ViolationKind};

use crate::{
    exchange::Exchange,
    expression::Expression,
    extension::Errors,
    plan::{Filter, Match, Order, Page},
    vocabulary::{Check, Mismatch, Problems},
};

/// The outcome of one check: `Err` says what was wrong.
pub type Outcome = (Check, Result<(), Mismatch>);

pub(crate) fn check(condition: bool, mismatch: impl FnOnce() -> Mismatch) -> Result<(), Mismatch> {
    if condition { Ok(()) } else { Err(mismatch()) }
}

/// The status is the one expected.
pub fn status(expected: u16, got: u16) -> Outcome {
    (
        Check::Status,
        check(expected == got, || {
            Mismatch::new(
                format!("expected {expected}, got {got}"),
                format!("expected {expected}, got {got}"),
            )
            .values(json!(expected), json!(got))
        }),
    )
}

/// What the spec documents of the status an answer came with.
#[derive(Clone, Copy)]
pub(crate) struct Documented<'a> {
    /// The media types its body may have (none: no body).
    pub(crate) media_types: &'a [&'a str],
    /// The headers it requires.
    pub(crate) headers: &'a [&'a str],
    /// Its body's schema.
    pub(crate) validator: Option<&'a spec_schema::Validator>,
}

/// The answer's status, then, when it is the one expected, its content type, documented headers
/// and schema; whether the body has the documented shape (so that the checks of what it holds
/// apply).
pub(crate) fn answer(
    exchange: &Exchange,
    expected: u16,
    documented: Option<Documented<'_>>,
) -> (Vec<Outcome>, bool) {
    let mut outcomes = vec![status(expected, exchange.status)];
    if exchange.status != expected {
        return (outcomes, false);
    }
    let Some(documented) = documented else {
        return (outcomes, true);
    };
    outcomes.push(documented_headers(exchange, documented.headers));
    let typed = content_type(exchange, documented.media_types);
    let shaped = typed.1.is_ok();
    outcomes.push(typed);
    if !shaped || documented.media_types.is_empty() {
        return (outcomes, shaped);
    }
    let schema = response_schema(documented.validator, exchange.response_json().as_ref());
    let shaped = schema.1.is_ok();
    outcomes.push(schema);
    (outcomes, shaped)
}

/// The answer's `Content-Type` is one of `media_types` (its parameters aside); with none, the
/// answer has no body.
pub(crate) fn content_type(exchange: &Exchange, media_types: &[&str]) -> Outcome {
    let sent: Vec<&str> = exchange.response_header("content-type").collect();
    let status = exchange.status;
    let result = if media_types.is_empty() {
        check(exchange.response_body.is_empty(), || {
            Mismatch::new(
                "a body where the spec documents none",
                format!(
                    "the spec documents no body for {status}, yet the answer has {} bytes{}",
                    exchange.response_body.len(),
                    match sent.first() {
                        Some(sent) => format!(" of {sent}"),
                        None => String::new(),
                    }
                ),
            )
        })
    } else {
        let documented = media_types.join(", ");
        match sent.as_slice() {
            [] => Err(Mismatch::new(
                "no Content-Type",
                format!(
                    "the answer has no Content-Type; the spec documents {documented} for {status}"
                ),
            )),
            [one] => {
                let essence = one.split(';').next().unwrap_or_default().trim();
                check(
                    media_types
                        .iter()
                        .any(|media_type| media_type.eq_ignore_ascii_case(essence)),
                    || {
                        Mismatch::new(
                            format!("Content-Type {}", essence.to_ascii_lowercase()),
                            format!(
                                "the answer's Content-Type is {one}; the spec documents {documented} for {status}"
                            ),
                        )
                        .values(json!(media_types), json!(one))
                    },
                )
            }
            many => Err(Mismatch::new(
                "Content-Type sent more than once",
                format!(
                    "the answer has {} Content-Type headers: {}",
                    many.len(),
                    many.join(", ")
                ),
            )),
        }
    };
    (Check::ContentType, result)
}

/// Those of `headers` the answer does not carry.
pub(crate) fn missing_headers<'h, H: AsRef<str>>(
    exchange: &Exchange,
    headers: &'h [H],
) -> Vec<&'h str> {
    headers
        .iter()
        .map(AsRef::as_ref)
        .filter(|name| {
            exchange
                .response_header(&name.to_ascii_lowercase())
                .next()
                .is_none()
        })
        .collect()
}

/// Every header the spec documents as required on the answer's status is there.
pub(crate) fn documented_headers(exchange: &Exchange, headers: &[&str]) -> Outcome {
    let missing = missing_headers(exchange, headers);
    (
        Check::DocumentedHeaders,
        check(missing.is_empty(), || {
            let missing = missing.join(", ");
            Mismatch::new(
                format!("no {missing}"),
                format!("no {missing} header, which the spec documents"),
            )
        }),
    )
}

/// The raw body validates against the spec's schema for the status.
pub fn response_schema(
    validator: Option<&spec_schema::Validator>,
    body: Option<&Value>,
) -> Outcome {
    let result = match (validator, body) {
        (None, _) => Err(Mismatch::new(
            "no JSON body documented",
            "the spec documents no JSON body for this status",
        )),
        (_, None) => Err(Mismatch::new("not JSON", "the body is not JSON")),
        (Some(validator), Some(body)) => {
            let violations = validator.violations(body);
            check(violations.is_empty(), || {
                let mut kinds: Vec<String> = violations
                    .iter()
                    .map(|violation| {
                        let place: Vec<String> = violation
                            .path
                            .segments()
                            .map(|segment| {
                                if segment.bytes().all(|byte| byte.is_ascii_digit()) {
                                    "*".to_owned()
                                } else {
                                    segment
                                }
                            })
                            .collect();
                        let place = if place.is_empty() {
                            "(root)".to_owned()
                        } else {
                            place.join(".")
                        };
                        format!("{place}: {}", violation.keyword)
                    })
                    .collect();
                kinds.sort();
                kinds.dedup();
                let mut problems = Problems::default();
                for violation in &violations {
                    problems.add(
                        "",
                        format!(
                            "{} {}",
                            violation.property_name().unwrap_or_else(|| "(root)".into()),
                            violation.message
                        ),
                    );
                }
                let listed = problems
                    .result()
                    .err()
                    .map(|m| m.message)
                    .unwrap_or_default();
                Mismatch::new(
                    format!("{}: {}", validator.schema_name(), kinds.join(", ")),
                    format!("the body violates {}: {listed}", validator.schema_name()),
                )
            })
        }
    };
    (Check::ResponseSchema, result)
}

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

fn integer_at(body: &Value, pointer: &str) -> Result<i128, Mismatch> {
    body.pointer(pointer)
        .and_then(|value| {
            value
                .as_i64()
                .map(i128::from)
                .or(value.as_u64().map(i128::from))
        })
        .ok_or_else(|| {
            Mismatch::new(
                format!("{pointer} not an integer"),
                format!("{pointer} is not an integer"),
            )
        })
}

fn bool_at(body: &Value, pointer: &str) -> Result<bool, Mismatch> {
    body.pointer(pointer)
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            Mismatch::new(
                format!("{pointer} not a boolean"),
                format!("{pointer} is not a boolean"),
            )
        })
}

pub(crate) fn records<'a>(
    body: Option<&'a Value>,
    page: &Page,
) -> Result<&'a Vec<Value>, Mismatch> {
    body.and_then(|body| body.pointer(&page.records))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Mismatch::new(
                format!("{} not an array", page.records),
                format!("{} is not an array", page.records),
            )
        })
}

/// The paging figures agree with each other and with the records on the page: every figure
/// expected is worked out from the total, the page number and the page size the answer states.
pub(crate) fn page_figures(body: Option<&Value>, page: &Page) -> Outcome {
    let result = (|| {
        let body = body.ok_or_else(|| Mismatch::new("not JSON", "the body is not JSON"))?;
        let count = records(Some(body), page)?.len() as i128;
        let number = integer_at(body, &page.number)?;
        let size = integer_at(body, &page.size)?;
        let total = integer_at(body, &page.total_items)?;
        let pages = integer_at(body, &page.total_pages)?;
        let first = integer_at(body, &page.first_item)?;
        let last = integer_at(body, &page.last_item)?;
        let has_next = bool_at(body, &page.has_next)?;
        let has_previous = bool_at(body, &page.has_previous)?;
        if number < 1 || size < 1 {
            return Err(Mismatch::new(
                "page number or size below 1",
                format!(
                    "{} is {number} and {} is {size}; both count from 1",
                    page.number, page.size
                ),
            ));
        }
        let before = (number - 1) * size;
        let on_page = (total - before).clamp(0, size);
        let (expected_first, expected_last) = if on_page == 0 {
            (0, 0)
        } else {
            (before + 1, before + on_page)
        };
        let total_pages = (total + size - 1) / size;
        let figures = [
            ("records on the page", json!(count), json!(on_page)),
            (page.total_pages.as_str(), json!(pages), json!(total_pages)),
            (
                page.first_item.as_str(),
                json!(first),
                json!(expected_first),
            ),
            (page.last_item.as_str(), json!(last), json!(expected_last)),
            (
                page.has_next.as_str(),
                json!(has_next),
                json!(number < total_pages),
            ),
            (
                page.has_previous.as_str(),
                json!(has_previous),
                json!(number > 1),
            ),
        ];
        let wrong: Vec<&(&str, Value, Value)> = figures
            .iter()
            .filter(|(_, got, expected)| got != expected)
            .collect();
        check(wrong.is_empty(), || {
            let said: Vec<String> = wrong
                .iter()
                .map(|(what, got, expected)| format!("{what} {got}, expected {expected}"))
                .collect();
            let names: Vec<&str> = wrong.iter().map(|(what, _, _)| *what).collect();
            let object = |pick: fn(&(&str, Value, Value)) -> Value| {
                Value::Object(
                    wrong
                        .iter()
                        .map(|figure| (figure.0.to_owned(), pick(figure)))
                        .collect::<Map<String, Value>>(),
                )
            };
            Mismatch::new(
                names.join(", "),
                format!(
                    "{} is {total}, page {number} of {size} per page: {}",
                    page.total_items,
                    said.join("; ")
                ),
            )
            .values(
                object(|figure| figure.2.clone()),
                object(|figure| figure.1.clone()),
            )
        })
    })();
    (Check::PageFigures, result)
}

/// How two values of a record property compare, as the list sorts them: numbers by value,
/// booleans false first, date-times as instants, other strings by code point, null first.
pub(crate) fn compare(
    a: &Value,
    b: &Value,
    format: Option<&str>,
    nulls_first: bool,
) -> Result<Ordering, String> {
    let null_order = if nulls_first {
        Ordering::Less
    } else {
        Ordering::Greater
    };
    Ok(match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => null_order,
        (_, Value::Null) => null_order.reverse(),
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .ok_or("numbers that do not compare")?,
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::String(a), Value::String(b)) if format == Some("date-time") => {
            instant(a).cmp(&instant(b))
        }
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (a, b) => return Err(format!("{a} and {b} do not compare")),
    })
}

fn instant(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|instant| instant.to_utc())
}

/// The records are sorted as the request asked: by the property the field parameter names
/// (or its default), in the direction asked, ties by `then` in the same direction.
pub(crate) fn order(
    body: Option<&Value>,
    page: &Page,
    order: &Order,
    request: &Request,
    default: &dyn Fn(&str) -> Option<Value>,
    formats: &BTreeMap<String, String>,
) -> Outcome {
    let result = (|| {
        let records = records(body, page)?;
        let sent = |name: &str| request.query.get(name).cloned().or_else(|| default(name));
        let property = sent(&order.field)
            .and_then(|value| value.as_str().map(str::to_owned))
            .ok_or_else(|| {
                Mismatch::new(
                    "no property to sort by",
                    format!(
                        "{} names no property to sort by, and has no default",
                        order.field
                    ),
                )
            })?;
        let direction = sent(&order.direction);
        let descending = if direction.as_ref() == Some(&order.descending) {
            true
        } else if direction.is_none() || direction.as_ref() == Some(&order.ascending) {
            false
        } else {
            let direction = direction.unwrap_or(Value::Null);
            return Err(Mismatch::new(
                "unknown direction",
                format!(
                    "{} is {direction}, neither {} (ascending) nor {} (descending)",
                    order.direction, order.ascending, order.descending
                ),
            ));
        };
        let unorderable = |message: String| Mismatch::new("values that do not compare", message);
        for (index, pair) in records.windows(2).enumerate() {
            let key = |record: &Value, name: &str| record.get(name).cloned().unwrap_or(Value::Null);
            let mut ordering = compare(
                &key(&pair[0], &property),
                &key(&pair[1], &property),
                formats.get(&property).map(String::as_str),
                order.nulls_first,
            )
            .map_err(unorderable)?;
            if ordering == Ordering::Equal {
                ordering = compare(
                    &key(&pair[0], &order.then),
                    &key(&pair[1], &order.then),
                    formats.get(&order.then).map(String::as_str),
                    order.nulls_first,
                )
                .map_err(unorderable)?;
            }
            if descending {
                ordering = ordering.reverse();
            }
            if ordering == Ordering::Greater {
                return Err(Mismatch::new(
                    "records out of order",
                    format!(
                        "records {index} and {} are out of order by {property} ({}), then {}: {} before {}",
                        index + 1,
                        if descending {
                            "descending"
                        } else {
                            "ascending"
                        },
                        order.then,
                        key(&pair[0], &property),
                        key(&pair[1], &property)
                    ),
                ));
            }
        }
        Ok(())
    })();
    (Check::Order, result)
}

/// Every record meets every filter sent.
pub(crate) fn filters(
    body: Option<&Value>,
    page: &Page,
    filters: &[Filter],
    request: &Request,
    formats: &BTreeMap<String, String>,
) -> Outcome {
    let result = (|| {
        let records = records(body, page)?;
        let mut problems = Problems::default();
        for filter in filters {
            let Some(sent) = request.query.get(&filter.parameter) else {
                continue;
            };
            let format = formats.get(&filter.property).map(String::as_str);
            for (index, record) in records.iter().enumerate() {
                let got = record.get(&filter.property).unwrap_or(&Value::Null);
                if !meets(filter.matching, got, sent, format) {
                    problems.add(
                        "a record outside the filters sent",
                        format!(
                            "record {index} has {} {got}, but {}={sent}",
                            filter.property, filter.parameter
                        ),
                    );
                }
            }
        }
        problems.result()
    })();
    (Check::Filters, result)
}

/// Whether a record's value `got` meets a filter sent as `sent` (a null meets none).
pub(crate) fn meets(matching: Match, got: &Value, sent: &Value, format: Option<&str>) -> bool {
    !got.is_null()
        && match (matching, compare(got, sent, format, true)) {
            (Match::Equal, Ok(ordering)) => ordering == Ordering::Equal,
            (Match::From, Ok(ordering)) => ordering != Ordering::Less,
            (Match::To, Ok(ordering)) => ordering != Ordering::Greater,
            (_, Err(_)) => false,
        }
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

/// The API's client decodes an answer (`typed` says why not).
pub(crate) fn typed_decode(typed: &Result<(), String>) -> Outcome {
    (
        Check::TypedDecode,
        typed.as_ref().map(|_| ()).map_err(|error| {
            Mismatch::new(
                "the client cannot decode it",
                format!("the generated client could not decode it: {error}"),
            )
        }),
    )
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

/// The answer carries each of `headers`; an `Allow` lists exactly `path_methods` (with `HEAD`
/// and `OPTIONS`, which a server may add, left aside).
pub(crate) fn answer_headers(
    exchange: &Exchange,
    headers: &[String],
    path_methods: Option<&std::collections::BTreeSet<String>>,
) -> Vec<Outcome> {
    headers
        .iter()
        .map(|header| {
            let name = header.to_ascii_lowercase();
            let values: Vec<&str> = exchange.response_header(&name).collect();
            let result = match (values.as_slice(), path_methods) {
                ([], _) => Err(Mismatch::new("missing", format!("no {header} header"))),
                (values, Some(expected)) if name == "allow" => {
                    let listed: std::collections::BTreeSet<String> = values
                        .iter()
                        .flat_map(|value| value.split(','))
                        .map(|method| method.trim().to_ascii_uppercase())
                        .filter(|method| {
                            !method.is_empty() && method != "HEAD" && method != "OPTIONS"
                        })
                        .collect();
                    check(&listed == expected, || {
                        let join = |set: &std::collections::BTreeSet<String>| {
                            set.iter().cloned().collect::<Vec<_>>().join(", ")
                        };
                        Mismatch::new(
                            "other methods",
                            format!(
                                "Allow lists {}, the path has {}",
                                join(&listed),
                                join(expected)
                            ),
                        )
                        .values(json!(expected), json!(listed))
                    })
                }
                _ => Ok(()),
            };
            (Check::Header(header.clone()), result)
        })
        .collect()
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
    use serde_json::json;

    use super::*;

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

    /// The message of a failed outcome.
    fn message(outcome: Outcome) -> String {
        outcome.1.unwrap_err().message
    }

    fn page() -> Page {
        Page {
            records: "/R".into(),
            number: "/P".into(),
            size: "/S".into(),
            total_items: "/T".into(),
            total_pages: "/N".into(),
            first_item: "/F".into(),
            last_item: "/L".into(),
            has_next: "/X".into(),
            has_previous: "/V".into(),
        }
    }

    #[test]
    fn the_status_must_be_the_expected_one() {
        assert_eq!(status(201, 201), (Check::Status, Ok(())));
        let wrong = status(201, 400).1.unwrap_err();
        assert_eq!(wrong.message, "expected 201, got 400");
        assert_eq!(
            (wrong.expected, wrong.got),
            (Some(json!(201)), Some(json!(400)))
        );
    }

    #[test]
    fn page_figures_must_agree() {
        let ok = json!({"R": [1, 2], "P": 3, "S": 2, "T": 6, "N": 3, "F": 5, "L": 6, "X": false, "V": true});
        assert_eq!(page_figures(Some(&ok), &page()).1, Ok(()));
        let empty = json!({"R": [], "P": 9, "S": 25, "T": 0, "N": 0, "F": 0, "L": 0, "X": false, "V": true});
        assert_eq!(page_figures(Some(&empty), &page()).1, Ok(()));
        for (pointer, wrong) in [
            ("/N", json!(4)),
            ("/F", json!(4)),
            ("/X", json!(true)),
            ("/V", json!(false)),
        ] {
            let mut body = ok.clone();
            *body.pointer_mut(pointer).unwrap() = wrong;
            assert!(page_figures(Some(&body), &page()).1.is_err(), "{pointer}");
        }
        let mut short = ok.clone();
        short["R"] = json!([1]);
        assert!(
            page_figures(Some(&short), &page()).1.is_err(),
            "a record missing"
        );
        // The first page of several, and a last page that is not full.
        let first = json!({"R": [1, 2, 3], "P": 1, "S": 3, "T": 8, "N": 3, "F": 1, "L": 3, "X": true, "V": false});
        assert_eq!(page_figures(Some(&first), &page()).1, Ok(()));
        let last = json!({"R": [7, 8], "P": 3, "S": 3, "T": 8, "N": 3, "F": 7, "L": 8, "X": false, "V": true});
        assert_eq!(page_figures(Some(&last), &page()).1, Ok(()));
        for (pointer, wrong) in [
            ("/N", json!(2)),
            ("/F", json!(6)),
            ("/L", json!(9)),
            ("/X", json!(true)),
        ] {
            let mut body = last.clone();
            *body.pointer_mut(pointer).unwrap() = wrong;
            assert!(page_figures(Some(&body), &page()).1.is_err(), "{pointer}");
        }
        let single =
            json!({"R": [2], "P": 2, "S": 1, "T": 3, "N": 3, "F": 2, "L": 2, "X": true, "V": true});
        assert_eq!(
            page_figures(Some(&single), &page()).1,
            Ok(()),
            "pages of one record"
        );
        let mut second = first.clone();
        second["P"] = json!(2);
        assert!(
            page_figures(Some(&second), &page()).1.is_err(),
            "page 2 holds items 4 to 6"
        );
        for (pointer, zero) in [("/P", json!(0)), ("/S", json!(0))] {
            let mut body = first.clone();
            *body.pointer_mut(pointer).unwrap() = zero;
            assert!(
                page_figures(Some(&body), &page()).1.unwrap_err().kind
                    == "page number or size below 1",
                "{pointer}"
            );
        }
        assert_eq!(
            message(page_figures(Some(&json!({"R": [], "P": "1"})), &page())),
            "/P is not an integer"
        );
        assert_eq!(message(page_figures(None, &page())), "the body is not JSON");
        // Every figure expected follows from the total, the page and the size: a page holding a
        // record when the total says none is one fault, said once, not contradicted.
        let extra = json!({"R": [1], "P": 1, "S": 1, "T": 0, "N": 0, "F": 0, "L": 0, "X": false, "V": false});
        let wrong = page_figures(Some(&extra), &page()).1.unwrap_err();
        assert_eq!(
            wrong.message,
            "/T is 0, page 1 of 1 per page: records on the page 1, expected 0"
        );
        assert_eq!(wrong.kind, "records on the page");
        assert_eq!(wrong.expected, Some(json!({"records on the page": 0})));
    }

    #[test]
    fn values_compare_as_the_list_sorts_them() {
        let less = |a: Value, b: Value, format: Option<&str>| {
            assert_eq!(compare(&a, &b, format, true), Ok(Ordering::Less), "{a} {b}");
            assert_eq!(
                compare(&b, &a, format, true),
                Ok(Ordering::Greater),
                "{b} {a}"
            );
        };
        less(json!(2), json!(10.5), None);
        less(json!(false), json!(true), None);
        less(json!("B"), json!("a"), None);
        less(
            json!("2026-01-01T01:00:00+01:00"),
            json!("2026-01-01T00:30:00Z"),
            Some("date-time"),
        );
        less(json!(null), json!(0), None);
        assert_eq!(
            compare(&json!(null), &json!(0), None, false),
            Ok(Ordering::Greater)
        );
        assert_eq!(
            compare(&json!(0), &json!(null), None, false),
            Ok(Ordering::Less)
        );
        assert_eq!(
            compare(&json!(null), &json!(null), None, true),
            Ok(Ordering::Equal)
        );
        assert_eq!(
            compare(&json!(1), &json!(1.0), None, true),
            Ok(Ordering::Equal)
        );
        assert!(compare(&json!(1), &json!("1"), None, true).is_err());
    }

    #[test]
    fn order_and_filters_follow_the_request() {
        let order = Order {
            field: "by".into(),
            direction: "dir".into(),
            ascending: json!(1),
            descending: json!(-1),
            nulls_first: true,
            then: "Id".into(),
        };
        let formats = BTreeMap::from([("When".to_owned(), "date-time".to_owned())]);
        let request = |query: Value| Request {
            query: query.as_object().unwrap().clone(),
            ..Request::default()
        };
        let body = json!({"R": [
            {"Id": 1, "When": null, "N": 5},
            {"Id": 3, "When": "2026-01-01T00:00:00.5Z", "N": 5},
            {"Id": 2, "When": "2026-01-01T00:00:01Z", "N": 7}
        ]});
        let default = |_: &str| None;
        let sorted = |query: Value| {
            super::order(
                Some(&body),
                &page(),
                &order,
                &request(query),
                &default,
                &formats,
            )
            .1
        };
        assert_eq!(sorted(json!({"by": "When"})), Ok(()));
        assert_eq!(sorted(json!({"by": "When", "dir": 1})), Ok(()));
        assert_eq!(
            sorted(json!({"by": "When", "dir": 0})).unwrap_err().message,
            "dir is 0, neither 1 (ascending) nor -1 (descending)"
        );
        assert!(sorted(json!({})).is_err(), "no property to sort by");
        assert!(sorted(json!({"by": "When", "dir": -1})).is_err());
        assert!(sorted(json!({"by": "Id"})).is_err());
        // Ties on N are ordered by Id, in the same direction.
        assert_eq!(sorted(json!({"by": "N"})), Ok(()));
        assert_eq!(
            sorted(json!({"by": "N", "dir": -1})).unwrap_err().message,
            "records 0 and 1 are out of order by N (descending), then Id: 5 before 5"
        );
        let filter = |parameter: &str, property: &str, matching| Filter {
            parameter: parameter.into(),
            property: property.into(),
            matching,
        };
        let filters = [
            filter("n", "N", Match::Equal),
            filter("from", "When", Match::From),
            filter("to", "When", Match::To),
        ];
        let check = |query: Value| {
            super::filters(Some(&body), &page(), &filters, &request(query), &formats).1
        };
        assert!(check(json!({"n": 5})).is_err(), "the N 7 record");
        assert!(
            check(json!({"from": "2025-01-01T00:00:00Z"})).is_err(),
            "the null"
        );
        let dated = json!({"R": [body["R"][1], body["R"][2]]});
        let dated = |query: Value| {
            super::filters(Some(&dated), &page(), &filters, &request(query), &formats).1
        };
        assert_eq!(dated(json!({"to": "2026-01-01T00:00:01Z"})), Ok(()));
        assert_eq!(
            dated(json!({"to": "2026-01-01T00:00:00.5Z"}))
                .unwrap_err()
                .message,
            "record 1 has When \"2026-01-01T00:00:01Z\", but to=\"2026-01-01T00:00:00.5Z\""
        );
        assert!(dated(json!({"from": "2026-01-01T00:00:00.6Z"})).is_err());
        let two = json!({"R": [{"Id": 2, "When": "2026-01-01T00:00:01Z", "N": 7}]});
        assert_eq!(
            super::filters(
                Some(&two),
                &page(),
                &filters,
                &request(json!({"n": 7, "from": "2026-01-01T01:00:01+01:00"})),
                &formats
            )
            .1,
            Ok(())
        );
    }

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
    }

    fn exchange(headers: &[(&str, &str)]) -> crate::exchange::Exchange {
        crate::exchange::Exchange {
            method: "GET".into(),
            url: "http://127.0.0.1/x".into(),
            request_body: bytes::Bytes::new(),
            content_type: None,
            headers: Vec::new(),
            status: 405,
            response_headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            response_body: bytes::Bytes::new(),
        }
    }

    #[test]
    fn headers_are_there_and_allow_lists_the_paths_methods() {
        let methods = std::collections::BTreeSet::from(["GET".to_owned(), "POST".to_owned()]);
        let allow = |value: &str| {
            answer_headers(
                &exchange(&[("allow", value), ("retry-after", "1")]),
                &["Allow".to_owned(), "Retry-After".to_owned()],
                Some(&methods),
            )
        };
        assert_eq!(
            allow("post, GET,HEAD, OPTIONS"),
            vec![
                (Check::Header("Allow".into()), Ok(())),
                (Check::Header("Retry-After".into()), Ok(()))
            ]
        );
        assert_eq!(
            allow("GET").remove(0).1.unwrap_err().message,
            "Allow lists GET, the path has GET, POST"
        );
        assert!(allow("GET").first().unwrap().1.is_err());
        assert!(allow("GET, POST, DELETE").first().unwrap().1.is_err());
        let none = answer_headers(&exchange(&[]), &["Allow".to_owned()], Some(&methods));
        assert_eq!(none[0].1.as_ref().unwrap_err().message, "no Allow header");
        assert_eq!(
            message(documented_headers(
                &exchange(&[("retry-after", "1")]),
                &["Retry-After", "Allow"]
            )),
            "no Allow header, which the spec documents"
        );
        assert_eq!(
            documented_headers(&exchange(&[("allow", "GET")]), &["Allow"]).1,
            Ok(())
        );
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

    #[test]
    fn content_types_are_the_documented_ones() {
        let with = |content_type: Option<&str>, body: &'static [u8]| {
            let mut exchange = exchange(&[]);
            exchange.status = 200;
            if let Some(content_type) = content_type {
                exchange
                    .response_headers
                    .push(("content-type".into(), content_type.into()));
            }
            exchange.response_body = bytes::Bytes::from_static(body);
            exchange
        };
        let json = ["application/json"];
        let judged = |exchange: &crate::exchange::Exchange, media_types: &[&str]| {
            content_type(exchange, media_types).1
        };
        assert_eq!(
            judged(&with(Some("application/json"), b"{}"), &json),
            Ok(())
        );
        assert_eq!(
            judged(&with(Some("Application/JSON; charset=utf-8"), b"{}"), &json),
            Ok(())
        );
        let plain = judged(&with(Some("text/plain"), b"{}"), &json).unwrap_err();
        assert_eq!(plain.kind, "Content-Type text/plain");
        assert_eq!(
            plain.message,
            "the answer's Content-Type is text/plain; the spec documents application/json for 200"
        );
        assert_eq!(
            judged(&with(None, b"{}"), &json).unwrap_err().kind,
            "no Content-Type"
        );
        // A status documented without a body has none.
        assert_eq!(judged(&with(None, b""), &[]), Ok(()));
        assert_eq!(
            judged(&with(Some("application/json"), b"{}"), &[])
                .unwrap_err()
                .message,
            "the spec documents no body for 200, yet the answer has 2 bytes of application/json"
        );
    }

    /// A wrong status is the one fault reported of an answer: the checks of what an answer of the
    /// expected status holds do not apply to it.
    #[test]
    fn answers_are_judged_in_layers() {
        let mut answered = exchange(&[("content-type", "text/plain")]);
        answered.status = 200;
        answered.response_body = bytes::Bytes::from_static(b"{}");
        let documented = Documented {
            media_types: &["application/json"],
            headers: &[],
            validator: None,
        };
        let (outcomes, shaped) = answer(&answered, 400, Some(documented));
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].0, Check::Status);
        assert!(!shaped);
        // The right status with the wrong media type: its body is not judged by the schema.
        let (outcomes, shaped) = answer(&answered, 200, Some(documented));
        let checks: Vec<&Check> = outcomes.iter().map(|(check, _)| check).collect();
        assert_eq!(
            checks,
            [
                &Check::Status,
                &Check::DocumentedHeaders,
                &Check::ContentType
            ]
        );
        assert!(!shaped);
    }
}
