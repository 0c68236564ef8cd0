//! Running the cases: every request drawn first from one seeded generator, then sent with up to
//! `concurrency` cases in flight and recorded in case order, so a seed always gives the same
//! report; the first failing case of each kind is then shrunk alone, one request at a time.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering as AtomicOrdering},
    },
    time::Instant,
};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use nexudus_client::dispatch::{self, Arguments};
use nexudus_server_api::Operation;
use nexudus_types::ErrorEnvelope;
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::Value;
use spec_strategies::{InvalidRequest, Request};

use crate::{
    ContractError, Options, Target, checks,
    checks::{Outcome, SuccessContext},
    drift,
    exchange::{self, Exchange},
    expression::Expression,
    follow,
    hostile::{self, Fault},
    plan::{Plan, Spec},
    replay::Payload,
    report::{self, CASE_STEP, Coverage, Failure, Report},
    resource::Resource,
    stateful,
};

/// Who a request is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    Token,
    None,
    BadToken,
    /// The target's limited token of this index.
    WithoutRole(usize),
}

/// A token no server has issued.
const BAD_TOKEN: &str = "contract-check-invalid-token";

/// Statuses a server may answer before it has read a request's body (refused credentials, an
/// oversize body, a wrong content type).
const REFUSED_EARLY: [u16; 3] = [401, 413, 415];

struct Clients {
    token: nexudus_client::Client,
    anonymous: nexudus_client::Client,
    bad_token: nexudus_client::Client,
    limited: Vec<nexudus_client::Client>,
    /// One per lane (case in flight): the generated client pointed at the lane's own recording
    /// proxy, for typed calls, so that a recorded exchange always belongs to its lane's case.
    typed: Vec<(nexudus_client::Client, exchange::RecordingProxy)>,
}

impl Clients {
    fn get(&self, credentials: Credentials) -> &nexudus_client::Client {
        match credentials {
            Credentials::Token => &self.token,
            Credentials::None => &self.anonymous,
            Credentials::BadToken => &self.bad_token,
            Credentials::WithoutRole(index) => &self.limited[index],
        }
    }
}

fn build_client(
    token: Option<&str>,
    base_url: &str,
) -> Result<nexudus_client::Client, ContractError> {
    // The runner sends invalid requests on purpose: the client must not refuse them first.
    let behaviour = nexudus_client::Behaviour::unchecked();
    match token {
        Some(token) => nexudus_client::authenticated_with(base_url, token, behaviour),
        None => nexudus_client::anonymous_with(base_url, behaviour),
    }
    .map_err(|source| ContractError::Client {
        base_url: base_url.to_owned(),
        source,
    })
}

/// Runs every check against `target` until `stop` completes, then deletes what the run made.
pub(crate) async fn run(
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
    stop: impl std::future::Future<Output = ()>,
) -> Result<Report, ContractError> {
    let spec = Spec::load(crate::operations())?;
    let resources = Resource::all(&spec)?;
    let throttled = match &spec.root.throttled {
        Some(answer) => Some((
            answer.status,
            spec_schema::Validator::new(spec.definitions.clone(), &answer.schema)
                .map_err(ContractError::spec)?,
            answer.headers.clone(),
        )),
        None => None,
    };
    let patience = Arc::new(exchange::Patience::new(throttled, options.throttle_wait));
    let mut typed = Vec::with_capacity(options.lanes());
    for _ in 0..options.lanes() {
        let proxy = exchange::RecordingProxy::start(&target.base_url, Arc::clone(&patience))
            .await
            .map_err(ContractError::Proxy)?;
        typed.push((build_client(Some(&target.token), &proxy.base_url)?, proxy));
    }
    let clients = Clients {
        token: build_client(Some(&target.token), &target.base_url)?,
        anonymous: build_client(None, &target.base_url)?,
        bad_token: build_client(Some(BAD_TOKEN), &target.base_url)?,
        limited: target
            .limited_tokens
            .iter()
            .map(|limited| build_client(Some(&limited.token), &target.base_url))
            .collect::<Result<_, _>>()?,
        typed,
    };
    let generated = spec
        .plans
        .iter()
        .map(|plan| generate(&spec, plan, options))
        .collect::<Result<Vec<_>, _>>()?;
    let runner = Runner {
        spec: &spec,
        target,
        options,
        clients,
        fixed: spec
            .plans
            .iter()
            .zip(&generated)
            .map(|(plan, cases)| (plan.operation.operation_id, cases.fixed.clone()))
            .collect(),
        seen: Mutex::new(BTreeMap::new()),
        responses: Mutex::new(BTreeMap::new()),
        log: options.log_requests.then(|| Mutex::new(Vec::new())),
        resources,
        marker: run_marker(),
        markers: Mutex::new(BTreeSet::new()),
        made: Mutex::new(Vec::new()),
        sequences_started: AtomicU64::new(0),
        ids_seen: Mutex::new(BTreeSet::new()),
        removed: AtomicU64::new(0),
        patience,
    };
    runner
        .markers
        .lock()
        .expect("not poisoned")
        .insert(runner.marker.clone());
    let mut state = State {
        report: Report {
            seed: options.seed,
            ..Report::default()
        },
        reported: BTreeSet::new(),
    };
    let started = Instant::now();

    let differences = drift::differences(&spec.definitions);
    for problem in &differences {
        state.report.failures.push(Failure {
            operation: "types".into(),
            case: "schemars JSON Schema of nexudus-types".into(),
            checks: vec![("types agree with the spec".into(), problem.clone())],
            steps: Vec::new(),
            sequence: None,
        });
    }
    state
        .report
        .record("types", "types agree with the spec", differences.is_empty());

    let work = async {
        for (plan, cases) in spec.plans.iter().zip(generated) {
            runner.operation(&mut state, plan, cases, on_case).await;
        }
        if let (Some(credentials), Some(endpoint)) =
            (&target.sign_in, crate::sign_in::token_endpoint())
        {
            for (kind, result) in runner.sign_in_cases(endpoint, credentials).await {
                runner.finish(&mut state, endpoint, kind, &result);
                on_case();
            }
        }
        for resource in &runner.resources {
            let strategy = stateful::sequences(&spec, resource, options.steps)?;
            let mut generator = seeded(options.seed ^ STATEFUL_SEED);
            let trees = (0..options.sequences)
                .map(|_| strategy.new_tree(&mut generator))
                .collect::<Result<Vec<_>, _>>()
                .map_err(ContractError::spec)?;
            state.report.stateful.sequences += trees.len() as u64;
            state.report.stateful.steps += trees
                .iter()
                .map(|tree| tree.current().len() as u64)
                .sum::<u64>();
            let started = Instant::now();
            let shrinking = state.report.shrinking;
            runner
                .cases(
                    &mut state,
                    STATEFUL,
                    "sequence",
                    trees,
                    on_case,
                    |runner, _, actions| Box::pin(runner.sequence(resource, actions)),
                )
                .await;
            state.report.stateful.elapsed += started
                .elapsed()
                .saturating_sub(state.report.shrinking - shrinking);
        }
        Ok::<_, ContractError>(())
    };
    tokio::select! {
        finished = work => finished?,
        () = stop => state.report.interrupted = true,
    }
    if options.keep_records {
        state.report.kept = runner.markers();
    } else {
        runner.clean_up().await;
    }
    state.report.removed = runner.removed.load(AtomicOrdering::Relaxed);
    (state.report.throttled, state.report.throttle_wait) = runner.patience.waited();
    runner.coverage(&mut state.report);
    state.report.elapsed = started.elapsed();
    if let Some(log) = runner.log {
        state.report.sent = log.into_inner().expect("not poisoned");
    }
    Ok(state.report)
}

