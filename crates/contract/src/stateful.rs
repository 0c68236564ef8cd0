//! Stateful checks: random sequences of operations on records each sequence makes itself, every
//! answer checked against a model of what those records must hold.
//!
//! A sequence names records by position (the k-th live record, the k-th deleted one) rather than
//! by id, so that proptest can drop and simplify its steps and the sequence still means
//! something: a position past the end wraps, and with no record to name the step acts on an id
//! that was never made. Every record a sequence writes carries its own marker (see
//! [`Resource::marker`]), so its lists are scoped to its records and sequences run side by side on
//! disjoint records. A sequence ends with an audit (every marked record, all pages) and deletes
//! what it made.

use std::{cmp::Ordering, collections::BTreeSet, sync::atomic::Ordering as AtomicOrdering};

use futures_util::{StreamExt, stream};
use proptest::{
    prelude::*,
    strategy::{BoxedStrategy, Union},
};
use serde_json::{Map, Value};
use spec_strategies::{InvalidRequest, Request};

use crate::{
    ContractError, checks,
    exchange::Exchange,
    follow,
    plan::{Plan, Spec},
    resource::Resource,
    runner::{CaseResult, Credentials, Runner, Sent},
};

/// The most records one create of a sequence asks for.
const MOST_PER_CREATE: u64 = 3;
/// Deletes in flight at the end of a run.
const REMOVALS_IN_FLIGHT: usize = 32;
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
    marker: String,
    model: Model,
    result: CaseResult,
    /// The step being run (from 1), for the names of its requests.
    step: usize,
    /// An id no record has.
    never: Value,
}

impl Runner<'_> {
    /// Runs one sequence on fresh records and deletes them after (unless the options keep
    /// them).
    pub(crate) async fn sequence(
        &self,
        resource: &Resource<'_>,
        actions: Vec<Action>,
    ) -> CaseResult {
        let marker = format!(
            "{}-{}",
            self.marker,
            self.sequences_started.fetch_add(1, AtomicOrdering::Relaxed)
        );
        self.markers
            .lock()
            .expect("not poisoned")
            .insert(marker.clone());
        let never = self.never_id(resource).unwrap_or(Value::from(i64::MAX));
        let mut sequence = Sequence {
            runner: self,
            resource,
            marker: marker.clone(),
            model: Model::default(),
            result: CaseResult::new(),
            step: 0,
            never,
        };
        sequence.result.sequence = Some(actions.len());
        for (index, action) in actions.iter().enumerate() {
            sequence.step = index + 1;
            sequence.act(action).await;
        }
        let listed = sequence.audit().await;
        if !self.options.keep_records {
            let mut ids: Vec<Value> = sequence
                .model
                .live
                .iter()
                .map(|record| record.id.clone())
                .collect();
            for id in listed {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let removed = self.remove(resource, &ids).await;
            self.removed.fetch_add(removed, AtomicOrdering::Relaxed);
            self.markers.lock().expect("not poisoned").remove(&marker);
        }
        sequence.result
    }

    /// An id the read answers 404 for: what the not-found case sends.
    fn never_id(&self, resource: &Resource<'_>) -> Option<Value> {
        let absent =
            follow::absent(resource.read, Request::default(), &self.spec.definitions).ok()?;
        let setup = resource.read.setup.as_ref()?;
        let (location, name, _) = setup.link.parameters.first()?;
        match location {
            spec_strategies::Location::Path => absent.path.get(name).cloned(),
            spec_strategies::Location::Query => absent.query.get(name).cloned(),
        }
    }

    /// Deletes the records `ids`; how many the server said it deleted.
    pub(crate) async fn remove(&self, resource: &Resource<'_>, ids: &[Value]) -> u64 {
        let Some(delete) = resource.delete else {
            return 0;
        };
        let removals = ids.iter().map(|id| async move {
            let Ok(request) = resource.aimed(delete, Request::default(), id) else {
                return false;
            };
            self.send(delete.operation, Credentials::Token, &request, None)
                .await
                .is_ok_and(|exchange| exchange.status == delete.success_status)
        });
        // Side by side: each delete waits for its commit, which a server groups (the one-request
        // creates of up to 100 records leave tens of thousands to delete).
        stream::iter(removals)
            .buffer_unordered(REMOVALS_IN_FLIGHT.max(self.options.lanes()))
            .filter(|removed| std::future::ready(*removed))
            .count()
            .await as u64
    }

    /// Every record carrying `marker`, all pages: the requests sent and the records, or why they
    /// could not be read.
    pub(crate) async fn marked(
        &self,
        resource: &Resource<'_>,
        marker: &str,
    ) -> (Vec<(Request, Option<Exchange>)>, Result<Vec<Value>, String>) {
        let list = resource.list;
        let page = list.page.as_ref().expect("a list has a page");
        let mut sent = Vec::new();
        let mut records = Vec::new();
        for number in 1.. {
            let request = resource.marked_page(marker, number, resource.max_size);
            let exchange = self
                .send(list.operation, Credentials::Token, &request, None)
                .await;
            sent.push((request, exchange.as_ref().ok().cloned()));
            let exchange = match exchange {
                Ok(exchange) if exchange.status == list.success_status => exchange,
                Ok(exchange) => {
                    let message = format!(
                        "{} answered {}, not {}",
                        list.operation.operation_id, exchange.status, list.success_status
                    );
                    return (sent, Err(message));
                }
                Err(message) => return (sent, Err(message)),
            };
            let json = exchange.response_json();
            let Some(page_records) = json
                .as_ref()
                .and_then(|json| json.pointer(&page.records))
                .and_then(Value::as_array)
            else {
                return (sent, Err(format!("{} is not an array", page.records)));
            };
            records.extend(page_records.iter().cloned());
            let more = json
                .as_ref()
                .and_then(|json| json.pointer(&page.has_next))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            // A server that always says there is more must not keep the run going.
            if !more || page_records.is_empty() || number >= 1000 {
                break;
            }
        }
        (sent, Ok(records))
    }
}

