//! A local server that answers every operation of the CoworkerTimePass resource (create, read,
//! list, update, delete under `/api/billing/coworkertimepasses`) the way the Nexudus
//! documentation says the real one does, so that client code and the contract suite have a real
//! peer.
//!
//! It implements the generated [`nexudus_server_api::NexudusBillingApi`] trait ([`api`]); routes,
//! statuses, parameter and body checks and validation against the spec all come from the
//! generated router.
//! What is added here: users with roles, static bearer tokens and passwords ([`users`]), the
//! token endpoint's tokens, stored as digests ([`tokens`]), Nexudus' error envelope
//! ([`envelope`]) for every answer, also those no operation documents (an unknown path, a wrong
//! method, a repeated header), durable SQLite storage ([`store`]), connections with timeouts, a
//! cap and a stop deadline ([`transport`]), per-user request limits answered 409 with
//! `Retry-After` ([`throttle`], off by default) and one log line per request.

pub mod api;
pub mod basic;
pub mod envelope;
pub mod sign_in;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod transport;
pub mod users;

use std::{
    future::Future,
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Instant, SystemTime},
};

use axum::{
    Json,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{StatusCode, header};
use nexudus_server_api::Credentials;
use serde_json::Value;

use crate::{
    api::ReferenceApi,
    store::Store,
    throttle::Throttle,
    tokens::{Callers, Tokens},
    users::Users,
};
pub use crate::{throttle::ThrottlePolicy, tokens::TokenLifetimes, transport::Limits};

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The SQLite database file.
    pub database: PathBuf,
    /// Who may call.
    pub users: Users,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// Timeouts, the connection cap and the stop deadline.
    pub limits: Limits,
    /// Per-user request limits (none by default).
    pub throttle: ThrottlePolicy,
    /// How long the token endpoint's tokens are valid.
    pub tokens: TokenLifetimes,
}

impl Config {
    /// A server on an ephemeral loopback port (`127.0.0.1:0`) with the built-in users and every
    /// other setting at its default, storing in `database`: what tests, examples and local
    /// contract runs start. Change a field with `Config { users, ..Config::loopback(path) }`.
    pub fn loopback(database: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database,
            users: Users::builtin(),
            body_limit: nexudus_server_api::DEFAULT_BODY_LIMIT,
            limits: Limits::default(),
            throttle: ThrottlePolicy::default(),
            tokens: TokenLifetimes::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The built-in users' tokens are public, so they are for loopback only.
    #[error(
        "refusing to listen on {0} with the built-in users, whose tokens are public: \
         pass --users FILE, or listen on a loopback address"
    )]
    BuiltinUsersBeyondLoopback(SocketAddr),
    /// The database could not be opened.
    #[error("cannot open the database {path}")]
    Store {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: store::StoreError,
    },
    /// The spec's schemas did not compile.
    #[error("the spec's schemas do not compile")]
    Schema(#[from] nexudus_server_api::SchemaError),
    /// The address could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A bound, not yet serving, server.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    store: Arc<Store>,
    limits: Limits,
}

