//! Typed client of the Nexudus billing API, generated from `openapi/nexudus-billing.yaml`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // The reference server on a loopback port, as a stand-in for https://spaces.nexudus.com.
//! # let dir = tempfile::tempdir()?;
//! # let server = reference_server::Server::bind(reference_server::Config::loopback(
//! #     dir.path().join("example.sqlite3"),
//! # ))
//! # .await?
//! # .spawn();
//! # let base_url = server.base_url();
//! # let (username, password) = ("admin@example.com", "local-admin-password");
//! let client = nexudus_client::sign_in(base_url, username, password).await?;
//! let pass: nexudus_types::CoworkerTimePassCreate = nexudus_types::CoworkerTimePassCreate::builder()
//!     .coworker_id(1414201305u64)
//!     .business_id(1414201001u64)
//!     .time_pass_id(1414201122u64)
//!     .create_multiple(1u32)
//!     .notes("Welcome pack".parse::<nexudus_types::CoworkerTimePassCreateNotes>()?)
//!     .try_into()?;
//! let created = client.create_coworker_time_pass(&pass).await?;
//! let read = client.get_coworker_time_pass(created.value.id).await?;
//! assert_eq!(read.notes.as_deref(), Some("Welcome pack"));
//! # Ok(())
//! # }
//! ```
//!
//! A body is built with its type's builder (`X::builder()`, see [`nexudus_types`]), so that code
//! keeps compiling when the spec gains an optional property; the properties left unset are
//! left out of the JSON.
//!
//! [`sign_in`] signs in with a username and password at the token endpoint (`POST /api/token`,
//! OAuth 2.0's password grant) and returns a client whose requests carry the access token; it is
//! refreshed before it expires and once after a 401, and never printed ([`Session`]).
//!
//! The generated [`Client`] has one method per operation of the spec (typed path and query
//! parameters and body) and uses the types of [`nexudus_types`]; there is no second copy of any
//! type. [`authenticated`] builds one for a base URL and a ready bearer token, with TLS (rustls, its
//! crypto provider installed first) for real https hosts; the generated `Client::new`, which
//! would build a TLS client without a provider and panic, is not public, so [`DEFAULT_TIMEOUT`]
//! is the one timeout (connection and whole request alike). [`dispatch::call`] calls any
//! operation by its operationId with JSON arguments, through the same typed methods (what the
//! contract runner drives it with).
//!
//! Nexudus throttles each user, answering `409 Conflict` with `Retry-After` and no body. The
//! client waits those out and sends the request again, for as long as its
//! [`Behaviour::throttle_wait`] allows in all (60 s by default; zero turns it off); past it the
//! caller gets the 409 as `Error::UnexpectedResponse` (an operation has one error body type,
//! and the 409 has none), which [`ApiError::from`] makes [`ErrorKind::Throttled`];
//! [`ApiError::retry_after`] (or [`retry_after`]) says how long the server asked to wait.
//!
//! # Errors
//!
//! Each method returns progenitor's `Error<ErrorEnvelope>`; [`ApiError::from`] (or `?` in a
//! function returning [`ApiError`]) turns it into what a caller matches on: an [`ErrorKind`]
//! (`Refused` before sending, `Validation` for 400, `Unauthorized`, `Forbidden`, `NotFound`,
//! `Throttled` for Nexudus' 409, `PayloadTooLarge`, `Server`, `Transport`, ...), the envelope's
//! `Errors` ([`ApiError::errors`]) and a one-line `Display`.
//!
//! ```
//! # async fn example(client: &nexudus_client::Client) {
//! use nexudus_client::{ApiError, ErrorKind};
//!
//! let id = std::num::NonZeroU64::new(1414201305).unwrap();
//! match client.get_coworker_time_pass(id).await.map_err(ApiError::from) {
//!     Ok(pass) => println!("{:?}", pass.notes),
//!     Err(error) if error.kind() == ErrorKind::NotFound => println!("no such pass"),
//!     Err(error) if error.kind() == ErrorKind::Unauthorized => println!("sign in again"),
//!     Err(error) => {
//!         for entry in error.errors() {
//!             println!("{}: {}", entry.property_name, entry.message);
//!         }
//!     }
//! }
//! # }
//! ```
//!
//! # What is checked before a request is sent
//!
//! - The types hold what Rust can: required properties, ids of at least 1 (`NonZeroU64`),
//!   string lengths (`Notes` over 2000 characters is refused when the value is built, naming the
//!   property), enumerations, dates.
//! - A float field that is not finite (`NaN`, an infinity) cannot be serialised: JSON has no
//!   such number, and serde_json would otherwise write `null` and drop the value. The call fails
//!   with [`ErrorKind::Refused`] naming the property.
//! - Everything else the spec states about a JSON body (an id above `i64::MAX`, `CreateMultiple`
//!   over 100, a negative `Price`, patterns, formats) is checked against the spec's own schema,
//!   compiled by the same code as the server's validation, before the request is sent:
//!   [`ErrorKind::Refused`], with one `Errors` entry per property, worded as the server would.
//!   [`Behaviour::unchecked`] turns this off (to see how a server answers invalid requests).
//! - Path and query parameters are checked by the server only; the form body of the token
//!   endpoint too.
//!
//! # Features
//!
//! Both are on by default; `default-features = false` leaves them out of a build that only
//! calls the API:
//! - `validate`: the check against the spec before sending (it compiles the spec's schemas with
//!   `spec-schema` and `jsonschema`);
//! - `schemars`: `schemars::JsonSchema` on every type of [`nexudus_types`] (its own feature of
//!   that name), and `nexudus_types::component_schemas()`.
//!
//! # Versions
//!
//! What the public API exposes is re-exported, at the versions this crate uses:
//! [`nexudus_types`], [`chrono`], [`uuid`] and [`reqwest`] (for [`Client::new_with_client`] and
//! [`http_client_builder`]). The generated `types` module holds the types of query parameters
//! (a list's sort field, say), which the spec declares inline rather than as components.
//!
//! The code is in `generated.rs`, written by `cargo xtask codegen`; it is never edited by hand.

