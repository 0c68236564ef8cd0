//! The records a run makes, and the proof that a record is the run's own before it is touched.
//!
//! Every create the run sends carries a marker in the resource's marker property: the run's own,
//! or one of a sequence's, made from it. Before the run updates or deletes a record, a read of
//! its id must show one of those markers, or exactly what the run last wrote to it (a valid
//! update may write another value in the marker property): otherwise the record is left as it
//! is, and the create or list that pointed at it is reported. At the end, the records are found
//! again (the ids creates answered, and the list filtered by each marker, every page of it, its
//! paging bounded against a list that never ends) and each is proven, then deleted.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering as AtomicOrdering},
    },
};

use futures_util::{StreamExt, stream};
use serde_json::{Map, Value, json};
use spec_strategies::Request;

use crate::{
    checks,
    exchange::Exchange,
    report::Failure,
    resource::Resource,
    runner::{CaseResult, Credentials, Runner, Sent},
    vocabulary::{Case, Check, Mismatch},
};

/// Deletes in flight at the end of a run.
const REMOVALS_IN_FLIGHT: usize = 32;
/// The most pages a list is followed for, whatever it says.
const MOST_PAGES: u64 = 1000;
/// Pages a list may take beyond those its marker's records fill, before the run stops reading it:
/// room for a server that ignores the filter on a small table.
const SPARE_PAGES: u64 = 10;

/// What the run knows of the records it made.
pub(crate) struct Records {
    /// The run's marker: the sequences' markers start with it.
    pub(crate) marker: String,
    /// Markers whose records are not yet deleted.
    pending: Mutex<BTreeSet<String>>,
    /// How many records the creates sent under each marker asked for: at most that many records
    /// carry it.
    asked: Mutex<BTreeMap<String, u64>>,
    /// Ids creates answered: (resource, id, the operation that answered it).
    answered: Mutex<Vec<(usize, Value, &'static str)>>,
    /// What the run last wrote to a record whose marker property it gave another value, by
    /// (resource, id as JSON text): the operation that wrote it, and the properties with the
    /// values they read back as.
    written: Mutex<BTreeMap<(usize, String), Written>>,
    /// How many sequences have started (each gets a marker of its own).
    sequences: AtomicU64,
    /// How many records were deleted at the end of their sequence or of the run.
    pub(crate) removed: AtomicU64,
    /// Failures the clean-ups found: (operation that pointed at the record, check, mismatch,
    /// the requests that show it).
    pub(crate) failures: Mutex<Vec<(String, Check, Mismatch, Failure)>>,
    /// Records that may remain: why, with the marker that finds them.
    pub(crate) remaining: Mutex<Vec<String>>,
}

impl Records {
    pub(crate) fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        // The prefix says who made the records, the rest is the time and the process: no other
        // run has it.
        let marker = format!("contract-run-{:016x}-{:08x}", nanos, std::process::id());
        Self {
            pending: Mutex::new(BTreeSet::from([marker.clone()])),
            marker,
            asked: Mutex::default(),
            answered: Mutex::default(),
            written: Mutex::default(),
            sequences: AtomicU64::new(0),
            removed: AtomicU64::new(0),
            failures: Mutex::default(),
            remaining: Mutex::default(),
        }
    }

    /// A new marker for a sequence, pending until its records are deleted.
    pub(crate) fn sequence_marker(&self) -> String {
        let marker = format!(
            "{}-{}",
            self.marker,
            self.sequences.fetch_add(1, AtomicOrdering::Relaxed)
        );
        self.pending
            .lock()
            .expect("not poisoned")
            .insert(marker.clone());
        marker
    }

    /// Whether `text` is the run's marker or one of its sequences'.
    pub(crate) fn is_ours(&self, text: &str) -> bool {
        text.strip_prefix(self.marker.as_str()).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix('-')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    }

