//! What generated axum routers call at run time.
//!
//! Generated server code (see the `codegen` crate) stays small by leaving the generic work of a
//! request to this crate: reading the body within a size limit, checking its content type,
//! parsing JSON, validating it against the spec's schema (every violation, not just the first)
//! and only then deserialising it into the generated type. Each failure is a typed
//! [`Rejection`] that the server implementation turns into its API's error envelope; nothing
//! here writes a response body of its own.
//!
//! Path and query parameters go the same way ([`parameter`]): checked against the parameter's
//! schema, every violation reported under the parameter's name, then parsed.
//!
//! The request's head is read strictly too ([`check_headers`]): a header that names one thing
//! (`Authorization`, `Content-Type`, ...) sent twice is refused, not resolved by picking one.
//!
//! [`Operation`] describes an operation as the spec states it (including its security
//! requirements), so that an implementation can authorize by what the spec says.

mod strict_json;

use std::{collections::HashMap, str::FromStr, time::Duration};

pub use api_description::{
    BodyFormat, Link, Operation, Parameter, ParameterLocation, Response, SecurityRequirement,
    SecurityScheme,
};
use axum::body::Body;
use http::{HeaderMap, HeaderName, StatusCode, Version, header};
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;
use serde_json::Value;
pub use spec_schema::{InstancePath, Message, Validator, Violation};

/// The default largest request body, in bytes.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Why a request body was not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// The `Content-Type` is missing or is not the operation's media type (with at most a
    /// `charset` of `utf-8`).
    #[error("the body must be sent as {expected}")]
    UnsupportedMediaType {
        /// The `Content-Type` that was sent.
        content_type: Option<String>,
        /// The media type the operation reads.
        expected: &'static str,
    },
    /// The body is sent with a `Content-Encoding`: only the identity encoding is read.
    #[error("the body must be sent without a Content-Encoding")]
    UnsupportedEncoding {
        /// The `Content-Encoding` that was sent.
        content_encoding: String,
    },
    /// A header that names one thing is sent more than once.
    #[error("the {name} header is sent more than once")]
    RepeatedHeader {
        /// The header, as HTTP/1.1 spells it.
        name: &'static str,
    },
    /// The body's framing is one this crate does not read (a transfer coding besides `chunked`,
    /// which would not be decoded).
    #[error("the {header} header: {message}")]
    Framing {
        /// The header, as HTTP/1.1 spells it.
        header: &'static str,
        /// What is wrong with it.
        message: &'static str,
    },
    /// A header HTTP requires is missing (`Host` in HTTP/1.1).
    #[error("the {name} header is missing")]
    MissingHeader {
        /// The header, as HTTP/1.1 spells it.
        name: &'static str,
    },
    /// The body did not arrive in time.
    #[error("the body did not arrive within {} s", .after.as_secs_f64())]
    TimedOut {
        /// How long the server waited.
        after: Duration,
    },
    /// The body is larger than the limit.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read to its end.
    #[error("the body could not be read: {message}")]
    Unreadable {
        /// What went wrong.
        message: String,
    },
    /// The body is not UTF-8.
    #[error("the body is not valid UTF-8 (at byte {valid_up_to})")]
    NotUtf8 {
        /// The length of the valid prefix.
        valid_up_to: usize,
    },
    /// The body is not JSON.
    #[error("the body is not valid JSON: {message}")]
    MalformedJson {
        /// What the parser said, with line and column.
        message: String,
    },
    /// The body is not form data: a `%` not followed by two hex digits, or an escape that decodes
    /// to bytes that are not UTF-8.
    #[error("the body is not valid form data: {message}")]
    MalformedForm {
        /// What is wrong, and where.
        message: String,
    },
    /// The body is JSON (or a form) but breaks the operation's schema.
    #[error("the body breaks the schema in {} place(s)", .0.len())]
    Invalid(Vec<Violation>),
}

impl Rejection {
    /// The HTTP status that the rejection calls for.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType { .. } | Self::UnsupportedEncoding { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::RepeatedHeader { .. }
            | Self::MissingHeader { .. }
            | Self::Framing { .. }
            | Self::Unreadable { .. }
            | Self::NotUtf8 { .. }
            | Self::MalformedJson { .. }
            | Self::MalformedForm { .. }
            | Self::Invalid(_) => StatusCode::BAD_REQUEST,
        }
    }
}

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

