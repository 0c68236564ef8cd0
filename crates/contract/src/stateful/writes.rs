//! A sequence's writes: a create (its records proven the sequence's own before they join the
//! model), an update or delete of an id that has no record (sent only after a read answers
//! 404), and a write the API must refuse.

use crate::{
    checks,
    plan::Plan,
    vocabulary::{Absence, Action as Acting, Check, Mismatch, Problems, Step},
};
use serde_json::{Map, Value};
use spec_strategies::{InvalidRequest, Request};
use std::collections::BTreeSet;

use super::*;

impl Sequence<'_, '_> {
    /// A read, update or delete of an id that was deleted or never made: 404, nothing changes.
    /// An update or delete is sent only after a read of the id answers 404, so that it cannot
    /// touch a record another made (a server that gives ids again).
    pub(super) async fn absent(
        &mut self,
        action: Acting,
        plan: &Plan,
        request: &Request,
        id: &Value,
    ) {
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
    pub(super) async fn rejected(
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

    pub(super) async fn create(&mut self, mut request: Request) {
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
}