    /// Counts the records a create under `marker` asks for.
    pub(crate) fn asked(&self, marker: &str, count: u64) {
        *self
            .asked
            .lock()
            .expect("not poisoned")
            .entry(marker.to_owned())
            .or_default() += count;
    }

    /// How many records carry `marker` at most.
    fn bound(&self, marker: &str) -> u64 {
        self.asked
            .lock()
            .expect("not poisoned")
            .get(marker)
            .copied()
            .unwrap_or_default()
    }

    /// Keeps an id a create answered, to delete at the end.
    pub(crate) fn answered(&self, resource: usize, id: Value, by: &'static str) {
        self.answered
            .lock()
            .expect("not poisoned")
            .push((resource, id, by));
    }

    /// Remembers what `operation` wrote to `id`, which no longer carries a marker.
    pub(crate) fn wrote(
        &self,
        resource: usize,
        id: &Value,
        operation: &'static str,
        read_back: Map<String, Value>,
    ) {
        self.written.lock().expect("not poisoned").insert(
            (resource, id.to_string()),
            Written {
                operation,
                properties: read_back,
            },
        );
    }

    /// The operation that last wrote `id` without a marker, if one did.
    fn writer(&self, resource: usize, id: &Value) -> Option<&'static str> {
        self.written
            .lock()
            .expect("not poisoned")
            .get(&(resource, id.to_string()))
            .map(|written| written.operation)
    }

    /// The markers not yet cleaned up, in order.
    pub(crate) fn pending(&self) -> Vec<String> {
        self.pending
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn done_with(&self, marker: &str) {
        self.pending.lock().expect("not poisoned").remove(marker);
    }
}

/// What a write that gave the marker property another value wrote.
struct Written {
    /// The operation that wrote it.
    operation: &'static str,
    /// Each property, with the value it reads back as.
    properties: Map<String, Value>,
}

/// What a read of an id showed.
pub(crate) enum Proof {
    /// The record carries one of the run's markers, or what the run last wrote to it.
    Own,
    /// No record has the id.
    Gone,
    /// A record that is not the run's: why.
    Foreign(Mismatch),
    /// The read failed: why.
    Unknown(Mismatch),
}

/// Every record listed under one marker.
pub(crate) struct Listing {
    /// Each page's request and its answer.
    pub(crate) sent: Vec<(Request, Option<Exchange>)>,
    /// The records, as listed, page after page.
    pub(crate) records: Vec<Value>,
    /// Why the pages stopped before the list said it ended.
    pub(crate) broken: Option<Mismatch>,
}

