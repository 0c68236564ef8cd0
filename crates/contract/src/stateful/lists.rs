//! A sequence's lists: every page of its marker's records against the model (membership, the
//! paging figures, the order asked for, the filters sent), and the audit that ends a sequence.

use crate::{
    checks,
    harness::{Credentials, Sent},
    records::Listing,
    vocabulary::{Check, Problems, Step},
};
use serde_json::{Map, Value};
use spec_strategies::Request;
use std::{cmp::Ordering, collections::BTreeSet};

use super::*;

impl Sequence<'_, '_> {
    /// Every record of the sequence, through the list; `None` (with a failing check) when the
    /// list cannot be read, or its pages do not end.
    pub(super) async fn all_marked(&mut self, step: Step) -> Option<Vec<Value>> {
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
    pub(super) async fn audit(&mut self) -> Vec<Value> {
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
    pub(super) fn membership(&self, ids: &[Value]) -> Problems {
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
    pub(super) fn compare(&mut self, at: usize, got: &Value) -> Problems {
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
            let read = got.get(property);
            if checks::reads_as_written(formats.get(property).map(String::as_str), written, read) {
                continue;
            }
            match read {
                None => problems.add(
                    "a property not as written",
                    format!("record {id}: {property} is missing"),
                ),
                Some(read) => problems.add(
                    "a property not as written",
                    format!("record {id}: {property} was written as {written}, reads as {read}"),
                ),
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

    pub(super) async fn list(
        &mut self,
        request: &Request,
        filters: &[(u16, u16)],
        page: u32,
        size: u32,
    ) {
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
    pub(super) fn predict_page(
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
    pub(super) fn ordered(&self, matching: &[usize], request: &Request) -> Option<Vec<usize>> {
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
