//! Getting requests to the server under test and the raw responses back.
//!
//! Valid requests go through the generated client's typed method (its `dispatch`). To also see
//! the raw bytes (which the schema check needs and the typed client does not keep), that client
//! talks to a small recording proxy on loopback that forwards to the target. Requests the typed
//! method cannot represent (wrong types, missing fields, a parameter out of range) are sent as
//! they are through the generated client's own `reqwest::Client`, so they carry the same headers,
//! and the response is decoded with progenitor's `ResponseValue`, exactly as the generated client
//! decodes it.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use api_description::Operation;
use axum::{body::Body, extract::State, http::Request as HttpRequest, response::Response};
use bytes::Bytes;
use spec_strategies::{Request, parameter_text};

/// One request and its response, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The URL, with the path and query as sent.
    pub url: String,
    /// The request body that was sent.
    pub request_body: Bytes,
    /// The request's content type.
    pub content_type: Option<String>,
    /// Other request headers the case sent on purpose (a repeated header, an encoding), in order.
    pub headers: Vec<(String, String)>,
    /// The response status.
    pub status: u16,
    /// The response headers, names in lower case, in order.
    pub response_headers: Vec<(String, String)>,
    /// The response body.
    pub response_body: Bytes,
}

impl Exchange {
    /// The response body as JSON, if it is JSON.
    pub fn response_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.response_body).ok()
    }

    /// The values of the response header `name` (lower case).
    pub fn response_header(&self, name: &str) -> impl Iterator<Item = &str> {
        self.response_headers
            .iter()
            .filter(move |(found, _)| found == name)
            .map(|(_, value)| value.as_str())
    }
}

/// How a run meets a server's throttling, as the root `x-contract.throttled` describes it: an
/// answer with that status and its headers, and no body or one of its schema, is waited out for
/// the `Retry-After` seconds it asks and the request sent again, while the request's waits add up
/// to no more than `limit`. Any other answer, a throttled one missing its header or with another
/// body included, goes to the checks like every answer.
pub(crate) struct Patience {
    throttled: Option<Throttled>,
    limit: Duration,
    count: AtomicU64,
    waited_micros: AtomicU64,
    /// Requests in a row still throttled after their whole wait.
    exhausted: AtomicU64,
    /// Why the run stopped waiting, once it has.
    gave_up: Mutex<Option<String>>,
}

/// Requests in a row that may stay throttled after waiting their whole limit before the run
/// stops waiting out throttled answers: the throttle does not lift.
const EXHAUSTED_IN_A_ROW: u64 = 3;

/// The most bytes of a response body the run reads.
pub(crate) const BODY_LIMIT: usize = 16 << 20;

struct Throttled {
    status: u16,
    /// The schema of its body, when it may have one.
    body: Option<spec_schema::Validator>,
    headers: Vec<String>,
}

/// Whether `body` is one a throttled answer may have: none (as throttling APIs often send it), or
/// JSON of the schema `validator` checks, when the spec gives one.
pub(crate) fn throttled_body(validator: Option<&spec_schema::Validator>, body: &[u8]) -> bool {
    body.is_empty()
        || validator.is_some_and(|validator| {
            serde_json::from_slice(body).is_ok_and(|json| validator.is_valid(&json))
        })
}

impl Patience {
    /// Patience for the answer `throttled` (none: every answer is final), each request waiting at
    /// most `limit` in all.
    pub(crate) fn new(
        throttled: Option<(u16, Option<spec_schema::Validator>, Vec<String>)>,
        limit: Duration,
    ) -> Self {
        Self {
            throttled: throttled.map(|(status, body, headers)| Throttled {
                status,
                body,
                headers: headers.iter().map(|name| name.to_lowercase()).collect(),
            }),
            limit,
            count: AtomicU64::new(0),
            waited_micros: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
            gave_up: Mutex::new(None),
        }
    }

    /// Why the run stopped waiting out throttled answers, if it did.
    pub(crate) fn gave_up(&self) -> Option<String> {
        self.gave_up.lock().expect("not poisoned").clone()
    }

    /// How many answers were throttled and waited out, and the time spent waiting (summed over
    /// requests in flight).
    pub(crate) fn waited(&self) -> (u64, Duration) {
        (
            self.count.load(Ordering::Relaxed),
            Duration::from_micros(self.waited_micros.load(Ordering::Relaxed)),
        )
    }

