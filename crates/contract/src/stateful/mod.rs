//! Stateful checks: random sequences of operations on records each sequence makes itself, every
//! answer checked against a model of what those records must hold.
//!
//! A sequence names records by position (the k-th live record, the k-th deleted one) rather than
//! by id, so that proptest can drop and simplify its steps and the sequence still means
//! something: a position past the end wraps, and with no record to name the step acts on an id
//! that was never made. Every record a sequence writes carries its own marker (see
//! [`Resource::marker`]), so its lists are scoped to its records and sequences run side by side on
//! disjoint records. An id a create answers or a list shows joins the model only once a read of
//! it shows the sequence's marker; an update or delete of an id that should have no record is
//! sent only after a read of it answers 404. A sequence stops at its first failed check (what
//! follows would be judged against a model that is no longer true), ends with an audit (every
//! marked record, all pages) and deletes what it made.

use crate::{
    checks,
    exchange::Exchange,
    follow,
    harness::{CaseResult, Credentials, Runner, Sent, unanswered},
    options::ContractError,
    plan::{Plan, Spec},
    records::Proof,
    resource::Resource,
    vocabulary::{Action as Acting, Check, Mismatch, Step},
};
use proptest::{
    prelude::*,
    strategy::{BoxedStrategy, Union},
};
use serde_json::Value;
use spec_strategies::{InvalidRequest, Request};

mod follow_ups;
mod lists;
mod model;
mod writes;

use model::{Aim, Model, Record, jq, predicted};

/// The most records one create of a sequence asks for.
const MOST_PER_CREATE: u64 = 3;

/// The largest page a sequence's lists ask for: small, so that paging is exercised.
const LARGEST_PAGE: u32 = 4;

/// Which record a step acts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pick {
    /// A live record, by position (wrapping).
    Live(u16),
    /// A deleted record, by position (wrapping).
    Deleted(u16),
    /// An id no record ever had.
    Never,
}

/// One step of a sequence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Create(Request),
    Read(Pick, Request),
    Update(Pick, Request),
    Delete(Pick, Request),
    List {
        /// The order parameters of a generated list request (its filters are replaced).
        request: Request,
        /// Filters, each (which filter, which live record's value), by position.
        filters: Vec<(u16, u16)>,
        page: u32,
        size: u32,
    },
    InvalidCreate(InvalidRequest),
    InvalidUpdate(u16, InvalidRequest),
}

/// The strategy of a resource's sequences of 1 to `steps` actions.
pub(crate) fn sequences(
    spec: &Spec,
    resource: &Resource<'_>,
    steps: u32,
) -> Result<BoxedStrategy<Vec<Action>>, ContractError> {
    let valid = |plan: &Plan| {
        spec.strategies.valid_request(&plan.shape).map_err(|error| {
            ContractError::spec(format!("{}: {error}", plan.operation.operation_id))
        })
    };
    let invalid = |plan: &Plan| {
        spec.strategies
            .invalid_request(&plan.shape)
            .map_err(|error| {
                ContractError::spec(format!("{}: {error}", plan.operation.operation_id))
            })
    };
    let pick = || {
        prop_oneof![
            6 => any::<u16>().prop_map(Pick::Live),
            2 => any::<u16>().prop_map(Pick::Deleted),
            1 => Just(Pick::Never),
        ]
    };
    let count = match &resource.create.creates {
        Some(crate::expression::Expression::RequestBody(pointer)) => Some(pointer.clone()),
        _ => None,
    };
    let create = (valid(resource.create)?, 1..=MOST_PER_CREATE)
        .prop_map(move |(mut request, n)| {
            if let (Some(pointer), Some(body)) = (&count, request.body.as_mut())
                && let Some(slot) = body.pointer_mut(pointer)
            {
                *slot = Value::from(n);
            }
            Action::Create(request)
        })
        .boxed();
    let mut actions: Vec<(u32, BoxedStrategy<Action>)> = vec![
        (4, create),
        (
            3,
            (pick(), valid(resource.read)?)
                .prop_map(|(pick, request)| Action::Read(pick, request))
                .boxed(),
        ),
        (
            4,
            (
                valid(resource.list)?,
                prop::collection::vec((any::<u16>(), any::<u16>()), 0..=2),
                1..=3u32,
                1..=LARGEST_PAGE,
            )
                .prop_map(|(request, filters, page, size)| Action::List {
                    request,
                    filters,
                    page,
                    size,
                })
                .boxed(),
        ),
        (
            1,
            invalid(resource.create)?
                .prop_map(Action::InvalidCreate)
                .boxed(),
        ),
    ];
    if let Some(update) = resource.update {
        actions.push((
            3,
            (pick(), valid(update)?)
                .prop_map(|(pick, request)| Action::Update(pick, request))
                .boxed(),
        ));
        actions.push((
            1,
            (any::<u16>(), invalid(update)?)
                .prop_map(|(at, case)| Action::InvalidUpdate(at, case))
                .boxed(),
        ));
    }
    if let Some(delete) = resource.delete {
        actions.push((
            3,
            (pick(), valid(delete)?)
                .prop_map(|(pick, request)| Action::Delete(pick, request))
                .boxed(),
        ));
    }
    Ok(prop::collection::vec(Union::new_weighted(actions), 1..=steps.max(1) as usize).boxed())
}

