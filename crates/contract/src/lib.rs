//! Contract checks of the Nexudus billing API: proof, by property-based testing over real HTTP,
//! that the generated client, a server and the spec agree on every success envelope and every
//! error.
//!
//! For each operation of the spec (the generated `nexudus_server_api::OPERATIONS` table):
//! - valid payloads from [`spec_strategies`] go through the generated client's typed method and
//!   must come back as the typed success envelope, with every documented key;
//! - invalid payloads, each with labelled violations, must come back with the documented error
//!   status as the typed error envelope, one `Errors` entry per violation;
//! - every response body must also validate against the spec's schema for its status, with an
//!   independent JSON Schema validator;
//! - requests without a token, with a bad token and with a token lacking the role must get the
//!   documented 401 envelope, and malformed JSON, a wrong content type and an oversize body
//!   their documented statuses;
//! - the JSON Schema the shared types derive must agree with the spec ([`drift`]).
//!
//! A failing case is shrunk to a minimal payload and reported with the response and a `curl`
//! command ([`report`]). [`run`] works against any server URL.

pub mod checks;
pub mod drift;
mod exchange;
pub mod report;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Mutex,
    time::Instant,
};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use nexudus_server_api::Operation;
use nexudus_types::ErrorEnvelope;
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::{Map, Value};
use spec_schema::Validator;
use spec_strategies::{InvalidCase, Strategies};

pub use crate::{
    checks::Outcome,
    exchange::Exchange,
    report::{Failure, Report, Tally},
};

/// The server under test and the credentials to use.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL, e.g. `http://127.0.0.1:8080` or `https://staging.example.com`.
    pub base_url: String,
    /// A token allowed to call every operation.
    pub token: String,
    /// A token whose user lacks the operations' roles, for the 401 of a missing role; that check
    /// is skipped without one.
    pub token_without_role: Option<String>,
    /// The email of `token`'s user, which `UpdatedBy` must carry; without it `UpdatedBy` must
    /// only be present and non-empty.
    pub caller: Option<String>,
    /// The server's body limit in bytes; the oversize check sends one byte more.
    pub body_limit: usize,
}

/// How many cases and which.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Valid and invalid payloads per operation (each).
    pub cases: u32,
    /// The seed of the payload generator: the same seed gives the same payloads.
    pub seed: u64,
    /// How many extra requests one failure may spend on shrinking.
    pub max_shrink_requests: u32,
    /// How many cases are in flight at once (shrinking always runs alone).
    pub concurrency: usize,
}

impl Options {
    fn lanes(&self) -> usize {
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
        }
    }
}

/// Why a run could not start (a failing check is not an error: it is in the [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The spec's schemas could not be compiled or turned into strategies.
    #[error("the spec cannot be checked: {0}")]
    Spec(String),
    /// The client for the target could not be built.
    #[error("cannot build a client for {base_url}")]
    Client {
        /// The target.
        base_url: String,
        /// Why.
        #[source]
        source: nexudus_client::ClientBuildError,
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

/// How many cases a run with `options` sends per operation with a body: valid, invalid, three
/// auth and three transport cases (for a progress bar).
pub fn cases_per_operation(options: &Options) -> u64 {
    2 * u64::from(options.cases) + 6
}

/// The operations the contract checks.
pub fn operations() -> &'static [&'static Operation] {
    nexudus_server_api::OPERATIONS
}

struct Spec {
    definitions: Map<String, Value>,
    strategies: Strategies,
    validators: BTreeMap<String, Validator>,
}

impl Spec {
    fn load() -> Result<Self, ContractError> {
        let definitions: Map<String, Value> =
            serde_json::from_str(nexudus_server_api::SCHEMA_DEFINITIONS)
                .map_err(ContractError::spec)?;
        let validators = definitions
            .keys()
            .map(|name| {
                Validator::new(definitions.clone(), name)
                    .map(|validator| (name.clone(), validator))
                    .map_err(ContractError::spec)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            strategies: Strategies::new(definitions.clone()),
            definitions,
            validators,
        })
    }

    fn response_validator(&self, operation: &Operation, status: u16) -> Option<&Validator> {
        let (_, schema) = operation
            .responses
            .iter()
            .find(|(code, _)| *code == status)?;
        self.validators.get((*schema)?)
    }

    fn documented(&self, operation: &Operation, status: u16) -> bool {
        operation.responses.iter().any(|(code, _)| *code == status)
    }
}

/// Who a request is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Token,
    None,
    BadToken,
    WithoutRole,
}