#[allow(missing_docs, clippy::all)]
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;

pub use error::{ApiError, ErrorKind};
pub use generated::*;
pub use session::{
    Session, SignIn, SignInError, TOKEN_PATH, sign_in, sign_in_with, sign_in_with_code,
};
// What the public API exposes, so that a downstream crate names it at the versions used here.
pub use nexudus_types::{self, chrono, uuid};
pub use progenitor_client::{ClientHooks, OperationInfo};
pub use reqwest;

#[cfg(feature = "validate")]
mod check;
mod error;
mod session;

use std::time::{Duration, Instant};

use progenitor_client::ClientInfo as _;

/// How long a request may take, connection included, before the client gives up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    /// The token cannot be sent in an HTTP header (it holds control characters).
    #[error("the bearer token is not a valid HTTP header value")]
    InvalidToken,
    /// The base URL is not an absolute http or https URL.
    #[error("the base URL `{0}` is not an absolute http(s) URL")]
    InvalidBaseUrl(String),
    /// reqwest could not build its client (TLS set-up).
    #[error("the HTTP client could not be built")]
    Http(#[source] reqwest::Error),
}

/// What a client does beyond sending each request once.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The longest one call may spend waiting out throttled answers (`409` with `Retry-After`
    /// in whole seconds), all its waits together; a wait that would go past it is not begun and
    /// the 409 is the call's answer. Zero never waits.
    pub throttle_wait: Duration,
    /// The signed-in user whose access token each request carries ([`sign_in`] sets it).
    pub session: Option<Session>,
    /// Check each JSON body against the spec's schema before sending it, and refuse one that
    /// breaks it ([`ErrorKind::Refused`], each property named) without a round trip. On by
    /// default; off for tools that send invalid requests on purpose, to see how a server
    /// answers them. Without the crate's `validate` feature (a default one) nothing is checked.
    pub check_requests: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            throttle_wait: Duration::from_secs(60),
            session: None,
            check_requests: true,
        }
    }
}

impl Behaviour {
    /// The default behaviour without [`Behaviour::check_requests`]: every request goes to the
    /// server as the caller built it.
    pub fn unchecked() -> Self {
        Self {
            check_requests: false,
            ..Self::default()
        }
    }
}

