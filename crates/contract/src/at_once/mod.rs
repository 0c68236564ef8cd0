//! Writers at once: several creates, several updates of one record (with reads racing them) and
//! several deletes of one record, each group sent together, on records the run made for them.
//! What a server may do with writes at once is not up to it: N creates make N records, N updates
//! leave one writer's record whole (and every read in between shows a whole record), N deletes
//! succeed once.
//!
//! Each check makes its records under a marker of its own, so that they are found, proven the
//! run's own and deleted like a sequence's. A failure shows its requests in the order the client
//! saw them answered, and its script sends them together again.

use futures_util::stream::{FuturesUnordered, StreamExt};
use proptest::strategy::{Strategy, ValueTree};
use serde_json::Value;
use spec_strategies::Request;

mod bodies;

use self::bodies::{Candidate, MIXTURE, Verdict, unlike, verdict};
use crate::{
    checks,
    exchange::Exchange,
    harness::{CaseResult, Credentials, Runner, Sent, seeded, unanswered},
    plan::Plan,
    records::{Listing, Proof},
    resource::Resource,
    vocabulary::{AtOnce, Check, Gone, Mismatch, Problems},
};

/// Mixed into the seed of the bodies the updates at once send.
const AT_ONCE_SEED: u64 = 0x00A7_0ACE;

/// What one request of a group sent together was, and what came back.
struct Raced<'p> {
    plan: &'p Plan,
    what: String,
    exchange: Result<Exchange, String>,
}