    /// Sends `request`, again after each throttled answer it may wait out.
    pub(crate) async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, String> {
        let mut waited = Duration::ZERO;
        loop {
            let again = request.try_clone();
            let response = request.send().await.map_err(|error| error.to_string())?;
            let Some(throttled) = &self.throttled else {
                return Ok(response);
            };
            if response.status().as_u16() != throttled.status {
                self.exhausted.store(0, Ordering::Relaxed);
                return Ok(response);
            }
            let status = response.status();
            let headers = response.headers().clone();
            let body = body_of(response).await?;
            let wait = headers
                .get(http::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let well_formed = throttled
                .headers
                .iter()
                .all(|name| headers.contains_key(name.as_str()))
                && throttled_body(throttled.body.as_ref(), &body);
            let patient = self.gave_up.lock().expect("not poisoned").is_none();
            match (wait, again) {
                (Some(wait), Some(again))
                    if patient && well_formed && waited + wait <= self.limit =>
                {
                    self.count.fetch_add(1, Ordering::Relaxed);
                    self.waited_micros
                        .fetch_add(wait.as_micros() as u64, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                    waited += wait;
                    request = again;
                }
                _ => {
                    if patient && well_formed && wait.is_some() {
                        self.exhausted_one();
                    }
                    let mut answer = http::Response::new(body);
                    *answer.status_mut() = status;
                    *answer.headers_mut() = headers;
                    return Ok(reqwest::Response::from(answer));
                }
            }
        }
    }
}

impl Patience {
    /// A request stayed throttled after its whole wait: after a few in a row, the run stops
    /// waiting.
    fn exhausted_one(&self) {
        if self.exhausted.fetch_add(1, Ordering::Relaxed) + 1 >= EXHAUSTED_IN_A_ROW {
            let mut gave_up = self.gave_up.lock().expect("not poisoned");
            if gave_up.is_none() {
                *gave_up = Some(format!(
                    "{EXHAUSTED_IN_A_ROW} requests in a row were still throttled after waiting \
                     {:.0?} each: every later throttled answer counted as the request's answer",
                    self.limit
                ));
            }
        }
    }
}

/// A response's body, read up to [`BODY_LIMIT`] bytes: a longer one is an error.
pub(crate) async fn body_of(mut response: reqwest::Response) -> Result<Bytes, String> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| error.to_string())? {
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(format!(
                "the answer's body is over {} MiB: the run read no more of it",
                BODY_LIMIT >> 20
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A header map as (lower-case name, value) pairs, values that are not text made lossy.
fn pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// `request`'s header parameters as sent, in the order of their names.
pub(crate) fn headers(request: &Request) -> Vec<(String, String)> {
    request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), parameter_text(value)))
        .collect()
}

/// The URL of `operation` at `base_url` with `request`'s path and query parameters, each
/// percent-encoded as one path segment or one query value.
pub(crate) fn url(base_url: &str, operation: &Operation, request: &Request) -> String {
    let mut path = String::new();
    let mut rest = operation.path;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let text = request
            .path
            .get(name)
            .map(parameter_text)
            .unwrap_or_default();
        path.extend(
            form_urlencoded::byte_serialize(text.as_bytes()).map(|part| {
                // A path segment keeps spaces as %20: `+` is literal there.
                if part == "+" { "%20" } else { part }
            }),
        );
        rest = &rest[open + close + 1..];
    }
    path.push_str(rest);
    let mut url = format!("{}{path}", base_url.trim_end_matches('/'));
    if !request.query.is_empty() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &request.query {
            query.append_pair(name, &parameter_text(value));
        }
        url.push('?');
        url.push_str(&query.finish());
    }
    url
}

/// A loopback proxy that forwards every request to `target` and remembers the last exchange.
pub(crate) struct RecordingProxy {
    pub(crate) base_url: String,
    target: String,
    last: Arc<Mutex<Option<Recorded>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// What the proxy saw of one request: the exchange, or why the target gave no answer.
type Recorded = Result<Exchange, String>;

struct ProxyState {
    target: String,
    http: reqwest::Client,
    last: Arc<Mutex<Option<Recorded>>>,
    patience: Arc<Patience>,
}

impl RecordingProxy {
    pub(crate) async fn start(target: &str, patience: Arc<Patience>) -> std::io::Result<Self> {
        let last = Arc::new(Mutex::new(None));
        let target = target.trim_end_matches('/').to_owned();
        let state = Arc::new(ProxyState {
            target: target.clone(),
            http: http_client(None).map_err(std::io::Error::other)?,
            last: Arc::clone(&last),
            patience,
        });
        let router = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            base_url,
            target,
            last,
            shutdown: Some(shutdown),
        })
    }

    /// The exchange recorded since the last call, with the target's URL, or why the target did
    /// not answer.
    pub(crate) fn take(&self) -> Option<Recorded> {
        let recorded = self.last.lock().expect("not poisoned").take()?;
        Some(recorded.map(|exchange| Exchange {
            url: format!("{}{}", self.target, exchange.url),
            ..exchange
        }))
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn forward(State(state): State<Arc<ProxyState>>, request: HttpRequest<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut outgoing = state
        .http
        .request(parts.method.clone(), format!("{}{path}", state.target))
        .body(body.clone());
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let answered = match state.patience.send(outgoing).await {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            body_of(response).await.map(|body| (status, headers, body))
        }
        Err(error) => Err(error),
    };
    let (status, headers, response_body) = match answered {
        Ok(answered) => answered,
        Err(error) => {
            *state.last.lock().expect("not poisoned") =
                Some(Err(format!("the request failed: {error}")));
            let mut response = Response::new(Body::from(format!("contract proxy: {error}")));
            *response.status_mut() = http::StatusCode::BAD_GATEWAY;
            return response;
        }
    };
    *state.last.lock().expect("not poisoned") = Some(Ok(Exchange {
        method: parts.method.to_string(),
        url: path,
        request_body: body,
        content_type,
        headers: Vec::new(),
        status: status.as_u16(),
        response_headers: pairs(&headers),
        response_body: response_body.clone(),
    }));
    let mut response = Response::new(Body::from(response_body));
    *response.status_mut() = status;
    if let Some(content_type) = headers.get(http::header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, content_type.clone());
    }
    response
}