impl ClientHooks<Behaviour> for Client {
    #[cfg(feature = "validate")]
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        if !self.inner().check_requests {
            return Ok(());
        }
        match request.body().and_then(reqwest::Body::as_bytes) {
            Some(body) => check::body(info.operation_id, body).map_err(Error::InvalidRequest),
            None => Ok(()),
        }
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let Some(session) = &self.inner().session else {
            return self.send_waiting(request).await;
        };
        let mut request = request;
        let generation = session.authorize(&mut request).await?;
        let again = request.try_clone();
        let response = self.send_waiting(request).await?;
        // A token the server no longer takes (revoked, or the clock ran ahead of ours) is
        // renewed once.
        match again {
            Some(mut again) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                session.renew(generation).await?;
                session.authorize(&mut again).await?;
                self.send_waiting(again).await
            }
            _ => Ok(response),
        }
    }
}

impl Client {
    /// The signed-in user's session, for a client from [`sign_in`].
    pub fn session(&self) -> Option<&Session> {
        self.inner().session.as_ref()
    }

    /// Sends `request`, waiting out throttled answers within [`Behaviour::throttle_wait`].
    async fn send_waiting(&self, request: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        let deadline = Instant::now() + self.inner().throttle_wait;
        let mut request = request;
        loop {
            // A body that is a stream cannot be sent twice; every body this client sends is bytes.
            let again = request.try_clone();
            let response = self.client().execute(request).await?;
            if response.status() != reqwest::StatusCode::CONFLICT {
                return Ok(response);
            }
            let (Some(wait), Some(again)) = (header_seconds(response.headers()), again) else {
                return Ok(response);
            };
            if Instant::now() + wait > deadline {
                return Ok(response);
            }
            tokio::time::sleep(wait).await;
            request = again;
        }
    }
}

/// `Retry-After` as whole seconds (the form Nexudus sends; an HTTP date is not waited for).
fn header_seconds(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

/// How long the server asked to wait, for an error that is a throttled answer the client did not
/// wait out (its [`Behaviour::throttle_wait`] ran out, or was zero).
pub fn retry_after<E>(error: &Error<E>) -> Option<Duration> {
    match error {
        Error::ErrorResponse(response) if response.status() == reqwest::StatusCode::CONFLICT => {
            header_seconds(response.headers())
        }
        Error::UnexpectedResponse(response)
            if response.status() == reqwest::StatusCode::CONFLICT =>
        {
            header_seconds(response.headers())
        }
        _ => None,
    }
}

/// A client for the API at `base_url` (e.g. `https://spaces.nexudus.com`) that sends
/// `Authorization: Bearer <token>` with every request. The header is marked sensitive, so it
/// never shows up in debug output. It waits out throttling as [`Behaviour::default`] says.
pub fn authenticated(base_url: &str, token: &str) -> Result<Client, ClientBuildError> {
    authenticated_with(base_url, token, Behaviour::default())
}

/// [`authenticated`], with `behaviour`.
pub fn authenticated_with(
    base_url: &str,
    token: &str,
    behaviour: Behaviour,
) -> Result<Client, ClientBuildError> {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut authorization = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ClientBuildError::InvalidToken)?;
    authorization.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, authorization);
    client_with_headers(base_url, headers, behaviour)
}

/// A client for the API at `base_url` that sends the Nexudus `username` and `password` with
/// every request (`Authorization: Basic`, RFC 7617), as Nexudus accepts beside bearer tokens:
/// no sign-in, no token to refresh, the same roles. The header is marked sensitive, so it never
/// shows up in debug output. A user with two-factor sign-in cannot use it (the reference server
/// answers 401): [`SignIn`] is the way for them.
pub fn basic(
    base_url: &str,
    username: &str,
    password: &str,
    behaviour: Behaviour,
) -> Result<Client, ClientBuildError> {
    use base64::Engine as _;

    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut authorization = reqwest::header::HeaderValue::from_str(&format!("Basic {encoded}"))
        .expect("base64 is a valid header value");
    authorization.set_sensitive(true);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, authorization);
    client_with_headers(base_url, headers, behaviour)
}