fn check_content_type(headers: &HeaderMap, format: BodyFormat) -> Result<(), Rejection> {
    once(headers, &header::CONTENT_TYPE, "Content-Type")?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    if !content_type
        .as_deref()
        .is_some_and(|content_type| is_media_type(content_type, format.media_type()))
    {
        return Err(Rejection::UnsupportedMediaType {
            content_type,
            expected: format.media_type(),
        });
    }
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        return Err(Rejection::UnsupportedEncoding {
            content_encoding: String::from_utf8_lossy(encoding.as_bytes()).into_owned(),
        });
    }
    Ok(())
}

/// `media_type` alone or with `charset=utf-8` (RFC 8259 defines JSON as UTF-8 and no parameter of
/// its own; forms are read as UTF-8): neither `+json` types, whose meaning is their own, nor other
/// charsets.
fn is_media_type(content_type: &str, media_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(media_type)
        && parts.all(|parameter| {
            let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|value| value.strip_suffix('"'))
                .unwrap_or(value);
            name.trim().eq_ignore_ascii_case("charset") && value.eq_ignore_ascii_case("utf-8")
        })
}

/// Headers that name one thing: sent twice, a server and the proxies before it could each read a
/// different one.
static SINGLE: [(HeaderName, &str); 5] = [
    (header::AUTHORIZATION, "Authorization"),
    (header::CONTENT_TYPE, "Content-Type"),
    (header::CONTENT_LENGTH, "Content-Length"),
    (header::CONTENT_ENCODING, "Content-Encoding"),
    (header::HOST, "Host"),
];

/// The head of a request read strictly, before anything else: each header that names one thing
/// at most once, `Host` present in HTTP/1.1 (RFC 9112, section 3.2), and `Transfer-Encoding`
/// only as `chunked`: another coding would not be decoded. (A `Content-Length` beside it is
/// the HTTP implementation's to drop, as section 6.3 says; hyper does, and closes the connection
/// after the answer.)
pub fn check_headers(version: Version, headers: &HeaderMap) -> Result<(), Rejection> {
    for (header, name) in &SINGLE {
        once(headers, header, name)?;
    }
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter().peekable();
    if codings.peek().is_some() {
        let chunked_alone = codings.count() == 1
            && headers
                .get(header::TRANSFER_ENCODING)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.trim().eq_ignore_ascii_case("chunked"));
        if !chunked_alone {
            return Err(Rejection::Framing {
                header: "Transfer-Encoding",
                message: "must be chunked alone: no other transfer coding is read",
            });
        }
    }
    if version == Version::HTTP_11 && !headers.contains_key(header::HOST) {
        return Err(Rejection::MissingHeader { name: "Host" });
    }
    Ok(())
}

fn once(headers: &HeaderMap, header: &HeaderName, name: &'static str) -> Result<(), Rejection> {
    if headers.get_all(header).iter().nth(1).is_some() {
        return Err(Rejection::RepeatedHeader { name });
    }
    Ok(())
}

/// The JSON type of a parameter, which says how its text is read before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    /// Taken as it is.
    String,
    /// A decimal integer.
    Integer,
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
}

/// The query string's pairs, percent-decoded, every value of a name kept in order: a name given
/// twice is a violation of its parameter ([`parameter`]), not a choice between its values.
pub fn query_pairs(query: Option<&str>) -> QueryPairs {
    let mut pairs = QueryPairs::default();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned() {
        pairs.0.entry(name).or_default().push(value);
    }
    pairs
}

/// A query string's values by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPairs(HashMap<String, Vec<String>>);

/// Where [`parameter`] reads a parameter's text: the query's pairs, or the path's (one value
/// per name).
pub trait ParameterSource {
    /// Every value sent under `name`, in order.
    fn values(&self, name: &str) -> &[String];
}