impl Runner<'_> {
    /// The checks of writers at once on `resource` (index `index`), each a case judged as the
    /// operation it names.
    pub(crate) async fn at_once(&self, index: usize, writers: usize) -> Vec<(String, CaseResult)> {
        let resource = &self.resources[index];
        let mut cases = vec![(
            resource.create.operation.operation_id.to_owned(),
            self.creates_at_once(index, writers).await,
        )];
        if let Some(update) = resource.update {
            cases.push((
                update.operation.operation_id.to_owned(),
                self.updates_at_once(index, update, writers).await,
            ));
        }
        if let Some(delete) = resource.delete {
            cases.push((
                delete.operation.operation_id.to_owned(),
                self.deletes_at_once(index, delete, writers).await,
            ));
        }
        cases
    }

    /// Sends `requests` together; each with its answer, in the order the answers came.
    async fn together<'p>(
        &self,
        requests: Vec<(&'p Plan, Request, String)>,
        result: &mut CaseResult,
    ) -> Vec<Raced<'p>> {
        let mut racing: FuturesUnordered<_> = requests
            .into_iter()
            .map(|(plan, request, what)| async move {
                let exchange = self
                    .send(plan.operation, Credentials::Token, &request, None)
                    .await;
                Raced {
                    plan,
                    what,
                    exchange,
                }
            })
            .collect();
        let mut raced = Vec::new();
        while let Some(one) = racing.next().await {
            raced.push(one);
        }
        let first = result.steps.len();
        let count = raced.len();
        for (order, one) in raced.iter().enumerate() {
            result.steps.push(Sent {
                what: format!(
                    "{} (sent at once with {} others; answered {} of {count})",
                    one.what,
                    count - 1,
                    order + 1
                ),
                credentials: Credentials::Token,
                exchange: one.exchange.as_ref().ok().cloned(),
            });
        }
        result.at_once.push(first..result.steps.len());
        raced
    }

    /// A record of its own for a check: made by the create's fixed request (one record) under
    /// `marker`, and shown to be the run's own; its id.
    async fn made_for(
        &self,
        index: usize,
        marker: &str,
        check: &Check,
        result: &mut CaseResult,
    ) -> Option<(Value, Request)> {
        let resource = &self.resources[index];
        let create = resource.create;
        let request = self.one_record(resource, marker);
        self.records.asked(marker, 1);
        let exchange = self
            .send(create.operation, Credentials::Token, &request, None)
            .await;
        result.steps.push(Sent {
            what: format!("set-up: {}", create.operation.operation_id),
            credentials: Credentials::Token,
            exchange: exchange.as_ref().ok().cloned(),
        });
        let made = match exchange {
            Err(message) => Err(unanswered(message)),
            Ok(exchange) if exchange.status != create.success_status => Err(Mismatch::new(
                format!("the set-up answered {}", exchange.status),
                format!(
                    "{} answered {}, not {}",
                    create.operation.operation_id, exchange.status, create.success_status
                ),
            )),
            Ok(exchange) => exchange
                .response_json()
                .and_then(|answer| answer.pointer(&resource.answer_id).cloned())
                .ok_or_else(|| {
                    Mismatch::new(
                        "no id answered",
                        format!("the create's answer has no {}", resource.answer_id),
                    )
                }),
        };
        let id = match made {
            Ok(id) => id,
            Err(mismatch) => {
                result.outcomes.push((Check::SetUp, Err(mismatch)));
                return None;
            }
        };
        match self.shown_own(index, marker, &id, check, result).await {
            true => Some((id, request)),
            false => None,
        }
    }

    /// The create's fixed request for one record, carrying `marker`.
    fn one_record(&self, resource: &Resource<'_>, marker: &str) -> Request {
        let create = resource.create;
        let mut request = self.fixed[create.operation.operation_id].clone();
        if let (Some(crate::expression::Expression::RequestBody(pointer)), Some(body)) =
            (&create.creates, request.body.as_mut())
            && let Some(slot) = body.pointer_mut(pointer)
        {
            *slot = Value::from(1);
        }
        resource.mark(&mut request, marker);
        request
    }

    /// Reads `id` and shows it carries `marker`; whether it does (a failure of `check` when not).
    async fn shown_own(
        &self,
        index: usize,
        marker: &str,
        id: &Value,
        check: &Check,
        result: &mut CaseResult,
    ) -> bool {
        let (proof, read) = self.prove(index, id, Some(marker)).await;
        result.steps.push(Sent {
            what: format!("read record {id}: is it the run's own?"),
            credentials: Credentials::Token,
            exchange: read,
        });
        let outcome = match proof {
            Proof::Own => return true,
            Proof::Gone => Mismatch::new(
                "the id answered names no record",
                format!("record {id} was answered, and a read of it answered 404"),
            ),
            Proof::Foreign(mismatch) | Proof::Unknown(mismatch) => mismatch,
        };
        result.outcomes.push((check.clone(), Err(outcome)));
        false
    }

    /// Deletes the records of `marker` the check made (those in `ids`, and any its list shows).
    async fn clear(&self, index: usize, marker: &str, ids: Vec<Value>, pointed: &str) {
        if self.options.keep_records {
            return;
        }
        let resource = &self.resources[index];
        let listing = self.marked(resource, marker, ids.len() as u64 + 1).await;
        let mut own: Vec<(Value, String)> =
            ids.into_iter().map(|id| (id, pointed.to_owned())).collect();
        for (id, listed) in self.carrying(resource, marker, &listing) {
            if !own.iter().any(|(known, _)| *known == id) {
                own.push((id, listed));
            }
        }
        self.remove_own(index, own).await;
        if listing.broken.is_none() {
            self.records.done_with(marker);
        }
    }

    /// N creates at once: N successes, N distinct ids, each the run's own, all listed.
    async fn creates_at_once(&self, index: usize, writers: usize) -> CaseResult {
        let resource = &self.resources[index];
        let create = resource.create;
        let check = Check::AtOnce(AtOnce::Creates);
        let marker = self.records.sequence_marker();
        let mut result = CaseResult::new();
        self.records.asked(&marker, writers as u64);
        let requests = (1..=writers)
            .map(|n| {
                let request = self.one_record(resource, &marker);
                (create, request, format!("create {n} of {writers}"))
            })
            .collect();
        let raced = self.together(requests, &mut result).await;
        let mut problems = Problems::default();
        let mut ids: Vec<Value> = Vec::new();
        for one in &raced {
            match &one.exchange {
                Err(message) => problems.add("no answer", format!("{}: {message}", one.what)),
                Ok(exchange) if exchange.status != create.success_status => problems.add(
                    format!("a create answered {}", exchange.status),
                    format!("{} answered {}", one.what, exchange.status),
                ),
                Ok(exchange) => match exchange
                    .response_json()
                    .and_then(|answer| answer.pointer(&resource.answer_id).cloned())
                {
                    Some(id) if ids.contains(&id) => problems.add(
                        "an id given to two creates",
                        format!(
                            "{} answered id {id}, which another create at once had",
                            one.what
                        ),
                    ),
                    Some(id) => ids.push(id),
                    None => problems.add(
                        "no id answered",
                        format!("{} has no {}", one.what, resource.answer_id),
                    ),
                },
            }
        }
        let mut own = Vec::new();
        for id in &ids {
            if self
                .shown_own(index, &marker, id, &check, &mut result)
                .await
            {
                own.push(id.clone());
            }
        }
        if problems.is_empty() && own.len() == ids.len() {
            let listing = self.marked(resource, &marker, writers as u64 + 1).await;
            listed_steps(&listing, &mut result);
            let listed: Vec<Value> = listing
                .records
                .iter()
                .filter_map(|record| record.get(&resource.record_id).cloned())
                .collect();
            for id in &ids {
                if !listed.contains(id) {
                    problems.add(
                        "a record made at once is not listed",
                        format!(
                            "record {id} was made, but the list of the records marked {marker} \
                             does not show it"
                        ),
                    );
                }
            }
            if let Some(broken) = listing.broken {
                problems.add(broken.kind.clone(), broken.message);
            }
        }
        result.outcomes.push((check, problems.result()));
        self.clear(index, &marker, own, create.operation.operation_id)
            .await;
        result
    }

    /// N updates of one record at once, with N reads racing them: each read shows a whole
    /// record (as it was, or as one update wrote it), and after them the record is one update's
    /// body whole, read the same by id and by list.
    async fn updates_at_once(&self, index: usize, update: &Plan, writers: usize) -> CaseResult {
        let resource = &self.resources[index];
        let read = resource.read;
        let check = Check::AtOnce(AtOnce::Updates);
        let create_id = resource.create.operation.operation_id;
        let marker = self.records.sequence_marker();
        let mut result = CaseResult::new();
        let Some((id, created)) = self.made_for(index, &marker, &check, &mut result).await else {
            self.clear(index, &marker, Vec::new(), "").await;
            return result;
        };
        let bodies = match self.distinct_bodies(update, writers) {
            Ok(bodies) => bodies,
            Err(message) => {
                result
                    .outcomes
                    .push((Check::SetUp, Err(Mismatch::new("no bodies", message))));
                self.clear(index, &marker, vec![id], create_id).await;
                return result;
            }
        };
        let fixed_read = self.fixed[read.operation.operation_id].clone();
        let mut requests = Vec::new();
        let mut sent = Vec::new();
        for (n, body) in bodies.into_iter().enumerate() {
            let Ok(mut request) = resource.aimed(update, body, &id) else {
                continue;
            };
            resource.mark(&mut request, &marker);
            sent.push(request.clone());
            requests.push((update, request, format!("update {} of {writers}", n + 1)));
            if let Ok(racing) = resource.aimed(read, fixed_read.clone(), &id) {
                requests.push((read, racing, format!("read {} of {writers}", n + 1)));
            }
        }
        // The bodies that may have written the record: each update's, then the create's.
        let mut candidates: Vec<Candidate<'_>> = sent
            .iter()
            .map(|sent| Candidate::of(update, sent))
            .collect();
        candidates.push(Candidate::of(resource.create, &created));
        let original = candidates.len() - 1;
        // Read first, so that a cache in front of the store holds the record the updates change.
        self.read_step(index, &id, "before the updates", &mut result)
            .await;
        let raced = self.together(requests, &mut result).await;
        let mut problems = Problems::default();
        let mut not_as_sent = None;
        for one in &raced {
            let expected = one.plan.success_status;
            match &one.exchange {
                Err(message) => problems.add("no answer", format!("{}: {message}", one.what)),
                Ok(exchange) if exchange.status != expected => problems.add(
                    format!("answered {}", exchange.status),
                    format!("{} answered {}, not {expected}", one.what, exchange.status),
                ),
                Ok(exchange) if std::ptr::eq(one.plan, read) => {
                    match verdict(exchange.response_json().as_ref(), &candidates) {
                        Verdict::Whole(_) => {}
                        Verdict::Mixture => problems.add(
                            MIXTURE,
                            format!(
                                "{} answered a record with fields of several writers: neither \
                                 the one made nor any one update's body",
                                one.what
                            ),
                        ),
                        Verdict::NotAsSent(mismatch) => not_as_sent = Some(mismatch),
                    }
                }
                Ok(_) => {}
            }
        }
        if problems.is_empty() && not_as_sent.is_none() {
            let by_id = self
                .read_step(index, &id, "after the updates", &mut result)
                .await
                .and_then(|exchange| exchange.response_json());
            match verdict(by_id.as_ref(), &candidates) {
                Verdict::Mixture => problems.add(
                    MIXTURE,
                    format!(
                        "after {writers} updates at once, record {id} has fields of several of \
                         them, no one update's body whole: {}",
                        by_id.map_or_else(|| "nothing".to_owned(), |record| record.to_string())
                    ),
                ),
                Verdict::NotAsSent(mismatch) => not_as_sent = Some(mismatch),
                // No update shows at all: a read that misses every write.
                Verdict::Whole(at) if at == original => {
                    not_as_sent = checks::read_back(
                        sent[0].body.as_ref(),
                        by_id.as_ref(),
                        &update.write_only,
                        &update.formats,
                    )
                    .1
                    .err();
                }
                Verdict::Whole(winner) => {
                    let listing = self.marked(resource, &marker, 2).await;
                    listed_steps(&listing, &mut result);
                    let listed = listing
                        .records
                        .iter()
                        .find(|record| record.get(&resource.record_id) == Some(&id));
                    let agrees = checks::read_back(
                        sent[winner].body.as_ref(),
                        listed,
                        &update.write_only,
                        &resource.list.record_formats,
                    )
                    .1;
                    if let Err(mismatch) = agrees {
                        problems.add(
                            "the list and the read disagree",
                            format!(
                                "read by id, record {id} is update {}'s body; listed: {}",
                                winner + 1,
                                mismatch.message
                            ),
                        );
                    }
                }
            }
        }
        // A write not kept as sent shows without any other writer: judged as the reads after
        // one write are (one fault, one group).
        if let Some(mismatch) = not_as_sent {
            result
                .outcomes
                .push((Check::ReadsBackAsSent, Err(mismatch)));
        }
        result.outcomes.push((check, problems.result()));
        self.clear(index, &marker, vec![id], create_id).await;
        result
    }

    /// Reads record `id` (a step of `result` named `why`); the answer, if any.
    async fn read_step(
        &self,
        index: usize,
        id: &Value,
        why: &str,
        result: &mut CaseResult,
    ) -> Option<Exchange> {
        let read = self.resources[index].read;
        let request = self.fixed[read.operation.operation_id].clone();
        let exchange = match self.resources[index].aimed(read, request, id) {
            Ok(request) => self
                .send(read.operation, Credentials::Token, &request, None)
                .await
                .ok(),
            Err(_) => None,
        };
        result.steps.push(Sent {
            what: format!("read record {id} {why}"),
            credentials: Credentials::Token,
            exchange: exchange.clone(),
        });
        exchange
    }

    /// Makes a record under `marker`, deletes it alone and reads it: whether the read found it
    /// gone (each failure in `result`, judged as the reads after any delete are).
    async fn stays_gone(
        &self,
        index: usize,
        delete: &Plan,
        marker: &str,
        result: &mut CaseResult,
    ) -> bool {
        let resource = &self.resources[index];
        let read = resource.read;
        let Some((id, _)) = self.made_for(index, marker, &Check::SetUp, result).await else {
            return false;
        };
        let aimed = |plan: &Plan| {
            resource.aimed(plan, self.fixed[plan.operation.operation_id].clone(), &id)
        };
        let (Ok(alone), Ok(again)) = (aimed(delete), aimed(read)) else {
            return false;
        };
        let exchange = self
            .send(delete.operation, Credentials::Token, &alone, None)
            .await;
        result.steps.push(Sent {
            what: format!("set-up: delete record {id} alone"),
            credentials: Credentials::Token,
            exchange: exchange.as_ref().ok().cloned(),
        });
        if !exchange.is_ok_and(|exchange| exchange.status == delete.success_status) {
            result.outcomes.push((
                Check::SetUp,
                Err(Mismatch::new(
                    "the delete failed",
                    format!("a delete of record {id} alone did not succeed"),
                )),
            ));
            return false;
        }
        let (step, verdict, answer) = self
            .gone(Gone::ReadAfterDelete, read.operation, &again)
            .await;
        result.steps.push(step);
        let gone = verdict.1.is_ok();
        result.outcomes.push(verdict);
        for outcome in answer {
            result.push_for(read.operation.operation_id, outcome);
        }
        gone
    }

    /// `count` valid bodies of `update`, as unlike each other as the drawn ones allow: a record
    /// made of parts of two of them is then none of them, wherever the parts were cut.
    fn distinct_bodies(&self, update: &Plan, count: usize) -> Result<Vec<Request>, String> {
        let strategy = self
            .spec
            .strategies
            .valid_request(&update.shape)
            .map_err(|error| error.to_string())?;
        let mut generator = seeded(self.options.seed ^ AT_ONCE_SEED);
        let drawn = (0..count * 16)
            .map(|_| {
                strategy
                    .new_tree(&mut generator)
                    .map(|tree| tree.current())
                    .map_err(|reason| reason.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(unlike(drawn, count, &update.write_only))
    }

    /// N deletes of one record at once: one success, the others 404, and the record gone.
    async fn deletes_at_once(&self, index: usize, delete: &Plan, writers: usize) -> CaseResult {
        let resource = &self.resources[index];
        let check = Check::AtOnce(AtOnce::Deletes);
        let marker = self.records.sequence_marker();
        let mut result = CaseResult::new();
        let fixed = self.fixed[delete.operation.operation_id].clone();
        // Deletes sent together are aimed at one id, and only the first finds the run's record:
        // where a deleted id can name another record, the rest could reach it. So a record is
        // first deleted alone, and a read must find it gone.
        if !self.stays_gone(index, delete, &marker, &mut result).await {
            self.clear(index, &marker, Vec::new(), "").await;
            return result;
        }
        let Some((id, _)) = self.made_for(index, &marker, &check, &mut result).await else {
            self.clear(index, &marker, Vec::new(), "").await;
            return result;
        };
        let requests = (1..=writers)
            .filter_map(|n| {
                let request = resource.aimed(delete, fixed.clone(), &id).ok()?;
                Some((delete, request, format!("delete {n} of {writers}")))
            })
            .collect();
        let raced = self.together(requests, &mut result).await;
        let mut problems = Problems::default();
        let mut successes = 0;
        for one in &raced {
            match &one.exchange {
                Err(message) => problems.add("no answer", format!("{}: {message}", one.what)),
                Ok(exchange) if exchange.status == delete.success_status => successes += 1,
                Ok(exchange) if exchange.status == 404 => {}
                Ok(exchange) => problems.add(
                    format!("a delete answered {}", exchange.status),
                    format!("{} answered {}", one.what, exchange.status),
                ),
            }
        }
        if problems.is_empty() && successes != 1 {
            problems.add(
                "not one success",
                format!(
                    "{successes} of {writers} deletes of record {id} at once answered {}: \
                     exactly one may, the others answer 404",
                    delete.success_status
                ),
            );
        }
        let mut remaining = vec![id.clone()];
        let read = resource.read;
        if problems.is_empty()
            && let Ok(request) =
                resource.aimed(read, self.fixed[read.operation.operation_id].clone(), &id)
        {
            // Judged as the read after any delete is (one stale cache is one fault).
            let (step, verdict, answer) = self
                .gone(Gone::ReadAfterDelete, read.operation, &request)
                .await;
            result.steps.push(step);
            if verdict.1.is_ok() {
                remaining.clear();
            }
            result.outcomes.push(verdict);
            for outcome in answer {
                result.push_for(read.operation.operation_id, outcome);
            }
        }
        result.outcomes.push((check, problems.result()));
        self.clear(
            index,
            &marker,
            remaining,
            resource.create.operation.operation_id,
        )
        .await;
        result
    }
}

/// The pages a check read of its records, as steps of its case.
fn listed_steps(listing: &Listing, result: &mut CaseResult) {
    for (number, (_, exchange)) in listing.sent.iter().enumerate() {
        result.steps.push(Sent {
            what: format!("list the check's records, page {}", number + 1),
            credentials: Credentials::Token,
            exchange: exchange.clone(),
        });
    }
}
