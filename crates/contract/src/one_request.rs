//! The cases of one request: for each operation, valid requests through the API's typed client,
//! invalid ones with labelled violations, a request for a record that does not exist, requests
//! with a fault in their credentials or their transport, each with the answer the spec says it
//! gets (the requests around a case's own, from the spec's links, are in `linked`).

use api_description::Arguments;
use bytes::Bytes;
use proptest::strategy::{Strategy, ValueTree};
use serde_json::{Map, Value};
use spec_strategies::{InvalidRequest, Request};

use crate::harness::{
    BAD_TOKEN, BoxedTree, CaseResult, Credentials, REFUSED_EARLY, Runner, Sent, State, seeded,
    unanswered,
};

use crate::{
    checks,
    checks::{Documented, Outcome, SuccessContext},
    exchange::{self, Exchange},
    expression::Expression,
    follow,
    hostile::{self, Fault},
    options::{ContractError, Options},
    plan::{Plan, Spec},
    records::Proof,
    report::CASE_STEP,
    vocabulary::{Auth, Case, Check, Mismatch, Transport},
};

/// How many ids, counting down from the one meant to name no record, are tried before the cases
/// aimed at one are given up.
pub(crate) const ABSENT_TRIES: u64 = 8;

/// One operation's generated cases.
pub(crate) struct Generated {
    pub(crate) valid: Vec<BoxedTree<Request>>,
    pub(crate) invalid: Vec<BoxedTree<InvalidRequest>>,
    /// A valid request for the cases with one fault of their own (auth, transport, not found)
    /// and for set-ups.
    pub(crate) fixed: Request,
}