struct Clients {
    token: nexudus_client::Client,
    anonymous: nexudus_client::Client,
    bad_token: nexudus_client::Client,
    without_role: Option<nexudus_client::Client>,
    /// One per lane (case in flight): the generated client pointed at the lane's own recording
    /// proxy, for typed calls, so that a recorded exchange always belongs to its lane's case.
    typed: Vec<(nexudus_client::Client, exchange::RecordingProxy)>,
}

impl Clients {
    fn get(&self, credentials: Credentials) -> Option<&nexudus_client::Client> {
        match credentials {
            Credentials::Token => Some(&self.token),
            Credentials::None => Some(&self.anonymous),
            Credentials::BadToken => Some(&self.bad_token),
            Credentials::WithoutRole => self.without_role.as_ref(),
        }
    }
}

/// A token no server has issued.
const BAD_TOKEN: &str = "contract-check-invalid-token";

fn build_client(
    token: Option<&str>,
    base_url: &str,
) -> Result<nexudus_client::Client, ContractError> {
    match token {
        Some(token) => nexudus_client::authenticated(base_url, token),
        None => nexudus_client::anonymous(base_url),
    }
    .map_err(|source| ContractError::Client {
        base_url: base_url.to_owned(),
        source,
    })
}

/// Runs every check against `target`. `on_case` is called after each case (for progress).
pub async fn run(
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
) -> Result<Report, ContractError> {
    let spec = Spec::load()?;
    let mut typed = Vec::with_capacity(options.lanes());
    for _ in 0..options.lanes() {
        let proxy = exchange::RecordingProxy::start(&target.base_url)
            .await
            .map_err(ContractError::Proxy)?;
        typed.push((build_client(Some(&target.token), &proxy.base_url)?, proxy));
    }
    let clients = Clients {
        token: build_client(Some(&target.token), &target.base_url)?,
        anonymous: build_client(None, &target.base_url)?,
        bad_token: build_client(Some(BAD_TOKEN), &target.base_url)?,
        without_role: target
            .token_without_role
            .as_deref()
            .map(|token| build_client(Some(token), &target.base_url))
            .transpose()?,
        typed,
    };
    let runner = Runner {
        spec: &spec,
        target,
        options,
        clients,
        seen_ids: Mutex::new(BTreeSet::new()),
    };
    let mut state = State {
        report: Report {
            seed: options.seed,
            ..Report::default()
        },
        reported: BTreeSet::new(),
    };
    let started = Instant::now();

    for problem in drift::differences(&spec.definitions) {
        state.report.failures.push(Failure {
            operation: "types".into(),
            case: "schemars JSON Schema of nexudus-types".into(),
            checks: vec![("types agree with the spec".into(), problem)],
            request_body: String::new(),
            status: 0,
            response_body: String::new(),
            curl: String::new(),
        });
    }
    let drift_ok = state.report.failures.is_empty();
    state
        .report
        .record("types", "types agree with the spec", drift_ok);

    for operation in operations() {
        runner.operation(&mut state, operation, on_case).await?;
    }
    state.report.elapsed = started.elapsed();
    Ok(state.report)
}

/// The payloads a run's generated cases send, for one operation with a request body.
struct Generated {
    valid: Vec<BoxedTree<Value>>,
    invalid: Vec<BoxedTree<InvalidCase>>,
    /// A valid body for the auth and transport cases, so that only their one fault is present.
    fixed: Value,
}

type BoxedTree<T> = Box<dyn ValueTree<Value = T>>;

impl Spec {
    /// The cases for `schema`, drawn in a fixed order from a generator seeded with the options'
    /// seed, so the same seed always gives the same payloads.
    fn generate(&self, schema: &str, options: &Options) -> Result<Generated, ContractError> {
        let valid = self.strategies.valid(schema).map_err(ContractError::spec)?;
        let invalid = self
            .strategies
            .invalid(schema)
            .map_err(ContractError::spec)?;
        let mut rng_seed = [0u8; 32];
        rng_seed[..8].copy_from_slice(&options.seed.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed),
        );
        let valid_trees = (0..options.cases)
            .map(|_| valid.new_tree(&mut runner))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ContractError::spec)?;
        let invalid_trees = (0..options.cases)
            .map(|_| invalid.new_tree(&mut runner))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ContractError::spec)?;
        let fixed = valid
            .new_tree(&mut runner)
            .map_err(ContractError::spec)?
            .current();
        Ok(Generated {
            valid: valid_trees,
            invalid: invalid_trees,
            fixed,
        })
    }
}

/// One request body of a run, as [`payloads`] lists them.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The operation it is sent to.
    pub operation: &'static Operation,
    /// The JSON body.
    pub body: Bytes,
}

