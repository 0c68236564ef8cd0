//! What a run is given: the server under test and the credentials to use ([`Target`], with the
//! names its secrets go by in reproductions, [`SecretNames`]), how many
//! cases and which ([`Options`]), and why a run could not start ([`ContractError`]).

use std::time::Duration;

use api_description::{Operation, SchemeKind, SecurityScheme};

/// The server under test and the credentials to use.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL, e.g. `http://127.0.0.1:8080` or `https://staging.example.com`.
    pub base_url: String,
    /// A token allowed to call every operation.
    pub token: String,
    /// Tokens of users that lack some roles, with the roles each holds. For each operation, the
    /// one holding the most roles without the operation's is used for the 401 of a missing role;
    /// that check is skipped for an operation none of them lacks.
    pub limited_tokens: Vec<LimitedToken>,
    /// The email of `token`'s user, which `$caller` expectations compare with; without it such a
    /// value must only be a non-empty string.
    pub caller: Option<String>,
    /// The server's body limit in bytes; the oversize check sends one byte more.
    pub body_limit: usize,
    /// A username and password for the spec's token endpoint: with them, the endpoint is
    /// checked too.
    pub sign_in: Option<SignIn>,
    /// A username and password sent as `Authorization: Basic`, where the spec's operations
    /// accept an HTTP Basic scheme: with them, the reads that need no record are also checked
    /// with Basic credentials.
    pub basic: Option<Basic>,
    /// The shell variables a report's reproductions write in place of these secrets.
    pub secret_names: SecretNames,
}

/// The shell variables a report's `curl` reproductions write in place of the target's secrets
/// (name them after the environment variables the caller reads them from, and the commands run
/// as they are), so that no secret ends up in a CI log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretNames {
    /// In place of [`Target::token`].
    pub token: String,
    /// In place of a [`LimitedToken`].
    pub token_without_role: String,
    /// In place of [`SignIn::password`].
    pub password: String,
    /// In place of the base64 of [`Basic`]'s `username:password`.
    pub basic: String,
    /// In place of the base64 of a [`LimitedToken`]'s Basic `username:password`.
    pub basic_without_role: String,
}

impl Default for SecretNames {
    fn default() -> Self {
        Self {
            token: "API_TOKEN".into(),
            token_without_role: "API_TOKEN_WITHOUT_ROLE".into(),
            password: "API_PASSWORD".into(),
            basic: "API_BASIC_CREDENTIALS".into(),
            basic_without_role: "API_BASIC_CREDENTIALS_WITHOUT_ROLE".into(),
        }
    }
}