/// One sequence being run.
struct Sequence<'r, 'a> {
    runner: &'r Runner<'a>,
    resource: &'r Resource<'a>,
    /// The resource's index among the runner's.
    index: usize,
    marker: String,
    model: Model,
    result: CaseResult,
    /// The step being run (from 1), for the names of its requests.
    step: usize,
    /// An id no record has.
    never: Value,
    /// How many records the sequence's creates asked for: at most that many carry its marker.
    asked: u64,
    /// Whether a check failed: the sequence stops there.
    failed: bool,
}

impl Runner<'_> {
    /// Runs one sequence on fresh records and deletes them after (unless the options keep
    /// them).
    pub(crate) async fn sequence(
        &self,
        resource: &Resource<'_>,
        actions: Vec<Action>,
    ) -> CaseResult {
        let marker = self.records.sequence_marker();
        let never = self.never_id(resource).unwrap_or(Value::from(i64::MAX));
        let index = self
            .resources
            .iter()
            .position(|candidate| {
                candidate.create.operation.operation_id == resource.create.operation.operation_id
            })
            .expect("the sequence's resource is the runner's");
        let mut sequence = Sequence {
            runner: self,
            resource,
            index,
            marker: marker.clone(),
            model: Model::default(),
            result: CaseResult::new(),
            step: 0,
            never,
            asked: 0,
            failed: false,
        };
        sequence.result.sequence = Some(actions.len());
        for (index, action) in actions.iter().enumerate() {
            sequence.step = index + 1;
            sequence.act(action).await;
            if sequence.failed {
                break;
            }
        }
        let list = resource.list.operation.operation_id.to_owned();
        let (listed, complete) = if !sequence.failed {
            let listed = sequence.audit().await;
            let complete = !sequence.failed;
            (
                listed.into_iter().map(|id| (id, list.clone())).collect(),
                complete,
            )
        } else if self.options.keep_records || sequence.asked == 0 {
            (Vec::new(), true)
        } else {
            // Cut short by its failure, the sequence may have made records its model does not
            // hold: they are found through its marker.
            let listing = self.marked(resource, &marker, sequence.asked).await;
            let complete = listing.broken.is_none();
            (self.carrying(resource, &marker, &listing), complete)
        };
        if !self.options.keep_records {
            let create = resource.create.operation.operation_id.to_owned();
            let mut ids: Vec<(Value, String)> = sequence
                .model
                .live
                .iter()
                .map(|record| (record.id.clone(), create.clone()))
                .collect();
            for (id, pointed) in listed {
                if !ids.iter().any(|(known, _)| *known == id) {
                    ids.push((id, pointed));
                }
            }
            self.remove_own(index, ids).await;
            // Where the list could not show them all, the run's clean-up looks again.
            if complete {
                self.records.done_with(&marker);
            }
        }
        sequence.result
    }

    /// An id the read answers 404 for: what the not-found case sends.
    fn never_id(&self, resource: &Resource<'_>) -> Option<Value> {
        let absent =
            follow::absent(resource.read, Request::default(), &self.spec.definitions, 0).ok()?;
        resource.id_in(resource.read, &absent)
    }
}

