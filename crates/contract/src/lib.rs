//! Contract checks of the Nexudus billing API: proof, by property-based testing over real HTTP,
//! that the generated client, a server and the spec agree on every operation, every success and
//! every error.
//!
//! The API is a value, an [`Api`] (generated beside each API's client, `nexudus_client::API` for
//! this workspace's): its operations, schemas and `x-contract` extension, a typed client to call
//! any operation by its operationId, its error bodies decoded as that client decodes them, and
//! the JSON Schema its types derive. Nothing here names an API.
//!
//! For each operation of the spec:
//! - valid requests (parameters and body) from [`spec_strategies`] go through the generated
//!   client's typed method (its generated `dispatch`) and must come back with the documented
//!   success, holding what the spec's `x-contract` extension says (paging figures, order and
//!   filters of a list included); an operation that links say acts on an existing record gets
//!   one first, made by the operation the link comes from;
//! - after a success, the spec's links to a read are followed: the record must hold what was
//!   sent; after a delete, the record must be gone;
//! - invalid requests, each with labelled violations, must come back 400 as the typed error
//!   envelope, one `Errors` entry per violation; a request for an id that does not exist, 404;
//! - requests without a token, with a bad token and with a token lacking the operation's role
//!   must get 401, and for operations with a body, malformed JSON, a wrong content type and an
//!   oversize body their documented statuses;
//! - transport cases (`hostile.rs`), each with one fault a strict server refuses: a `+json`
//!   media type, another charset, a `Content-Encoding`, a repeated `Content-Type`, a repeated
//!   key and a date-time beyond UTC's years in a body (415 or 400 naming the fault); a repeated
//!   `Authorization` and a query parameter sent twice (400 naming it); a wrong method and an
//!   unknown path (the answers the root's `x-contract` names, `Allow` listing the path's
//!   methods);
//! - every answer is judged in layers: its status; then its `Content-Type` (a media type its
//!   status documents, or no body), the headers its status documents as required, and its body
//!   against the spec's schema for the status, with an independent JSON Schema validator; then
//!   what the body holds. Every documented status a client can cause must be produced by some
//!   case (the coverage table);
//! - an answer of the shape the root's `x-contract.throttled` names (409, `Retry-After`, the
//!   error envelope) is waited out and the request sent again, counted, never failed;
//! - the JSON Schema the shared types derive must agree with the spec ([`drift`]);
//! - an OAuth 2.0 token endpoint (the `tokenUrl` of a security scheme's password flow) gets the
//!   cases of RFC 6749 instead of generated ones, when the target has a username and password:
//!   both grants, each issued token tried on a secured operation, a refresh token used twice, and
//!   each error code;
//! - random sequences of creates, reads, lists, updates, deletes and rejected requests, on
//!   records each sequence makes and marks as its own, must agree at every answer with a model
//!   of what those records hold (stateful checks).
//!
//! A run touches only records it shows to be its own: every create carries its marker, and a
//! read of a record must show that marker (or exactly what the run last wrote) before the run
//! updates or deletes it; at the end it deletes each record it made and can prove, even when
//! stopped early. Failed checks are grouped by operation, check and kind of mismatch
//! ([`Mismatch`]); each group's first case is shrunk to a minimal request and reported with
//! every request it took and a `curl` command for each ([`report`]). [`run`] works against any
//! server URL, and stays bounded whatever the server answers.

pub mod checks;
pub mod drift;
mod exchange;
mod expression;
mod follow;
mod hostile;
mod plan;
mod records;
mod replay;
pub mod report;
mod resource;
mod runner;
mod sign_in;
mod stateful;
pub mod vocabulary;

use std::time::Duration;

pub use api_description::Api;
use api_description::Operation;

pub use crate::{
    checks::Outcome,
    exchange::Exchange,
    replay::{Payload, replay},
    report::{Detail, Failure, Group, Report, Sequences, Step, Tally},
    runner::STATEFUL,
    vocabulary::{Case, Check, Mismatch},
};

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
}

/// A user's username and password, for a password grant.
#[derive(Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("username", &self.username)
            .field("password", &"(hidden)")
            .finish()
    }
}

/// A token whose user holds only some roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedToken {
    /// The bearer token.
    pub token: String,
    /// The roles (security scopes) its user holds.
    pub roles: Vec<String>,
}

