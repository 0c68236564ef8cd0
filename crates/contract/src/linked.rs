//! What the spec's links ask around a case's own request: the record it acts on made first (and
//! shown to be the run's own before it is written), the record read back after a success, and
//! after a delete, gone.

use serde_json::Value;
use spec_strategies::Request;

use api_description::Operation;

use crate::harness::{CaseResult, Credentials, Runner, Sent, unanswered};

use crate::{
    checks::{self, Outcome},
    follow,
    plan::Plan,
    records::Proof,
    vocabulary::{Check, Gone, Mismatch},
};

impl Runner<'_> {
    /// The set-up of a case: when links say `plan`'s operation acts on an existing record, the
    /// source operation's fixed request is sent first and the link carries its answer into
    /// `request`. A case that writes the record gets it only once a read shows the record is the
    /// run's own.
    pub(crate) async fn set_up(
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
    pub(crate) async fn read_as_written(
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

    /// After a success: read back what links lead to, and for a delete, make sure the record is
    /// gone.
    pub(crate) async fn follow_up(
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
        let update = self
            .resources
            .iter()
            .find(|resource| {
                resource.delete.is_some_and(|delete| {
                    delete.operation.operation_id == plan.operation.operation_id
                })
            })
            .and_then(|resource| {
                let update = resource.update?;
                let id = resource.id_in(plan, request)?;
                let mut sent = resource
                    .aimed(
                        update,
                        self.fixed[update.operation.operation_id].clone(),
                        &id,
                    )
                    .ok()?;
                resource.mark(&mut sent, &self.records.marker);
                Some((update.operation, sent))
            });
        let mut tries = vec![(Gone::ReadAfterDelete, read, again.clone())];
        tries.extend(update.map(|(update, sent)| (Gone::UpdateAfterDelete, update, sent)));
        tries.push((Gone::DeleteAgain, plan.operation, again));
        for (gone, operation, sent) in tries {
            // Writes are sent again only once a read of the id answers 404: an id the server
            // gave again may name another's record by now.
            let read_found_nothing = result.outcomes.iter().any(|(check, outcome)| {
                *check == Check::GoneAfterDelete(Gone::ReadAfterDelete) && outcome.is_ok()
            });
            if operation.response(404).is_none()
                || (gone != Gone::ReadAfterDelete && !read_found_nothing)
            {
                continue;
            }
            let (step, verdict, answer) = self.gone(gone, operation, &sent).await;
            result.steps.push(step);
            result.outcomes.push(verdict);
            for outcome in answer {
                result.push_for(operation.operation_id, outcome);
            }
        }
    }

    /// Sends `request` of `operation` on a deleted record: whether it answered 404 (a check of
    /// the delete), then, when it did, whether that 404 is the one `operation` documents (checks
    /// of `operation`, whichever case sent it).
    pub(crate) async fn gone(
        &self,
        gone: Gone,
        operation: &'static Operation,
        request: &Request,
    ) -> (Sent, Outcome, Vec<Outcome>) {
        let exchange = self
            .send(operation, Credentials::Token, request, None)
            .await;
        let check = Check::GoneAfterDelete(gone);
        let step = Sent {
            what: check.to_string().trim_end_matches(": 404").to_owned(),
            credentials: Credentials::Token,
            exchange: exchange.as_ref().ok().cloned(),
        };
        let mut outcomes = Vec::new();
        let outcome = match &exchange {
            Err(message) => Err(unanswered(message.clone())),
            Ok(exchange) => checks::check(exchange.status == 404, || {
                Mismatch::new(
                    format!("answered {}", exchange.status),
                    format!(
                        "{} answered {}, not 404, after the record was deleted",
                        operation.operation_id, exchange.status
                    ),
                )
            }),
        };
        if let (true, Ok(exchange)) = (outcome.is_ok(), &exchange) {
            self.judge_answer(operation, exchange, 404, &mut outcomes);
        }
        (step, (check, outcome), outcomes)
    }
}
