//! Recording cases: each one's checks counted into the report's tallies and failure groups, in
//! case order, up to `concurrency` in flight; the first case of each new group shrunk alone, one
//! request at a time, while it still fails the same way, and shown as the group's reproduction
//! (its requests as `curl` commands); and, at the end, the coverage of each documented status.

use std::time::Instant;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use proptest::strategy::ValueTree;
use serde_json::Value;

use crate::harness::{
    BAD_TOKEN, BoxedTree, CaseFuture, CaseResult, Credentials, Runner, State, answered, wrong_basic,
};

use crate::{
    report::{self, Coverage, Failure, Report},
    vocabulary::{Case, Check, Mismatch},
};

/// The shell variable a reproduction reads the access token the token endpoint issued into.
const ISSUED: &str = "ISSUED_ACCESS_TOKEN";

/// How many times the per-failure shrink budget all of a run's shrinking may spend.
pub(crate) const SHRINK_BUDGETS: u64 = 8;

impl Runner<'_> {
    /// Runs generated cases, up to one per lane at a time, records their checks in case order,
    /// then shrinks the first case of each new group of failures, one request at a time.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn cases<T, F>(
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
                let (_, check, kind) = &opened[0];
                self.shrink(state, &mut trees[index], check, kind, &run)
                    .await
            } else {
                None
            };
            for (operation, check, kind) in &opened {
                let shown = match &shrunk {
                    Some(shrunk) if shrunk.fails(check, kind) => shrunk,
                    _ => &result,
                };
                self.attach(state, operation, case, shown, check, kind);
            }
        }
    }

    /// The usual proptest loop: keep a simpler value while it still fails the way (check, kind)
    /// names. A step that does not change the request (a value under an absent optional) costs
    /// nothing. Runs alone, on lane 0.
    pub(crate) async fn shrink<T, F>(
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
        for (operation, check, kind) in self.record_case(state, name, case, result) {
            self.attach(state, &operation, case, result, &check, &kind);
        }
    }

    /// Counts one case, its requests and each of its checks, failures into their groups; the
    /// groups it opened, as (operation, check, kind).
    pub(crate) fn record_case(
        &self,
        state: &mut State,
        name: &str,
        case: Case,
        result: &CaseResult,
    ) -> Vec<(String, Check, String)> {
        let mut opened = Vec::new();
        for (index, (check, outcome)) in result.outcomes.iter().enumerate() {
            let operation = result.operation_of(index, name);
            state.report.record(operation, case, check, outcome.is_ok());
            if let Err(mismatch) = outcome
                && state.report.group(operation, case, check, mismatch)
            {
                opened.push((operation.to_owned(), check.clone(), mismatch.kind.clone()));
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
    pub(crate) fn attach(
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
    /// command (the target's secrets as the shell variables its [`crate::SecretNames`] name).
    pub(crate) fn failure(&self, name: &str, case: Case, result: &CaseResult) -> Failure {
        let pretty = |bytes: &Bytes| match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => serde_json::to_string_pretty(&json).expect("serialises"),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        let names = &self.target.secret_names;
        let variables = [
            names.token.as_str(),
            names.token_without_role.as_str(),
            names.password.as_str(),
            names.basic.as_str(),
            ISSUED,
        ];
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
                let at_once = result.at_once.iter().any(|range| range.contains(&index));
                let auth = match sent.credentials {
                    Credentials::Token => format!("${}", names.token),
                    Credentials::None => String::new(),
                    Credentials::BadToken => BAD_TOKEN.to_owned(),
                    Credentials::WithoutRole(_) => format!("${}", names.token_without_role),
                    Credentials::Issued => format!("${ISSUED}"),
                    Credentials::Basic
                    | Credentials::WrongBasic
                    | Credentials::BasicWithoutRole(_) => String::new(),
                };
                // Basic credentials go in a header of their own; the target's as a variable.
                let basic = match sent.credentials {
                    Credentials::Basic => Some(format!("Basic ${}", names.basic)),
                    Credentials::BasicWithoutRole(_) => {
                        Some(format!("Basic ${}", names.basic_without_role))
                    }
                    Credentials::WrongBasic => {
                        Some(wrong_basic(&self.records.marker).authorization())
                    }
                    _ => None,
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
                            &auth,
                            exchange.content_type.as_deref(),
                            &basic
                                .iter()
                                .map(|value| ("Authorization".to_owned(), value.clone()))
                                .chain(self.without_token(&exchange.headers))
                                .collect::<Vec<_>>(),
                            &variables,
                            &exchange.request_body,
                        ),
                        binds,
                        at_once,
                    },
                    None => report::Step {
                        what: sent.what.clone(),
                        request_body: String::new(),
                        status: 0,
                        response_body: "(no response)".into(),
                        curl: String::new(),
                        binds,
                        at_once,
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
    /// the token, with the token's shell variable in its place (a token is replaced only as a
    /// whole value).
    pub(crate) fn without_token(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        let token = &self.target.token;
        let variable = format!("${}", self.target.secret_names.token);
        headers
            .iter()
            .map(|(name, value)| {
                let value = if value == token {
                    variable.clone()
                } else if value.split_once(' ').is_some_and(|(scheme, rest)| {
                    scheme.eq_ignore_ascii_case("bearer") && rest == token
                }) {
                    format!("Bearer {variable}")
                } else {
                    value.clone()
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The coverage table, and a failure for each documented status a client can cause that no
    /// case produced.
    pub(crate) fn coverage(&self, report: &mut Report) {
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
}