impl Target {
    /// The limited token to check `operation`'s 401 for a missing role with, by index.
    pub(crate) fn token_without_role(&self, operation: &Operation) -> Option<usize> {
        if operation.security.is_empty() {
            return None;
        }
        let allowed = |token: &LimitedToken| {
            operation.security.iter().any(|requirement| {
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
    /// Keep every request sent in [`Report::sent`] (for a replay).
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
        }
    }
}

/// Why a run could not start (a failing check is not an error: it is in the [`Report`]).
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
    fn spec(error: impl std::fmt::Display) -> Self {
        Self::Spec(error.to_string())
    }
}

/// The operations of `api` the contract checks with generated requests: every operation of the
/// spec but an OAuth 2.0 token endpoint, which gets cases of its own.
pub fn operations(api: &Api) -> Vec<&'static Operation> {
    api.operations
        .iter()
        .copied()
        .filter(|operation| !sign_in::is_token_endpoint(api, operation))
        .collect()
}

/// How many cases a run with `options` counts for `operation` (for a progress bar): valid and
/// invalid ones, three auth cases, three body cases for an operation with a body, the transport
/// cases, and one for an id that does not exist where links say the operation acts on one.
fn cases_per_operation(operation: &Operation, options: &Options, spec: &plan::Spec) -> u64 {
    let body = if operation.request_schema.is_some() {
        3
    } else {
        0
    };
    let not_found = u64::from(follow::has_not_found_case(operation, &spec.operations));
    // Any body with a property stands for the valid one: only whether it has a key counts.
    let any_body = serde_json::json!({ "": null });
    let transport = hostile::cases(
        operation,
        &spec.operations,
        &spec.definitions,
        &spec.root,
        Some(&any_body),
    )
    .0
    .len() as u64;
    2 * u64::from(options.cases) + 3 + body + transport + not_found
}

/// How many cases a run against `target` with `options` counts in all (a sequence of the
/// stateful checks counts as one); 0 for a spec the run would refuse.
pub fn total_cases(api: &Api, target: &Target, options: &Options) -> u64 {
    let sign_in = match (&target.sign_in, sign_in::token_endpoint(api)) {
        (Some(_), Some(_)) => sign_in::CASES as u64,
        _ => 0,
    };
    let Ok(spec) = plan::Spec::load(api) else {
        return 0;
    };
    let resources = resource::Resource::all(&spec).0.len();
    spec.operations
        .iter()
        .map(|operation| cases_per_operation(operation, options, &spec))
        .sum::<u64>()
        + resources as u64 * u64::from(options.sequences)
        + sign_in
}

/// Runs every check of `api` against `target`. `on_case` is called after each case (for
/// progress).
pub async fn run(
    api: &Api,
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
) -> Result<Report, ContractError> {
    runner::run(api, target, options, on_case, std::future::pending()).await
}

/// [`run`], stopped early when `stop` completes (on Ctrl-C, say): what is running is dropped and
/// the records made so far are deleted all the same ([`Report::interrupted`] says so).
pub async fn run_until(
    api: &Api,
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
    stop: impl std::future::Future<Output = ()>,
) -> Result<Report, ContractError> {
    runner::run(api, target, options, on_case, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_without_an_operations_role_is_the_one_holding_most_other_roles() {
        let limited = |token: &str, roles: &[&str]| LimitedToken {
            token: token.into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        };
        let mut target = Target {
            base_url: "http://127.0.0.1:1".into(),
            token: "admin".into(),
            limited_tokens: vec![
                limited("creator", &["CoworkerTimePass-Create"]),
                limited(
                    "reader",
                    &["CoworkerTimePass-Read", "CoworkerTimePass-List"],
                ),
                limited("none", &[]),
            ],
            caller: None,
            body_limit: 1,
            sign_in: None,
        };
        let operation = |id: &str| {
            operations(&nexudus_client::API)
                .into_iter()
                .find(|operation| operation.operation_id == id)
                .unwrap()
        };
        let chosen = |target: &Target, id: &str| {
            target
                .token_without_role(operation(id))
                .map(|index| target.limited_tokens[index].token.clone())
        };
        assert_eq!(
            chosen(&target, "create_coworker_time_pass").as_deref(),
            Some("reader")
        );
        assert_eq!(
            chosen(&target, "get_coworker_time_pass").as_deref(),
            Some("creator")
        );
        assert_eq!(
            chosen(&target, "delete_coworker_time_pass").as_deref(),
            Some("reader")
        );
        // A token holding every role lacks none: nothing to check with.
        target.limited_tokens = vec![limited(
            "all",
            &[
                "CoworkerTimePass-Create",
                "CoworkerTimePass-Read",
                "CoworkerTimePass-List",
                "CoworkerTimePass-Edit",
                "CoworkerTimePass-Delete",
            ],
        )];
        assert_eq!(chosen(&target, "update_coworker_time_pass"), None);
    }
}