impl Sequence<'_, '_> {
    /// Records a check of `step`; the first failure stops the sequence, and nothing after it is
    /// recorded.
    fn record(&mut self, check: Check, outcome: Result<(), Mismatch>) {
        if self.failed {
            return;
        }
        let label = self.label();
        let outcome = outcome.map_err(|mismatch| mismatch.within(&label));
        self.failed = outcome.is_err();
        self.result.outcomes.push((check, outcome));
    }

    /// Records a check that judges `operation` (a write a read follows up), as [`Self::record`]
    /// does.
    fn record_for(&mut self, operation: &str, check: Check, outcome: Result<(), Mismatch>) {
        if self.failed {
            return;
        }
        let label = self.label();
        let outcome = outcome.map_err(|mismatch| mismatch.within(&label));
        self.failed = outcome.is_err();
        self.result.push_for(operation, (check, outcome));
    }

    /// Which step a request belongs to, for the report.
    fn label(&self) -> String {
        match self.result.sequence {
            Some(steps) if self.step > steps => "after the last step".to_owned(),
            _ => format!("step {}", self.step),
        }
    }

    async fn send(&mut self, what: String, plan: &Plan, request: &Request) -> Option<Exchange> {
        let exchange = self
            .runner
            .send(plan.operation, Credentials::Token, request, None)
            .await;
        self.result.steps.push(Sent {
            what: format!("{}: {what}", self.label()),
            credentials: Credentials::Token,
            exchange: exchange.as_ref().ok().cloned(),
        });
        match exchange {
            Ok(exchange) => Some(exchange),
            Err(message) => {
                self.record(Check::Request, Err(unanswered(message)));
                None
            }
        }
    }

    /// Sends `request` and checks its answer is `expected` in the shape the spec documents;
    /// the exchange when it is.
    async fn expect(
        &mut self,
        step: Step,
        what: String,
        plan: &Plan,
        request: &Request,
        expected: u16,
    ) -> Option<Exchange> {
        let exchange = self.send(what, plan, request).await?;
        let mut outcomes = Vec::new();
        let shaped = self
            .runner
            .judge_answer(plan.operation, &exchange, expected, &mut outcomes);
        for (check, outcome) in outcomes {
            self.record(check.at(step), outcome);
        }
        (exchange.status == expected && shaped && !self.failed).then_some(exchange)
    }

    /// Reads `id` and checks it is the sequence's own; the record, when it is.
    async fn prove(&mut self, step: Step, id: &Value, pointed: &str) -> bool {
        let (proof, read) = self.runner.prove(self.index, id, Some(&self.marker)).await;
        self.result.steps.push(Sent {
            what: format!("{}: read record {id}: is it this sequence's?", self.label()),
            credentials: Credentials::Token,
            exchange: read,
        });
        let outcome = match proof {
            Proof::Own => Ok(()),
            Proof::Gone => Err(Mismatch::new(
                "the id answered names no record",
                format!("{pointed} gave id {id}, and a read of it answered 404"),
            )),
            Proof::Foreign(mismatch) | Proof::Unknown(mismatch) => {
                Err(mismatch.within(&format!("{pointed} gave id {id}")))
            }
        };
        let own = outcome.is_ok();
        self.record(Check::OwnRecord.at(step), outcome);
        own
    }

