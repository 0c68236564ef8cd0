//! [`ApiError`]: what went wrong with a call, by kind, with the envelope's `Errors` and a
//! one-line `Display`, from the generated methods' `Error<ErrorEnvelope>`.

use std::{fmt, time::Duration};

use nexudus_types::{ErrorEnvelope, PropertyError};

use crate::Error;

/// What happened to a call that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Never sent: the request breaks the spec (a bound, a length, a pattern, a number JSON
    /// cannot write). [`ApiError::errors`] names each property, as the server would.
    Refused,
    /// 400: the server found the request invalid; [`ApiError::errors`] says why.
    Validation,
    /// 401: no credentials, or ones the server does not take.
    Unauthorized,
    /// 403: the user lacks the role the operation needs.
    Forbidden,
    /// 404: no record with that id.
    NotFound,
    /// 408: the request did not arrive in time.
    RequestTimeout,
    /// 409: throttled; [`ApiError::retry_after`] says how long the server asked to wait (the
    /// client waits it out first, within [`crate::Behaviour::throttle_wait`]).
    Throttled,
    /// 413: the body is larger than the server takes.
    PayloadTooLarge,
    /// 415: a content type or encoding the server does not take.
    UnsupportedMediaType,
    /// 5xx: the server failed.
    Server,
    /// An answer the spec does not document for the operation (another status, or a body that
    /// is not the documented one).
    UnexpectedResponse,
    /// The server could not be reached, or the answer not read (connection, TLS, timeout).
    Transport,
}

impl ErrorKind {
    /// The kind of an answer with `status`.
    fn of_status(status: u16) -> Self {
        match status {
            400 => Self::Validation,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            408 => Self::RequestTimeout,
            409 => Self::Throttled,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            500..=599 => Self::Server,
            _ => Self::UnexpectedResponse,
        }
    }
}

/// A failed call, from any method's `Error<ErrorEnvelope>` (`.map_err(ApiError::from)`, or `?`
/// in a function returning `ApiError`): match on [`ApiError::kind`], read the envelope's
/// [`ApiError::errors`]. `Display` is one line (the message's lines joined by `; `), without
/// headers or bodies.
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: ErrorKind,
    status: Option<u16>,
    message: String,
    errors: Vec<PropertyError>,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// What happened.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The error envelope's `Errors` (for [`ErrorKind::Refused`], the violations found before
    /// sending, with the value left out: the caller has it); empty when there is no envelope.
    pub fn errors(&self) -> &[PropertyError] {
        &self.errors
    }

    /// The envelope's `Message`, or what else describes the failure.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How long a throttled server asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    fn without_answer(kind: ErrorKind, message: String) -> Self {
        Self {
            kind,
            status: None,
            errors: if kind == ErrorKind::Refused {
                refusals(&message)
            } else {
                Vec::new()
            },
            message,
            retry_after: None,
        }
    }
}

/// `PropertyName: message` lines as entries (a line without a name is about the body).
fn refusals(message: &str) -> Vec<PropertyError> {
    message
        .lines()
        .map(|line| {
            let (property, message) = line.split_once(": ").unwrap_or(("", line));
            PropertyError {
                attempted_value: serde_json::Value::Null,
                message: message.to_owned(),
                property_name: property.to_owned(),
            }
        })
        .collect()
}

/// `error` and its sources, joined by `: ` (reqwest's own `Display` leaves the source out).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        text.push_str(": ");
        text.push_str(&next.to_string());
        source = next.source();
    }
    text
}

/// The innermost source of `error`: for a body that could not be serialised, serde's message.
fn innermost(error: &dyn std::error::Error) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

impl From<Error<ErrorEnvelope>> for ApiError {
    fn from(error: Error<ErrorEnvelope>) -> Self {
        let retry_after = crate::retry_after(&error);
        match error {
            Error::InvalidRequest(message) | Error::Custom(message) => {
                Self::without_answer(ErrorKind::Refused, message)
            }
            // reqwest's builder error is a body that could not be serialised: a float field
            // that is not finite, named by the types' serializer.
            Error::CommunicationError(error) if error.is_builder() => {
                Self::without_answer(ErrorKind::Refused, innermost(&error))
            }
            Error::CommunicationError(error)
            | Error::InvalidUpgrade(error)
            | Error::ResponseBodyError(error) => Self {
                status: error.status().map(|status| status.as_u16()),
                ..Self::without_answer(ErrorKind::Transport, chain(&error))
            },
            Error::ErrorResponse(answer) => {
                let status = answer.status().as_u16();
                let envelope = answer.into_inner();
                Self {
                    kind: ErrorKind::of_status(status),
                    status: Some(status),
                    message: envelope.message,
                    errors: envelope.errors,
                    retry_after,
                }
            }
            Error::InvalidResponsePayload(_, error) => Self::without_answer(
                ErrorKind::UnexpectedResponse,
                format!("the answer's body is not the one the spec documents: {error}"),
            ),
            // Nexudus' throttled answer has no body, so the client cannot decode it with the
            // others (one error type per operation): it arrives here.
            Error::UnexpectedResponse(answer)
                if answer.status() == reqwest::StatusCode::CONFLICT =>
            {
                let wait = retry_after.map_or_else(
                    || "no Retry-After".to_owned(),
                    |wait| format!("Retry-After {} s", wait.as_secs()),
                );
                Self {
                    status: Some(409),
                    retry_after,
                    ..Self::without_answer(
                        ErrorKind::Throttled,
                        format!("You must wait before accessing this url again ({wait})."),
                    )
                }
            }
            Error::UnexpectedResponse(answer) => {
                let status = answer.status().as_u16();
                Self {
                    kind: if answer.status().is_success() {
                        ErrorKind::UnexpectedResponse
                    } else {
                        ErrorKind::of_status(status)
                    },
                    status: Some(status),
                    retry_after,
                    ..Self::without_answer(
                        ErrorKind::UnexpectedResponse,
                        format!("{status}, an answer the spec does not document here"),
                    )
                }
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.lines().collect::<Vec<_>>().join("; ");
        match self.status {
            _ if self.kind == ErrorKind::Refused => write!(f, "refused before sending: {message}"),
            Some(status) => write!(f, "{status} ({:?}): {message}", self.kind),
            None => write!(f, "{:?}: {message}", self.kind),
        }
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_their_kinds() {
        let kinds = [
            (400, ErrorKind::Validation),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Forbidden),
            (404, ErrorKind::NotFound),
            (408, ErrorKind::RequestTimeout),
            (409, ErrorKind::Throttled),
            (413, ErrorKind::PayloadTooLarge),
            (415, ErrorKind::UnsupportedMediaType),
            (500, ErrorKind::Server),
            (503, ErrorKind::Server),
            (418, ErrorKind::UnexpectedResponse),
        ];
        for (status, kind) in kinds {
            assert_eq!(ErrorKind::of_status(status), kind, "{status}");
        }
    }

    #[test]
    fn a_refusal_lists_each_property_and_displays_on_one_line() {
        let error = ApiError::from(Error::<ErrorEnvelope>::InvalidRequest(
            "CreateMultiple: must be at most 100\nPrice: must be at least 0".into(),
        ));
        assert_eq!(error.kind(), ErrorKind::Refused);
        assert_eq!(error.status(), None);
        let names: Vec<_> = error
            .errors()
            .iter()
            .map(|error| (error.property_name.as_str(), error.message.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("CreateMultiple", "must be at most 100"),
                ("Price", "must be at least 0")
            ]
        );
        assert_eq!(
            error.to_string(),
            "refused before sending: CreateMultiple: must be at most 100; Price: must be at least 0"
        );
    }
}
