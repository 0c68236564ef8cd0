//! What the cases of a run share: the [`Runner`] (the spec, the target, the clients, what the
//! run has seen and made), sending a request and judging its answer's shape, marking what the
//! run creates, and whether the server still answers. The case families (one request, the token
//! endpoint, sequences) and the run's end are built on it; it knows none of them.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering as AtomicOrdering},
    },
};

use api_description::{Caller, Operation};
use bytes::Bytes;
use proptest::{
    strategy::ValueTree,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use serde_json::Value;
use spec_strategies::Request;

use crate::{
    checks,
    checks::{Documented, Outcome},
    exchange::{self, Exchange},
    expression::Expression,
    follow,
    options::{Basic, ContractError, Options, Target},
    plan::{Plan, Spec},
    records::Records,
    replay::Payload,
    report::Report,
    resource::Resource,
    vocabulary::{Check, Mismatch},
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
    /// The target's Basic credentials.
    Basic,
    /// Basic credentials of a user no server has (see [`wrong_basic`]).
    WrongBasic,
    /// The Basic credentials of the target's limited token of this index.
    BasicWithoutRole(usize),
}

/// Basic credentials no server knows: a user of a domain that cannot exist (RFC 2606), so that
/// no real account counts a failed sign-in.
pub(crate) fn wrong_basic(marker: &str) -> Basic {
    Basic {
        username: format!("contract-check-{marker}@example.invalid"),
        password: format!("not-a-password-{marker}"),
    }
}

/// A token no server has issued.
pub(crate) const BAD_TOKEN: &str = "contract-check-invalid-token";

/// Statuses a server may answer before it has read a request's body (refused credentials, an
/// oversize body, a wrong content type).
pub(crate) const REFUSED_EARLY: [u16; 3] = [401, 413, 415];

/// Requests in a row that get no answer at all, after which the run stops: the server is gone.
pub(crate) const UNANSWERED_IN_A_ROW: u32 = 16;

pub(crate) struct Clients {
    pub(crate) token: reqwest::Client,
    pub(crate) anonymous: reqwest::Client,
    pub(crate) bad_token: reqwest::Client,
    pub(crate) limited: Vec<reqwest::Client>,
    /// With the target's Basic credentials, if it has any.
    pub(crate) basic: Option<reqwest::Client>,
    /// With Basic credentials no server knows.
    pub(crate) wrong_basic: reqwest::Client,
    /// With the Basic credentials of each limited token's user, where the target gives them.
    pub(crate) limited_basic: Vec<Option<reqwest::Client>>,
    /// One per lane (case in flight): the API's typed client pointed at the lane's own recording
    /// proxy, so that a recorded exchange always belongs to its lane's case.
    pub(crate) typed: Vec<(Box<dyn Caller>, exchange::RecordingProxy)>,
}

impl Clients {
    pub(crate) fn get(&self, credentials: Credentials) -> &reqwest::Client {
        match credentials {
            Credentials::Token => &self.token,
            Credentials::None => &self.anonymous,
            Credentials::BadToken => &self.bad_token,
            Credentials::WithoutRole(index) => &self.limited[index],
            // An issued token is sent by a client made for it; this one is never asked for.
            Credentials::Issued => &self.anonymous,
            Credentials::Basic => self.basic.as_ref().unwrap_or(&self.anonymous),
            Credentials::WrongBasic => &self.wrong_basic,
            Credentials::BasicWithoutRole(index) => self.limited_basic[index]
                .as_ref()
                .unwrap_or(&self.anonymous),
        }
    }
}

/// A client sending `basic` with every request.
pub(crate) fn basic_client(
    basic: &Basic,
    base_url: &str,
) -> Result<reqwest::Client, ContractError> {
    authorized_client(Some(&basic.authorization()), base_url)
}

/// A client sending `token` (if any) with every request.
pub(crate) fn build_client(
    token: Option<&str>,
    base_url: &str,
) -> Result<reqwest::Client, ContractError> {
    let authorization = token.map(|token| format!("Bearer {token}"));
    authorized_client(authorization.as_deref(), base_url)
}

fn authorized_client(
    authorization: Option<&str>,
    base_url: &str,
) -> Result<reqwest::Client, ContractError> {
    exchange::authorized_client(authorization).map_err(|message| ContractError::Client {
        base_url: base_url.to_owned(),
        message,
    })
}

/// Whether the server still answers: requests that got no answer, in a row.
#[derive(Default)]
pub(crate) struct Health {
    pub(crate) unanswered: AtomicU32,
    pub(crate) gone: AtomicBool,
    pub(crate) last_error: Mutex<String>,
    pub(crate) notify: tokio::sync::Notify,
}

impl Health {
    pub(crate) fn note<T>(&self, sent: &Result<T, String>) {
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

    pub(crate) fn gone(&self) -> bool {
        self.gone.load(AtomicOrdering::Relaxed)
    }

    pub(crate) async fn wait_gone(&self) {
        loop {
            let notified = self.notify.notified();
            if self.gone() {
                return;
            }
            notified.await;
        }
    }
}

/// A generator seeded with `seed`: the same seed draws the same values.
pub(crate) fn seeded(seed: u64) -> TestRunner {
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed),
    )
}

pub(crate) type BoxedTree<T> = Box<dyn ValueTree<Value = T>>;

