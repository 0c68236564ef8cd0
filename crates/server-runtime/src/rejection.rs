//! Why a request is not accepted, as one typed value and the status it calls for: shared by the
//! header, body and form checks, so that each of them can refuse without knowing the others, and
//! the server implementation writes every refusal in its API's own error envelope.

use std::time::Duration;

use http::StatusCode;
use spec_schema::Violation;

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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The two rejections the table above leaves out: a framing the server will not decode and a
    /// body cut off on the way are the client's to fix, not a media type or a size.
    #[test]
    fn framing_and_unreadable_bodies_are_bad_requests() {
        let framing = Rejection::Framing {
            header: "Transfer-Encoding",
            message: "must be chunked alone: no other transfer coding is read",
        };
        let unreadable = Rejection::Unreadable {
            message: "connection reset".into(),
        };
        assert_eq!(framing.status(), StatusCode::BAD_REQUEST);
        assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            framing.to_string(),
            "the Transfer-Encoding header: must be chunked alone: no other transfer coding is read"
        );
        assert_eq!(
            unreadable.to_string(),
            "the body could not be read: connection reset"
        );
        assert_eq!(
            Rejection::TimedOut {
                after: Duration::from_millis(1500)
            }
            .to_string(),
            "the body did not arrive within 1.5 s"
        );
    }
}
