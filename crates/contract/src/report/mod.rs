//! What a run found: counts per operation, case and check; the faults it found, each a group of
//! the failures that share an operation, a check and a kind of mismatch, with its smallest
//! reproduction; a short text summary, the full table on request, and a JUnit XML report. The
//! summary, the JUnit report and [`Report::passed`] count the same faults.

use crate::vocabulary::{Case, Check, Mismatch};
use std::{collections::BTreeMap, time::Duration};

mod junit;
mod reproduce;
mod text;

pub use reproduce::curl;
pub(crate) use reproduce::substitute;

/// Passed and failed counts of one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases in which the check held.
    pub passed: u64,
    /// Cases in which it did not.
    pub failed: u64,
}

/// One case that failed, shrunk to a minimal request where it came from a strategy: every request
/// it sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The operation.
    pub operation: String,
    /// Which kind of case.
    pub case: Case,
    /// The checks that failed, with what was wrong.
    pub checks: Vec<(Check, Mismatch)>,
    /// Every request the case sent, in order: a set-up, the case's own request, what followed.
    pub steps: Vec<Step>,
    /// For a sequence of the stateful checks: how many operations it has (after shrinking).
    pub sequence: Option<usize>,
}

/// One fault: the failures of one check on one operation that went wrong the same way.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The operation (or `stateful`, `types`).
    pub operation: String,
    /// The check.
    pub check: Check,
    /// How it failed ([`Mismatch::kind`]).
    pub kind: String,
    /// How many times it failed, by the kind of case it was made in.
    pub cases: BTreeMap<Case, u64>,
    /// What the smallest case found.
    pub mismatch: Mismatch,
    /// The smallest case that shows it (none for a finding of no one request: a status no case
    /// produced, the types' drift).
    pub failure: Option<Failure>,
}

impl Group {
    /// How many failed checks the group holds.
    pub fn count(&self) -> u64 {
        self.cases.values().sum()
    }
}

impl Failure {
    /// The step that sent the case's own request.
    pub fn case_step(&self) -> Option<&Step> {
        self.steps
            .iter()
            .find(|step| step.what == CASE_STEP)
            .or(self.steps.last())
    }
}

/// What [`Step::what`] says of the case's own request.
pub const CASE_STEP: &str = "the case";

/// One request of a case and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What the request was for (`the case`, `set-up: create_...`, `read back`, ...).
    pub what: String,
    /// The request body as sent (pretty-printed when it is JSON; empty without a body).
    pub request_body: String,
    /// The response status (0 when there was no response).
    pub status: u16,
    /// The response body.
    pub response_body: String,
    /// A `curl` command that sends the same request.
    pub curl: String,
    /// Ids its answer gave that later steps use: (the id as JSON, a `jq` filter that reads it
    /// from the answer). The script reads them into shell variables.
    pub binds: Vec<(String, String)>,
    /// Sent at once with the steps beside it that are too (in the order the client saw them
    /// answered): the script sends them together.
    pub at_once: bool,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per (operation, kind of case, check).
    pub tallies: BTreeMap<(String, Case, Check), Tally>,
    /// Cases run per operation (a sequence is a case of `stateful`).
    pub cases_by_operation: BTreeMap<String, u64>,
    /// The faults found, in the order of their operation, check and kind.
    pub groups: Vec<Group>,
    /// How many cases were run (shrinking steps not counted).
    pub cases: u64,
    /// How many requests the cases sent, shrinking included (not the clean-up's).
    pub requests: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The seed, to run the same cases again.
    pub seed: u64,
    /// Per (operation, documented status): how many responses had it, and whether a client can
    /// cause it (a status the spec marks unreachable, such as a storage failure, is not asked
    /// for).
    pub coverage: BTreeMap<(String, u16), Coverage>,
    /// Every request sent, in the order they were answered, when the options asked for it.
    pub sent: Vec<crate::replay::Payload>,
    /// Checks that were not made, and why (a check the target's credentials cannot make).
    pub skipped: Vec<String>,
    /// How many records the run made and deleted at the end.
    pub removed: u64,
    /// The markers of the records left on the server on purpose
    /// ([`crate::Options::keep_records`]).
    pub kept: Vec<String>,
    /// What the clean-up could not do: records the run made that may still be on the server,
    /// with the marker that finds them.
    pub remaining: Vec<String>,
    /// Whether the run was stopped before it had made every check.
    pub interrupted: bool,
    /// Why the run stopped by itself before its end (the server stopped answering).
    pub stopped: Option<String>,
    /// What the stateful checks ran (shrinking not counted).
    pub stateful: Sequences,
    /// Wall time spent shrinking failures.
    pub shrinking: Duration,
    /// Answers the spec's `x-contract.throttled` describes, waited out and sent again.
    pub throttled: u64,
    /// The time those waits took, summed over the requests in flight.
    pub throttle_wait: Duration,
    /// Why the run stopped waiting out throttled answers, when it did.
    pub gave_up_waiting: Option<String>,
}