/// One operation's generated cases.
struct Generated {
    valid: Vec<BoxedTree<Request>>,
    invalid: Vec<BoxedTree<InvalidRequest>>,
    /// A valid request for the cases with one fault of their own (auth, transport, not found)
    /// and for set-ups.
    fixed: Request,
}

type BoxedTree<T> = Box<dyn ValueTree<Value = T>>;

/// The cases of `plan`, drawn in a fixed order from a generator seeded with the options' seed, so
/// the same seed always gives the same requests.
fn generate(spec: &Spec, plan: &Plan, options: &Options) -> Result<Generated, ContractError> {
    let error = |error: spec_strategies::StrategyError| {
        ContractError::Spec(format!("{}: {error}", plan.operation.operation_id))
    };
    let valid = spec.strategies.valid_request(&plan.shape).map_err(error)?;
    let invalid = spec
        .strategies
        .invalid_request(&plan.shape)
        .map_err(error)?;
    let mut runner = seeded(options.seed);
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
    // The fixed request is sent with a fault of its own (no token, a wrong content type, ...):
    // aimed at no record, so that a server that wrongly accepts it writes nothing of anyone's.
    let fixed = match plan.setup {
        Some(_) => follow::absent(plan, fixed.clone(), &spec.definitions).unwrap_or(fixed),
        None => fixed,
    };
    Ok(Generated {
        valid: valid_trees,
        invalid: invalid_trees,
        fixed,
    })
}

/// A generator seeded with `seed`: the same seed draws the same values.
fn seeded(seed: u64) -> TestRunner {
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed),
    )
}

/// Where the report counts the stateful checks.
pub const STATEFUL: &str = "stateful";

/// Mixed into the seed of the sequences, so that they are not drawn from the same stream as the
/// first operation's cases.
const STATEFUL_SEED: u64 = 0x5EC5_EC5E_C5EC_5EC5;

/// A marker no other run has: the prefix says who made the records, the rest is the time and
/// the process.
fn run_marker() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("contract-run-{:x}-{:x}", nanos, std::process::id())
}