/// How long a request may take, connection included.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// How long an idle pooled connection is kept: under the idle timeouts servers commonly use (the
/// reference server closes one after 60 s, many proxies after 60 to 75 s), so that a request is
/// never sent on a connection the server is closing.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// An HTTP client for the target that sends `Authorization: Bearer` with `token` (none:
/// anonymous), with TLS for real https hosts: reqwest is built without a crypto provider (its
/// default one is a long C build), so ring's is installed first; one the application installed
/// earlier wins.
pub(crate) fn http_client(token: Option<&str>) -> Result<reqwest::Client, String> {
    authorized_client(token.map(|token| format!("Bearer {token}")).as_deref())
}

/// [`http_client`] with `authorization` (a whole header value) on every request.
pub(crate) fn authorized_client(authorization: Option<&str>) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(authorization) = authorization {
        let mut value = reqwest::header::HeaderValue::from_str(authorization)
            .map_err(|_| "the credentials cannot be sent in a header".to_owned())?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .pool_idle_timeout(POOL_IDLE)
        .build()
        .map_err(|error| error.to_string())
}

/// Sends `body` as it is to `method url` with `client` (and so its credentials). A request without a body is sent without one, and without a content type.
///
/// `headers` are added as they are, after the content type (a second `Content-Type` is sent as a
/// second header).
///
/// A throttled answer is waited out as `patience` says.
///
/// With `last_on_connection`, the request asks the server to close the connection after its
/// answer: for a request a server may answer before reading its body (refused credentials, an
/// oversize body or a wrong content type), after which the connection is of no more use, and a
/// pooled client that tried it again would fail the next request instead.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_raw(
    client: &reqwest::Client,
    patience: &Patience,
    method: &str,
    url: String,
    content_type: Option<&str>,
    body: Option<Bytes>,
    headers: &[(String, String)],
    last_on_connection: bool,
) -> Result<Exchange, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = client
        .request(method.clone(), &url)
        .header(http::header::ACCEPT, "application/json");
    if last_on_connection {
        request = request.header(http::header::CONNECTION, "close");
    }
    if let Some(body) = &body {
        request = request.body(body.clone());
    }
    if let Some(content_type) = content_type {
        request = request.header(http::header::CONTENT_TYPE, content_type);
    }
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = patience.send(request).await?;
    let status = response.status().as_u16();
    let response_headers = pairs(response.headers());
    let response_body = body_of(response).await?;
    Ok(Exchange {
        method: method.to_string(),
        url,
        request_body: body.unwrap_or_default(),
        content_type: content_type.map(str::to_owned),
        headers: headers.to_vec(),
        status,
        response_headers,
        response_body,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn urls_carry_every_parameter_encoded() {
        let operation = Operation {
            operation_id: "x",
            method: "GET",
            path: "/things/{id}/parts/{part}",
            parameters: &[],
            request_schema: None,
            request_format: api_description::BodyFormat::Json,
            security: &[],
            responses: &[],
            contract: "null",
        };
        let request = Request {
            path: json!({"id": 7, "part": "a b/c"})
                .as_object()
                .unwrap()
                .clone(),
            query: json!({"q": "x&y=+1", "n": 2, "b": true})
                .as_object()
                .unwrap()
                .clone(),
            headers: serde_json::Map::new(),
            body: None,
        };
        assert_eq!(
            url("http://h:1/", &operation, &request),
            "http://h:1/things/7/parts/a%20b%2Fc?b=true&n=2&q=x%26y%3D%2B1"
        );
    }
}