/// What a run shares between the cases in flight.
pub(crate) struct Runner<'a> {
    pub(crate) spec: &'a Spec,
    pub(crate) target: &'a Target,
    pub(crate) options: &'a Options,
    pub(crate) clients: Clients,
    /// Each operation's fixed valid request.
    pub(crate) fixed: BTreeMap<&'static str, Request>,
    /// Values answered so far, per (operation, pointer), for `$unique`.
    pub(crate) seen: Mutex<BTreeMap<(&'static str, String), std::collections::BTreeSet<String>>>,
    /// Responses per (operation, status).
    pub(crate) responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Every request sent, when the options ask for the log.
    pub(crate) log: Option<Mutex<Vec<Payload>>>,
    /// The resources, for the stateful checks and the clean-up.
    pub(crate) resources: Vec<Resource<'a>>,
    /// The records the run made.
    pub(crate) records: Records,
    /// Every id a create of a sequence answered or its list showed.
    pub(crate) ids_seen: Mutex<std::collections::BTreeSet<String>>,
    /// How throttled answers are waited out, and how many were.
    pub(crate) patience: Arc<exchange::Patience>,
    /// Whether the server still answers.
    pub(crate) health: Health,
    /// Fresh values for the ids of records a client names.
    pub(crate) fresh: follow::Fresh,
}

/// What a run accumulates, one case at a time, in case order.
pub(crate) struct State {
    pub(crate) report: Report,
    /// Requests spent on shrinking so far.
    pub(crate) shrink_spent: u64,
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
    /// Outcomes that judge another operation than the case's (by outcome index): a read after
    /// a write judges the write, whichever family of cases made it, so that one fault seen by
    /// several families is one group.
    pub(crate) attributed: Vec<(usize, String)>,
    /// Steps sent at once (ranges of step indexes), for a reproduction that sends them so.
    pub(crate) at_once: Vec<std::ops::Range<usize>>,
}

impl CaseResult {
    pub(crate) fn new() -> Self {
        Self {
            steps: Vec::new(),
            outcomes: Vec::new(),
            sequence: None,
            binds: Vec::new(),
            attributed: Vec::new(),
            at_once: Vec::new(),
        }
    }

    /// Pushes an outcome that judges `operation` rather than the case's own.
    pub(crate) fn push_for(&mut self, operation: &str, outcome: Outcome) {
        self.attributed
            .push((self.outcomes.len(), operation.to_owned()));
        self.outcomes.push(outcome);
    }

    /// The operation outcome `index` judges: `name` (the case's) unless it was attributed.
    pub(crate) fn operation_of<'n>(&'n self, index: usize, name: &'n str) -> &'n str {
        self.attributed
            .iter()
            .find(|(at, _)| *at == index)
            .map_or(name, |(_, operation)| operation.as_str())
    }

    /// Whether a check failed the way (check, kind) names.
    pub(crate) fn fails(&self, check: &Check, kind: &str) -> bool {
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

pub(crate) type CaseFuture<'r> =
    std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + 'r>>;

/// How many of a case's requests were answered.
pub(crate) fn answered(result: &CaseResult) -> u64 {
    result
        .steps
        .iter()
        .filter(|step| step.exchange.is_some())
        .count() as u64
}

impl Runner<'_> {
    /// Marks a create with the run's marker (in the resource's marker property), so that what
    /// it makes can be told apart and found again, with [`Options::max_creates`] applied first.
    pub(crate) fn own(&self, plan: &Plan, request: &mut Request) {
        self.cap(plan, request);
        self.mark(plan, request);
    }

    /// With [`Options::max_creates`], a request whose `x-contract.creates` is a value of its body
    /// gets that value lowered to the cap.
    pub(crate) fn cap(&self, plan: &Plan, request: &mut Request) {
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
    pub(crate) fn mark(&self, plan: &Plan, request: &mut Request) {
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
    pub(crate) fn made(&self, plan: &Plan, exchange: &Exchange) {
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
    pub(crate) fn answered(
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
            Credentials::Issued
            | Credentials::Basic
            | Credentials::WrongBasic
            | Credentials::BasicWithoutRole(_) => None,
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
    pub(crate) async fn send_refused(
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
            &exchange::headers(request),
            refused_early,
        )
        .await
    }

    /// Sends `body` to `url` as it is, as `credentials`, and counts the answer for `operation`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn raw(
        &self,
        credentials: Credentials,
        operation: &'static Operation,
        url: String,
        content_type: Option<&str>,
        body: impl Into<Option<Bytes>>,
        headers: &[(String, String)],
        refused_early: bool,
    ) -> Result<Exchange, String> {
        let sent = self
            .raw_as(
                self.clients.get(credentials),
                operation.method,
                url,
                content_type,
                body.into(),
                headers,
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
    pub(crate) fn documented(&self, operation: &Operation, status: u16) -> Option<Documented<'_>> {
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
    pub(crate) fn why_not_waited(&self, exchange: &Exchange) -> String {
        let Some(throttled) = &self.spec.root.throttled else {
            return String::new();
        };
        let mut lacks: Vec<String> = checks::missing_headers(exchange, &throttled.headers)
            .into_iter()
            .map(|name| format!("no {name} header"))
            .collect();
        let validator = throttled
            .schema
            .as_deref()
            .and_then(|schema| self.spec.validator(schema));
        if !exchange::throttled_body(validator, &exchange.response_body) {
            lacks.push(match &throttled.schema {
                Some(schema) => format!("a body that is neither empty nor {schema}"),
                None => "a body".to_owned(),
            });
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
}
