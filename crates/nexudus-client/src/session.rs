//! Signing in: OAuth 2.0's password grant at the token endpoint, and a [`Session`] that keeps the
//! access token, refreshes it before it expires (or once after a 401) and signs in again when
//! the refresh token no longer works. Every grant names its client in the `client_id` header
//! (the username unless [`SignIn::client_id`] gives one): the server keeps one refresh token per
//! user and client, and the refresh grant must name the client it was issued to. No token or password is ever printed: [`Session`]'s
//! `Debug` shows the username alone, and the `Authorization` header is marked sensitive.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use nexudus_types::{TokenError, TokenGranted};

use crate::{
    Behaviour, Client, ClientBuildError, checked_base_url, client_with_headers, http_client_builder,
};

/// The token endpoint's path: the spec's `tokenUrl` (a test holds them equal).
pub const TOKEN_PATH: &str = "/api/token";

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The client could not be built.
    #[error(transparent)]
    Build(#[from] ClientBuildError),
    /// The token endpoint could not be reached, or its answer not read.
    #[error("the token endpoint could not be reached")]
    Http(#[source] reqwest::Error),
    /// The server refused the grant (`invalid_grant` for a wrong username or password).
    #[error("the server refused to sign in: {} ({})", .0.error, .0.error_description.as_deref().unwrap_or("no description"))]
    Refused(TokenError),
    /// The answer is neither a token nor an OAuth error.
    #[error(
        "the token endpoint answered {status} with a body that is neither a token nor an OAuth error"
    )]
    Unexpected {
        /// The status.
        status: u16,
    },
}

/// A signed-in user: the credentials and the current tokens, shared by the clones of a client.
#[derive(Clone)]
pub struct Session(Arc<State>);

/// The current code of a user's second factor (RFC 6238), asked for at each password grant.
type Code = Box<dyn Fn() -> String + Send + Sync>;

/// Who signs in, and where.
struct Credentials {
    token_url: String,
    username: String,
    password: String,
    /// For a user with two-factor sign-in.
    code: Option<Code>,
    /// The `client_id` every grant names.
    client_id: String,
    http: reqwest::Client,
}

struct State {
    credentials: Credentials,
    current: tokio::sync::Mutex<Current>,
}

struct Current {
    granted: TokenGranted,
    /// `Bearer <access token>`, marked sensitive.
    authorization: reqwest::header::HeaderValue,
    /// When to refresh: a tenth of the lifetime (at most five minutes) before it ends.
    refresh_at: Instant,
    /// How many times the tokens were replaced, so that requests that met the same 401 renew
    /// them once.
    generation: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("username", &self.0.credentials.username)
            .finish_non_exhaustive()
    }
}

/// The header naming the client a grant is for.
const CLIENT_ID: &str = "client_id";

/// Sends a grant to the token endpoint: the tokens, or why not.
async fn grant(
    credentials: &Credentials,
    pairs: &[(&str, &str)],
) -> Result<TokenGranted, SignInError> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let response = credentials
        .http
        .post(&credentials.token_url)
        .header(CLIENT_ID, &credentials.client_id)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(SignInError::Http)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(SignInError::Http)?;
    let unexpected = SignInError::Unexpected {
        status: status.as_u16(),
    };
    if status.is_success() {
        // A token that cannot go in a header (a control character) is no token this client can
        // use: refused here rather than failing each request.
        serde_json::from_slice::<TokenGranted>(&bytes)
            .ok()
            .filter(|granted| bearer(granted).is_some())
            .ok_or(unexpected)
    } else {
        Err(serde_json::from_slice(&bytes).map_or(unexpected, SignInError::Refused))
    }
}

/// The `Authorization` value for `granted`'s access token, marked sensitive.
fn bearer(granted: &TokenGranted) -> Option<reqwest::header::HeaderValue> {
    let mut value =
        reqwest::header::HeaderValue::from_str(&format!("Bearer {}", *granted.access_token))
            .ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl Current {
    /// `None` for a token that cannot go in a header (which `grant` refuses).
    fn new(granted: TokenGranted, generation: u64) -> Option<Self> {
        let lifetime = Duration::from_secs(granted.expires_in.get());
        let early = (lifetime / 10).min(Duration::from_secs(300));
        Some(Self {
            authorization: bearer(&granted)?,
            granted,
            refresh_at: Instant::now() + lifetime - early,
            generation,
        })
    }
}

impl Credentials {
    /// The password grant: the credentials, and the second factor's code of the moment.
    async fn password_grant(&self) -> Result<TokenGranted, SignInError> {
        let code = self.code.as_ref().map(|code| code());
        let mut pairs = vec![
            ("grant_type", "password"),
            ("username", self.username.as_str()),
            ("password", self.password.as_str()),
        ];
        if let Some(code) = &code {
            pairs.push(("totp", code));
        }
        grant(self, &pairs).await
    }
}

impl Session {
    /// Signs in as `sign_in` says.
    async fn start(sign_in: SignIn) -> Result<Self, SignInError> {
        let base_url = checked_base_url(&sign_in.base_url)?;
        let http = http_client_builder()
            .build()
            .map_err(ClientBuildError::Http)?;
        let credentials = Credentials {
            token_url: format!("{}{TOKEN_PATH}", base_url.trim_end_matches('/')),
            client_id: sign_in
                .client_id
                .unwrap_or_else(|| sign_in.username.clone()),
            username: sign_in.username,
            password: sign_in.password,
            code: sign_in.code,
            http,
        };
        let granted = credentials.password_grant().await?;
        let current = Current::new(granted, 0).ok_or(SignInError::Unexpected { status: 200 })?;
        Ok(Self(Arc::new(State {
            credentials,
            current: tokio::sync::Mutex::new(current),
        })))
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.0.credentials.username
    }

    /// The current access token, refreshed first if it is about to expire.
    pub async fn access_token(&self) -> reqwest::Result<String> {
        let mut current = self.0.current.lock().await;
        if Instant::now() >= current.refresh_at {
            self.replace(&mut current).await?;
        }
        Ok(current.granted.access_token.to_string())
    }

    /// Puts the current access token on `request`; the tokens' generation.
    pub(crate) async fn authorize(&self, request: &mut reqwest::Request) -> reqwest::Result<u64> {
        let mut current = self.0.current.lock().await;
        if Instant::now() >= current.refresh_at {
            self.replace(&mut current).await?;
        }
        request.headers_mut().insert(
            reqwest::header::AUTHORIZATION,
            current.authorization.clone(),
        );
        Ok(current.generation)
    }

    /// New tokens after a 401 met with generation `seen`, unless another request renewed them
    /// since.
    pub(crate) async fn renew(&self, seen: u64) -> reqwest::Result<()> {
        let mut current = self.0.current.lock().await;
        if current.generation == seen {
            self.replace(&mut current).await?;
        }
        Ok(())
    }

    /// The refresh grant, or when it is refused the password grant again. A grant the server
    /// refuses leaves the tokens as they are, and the request meets the server's 401.
    async fn replace(&self, current: &mut Current) -> reqwest::Result<()> {
        let state = &self.0.credentials;
        let refreshed = grant(
            state,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &current.granted.refresh_token),
            ],
        )
        .await;
        let granted = match refreshed {
            Ok(granted) => Ok(granted),
            Err(SignInError::Http(error)) => return Err(error),
            Err(_) => state.password_grant().await,
        };
        let generation = current.generation + 1;
        match granted.map(|granted| Current::new(granted, generation)) {
            Ok(Some(next)) => *current = next,
            Err(SignInError::Http(error)) => return Err(error),
            Ok(None) | Err(_) => current.generation = generation,
        }
        Ok(())
    }
}

