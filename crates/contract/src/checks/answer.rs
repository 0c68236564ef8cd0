//! The checks every answer gets, in layers: its status first; when it is the one expected, the
//! headers its status documents, its content type, and its body against the status's schema.

use crate::{
    exchange::Exchange,
    vocabulary::{Check, Mismatch, Problems},
};
use serde_json::{Value, json};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::*;
    use serde_json::json;

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