/// What the stateful checks ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sequences {
    /// Sequences run.
    pub sequences: u64,
    /// Operations of those sequences.
    pub steps: u64,
    /// Wall time of the sequences, shrinking not counted.
    pub elapsed: Duration,
}

/// How often a documented status was answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Responses with this status.
    pub responses: u64,
    /// Whether a client can cause it.
    pub reachable: bool,
    /// Whether it is the throttled answer (the root `x-contract.throttled`): a run waits it out
    /// when the server throttles, and need not meet it when it does not.
    pub throttled: bool,
}

/// How many failures the text shows with the requests that reproduce them.
pub const REPRODUCED: usize = 20;

/// How much of a report the text shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail {
    /// A line per operation, then each fault.
    #[default]
    Summary,
    /// Also every check with its counts, and the coverage of each documented status.
    Table,
}

impl Report {
    /// Whether no fault was found.
    pub fn passed(&self) -> bool {
        self.groups.is_empty()
    }

    /// Cases per second of wall time.
    pub fn cases_per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The counts of `check` in `operation`'s cases of kind `case`.
    pub fn tally(&self, operation: &str, case: Case, check: &Check) -> Option<Tally> {
        self.tallies
            .get(&(operation.to_owned(), case, check.clone()))
            .copied()
    }

    /// How many checks failed in all.
    pub fn failed_checks(&self) -> u64 {
        self.tallies.values().map(|tally| tally.failed).sum()
    }

    pub(crate) fn record(&mut self, operation: &str, case: Case, check: &Check, ok: bool) {
        let tally = self
            .tallies
            .entry((operation.to_owned(), case, check.clone()))
            .or_default();
        if ok {
            tally.passed += 1;
        } else {
            tally.failed += 1;
        }
    }

    /// Counts a failed check into its group; `true` when it opened a new one (which then needs
    /// its reproduction).
    pub(crate) fn group(
        &mut self,
        operation: &str,
        case: Case,
        check: &Check,
        mismatch: &Mismatch,
    ) -> bool {
        let found = self.groups.iter_mut().find(|group| {
            group.operation == operation && &group.check == check && group.kind == mismatch.kind
        });
        match found {
            Some(group) => {
                *group.cases.entry(case).or_default() += 1;
                false
            }
            None => {
                self.groups.push(Group {
                    operation: operation.to_owned(),
                    check: check.clone(),
                    kind: mismatch.kind.clone(),
                    cases: BTreeMap::from([(case, 1)]),
                    mismatch: mismatch.clone(),
                    failure: None,
                });
                true
            }
        }
    }

    /// A failed check of no case (a status no case produced, the types' drift, the clean-up),
    /// with the requests that show it, if any.
    pub(crate) fn fail(
        &mut self,
        operation: &str,
        case: Case,
        check: Check,
        mismatch: Mismatch,
        failure: Option<Failure>,
    ) {
        self.record(operation, case, &check, false);
        if self.group(operation, case, &check, &mismatch)
            && let Some(group) = self.groups.last_mut()
        {
            group.failure = failure;
        }
    }

    /// Puts the groups in the order of their operation, check and kind.
    pub(crate) fn sort_groups(&mut self) {
        self.groups.sort_by(|a, b| {
            (&a.operation, &a.check, &a.kind).cmp(&(&b.operation, &b.check, &b.kind))
        });
    }
}