/// The bodies of the generated cases a run with `options` sends (valid, then invalid, per
/// operation), without shrinking: what a replay without checks sends, to compare against.
pub fn payloads(options: &Options) -> Result<Vec<Payload>, ContractError> {
    let spec = Spec::load()?;
    let mut payloads = Vec::new();
    for &operation in operations() {
        let Some(schema) = operation.request_schema else {
            continue;
        };
        let generated = spec.generate(schema, options)?;
        let valid = generated.valid.iter().map(|tree| tree.current());
        let invalid = generated.invalid.iter().map(|tree| tree.current().body);
        for body in valid.chain(invalid) {
            payloads.push(Payload {
                operation,
                body: Bytes::from(serde_json::to_vec(&body).expect("JSON values serialise")),
            });
        }
    }
    Ok(payloads)
}

/// Sends `payloads` to `target` with the token's generated client, `concurrency` at a time, and
/// checks nothing: the baseline a run's throughput is measured against. Returns the statuses, in
/// order.
pub async fn replay(
    target: &Target,
    payloads: &[Payload],
    concurrency: usize,
) -> Result<Vec<u16>, ContractError> {
    let client = build_client(Some(&target.token), &target.base_url)?;
    let client = &client;
    stream::iter(payloads)
        .map(|payload| async move {
            exchange::send_raw(
                client,
                payload.operation.method,
                payload.operation.path,
                Some("application/json"),
                payload.body.clone(),
            )
            .await
            .map(|exchange| exchange.status)
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|source| ContractError::Replay(source.to_string()))
}

/// What a run shares between the cases in flight.
struct Runner<'a> {
    spec: &'a Spec,
    target: &'a Target,
    options: &'a Options,
    clients: Clients,
    /// Every `Value.Id` returned so far: none may come back twice.
    seen_ids: Mutex<BTreeSet<i64>>,
}

/// What a run accumulates, one case at a time, in case order.
struct State {
    report: Report,
    /// (operation, kind, failing checks) already reported.
    reported: BTreeSet<(&'static str, String, Vec<&'static str>)>,
}

/// What one case sent and got, and how the checks went.
struct CaseResult {
    exchange: Option<Exchange>,
    outcomes: Vec<Outcome>,
}

impl CaseResult {
    fn failed(&self) -> bool {
        self.outcomes.iter().any(|(_, result)| result.is_err())
    }
}

type CaseFuture<'r> = std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + 'r>>;