/// What a run shares between the cases in flight.
pub(crate) struct Runner<'a> {
    pub(crate) spec: &'a Spec,
    pub(crate) target: &'a Target,
    pub(crate) options: &'a Options,
    clients: Clients,
    /// Each operation's fixed valid request.
    fixed: BTreeMap<&'static str, Request>,
    /// Values answered so far, per (operation, pointer), for `$unique`.
    seen: Mutex<BTreeMap<(&'static str, String), BTreeSet<String>>>,
    /// Responses per (operation, status).
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Every request sent, when the options ask for the log.
    log: Option<Mutex<Vec<Payload>>>,
    /// The resources, for the stateful checks and the clean-up.
    resources: Vec<Resource<'a>>,
    /// The run's marker: records the run makes carry it or one made from it.
    pub(crate) marker: String,
    /// Markers whose records are not yet deleted.
    pub(crate) markers: Mutex<BTreeSet<String>>,
    /// Records made by the one-request cases: (resource, id).
    made: Mutex<Vec<(usize, Value)>>,
    /// How many sequences have started (each gets its own marker).
    pub(crate) sequences_started: AtomicU64,
    /// Every id a create of a sequence answered or its list showed.
    pub(crate) ids_seen: Mutex<BTreeSet<String>>,
    /// How many records the run has deleted at the end of its work.
    pub(crate) removed: AtomicU64,
    /// How throttled answers are waited out, and how many were.
    patience: Arc<exchange::Patience>,
}

/// What a run accumulates, one case at a time, in case order.
pub(crate) struct State {
    report: Report,
    /// (operation, kind, failing checks) already reported.
    reported: BTreeSet<(&'static str, String, Vec<String>)>,
}

/// One request a case sent, and what came back.
pub(crate) struct Sent {
    pub(crate) what: String,
    pub(crate) credentials: Credentials,
    pub(crate) exchange: Option<Exchange>,
}

/// What one case sent and got, and how the checks went.
pub(crate) struct CaseResult {
    pub(crate) steps: Vec<Sent>,
    pub(crate) outcomes: Vec<Outcome>,
    /// For a sequence of operations: how many it has.
    pub(crate) sequence: Option<usize>,
    /// Ids a step's answer gave: (step index, id, `jq` filter that reads it from the answer).
    pub(crate) binds: Vec<(usize, Value, String)>,
}

impl CaseResult {
    pub(crate) fn new() -> Self {
        Self {
            steps: Vec::new(),
            outcomes: Vec::new(),
            sequence: None,
            binds: Vec::new(),
        }
    }

    fn failed(&self) -> bool {
        self.outcomes.iter().any(|(_, result)| result.is_err())
    }

    fn failure(mut self, check: &str, message: String) -> Self {
        self.outcomes.push((check.to_owned(), Err(message)));
        self
    }
}

type CaseFuture<'r> = std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + 'r>>;

impl Runner<'_> {
    async fn operation(
        &self,
        state: &mut State,
        plan: &Plan,
        generated: Generated,
        on_case: &mut dyn FnMut(),
    ) {
        let operation = plan.operation;
        self.cases(
            state,
            operation.operation_id,
            "valid",
            generated.valid,
            on_case,
            |runner, lane, request| Box::pin(runner.valid_case(lane, plan, request)),
        )
        .await;
        self.cases(
            state,
            operation.operation_id,
            "invalid",
            generated.invalid,
            on_case,
            |runner, _, case| Box::pin(runner.invalid_case(plan, case)),
        )
        .await;

        let fixed = &generated.fixed;
        if follow::has_not_found_case(operation, crate::operations()) {
            let result = match follow::absent(plan, fixed.clone(), &self.spec.definitions) {
                Ok(request) => {
                    self.error_case(plan, CASE_STEP, Credentials::Token, &request, None, 404)
                        .await
                }
                Err(message) => CaseResult::new().failure("request", message),
            };
            self.finish(state, operation, "not found", &result);
            on_case();
        }
        // Auth errors, with a valid request so that only the one fault is present.
        let without_role = self.target.token_without_role(operation);
        for (name, credentials) in [
            ("auth: no token", Some(Credentials::None)),
            ("auth: bad token", Some(Credentials::BadToken)),
            (
                "auth: token without the role",
                without_role.map(Credentials::WithoutRole),
            ),
        ] {
            match credentials {
                Some(credentials) => {
                    let result = self
                        .error_case(plan, CASE_STEP, credentials, fixed, None, 401)
                        .await;
                    self.finish(state, operation, name, &result);
                }
                None => state.report.skipped.push(format!(
                    "{}: {name}: no token of the target lacks the operation's role",
                    operation.operation_id
                )),
            }
            on_case();
        }
        let (hostile, skipped) = hostile::cases(
            operation,
            crate::operations(),
            &self.spec.definitions,
            &self.spec.root,
            fixed.body.as_ref(),
        );
        state.report.skipped.extend(
            skipped
                .into_iter()
                .map(|note| format!("{}: {note}", operation.operation_id)),
        );
        // A server that wrongly accepts one of them makes a record: it is deleted at the end.
        let mut marked = fixed.clone();
        self.own(plan, &mut marked);
        for case in &hostile {
            let result = self.hostile_case(plan, &marked, case).await;
            self.finish(state, operation, case.name, &result);
            on_case();
        }
        if operation.request_schema.is_none() {
            return;
        }
        let oversize = {
            let padding = "x".repeat(self.target.body_limit + 1);
            Bytes::from(
                serde_json::to_vec(&serde_json::json!({ "Padding": padding })).expect("serialises"),
            )
        };
        let body = Bytes::from(serde_json::to_vec(&fixed.body).expect("JSON values serialise"));
        for (name, content_type, body, status) in [
            (
                "transport: malformed JSON",
                "application/json",
                Bytes::from_static(b"{\"unterminated"),
                400,
            ),
            ("transport: wrong content type", "text/plain", body, 415),
            (
                "transport: oversize body",
                "application/json",
                oversize,
                413,
            ),
        ] {
            let result = self
                .error_case(
                    plan,
                    CASE_STEP,
                    Credentials::Token,
                    fixed,
                    Some((content_type, body)),
                    status,
                )
                .await;
            self.finish(state, operation, name, &result);
            on_case();
        }
    }