/// A user's username and password, sent with each request (HTTP Basic).
#[derive(Clone)]
pub struct Basic {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl Basic {
    /// The `Authorization` value that sends them (RFC 7617).
    pub(crate) fn authorization(&self) -> String {
        use base64::Engine as _;
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

impl std::fmt::Debug for Basic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basic")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A user's username and password, for a password grant.
#[derive(Clone)]
pub struct SignIn {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
    /// Other form parameters the user's password grant sends (a second factor's code), each
    /// value asked for when the grant is sent, since such a code lasts seconds. A report shows
    /// each value as the shell variable named after its parameter, in upper case.
    pub also: Vec<FormParameter>,
    /// Other users whose right password the endpoint refuses (a user who must choose a new
    /// password first), each with the OAuth error it answers.
    pub refused: Vec<RefusedUser>,
}

/// A user whose right password the token endpoint refuses.
#[derive(Clone)]
pub struct RefusedUser {
    /// The username.
    pub username: String,
    /// The (right) password.
    pub password: String,
    /// The OAuth error code of the refusal.
    pub error: String,
}

/// A form parameter whose value is asked for each time it is sent.
#[derive(Clone)]
pub struct FormParameter {
    /// The parameter's name.
    pub name: String,
    /// Its value of the moment.
    pub value: std::sync::Arc<dyn Fn() -> String + Send + Sync>,
    /// The OAuth error code the endpoint answers the user's right password without it, when
    /// the run should check that it does.
    pub left_out: Option<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let also: Vec<&str> = self.also.iter().map(|also| also.name.as_str()).collect();
        f.debug_struct("SignIn")
            .field("username", &self.username)
            .field("password", &"(hidden)")
            .field("also", &also)
            .field("refused", &self.refused.len())
            .finish()
    }
}

/// A token whose user holds only some roles.
#[derive(Debug, Clone)]
pub struct LimitedToken {
    /// The bearer token.
    pub token: String,
    /// The roles (security scopes) its user holds.
    pub roles: Vec<String>,
    /// The same user's Basic credentials, if the run may send them: where an operation takes
    /// Basic, they must meet the same 401 for a missing role as the token.
    pub basic: Option<Basic>,
}

impl Target {
    /// The limited token to check `operation`'s 401 for a missing role with, by index. Only the
    /// requirements a bearer token can meet count (of `schemes`): a Basic one names no roles in
    /// OpenAPI 3.0, and no token meets it.
    pub(crate) fn token_without_role(
        &self,
        operation: &Operation,
        schemes: &[SecurityScheme],
    ) -> Option<usize> {
        let bearer: Vec<_> = operation
            .security
            .iter()
            .filter(|requirement| requirement.kind(schemes) == SchemeKind::Bearer)
            .collect();
        if bearer.is_empty() {
            return None;
        }
        let allowed = |token: &LimitedToken| {
            bearer.iter().any(|requirement| {
                requirement
                    .scopes
                    .iter()
                    .all(|scope| token.roles.iter().any(|role| role == scope))
            })
        };
        self.limited_tokens
            .iter()
            .enumerate()
            .filter(|(_, token)| !allowed(token))
            .max_by_key(|(index, token)| (token.roles.len(), std::cmp::Reverse(*index)))
            .map(|(index, _)| index)
    }
}

/// How many cases and which.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Valid and invalid requests per operation (each).
    pub cases: u32,
    /// The seed of the request generator: the same seed gives the same requests.
    pub seed: u64,
    /// How many extra requests shrinking one failure may spend (all of a run's shrinking stops
    /// at eight times this: later failures are shown as first found).
    pub max_shrink_requests: u32,
    /// How many cases are in flight at once (shrinking always runs alone).
    pub concurrency: usize,
    /// Keep every request sent in [`Report::sent`](crate::Report::sent) (for a replay).
    pub log_requests: bool,
    /// Sequences of operations the stateful checks run (per resource).
    pub sequences: u32,
    /// The most operations in one sequence.
    pub steps: u32,
    /// Leave the records the run made on the server (by default it deletes them at the end).
    pub keep_records: bool,
    /// How long one request may spend waiting out throttled answers (`Retry-After`) before the
    /// last one counts as its answer; zero waits out none.
    pub throttle_wait: Duration,
    /// The most records one request may create, where the spec's `x-contract.creates` reads the
    /// count from the body (it is lowered to this): every record a run makes is deleted at the
    /// end, one request each, which against a throttled server is most of the run.
    pub max_creates: Option<u64>,
    /// How many writers the checks of writes at once send together (creates, updates of one
    /// record, deletes of one record); zero skips those checks.
    pub writers: u32,
}

impl Options {
    pub(crate) fn lanes(&self) -> usize {
        self.concurrency.max(1)
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cases: 128,
            seed: 0,
            max_shrink_requests: 512,
            concurrency: 8,
            log_requests: false,
            sequences: 32,
            steps: 16,
            keep_records: false,
            // Under the generated client's own 30 s timeout, which a typed request's waits share.
            throttle_wait: Duration::from_secs(20),
            max_creates: None,
            // Small enough for a live account's limits on writes, enough to interleave.
            writers: 4,
        }
    }
}

/// Why a run could not start (a failing check is not an error: it is in the [`Report`](crate::Report)).
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The spec cannot be checked: its schemas do not compile, cannot be turned into
    /// strategies, or its links or `x-contract` extension say what the runner cannot follow.
    #[error("the spec cannot be checked: {0}")]
    Spec(String),
    /// A client for the target could not be built.
    #[error("cannot build a client for {base_url}: {message}")]
    Client {
        /// The target.
        base_url: String,
        /// Why.
        message: String,
    },
    /// The recording proxy could not start.
    #[error("cannot start the recording proxy")]
    Proxy(#[source] std::io::Error),
    /// A replayed request failed.
    #[error("a replayed request failed: {0}")]
    Replay(String),
}

impl ContractError {
    pub(crate) fn spec(error: impl std::fmt::Display) -> Self {
        Self::Spec(error.to_string())
    }
}
