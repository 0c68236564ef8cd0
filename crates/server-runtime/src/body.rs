//! A request body read into the generated type: within a size limit and in time, then UTF-8,
//! JSON or form syntax, the spec's schema, and only then `T`. Deserialising last means that every
//! reported problem comes from the spec (with every violation at once), not from serde's first
//! complaint about the generated type.

use std::time::Duration;

use api_description::BodyFormat;
use axum::body::Body;
use http::{HeaderMap, header};
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use spec_schema::{InstancePath, Validator, Violation};

use crate::{headers::check_content_type, rejection::Rejection, strict_json};

/// The default largest request body, in bytes.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Reads a request body written in `format` and turns it into `T`, checking on the way, in this
/// order: the content type, the size, UTF-8, the syntax and then the schema. `T` is deserialised
/// only from a body the schema accepts, so every reported violation comes from the spec.
pub async fn read_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    validator: &Validator,
    format: BodyFormat,
) -> Result<T, Rejection> {
    check_content_type(headers, format)?;
    let declared_too_large = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64);
    if declared_too_large {
        return Err(Rejection::TooLarge { limit });
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|error| {
        let error = error.into_inner();
        if error.downcast_ref::<LengthLimitError>().is_some() {
            Rejection::TooLarge { limit }
        } else if let Some(BodyTimedOut { after }) = timed_out(&*error) {
            Rejection::TimedOut { after: *after }
        } else {
            Rejection::Unreadable {
                message: error.to_string(),
            }
        }
    })?;
    match format {
        BodyFormat::Json => parse_json(&bytes, validator),
        BodyFormat::Form => parse_form(&bytes, validator),
    }
}

/// The error a server's transport gives a request body that does not arrive in time; [`read_body`]
/// answers it with [`Rejection::TimedOut`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body did not arrive within {} s", .after.as_secs_f64())]
pub struct BodyTimedOut {
    /// How long the server waited.
    pub after: Duration,
}

/// The transport's timeout, however many layers of body wrap it.
fn timed_out<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimedOut> {
    std::iter::successors(Some(error), |error| error.source())
        .find_map(|error| error.downcast_ref())
}

fn utf8(bytes: &[u8]) -> Result<&str, Rejection> {
    std::str::from_utf8(bytes).map_err(|error| Rejection::NotUtf8 {
        valid_up_to: error.valid_up_to(),
    })
}

/// The synchronous part of [`read_body`] for JSON: UTF-8, JSON syntax (a key repeated in an object is a
/// violation at that key), schema, then `T`.
pub fn parse_json<T: DeserializeOwned>(
    bytes: &[u8],
    validator: &Validator,
) -> Result<T, Rejection> {
    let text = utf8(bytes)?;
    let value = strict_json::from_str(text).map_err(|error| match error {
        strict_json::StrictError::Syntax(error) => Rejection::MalformedJson {
            message: error.to_string(),
        },
        strict_json::StrictError::RepeatedKey(path) => Rejection::Invalid(vec![Violation::new(
            InstancePath::from_segments(path),
            None,
            "uniqueKeys",
            "is sent more than once",
        )]),
    })?;
    deserialise_valid(value, validator)
}

/// The synchronous part of [`read_body`] for forms: UTF-8, percent escapes that decode to UTF-8,
/// each name at most once (a repeated name is a violation at that name), then the pairs as a JSON
/// object of strings through the schema and into `T`.
pub fn parse_form<T: DeserializeOwned>(
    bytes: &[u8],
    validator: &Validator,
) -> Result<T, Rejection> {
    let text = utf8(bytes)?;
    let mut object = serde_json::Map::new();
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (form_text(name)?, form_text(value)?);
        if object.contains_key(&name) {
            return Err(Rejection::Invalid(vec![Violation::new(
                InstancePath::from_segments([name]),
                None,
                "uniqueKeys",
                "is sent more than once",
            )]));
        }
        object.insert(name, Value::String(value));
    }
    deserialise_valid(Value::Object(object), validator)
}