    /// Runs generated cases, up to one per lane at a time, records their checks in case order,
    /// then shrinks the first failing case of each kind of failure, one request at a time.
    async fn cases<T, F>(
        &self,
        state: &mut State,
        name: &'static str,
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
                self.record_case(state, name, kind, &result);
                on_case();
                // Many cases fail for one reason: shrink and report the first case of each set
                // of failing checks; the tallies count them all.
                if result.failed() && state.first_of_its_kind(name, kind, &result) {
                    to_shrink.push((index, result));
                }
            }
        }
        for (index, result) in to_shrink {
            let result = self.shrink(state, &mut trees[index], result, &run).await;
            self.report_failure(state, name, kind, &result);
        }
    }

    /// The usual proptest loop: keep a simpler value while it still fails. A step that does not
    /// change the request (a value under an absent optional) costs nothing. Runs alone, on lane 0.
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
        let started = Instant::now();
        let mut budget = self.options.max_shrink_requests;
        let mut failing = tree.current();
        while budget > 0 && tree.simplify() {
            let candidate = tree.current();
            if candidate == failing {
                continue;
            }
            let attempt = run(self, 0, candidate.clone()).await;
            state.report.requests += attempt.steps.len() as u64;
            budget = budget.saturating_sub(attempt.steps.len().max(1) as u32);
            if attempt.failed() {
                result = attempt;
                failing = candidate;
            } else if !tree.complicate() {
                break;
            }
        }
        state.report.shrinking += started.elapsed();
        result
    }

    /// Marks a create that adds more than one record with the run's marker: its answer names the
    /// first only, and the others must be found to be deleted at the end. With
    /// [`Options::max_creates`], a request whose `x-contract.creates` is a value of its body gets
    /// that value lowered to the cap first.
    fn own(&self, plan: &Plan, request: &mut Request) {
        if let (Some(cap), Some(Expression::RequestBody(pointer))) =
            (self.options.max_creates, &plan.creates)
            && let Some(slot) = request
                .body
                .as_mut()
                .and_then(|body| body.pointer_mut(pointer))
            && slot.as_u64().is_some_and(|count| count > cap)
        {
            *slot = Value::from(cap);
        }
        for resource in &self.resources {
            if resource.create.operation.operation_id != plan.operation.operation_id {
                continue;
            }
            if plan.count(request) > 1 {
                resource.mark(request, &self.marker);
            }
        }
    }

    /// Keeps the id a create answered, to delete it at the end.
    fn made(&self, plan: &Plan, exchange: &Exchange) {
        if exchange.status != plan.success_status {
            return;
        }
        for (index, resource) in self.resources.iter().enumerate() {
            if resource.create.operation.operation_id == plan.operation.operation_id
                && let Some(id) = exchange
                    .response_json()
                    .and_then(|json| json.pointer(&resource.answer_id).cloned())
            {
                self.made.lock().expect("not poisoned").push((index, id));
            }
        }
    }

    /// The markers whose records are not yet deleted, in order.
    fn markers(&self) -> Vec<String> {
        self.markers
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect()
    }

    /// Deletes every record the run made that is still there: those the one-request cases made
    /// and those carrying a marker not yet cleaned up (a sequence cut short).
    async fn clean_up(&self) {
        let markers = self.markers();
        let made = std::mem::take(&mut *self.made.lock().expect("not poisoned"));
        for (index, resource) in self.resources.iter().enumerate() {
            let mut ids: Vec<Value> = made
                .iter()
                .filter(|(of, _)| *of == index)
                .map(|(_, id)| id.clone())
                .collect();
            for marker in &markers {
                if let (_, Ok(records)) = self.marked(resource, marker).await {
                    ids.extend(
                        records
                            .iter()
                            .filter_map(|record| record.get(&resource.record_id).cloned()),
                    );
                }
            }
            ids.sort_by_key(Value::to_string);
            ids.dedup();
            let removed = self.remove(resource, &ids).await;
            self.removed.fetch_add(removed, AtomicOrdering::Relaxed);
        }
        self.markers.lock().expect("not poisoned").clear();
    }

    /// Counts a response towards the coverage of its operation's statuses, and logs its
    /// request when the run keeps a log.
    fn answered(
        &self,
        operation: &'static Operation,
        credentials: Credentials,
        exchange: &Exchange,
    ) {
        let token = match credentials {
            Credentials::Token => Some(self.target.token.clone()),
            Credentials::None => None,
            Credentials::BadToken => Some(BAD_TOKEN.to_owned()),
            Credentials::WithoutRole(index) => {
                Some(self.target.limited_tokens[index].token.clone())
            }
        };
        self.answered_with(operation, token, exchange);
    }

    /// [`Self::answered`], for a request sent with `token` (or none).
    pub(crate) fn answered_with(
        &self,
        operation: &'static Operation,
        token: Option<String>,
        exchange: &Exchange,
    ) {
        *self
            .responses
            .lock()
            .expect("not poisoned")
            .entry((operation.operation_id, exchange.status))
            .or_default() += 1;
        if let Some(log) = &self.log {
            log.lock().expect("not poisoned").push(Payload {
                method: exchange.method.clone(),
                path_and_query: exchange
                    .url
                    .strip_prefix(self.target.base_url.trim_end_matches('/'))
                    .unwrap_or(&exchange.url)
                    .to_owned(),
                content_type: exchange.content_type.clone(),
                headers: exchange.headers.clone(),
                body: exchange.request_body.clone(),
                token,
                last_on_connection: REFUSED_EARLY.contains(&exchange.status),
            });
        }
    }

    /// Sends `request` as it is (not through the typed method); `body` replaces its JSON body
    /// (with its content type).
    pub(crate) async fn send(
        &self,
        operation: &'static Operation,
        credentials: Credentials,
        request: &Request,
        body: Option<(&str, Bytes)>,
    ) -> Result<Exchange, String> {
        self.send_refused(operation, credentials, request, body, false)
            .await
    }

    /// [`Self::send`], for a request the server may refuse before reading its body
    /// (`refused_early`): then it is the connection's last (see [`exchange::send_raw`]).
    async fn send_refused(
        &self,
        operation: &'static Operation,
        credentials: Credentials,
        request: &Request,
        body: Option<(&str, Bytes)>,
        refused_early: bool,
    ) -> Result<Exchange, String> {
        let url = exchange::url(&self.target.base_url, operation, request);
        let body = body.or_else(|| {
            request.body.as_ref().map(|body| {
                (
                    "application/json",
                    Bytes::from(serde_json::to_vec(body).expect("JSON values serialise")),
                )
            })
        });
        let (content_type, body) = match body {
            Some((content_type, body)) => (Some(content_type), Some(body)),
            None => (None, None),
        };
        self.raw(
            credentials,
            operation,
            url,
            content_type,
            body,
            refused_early,
        )
        .await
    }

    /// Sends `body` to `url` as it is, as `credentials`, and counts the answer for `operation`.
    pub(crate) async fn raw(
        &self,
        credentials: Credentials,
        operation: &'static Operation,
        url: String,
        content_type: Option<&str>,
        body: impl Into<Option<Bytes>>,
        refused_early: bool,
    ) -> Result<Exchange, String> {
        let exchange = exchange::send_raw(
            self.clients.get(credentials),
            &self.patience,
            operation.method,
            url,
            content_type,
            body.into(),
            &[],
            refused_early,
        )
        .await
        .map_err(|error| format!("the request failed: {error}"))?;
        self.answered(operation, credentials, &exchange);
        Ok(exchange)
    }

    /// How throttled answers are waited out.
    pub(crate) fn patience(&self) -> &exchange::Patience {
        &self.patience
    }

    /// The set-up of a case: when links say `plan`'s operation acts on an existing record, the
    /// source operation's fixed request is sent first and the link carries its answer into
    /// `request`.
    async fn set_up(
        &self,
        plan: &Plan,
        request: Request,
        steps: &mut Vec<Sent>,
    ) -> Result<Request, Outcome> {
        let Some(setup) = &plan.setup else {
            return Ok(request);
        };
        let source = self.spec.plan(setup.source);
        let mut source_request = self.fixed[source.operation.operation_id].clone();
        self.own(source, &mut source_request);
        let source_request = &source_request;
        let fail = |message: String| ("set-up".to_owned(), Err(message));
        let exchange = self
            .send(setup.source, Credentials::Token, source_request, None)
            .await;
        if let Ok(exchange) = &exchange {
            self.made(source, exchange);
        }
        steps.push(Sent {
            what: format!("set-up: {}", setup.source.operation_id),
            credentials: Credentials::Token,
            exchange: exchange.as_ref().ok().cloned(),
        });
        let exchange = exchange.map_err(fail)?;
        if exchange.status != source.success_status {
            return Err(fail(format!(
                "{} answered {}, not {}",
                setup.source.operation_id, exchange.status, source.success_status
            )));
        }
        follow::apply(
            &setup.link,
            request,
            source_request,
            exchange.response_json().as_ref(),
            &|name| source.default(name),
        )
        .map_err(fail)
    }

    async fn valid_case(&self, lane: usize, plan: &Plan, request: Request) -> CaseResult {
        let operation = plan.operation;
        let mut result = CaseResult::new();
        let request = match self.set_up(plan, request, &mut result.steps).await {
            Ok(request) => request,
            Err(outcome) => {
                result.outcomes.push(outcome);
                return result;
            }
        };
        let mut request = request;
        self.own(plan, &mut request);
        let (client, proxy) = &self.clients.typed[lane];
        let arguments = Arguments {
            path: request.path.clone(),
            query: request.query.clone(),
            body: request.body.clone(),
        };
        let typed = dispatch::call(client, operation.operation_id, &arguments).await;
        let exchange = proxy.take();
        result.steps.push(Sent {
            what: CASE_STEP.to_owned(),
            credentials: Credentials::Token,
            exchange: exchange.clone(),
        });
        let Some(exchange) = exchange else {
            let message = match typed {
                Err(error) => format!("nothing was sent: {error}"),
                Ok(answer) => format!("no response recorded, yet the client got {answer:?}"),
            };
            return result.failure("request", message);
        };
        self.answered(operation, Credentials::Token, &exchange);
        self.made(plan, &exchange);
        let json = exchange.response_json();
        let outcomes = &mut result.outcomes;
        outcomes.push(checks::status(plan.success_status, exchange.status));
        outcomes.push((
            "typed decode".to_owned(),
            match typed {
                Ok(answer) if answer.success => Ok(()),
                Ok(answer) => Err(format!(
                    "the generated client returned status {} as an error",
                    answer.status
                )),
                Err(error) => Err(error.to_string()),
            },
        ));
        outcomes.push(checks::response_schema(
            self.spec.response_validator(operation, exchange.status),
            json.as_ref(),
        ));
        if let Some(documented) = operation.response(exchange.status) {
            outcomes.push(checks::documented_headers(&exchange, documented.headers));
        }
        let default = |name: &str| plan.default(name);
        let mut first_time = |pointer: &str, value: &Value| {
            self.seen
                .lock()
                .expect("not poisoned")
                .entry((operation.operation_id, pointer.to_owned()))
                .or_default()
                .insert(value.to_string())
        };
        outcomes.extend(checks::success(
            json.as_ref(),
            &plan.success,
            &mut SuccessContext {
                request: &request,
                default: &default,
                caller: self.target.caller.as_deref(),
                first_time: &mut first_time,
            },
        ));
        if let Some(page) = &plan.page {
            let formats = &plan.record_formats;
            outcomes.push(checks::page_figures(json.as_ref(), page));
            if let Some(order) = &plan.order {
                outcomes.push(checks::order(
                    json.as_ref(),
                    page,
                    order,
                    &request,
                    &default,
                    formats,
                ));
            }
            if !plan.filters.is_empty() {
                outcomes.push(checks::filters(
                    json.as_ref(),
                    page,
                    &plan.filters,
                    &request,
                    formats,
                ));
            }
        }
        if exchange.status == plan.success_status {
            self.follow_up(plan, &request, json.as_ref(), &mut result)
                .await;
        }
        result
    }

    /// After a success: read back what links lead to, and for a delete, make sure the record is
    /// gone.
    async fn follow_up(
        &self,
        plan: &Plan,
        request: &Request,
        answer: Option<&Value>,
        result: &mut CaseResult,
    ) {
        for link in &plan.reads {
            let target = self.spec.plan(link.target);
            let read = match follow::read_request(link, request, answer, &|name| plan.default(name))
            {
                Ok(read) => read,
                Err(message) => {
                    result
                        .outcomes
                        .push(("reads back as sent".to_owned(), Err(message)));
                    continue;
                }
            };
            let exchange = self
                .send(link.target, Credentials::Token, &read, None)
                .await;
            result.steps.push(Sent {
                what: format!(
                    "read back: {} (link {})",
                    link.target.operation_id, link.name
                ),
                credentials: Credentials::Token,
                exchange: exchange.as_ref().ok().cloned(),
            });
            let outcome = match exchange {
                Err(message) => Err(message),
                Ok(exchange) if exchange.status != target.success_status => Err(format!(
                    "{} answered {}, not {}",
                    link.target.operation_id, exchange.status, target.success_status
                )),
                Ok(exchange) => {
                    checks::read_back(
                        request.body.as_ref(),
                        exchange.response_json().as_ref(),
                        &plan.write_only,
                        &plan.formats,
                    )
                    .1
                }
            };
            result
                .outcomes
                .push(("reads back as sent".to_owned(), outcome));
        }
        let Some(read) = plan.read_after_delete else {
            return;
        };
        let again = follow::same_path(request);
        for (name, operation) in [
            ("read after delete", read),
            ("delete again", plan.operation),
        ] {
            if operation.response(404).is_none() {
                continue;
            }
            let exchange = self.send(operation, Credentials::Token, &again, None).await;
            result.steps.push(Sent {
                what: name.to_owned(),
                credentials: Credentials::Token,
                exchange: exchange.as_ref().ok().cloned(),
            });
            let outcome = exchange.and_then(|exchange| {
                if exchange.status == 404 {
                    Ok(())
                } else {
                    Err(format!(
                        "{} answered {}, not 404",
                        operation.operation_id, exchange.status
                    ))
                }
            });
            result.outcomes.push((format!("{name}: 404"), outcome));
        }
    }

    async fn invalid_case(&self, plan: &Plan, case: InvalidRequest) -> CaseResult {
        // Aimed at no record unless a violation is in the values that name one, so that a server
        // that wrongly accepts it writes nothing of anyone's.
        let request = match follow::unlabelled_absent(plan, &case, &self.spec.definitions) {
            Some(request) => request,
            None => case.request.clone(),
        };
        let mut result = self
            .error_case(plan, CASE_STEP, Credentials::Token, &request, None, 400)
            .await;
        let json = result
            .steps
            .last()
            .and_then(|step| step.exchange.as_ref())
            .and_then(Exchange::response_json);
        result
            .outcomes
            .extend(checks::labelled_errors(json.as_ref(), &case.violations));
        result
    }

    /// Sends a request that must fail with `expected` and checks the error envelope.
    async fn error_case(
        &self,
        plan: &Plan,
        what: &str,
        credentials: Credentials,
        request: &Request,
        body: Option<(&str, Bytes)>,
        expected: u16,
    ) -> CaseResult {
        let operation = plan.operation;
        let refused_early = REFUSED_EARLY.contains(&expected);
        let sent = self
            .send_refused(operation, credentials, request, body, refused_early)
            .await;
        let (mut result, exchange) = match one_step(what, credentials, sent) {
            Ok(sent) => sent,
            Err(failed) => return failed,
        };
        let documented = operation
            .response(exchange.status)
            .map(|response| response.headers);
        let validator = self.spec.response_validator(operation, exchange.status);
        error_checks(&mut result, &exchange, expected, documented, validator).await;
        result
    }

    /// A transport case: `request` with `case`'s one fault, and the answer the spec says it gets.
    async fn hostile_case(
        &self,
        plan: &Plan,
        request: &Request,
        case: &hostile::Case,
    ) -> CaseResult {
        let operation = plan.operation;
        let mut url = exchange::url(&self.target.base_url, operation, request);
        let mut method = operation.method;
        let mut credentials = Credentials::Token;
        let mut headers = Vec::new();
        match &case.fault {
            Fault::WrongMethod(wrong) => method = wrong,
            Fault::UnknownPath => {
                url = hostile::unknown_url(&url, &self.target.base_url, crate::operations());
            }
            Fault::RepeatedAuthorization => {
                // Both sent explicitly: a client's default header would give way to the second.
                credentials = Credentials::None;
                for token in [self.target.token.as_str(), BAD_TOKEN] {
                    headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
                }
            }
            Fault::Header(name, value) => headers.push(((*name).to_owned(), (*value).to_owned())),
            Fault::RepeatedQuery(name, text) => {
                let mut request = request.clone();
                request.query.remove(name);
                url = exchange::url(&self.target.base_url, operation, &request);
                let pair = form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, text)
                    .finish();
                let separator = if url.contains('?') { '&' } else { '?' };
                url = format!("{url}{separator}{pair}&{pair}");
            }
            Fault::ContentType(_) | Fault::RepeatedKey(_) | Fault::DateBeyondUtc(_) => {}
        }
        let (content_type, body) = hostile::body(&case.fault, request).unzip();
        let sent = exchange::send_raw(
            self.clients.get(credentials),
            &self.patience,
            method,
            url,
            content_type,
            body,
            &headers,
            true,
        )
        .await
        .map_err(|error| format!("the request failed: {error}"));
        let (mut result, exchange) = match one_step(CASE_STEP, credentials, sent) {
            Ok(sent) => sent,
            Err(failed) => return failed,
        };
        self.answered(operation, credentials, &exchange);
        self.made(plan, &exchange);
        let json = exchange.response_json();
        let validator = match &case.root {
            Some(answer) => self.spec.validator(&answer.schema),
            None => self.spec.response_validator(operation, exchange.status),
        };
        // The root's answers are documented there, their headers checked below.
        let documented = match &case.root {
            Some(_) => Some(&[][..]),
            None => operation
                .response(exchange.status)
                .map(|response| response.headers),
        };
        error_checks(&mut result, &exchange, case.status, documented, validator).await;
        if let Some(name) = &case.names {
            result
                .outcomes
                .push(checks::names_property(json.as_ref(), name));
        }
        if let Some(answer) = &case.root {
            let path_methods = matches!(case.fault, Fault::WrongMethod(_))
                .then(|| hostile::path_methods(operation.path, crate::operations()));
            result.outcomes.extend(checks::answer_headers(
                &exchange,
                &answer.headers,
                path_methods.as_ref(),
            ));
        }
        result
    }

    /// `headers` as a report shows them: the target's token as `$NEXUDUS_TOKEN`.
    fn without_token(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    value.replace(&self.target.token, "$NEXUDUS_TOKEN"),
                )
            })
            .collect()
    }

    /// Records a fixed case's checks (and its failure, if any).
    fn finish(&self, state: &mut State, operation: &Operation, kind: &str, result: &CaseResult) {
        self.record_case(state, operation.operation_id, kind, result);
        if result.failed() {
            self.report_failure(state, operation.operation_id, kind, result);
        }
    }

    /// Counts one case, its requests and each of its checks.
    fn record_case(&self, state: &mut State, name: &str, kind: &str, result: &CaseResult) {
        for (check, outcome) in &result.outcomes {
            let check = format!("{kind}: {check}");
            state.report.record(name, &check, outcome.is_ok());
        }
        state.report.cases += 1;
        state.report.requests += result.steps.len() as u64;
    }

    fn report_failure(&self, state: &mut State, name: &str, kind: &str, result: &CaseResult) {
        let pretty = |bytes: &Bytes| match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => serde_json::to_string_pretty(&json).expect("serialises"),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        let steps = result
            .steps
            .iter()
            .enumerate()
            .map(|(index, sent)| {
                let binds = result
                    .binds
                    .iter()
                    .filter(|(step, _, _)| *step == index)
                    .map(|(_, id, filter)| (id.to_string(), filter.clone()))
                    .collect();
                let auth = match sent.credentials {
                    Credentials::Token => "$NEXUDUS_TOKEN",
                    Credentials::None => "",
                    Credentials::BadToken => BAD_TOKEN,
                    Credentials::WithoutRole(_) => "$NEXUDUS_TOKEN_WITHOUT_ROLE",
                };
                match &sent.exchange {
                    Some(exchange) => report::Step {
                        what: sent.what.clone(),
                        request_body: pretty(&exchange.request_body),
                        status: exchange.status,
                        response_body: pretty(&exchange.response_body),
                        curl: report::curl(
                            &exchange.method,
                            &exchange.url,
                            auth,
                            exchange.content_type.as_deref(),
                            &self.without_token(&exchange.headers),
                            &exchange.request_body,
                        ),
                        binds,
                    },
                    None => report::Step {
                        what: sent.what.clone(),
                        request_body: String::new(),
                        status: 0,
                        response_body: "(no response)".into(),
                        curl: String::new(),
                        binds,
                    },
                }
            })
            .collect();
        state.report.failures.push(Failure {
            operation: name.to_owned(),
            case: kind.to_owned(),
            sequence: result.sequence,
            checks: result
                .outcomes
                .iter()
                .filter_map(|(check, outcome)| {
                    outcome
                        .as_ref()
                        .err()
                        .map(|message| (check.clone(), message.clone()))
                })
                .collect(),
            steps,
        });
    }

    /// The coverage table, and a failing check for each documented status a client can cause
    /// that no case produced.
    fn coverage(&self, report: &mut Report) {
        let responses = self.responses.lock().expect("not poisoned");
        let token_endpoint = crate::sign_in::token_endpoint()
            .filter(|_| self.target.sign_in.is_some())
            .map(|endpoint| (endpoint, crate::plan::reachable(endpoint)));
        let plans = self
            .spec
            .plans
            .iter()
            .map(|plan| (plan.operation, plan.reachable.clone()));
        for (operation, reachable_statuses) in plans.chain(token_endpoint) {
            for response in operation.responses {
                let count = responses
                    .get(&(operation.operation_id, response.status))
                    .copied()
                    .unwrap_or_default();
                let throttled = self
                    .spec
                    .root
                    .throttled
                    .as_ref()
                    .map(|answer| answer.status)
                    == Some(response.status);
                let reachable = reachable_statuses.contains(&response.status) && !throttled;
                report.coverage.insert(
                    (operation.operation_id.to_owned(), response.status),
                    Coverage {
                        responses: count,
                        reachable,
                        throttled,
                    },
                );
                if reachable {
                    report.record(
                        operation.operation_id,
                        &format!("coverage: {} produced", response.status),
                        count > 0,
                    );
                }
            }
        }
    }
}

