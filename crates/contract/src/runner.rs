//! A run from start to end: the spec planned, the clients and recording proxies set up, the types
//! compared with the spec, each operation's one-request cases, the token endpoint's, the
//! sequences, then the clean-up and the report. Stops when told to, or when the server stops
//! answering.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, atomic::Ordering as AtomicOrdering},
    time::Instant,
};

use api_description::Api;
use proptest::strategy::{Strategy, ValueTree};

use crate::{
    harness::{
        BAD_TOKEN, Clients, Health, Runner, State, UNANSWERED_IN_A_ROW, basic_client, build_client,
        seeded, wrong_basic,
    },
    one_request::generate,
};

use crate::{
    drift,
    exchange::{self},
    follow,
    options::{ContractError, Options, Target},
    plan::Spec,
    records::Records,
    report::Report,
    resource::Resource,
    stateful,
    vocabulary::{Case, Check, Problems},
};

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
            answer
                .schema
                .as_deref()
                .map(|schema| spec_schema::Validator::new(spec.definitions.clone(), schema))
                .transpose()
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
    let records = Records::new();
    let clients = Clients {
        token: build_client(Some(&target.token), &target.base_url)?,
        anonymous: build_client(None, &target.base_url)?,
        bad_token: build_client(Some(BAD_TOKEN), &target.base_url)?,
        basic: target
            .basic
            .as_ref()
            .map(|basic| basic_client(basic, &target.base_url))
            .transpose()?,
        limited_basic: target
            .limited_tokens
            .iter()
            .map(|limited| {
                limited
                    .basic
                    .as_ref()
                    .map(|basic| basic_client(basic, &target.base_url))
                    .transpose()
            })
            .collect::<Result<_, _>>()?,
        wrong_basic: basic_client(&wrong_basic(&records.marker), &target.base_url)?,
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
        records,
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
                .map(|why| format!("stateful checks and writes at once of {why}"))
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
            if credentials.also.iter().all(|also| also.left_out.is_none()) {
                state.report.skipped.push(
                    "sign-in: a right password without a parameter the user needs (a second \
                     factor's code): the signing-in user needs none"
                        .to_owned(),
                );
            }
            if credentials.refused.is_empty() {
                state.report.skipped.push(
                    "sign-in: the right password of a user the endpoint refuses (one who must \
                     choose a new password): the run was given no such user"
                        .to_owned(),
                );
            }
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
        if options.writers > 0 {
            for index in 0..runner.resources.len() {
                if runner.health.gone() {
                    break;
                }
                let writers = options.writers as usize;
                for (operation, result) in runner.at_once(index, writers).await {
                    runner.finish(&mut state, &operation, Case::AtOnce, &result);
                    on_case();
                }
            }
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

/// Where the report counts the stateful checks.
pub const STATEFUL: &str = "stateful";

/// Mixed into the seed of the sequences, so that they are not drawn from the same stream as the
/// first operation's cases.
pub(crate) const STATEFUL_SEED: u64 = 0x5EC5_EC5E_C5EC_5EC5;
