//! Getting requests to the server under test and the raw responses back.
//!
//! Valid payloads go through the generated client's typed method. To also see the raw bytes
//! (which the schema check needs and the typed client does not keep), that client talks to a
//! small recording proxy on loopback that forwards to the target. Payloads the typed request
//! cannot represent (wrong types, missing fields, not an object) are sent as raw JSON through
//! the generated client's own `reqwest::Client`, so they carry the same headers, and the
//! response is decoded with progenitor's `ResponseValue`, exactly as the generated client
//! decodes it.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{body::Body, extract::State, http::Request, response::Response};
use bytes::Bytes;
use nexudus_client::ClientInfo;
use serde::de::DeserializeOwned;

/// One request and its response, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The request body that was sent.
    pub request_body: Bytes,
    /// The request's content type.
    pub content_type: Option<String>,
    /// The response status.
    pub status: u16,
    /// The response body.
    pub response_body: Bytes,
}

impl Exchange {
    /// The response body as JSON, if it is JSON.
    pub fn response_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.response_body).ok()
    }
}

/// A loopback proxy that forwards every request to `target` and remembers the last exchange.
pub(crate) struct RecordingProxy {
    pub(crate) base_url: String,
    last: Arc<Mutex<Option<Exchange>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

struct ProxyState {
    target: String,
    http: reqwest::Client,
    last: Arc<Mutex<Option<Exchange>>>,
}

impl RecordingProxy {
    pub(crate) async fn start(target: &str) -> std::io::Result<Self> {
        let last = Arc::new(Mutex::new(None));
        let state = Arc::new(ProxyState {
            target: target.trim_end_matches('/').to_owned(),
            http: nexudus_client::http_client_builder()
                .build()
                .map_err(std::io::Error::other)?,
            last: Arc::clone(&last),
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
            last,
            shutdown: Some(shutdown),
        })
    }

    /// The exchange recorded since the last call.
    pub(crate) fn take(&self) -> Option<Exchange> {
        self.last.lock().expect("not poisoned").take()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
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
    let (status, headers, response_body) = match outgoing.send().await {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            (status, headers, response.bytes().await.unwrap_or_default())
        }
        Err(error) => (
            http::StatusCode::BAD_GATEWAY,
            http::HeaderMap::new(),
            Bytes::from(format!("contract proxy: {error}")),
        ),
    };
    *state.last.lock().expect("not poisoned") = Some(Exchange {
        request_body: body,
        content_type,
        status: status.as_u16(),
        response_body: response_body.clone(),
    });
    let mut response = Response::new(Body::from(response_body));
    *response.status_mut() = status;
    if let Some(content_type) = headers.get(http::header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, content_type.clone());
    }
    response
}

/// Sends `body` as it is to `method path` with the generated client's own HTTP client (and so
/// its credentials).
pub(crate) async fn send_raw(
    client: &nexudus_client::Client,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Exchange, reqwest::Error> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = client
        .client()
        .request(method, format!("{}{path}", client.baseurl()))
        .header(http::header::ACCEPT, "application/json")
        .body(body.clone());
    if let Some(content_type) = content_type {
        request = request.header(http::header::CONTENT_TYPE, content_type);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let response_body = response.bytes().await?;
    Ok(Exchange {
        request_body: body,
        content_type: content_type.map(str::to_owned),
        status,
        response_body,
    })
}

/// Decodes a recorded response into `T` with progenitor's `ResponseValue`, the routine the
/// generated client uses for every documented status.
pub(crate) async fn decode_as_client<T: DeserializeOwned>(
    exchange: &Exchange,
) -> Result<T, String> {
    let response = http::Response::builder()
        .status(exchange.status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(exchange.response_body.clone())
        .map_err(|error| error.to_string())?;
    progenitor_client::ResponseValue::<T>::from_response::<()>(reqwest::Response::from(response))
        .await
        .map(progenitor_client::ResponseValue::into_inner)
        .map_err(|error| error.to_string())
}