/// A case of one request: its step recorded, and the exchange, or the case failed at sending.
fn one_step(
    what: &str,
    credentials: Credentials,
    sent: Result<Exchange, String>,
) -> Result<(CaseResult, Exchange), CaseResult> {
    let mut result = CaseResult::new();
    result.steps.push(Sent {
        what: what.to_owned(),
        credentials,
        exchange: sent.as_ref().ok().cloned(),
    });
    match sent {
        Ok(exchange) => Ok((result, exchange)),
        Err(message) => Err(result.failure("request", message)),
    }
}

/// The checks of an error answer: its status, the headers and the envelope (as the generated
/// client decodes it) when its status is `documented` (with the headers it requires), and the
/// schema `validator` of its body.
async fn error_checks(
    result: &mut CaseResult,
    exchange: &Exchange,
    expected: u16,
    documented: Option<&[&str]>,
    validator: Option<&spec_schema::Validator>,
) {
    let json = exchange.response_json();
    if let Some(headers) = documented {
        result
            .outcomes
            .push(checks::documented_headers(exchange, headers));
    }
    let typed: Result<ErrorEnvelope, String> = if documented.is_some() {
        exchange::decode_as_client(exchange).await
    } else {
        Err(format!(
            "status {} is not documented: the generated client reports UnexpectedResponse",
            exchange.status
        ))
    };
    result
        .outcomes
        .push(checks::status(expected, exchange.status));
    result
        .outcomes
        .extend(checks::error_envelope(json.as_ref(), &typed));
    result
        .outcomes
        .push(checks::response_schema(validator, json.as_ref()));
}

impl State {
    /// Whether `result` is the first failure of `operation`'s `kind` cases with its set of
    /// failing checks (the one that is shrunk and reported).
    fn first_of_its_kind(&mut self, name: &'static str, kind: &str, result: &CaseResult) -> bool {
        // A failing sequence fails every later check that depends on the step that failed, so its
        // checks do not tell failures apart: its first failure is the one shrunk (each shrink
        // costs whole sequences).
        let signature: Vec<String> = match result.sequence {
            Some(_) => Vec::new(),
            None => result
                .outcomes
                .iter()
                .filter(|(_, outcome)| outcome.is_err())
                .map(|(check, _)| check.clone())
                .collect(),
        };
        self.reported.insert((name, kind.to_owned(), signature))
    }
}