    async fn act(&mut self, action: &Action) {
        let resource = self.resource;
        match action {
            Action::Create(request) => self.create(request.clone()).await,
            Action::Read(pick, request) => {
                let read = resource.read;
                match self.model.aim(pick, &self.never) {
                    Aim::Live(at) => {
                        self.read_live(at, request, "").await;
                    }
                    Aim::Gone(id) => {
                        self.absent(Acting::Read, read, request, &id).await;
                    }
                }
            }
            Action::Update(pick, request) => {
                let Some(update) = resource.update else {
                    return;
                };
                match self.model.aim(pick, &self.never) {
                    Aim::Live(at) => {
                        let id = self.model.live[at].id.clone();
                        let Some(mut request) = self.aimed(update, request, &id) else {
                            return;
                        };
                        resource.mark(&mut request, &self.marker);
                        // Read first, so that a cache in front of the store holds the record the
                        // update must replace.
                        let fixed = self.runner.fixed[resource.read.operation.operation_id].clone();
                        if !self.read_live(at, &fixed, " before the update").await {
                            return;
                        }
                        let what = format!("update record {id}");
                        if self
                            .expect(Step::Update, what, update, &request, update.success_status)
                            .await
                            .is_some()
                        {
                            let record = &mut self.model.live[at];
                            let skip = Resource::linked_properties(update);
                            for (property, value) in predicted(update, request.body.as_ref(), &skip)
                            {
                                match value {
                                    Some(value) => record.written.insert(property, value),
                                    None => record.written.remove(&property),
                                };
                            }
                            record.learned.clear();
                            self.read_after_update(at, update, &request).await;
                        }
                    }
                    Aim::Gone(id) => {
                        self.absent(Acting::Update, update, request, &id).await;
                    }
                }
            }
            Action::Delete(pick, request) => {
                let Some(delete) = resource.delete else {
                    return;
                };
                match self.model.aim(pick, &self.never) {
                    Aim::Live(at) => {
                        let id = self.model.live[at].id.clone();
                        let Some(request) = self.aimed(delete, request, &id) else {
                            return;
                        };
                        let fixed = self.runner.fixed[resource.read.operation.operation_id].clone();
                        if !self.read_live(at, &fixed, " before the delete").await {
                            return;
                        }
                        let what = format!("delete record {id}");
                        if self
                            .expect(Step::Delete, what, delete, &request, delete.success_status)
                            .await
                            .is_some()
                        {
                            self.model.live.remove(at);
                            self.model.deleted.push(id.clone());
                            self.gone_everywhere(delete, &id).await;
                        }
                    }
                    Aim::Gone(id) => {
                        self.absent(Acting::Delete, delete, request, &id).await;
                    }
                }
            }
            Action::List {
                request,
                filters,
                page,
                size,
            } => self.list(request, filters, *page, *size).await,
            Action::InvalidCreate(case) => {
                let mut request = case.request.clone();
                if !follow::violates(case, &resource.marker.property) {
                    resource.mark(&mut request, &self.marker);
                    let count = resource.create.count(&request);
                    self.asked += count;
                    self.runner.records.asked(&self.marker, count);
                }
                self.rejected(Step::InvalidCreate, resource.create, &request, case)
                    .await;
            }
            Action::InvalidUpdate(at, case) => {
                let Some(update) = resource.update else {
                    return;
                };
                let mut request = case.request.clone();
                // A violation in the id the link sets is sent as drawn; any other is aimed at a
                // live record, or at the id no record has when there is none.
                if !follow::violates_link(update, case) {
                    let id = match self.model.live.is_empty() {
                        false => self.model.live[usize::from(*at) % self.model.live.len()]
                            .id
                            .clone(),
                        true => self.never.clone(),
                    };
                    let Some(aimed) = self.aimed(update, &request, &id) else {
                        return;
                    };
                    request = aimed;
                }
                if !follow::violates(case, &resource.marker.property) {
                    resource.mark(&mut request, &self.marker);
                }
                self.rejected(Step::InvalidUpdate, update, &request, case)
                    .await;
            }
        }
    }

    fn aimed(&mut self, plan: &Plan, request: &Request, id: &Value) -> Option<Request> {
        match self.resource.aimed(plan, request.clone(), id) {
            Ok(request) => Some(request),
            Err(message) => {
                self.record(
                    Check::SetUp,
                    Err(Mismatch::new("the link has no value", message)),
                );
                None
            }
        }
    }

    /// Records an id's first appearance: ids are never given twice, not even after a delete.
    fn first_time(&mut self, id: &Value) {
        let fresh = self
            .runner
            .ids_seen
            .lock()
            .expect("not poisoned")
            .insert(id.to_string());
        self.record(
            Check::IdsNeverReused,
            checks::check(fresh, || {
                Mismatch::new("an id given again", format!("id {id} was given before"))
            }),
        );
    }
}
