//! The report as text: the short summary a run prints, the full table on request (every
//! operation, case and check, and the coverage of each documented status), and each fault's
//! details with its reproduction.

use crate::vocabulary::{Case, Check, bounded};
use std::{collections::BTreeMap, fmt::Write as _};

use super::*;

impl Report {
    /// The text of the report: a line per operation, each fault, and the totals; with
    /// [`Detail::Table`], every check and the coverage table too.
    pub fn text(&self, detail: Detail) -> String {
        let mut out = String::new();
        if detail == Detail::Table {
            out.push_str(&self.table());
            out.push('\n');
            out.push_str(&self.coverage_table());
            out.push('\n');
        }
        out.push_str(&self.operations());
        if !self.groups.is_empty() {
            out.push('\n');
            out.push_str(&self.failure_details());
        }
        out.push('\n');
        out.push_str(&self.summary());
        out
    }

    /// A line per operation: its cases, its checks and its faults.
    pub fn operations(&self) -> String {
        let mut rows: BTreeMap<&str, (u64, u64, usize)> = BTreeMap::new();
        for ((operation, _, _), tally) in &self.tallies {
            rows.entry(operation).or_default().1 += tally.passed + tally.failed;
        }
        for (operation, cases) in &self.cases_by_operation {
            rows.entry(operation).or_default().0 += cases;
        }
        for group in &self.groups {
            rows.entry(&group.operation).or_default().2 += 1;
        }
        let width = rows.keys().map(|name| name.len()).max().unwrap_or(9).max(9);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>7}  {:>8}",
            "operation", "cases", "checks", "failures"
        );
        for (operation, (cases, checks, failures)) in rows {
            let _ = writeln!(
                out,
                "{operation:<width$}  {cases:>6}  {checks:>7}  {failures:>8}"
            );
        }
        out
    }

    /// The totals, and what the run did to the server's records.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let checks: u64 = self
            .tallies
            .values()
            .map(|tally| tally.passed + tally.failed)
            .sum();
        let _ = writeln!(
            out,
            "{} cases, {} requests, {checks} checks in {:.2?} ({:.1} cases/s), seed {}",
            self.cases,
            self.requests,
            self.elapsed,
            self.cases_per_second(),
            self.seed
        );
        match self.groups.len() {
            0 => out.push_str("every check held\n"),
            1 => {
                let _ = writeln!(
                    out,
                    "FAILED: 1 failure ({} failed checks)",
                    self.failed_checks()
                );
            }
            faults => {
                let _ = writeln!(
                    out,
                    "FAILED: {faults} failures ({} failed checks)",
                    self.failed_checks()
                );
            }
        }
        if self.throttled > 0 {
            let _ = writeln!(
                out,
                "throttled {} times (never counted as failures), waited {:.1?} in all (the waits \
                 of requests in flight at once add up)",
                self.throttled, self.throttle_wait
            );
        }
        if let Some(why) = &self.gave_up_waiting {
            let _ = writeln!(out, "stopped waiting out throttled answers: {why}");
        }
        for skipped in &self.skipped {
            let _ = writeln!(out, "not checked: {skipped}");
        }
        if self.interrupted {
            let _ = writeln!(out, "STOPPED before every check was made");
        }
        if let Some(why) = &self.stopped {
            let _ = writeln!(out, "STOPPED: {why}");
        }
        if self.kept.is_empty() {
            let _ = writeln!(
                out,
                "removed the {} records the run made, each read first and shown to be its own",
                self.removed
            );
        } else {
            let _ = writeln!(
                out,
                "kept the records the run made: they carry {}",
                self.kept.join(", ")
            );
        }
        for remaining in &self.remaining {
            let _ = writeln!(out, "not removed: {remaining}");
        }
        out
    }

    /// Every check with its counts, by operation and kind of case.
    pub fn table(&self) -> String {
        let name =
            |operation: &str, case: &Case, check: &Check| format!("{operation} / {case}: {check}");
        let width = self
            .tallies
            .keys()
            .map(|(operation, case, check)| name(operation, case, check).chars().count())
            .max()
            .unwrap_or(10);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>7}",
            "operation / check", "passed", "failed"
        );
        for ((operation, case, check), tally) in &self.tallies {
            let mark = if tally.failed == 0 {
                ""
            } else {
                "  <-- FAILED"
            };
            let _ = writeln!(
                out,
                "{:<width$}  {:>7}  {:>7}{mark}",
                name(operation, case, check),
                tally.passed,
                tally.failed
            );
        }
        out
    }

    /// Each operation's documented statuses and how many responses had each.
    pub fn coverage_table(&self) -> String {
        let width = self
            .coverage
            .keys()
            .map(|(operation, _)| operation.len())
            .max()
            .unwrap_or(9)
            .max(9);
        let mut out = String::new();
        let _ = writeln!(out, "{:<width$}  status  responses", "operation");
        for ((operation, status), coverage) in &self.coverage {
            let note = match (coverage.responses, coverage.reachable, coverage.throttled) {
                (_, _, true) => "  (throttled answers are waited out: see the summary)",
                (0, true, _) => "  <-- NOT PRODUCED",
                (_, false, _) => "  (not expected of a run: x-contract.reachable false)",
                _ => "",
            };
            let _ = writeln!(
                out,
                "{operation:<width$}  {status:>6}  {:>9}{note}",
                coverage.responses
            );
        }
        out
    }

    /// Each fault once: where, how often, what was expected and what came back, and (for the
    /// first [`REPRODUCED`] of them; JUnit has them all) the smallest case that shows it as `curl`
    /// commands.
    pub fn failure_details(&self) -> String {
        let mut out = String::new();
        for (index, group) in self.groups.iter().enumerate() {
            if index == REPRODUCED {
                let _ = writeln!(
                    out,
                    "(the requests of the {} failures below are in the JUnit report)",
                    self.groups.len() - REPRODUCED
                );
            }
            let _ = writeln!(
                out,
                "[{}/{}] {}: {}: {}",
                index + 1,
                self.groups.len(),
                group.operation,
                group.check,
                group.kind
            );
            let cases: Vec<String> = group
                .cases
                .iter()
                .map(|(case, count)| format!("{case} {count}"))
                .collect();
            let times = match group.count() {
                1 => "once".to_owned(),
                count => format!("{count} times"),
            };
            let _ = writeln!(out, "  failed {times}: {}", cases.join(", "));
            let _ = writeln!(out, "  {}", group.mismatch.message);
            if let (Some(expected), Some(got)) = (&group.mismatch.expected, &group.mismatch.got) {
                let _ = writeln!(out, "  expected: {}", bounded(&expected.to_string(), 300));
                let _ = writeln!(out, "  got:      {}", bounded(&got.to_string(), 300));
            }
            let Some(failure) = group.failure.as_ref().filter(|_| index < REPRODUCED) else {
                continue;
            };
            let shrunk = match failure.sequence {
                Some(1) => " (a sequence of 1 operation, shrunk)".to_owned(),
                Some(steps) => format!(" (a sequence of {steps} operations, shrunk)"),
                None => String::new(),
            };
            let _ = writeln!(out, "  reproduce, {}{shrunk}:", failure.case);
            for line in failure.commands().trim_start().lines() {
                match line {
                    "" => out.push('\n'),
                    line => {
                        let _ = writeln!(out, "    {}", bounded(line, 2000));
                    }
                }
            }
            if let Some(step) = failure.steps.last() {
                let _ = writeln!(
                    out,
                    "    # answered {}: {}",
                    step.status,
                    bounded(&compact(&step.response_body), 400)
                );
            }
        }
        out
    }
}

/// A JSON body on one line (other text as it is, its line breaks as spaces).
fn compact(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => json.to_string(),
        Err(_) => body.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}