impl Runner<'_> {
    /// Reads `id` of `resource` and says whether it is the run's own (with `marker`, whether it
    /// carries that one); the read's exchange.
    pub(crate) async fn prove(
        &self,
        resource: usize,
        id: &Value,
        marker: Option<&str>,
    ) -> (Proof, Option<Exchange>) {
        let of = &self.resources[resource];
        let read = of.read;
        let request = match of.aimed(read, Request::default(), id) {
            Ok(request) => request,
            Err(message) => {
                return (
                    Proof::Unknown(Mismatch::new("cannot be read", message)),
                    None,
                );
            }
        };
        let exchange = match self
            .send(read.operation, Credentials::Token, &request, None)
            .await
        {
            Ok(exchange) => exchange,
            Err(message) => return (Proof::Unknown(Mismatch::new("no answer", message)), None),
        };
        let proof = match exchange.status {
            404 => Proof::Gone,
            status if status == read.success_status => {
                let record = exchange.response_json().unwrap_or(Value::Null);
                self.judge(resource, id, &record, marker)
            }
            status => Proof::Unknown(Mismatch::new(
                format!("the read answered {status}"),
                format!(
                    "a read of record {id} answered {status}, neither {} nor 404",
                    read.success_status
                ),
            )),
        };
        (proof, Some(exchange))
    }

    /// Whether `record`, read as `id`, is the run's own (with `marker`, carries that one).
    fn judge(&self, resource: usize, id: &Value, record: &Value, marker: Option<&str>) -> Proof {
        let of = &self.resources[resource];
        let property = &of.marker.property;
        let marked = record.get(property);
        let carries = |text: &str| match marker {
            Some(marker) => text == marker,
            None => self.records.is_ours(text),
        };
        if marked.and_then(Value::as_str).is_some_and(carries) {
            return Proof::Own;
        }
        if let Some(marker) = marker {
            let shown = marked.map_or_else(|| "nothing".to_owned(), Value::to_string);
            return Proof::Foreign(
                Mismatch::new(
                    "not the run's own",
                    format!(
                        "a read of record {id} shows {property} {shown}, not {marker}, the \
                         marker it was made with"
                    ),
                )
                .values(json!(marker), marked.cloned().unwrap_or(Value::Null)),
            );
        }
        let written = self.records.written.lock().expect("not poisoned");
        if let Some(Written {
            operation,
            properties: written,
        }) = written.get(&(resource, id.to_string()))
        {
            let formats = &of.list.record_formats;
            let differ: Vec<&str> = written
                .iter()
                .filter(|(name, value)| {
                    !record.get(*name).is_some_and(|read| {
                        checks::same_value(formats.get(*name).map(String::as_str), value, read)
                    })
                })
                .map(|(name, _)| name.as_str())
                .collect();
            if differ.is_empty() {
                return Proof::Own;
            }
            return Proof::Foreign(Mismatch::new(
                "no longer reads as the run wrote it",
                format!(
                    "record {id}, which the run made and then wrote with {operation}, reads with \
                     other {} than it wrote, and without the run's marker: it cannot be shown to \
                     be the run's own, and was left as it was",
                    differ.join(", ")
                ),
            ));
        }
        let shown = marked.map_or_else(|| "nothing".to_owned(), Value::to_string);
        Proof::Foreign(
            Mismatch::new(
                "not the run's own",
                format!(
                    "a read of record {id} shows {property} {shown}, not this run's marker, nor \
                     what the run last wrote to it: it was left as it was"
                ),
            )
            .values(
                json!(self.records.marker),
                marked.cloned().unwrap_or(Value::Null),
            ),
        )
    }

    /// Every record the list shows under `marker`, page after page: it stops where the list
    /// says it ends, and also at a page that shows no record an earlier page did not, and past
    /// the pages that the marker's records (at most `bound`) could fill.
    pub(crate) async fn marked(
        &self,
        resource: &Resource<'_>,
        marker: &str,
        bound: u64,
    ) -> Listing {
        let list = resource.list;
        let page = list.page.as_ref().expect("a list has a page");
        let size = resource.max_size.max(1);
        let most = (bound.div_ceil(size) + SPARE_PAGES).min(MOST_PAGES);
        let mut listing = Listing {
            sent: Vec::new(),
            records: Vec::new(),
            broken: None,
        };
        let mut seen = BTreeSet::new();
        for number in 1..=most {
            let request = resource.marked_page(marker, number, size);
            let exchange = self
                .send(list.operation, Credentials::Token, &request, None)
                .await;
            listing
                .sent
                .push((request, exchange.as_ref().ok().cloned()));
            let exchange = match exchange {
                Ok(exchange) if exchange.status == list.success_status => exchange,
                Ok(exchange) => {
                    listing.broken = Some(Mismatch::new(
                        format!("the list answered {}", exchange.status),
                        format!(
                            "page {number} of the records marked {marker}: {} answered {}, not {}",
                            list.operation.operation_id, exchange.status, list.success_status
                        ),
                    ));
                    return listing;
                }
                Err(message) => {
                    listing.broken = Some(Mismatch::new("no answer", message));
                    return listing;
                }
            };
            let json = exchange.response_json();
            let records = match checks::records(json.as_ref(), page) {
                Ok(records) => records,
                Err(mismatch) => {
                    listing.broken = Some(mismatch.within(&format!("page {number}")));
                    return listing;
                }
            };
            let fresh = records
                .iter()
                .filter(|record| {
                    seen.insert(
                        record
                            .get(&resource.record_id)
                            .map_or_else(|| record.to_string(), Value::to_string),
                    )
                })
                .count();
            listing.records.extend(records.iter().cloned());
            let more = json
                .as_ref()
                .and_then(|json| json.pointer(&page.has_next))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !more || records.is_empty() {
                return listing;
            }
            if fresh == 0 {
                listing.broken = Some(Mismatch::new(
                    "a page repeats earlier pages",
                    format!(
                        "page {number} shows only records earlier pages showed, yet {} says there \
                         are more: the list's paging does not advance",
                        page.has_next
                    ),
                ));
                return listing;
            }
        }
        listing.broken = Some(Mismatch::new(
            "the pages never end",
            format!(
                "after {most} pages of {size} the list still says there are more, where at most \
                 {bound} records carry {marker}: the run stopped reading it"
            ),
        ));
        listing
    }

    /// Shows each of `ids` (of `resource`, each with the operation that pointed at it) to be the
    /// run's own and deletes it; a record that is not is left as it is, and reported.
    pub(crate) async fn remove_own(&self, resource: usize, ids: Vec<(Value, String)>) {
        // Side by side: each delete waits for its commit, which a server groups.
        let removed = stream::iter(ids)
            .map(|(id, pointed)| self.remove_one(resource, id, pointed))
            .buffer_unordered(REMOVALS_IN_FLIGHT.max(self.options.lanes()))
            .filter(|removed| std::future::ready(*removed))
            .count()
            .await as u64;
        self.records
            .removed
            .fetch_add(removed, AtomicOrdering::Relaxed);
    }

    /// Deletes `id` once a read shows it is the run's own; whether it was deleted.
    async fn remove_one(&self, resource: usize, id: Value, pointed: String) -> bool {
        let Some(delete) = self.resources[resource].delete else {
            return false;
        };
        let (proof, read) = self.prove(resource, &id, None).await;
        let mismatch = match proof {
            Proof::Own => {
                let Ok(request) = self.resources[resource].aimed(delete, Request::default(), &id)
                else {
                    return false;
                };
                return self
                    .send(delete.operation, Credentials::Token, &request, None)
                    .await
                    .is_ok_and(|exchange| exchange.status == delete.success_status);
            }
            Proof::Gone => return false,
            Proof::Foreign(mismatch) => mismatch,
            Proof::Unknown(mismatch) => {
                self.records
                    .remaining
                    .lock()
                    .expect("not poisoned")
                    .push(format!(
                        "record {id}, not shown to be the run's own: {mismatch}"
                    ));
                return false;
            }
        };
        // A record the run wrote is that write's to answer for, else the create or list that
        // pointed at it.
        let operation = self
            .records
            .writer(resource, &id)
            .map_or(pointed.clone(), str::to_owned);
        let mut result = CaseResult::new();
        result.steps.push(Sent {
            what: format!("read record {id} (pointed at by {pointed})"),
            credentials: Credentials::Token,
            exchange: read,
        });
        result
            .outcomes
            .push((Check::OwnRecord, Err(mismatch.clone())));
        let failure = self.failure(&operation, Case::CleanUp, &result);
        self.records.failures.lock().expect("not poisoned").push((
            operation,
            Check::OwnRecord,
            mismatch,
            failure,
        ));
        false
    }

    /// Deletes every record the run made that is still there and shown to be its own: those
    /// creates answered, and those the list shows under a marker not yet cleaned up.
    pub(crate) async fn clean_up(&self) {
        let markers = self.records.pending();
        let answered = std::mem::take(&mut *self.records.answered.lock().expect("not poisoned"));
        for (index, resource) in self.resources.iter().enumerate() {
            let mut ids: Vec<(Value, String)> = answered
                .iter()
                .filter(|(of, _, _)| *of == index)
                .map(|(_, id, by)| (id.clone(), (*by).to_owned()))
                .collect();
            // A list that failed once is not asked again: what it could not show is said once.
            let mut failed: Option<(String, Mismatch)> = None;
            let mut unlisted = Vec::new();
            for marker in &markers {
                let bound = self.records.bound(marker);
                if bound == 0 {
                    continue;
                }
                if failed.is_some() {
                    unlisted.push(marker.as_str());
                    continue;
                }
                let listing = self.marked(resource, marker, bound).await;
                ids.extend(self.carrying(resource, marker, &listing));
                if let Some(broken) = listing.broken {
                    failed = Some((marker.clone(), broken));
                }
            }
            if let Some((marker, broken)) = failed {
                let others = match unlisted.len() {
                    0 => String::new(),
                    1 => format!(" and {}", unlisted[0]),
                    more => format!(" and {more} more markers ({} …)", unlisted[0]),
                };
                self.records
                    .remaining
                    .lock()
                    .expect("not poisoned")
                    .push(format!(
                        "records carrying {marker}{others}, which the list could not show: {broken}"
                    ));
            }
            let mut unique = BTreeSet::new();
            ids.retain(|(id, _)| unique.insert(id.to_string()));
            self.remove_own(index, ids).await;
        }
        for marker in &markers {
            self.records.done_with(marker);
        }
    }

    /// The ids a listing under `marker` shows carrying it, each with the list that pointed at
    /// it; listed records that do not carry it fail the list's filter, once for the listing.
    pub(crate) fn carrying(
        &self,
        resource: &Resource<'_>,
        marker: &str,
        listing: &Listing,
    ) -> Vec<(Value, String)> {
        let list = resource.list.operation.operation_id;
        let property = &resource.marker.property;
        let (carrying, other): (Vec<&Value>, Vec<&Value>) = listing
            .records
            .iter()
            .partition(|record| record.get(property).and_then(Value::as_str) == Some(marker));
        if !other.is_empty() {
            let mut result = CaseResult::new();
            if let Some((_, exchange)) = listing.sent.first() {
                result.steps.push(Sent {
                    what: format!("list the records marked {marker}"),
                    credentials: Credentials::Token,
                    exchange: exchange.clone(),
                });
            }
            let first = other[0];
            let mismatch = Mismatch::new(
                "records without the marker filtered by",
                format!(
                    "asked for the records whose {property} is {marker}, the list showed {} \
                     record(s) without it (the first: {} {}, {property} {}): none of them was \
                     touched",
                    other.len(),
                    resource.record_id,
                    first
                        .get(&resource.record_id)
                        .cloned()
                        .unwrap_or(Value::Null),
                    first.get(property).cloned().unwrap_or(Value::Null)
                ),
            )
            .values(
                json!(marker),
                first.get(property).cloned().unwrap_or(Value::Null),
            );
            result
                .outcomes
                .push((Check::Filters, Err(mismatch.clone())));
            let failure = self.failure(list, Case::CleanUp, &result);
            self.records.failures.lock().expect("not poisoned").push((
                list.to_owned(),
                Check::Filters,
                mismatch,
                failure,
            ));
        }
        carrying
            .into_iter()
            .filter_map(|record| record.get(&resource.record_id).cloned())
            .map(|id| (id, list.to_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_runs_markers_are_its_own() {
        let records = Records::new();
        let marker = records.marker.clone();
        assert!(records.is_ours(&marker));
        assert!(records.is_ours(&records.sequence_marker()));
        assert!(records.is_ours(&format!("{marker}-17")));
        for other in [
            String::new(),
            format!("{marker}-"),
            format!("{marker}-1x"),
            format!("{marker}7"),
            format!("x{marker}"),
            "contract-run-1-1".to_owned(),
        ] {
            assert!(!records.is_ours(&other), "{other}");
        }
    }
}
