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

use std::{cmp::Ordering, collections::BTreeSet};

use proptest::{
    prelude::*,
    strategy::{BoxedStrategy, Union},
};
use serde_json::{Map, Value};
use spec_strategies::{InvalidRequest, Request};

use crate::{
    checks,
    exchange::Exchange,
    follow,
    harness::{CaseResult, Credentials, Runner, Sent, unanswered},
    options::ContractError,
    plan::{Plan, Spec},
    records::{Listing, Proof},
    resource::Resource,
    vocabulary::{Absence, Action as Acting, Check, Mismatch, Problems, Step},
};

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

/// What the model knows of one record.
#[derive(Debug, Clone)]
struct Record {
    id: Value,
    /// The properties the last write set, as written (uuids in lower case).
    written: Map<String, Value>,
    /// Other properties, as first read since the last write: they must not change until the
    /// next one.
    learned: Map<String, Value>,
    /// The last `last-write.at` read, which later reads must not go before.
    written_at: Option<Value>,
}

impl Record {
    /// The value of `property`, when the model knows it.
    fn value(&self, property: &str, record_id: &str) -> Option<&Value> {
        if property == record_id {
            return Some(&self.id);
        }
        self.written
            .get(property)
            .or_else(|| self.learned.get(property))
    }
}

/// The records a sequence made.
#[derive(Debug, Default)]
struct Model {
    live: Vec<Record>,
    deleted: Vec<Value>,
}

/// Which id a pick names now.
enum Aim {
    Live(usize),
    Gone(Value),
}

impl Model {
    fn find(&self, id: &Value) -> Option<usize> {
        self.live.iter().position(|record| &record.id == id)
    }