impl Sequence<'_, '_> {
    fn record(&mut self, check: &str, outcome: Result<(), String>) {
        let check = check.to_owned();
        let label = self.label();
        let outcome = outcome.map_err(|message| format!("{label}: {message}"));
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
                self.record("request", Err(message));
                None
            }
        }
    }

    /// Sends `request` and checks the status is `expected` and the body its schema's.
    async fn expect(
        &mut self,
        check: &str,
        what: String,
        plan: &Plan,
        request: &Request,
        expected: u16,
    ) -> Option<Exchange> {
        let exchange = self.send(what, plan, request).await?;
        let (_, status) = checks::status(expected, exchange.status);
        self.record(&format!("{check}: status"), status);
        let (_, schema) = checks::response_schema(
            self.runner
                .spec
                .response_validator(plan.operation, exchange.status),
            exchange.response_json().as_ref(),
        );
        self.record(&format!("{check}: response schema"), schema);
        (exchange.status == expected).then_some(exchange)
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
                            .expect("read", what, read, &request, read.success_status)
                            .await
                        {
                            let problems = match exchange.response_json() {
                                Some(got) => self.compare(at, &got),
                                None => vec!["the body is not JSON".to_owned()],
                            };
                            self.record("read: matches the model", joined(problems));
                        }
                    }
                    Aim::Gone(id) => self.absent("read", read, request, &id).await,
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
                            .expect("update", what, update, &request, update.success_status)
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
                    Aim::Gone(id) => self.absent("update", update, request, &id).await,
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
                            .expect("delete", what, delete, &request, delete.success_status)
                            .await
                            .is_some()
                        {
                            self.model.live.remove(at);
                            self.model.deleted.push(id);
                        }
                    }
                    Aim::Gone(id) => self.absent("delete", delete, request, &id).await,
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
                }
                self.rejected("invalid create", resource.create, &request, case)
                    .await;
            }
            Action::InvalidUpdate(at, case) => {
                let Some(update) = resource.update else {
                    return;
                };
                let mut request = case.request.clone();
                let linked = Resource::linked_properties(update);
                if !self.model.live.is_empty()
                    && !linked
                        .iter()
                        .any(|property| follow::violates(case, property))
                {
                    let id = self.model.live[usize::from(*at) % self.model.live.len()]
                        .id
                        .clone();
                    let Some(aimed) = self.aimed(update, &request, &id) else {
                        return;
                    };
                    request = aimed;
                }
                if !follow::violates(case, &resource.marker.property) {
                    resource.mark(&mut request, &self.marker);
                }
                self.rejected("invalid update", update, &request, case)
                    .await;
            }
        }
    }

    fn aimed(&mut self, plan: &Plan, request: &Request, id: &Value) -> Option<Request> {
        match self.resource.aimed(plan, request.clone(), id) {
            Ok(request) => Some(request),
            Err(message) => {
                self.record("request", Err(message));
                None
            }
        }
    }

    /// A read, update or delete of an id that was deleted or never made: 404, nothing changes.
    async fn absent(&mut self, name: &str, plan: &Plan, request: &Request, id: &Value) {
        if plan.operation.response(404).is_none() {
            return;
        }
        let Some(mut request) = self.aimed(plan, request, id) else {
            return;
        };
        self.resource.mark(&mut request, &self.marker);
        let gone = if self.model.deleted.contains(id) {
            "deleted"
        } else {
            "never made"
        };
        let what = format!("{name} record {id} ({gone})");
        self.expect(&format!("{name} of a {gone} id"), what, plan, &request, 404)
            .await;
    }

    /// An invalid request: 400 with its violations, and nothing changes (which the next reads,
    /// lists and the audit see).
    async fn rejected(
        &mut self,
        name: &str,
        plan: &Plan,
        request: &Request,
        case: &InvalidRequest,
    ) {
        let labels: Vec<String> = case.violations.iter().map(checks::property_name).collect();
        let what = format!("{name} ({})", labels.join(", "));
        if let Some(exchange) = self.expect(name, what, plan, request, 400).await {
            let json = exchange.response_json();
            for (check, outcome) in checks::labelled_errors(json.as_ref(), &case.violations) {
                self.record(&format!("{name}: {check}"), outcome);
            }
        }
    }

    async fn create(&mut self, mut request: Request) {
        let resource = self.resource;
        let create = resource.create;
        resource.mark(&mut request, &self.marker);
        let count = create.count(&request);
        let what = format!("create {count}");
        let Some(exchange) = self
            .expect("create", what, create, &request, create.success_status)
            .await
        else {
            return;
        };
        let Some(id) = exchange
            .response_json()
            .and_then(|json| json.pointer(&resource.answer_id).cloned())
        else {
            self.record(
                "create: answers the record's id",
                Err(format!("nothing at {}", resource.answer_id)),
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
        let Some(listed) = self.all_marked("find the records created").await else {
            return;
        };
        let mut problems = Vec::new();
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
                problems.push(format!("a record without {}", resource.record_id));
                continue;
            };
            if known.contains(&listed_id.to_string()) {
                continue;
            }
            if self.model.deleted.contains(listed_id) {
                continue; // the audit and lists report it
            }
            self.first_time(listed_id);
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
            problems.push(format!(
                "it asked for {count} records; the list shows {} new",
                added.len() + 1
            ));
        }
        for (listed_id, record) in added {
            self.model.live.push(new(listed_id));
            let at = self.model.live.len() - 1;
            problems.extend(self.compare(at, &record));
        }
        self.record("create: adds as many records as it says", joined(problems));
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
            "ids are never reused",
            checks::check(fresh, || format!("id {id} was given before")),
        );
    }

    /// Every record of the sequence, through the list; `None` (with a failing check) when the
    /// list cannot be read.
    async fn all_marked(&mut self, why: &str) -> Option<Vec<Value>> {
        let (sent, records) = self.runner.marked(self.resource, &self.marker).await;
        for (number, (_, exchange)) in sent.into_iter().enumerate() {
            self.result.steps.push(Sent {
                what: format!("{}: {why} (list page {})", self.label(), number + 1),
                credentials: Credentials::Token,
                exchange,
            });
        }
        match records {
            Ok(records) => Some(records),
            Err(message) => {
                self.record(&format!("{why}: list"), Err(message));
                None
            }
        }
    }

    /// After the last step: the list shows exactly the live records, each as the model has it.
    /// Returns the ids it showed (for the clean-up).
    async fn audit(&mut self) -> Vec<Value> {
        self.step = self.result.sequence.unwrap_or(0) + 1;
        let Some(listed) = self.all_marked("audit").await else {
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
        let missing: Vec<String> = self
            .model
            .live
            .iter()
            .filter(|record| !ids.contains(&record.id))
            .map(|record| record.id.to_string())
            .collect();
        if !missing.is_empty() {
            problems.push(format!("live records missing: {}", missing.join(", ")));
        }
        self.record(
            "audit: the list holds exactly the live records",
            joined(problems),
        );
        ids
    }

    /// Problems with listed `ids` that are not live records of the sequence.
    fn membership(&self, ids: &[Value]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for id in ids {
            if !seen.insert(id.to_string()) {
                problems.push(format!("record {id} is listed twice"));
            } else if self.model.deleted.contains(id) {
                problems.push(format!("record {id} was deleted, yet it is listed"));
            } else if self.model.find(id).is_none() {
                problems.push(format!("record {id} was not made by this sequence"));
            }
        }
        problems
    }

    /// What a record read or listed differs in from the model's record `at`; learns what the
    /// model did not know.
    fn compare(&mut self, at: usize, got: &Value) -> Vec<String> {
        let resource = self.resource;
        let caller = self.runner.target.caller.clone();
        let formats = &resource.list.record_formats;
        let record = &mut self.model.live[at];
        let id = record.id.clone();
        let Some(got) = got.as_object() else {
            return vec![format!("record {id} is not an object")];
        };
        let mut problems = Vec::new();
        if got.get(&resource.record_id) != Some(&id) {
            problems.push(format!(
                "record {id} is read with {} {:?}",
                resource.record_id,
                got.get(&resource.record_id)
            ));
        }
        for (property, written) in &record.written {
            match got.get(property) {
                None => problems.push(format!("record {id}: {property} is missing")),
                Some(read)
                    if !checks::same_value(
                        formats.get(property).map(String::as_str),
                        written,
                        read,
                    ) =>
                {
                    problems.push(format!(
                        "record {id}: {property} was written as {written}, reads as {read}"
                    ));
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
                    (Some(caller), Some(by)) if caller != by => problems.push(format!(
                        "record {id}: {property} is {by:?}, but the caller is {caller:?}"
                    )),
                    (_, None) => problems.push(format!("record {id}: {property} is {read}")),
                    _ => {}
                }
                continue;
            }
            if resource.written_at.as_ref() == Some(property) {
                if let Some(before) = &record.written_at
                    && checks::compare(read, before, Some("date-time"), true)
                        .is_ok_and(|ordering| ordering == Ordering::Less)
                {
                    problems.push(format!(
                        "record {id}: {property} went back from {before} to {read}"
                    ));
                }
                record.written_at = Some(read.clone());
                continue;
            }
            match record.learned.get(property) {
                Some(before) if before != read => problems.push(format!(
                    "record {id}: {property} changed from {before} to {read} with no write"
                )),
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
            .expect("list", what, list, &request, list.success_status)
            .await
        else {
            return;
        };
        let json = exchange.response_json();
        let page_plan = list.page.as_ref().expect("a list has a page");
        let (_, figures) = checks::page_figures(json.as_ref(), page_plan);
        self.record("list: page figures", figures);
        let problems = self.predict_page(&request, json.as_ref(), page, size);
        self.record("list: matches the model", joined(problems));
    }

    /// What a list page differs in from the model's prediction for `request`.
    fn predict_page(
        &mut self,
        request: &Request,
        json: Option<&Value>,
        page: u32,
        size: u32,
    ) -> Vec<String> {
        let resource = self.resource;
        let list = resource.list;
        let page_plan = list.page.as_ref().expect("a list has a page");
        let Some(records) = json
            .and_then(|json| json.pointer(&page_plan.records))
            .and_then(Value::as_array)
        else {
            return vec![format!("{} is not an array", page_plan.records)];
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
        let mut problems = Vec::new();
        let ids: Vec<Value> = records
            .iter()
            .map(|record| record.get(record_id).cloned().unwrap_or(Value::Null))
            .collect();
        problems.extend(self.membership(&ids));
        if !unknown {
            let total = json
                .and_then(|json| json.pointer(&page_plan.total_items))
                .and_then(Value::as_u64);
            if total != Some(matching.len() as u64) {
                problems.push(format!(
                    "{} is {total:?}; the model has {} matching records",
                    page_plan.total_items,
                    matching.len()
                ));
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
                    problems.push(format!(
                        "the page holds {}, the model expects {}",
                        Value::from(ids.clone()),
                        Value::from(expected)
                    ));
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

fn joined(problems: Vec<String>) -> Result<(), String> {
    checks::check(problems.is_empty(), || problems.join("; "))
}