/// How to sign in: a username and password, and what else the user or the application needs
/// (a second factor's code, a client of its own, a [`Behaviour`]). [`SignIn::send`] signs in.
///
/// ```no_run
/// # async fn example() -> Result<(), nexudus_client::SignInError> {
/// let client = nexudus_client::SignIn::new("https://spaces.nexudus.com", "me@example.com", "secret")
///     .client_id("billing-export")
///     .send()
///     .await?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub struct SignIn {
    base_url: String,
    username: String,
    password: String,
    code: Option<Code>,
    client_id: Option<String>,
    behaviour: Behaviour,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl SignIn {
    /// Signing in at the API at `base_url` (e.g. `https://spaces.nexudus.com`) as `username`
    /// with `password`, with [`Behaviour::default`], for the client named by the username.
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            username: username.into(),
            password: password.into(),
            code: None,
            client_id: None,
            behaviour: Behaviour::default(),
        }
    }

    /// For a user with two-factor sign-in: `code` gives the current code of their
    /// authenticator (RFC 6238), sent as `totp`. It is asked for at each password grant, the
    /// first and each later one when the refresh token no longer works, since a code lasts 30
    /// seconds. A missing or wrong code fails as [`SignInError::Refused`] with
    /// `two_factor_auth_check`.
    pub fn code(self, code: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            code: Some(Box::new(code)),
            ..self
        }
    }

    /// The client the tokens are for (the `client_id` header of every grant; the username
    /// when not given). The server keeps one refresh token per user and client, so an
    /// application that names itself retires no refresh token of the user's other
    /// applications when it signs in.
    pub fn client_id(self, client_id: impl Into<String>) -> Self {
        Self {
            client_id: Some(client_id.into()),
            ..self
        }
    }

    /// What the client does beyond sending each request once (its `session` is replaced by the
    /// new one).
    pub fn behaviour(self, behaviour: Behaviour) -> Self {
        Self { behaviour, ..self }
    }

    /// Signs in, and returns a client that sends the access token with every request, refreshes
    /// it before it expires and once after a 401, and waits out throttling as its
    /// [`Behaviour`] says. Wrong credentials fail here, as [`SignInError::Refused`].
    pub async fn send(self) -> Result<Client, SignInError> {
        let base_url = self.base_url.clone();
        let behaviour = self.behaviour.clone();
        let session = Session::start(self).await?;
        Ok(client_with_headers(
            &base_url,
            reqwest::header::HeaderMap::new(),
            Behaviour {
                session: Some(session),
                ..behaviour
            },
        )?)
    }
}

/// Signs in at the API at `base_url` (e.g. `https://spaces.nexudus.com`) with a username and
/// password: [`SignIn::new`] sent as it is.
pub async fn sign_in(
    base_url: &str,
    username: &str,
    password: &str,
) -> Result<Client, SignInError> {
    SignIn::new(base_url, username, password).send().await
}

/// [`sign_in`], with `behaviour` (its `session` is replaced by the new one).
pub async fn sign_in_with(
    base_url: &str,
    username: &str,
    password: &str,
    behaviour: Behaviour,
) -> Result<Client, SignInError> {
    SignIn::new(base_url, username, password)
        .behaviour(behaviour)
        .send()
        .await
}

/// [`sign_in_with`] for a user with two-factor sign-in ([`SignIn::code`]).
pub async fn sign_in_with_code(
    base_url: &str,
    username: &str,
    password: &str,
    code: impl Fn() -> String + Send + Sync + 'static,
    behaviour: Behaviour,
) -> Result<Client, SignInError> {
    SignIn::new(base_url, username, password)
        .code(code)
        .behaviour(behaviour)
        .send()
        .await
}