/// A client for tools that check servers (the contract checks take it through [`API`]): it
/// sends what it is given, unchecked, with the bearer `token` if any, and waits out no throttled
/// answer, so that every answer reaches the tool as the server gave it.
pub fn unchecked_client(base_url: &str, token: Option<&str>) -> Result<Client, ClientBuildError> {
    let behaviour = Behaviour {
        throttle_wait: Duration::ZERO,
        ..Behaviour::unchecked()
    };
    match token {
        Some(token) => authenticated_with(base_url, token, behaviour),
        None => anonymous_with(base_url, behaviour),
    }
}

/// A client for the API at `base_url` that sends no credentials (to see how a server answers
/// anonymous requests).
pub fn anonymous(base_url: &str) -> Result<Client, ClientBuildError> {
    anonymous_with(base_url, Behaviour::default())
}

/// [`anonymous`], with `behaviour`.
pub fn anonymous_with(base_url: &str, behaviour: Behaviour) -> Result<Client, ClientBuildError> {
    client_with_headers(base_url, reqwest::header::HeaderMap::new(), behaviour)
}

fn client_with_headers(
    base_url: &str,
    headers: reqwest::header::HeaderMap,
    behaviour: Behaviour,
) -> Result<Client, ClientBuildError> {
    let base_url = checked_base_url(base_url)?;
    let http = http_client_builder()
        .default_headers(headers)
        .build()
        .map_err(ClientBuildError::Http)?;
    Ok(Client::new_with_client(base_url, http, behaviour))
}

/// `base_url` without a trailing `/`, if it is an absolute http(s) URL with a host.
fn checked_base_url(base_url: &str) -> Result<&str, ClientBuildError> {
    let base_url = base_url.trim_end_matches('/');
    let parsed = reqwest::Url::parse(base_url)
        .map_err(|_| ClientBuildError::InvalidBaseUrl(base_url.to_owned()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ClientBuildError::InvalidBaseUrl(base_url.to_owned()));
    }
    Ok(base_url)
}

/// A `reqwest` client builder with this crate's timeouts and TLS set up: for requests the typed
/// client cannot make (a malformed body, a wrong content type).
///
/// reqwest is built here without a default crypto provider (its default, aws-lc-rs, is a long C
/// build), so a bare `reqwest::Client::new()` would panic: this installs ring's provider once
/// per process. A provider the application installed earlier wins.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(DEFAULT_TIMEOUT)
        .timeout(DEFAULT_TIMEOUT)
        // Servers close idle connections (the reference server after 60 s by default, many
        // proxies after 60-75 s): a pooled connection kept longer could be reused just as the
        // server closes it, and fail a request that was never sent.
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
}

/// How long an idle pooled connection is kept: under the idle timeouts servers commonly use.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_path_is_the_specs_token_url() {
        let urls: Vec<_> = nexudus_server_api::SECURITY_SCHEMES
            .iter()
            .filter_map(|scheme| scheme.password_token_url)
            .collect();
        assert_eq!(urls, [TOKEN_PATH]);
    }

    /// A token endpoint that answers a token no header can carry (a newline in it) gets an error
    /// when signing in, not a panic on the first request.
    #[tokio::test]
    async fn a_token_that_cannot_be_a_header_is_refused_when_signing_in() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 4096];
            let _ = socket.read(&mut request).await;
            let body = r#"{"access_token":"a\nb","token_type":"bearer","expires_in":60,"refresh_token":"r"}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        match sign_in(&base_url, "user", "password").await {
            Err(SignInError::Unexpected { status: 200 }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn builds_for_http_and_https_hosts() {
        assert!(authenticated("https://spaces.nexudus.com", "token").is_ok());
        assert!(authenticated("http://127.0.0.1:8080/", "token").is_ok());
        assert!(anonymous("https://spaces.nexudus.com").is_ok());
    }

    #[test]
    fn refuses_bad_urls_and_tokens() {
        assert!(matches!(
            authenticated("ftp://example.com", "t"),
            Err(ClientBuildError::InvalidBaseUrl(_))
        ));
        assert!(matches!(
            authenticated("nexudus", "t"),
            Err(ClientBuildError::InvalidBaseUrl(_))
        ));
        assert!(matches!(
            authenticated("https://example.com", "a\nb"),
            Err(ClientBuildError::InvalidToken)
        ));
    }
}