/// One name or value of a form, decoded (`+` is a space): a `%` must start an escape, and the
/// escapes must decode to UTF-8, or two readers could see two different texts.
fn form_text(raw: &str) -> Result<String, Rejection> {
    let malformed = |message: String| Rejection::MalformedForm { message };
    let bytes = raw.as_bytes();
    for (at, _) in raw.match_indices('%') {
        let escape = bytes.get(at + 1..at + 3);
        if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
            return Err(malformed(format!(
                "`%` at `{}` does not start a two-digit escape",
                raw.get(at..(at + 3).min(raw.len())).unwrap_or("%")
            )));
        }
    }
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(&raw.replace('+', " ")).collect();
    String::from_utf8(decoded)
        .map_err(|_| malformed(format!("`{raw}` decodes to bytes that are not UTF-8")))
}

/// A parsed body through the schema, then into `T`.
fn deserialise_valid<T: DeserializeOwned>(
    value: Value,
    validator: &Validator,
) -> Result<T, Rejection> {
    let violations = validator.violations(&value);
    if !violations.is_empty() {
        return Err(Rejection::Invalid(violations));
    }
    // The schema accepted the value, so a failure here means the generated type is stricter than
    // the spec (a chrono or uuid corner case): still the client's input, still a 400.
    serde_json::from_value(value).map_err(|error| {
        Rejection::Invalid(vec![Violation::new(
            InstancePath::root(),
            None,
            "type",
            error.to_string(),
        )])
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::headers;

    #[test]
    fn forms_are_read_as_objects_of_strings_through_the_schema() {
        let validator = Validator::for_schema(
            serde_json::Map::new(),
            &json!({
                "type": "object",
                "required": ["grant"],
                "properties": {"grant": {"type": "string", "enum": ["password"]}, "name": {"type": "string"}},
                "additionalProperties": false,
            }),
            "form",
        )
        .unwrap();
        let parse = |body: &str| parse_form::<Value>(body.as_bytes(), &validator);
        assert_eq!(
            parse("grant=password&name=a+b%C3%A9%2B%26"),
            Ok(json!({"grant": "password", "name": "a bé+&"}))
        );
        assert_eq!(
            parse("name=&grant=password"),
            Ok(json!({"grant": "password", "name": ""}))
        );
        let invalid = |body: &str| match parse(body) {
            Err(Rejection::Invalid(violations)) => violations
                .iter()
                .map(|violation| {
                    let path: Vec<String> = violation.path.segments().collect();
                    (path.join("/"), violation.keyword.to_string())
                })
                .collect::<Vec<_>>(),
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(
            invalid("grant=password&grant=password"),
            [("grant".into(), "uniqueKeys".into())]
        );
        assert_eq!(invalid("name=x"), [("grant".into(), "required".into())]);
        assert_eq!(invalid("grant=other"), [("grant".into(), "enum".into())]);
        assert_eq!(
            invalid("grant=password&extra=1"),
            [(String::new(), "additionalProperties".into())]
        );
        for malformed in [
            "grant=%",
            "grant=%4",
            "grant=%zz",
            "grant=%FF",
            "%C3=password",
        ] {
            assert!(
                matches!(parse(malformed), Err(Rejection::MalformedForm { .. })),
                "{malformed}: {:?}",
                parse(malformed)
            );
        }
        assert!(matches!(
            parse_form::<Value>(&[b'a', 0xff], &validator),
            Err(Rejection::NotUtf8 { valid_up_to: 1 })
        ));
    }

    /// Empty pairs (`&&`, a trailing `&`) are no pairs; a name without `=` has the empty value;
    /// only the first `=` separates, and an encoded `=` or `&` is text.
    #[test]
    fn form_pairs_are_split_at_the_first_equals_sign() {
        let validator = any_value();
        let parse = |body: &str| parse_form::<Value>(body.as_bytes(), &validator);
        assert_eq!(parse(""), Ok(json!({})));
        assert_eq!(parse("&&a=1&"), Ok(json!({"a": "1"})));
        assert_eq!(parse("flag"), Ok(json!({"flag": ""})));
        assert_eq!(parse("a=b=c"), Ok(json!({"a": "b=c"})));
        assert_eq!(parse("a%3D=%26"), Ok(json!({"a=": "&"})));
        assert_eq!(parse("=x"), Ok(json!({"": "x"})));
        // A name is repeated however its text is escaped.
        let Err(Rejection::Invalid(violations)) = parse("a=1&%61=2") else {
            panic!("{:?}", parse("a=1&%61=2"))
        };
        assert_eq!(violations[0].property_name().as_deref(), Some("a"));
        assert_eq!(
            form_text("100%"),
            Err(Rejection::MalformedForm {
                message: "`%` at `%` does not start a two-digit escape".into()
            })
        );
    }

    fn json_headers(length: Option<usize>) -> HeaderMap {
        let mut headers = headers(&[(header::CONTENT_TYPE, "application/json")]);
        if let Some(length) = length {
            headers.insert(header::CONTENT_LENGTH, length.into());
        }
        headers
    }

    fn any_value() -> Validator {
        Validator::for_schema(serde_json::Map::new(), &json!({}), "any").unwrap()
    }

    /// The default limit reads 64 KiB; a body is refused as too large when it declares more than
    /// the limit (before a byte is read, even if it would send less) or sends more, and answered
    /// as late when its transport says it timed out.
    #[tokio::test]
    async fn bodies_are_read_within_the_limit_and_in_time() {
        let validator = any_value();
        let read = |headers: HeaderMap, body: Body, limit: usize| {
            let validator = &validator;
            async move { read_body::<Value>(&headers, body, limit, validator, BodyFormat::Json).await }
        };
        let big = format!("\"{}\"", "a".repeat(64 * 1024 - 2));
        let read_big = read(
            json_headers(Some(big.len())),
            Body::from(big),
            DEFAULT_BODY_LIMIT,
        )
        .await;
        assert_eq!(
            read_big.map(|value| value.as_str().unwrap().len()),
            Ok(64 * 1024 - 2)
        );
        assert_eq!(
            read(json_headers(Some(4)), Body::from("1234"), 4).await,
            Ok(json!(1234))
        );
        let too_large = Err(Rejection::TooLarge { limit: 4 });
        assert_eq!(
            read(json_headers(Some(100)), Body::from("12"), 4).await,
            too_large
        );
        assert_eq!(
            read(json_headers(None), Body::from("12345"), 4).await,
            too_large
        );
        let after = Duration::from_secs(3);
        let late = Body::from_stream(futures_util::stream::iter(vec![Err::<bytes::Bytes, _>(
            BodyTimedOut { after },
        )]));
        assert_eq!(
            read(json_headers(None), late, 4).await,
            Err(Rejection::TimedOut { after })
        );
    }

    /// The limit is inclusive, whether the length is declared or only sent; a declared length
    /// that is not a number is no declaration (the bytes sent are what is measured); a body that
    /// declares less than it sends is still cut at the limit; a limit of 0 takes only the empty
    /// body, which is not JSON.
    #[tokio::test]
    async fn the_limit_counts_bytes_sent_and_trusts_only_a_numeric_declaration() {
        let validator = any_value();
        let read = |headers: HeaderMap, body: &'static str, limit: usize| {
            let validator = &validator;
            async move {
                read_body::<Value>(
                    &headers,
                    Body::from(body),
                    limit,
                    validator,
                    BodyFormat::Json,
                )
                .await
            }
        };
        assert_eq!(
            read(json_headers(Some(5)), "12345", 5).await,
            Ok(json!(12345))
        );
        assert_eq!(read(json_headers(None), "12345", 5).await, Ok(json!(12345)));
        assert_eq!(
            read(json_headers(Some(6)), "12345", 5).await,
            Err(Rejection::TooLarge { limit: 5 })
        );
        let mut not_a_number = json_headers(None);
        not_a_number.insert(header::CONTENT_LENGTH, "lots".parse().unwrap());
        assert_eq!(read(not_a_number.clone(), "12", 5).await, Ok(json!(12)));
        assert_eq!(
            read(not_a_number, "123456", 5).await,
            Err(Rejection::TooLarge { limit: 5 })
        );
        assert_eq!(
            read(json_headers(Some(1)), "123456", 5).await,
            Err(Rejection::TooLarge { limit: 5 })
        );
        assert!(matches!(
            read(json_headers(Some(0)), "", 0).await,
            Err(Rejection::MalformedJson { .. })
        ));
        assert_eq!(
            read(json_headers(None), "1", 0).await,
            Err(Rejection::TooLarge { limit: 0 })
        );
    }

    /// The content type is checked before the size: a body in the wrong media type is refused
    /// as such even when it also declares too much.
    #[tokio::test]
    async fn the_media_type_is_checked_before_the_size() {
        let mut headers = headers(&[(header::CONTENT_TYPE, "text/plain")]);
        headers.insert(header::CONTENT_LENGTH, 100.into());
        assert_eq!(
            read_body::<Value>(&headers, Body::from("1"), 4, &any_value(), BodyFormat::Json).await,
            Err(Rejection::UnsupportedMediaType {
                content_type: Some("text/plain".into()),
                expected: "application/json",
            })
        );
    }

    /// A transport error wrapped in another is still a timeout when a timeout is its source;
    /// any other error of the stream makes the body unreadable, with the error's text.
    #[tokio::test]
    async fn a_wrapped_timeout_is_found_and_other_errors_are_unreadable() {
        #[derive(Debug, thiserror::Error)]
        #[error("the connection failed")]
        struct Wrapper(#[source] BodyTimedOut);
        let failing = |error: Box<dyn std::error::Error + Send + Sync>| {
            Body::from_stream(futures_util::stream::iter(vec![Err::<bytes::Bytes, _>(
                error,
            )]))
        };
        let validator = any_value();
        let after = Duration::from_millis(250);
        let read = |body: Body| {
            let validator = &validator;
            async move {
                read_body::<Value>(&json_headers(None), body, 64, validator, BodyFormat::Json).await
            }
        };
        assert_eq!(
            read(failing(Box::new(Wrapper(BodyTimedOut { after })))).await,
            Err(Rejection::TimedOut { after })
        );
        assert_eq!(
            read(failing("reset by peer".into())).await,
            Err(Rejection::Unreadable {
                message: "reset by peer".into()
            })
        );
    }

    #[test]
    fn parse_reports_each_stage() {
        let spec = spec_schema::Spec::from_yaml(
            "components: {schemas: {T: {type: object, required: [A], properties: {A: {type: integer, format: int32}}}}}",
        )
        .unwrap();
        let validator = Validator::new(spec.json_schema_definitions().unwrap(), "T").unwrap();
        let parse = |bytes: &[u8]| parse_json::<Value>(bytes, &validator);
        assert_eq!(parse(b"\xff"), Err(Rejection::NotUtf8 { valid_up_to: 0 }));
        assert!(matches!(parse(b"{"), Err(Rejection::MalformedJson { .. })));
        assert!(matches!(parse(b""), Err(Rejection::MalformedJson { .. })));
        let Err(Rejection::Invalid(violations)) = parse(b"{}") else {
            panic!()
        };
        assert_eq!(violations[0].property_name().as_deref(), Some("A"));
        assert_eq!(parse(br#"{"A": 1}"#), Ok(json!({"A": 1})));
        // The schema alone would accept either value: the repetition is what is refused.
        let Err(Rejection::Invalid(violations)) = parse(br#"{"A": 1, "A": 2}"#) else {
            panic!()
        };
        assert_eq!(violations[0].property_name().as_deref(), Some("A"));
        assert_eq!(violations[0].message.to_string(), "is sent more than once");
    }

    /// A value the schema accepts but the type cannot hold is a `type` violation at the root,
    /// with serde's words, not a server error.
    #[test]
    fn a_type_stricter_than_the_schema_is_a_violation_at_the_root() {
        let Err(Rejection::Invalid(violations)) = parse_json::<u8>(b"300", &any_value()) else {
            panic!()
        };
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path, InstancePath::root());
        assert_eq!(violations[0].keyword, "type");
        assert_eq!(violations[0].value, None);
        assert!(
            violations[0].message.to_string().contains("300"),
            "{}",
            violations[0].message
        );
        assert_eq!(parse_json::<u8>(b"255", &any_value()), Ok(255));
    }
}