/// The cases of `plan`, the `index`-th operation, drawn in a fixed order from a generator seeded
/// with the options' seed and the index, so the same seed always gives the same requests and no
/// two operations draw the same stream.
pub(crate) fn generate(
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

/// Mixed into the seed of each operation's cases (times its index).
pub(crate) const OPERATION_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// A case of one request: its step recorded, and the exchange, or the case failed at sending.
pub(crate) fn one_step(
    credentials: Credentials,
    sent: Result<Exchange, String>,
) -> Result<(CaseResult, Exchange), Box<CaseResult>> {
    let mut result = CaseResult::new();
    result.steps.push(Sent {
        what: CASE_STEP.to_owned(),
        credentials,
        exchange: sent.as_ref().ok().cloned(),
    });
    match sent {
        Ok(exchange) => Ok((result, exchange)),
        Err(message) => Err(Box::new(
            result.failure(Check::Request, unanswered(message)),
        )),
    }
}

impl Runner<'_> {
    /// The id `plan`'s not-found and faulty cases aim at, counting down from the one meant to
    /// name no record ([`follow::absent`]): the first that a read shows to name no record now,
    /// so that a write aimed at it touches nothing (`0` for an operation that writes no record
    /// named by a link, or whose record nothing reads). A failed case when none is free.
    pub(crate) async fn choose_absent(
        &self,
        state: &mut State,
        plan: &Plan,
    ) -> Result<u64, CaseResult> {
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

    pub(crate) async fn operation(
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
        let without_role = self
            .target
            .token_without_role(operation, self.spec.api.security_schemes);
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
        // Basic credentials, where the operation takes them: a user no server has is refused as
        // a bad token is, and on a read that needs no record the target's are answered as its
        // token is.
        let (basic, basic_read) = crate::plan::basic_cases(&self.spec.api, plan);
        if basic {
            let (result, _) = self
                .error_case(plan, Credentials::WrongBasic, fixed, None, 401)
                .await;
            self.finish(state, name, Case::Auth(Auth::WrongBasic), &result);
            on_case();
            // The user the token without the role belongs to, with Basic credentials instead.
            match without_role.filter(|index| self.target.limited_tokens[*index].basic.is_some()) {
                Some(index) => {
                    let credentials = Credentials::BasicWithoutRole(index);
                    let (result, _) = self.error_case(plan, credentials, fixed, None, 401).await;
                    self.finish(state, name, Case::Auth(Auth::BasicWithoutRole), &result);
                }
                None => state.report.skipped.push(format!(
                    "{name}: {}: no user of the target who lacks the operation's role has Basic \
                     credentials",
                    Case::Auth(Auth::BasicWithoutRole)
                )),
            }
            on_case();
        }
        if basic_read {
            match &self.target.basic {
                Some(_) => {
                    let result = self.basic_read(plan, fixed).await;
                    self.finish(state, name, Case::Auth(Auth::Basic), &result);
                }
                None => state.report.skipped.push(format!(
                    "{name}: {}: the run was given no Basic credentials",
                    Case::Auth(Auth::Basic)
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

    pub(crate) async fn valid_case(
        &self,
        lane: usize,
        plan: &Plan,
        request: Request,
    ) -> CaseResult {
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
            headers: request.headers.clone(),
            body: request.body.clone(),
        };
        if self.health.gone() {
            return result.failure(
                Check::Request,
                unanswered("not sent: the server stopped answering".to_owned()),
            );
        }
        let typed = client.call(operation.operation_id, &arguments).await;
        // The proxy keeps no request header: the ones the spec makes parameters are the case's.
        let exchange = proxy.take().map(|taken| {
            taken.map(|exchange| Exchange {
                headers: exchange::headers(&request),
                ..exchange
            })
        });
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
    pub(crate) fn wrote(&self, plan: &Plan, request: &Request) {
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

    pub(crate) async fn invalid_case(
        &self,
        plan: &Plan,
        case: InvalidRequest,
        nth: u64,
    ) -> CaseResult {
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
    pub(crate) async fn error_case(
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
            Err(failed) => return (*failed, false),
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

    /// `request` (a read) sent with the target's Basic credentials: it must get the success the
    /// operation documents, as with the token.
    async fn basic_read(&self, plan: &Plan, request: &Request) -> CaseResult {
        let sent = self
            .send_refused(plan.operation, Credentials::Basic, request, None, false)
            .await;
        let (mut result, exchange) = match one_step(Credentials::Basic, sent) {
            Ok(sent) => sent,
            Err(failed) => return *failed,
        };
        self.judge_answer(
            plan.operation,
            &exchange,
            plan.success_status,
            &mut result.outcomes,
        );
        result
    }

    /// A transport case: `request` with `case`'s one fault, and the answer the spec says it gets.
    pub(crate) async fn hostile_case(
        &self,
        plan: &Plan,
        request: &Request,
        case: &hostile::Case,
    ) -> CaseResult {
        let operation = plan.operation;
        let mut url = exchange::url(&self.target.base_url, operation, request);
        let mut method = operation.method;
        let mut credentials = Credentials::Token;
        let mut headers = exchange::headers(request);
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
            Fault::RepeatedHeader(name, text) => {
                headers.retain(|(sent, _)| !sent.eq_ignore_ascii_case(name));
                for _ in 0..2 {
                    headers.push((name.clone(), text.clone()));
                }
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
            Err(failed) => return *failed,
        };
        self.answered(operation, credentials, &exchange);
        self.made(plan, &exchange);
        // The root's answers are documented there: a JSON body of their schema (or none), their
        // headers checked below.
        let shaped = match &case.root {
            Some(answer) => {
                let (judged, shaped) = checks::answer(
                    &exchange,
                    case.status,
                    Some(Documented {
                        media_types: match answer.schema {
                            Some(_) => &["application/json"],
                            None => &[],
                        },
                        headers: &[],
                        validator: answer
                            .schema
                            .as_deref()
                            .and_then(|schema| self.spec.validator(schema)),
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
    pub(crate) fn error_answer(
        &self,
        body: Option<&Value>,
        typed: &Result<(), String>,
    ) -> Vec<Outcome> {
        match &self.spec.root.errors {
            Some(errors) => checks::error_envelope(body, typed, errors),
            None => vec![checks::typed_decode(typed)],
        }
    }
}
