//! Running the cases: each operation's requests drawn first from a seeded generator, then sent
//! with up to `concurrency` cases in flight and recorded in case order, so a seed always gives the
//! same report. Every failed check is counted into its group (operation, check, kind of
//! mismatch); the first case of each new group is then shrunk alone, one request at a time,
//! and kept as the group's reproduction.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering as AtomicOrdering},
    },
    time::Instant,
};

use api_description::{Api, Arguments, Caller, Operation};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::{Map, Value};
use spec_strategies::{InvalidRequest, Request};

use crate::{
    ContractError, Options, Target, checks,
    checks::{Documented, Outcome, SuccessContext},
    drift,
    exchange::{self, Exchange},
    expression::Expression,
    follow,
    hostile::{self, Fault},
    plan::{Plan, Spec},
    records::{Proof, Records},
    replay::Payload,
    report::{self, CASE_STEP, Coverage, Failure, Report},
    resource::Resource,
    stateful,
    vocabulary::{Auth, Case, Check, Gone, Mismatch, Problems, Transport},
};

/// Who a request is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    Token,
    None,
    BadToken,
    /// The target's limited token of this index.
    WithoutRole(usize),
    /// A token the token endpoint issued during the run (sent by a client of its own).
    Issued,
}

/// A token no server has issued.
const BAD_TOKEN: &str = "contract-check-invalid-token";

/// Statuses a server may answer before it has read a request's body (refused credentials, an
/// oversize body, a wrong content type).
const REFUSED_EARLY: [u16; 3] = [401, 413, 415];

/// How many ids, counting down from the one meant to name no record, are tried before the cases
/// aimed at one are given up.
const ABSENT_TRIES: u64 = 8;

/// Requests in a row that get no answer at all, after which the run stops: the server is gone.
const UNANSWERED_IN_A_ROW: u32 = 16;

/// How many times the per-failure shrink budget all of a run's shrinking may spend.
const SHRINK_BUDGETS: u64 = 8;

struct Clients {
    token: reqwest::Client,
    anonymous: reqwest::Client,
    bad_token: reqwest::Client,
    limited: Vec<reqwest::Client>,
    /// One per lane (case in flight): the API's typed client pointed at the lane's own recording
    /// proxy, so that a recorded exchange always belongs to its lane's case.
    typed: Vec<(Box<dyn Caller>, exchange::RecordingProxy)>,
}

impl Clients {
    fn get(&self, credentials: Credentials) -> &reqwest::Client {
        match credentials {
            Credentials::Token => &self.token,
            Credentials::None => &self.anonymous,
            Credentials::BadToken => &self.bad_token,
            Credentials::WithoutRole(index) => &self.limited[index],
            // An issued token is sent by a client made for it; this one is never asked for.
            Credentials::Issued => &self.anonymous,
        }
    }
}

fn build_client(token: Option<&str>, base_url: &str) -> Result<reqwest::Client, ContractError> {
    exchange::http_client(token).map_err(|message| ContractError::Client {
        base_url: base_url.to_owned(),
        message,
    })
}

/// Whether the server still answers: requests that got no answer, in a row.
#[derive(Default)]
struct Health {
    unanswered: AtomicU32,
    gone: AtomicBool,
    last_error: Mutex<String>,
    notify: tokio::sync::Notify,
}

impl Health {
    fn note<T>(&self, sent: &Result<T, String>) {
        match sent {
            Ok(_) => self.unanswered.store(0, AtomicOrdering::Relaxed),
            Err(error) => {
                *self.last_error.lock().expect("not poisoned") = error.clone();
                if self.unanswered.fetch_add(1, AtomicOrdering::Relaxed) + 1 >= UNANSWERED_IN_A_ROW
                    && !self.gone.swap(true, AtomicOrdering::Relaxed)
                {
                    self.notify.notify_waiters();
                }
            }
        }
    }

    fn gone(&self) -> bool {
        self.gone.load(AtomicOrdering::Relaxed)
    }

    async fn wait_gone(&self) {
        loop {
            let notified = self.notify.notified();
            if self.gone() {
                return;
            }
            notified.await;
        }
    }
}