impl ParameterSource for QueryPairs {
    fn values(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

impl ParameterSource for HashMap<String, String> {
    fn values(&self, name: &str) -> &[String] {
        self.get(name).map_or(&[], std::slice::from_ref)
    }
}

/// Reads the parameter `name` from `pairs` (path or query), checks it against its schema and
/// parses it. Problems are added to `violations`, under the parameter's name, with the text that
/// was sent as the value; the result is then `None`, as it is for an absent optional parameter.
pub fn parameter<T: FromStr>(
    pairs: &impl ParameterSource,
    name: &str,
    ty: ParameterType,
    required: bool,
    validator: &Validator,
    violations: &mut Vec<Violation>,
) -> Option<T> {
    let path = || InstancePath::from_segments([name]);
    let violation = |value: Option<Value>, keyword: &'static str, message: &'static str| {
        Violation::new(path(), value, keyword, message)
    };
    let text = match pairs.values(name) {
        [] => {
            if required {
                violations.push(violation(None, "required", "is a required field"));
            }
            return None;
        }
        [text] => text,
        several => {
            let sent = several.iter().cloned().map(Value::String).collect();
            violations.push(violation(
                Some(Value::Array(sent)),
                "uniqueKeys",
                "is sent more than once",
            ));
            return None;
        }
    };
    let sent = Some(Value::String(text.clone()));
    let value = match ty {
        ParameterType::String => Some(Value::String(text.clone())),
        ParameterType::Integer => text.parse::<i64>().ok().map(Value::from).or_else(|| {
            // Beyond i64, keep the number so that the schema's range reports it.
            text.parse::<u64>().ok().map(Value::from).or_else(|| {
                let is_integer = text
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit());
                (is_integer && !text.is_empty())
                    .then(|| text.parse::<f64>().ok().map(Value::from))
                    .flatten()
            })
        }),
        ParameterType::Number => text
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite())
            .map(Value::from),
        ParameterType::Boolean => match text.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    };
    let Some(value) = value else {
        let expected = match ty {
            ParameterType::String => "must be a string",
            ParameterType::Integer => "must be an integer",
            ParameterType::Number => "must be a number",
            ParameterType::Boolean => "must be a boolean",
        };
        violations.push(violation(sent, "type", expected));
        return None;
    };
    let found = validator.violations(&value);
    if !found.is_empty() {
        violations.extend(found.into_iter().map(|found| Violation {
            path: path(),
            value: sent.clone(),
            ..found
        }));
        return None;
    }
    match text.parse::<T>() {
        Ok(parsed) => Some(parsed),
        Err(_) => {
            violations.push(violation(sent, "type", "is out of range"));
            None
        }
    }
}

