//! What the checks' unit tests share: an exchange with given headers, a failed outcome's
//! message.

use crate::exchange::Exchange;

use super::Outcome;

/// The message of a failed outcome.
pub(crate) fn message(outcome: Outcome) -> String {
    outcome.1.unwrap_err().message
}

/// A `405` answer to `GET http://127.0.0.1/x` with `headers` and no body.
pub(crate) fn exchange(headers: &[(&str, &str)]) -> Exchange {
    Exchange {
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
