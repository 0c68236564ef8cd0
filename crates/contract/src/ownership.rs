//! Proving a record is the run's own before it is touched, finding the run's records again,
//! and removing them at the end (see `records` for what the run knows of them).

use std::{collections::BTreeSet, sync::atomic::Ordering as AtomicOrdering};

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use spec_strategies::Request;

use crate::{
    checks,
    exchange::Exchange,
    harness::{CaseResult, Credentials, Runner, Sent},
    records::{Listing, Proof, Written},
    resource::Resource,
    vocabulary::{Case, Check, Mismatch},
};

/// Deletes in flight at the end of a run.
const REMOVALS_IN_FLIGHT: usize = 32;
/// The most pages a list is followed for, whatever it says.
const MOST_PAGES: u64 = 1000;
/// Pages a list may take beyond those its marker's records fill, before the run stops reading it:
/// room for a server that ignores the filter on a small table.
const SPARE_PAGES: u64 = 10;

/// The most pages of `size` a list of at most `bound` records is read for: those the records
/// fill, and [`SPARE_PAGES`] more, never above [`MOST_PAGES`].
fn most_pages(bound: u64, size: u64) -> u64 {
    (bound.div_ceil(size.max(1)) + SPARE_PAGES).min(MOST_PAGES)
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
                    let format = formats.get(*name).map(String::as_str);
                    !checks::reads_as_written(format, value, record.get(*name))
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
        let most = most_pages(bound, size);
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
    fn a_list_is_read_for_the_pages_its_records_fill_and_a_few_more_never_endlessly() {
        assert_eq!(most_pages(0, 100), SPARE_PAGES);
        assert_eq!(most_pages(1, 100), 1 + SPARE_PAGES);
        assert_eq!(most_pages(100, 100), 1 + SPARE_PAGES);
        assert_eq!(most_pages(101, 100), 2 + SPARE_PAGES);
        assert_eq!(most_pages(5, 0), 5 + SPARE_PAGES, "a size of 0 counts as 1");
        assert_eq!(most_pages(u64::MAX / 2, 1), MOST_PAGES);
    }
}