/// Runs every check against `target` until `stop` completes, then deletes what the run made.
pub(crate) async fn run(
    api: &Api,
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
    stop: impl std::future::Future<Output = ()>,
) -> Result<Report, ContractError> {
    let spec = Spec::load(api)?;
    let (resources, unscoped) = Resource::all(&spec);
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
        let client = (api.connect)(&proxy.base_url, Some(&target.token)).map_err(|message| {
            ContractError::Client {
                base_url: proxy.base_url.clone(),
                message,
            }
        })?;
        typed.push((client, proxy));
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
        .enumerate()
        .map(|(index, plan)| generate(&spec, plan, options, index as u64))
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
        records: Records::new(),
        ids_seen: Mutex::new(std::collections::BTreeSet::new()),
        patience,
        health: Health::default(),
        fresh: follow::Fresh::new(),
    };
    let mut state = State {
        report: Report {
            seed: options.seed,
            skipped: unscoped
                .into_iter()
                .map(|why| format!("stateful checks of {why}"))
                .collect(),
            ..Report::default()
        },
        shrink_spent: 0,
    };
    let started = Instant::now();

    // The types were generated from the spec: however many places differ, that is one fault.
    let derived = (api.derived_schemas)();
    if derived.is_empty() {
        state.report.skipped.push(
            "types: the API's types derive no JSON Schema (built without schemars)".to_owned(),
        );
    } else {
        let mut differences = Problems::default();
        for difference in drift::differences(derived, &spec.definitions) {
            differences.add("the types differ from the spec", difference);
        }
        match differences.result() {
            Ok(()) => state
                .report
                .record("types", Case::Types, &Check::TypesAgree, true),
            Err(mismatch) => {
                state
                    .report
                    .fail("types", Case::Types, Check::TypesAgree, mismatch, None);
            }
        }
        *state
            .report
            .cases_by_operation
            .entry("types".to_owned())
            .or_default() += 1;
    }

    let work = async {
        for (plan, cases) in spec.plans.iter().zip(generated) {
            if runner.health.gone() {
                break;
            }
            runner.operation(&mut state, plan, cases, on_case).await;
        }
        if let (Some(credentials), Some(endpoint)) = (&target.sign_in, spec.token_endpoint) {
            for (kind, result) in runner.sign_in_cases(endpoint, credentials).await {
                runner.finish(
                    &mut state,
                    endpoint.operation_id,
                    Case::SignIn(kind),
                    &result,
                );
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
                    Case::Sequence,
                    trees,
                    options.lanes(),
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
        () = runner.health.wait_gone() => {}
    }
    if runner.health.gone() {
        state.report.stopped = Some(format!(
            "the server did not answer {UNANSWERED_IN_A_ROW} requests in a row (the last: {})",
            runner.health.last_error.lock().expect("not poisoned")
        ));
    }
    if options.keep_records {
        state.report.kept = runner.records.pending();
    } else if runner.health.gone() {
        state.report.remaining.push(format!(
            "the server stopped answering before the clean-up: the records carry {}",
            runner.records.pending().join(", ")
        ));
    } else {
        runner.clean_up().await;
    }
    for (operation, check, mismatch, failure) in
        std::mem::take(&mut *runner.records.failures.lock().expect("not poisoned"))
    {
        state
            .report
            .fail(&operation, Case::CleanUp, check, mismatch, Some(failure));
    }
    state.report.remaining.extend(std::mem::take(
        &mut *runner.records.remaining.lock().expect("not poisoned"),
    ));
    state.report.removed = runner.records.removed.load(AtomicOrdering::Relaxed);
    (state.report.throttled, state.report.throttle_wait) = runner.patience.waited();
    state.report.gave_up_waiting = runner.patience.gave_up();
    runner.coverage(&mut state.report);
    for plan in spec.plans.iter().filter(|plan| plan.client_named()) {
        let made = runner
            .responses
            .lock()
            .expect("not poisoned")
            .get(&(plan.operation.operation_id, plan.success_status))
            .copied()
            .unwrap_or_default();
        if made > 0 && !options.keep_records {
            state.report.remaining.push(format!(
                "what the {made} successes of {} wrote at the ids the run chose: the spec gives \
                 no resource to find them by",
                plan.operation.operation_id
            ));
        }
    }
    state.report.sort_groups();
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

/// The cases of `plan`, the `index`-th operation, drawn in a fixed order from a generator seeded
/// with the options' seed and the index, so the same seed always gives the same requests and no
/// two operations draw the same stream.
fn generate(
    spec: &Spec,
    plan: &Plan,
    options: &Options,
    index: u64,
) -> Result<Generated, ContractError> {
    let error = |error: spec_strategies::StrategyError| {
        ContractError::Spec(format!("{}: {error}", plan.operation.operation_id))
    };
    let valid = spec.strategies.valid_request(&plan.shape).map_err(error)?;
    let invalid = spec
        .strategies
        .invalid_request(&plan.shape)
        .map_err(error)?;
    let mut runner = seeded(options.seed ^ index.wrapping_mul(OPERATION_SEED));
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
        Some(_) => follow::absent(plan, fixed.clone(), &spec.definitions, 0).unwrap_or(fixed),
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

/// Mixed into the seed of each operation's cases (times its index).
const OPERATION_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// What a run shares between the cases in flight.
pub(crate) struct Runner<'a> {
    pub(crate) spec: &'a Spec,
    pub(crate) target: &'a Target,
    pub(crate) options: &'a Options,
    clients: Clients,
    /// Each operation's fixed valid request.
    fixed: BTreeMap<&'static str, Request>,
    /// Values answered so far, per (operation, pointer), for `$unique`.
    seen: Mutex<BTreeMap<(&'static str, String), std::collections::BTreeSet<String>>>,
    /// Responses per (operation, status).
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Every request sent, when the options ask for the log.
    log: Option<Mutex<Vec<Payload>>>,
    /// The resources, for the stateful checks and the clean-up.
    pub(crate) resources: Vec<Resource<'a>>,
    /// The records the run made.
    pub(crate) records: Records,
    /// Every id a create of a sequence answered or its list showed.
    pub(crate) ids_seen: Mutex<std::collections::BTreeSet<String>>,
    /// How throttled answers are waited out, and how many were.
    patience: Arc<exchange::Patience>,
    /// Whether the server still answers.
    health: Health,
    /// Fresh values for the ids of records a client names.
    fresh: follow::Fresh,
}

/// What a run accumulates, one case at a time, in case order.
pub(crate) struct State {
    report: Report,
    /// Requests spent on shrinking so far.
    shrink_spent: u64,
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

    /// Whether a check failed the way (check, kind) names.
    fn fails(&self, check: &Check, kind: &str) -> bool {
        self.outcomes.iter().any(|(found, outcome)| {
            found == check
                && outcome
                    .as_ref()
                    .is_err_and(|mismatch| mismatch.kind == kind)
        })
    }

    pub(crate) fn failure(mut self, check: Check, mismatch: Mismatch) -> Self {
        self.outcomes.push((check, Err(mismatch)));
        self
    }
}

/// The mismatch of a request that got no answer.
pub(crate) fn unanswered(message: String) -> Mismatch {
    Mismatch::new("no answer", message)
}

type CaseFuture<'r> = std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + 'r>>;

impl Runner<'_> {
    /// The id `plan`'s not-found and faulty cases aim at, counting down from the one meant to
    /// name no record ([`follow::absent`]): the first that a read shows to name no record now,
    /// so that a write aimed at it touches nothing (`0` for an operation that writes no record
    /// named by a link, or whose record nothing reads). A failed case when none is free.
    async fn choose_absent(&self, state: &mut State, plan: &Plan) -> Result<u64, CaseResult> {
        let writes = !matches!(plan.operation.method, "GET" | "HEAD");
        let Some(setup) = plan.setup.as_ref().filter(|_| writes) else {
            return Ok(0);
        };
        let fixed = &self.fixed[plan.operation.operation_id];
        let resource = self.resources.iter().position(|resource| {
            resource.create.operation.operation_id == setup.source.operation_id
        });
        let mut result = CaseResult::new();
        for nth in 0..ABSENT_TRIES {
            let Ok(request) = follow::absent(plan, fixed.clone(), &self.spec.definitions, nth)
            else {
                return Ok(0);
            };
            let (id, proof, read) = match resource {
                Some(resource) => {
                    let Some(id) = self.resources[resource].id_in(plan, &request) else {
                        return Ok(0);
                    };
                    let (proof, read) = self.prove(resource, &id, None).await;
                    (id, proof, read)
                }
                // No resource to read the id through: the read of the same path, if any.
                None => {
                    let Some(read) = plan.read_after_delete else {
                        return Ok(0);
                    };
                    let request = follow::same_path(&request);
                    let id = Value::from(exchange::url("", read, &request));
                    let sent = self.send(read, Credentials::Token, &request, None).await;
                    let proof = match &sent {
                        Ok(exchange) if exchange.status == 404 => Proof::Gone,
                        Ok(exchange) if exchange.status < 300 => {
                            Proof::Foreign(Mismatch::new("found", "found"))
                        }
                        Ok(exchange) => Proof::Unknown(Mismatch::new(
                            format!("the read answered {}", exchange.status),
                            format!("{} answered {}", read.operation_id, exchange.status),
                        )),
                        Err(message) => Proof::Unknown(unanswered(message.clone())),
                    };
                    (id, proof, sent.ok())
                }
            };
            state.report.requests += u64::from(read.is_some());
            result.steps.push(Sent {
                what: format!("read record {id}: does it name no record?"),
                credentials: Credentials::Token,
                exchange: read,
            });
            match proof {
                Proof::Gone => return Ok(nth),
                Proof::Own | Proof::Foreign(_) => continue,
                Proof::Unknown(mismatch) => {
                    return Err(result.failure(
                        Check::OwnRecord,
                        mismatch.within(&format!(
                            "a read of {id}, meant to name no record, did not answer 404: no \
                             request aimed at it was sent"
                        )),
                    ));
                }
            }
        }
        Err(result.failure(
            Check::OwnRecord,
            Mismatch::new(
                "every id meant to name no record names one",
                format!(
                    "the {ABSENT_TRIES} ids tried, meant to name no record, each name one: no \
                     request aimed at one was sent"
                ),
            ),
        ))
    }

    async fn operation(
        &self,
        state: &mut State,
        plan: &Plan,
        generated: Generated,
        on_case: &mut dyn FnMut(),
    ) {
        let operation = plan.operation;
        let name = operation.operation_id;
        // Records a client names (a create at an id it chooses) would be written by cases in
        // flight at once: those cases go one at a time.
        let lanes = if plan.client_named() {
            1
        } else {
            self.options.lanes()
        };
        self.cases(
            state,
            name,
            Case::Valid,
            generated.valid,
            lanes,
            on_case,
            |runner, lane, request| Box::pin(runner.valid_case(lane, plan, request)),
        )
        .await;
        let nth = match self.choose_absent(state, plan).await {
            Ok(nth) => nth,
            Err(result) => {
                self.finish(state, name, Case::NotFound, &result);
                state.report.skipped.push(format!(
                    "{name}: every case but the valid ones: no id meant to name no record is free"
                ));
                return;
            }
        };
        self.cases(
            state,
            name,
            Case::Invalid,
            generated.invalid,
            self.options.lanes(),
            on_case,
            move |runner, _, case| Box::pin(runner.invalid_case(plan, case, nth)),
        )
        .await;

        let mut fixed = match plan.setup {
            Some(_) => follow::absent(plan, generated.fixed.clone(), &self.spec.definitions, nth)
                .unwrap_or_else(|_| generated.fixed.clone()),
            None => generated.fixed.clone(),
        };
        self.own(plan, &mut fixed);
        let fixed = &fixed;
        if follow::has_not_found_case(operation, &self.spec.operations) {
            let result = match follow::absent(plan, fixed.clone(), &self.spec.definitions, nth) {
                Ok(request) => {
                    self.error_case(plan, Credentials::Token, &request, None, 404)
                        .await
                        .0
                }
                Err(message) => {
                    CaseResult::new().failure(Check::SetUp, Mismatch::new("no absent id", message))
                }
            };
            self.finish(state, name, Case::NotFound, &result);
            on_case();
        }
        // Auth errors, with a valid request so that only the one fault is present.
        let without_role = self.target.token_without_role(operation);
        for (auth, credentials) in [
            (Auth::NoToken, Some(Credentials::None)),
            (Auth::BadToken, Some(Credentials::BadToken)),
            (
                Auth::WithoutRole,
                without_role.map(Credentials::WithoutRole),
            ),
        ] {
            match credentials {
                Some(credentials) => {
                    let (result, _) = self.error_case(plan, credentials, fixed, None, 401).await;
                    self.finish(state, name, Case::Auth(auth), &result);
                }
                None => state.report.skipped.push(format!(
                    "{name}: {}: no token of the target lacks the operation's role",
                    Case::Auth(auth)
                )),
            }
            on_case();
        }
        let (hostile, skipped) = hostile::cases(
            operation,
            &self.spec.operations,
            &self.spec.definitions,
            &self.spec.root,
            fixed.body.as_ref(),
        );
        state
            .report
            .skipped
            .extend(skipped.into_iter().map(|note| format!("{name}: {note}")));
        for case in &hostile {
            let result = self.hostile_case(plan, fixed, case).await;
            self.finish(state, name, Case::Transport(case.kind), &result);
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
        for (transport, content_type, body, status) in [
            (
                Transport::MalformedJson,
                "application/json",
                Bytes::from_static(b"{\"unterminated"),
                400,
            ),
            (Transport::WrongContentType, "text/plain", body, 415),
            (Transport::OversizeBody, "application/json", oversize, 413),
        ] {
            let (result, _) = self
                .error_case(
                    plan,
                    Credentials::Token,
                    fixed,
                    Some((content_type, body)),
                    status,
                )
                .await;
            self.finish(state, name, Case::Transport(transport), &result);
            on_case();
        }
    }

    /// Runs generated cases, up to one per lane at a time, records their checks in case order,
    /// then shrinks the first case of each new group of failures, one request at a time.
    #[allow(clippy::too_many_arguments)]
    async fn cases<T, F>(
        &self,
        state: &mut State,
        name: &'static str,
        case: Case,
        mut trees: Vec<BoxedTree<T>>,
        lanes: usize,
        on_case: &mut dyn FnMut(),
        run: F,
    ) where
        T: Clone + PartialEq + std::fmt::Debug,
        F: for<'r> Fn(&'r Self, usize, T) -> CaseFuture<'r>,
    {
        let lanes = lanes.clamp(1, self.options.lanes());
        let mut to_shrink = Vec::new();
        {
            let mut results = stream::iter(trees.iter().map(|tree| tree.current()).enumerate())
                .map(|(index, value)| run(self, index % lanes, value))
                .buffered(lanes)
                .enumerate();
            while let Some((index, result)) = results.next().await {
                if self.health.gone() {
                    break;
                }
                let opened = self.record_case(state, name, case, &result);
                on_case();
                // Many cases fail for one reason: the first case of each group is shrunk and
                // shown; the group counts them all.
                if !opened.is_empty() {
                    to_shrink.push((index, result, opened));
                }
            }
        }
        for (index, result, opened) in to_shrink {
            if self.health.gone() {
                break;
            }
            let budget = SHRINK_BUDGETS * u64::from(self.options.max_shrink_requests);
            let shrunk = if state.shrink_spent < budget {
                let (check, kind) = &opened[0];
                self.shrink(state, &mut trees[index], check, kind, &run)
                    .await
            } else {
                None
            };
            for (check, kind) in &opened {
                let shown = match &shrunk {
                    Some(shrunk) if shrunk.fails(check, kind) => shrunk,
                    _ => &result,
                };
                self.attach(state, name, case, shown, check, kind);
            }
        }
    }

    /// The usual proptest loop: keep a simpler value while it still fails the way (check, kind)
    /// names. A step that does not change the request (a value under an absent optional) costs
    /// nothing. Runs alone, on lane 0.
    async fn shrink<T, F>(
        &self,
        state: &mut State,
        tree: &mut BoxedTree<T>,
        check: &Check,
        kind: &str,
        run: &F,
    ) -> Option<CaseResult>
    where
        T: Clone + PartialEq + std::fmt::Debug,
        F: for<'r> Fn(&'r Self, usize, T) -> CaseFuture<'r>,
    {
        let started = Instant::now();
        let mut budget = self.options.max_shrink_requests;
        let mut failing = tree.current();
        let mut smallest = None;
        while budget > 0 && tree.simplify() {
            let candidate = tree.current();
            if candidate == failing {
                continue;
            }
            let attempt = run(self, 0, candidate.clone()).await;
            let requests = attempt.steps.len().max(1) as u32;
            state.report.requests += answered(&attempt);
            state.shrink_spent += u64::from(requests);
            budget = budget.saturating_sub(requests);
            if attempt.fails(check, kind) {
                smallest = Some(attempt);
                failing = candidate;
            } else if !tree.complicate() {
                break;
            }
        }
        state.report.shrinking += started.elapsed();
        smallest
    }

    /// Records a fixed case's checks, and shows it as the reproduction of each group it opened.
    pub(crate) fn finish(&self, state: &mut State, name: &str, case: Case, result: &CaseResult) {
        for (check, kind) in self.record_case(state, name, case, result) {
            self.attach(state, name, case, result, &check, &kind);
        }
    }

    /// Counts one case, its requests and each of its checks, failures into their groups; the
    /// groups it opened, as (check, kind).
    fn record_case(
        &self,
        state: &mut State,
        name: &str,
        case: Case,
        result: &CaseResult,
    ) -> Vec<(Check, String)> {
        let mut opened = Vec::new();
        for (check, outcome) in &result.outcomes {
            state.report.record(name, case, check, outcome.is_ok());
            if let Err(mismatch) = outcome
                && state.report.group(name, case, check, mismatch)
            {
                opened.push((check.clone(), mismatch.kind.clone()));
            }
        }
        *state
            .report
            .cases_by_operation
            .entry(name.to_owned())
            .or_default() += 1;
        state.report.cases += 1;
        state.report.requests += answered(result);
        opened
    }

    /// Shows `result` as the reproduction of the group (name, check, kind).
    fn attach(
        &self,
        state: &mut State,
        name: &str,
        case: Case,
        result: &CaseResult,
        check: &Check,
        kind: &str,
    ) {
        let mismatch = result
            .outcomes
            .iter()
            .find_map(|(found, outcome)| match outcome {
                Err(mismatch) if found == check && mismatch.kind == kind => Some(mismatch.clone()),
                _ => None,
            });
        let failure = self.failure(name, case, result);
        if let Some(group) =
            state.report.groups.iter_mut().find(|group| {
                group.operation == name && &group.check == check && group.kind == kind
            })
        {
            if let Some(mismatch) = mismatch {
                group.mismatch = mismatch;
            }
            group.failure = Some(failure);
        }
    }

    /// `result` as a report shows it: its failed checks, and every request with a `curl`
    /// command (the target's token as `$NEXUDUS_TOKEN`).
    pub(crate) fn failure(&self, name: &str, case: Case, result: &CaseResult) -> Failure {
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
                    Credentials::Issued => "$ISSUED_ACCESS_TOKEN",
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
        Failure {
            operation: name.to_owned(),
            case,
            sequence: result.sequence,
            checks: result
                .outcomes
                .iter()
                .filter_map(|(check, outcome)| {
                    outcome
                        .as_ref()
                        .err()
                        .map(|mismatch| (check.clone(), mismatch.clone()))
                })
                .collect(),
            steps,
        }
    }

    /// `headers` as a report shows them: a value that is the target's token, or `Bearer` and
    /// the token, with `$NEXUDUS_TOKEN` in its place (a token is replaced only as a whole value).
    fn without_token(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        let token = &self.target.token;
        headers
            .iter()
            .map(|(name, value)| {
                let value = if value == token {
                    "$NEXUDUS_TOKEN".to_owned()
                } else if value.split_once(' ').is_some_and(|(scheme, rest)| {
                    scheme.eq_ignore_ascii_case("bearer") && rest == token
                }) {
                    "Bearer $NEXUDUS_TOKEN".to_owned()
                } else {
                    value.clone()
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The coverage table, and a failure for each documented status a client can cause that no
    /// case produced.
    fn coverage(&self, report: &mut Report) {
        let responses = self.responses.lock().expect("not poisoned");
        let token_endpoint = self
            .spec
            .token_endpoint
            .filter(|_| self.target.sign_in.is_some())
            .map(|endpoint| (endpoint, crate::plan::reachable(endpoint)));
        let plans = self
            .spec
            .plans
            .iter()
            .map(|plan| (plan.operation, plan.reachable.clone()));
        let complete = !report.interrupted && report.stopped.is_none();
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
                // A run cut short did not send every case, and an operation with a failure may
                // miss a status because of it: what they did not produce says nothing more.
                let failed = report
                    .groups
                    .iter()
                    .any(|group| group.operation == operation.operation_id);
                if !reachable || !complete || failed {
                    continue;
                }
                let check = Check::Produced(response.status);
                if count > 0 {
                    report.record(operation.operation_id, Case::Coverage, &check, true);
                } else {
                    let status = response.status;
                    report.fail(
                        operation.operation_id,
                        Case::Coverage,
                        check,
                        Mismatch::new(
                            "not produced",
                            format!(
                                "no case got {status}, which the spec documents and a client can \
                                 cause"
                            ),
                        ),
                        None,
                    );
                }
            }
        }
    }

    /// Marks a create with the run's marker (in the resource's marker property), so that what
    /// it makes can be told apart and found again, with [`Options::max_creates`] applied first.
    fn own(&self, plan: &Plan, request: &mut Request) {
        self.cap(plan, request);
        self.mark(plan, request);
    }

    /// With [`Options::max_creates`], a request whose `x-contract.creates` is a value of its body
    /// gets that value lowered to the cap.
    fn cap(&self, plan: &Plan, request: &mut Request) {
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
    }

    /// Writes the run's marker into a create's body (an object).
    fn mark(&self, plan: &Plan, request: &mut Request) {
        for resource in &self.resources {
            if resource.create.operation.operation_id == plan.operation.operation_id
                && request.body.as_ref().is_some_and(Value::is_object)
            {
                resource.mark(request, &self.records.marker);
                self.records
                    .asked(&self.records.marker, plan.count(request));
            }
        }
    }

    /// Keeps the id a create answered, to delete it at the end (once a read shows it is the
    /// run's own).
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
                self.records
                    .answered(index, id, plan.operation.operation_id);
            }
        }
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
            Credentials::Issued => None,
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
        let sent = self
            .raw_as(
                self.clients.get(credentials),
                operation.method,
                url,
                content_type,
                body.into(),
                &[],
                refused_early,
            )
            .await;
        if let Ok(exchange) = &sent {
            self.answered(operation, credentials, exchange);
        }
        sent
    }

    /// Sends a request through `client` ([`exchange::send_raw`]), noting whether the server
    /// answered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn raw_as(
        &self,
        client: &reqwest::Client,
        method: &str,
        url: String,
        content_type: Option<&str>,
        body: Option<Bytes>,
        headers: &[(String, String)],
        refused_early: bool,
    ) -> Result<Exchange, String> {
        if self.health.gone() {
            return Err("not sent: the server stopped answering".to_owned());
        }
        let sent = exchange::send_raw(
            client,
            &self.patience,
            method,
            url,
            content_type,
            body,
            headers,
            refused_early,
        )
        .await
        .map_err(|error| format!("the request failed: {error}"));
        self.health.note(&sent);
        sent
    }

    /// What the spec documents of `operation`'s answer with `status`.
    fn documented(&self, operation: &Operation, status: u16) -> Option<Documented<'_>> {
        let response = operation.response(status)?;
        Some(Documented {
            media_types: response.media_types,
            headers: response.headers,
            validator: self.spec.response_validator(operation, status),
        })
    }

    /// The checks of an answer of `operation` that should be `expected`: status, content type,
    /// documented headers, schema; whether the checks of what it holds apply.
    pub(crate) fn judge_answer(
        &self,
        operation: &Operation,
        exchange: &Exchange,
        expected: u16,
        outcomes: &mut Vec<Outcome>,
    ) -> bool {
        let (mut judged, shaped) = checks::answer(
            exchange,
            expected,
            self.documented(operation, exchange.status),
        );
        if let (Some(throttled), Some((_, Err(mismatch)))) =
            (&self.spec.root.throttled, judged.first_mut())
            && throttled.status == exchange.status
        {
            mismatch.message = format!(
                "{}, the throttled answer, not waited out: {}",
                mismatch.message,
                self.why_not_waited(exchange)
            );
        }
        outcomes.extend(judged);
        shaped
    }

    /// Why a throttled answer came back as the answer: what it lacks of the root's
    /// `x-contract.throttled`, or the wait it would have needed.
    fn why_not_waited(&self, exchange: &Exchange) -> String {
        let Some(throttled) = &self.spec.root.throttled else {
            return String::new();
        };
        let mut lacks: Vec<String> = checks::missing_headers(exchange, &throttled.headers)
            .into_iter()
            .map(|name| format!("no {name} header"))
            .collect();
        let valid = exchange.response_json().is_some_and(|json| {
            self.spec
                .validator(&throttled.schema)
                .is_some_and(|validator| validator.is_valid(&json))
        });
        if !valid {
            lacks.push(format!("a body that is not {}", throttled.schema));
        }
        if lacks.is_empty() {
            match self.patience.gave_up() {
                Some(why) => why,
                None => format!(
                    "still throttled after waiting {:.0?}, the most one request waits",
                    self.options.throttle_wait
                ),
            }
        } else {
            lacks.join(", ")
        }
    }

    /// The set-up of a case: when links say `plan`'s operation acts on an existing record, the
    /// source operation's fixed request is sent first and the link carries its answer into
    /// `request`. A case that writes the record gets it only once a read shows the record is the
    /// run's own.
    async fn set_up(
        &self,
        plan: &Plan,
        request: Request,
        result: &mut CaseResult,
    ) -> Option<Request> {
        let Some(setup) = &plan.setup else {
            return Some(request);
        };
        let source = self.spec.plan(setup.source);
        let mut source_request = self.fixed[source.operation.operation_id].clone();
        self.fresh.apply(
            &setup.link,
            source,
            &mut source_request,
            &self.spec.definitions,
        );
        self.own(source, &mut source_request);
        let source_request = &source_request;
        let exchange = self
            .send(setup.source, Credentials::Token, source_request, None)
            .await;
        if let Ok(exchange) = &exchange {
            self.made(source, exchange);
        }
        result.steps.push(Sent {
            what: format!("set-up: {}", setup.source.operation_id),
            credentials: Credentials::Token,
            exchange: exchange.as_ref().ok().cloned(),
        });
        let fail = |result: &mut CaseResult, mismatch: Mismatch| {
            result.outcomes.push((Check::SetUp, Err(mismatch)));
            None
        };
        let exchange = match exchange {
            Ok(exchange) => exchange,
            Err(message) => return fail(result, unanswered(message)),
        };
        if exchange.status != source.success_status {
            return fail(
                result,
                Mismatch::new(
                    format!("{} answered {}", setup.source.operation_id, exchange.status),
                    format!(
                        "{} answered {}, not {}",
                        setup.source.operation_id, exchange.status, source.success_status
                    ),
                ),
            );
        }
        let answer = exchange.response_json();
        let request = match follow::apply(
            &setup.link,
            request,
            source_request,
            answer.as_ref(),
            &|name| source.default(name),
        ) {
            Ok(request) => request,
            Err(message) => return fail(result, Mismatch::new("the link has no value", message)),
        };
        if matches!(plan.operation.method, "GET" | "HEAD") {
            return Some(request);
        }
        let resource = self.resources.iter().position(|resource| {
            resource.create.operation.operation_id == setup.source.operation_id
        });
        let id = resource.and_then(|resource| {
            answer
                .as_ref()
                .and_then(|answer| answer.pointer(&self.resources[resource].answer_id).cloned())
        });
        let (Some(resource), Some(id)) = (resource, id) else {
            // No marker to tell the record by: it must read back as the set-up wrote it.
            return match self
                .read_as_written(source, source_request, answer.as_ref(), result)
                .await
            {
                Ok(()) => Some(request),
                Err(mismatch) => {
                    result.outcomes.push((
                        Check::OwnRecord,
                        Err(mismatch.within(&format!(
                            "the record {} made; the case's request was not sent",
                            setup.source.operation_id
                        ))),
                    ));
                    None
                }
            };
        };
        let (proof, read) = self.prove(resource, &id, Some(&self.records.marker)).await;
        result.steps.push(Sent {
            what: format!("read record {id}: is it the run's own?"),
            credentials: Credentials::Token,
            exchange: read,
        });
        let refused = |mismatch: Mismatch| {
            mismatch.within(&format!(
                "{} answered id {id}; the case's request was not sent",
                setup.source.operation_id
            ))
        };
        match proof {
            Proof::Own => Some(request),
            Proof::Gone => {
                result.outcomes.push((
                    Check::OwnRecord,
                    Err(refused(Mismatch::new(
                        "the id answered names no record",
                        "a read of it answered 404",
                    ))),
                ));
                None
            }
            Proof::Foreign(mismatch) | Proof::Unknown(mismatch) => {
                result
                    .outcomes
                    .push((Check::OwnRecord, Err(refused(mismatch))));
                None
            }
        }
    }

    /// Reads back, through the first link of `source`'s success to a read, the record
    /// `source_request` wrote; `Ok` when it holds what was sent.
    async fn read_as_written(
        &self,
        source: &Plan,
        source_request: &Request,
        answer: Option<&Value>,
        result: &mut CaseResult,
    ) -> Result<(), Mismatch> {
        let link = source.reads.first().ok_or_else(|| {
            Mismatch::new(
                "no record to prove",
                "no link leads to a read of it, to show it is the run's own",
            )
        })?;
        let read = follow::read_request(link, source_request, answer, &|name| source.default(name))
            .map_err(|message| Mismatch::new("the link has no value", message))?;
        let sent = self
            .send(link.target, Credentials::Token, &read, None)
            .await;
        result.steps.push(Sent {
            what: format!("{}: is it the run's own?", link.target.operation_id),
            credentials: Credentials::Token,
            exchange: sent.as_ref().ok().cloned(),
        });
        let exchange = sent.map_err(unanswered)?;
        let target = self.spec.plan(link.target);
        if exchange.status != target.success_status {
            return Err(Mismatch::new(
                format!("the read answered {}", exchange.status),
                format!(
                    "{} answered {}, not {}",
                    link.target.operation_id, exchange.status, target.success_status
                ),
            ));
        }
        checks::read_back(
            source_request.body.as_ref(),
            exchange.response_json().as_ref(),
            &source.write_only,
            &source.formats,
        )
        .1
        .map_err(|mismatch| {
            Mismatch::new(
                "not the run's own",
                format!("it does not read back as the run wrote it: {mismatch}"),
            )
        })
    }

    async fn valid_case(&self, lane: usize, plan: &Plan, request: Request) -> CaseResult {
        let operation = plan.operation;
        let mut result = CaseResult::new();
        let Some(mut request) = self.set_up(plan, request, &mut result).await else {
            return result;
        };
        self.own(plan, &mut request);
        let (client, proxy) = &self.clients.typed[lane];
        let arguments = Arguments {
            path: request.path.clone(),
            query: request.query.clone(),
            body: request.body.clone(),
        };
        if self.health.gone() {
            return result.failure(
                Check::Request,
                unanswered("not sent: the server stopped answering".to_owned()),
            );
        }
        let typed = client.call(operation.operation_id, &arguments).await;
        let exchange = proxy.take();
        result.steps.push(Sent {
            what: CASE_STEP.to_owned(),
            credentials: Credentials::Token,
            exchange: exchange.clone().and_then(Result::ok),
        });
        let exchange = match (exchange, &typed) {
            (Some(Ok(exchange)), _) => exchange,
            (Some(Err(message)), _) => {
                self.health.note::<()>(&Err(message.clone()));
                return result.failure(Check::Request, unanswered(message));
            }
            (None, Err(error)) => {
                let message = format!("nothing was sent: {error}");
                self.health.note::<()>(&Err(message.clone()));
                return result.failure(Check::Request, unanswered(message));
            }
            (None, Ok(answer)) => {
                return result.failure(
                    Check::Request,
                    unanswered(format!(
                        "no response recorded, yet the client got status {}",
                        answer.status
                    )),
                );
            }
        };
        self.health.note::<()>(&Ok(()));
        self.answered(operation, Credentials::Token, &exchange);
        self.made(plan, &exchange);
        let json = exchange.response_json();
        let shaped = self.judge_answer(
            operation,
            &exchange,
            plan.success_status,
            &mut result.outcomes,
        );
        if exchange.status != plan.success_status || !shaped {
            return result;
        }
        let outcomes = &mut result.outcomes;
        outcomes.push((
            Check::TypedDecode,
            match typed {
                Ok(answer) if answer.success => Ok(()),
                Ok(answer) => Err(Mismatch::new(
                    "decoded as an error",
                    format!(
                        "the generated client returned status {} as an error",
                        answer.status
                    ),
                )),
                Err(error) => Err(Mismatch::new(
                    "the client cannot decode it",
                    format!("the generated client could not decode it: {error}"),
                )),
            },
        ));
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
        self.wrote(plan, &request);
        self.follow_up(plan, &request, json.as_ref(), &mut result)
            .await;
        result
    }

    /// After a successful update whose body gives the marker property a value not the run's,
    /// remembers what it wrote: the record is told apart by that at the end.
    fn wrote(&self, plan: &Plan, request: &Request) {
        let Some(Value::Object(body)) = &request.body else {
            return;
        };
        for (index, resource) in self.resources.iter().enumerate() {
            if resource.update.map(|update| update.operation.operation_id)
                != Some(plan.operation.operation_id)
            {
                continue;
            }
            let marked = body
                .get(&resource.marker.property)
                .and_then(Value::as_str)
                .is_some_and(|text| self.records.is_ours(text));
            let Some(id) = resource.id_in(plan, request).filter(|_| !marked) else {
                continue;
            };
            let written: Map<String, Value> = body
                .iter()
                .filter(|(name, _)| !plan.write_only.contains(*name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            self.records
                .wrote(index, &id, plan.operation.operation_id, written);
        }
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
                    result.outcomes.push((
                        Check::ReadsBackAsSent,
                        Err(Mismatch::new("the link has no value", message)),
                    ));
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
                Err(message) => Err(unanswered(message)),
                Ok(exchange) if exchange.status != target.success_status => Err(Mismatch::new(
                    format!("the read answered {}", exchange.status),
                    format!(
                        "{} answered {}, not {}",
                        link.target.operation_id, exchange.status, target.success_status
                    ),
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
            result.outcomes.push((Check::ReadsBackAsSent, outcome));
        }
        let Some(read) = plan.read_after_delete else {
            return;
        };
        let again = follow::same_path(request);
        for (gone, operation) in [
            (Gone::ReadAfterDelete, read),
            (Gone::DeleteAgain, plan.operation),
        ] {
            // The delete is sent again only once a read of the id answers 404: an id the server
            // gave again may name another's record by now.
            let read_found_nothing = result.outcomes.last().is_some_and(|(check, outcome)| {
                *check == Check::GoneAfterDelete(Gone::ReadAfterDelete) && outcome.is_ok()
            });
            if operation.response(404).is_none()
                || (gone == Gone::DeleteAgain && !read_found_nothing)
            {
                continue;
            }
            let exchange = self.send(operation, Credentials::Token, &again, None).await;
            let check = Check::GoneAfterDelete(gone);
            result.steps.push(Sent {
                what: check.to_string().trim_end_matches(": 404").to_owned(),
                credentials: Credentials::Token,
                exchange: exchange.as_ref().ok().cloned(),
            });
            let outcome = exchange.map_err(unanswered).and_then(|exchange| {
                checks::check(exchange.status == 404, || {
                    Mismatch::new(
                        format!("answered {}", exchange.status),
                        format!(
                            "{} answered {}, not 404, after the record was deleted",
                            operation.operation_id, exchange.status
                        ),
                    )
                })
            });
            result.outcomes.push((check, outcome));
        }
    }

    async fn invalid_case(&self, plan: &Plan, case: InvalidRequest, nth: u64) -> CaseResult {
        // Aimed at no record unless a violation is in the values that name one, so that a server
        // that wrongly accepts it writes nothing of anyone's.
        let mut request = match follow::unlabelled_absent(plan, &case, &self.spec.definitions, nth)
        {
            Some(request) => request,
            None => case.request.clone(),
        };
        // Capped and marked, unless a violation is in the count or the marker: what a server
        // wrongly accepts is found, and no violation is edited away.
        let count_broken = match &plan.creates {
            Some(Expression::RequestBody(pointer)) => {
                follow::violates(&case, pointer.trim_start_matches('/'))
            }
            _ => false,
        };
        if !count_broken {
            self.cap(plan, &mut request);
        }
        let marker_broken = self.resources.iter().any(|resource| {
            resource.create.operation.operation_id == plan.operation.operation_id
                && follow::violates(&case, &resource.marker.property)
        });
        if !marker_broken {
            self.mark(plan, &mut request);
        }
        let (mut result, shaped) = self
            .error_case(plan, Credentials::Token, &request, None, 400)
            .await;
        if shaped {
            let json = result
                .steps
                .last()
                .and_then(|step| step.exchange.as_ref())
                .and_then(Exchange::response_json);
            if let Some(errors) = &self.spec.root.errors {
                result.outcomes.extend(checks::labelled_errors(
                    json.as_ref(),
                    &case.violations,
                    errors,
                ));
            }
        }
        result
    }

    /// Sends a request that must fail with `expected` and checks the error envelope; whether
    /// the answer has the expected status and the documented shape.
    async fn error_case(
        &self,
        plan: &Plan,
        credentials: Credentials,
        request: &Request,
        body: Option<(&str, Bytes)>,
        expected: u16,
    ) -> (CaseResult, bool) {
        let operation = plan.operation;
        let refused_early = REFUSED_EARLY.contains(&expected);
        let sent = self
            .send_refused(operation, credentials, request, body, refused_early)
            .await;
        let (mut result, exchange) = match one_step(credentials, sent) {
            Ok(sent) => sent,
            Err(failed) => return (failed, false),
        };
        let shaped = self.judge_answer(operation, &exchange, expected, &mut result.outcomes);
        if !shaped || exchange.status != expected {
            return (result, false);
        }
        let typed = (self.spec.api.decode_error)(operation.operation_id, &exchange.response_body);
        result
            .outcomes
            .extend(self.error_answer(exchange.response_json().as_ref(), &typed));
        (result, true)
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
                url = hostile::unknown_url(&url, &self.target.base_url, &self.spec.operations);
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
        let sent = self
            .raw_as(
                self.clients.get(credentials),
                method,
                url,
                content_type,
                body,
                &headers,
                true,
            )
            .await;
        let (mut result, exchange) = match one_step(credentials, sent) {
            Ok(sent) => sent,
            Err(failed) => return failed,
        };
        self.answered(operation, credentials, &exchange);
        self.made(plan, &exchange);
        // The root's answers are documented there: a JSON body of their schema, their headers
        // checked below.
        let shaped = match &case.root {
            Some(answer) => {
                let (judged, shaped) = checks::answer(
                    &exchange,
                    case.status,
                    Some(Documented {
                        media_types: &["application/json"],
                        headers: &[],
                        validator: self.spec.validator(&answer.schema),
                    }),
                );
                result.outcomes.extend(judged);
                shaped
            }
            None => self.judge_answer(operation, &exchange, case.status, &mut result.outcomes),
        };
        if exchange.status != case.status {
            return result;
        }
        if let Some(answer) = &case.root {
            let path_methods = matches!(case.fault, Fault::WrongMethod(_))
                .then(|| hostile::path_methods(operation.path, &self.spec.operations));
            result.outcomes.extend(checks::answer_headers(
                &exchange,
                &answer.headers,
                path_methods.as_ref(),
            ));
        }
        if !shaped {
            return result;
        }
        let json = exchange.response_json();
        let typed = (self.spec.api.decode_error)(operation.operation_id, &exchange.response_body);
        result
            .outcomes
            .extend(self.error_answer(json.as_ref(), &typed));
        if let (Some(name), Some(errors)) = (&case.names, &self.spec.root.errors) {
            result
                .outcomes
                .push(checks::names_property(json.as_ref(), name, errors));
        }
        result
    }

    /// The checks of an error answer's body: the client decodes it, and it is built as the
    /// spec's error convention says, where the spec has one.
    fn error_answer(&self, body: Option<&Value>, typed: &Result<(), String>) -> Vec<Outcome> {
        match &self.spec.root.errors {
            Some(errors) => checks::error_envelope(body, typed, errors),
            None => vec![checks::typed_decode(typed)],
        }
    }
}

/// How many of a case's requests were answered.
fn answered(result: &CaseResult) -> u64 {
    result
        .steps
        .iter()
        .filter(|step| step.exchange.is_some())
        .count() as u64
}

/// A case of one request: its step recorded, and the exchange, or the case failed at sending.
fn one_step(
    credentials: Credentials,
    sent: Result<Exchange, String>,
) -> Result<(CaseResult, Exchange), CaseResult> {
    let mut result = CaseResult::new();
    result.steps.push(Sent {
        what: CASE_STEP.to_owned(),
        credentials,
        exchange: sent.as_ref().ok().cloned(),
    });
    match sent {
        Ok(exchange) => Ok((result, exchange)),
        Err(message) => Err(result.failure(Check::Request, unanswered(message))),
    }
}
