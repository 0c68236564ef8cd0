//! A run's requests sent again without any check: the baseline a run's throughput is measured
//! against (`cargo xtask bench`). A run keeps the log when [`crate::Options::log_requests`]
//! asks for it: every request it sent (set-ups, cases, reads back, shrinking), in the order they
//! were answered.

use bytes::Bytes;
use futures_util::{StreamExt, stream};

use crate::options::ContractError;

/// One request a run sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The method.
    pub method: String,
    /// The path and query, as sent.
    pub path_and_query: String,
    /// The content type, if one was sent.
    pub content_type: Option<String>,
    /// Other headers sent on purpose, in order (after the content type).
    pub headers: Vec<(String, String)>,
    /// The body (empty when none was sent).
    pub body: Bytes,
    /// The bearer token it was sent with, if any.
    pub token: Option<String>,
    /// Whether it is sent as its connection's last request: the server answered it before
    /// reading its body.
    pub last_on_connection: bool,
}

/// Sends `payloads` to the server at `base_url`, `concurrency` at a time, as they are, and
/// checks nothing. Returns the statuses, in order.
pub async fn replay(
    base_url: &str,
    payloads: &[Payload],
    concurrency: usize,
) -> Result<Vec<u16>, ContractError> {
    let client = crate::exchange::http_client(None).map_err(ContractError::Replay)?;
    let client = &client;
    let base_url = base_url.trim_end_matches('/');
    stream::iter(payloads)
        .map(|payload| async move {
            let method = reqwest::Method::from_bytes(payload.method.as_bytes())
                .map_err(|error| error.to_string())?;
            let mut request = client
                .request(method, format!("{base_url}{}", payload.path_and_query))
                .header(http::header::ACCEPT, "application/json");
            if let Some(token) = &payload.token {
                request = request.bearer_auth(token);
            }
            if payload.last_on_connection {
                request = request.header(http::header::CONNECTION, "close");
            }
            if let Some(content_type) = &payload.content_type {
                request = request.header(http::header::CONTENT_TYPE, content_type);
            }
            for (name, value) in &payload.headers {
                request = request.header(name, value);
            }
            if !payload.body.is_empty() {
                request = request.body(payload.body.clone());
            }
            let response = request.send().await.map_err(|error| error.to_string())?;
            let status = response.status().as_u16();
            response.bytes().await.map_err(|error| error.to_string())?;
            Ok::<_, String>(status)
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(ContractError::Replay)
}