impl Runner<'_> {
    async fn operation(
        &self,
        state: &mut State,
        operation: &'static Operation,
        on_case: &mut dyn FnMut(),
    ) -> Result<(), ContractError> {
        let Some(schema) = operation.request_schema else {
            return Ok(());
        };
        let generated = self.spec.generate(schema, self.options)?;
        self.cases(
            state,
            operation,
            "valid",
            generated.valid,
            on_case,
            |runner, lane, body| Box::pin(runner.valid_case(lane, operation, body)),
        )
        .await;
        self.cases(
            state,
            operation,
            "invalid",
            generated.invalid,
            on_case,
            |runner, _, case| Box::pin(runner.invalid_case(operation, case)),
        )
        .await;

        // Auth and transport errors, with a valid body so that only the one fault is present.
        let body =
            Bytes::from(serde_json::to_vec(&generated.fixed).expect("JSON values serialise"));
        for (name, credentials) in [
            ("auth: no token", Credentials::None),
            ("auth: bad token", Credentials::BadToken),
            ("auth: token without the role", Credentials::WithoutRole),
        ] {
            if self.clients.get(credentials).is_some() {
                let result = self
                    .error_case(
                        operation,
                        credentials,
                        Some("application/json"),
                        body.clone(),
                        401,
                    )
                    .await;
                self.finish(state, operation, name, &result, credentials);
            }
            on_case();
        }
        let oversize = {
            let padding = "x".repeat(self.target.body_limit + 1);
            Bytes::from(
                serde_json::to_vec(&serde_json::json!({ "Padding": padding })).expect("serialises"),
            )
        };
        for (name, content_type, body, status) in [
            (
                "transport: malformed JSON",
                Some("application/json"),
                Bytes::from_static(b"{\"unterminated"),
                400,
            ),
            (
                "transport: wrong content type",
                Some("text/plain"),
                body.clone(),
                415,
            ),
            (
                "transport: oversize body",
                Some("application/json"),
                oversize,
                413,
            ),
        ] {
            let result = self
                .error_case(operation, Credentials::Token, content_type, body, status)
                .await;
            self.finish(state, operation, name, &result, Credentials::Token);
            on_case();
        }
        Ok(())
    }

    /// Runs generated cases, up to one per lane at a time, records their checks in case order,
    /// then shrinks the first failing case of each kind of failure, one request at a time.
    async fn cases<T, F>(
        &self,
        state: &mut State,
        operation: &'static Operation,
        kind: &str,
        mut trees: Vec<BoxedTree<T>>,
        on_case: &mut dyn FnMut(),
        run: F,
    ) where
        T: Clone + PartialEq + std::fmt::Debug,
        F: for<'r> Fn(&'r Self, usize, T) -> CaseFuture<'r>,
    {
        let lanes = self.options.lanes();
        let mut to_shrink = Vec::new();
        {
            let mut results = stream::iter(trees.iter().map(|tree| tree.current()).enumerate())
                .map(|(index, value)| run(self, index % lanes, value))
                .buffered(lanes)
                .enumerate();
            while let Some((index, result)) = results.next().await {
                state.report.requests += 1;
                self.record_case(state, operation, kind, &result);
                on_case();
                // Many cases fail for one reason: shrink and report the first case of each set
                // of failing checks; the tallies count them all.
                if result.failed() && state.first_of_its_kind(operation, kind, &result) {
                    to_shrink.push((index, result));
                }
            }
        }
        for (index, result) in to_shrink {
            let result = self.shrink(state, &mut trees[index], result, &run).await;
            self.finish_failure(state, operation, kind, &result, Credentials::Token);
        }
    }

    /// The usual proptest loop: keep a simpler value while it still fails. A step that does not
    /// change the payload (a value under an absent optional) costs no request. Runs alone, on
    /// lane 0.
    async fn shrink<T, F>(
        &self,
        state: &mut State,
        tree: &mut BoxedTree<T>,
        mut result: CaseResult,
        run: &F,
    ) -> CaseResult
    where
        T: Clone + PartialEq + std::fmt::Debug,
        F: for<'r> Fn(&'r Self, usize, T) -> CaseFuture<'r>,
    {
        let mut budget = self.options.max_shrink_requests;
        let mut failing = tree.current();
        while budget > 0 && tree.simplify() {
            let candidate = tree.current();
            if candidate == failing {
                continue;
            }
            budget -= 1;
            state.report.requests += 1;
            let attempt = run(self, 0, candidate.clone()).await;
            if attempt.failed() {
                result = attempt;
                failing = candidate;
            } else if !tree.complicate() {
                break;
            }
        }
        result
    }

    async fn valid_case(
        &self,
        lane: usize,
        operation: &'static Operation,
        body: Value,
    ) -> CaseResult {
        let (client, proxy) = &self.clients.typed[lane];
        let typed = typed_call(client, operation, &body).await;
        let exchange = proxy.take();
        let success = operation
            .responses
            .iter()
            .map(|(status, _)| *status)
            .find(|status| (200..300).contains(status))
            .unwrap_or(200);
        let mut outcomes = Vec::new();
        let Some(exchange) = exchange else {
            outcomes.push((
                "request",
                Err(format!("no response from the server: {typed:?}")),
            ));
            return CaseResult {
                exchange: None,
                outcomes,
            };
        };
        let json = exchange.response_json();
        outcomes.push(checks::status(success, exchange.status));
        outcomes.push(("typed decode", typed.map(|_| ())));
        let keys: Vec<String> = self
            .spec
            .response_validator(operation, success)
            .and_then(|validator| self.spec.definitions.get(validator.schema_name()))
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        outcomes.extend(checks::success_envelope(
            json.as_ref(),
            &keys,
            self.target.caller.as_deref(),
            &mut self.seen_ids.lock().expect("not poisoned"),
        ));
        outcomes.push(checks::response_schema(
            self.spec.response_validator(operation, exchange.status),
            json.as_ref(),
        ));
        CaseResult {
            exchange: Some(exchange),
            outcomes,
        }
    }

    async fn invalid_case(&self, operation: &'static Operation, case: InvalidCase) -> CaseResult {
        let body = Bytes::from(serde_json::to_vec(&case.body).expect("JSON values serialise"));
        let mut result = self
            .error_case(
                operation,
                Credentials::Token,
                Some("application/json"),
                body,
                400,
            )
            .await;
        let json = result.exchange.as_ref().and_then(Exchange::response_json);
        result
            .outcomes
            .extend(checks::labelled_errors(json.as_ref(), &case.violations));
        result
    }

    /// Sends a request that must fail with `expected` and checks the error envelope.
    async fn error_case(
        &self,
        operation: &'static Operation,
        credentials: Credentials,
        content_type: Option<&str>,
        body: Bytes,
        expected: u16,
    ) -> CaseResult {
        let client = self
            .clients
            .get(credentials)
            .expect("callers check for a client");
        let exchange =
            match exchange::send_raw(client, operation.method, operation.path, content_type, body)
                .await
            {
                Ok(exchange) => exchange,
                Err(error) => {
                    return CaseResult {
                        exchange: None,
                        outcomes: vec![("request", Err(format!("the request failed: {error}")))],
                    };
                }
            };
        let json = exchange.response_json();
        let typed: Result<ErrorEnvelope, String> =
            if self.spec.documented(operation, exchange.status) {
                exchange::decode_as_client(&exchange).await
            } else {
                Err(format!(
                    "status {} is not documented: the generated client reports UnexpectedResponse",
                    exchange.status
                ))
            };
        let mut outcomes = vec![checks::status(expected, exchange.status)];
        outcomes.extend(checks::error_envelope(json.as_ref(), &typed));
        outcomes.push(checks::response_schema(
            self.spec.response_validator(operation, exchange.status),
            json.as_ref(),
        ));
        CaseResult {
            exchange: Some(exchange),
            outcomes,
        }
    }

    /// Records a fixed case's checks (and its failure, if any).
    fn finish(
        &self,
        state: &mut State,
        operation: &Operation,
        kind: &str,
        result: &CaseResult,
        credentials: Credentials,
    ) {
        state.report.requests += 1;
        self.record_case(state, operation, kind, result);
        if result.failed() {
            self.finish_failure(state, operation, kind, result, credentials);
        }
    }

    /// Counts one case and each of its checks.
    fn record_case(
        &self,
        state: &mut State,
        operation: &Operation,
        kind: &str,
        result: &CaseResult,
    ) {
        for (check, outcome) in &result.outcomes {
            let check = format!("{kind}: {check}");
            state
                .report
                .record(operation.operation_id, &check, outcome.is_ok());
        }
        state.report.cases += 1;
    }

    fn finish_failure(
        &self,
        state: &mut State,
        operation: &Operation,
        kind: &str,
        result: &CaseResult,
        credentials: Credentials,
    ) {
        let exchange = result.exchange.clone().unwrap_or(Exchange {
            request_body: Bytes::new(),
            content_type: None,
            status: 0,
            response_body: Bytes::new(),
        });
        let pretty = |bytes: &Bytes| match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => serde_json::to_string_pretty(&json).expect("serialises"),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        let auth = match credentials {
            Credentials::Token => "$NEXUDUS_TOKEN",
            Credentials::None => "",
            Credentials::BadToken => BAD_TOKEN,
            Credentials::WithoutRole => "$NEXUDUS_TOKEN_WITHOUT_ROLE",
        };
        state.report.failures.push(Failure {
            operation: operation.operation_id.to_owned(),
            case: kind.to_owned(),
            checks: result
                .outcomes
                .iter()
                .filter_map(|(check, outcome)| {
                    outcome
                        .as_ref()
                        .err()
                        .map(|message| (check.to_string(), message.clone()))
                })
                .collect(),
            request_body: pretty(&exchange.request_body),
            status: exchange.status,
            response_body: pretty(&exchange.response_body),
            curl: report::curl(
                &self.target.base_url,
                operation.method,
                operation.path,
                auth,
                exchange.content_type.as_deref(),
                &exchange.request_body,
            ),
        });
    }
}

