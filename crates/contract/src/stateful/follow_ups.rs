//! What a sequence reads around its writes: the record read just before an update or a delete
//! (so that a cache in front of the store holds it), read again just after an update, and after
//! a delete, gone to every operation on its id. The checks after a write judge the write, in the
//! same groups as the one-request cases' reads after theirs: one stale cache is one fault.

use serde_json::Value;
use spec_strategies::Request;

use super::Sequence;
use crate::{
    checks,
    plan::Plan,
    vocabulary::{Check, Gone, Problems, Step},
};

impl Sequence<'_, '_> {
    /// Reads live record `at` with `request` (its id set) and checks it against the model;
    /// whether it matched. `why` ends the step's name (`before the update`).
    pub(super) async fn read_live(&mut self, at: usize, request: &Request, why: &str) -> bool {
        let read = self.resource.read;
        let id = self.model.live[at].id.clone();
        let Some(request) = self.aimed(read, request, &id) else {
            return false;
        };
        let what = format!("read record {id}{why}");
        let Some(exchange) = self
            .expect(Step::Read, what, read, &request, read.success_status)
            .await
        else {
            return false;
        };
        let problems = match exchange.response_json() {
            Some(got) => self.compare(at, &got),
            None => {
                let mut problems = Problems::default();
                problems.add("not JSON", "the body is not JSON");
                problems
            }
        };
        self.record(Check::MatchesTheModel.at(Step::Read), problems.result());
        !self.failed
    }

    /// Reads live record `at` just after `update` wrote `request` to it: the read must show what
    /// was sent (judged as the update's), then what the model holds.
    pub(super) async fn read_after_update(&mut self, at: usize, update: &Plan, request: &Request) {
        let read = self.resource.read;
        let id = self.model.live[at].id.clone();
        let fixed = self.runner.fixed[read.operation.operation_id].clone();
        let Some(aimed) = self.aimed(read, &fixed, &id) else {
            return;
        };
        let what = format!("read record {id} after the update");
        let Some(exchange) = self
            .expect(Step::Read, what, read, &aimed, read.success_status)
            .await
        else {
            return;
        };
        let got = exchange.response_json();
        let (_, outcome) = checks::read_back(
            request.body.as_ref(),
            got.as_ref(),
            &update.write_only,
            &update.formats,
        );
        self.record_for(
            update.operation.operation_id,
            Check::ReadsBackAsSent,
            outcome,
        );
        if let Some(got) = got {
            let problems = self.compare(at, &got);
            self.record(Check::MatchesTheModel.at(Step::Read), problems.result());
        }
    }

    /// After `delete` removed record `id`: a read of it answers 404, then an update and the
    /// delete again (sent only once the read found nothing), each in the documented answer.
    pub(super) async fn gone_everywhere(&mut self, delete: &Plan, id: &Value) {
        let resource = self.resource;
        let fixed = |plan: &Plan| self.runner.fixed[plan.operation.operation_id].clone();
        let mut tries = vec![(Gone::ReadAfterDelete, resource.read, fixed(resource.read))];
        if let Some(update) = resource.update {
            tries.push((Gone::UpdateAfterDelete, update, fixed(update)));
        }
        tries.push((Gone::DeleteAgain, delete, fixed(delete)));
        for (gone, plan, request) in tries {
            // Writes follow only a read that found nothing: the id may name another's record.
            if plan.operation.response(404).is_none() {
                if gone == Gone::ReadAfterDelete {
                    return;
                }
                continue;
            }
            let Some(mut request) = self.aimed(plan, &request, id) else {
                return;
            };
            if gone == Gone::UpdateAfterDelete {
                resource.mark(&mut request, &self.marker);
            }
            let (mut sent, (check, outcome), answer) =
                self.runner.gone(gone, plan.operation, &request).await;
            sent.what = format!("{}: {}", self.label(), sent.what);
            self.result.steps.push(sent);
            self.record_for(delete.operation.operation_id, check, outcome);
            for (check, outcome) in answer {
                self.record_for(plan.operation.operation_id, check, outcome);
            }
            if self.failed {
                return;
            }
        }
    }
}
