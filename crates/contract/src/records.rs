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

use serde_json::{Map, Value};
use spec_strategies::Request;

use crate::{
    exchange::Exchange,
    report::Failure,
    vocabulary::{Check, Mismatch},
};

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
    pub(crate) answered: Mutex<Vec<(usize, Value, &'static str)>>,
    /// What the run last wrote to a record whose marker property it gave another value, by
    /// (resource, id as JSON text): the operation that wrote it, and the properties with the
    /// values they read back as.
    pub(crate) written: Mutex<BTreeMap<(usize, String), Written>>,
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
    pub(crate) fn bound(&self, marker: &str) -> u64 {
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
    pub(crate) fn writer(&self, resource: usize, id: &Value) -> Option<&'static str> {
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
pub(crate) struct Written {
    /// The operation that wrote it.
    pub(crate) operation: &'static str,
    /// Each property, with the value it reads back as.
    pub(crate) properties: Map<String, Value>,
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
