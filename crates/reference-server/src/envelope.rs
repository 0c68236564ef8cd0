//! Nexudus' error envelope: one `Errors` entry per problem, and `Message` listing them as
//! `PropertyName: message`, one per line.

use nexudus_server_api::{Rejection, Violation};
use nexudus_types::{ErrorEnvelope, PropertyError};
use serde_json::Value;

/// `PropertyName` of errors about the body as a whole (not JSON, too large, ...).
pub const BODY: &str = "$body";
/// `PropertyName` of authentication and authorization errors.
pub const AUTHORIZATION: &str = "Authorization";
/// `PropertyName` of a body sent with the wrong content type.
pub const CONTENT_TYPE: &str = "Content-Type";
/// `PropertyName` of a body sent with a content encoding.
pub const CONTENT_ENCODING: &str = "Content-Encoding";
/// `PropertyName` of failures on the server's side.
pub const SERVER: &str = "$server";

/// The envelope listing `errors`, in the given order.
pub fn envelope(errors: Vec<PropertyError>) -> ErrorEnvelope {
    ErrorEnvelope {
        message: message(&errors),
        errors,
        status: None,
        value: Value::Null,
        was_successful: false,
    }
}

/// `Message` for `errors`: `PropertyName: message`, one line each.
pub fn message(errors: &[PropertyError]) -> String {
    errors
        .iter()
        .map(|error| format!("{}: {}", error.property_name, error.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One entry.
pub fn error(property: &str, attempted: Value, message: impl Into<String>) -> PropertyError {
    PropertyError {
        attempted_value: attempted,
        message: message.into(),
        property_name: property.to_owned(),
    }
}

/// The envelope for a rejected body.
pub fn rejection(rejection: Rejection) -> ErrorEnvelope {
    let entry = |message: String| vec![error(BODY, Value::Null, message)];
    envelope(match rejection {
        Rejection::Invalid(violations) => violations.into_iter().map(violation).collect(),
        Rejection::UnsupportedMediaType {
            content_type,
            expected,
        } => vec![error(
            CONTENT_TYPE,
            content_type.map_or(Value::Null, Value::String),
            format!("must be {expected}"),
        )],
        Rejection::UnsupportedEncoding { content_encoding } => vec![error(
            CONTENT_ENCODING,
            Value::String(content_encoding),
            "must not be sent: the body is read as it is",
        )],
        // Never the values: one of them may be a token.
        Rejection::RepeatedHeader { name } => vec![error(name, Value::Null, "must be sent once")],
        Rejection::MissingHeader { name } => vec![error(name, Value::Null, "is a required header")],
        Rejection::Framing { header, message } => vec![error(header, Value::Null, message)],
        Rejection::TimedOut { after } => {
            entry(format!("did not arrive within {} s", after.as_secs_f64()))
        }
        Rejection::TooLarge { limit } => entry(format!("must be at most {limit} bytes")),
        Rejection::NotUtf8 { valid_up_to } => {
            entry(format!("is not valid UTF-8 (from byte {valid_up_to})"))
        }
        Rejection::MalformedJson { message } => entry(format!("is not valid JSON: {message}")),
        Rejection::MalformedForm { message } => entry(format!("is not valid form data: {message}")),
        Rejection::Unreadable { message } => entry(format!("could not be read: {message}")),
    })
}

fn violation(violation: Violation) -> PropertyError {
    error(
        &violation.property_name().unwrap_or_else(|| BODY.to_owned()),
        violation.value.unwrap_or(Value::Null),
        violation.message.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn message_lists_entries_in_order() {
        let envelope = envelope(vec![
            error("CoworkerId", Value::Null, "is a required field"),
            error("Price", json!(-1), "must be at least 0"),
        ]);
        assert_eq!(
            envelope.message,
            "CoworkerId: is a required field\nPrice: must be at least 0"
        );
        assert!(!envelope.was_successful);
        assert_eq!(envelope.value, Value::Null);
    }

    #[test]
    fn transport_rejections_name_the_body_or_header() {
        let wrong_type = rejection(Rejection::UnsupportedMediaType {
            content_type: Some("text/plain".into()),
            expected: "application/json",
        });
        assert_eq!(wrong_type.message, "Content-Type: must be application/json");
        assert_eq!(wrong_type.errors[0].attempted_value, "text/plain");
        let large = rejection(Rejection::TooLarge { limit: 10 });
        assert_eq!(large.message, "$body: must be at most 10 bytes");
    }
}