impl State {
    /// Whether `result` is the first failure of `operation`'s `kind` cases with its set of
    /// failing checks (the one that is shrunk and reported).
    fn first_of_its_kind(
        &mut self,
        operation: &Operation,
        kind: &str,
        result: &CaseResult,
    ) -> bool {
        let signature: Vec<&'static str> = result
            .outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_err())
            .map(|(check, _)| *check)
            .collect();
        self.reported
            .insert((operation.operation_id, kind.to_owned(), signature))
    }
}

/// Calls `operation` with the generated client's typed method. Operations this function does
/// not know are reported as such: the typed check then fails rather than passing unchecked.
async fn typed_call(
    client: &nexudus_client::Client,
    operation: &Operation,
    body: &Value,
) -> Result<(), String> {
    match operation.operation_id {
        "create_coworker_time_pass" => {
            let request: nexudus_types::CoworkerTimePassCreate =
                serde_json::from_value(body.clone()).map_err(|error| {
                    format!("the generated request type rejects a valid payload: {error}")
                })?;
            client
                .create_coworker_time_pass(&request)
                .await
                .map(|_| ())
                .map_err(|error| format!("the generated client returned an error: {error}"))
        }
        other => Err(format!(
            "no typed call for operation {other}: add it to contract::typed_call"
        )),
    }
}