    fn aim(&self, pick: &Pick, never: &Value) -> Aim {
        match pick {
            Pick::Live(at) if !self.live.is_empty() => {
                Aim::Live(usize::from(*at) % self.live.len())
            }
            Pick::Deleted(at) if !self.deleted.is_empty() => {
                Aim::Gone(self.deleted[usize::from(*at) % self.deleted.len()].clone())
            }
            _ => Aim::Gone(never.clone()),
        }
    }
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
                        let id = self.model.live[at].id.clone();
                        let Some(request) = self.aimed(read, request, &id) else {
                            return;
                        };
                        let what = format!("read record {id}");
                        if let Some(exchange) = self
                            .expect(Step::Read, what, read, &request, read.success_status)
                            .await
                        {
                            let problems = match exchange.response_json() {
                                Some(got) => self.compare(at, &got),
                                None => {
                                    let mut problems = Problems::default();
                                    problems.add("not JSON", "the body is not JSON");
                                    problems
                                }
                            };
                            self.record(Check::MatchesTheModel.at(Step::Read), problems.result());
                        }
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
                        let what = format!("delete record {id}");
                        if self
                            .expect(Step::Delete, what, delete, &request, delete.success_status)
                            .await
                            .is_some()
                        {
                            self.model.live.remove(at);
                            self.model.deleted.push(id);
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
                let linked = Resource::linked_properties(update);
                let aimed_at_record = !self.model.live.is_empty()
                    && !linked
                        .iter()
                        .any(|property| follow::violates(case, property));
                if aimed_at_record {
                    let id = self.model.live[usize::from(*at) % self.model.live.len()]
                        .id
                        .clone();
                    let Some(aimed) = self.aimed(update, &request, &id) else {
                        return;
                    };
                    request = aimed;
                } else if linked
                    .iter()
                    .all(|property| !follow::violates(case, property))
                {
                    // No live record: aimed at the id no record has, as the one-request cases are.
                    let never = self.never.clone();
                    let Some(aimed) = self.aimed(update, &request, &never) else {
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

    /// A read, update or delete of an id that was deleted or never made: 404, nothing changes.
    /// An update or delete is sent only after a read of the id answers 404, so that it cannot
    /// touch a record another made (a server that gives ids again).
    async fn absent(&mut self, action: Acting, plan: &Plan, request: &Request, id: &Value) {
        if plan.operation.response(404).is_none() {
            return;
        }
        let absence = if self.model.deleted.contains(id) {
            Absence::Deleted
        } else {
            Absence::NeverMade
        };
        if action != Acting::Read {
            let read = self.resource.read;
            let Some(request) = self.aimed(read, &Request::default(), id) else {
                return;
            };
            let what = format!("read record {id} ({absence}) before the {action}");
            if self
                .expect(
                    Step::Absent(Acting::Read, absence),
                    what,
                    read,
                    &request,
                    404,
                )
                .await
                .is_none()
            {
                return;
            }
        }
        let Some(mut request) = self.aimed(plan, request, id) else {
            return;
        };
        self.resource.mark(&mut request, &self.marker);
        let what = format!("{action} record {id} ({absence})");
        self.expect(Step::Absent(action, absence), what, plan, &request, 404)
            .await;
    }

    /// An invalid request: 400 with its violations, and nothing changes (which the next reads,
    /// lists and the audit see).
    async fn rejected(
        &mut self,
        step: Step,
        plan: &Plan,
        request: &Request,
        case: &InvalidRequest,
    ) {
        let labels: Vec<String> = case
            .violations
            .iter()
            .map(|violation| {
                violation
                    .property
                    .clone()
                    .unwrap_or_else(|| "(body)".into())
            })
            .collect();
        let what = format!("{step} ({})", labels.join(", "));
        if let Some(exchange) = self.expect(step, what, plan, request, 400).await
            && let Some(errors) = &self.runner.spec.root.errors
        {
            let json = exchange.response_json();
            for (check, outcome) in checks::labelled_errors(json.as_ref(), &case.violations, errors)
            {
                self.record(check.at(step), outcome);
            }
        }
    }

    async fn create(&mut self, mut request: Request) {
        let resource = self.resource;
        let create = resource.create;
        resource.mark(&mut request, &self.marker);
        let count = create.count(&request);
        self.asked += count;
        self.runner.records.asked(&self.marker, count);
        let what = format!("create {count}");
        let Some(exchange) = self
            .expect(Step::Create, what, create, &request, create.success_status)
            .await
        else {
            return;
        };
        let Some(id) = exchange
            .response_json()
            .and_then(|json| json.pointer(&resource.answer_id).cloned())
        else {
            self.record(
                Check::AnswersTheId.at(Step::Create),
                Err(Mismatch::new(
                    "no id",
                    format!("the answer has nothing at {}", resource.answer_id),
                )),
            );
            return;
        };
        let written: Map<String, Value> = predicted(create, request.body.as_ref(), &[])
            .into_iter()
            .filter_map(|(property, value)| Some((property, value?)))
            .collect();
        let new = |id: Value| Record {
            id,
            written: written.clone(),
            learned: Map::new(),
            written_at: None,
        };
        let step = self.result.steps.len() - 1;
        self.result
            .binds
            .push((step, id.clone(), jq(&resource.answer_id)));
        let answered_by = format!("{} (its answer)", create.operation.operation_id);
        if !self.prove(Step::Create, &id, &answered_by).await {
            return;
        }
        // Only an id shown to be the sequence's own record can say the server gave it again.
        self.first_time(&id);
        self.model.live.push(new(id.clone()));
        if count == 1 {
            return;
        }
        let first_page = self.result.steps.len();
        // The answer names the first record only: the others are found in the list.
        let known: BTreeSet<String> = self
            .model
            .live
            .iter()
            .map(|record| record.id.to_string())
            .collect();
        let Some(listed) = self.all_marked(Step::FindCreated).await else {
            return;
        };
        let mut problems = Problems::default();
        let mut added = Vec::new();
        let page_size = self.resource.max_size as usize;
        let records = &self
            .resource
            .list
            .page
            .as_ref()
            .expect("a list has a page")
            .records;
        for (position, record) in listed.iter().enumerate() {
            let Some(listed_id) = record.get(&resource.record_id) else {
                problems.add(
                    "a record without its id",
                    format!("a record without {}", resource.record_id),
                );
                continue;
            };
            if known.contains(&listed_id.to_string()) {
                continue;
            }
            if self.model.deleted.contains(listed_id) {
                continue; // the audit and lists report it
            }
            if record
                .get(&resource.marker.property)
                .and_then(Value::as_str)
                != Some(self.marker.as_str())
            {
                problems.add(
                    "a record without the marker filtered by",
                    format!(
                        "record {listed_id} does not carry the marker the list was filtered by"
                    ),
                );
                continue;
            }
            self.result.binds.push((
                first_page + position / page_size,
                listed_id.clone(),
                format!(
                    "{}[{}]{}",
                    jq(records),
                    position % page_size,
                    jq(&format!("/{}", resource.record_id))
                ),
            ));
            added.push((listed_id.clone(), record.clone()));
        }
        if added.len() as u64 + 1 != count {
            problems.add(
                "another number of records",
                format!(
                    "it asked for {count} records; the list shows {} new",
                    added.len() + 1
                ),
            );
        }
        if !problems.is_empty() {
            self.record(
                Check::AddsAsManyAsItSays.at(Step::Create),
                problems.result(),
            );
            return;
        }
        let listed_by = format!(
            "{} (filtered by the marker)",
            resource.list.operation.operation_id
        );
        for (listed_id, record) in added {
            if !self.prove(Step::FindCreated, &listed_id, &listed_by).await {
                return;
            }
            self.first_time(&listed_id);
            self.model.live.push(new(listed_id));
            let at = self.model.live.len() - 1;
            problems.extend(self.compare(at, &record));
        }
        self.record(
            Check::AddsAsManyAsItSays.at(Step::Create),
            problems.result(),
        );
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

    /// Every record of the sequence, through the list; `None` (with a failing check) when the
    /// list cannot be read, or its pages do not end.
    async fn all_marked(&mut self, step: Step) -> Option<Vec<Value>> {
        let Listing {
            sent,
            records,
            broken,
        } = self
            .runner
            .marked(self.resource, &self.marker, self.asked)
            .await;
        for (number, (_, exchange)) in sent.into_iter().enumerate() {
            self.result.steps.push(Sent {
                what: format!("{}: {step} (list page {})", self.label(), number + 1),
                credentials: Credentials::Token,
                exchange,
            });
        }
        match broken {
            None => Some(records),
            Some(mismatch) => {
                self.record(Check::ListEnds.at(step), Err(mismatch));
                None
            }
        }
    }

    /// After the last step: the list shows exactly the live records, each as the model has it.
    /// Returns the ids it showed carrying the sequence's marker (for the clean-up).
    async fn audit(&mut self) -> Vec<Value> {
        self.step = self.result.sequence.unwrap_or(0) + 1;
        let Some(listed) = self.all_marked(Step::Audit).await else {
            return Vec::new();
        };
        let record_id = &self.resource.record_id;
        let ids: Vec<Value> = listed
            .iter()
            .filter_map(|record| record.get(record_id).cloned())
            .collect();
        let mut problems = self.membership(&ids);
        for (id, record) in ids.iter().zip(&listed) {
            if let Some(at) = self.model.find(id) {
                problems.extend(self.compare(at, record));
            }
        }
        for record in &self.model.live {
            if !ids.contains(&record.id) {
                problems.add(
                    "a live record missing",
                    format!("live record {} is missing", record.id),
                );
            }
        }
        self.record(
            Check::HoldsExactlyTheLive.at(Step::Audit),
            problems.result(),
        );
        let property = &self.resource.marker.property;
        listed
            .iter()
            .filter(|record| {
                record.get(property).and_then(Value::as_str) == Some(self.marker.as_str())
            })
            .filter_map(|record| record.get(record_id).cloned())
            .collect()
    }

    /// Problems with listed `ids` that are not live records of the sequence.
    fn membership(&self, ids: &[Value]) -> Problems {
        let mut problems = Problems::default();
        let mut seen = BTreeSet::new();
        for id in ids {
            if !seen.insert(id.to_string()) {
                problems.add(
                    "a record listed twice",
                    format!("record {id} is listed twice"),
                );
            } else if self.model.deleted.contains(id) {
                problems.add(
                    "a deleted record listed",
                    format!("record {id} was deleted, yet it is listed"),
                );
            } else if self.model.find(id).is_none() {
                problems.add(
                    "a record of another listed",
                    format!("record {id} was not made by this sequence"),
                );
            }
        }
        problems
    }

    /// What a record read or listed differs in from the model's record `at`; learns what the
    /// model did not know.
    fn compare(&mut self, at: usize, got: &Value) -> Problems {
        let resource = self.resource;
        let caller = self.runner.target.caller.clone();
        let formats = &resource.list.record_formats;
        let record = &mut self.model.live[at];
        let id = record.id.clone();
        let mut problems = Problems::default();
        let Some(got) = got.as_object() else {
            problems.add("not an object", format!("record {id} is not an object"));
            return problems;
        };
        if got.get(&resource.record_id) != Some(&id) {
            problems.add(
                "the id differs",
                format!(
                    "record {id} is read with {} {}",
                    resource.record_id,
                    got.get(&resource.record_id)
                        .map_or_else(|| "missing".to_owned(), Value::to_string)
                ),
            );
        }
        for (property, written) in &record.written {
            match got.get(property) {
                None => problems.add(
                    "a property not as written",
                    format!("record {id}: {property} is missing"),
                ),
                Some(read)
                    if !checks::same_value(
                        formats.get(property).map(String::as_str),
                        written,
                        read,
                    ) =>
                {
                    problems.add(
                        "a property not as written",
                        format!(
                            "record {id}: {property} was written as {written}, reads as {read}"
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        for (property, read) in got {
            if record.written.contains_key(property) || *property == resource.record_id {
                continue;
            }
            if resource.written_by.as_ref() == Some(property) {
                match (&caller, read.as_str()) {
                    (Some(caller), Some(by)) if caller != by => problems.add(
                        "the writer is not the caller",
                        format!(
                            "record {id}: {property} is {read}, but the caller is {}",
                            Value::from(caller.as_str())
                        ),
                    ),
                    (_, None) => problems.add(
                        "the writer is not the caller",
                        format!("record {id}: {property} is {read}"),
                    ),
                    _ => {}
                }
                continue;
            }
            if resource.written_at.as_ref() == Some(property) {
                if let Some(before) = &record.written_at
                    && checks::compare(read, before, Some("date-time"), true)
                        .is_ok_and(|ordering| ordering == Ordering::Less)
                {
                    problems.add(
                        "the write time went back",
                        format!("record {id}: {property} went back from {before} to {read}"),
                    );
                }
                record.written_at = Some(read.clone());
                continue;
            }
            match record.learned.get(property) {
                Some(before) if before != read => problems.add(
                    "a property changed with no write",
                    format!(
                        "record {id}: {property} changed from {before} to {read} with no write"
                    ),
                ),
                Some(_) => {}
                None => {
                    record.learned.insert(property.clone(), read.clone());
                }
            }
        }
        problems
    }

    async fn list(&mut self, request: &Request, filters: &[(u16, u16)], page: u32, size: u32) {
        let resource = self.resource;
        let list = resource.list;
        let mut query = Map::new();
        let filter_parameters: BTreeSet<&str> = list
            .filters
            .iter()
            .map(|filter| filter.parameter.as_str())
            .collect();
        for (name, value) in &request.query {
            if !filter_parameters.contains(name.as_str())
                && *name != resource.page_parameter
                && *name != resource.size_parameter
            {
                query.insert(name.clone(), value.clone());
            }
        }
        query.insert(
            resource.marker.parameter.clone(),
            Value::from(self.marker.as_str()),
        );
        let others: Vec<_> = list
            .filters
            .iter()
            .filter(|filter| filter.parameter != resource.marker.parameter)
            .collect();
        if !others.is_empty() && !self.model.live.is_empty() {
            for (which, from) in filters {
                let filter = others[usize::from(*which) % others.len()];
                let record = &self.model.live[usize::from(*from) % self.model.live.len()];
                if let Some(value) = record.value(&filter.property, &resource.record_id)
                    && !value.is_null()
                {
                    query.insert(filter.parameter.clone(), value.clone());
                }
            }
        }
        query.insert(resource.page_parameter.clone(), Value::from(page));
        query.insert(resource.size_parameter.clone(), Value::from(size));
        let request = Request {
            query,
            ..Request::default()
        };
        let what = format!(
            "list page {page} of {size} ({})",
            request
                .query
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("&")
        );
        let Some(exchange) = self
            .expect(Step::List, what, list, &request, list.success_status)
            .await
        else {
            return;
        };
        let json = exchange.response_json();
        let page_plan = list.page.as_ref().expect("a list has a page");
        let (check, figures) = checks::page_figures(json.as_ref(), page_plan);
        self.record(check.at(Step::List), figures);
        let problems = self.predict_page(&request, json.as_ref(), page, size);
        self.record(Check::MatchesTheModel.at(Step::List), problems.result());
    }

    /// What a list page differs in from the model's prediction for `request`.
    fn predict_page(
        &mut self,
        request: &Request,
        json: Option<&Value>,
        page: u32,
        size: u32,
    ) -> Problems {
        let resource = self.resource;
        let list = resource.list;
        let page_plan = list.page.as_ref().expect("a list has a page");
        let records = match checks::records(json, page_plan) {
            Ok(records) => records,
            Err(mismatch) => {
                let mut problems = Problems::default();
                problems.add(mismatch.kind, mismatch.message);
                return problems;
            }
        };
        let record_id = &resource.record_id;
        let formats = &list.record_formats;
        let format = |property: &str| formats.get(property).map(String::as_str);
        // Which live records match every filter sent; `None` when a value is unknown.
        let mut matching = Vec::new();
        let mut unknown = false;
        for (at, record) in self.model.live.iter().enumerate() {
            let mut meets = true;
            for filter in &list.filters {
                let Some(sent) = request.query.get(&filter.parameter) else {
                    continue;
                };
                match record.value(&filter.property, record_id) {
                    Some(value) => {
                        meets &=
                            checks::meets(filter.matching, value, sent, format(&filter.property));
                    }
                    None => unknown = true,
                }
            }
            if meets {
                matching.push(at);
            }
        }
        let ids: Vec<Value> = records
            .iter()
            .map(|record| record.get(record_id).cloned().unwrap_or(Value::Null))
            .collect();
        let mut problems = self.membership(&ids);
        if !unknown {
            let total = json
                .and_then(|json| json.pointer(&page_plan.total_items))
                .cloned()
                .unwrap_or(Value::Null);
            if total.as_u64() != Some(matching.len() as u64) {
                problems.add(
                    "the total is not the model's",
                    format!(
                        "{} is {total}; the model has {} matching records",
                        page_plan.total_items,
                        matching.len()
                    ),
                );
            }
            if let Some(expected) = self.ordered(&matching, request) {
                let start = (page as usize - 1) * size as usize;
                let expected: Vec<Value> = expected
                    .into_iter()
                    .skip(start)
                    .take(size as usize)
                    .map(|at| self.model.live[at].id.clone())
                    .collect();
                if expected != ids {
                    problems.add(
                        "other records on the page",
                        format!(
                            "the page holds {}, the model expects {}",
                            Value::from(ids.clone()),
                            Value::from(expected)
                        ),
                    );
                }
            }
        }
        for (id, record) in ids.iter().zip(records) {
            if let Some(at) = self.model.find(id) {
                problems.extend(self.compare(at, record));
            }
        }
        problems
    }
    /// The records `matching` in the order the list must give them, when the model knows every
    /// value the order depends on.
    fn ordered(&self, matching: &[usize], request: &Request) -> Option<Vec<usize>> {
        let list = self.resource.list;
        let order = list.order.as_ref()?;
        let sent = |name: &str| {
            request
                .query
                .get(name)
                .cloned()
                .or_else(|| list.default(name))
        };
        let property = sent(&order.field)?.as_str()?.to_owned();
        let descending = sent(&order.direction).as_ref() == Some(&order.descending);
        let record_id = &self.resource.record_id;
        let formats = &list.record_formats;
        let key = |at: usize, name: &str| self.model.live[at].value(name, record_id).cloned();
        let mut keyed = Vec::new();
        for &at in matching {
            keyed.push((at, key(at, &property)?, key(at, &order.then)?));
        }
        let failed = std::cell::Cell::new(false);
        keyed.sort_by(|a, b| {
            let compare = |x: &Value, y: &Value, name: &str| {
                checks::compare(
                    x,
                    y,
                    formats.get(name).map(String::as_str),
                    order.nulls_first,
                )
                .unwrap_or_else(|_| {
                    failed.set(true);
                    Ordering::Equal
                })
            };
            let ordering = compare(&a.1, &b.1, &property).then(compare(&a.2, &b.2, &order.then));
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
        (!failed.get()).then(|| keyed.into_iter().map(|(at, _, _)| at).collect())
    }
}

/// Each body property of `plan` but `skip`, with the value it must read back as after a
/// success: as sent (uuids in lower case), or as the spec says a property left out reads
/// (`None` when the spec does not say).
fn predicted(plan: &Plan, body: Option<&Value>, skip: &[String]) -> Vec<(String, Option<Value>)> {
    plan.left_out
        .iter()
        .filter(|(property, _)| !skip.contains(property))
        .map(|(property, left_out)| {
            let value = match body.and_then(|body| body.get(property)) {
                Some(Value::String(text))
                    if plan.formats.get(property).map(String::as_str) == Some("uuid") =>
                {
                    Some(Value::from(text.to_lowercase()))
                }
                Some(value) => Some(value.clone()),
                None => left_out.clone(),
            };
            (property.clone(), value)
        })
        .collect()
}

/// A `jq` filter for a JSON pointer (`/Value/Id` is `.["Value"]["Id"]`).
fn jq(pointer: &str) -> String {
    let path: String = pointer
        .split('/')
        .skip(1)
        .map(|segment| {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            format!("[{}]", Value::from(segment))
        })
        .collect();
    format!(".{path}")
}