/// Why no bearer token could be read from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// There is no `Authorization` header.
    #[error("the Authorization header is missing")]
    Missing,
    /// The header uses another scheme than `Bearer`.
    #[error("the Authorization header must use the Bearer scheme")]
    NotBearer,
    /// The header says `Bearer` but carries no usable token.
    #[error("the bearer token is malformed")]
    Malformed,
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 7235); the token must be visible ASCII without spaces.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(BearerError::Missing)?;
    let value = value.to_str().map_err(|_| BearerError::Malformed)?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() || token.bytes().any(|byte| !byte.is_ascii_graphic()) {
        return Err(BearerError::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use serde_json::json;

    use super::*;

    /// Violations as (property, value sent, message), as a test compares them.
    fn named(violations: Vec<Violation>) -> Vec<(String, Option<Value>, String)> {
        violations
            .into_iter()
            .map(|v| (v.property_name().unwrap(), v.value, v.message.to_string()))
            .collect()
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn bearer_tokens() {
        let auth = |value: &str| headers(&[(header::AUTHORIZATION, value)]);
        assert_eq!(bearer_token(&HeaderMap::new()), Err(BearerError::Missing));
        assert_eq!(
            bearer_token(&auth("Basic dXNlcg==")),
            Err(BearerError::NotBearer)
        );
        assert_eq!(bearer_token(&auth("Bearer")), Err(BearerError::Malformed));
        assert_eq!(
            bearer_token(&auth("Bearer a b")),
            Err(BearerError::Malformed)
        );
        assert_eq!(bearer_token(&auth("bearer tok-1")), Ok("tok-1"));
        assert_eq!(bearer_token(&auth("Bearer  tok-1 ")), Ok("tok-1"));
    }

    #[test]
    fn content_types() {
        let json = BodyFormat::Json;
        let ct = |value: &str| check_content_type(&headers(&[(header::CONTENT_TYPE, value)]), json);
        assert!(ct("application/json").is_ok());
        assert!(ct("Application/JSON; charset=utf-8").is_ok());
        assert!(ct("application/json;charset=\"UTF-8\"").is_ok());
        for refused in [
            "application/problem+json",
            "application/merge-patch+json",
            "application/json; charset=utf-16",
            "application/json; charset=utf-8; q=1",
            "application/json;",
            "text/plain",
            "application/jsonx",
        ] {
            assert_eq!(
                ct(refused),
                Err(Rejection::UnsupportedMediaType {
                    content_type: Some(refused.to_owned()),
                    expected: "application/json",
                }),
                "{refused}"
            );
        }
        let form = |value: &str| {
            check_content_type(&headers(&[(header::CONTENT_TYPE, value)]), BodyFormat::Form)
        };
        assert!(form("application/x-www-form-urlencoded").is_ok());
        assert!(form("application/x-www-form-urlencoded; charset=UTF-8").is_ok());
        assert_eq!(
            form("application/json"),
            Err(Rejection::UnsupportedMediaType {
                content_type: Some("application/json".to_owned()),
                expected: "application/x-www-form-urlencoded",
            })
        );
        let gzip = headers(&[
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_ENCODING, "gzip"),
        ]);
        assert_eq!(
            check_content_type(&gzip, json),
            Err(Rejection::UnsupportedEncoding {
                content_encoding: "gzip".to_owned()
            })
        );
        assert_eq!(
            check_content_type(&HeaderMap::new(), json),
            Err(Rejection::UnsupportedMediaType {
                content_type: None,
                expected: "application/json"
            })
        );
    }

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

    #[test]
    fn headers_that_name_one_thing_are_sent_once() {
        let host = (header::HOST, "example.com");
        let ok = headers(&[host.clone(), (header::ACCEPT, "a"), (header::ACCEPT, "b")]);
        assert_eq!(check_headers(Version::HTTP_11, &ok), Ok(()));
        for (header, name) in &SINGLE {
            let twice = headers(&[host.clone(), (header.clone(), "x"), (header.clone(), "x")]);
            assert_eq!(
                check_headers(Version::HTTP_11, &twice),
                Err(Rejection::RepeatedHeader { name }),
                "{name}"
            );
        }
        assert_eq!(
            check_headers(Version::HTTP_11, &HeaderMap::new()),
            Err(Rejection::MissingHeader { name: "Host" })
        );
        assert_eq!(check_headers(Version::HTTP_10, &HeaderMap::new()), Ok(()));
        let framed = |pairs: &[(header::HeaderName, &str)]| {
            let mut all = vec![host.clone()];
            all.extend_from_slice(pairs);
            check_headers(Version::HTTP_11, &headers(&all))
        };
        assert_eq!(framed(&[(header::TRANSFER_ENCODING, "Chunked")]), Ok(()));
        for refused in [
            vec![(header::TRANSFER_ENCODING, "gzip, chunked")],
            vec![
                (header::TRANSFER_ENCODING, "gzip"),
                (header::TRANSFER_ENCODING, "chunked"),
            ],
        ] {
            assert!(
                matches!(framed(&refused), Err(Rejection::Framing { .. })),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn parameters_are_checked_against_their_schema() {
        let schema = spec_schema::to_json_schema(
            &json!({"type": "integer", "format": "int64", "minimum": 1}),
        )
        .unwrap();
        let validator = Validator::for_schema(serde_json::Map::new(), &schema, "id").unwrap();
        let pairs = query_pairs(Some(
            "id=42&bad=x&zero=0&huge=99999999999999999999&sp=a%20b&twice=1&twice=1",
        ));
        assert_eq!(pairs.values("sp"), ["a b"]);
        let mut violations = Vec::new();
        let read = |name: &str, required: bool, violations: &mut Vec<Violation>| {
            parameter::<i64>(
                &pairs,
                name,
                ParameterType::Integer,
                required,
                &validator,
                violations,
            )
        };
        assert_eq!(read("id", true, &mut violations), Some(42));
        assert_eq!(read("absent", false, &mut violations), None);
        assert!(violations.is_empty());
        for name in ["absent", "bad", "zero", "huge", "twice"] {
            assert_eq!(read(name, true, &mut violations), None);
        }
        let found = named(violations);
        assert_eq!(
            found,
            [
                ("absent".to_owned(), None, "is a required field".to_owned()),
                (
                    "bad".to_owned(),
                    Some(json!("x")),
                    "must be an integer".to_owned()
                ),
                (
                    "zero".to_owned(),
                    Some(json!("0")),
                    "must be at least 1".to_owned()
                ),
                (
                    "huge".to_owned(),
                    Some(json!("99999999999999999999")),
                    "must be at most 9223372036854775807".to_owned()
                ),
                // The same value twice is still two values: neither is chosen.
                (
                    "twice".to_owned(),
                    Some(json!(["1", "1"])),
                    "is sent more than once".to_owned()
                ),
            ]
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

    #[test]
    fn each_rejection_calls_for_its_status() {
        let cases = [
            (
                Rejection::UnsupportedMediaType {
                    content_type: None,
                    expected: "application/json",
                },
                415,
            ),
            (
                Rejection::UnsupportedEncoding {
                    content_encoding: "gzip".into(),
                },
                415,
            ),
            (Rejection::TooLarge { limit: 1 }, 413),
            (
                Rejection::TimedOut {
                    after: Duration::from_secs(1),
                },
                408,
            ),
            (Rejection::RepeatedHeader { name: "Host" }, 400),
            (Rejection::MissingHeader { name: "Host" }, 400),
            (Rejection::NotUtf8 { valid_up_to: 0 }, 400),
            (
                Rejection::MalformedJson {
                    message: String::new(),
                },
                400,
            ),
            (
                Rejection::MalformedForm {
                    message: String::new(),
                },
                400,
            ),
            (Rejection::Invalid(Vec::new()), 400),
        ];
        for (rejection, status) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection:?}");
        }
    }

    #[test]
    fn operations_find_their_responses_and_parameters() {
        const PARAMETERS: &[Parameter] = &[
            Parameter {
                name: "id",
                location: ParameterLocation::Path,
                required: true,
                schema: "{}",
            },
            Parameter {
                name: "id",
                location: ParameterLocation::Query,
                required: false,
                schema: "{}",
            },
        ];
        const RESPONSES: &[Response] = &[
            Response {
                status: 200,
                schema: Some("A"),
                media_types: &[],
                links: &[],
                headers: &[],
                contract: "null",
            },
            Response {
                status: 404,
                schema: Some("B"),
                media_types: &[],
                links: &[],
                headers: &[],
                contract: "null",
            },
        ];
        let operation = Operation {
            operation_id: "op",
            method: "GET",
            path: "/x/{id}",
            parameters: PARAMETERS,
            request_schema: None,
            request_format: BodyFormat::Json,
            security: &[],
            responses: RESPONSES,
            contract: "null",
        };
        assert_eq!(operation.response(404).and_then(|r| r.schema), Some("B"));
        assert_eq!(operation.response(200).and_then(|r| r.schema), Some("A"));
        assert_eq!(operation.response(500), None);
        let query = operation.parameter(ParameterLocation::Query, "id").unwrap();
        assert!(!query.required);
        assert!(
            operation
                .parameter(ParameterLocation::Path, "id")
                .unwrap()
                .required
        );
        assert_eq!(operation.parameter(ParameterLocation::Path, "other"), None);
    }

    /// Booleans are `true` and `false` alone; an integer's text that is not one keeps its text as
    /// the value sent.
    #[test]
    fn booleans_and_integers_are_read_from_their_text() {
        let boolean =
            Validator::for_schema(serde_json::Map::new(), &json!({"type": "boolean"}), "b")
                .unwrap();
        let integer =
            Validator::for_schema(serde_json::Map::new(), &json!({"type": "integer"}), "n")
                .unwrap();
        let pairs = query_pairs(Some(
            "yes=true&no=false&shout=TRUE&half=1.5&exp=1e3&inf=inf",
        ));
        let mut violations = Vec::new();
        let flag = |name: &str, violations: &mut Vec<Violation>| {
            parameter::<bool>(
                &pairs,
                name,
                ParameterType::Boolean,
                true,
                &boolean,
                violations,
            )
        };
        assert_eq!(flag("yes", &mut violations), Some(true));
        assert_eq!(flag("no", &mut violations), Some(false));
        assert!(violations.is_empty());
        assert_eq!(flag("shout", &mut violations), None);
        for name in ["half", "exp", "inf"] {
            assert_eq!(
                parameter::<i64>(
                    &pairs,
                    name,
                    ParameterType::Integer,
                    true,
                    &integer,
                    &mut violations
                ),
                None
            );
        }
        let found = named(violations);
        assert_eq!(
            found,
            [
                (
                    "shout".to_owned(),
                    Some(json!("TRUE")),
                    "must be a boolean".to_owned()
                ),
                (
                    "half".to_owned(),
                    Some(json!("1.5")),
                    "must be an integer".to_owned()
                ),
                (
                    "exp".to_owned(),
                    Some(json!("1e3")),
                    "must be an integer".to_owned()
                ),
                (
                    "inf".to_owned(),
                    Some(json!("inf")),
                    "must be an integer".to_owned()
                ),
            ]
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
}