impl Server {
    /// Opens the database and binds the address.
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        if config.users.is_builtin() && !config.listen.ip().is_loopback() {
            return Err(StartError::BuiltinUsersBeyondLoopback(config.listen));
        }
        let store = Store::open(&config.database).map_err(|source| StartError::Store {
            path: config.database.display().to_string(),
            source,
        })?;
        let store = Arc::new(store);
        let tokens =
            Tokens::open(&config.database, config.tokens).map_err(|source| StartError::Store {
                path: config.database.display().to_string(),
                source,
            })?;
        let callers = Callers {
            users: config.users,
            tokens: Arc::new(tokens),
            basic: Arc::default(),
        };
        let throttled = (!config.throttle.is_off()).then(|| {
            Arc::new(Throttled {
                callers: callers.clone(),
                throttle: Throttle::new(config.throttle.clone()),
            })
        });
        let api = ReferenceApi::new(callers, Arc::clone(&store), config.body_limit);
        let mut router = nexudus_server_api::router(Arc::new(api))?;
        if let Some(throttled) = throttled {
            router = router.layer(axum::middleware::from_fn_with_state(throttled, throttle));
        }
        let router = router
            .layer(axum::middleware::from_fn(read_strictly))
            .layer(axum::middleware::from_fn(log_request));
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                address: config.listen,
                source,
            })?;
        Ok(Self {
            listener,
            router,
            store,
            limits: config.limits,
        })
    }

    /// The address actually bound (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The database the server writes to.
    pub fn store(&self) -> Arc<Store> {
        Arc::clone(&self.store)
    }

    /// Serves in the background of the current tokio runtime until the handle is dropped: for
    /// tests and tools that run the server in-process.
    pub fn spawn(self) -> RunningServer {
        let base_url = format!("http://{}", self.local_addr());
        let store = self.store();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(self.serve(async {
            let _ = stopped.await;
        }));
        RunningServer {
            base_url,
            store,
            _shutdown: shutdown,
        }
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight within the stop
    /// deadline ([`Limits::shutdown_deadline`]) and closes every connection.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        transport::serve(self.listener, self.router, self.limits, shutdown).await;
    }
}

/// A server started by [`Server::spawn`]; dropping it shuts the server down gracefully.
#[derive(Debug)]
pub struct RunningServer {
    base_url: String,
    store: Arc<Store>,
    /// Never sent on: dropping it ends the server's wait for a stop signal.
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl RunningServer {
    /// `http://<address>` of the server.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The database the server writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The request's head read strictly before routing ([`nexudus_server_api::check_headers`]), and
/// the router's own bare answers (an unknown path, a method the path does not have) given the
/// error envelope, `Allow` kept.
async fn read_strictly(request: Request, next: Next) -> Response {
    if let Err(rejection) = nexudus_server_api::check_headers(request.version(), request.headers())
    {
        let status = rejection.status();
        let mut response = (status, Json(envelope::rejection(rejection))).into_response();
        // The body, if any, is left unread.
        response
            .headers_mut()
            .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
        return response;
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let entry = match response.status() {
        _ if response.headers().contains_key(header::CONTENT_TYPE) => return response,
        StatusCode::NOT_FOUND => {
            envelope::error("$path", Value::String(path), "matches no operation")
        }
        StatusCode::METHOD_NOT_ALLOWED => envelope::error(
            "$method",
            Value::String(method),
            "is not one this path has (see Allow)",
        ),
        _ => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = Json(envelope::envelope(vec![entry]));
    (parts, body).into_response()
}

/// The throttle and who it counts for.
struct Throttled {
    callers: Callers,
    throttle: Throttle,
}

/// Counts every request of a known user against the throttle's limits (writes: `POST`, `PUT`,
/// `PATCH`, `DELETE`) before it is routed, and answers one over a limit as Nexudus does
/// ([`throttle::answer`]), having read and changed nothing. A request without known credentials is left to
/// the router's 401: it has no user to count against; so is one to an operation without
/// security (signing in), which answers for no user.
async fn throttle(State(state): State<Arc<Throttled>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let open = nexudus_server_api::OPERATIONS
        .iter()
        .any(|operation| operation.path == path && operation.security.is_empty());
    // Basic credentials count once they were verified (their first request, not yet, is
    // answered by the router, which verifies them).
    let user = match nexudus_server_api::credentials(request.headers()) {
        Ok(Credentials::Bearer(token)) => state.callers.find(token, SystemTime::now()).ok(),
        Ok(Credentials::Basic { username, password }) => {
            state.callers.verified_basic(&username, &password)
        }
        Err(_) => None,
    };
    let Some(user) = user.filter(|_| !open) else {
        return next.run(request).await;
    };
    let write = matches!(
        *request.method(),
        http::Method::POST | http::Method::PUT | http::Method::PATCH | http::Method::DELETE
    );
    let Err(wait) = state.throttle.admit(&user.email, write, Instant::now()) else {
        return next.run(request).await;
    };
    throttle::answer(wait)
}

/// One line per request: method, path, status, latency. Never headers, so never a token.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
