//! What a run found: counts per operation, case and check; the faults it found, each a group of
//! the failures that share an operation, a check and a kind of mismatch, with its smallest
//! reproduction; a short text summary, the full table on request, and a JUnit XML report. The
//! summary, the JUnit report and [`Report::passed`] count the same faults.

use std::{collections::BTreeMap, fmt::Write as _, time::Duration};

use crate::vocabulary::{Case, Check, Mismatch, bounded};

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

    /// The failure's requests as a numbered shell script of `curl` commands (the target's
    /// secrets in the shell variables [`crate::SecretNames`] names), each with what it was for
    /// and the status it got.
    pub fn script(&self) -> String {
        let mut out = String::from("#!/bin/sh\n");
        let _ = writeln!(
            out,
            "# {} ({}): {}",
            self.operation,
            self.case,
            self.checks
                .iter()
                .map(|(check, _)| check.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if self.steps.iter().any(|step| !step.binds.is_empty()) {
            out.push_str(
                "# The ids the server gives are read from its answers (with jq) into $ID_n, so\n\
                 # that the script reproduces the sequence on any server. Run it once: the records\n\
                 # carry the run's marker, which a second run would find again.\n",
            );
        }
        out.push_str(&self.commands());
        out
    }

    /// Each request as a `curl` command under a comment saying what it was for and its status;
    /// ids an answer gave are read into shell variables for the later requests.
    fn commands(&self) -> String {
        let mut out = String::new();
        // Ids answered so far, with their shell variables.
        let mut variables: Vec<(String, String)> = Vec::new();
        for (number, step) in self.steps.iter().enumerate() {
            let mut curl = step.curl.clone();
            for (id, variable) in &variables {
                curl = substitute(&curl, id, &format!("'\"${{{variable}}}\"'"));
            }
            let status = match step.status {
                0 => "no answer".to_owned(),
                status => status.to_string(),
            };
            let _ = writeln!(out, "\n# {}. {} -> {status}", number + 1, step.what);
            if step.binds.is_empty() {
                let _ = writeln!(out, "{curl}");
                continue;
            }
            let silent = curl.replacen("curl -i ", "curl -s ", 1);
            let _ = writeln!(out, "answer=$({silent})\nprintf '%s\\n' \"$answer\"");
            for (id, filter) in &step.binds {
                let variable = format!("ID_{}", variables.len() + 1);
                let _ = writeln!(
                    out,
                    "{variable}=$(printf '%s' \"$answer\" | jq -r '{filter}')"
                );
                variables.push((id.clone(), variable));
            }
        }
        out
    }
}

/// `text` with every whole occurrence of `word` (not part of a longer number or word) replaced.
pub(crate) fn substitute(text: &str, word: &str, with: &str) -> String {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(part) || after.is_some_and(part) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
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

    /// A JUnit XML report: one suite per operation; a passing test case per check that held in
    /// every case, and a failing one per fault (as [`Report::failure_details`] lists them).
    pub fn junit(&self) -> String {
        let mut report = quick_junit::Report::new("contract");
        let mut suites_of = BTreeMap::new();
        for ((operation, case, check), tally) in &self.tallies {
            if tally.failed == 0 {
                suites_of
                    .entry(operation.as_str())
                    .or_insert_with(Vec::new)
                    .push(quick_junit::TestCase::new(
                        format!("{case}: {check}"),
                        quick_junit::TestCaseStatus::success(),
                    ));
            }
        }
        for group in &self.groups {
            let mut status =
                quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure);
            status.set_message(format!(
                "failed {} times: {}",
                group.count(),
                group.mismatch.message
            ));
            let mut description = String::new();
            if let (Some(expected), Some(got)) = (&group.mismatch.expected, &group.mismatch.got) {
                let _ = writeln!(description, "expected: {expected}\ngot:      {got}");
            }
            if let Some(failure) = &group.failure {
                description.push_str(&failure.script());
            }
            status.set_description(description);
            suites_of
                .entry(group.operation.as_str())
                .or_insert_with(Vec::new)
                .push(quick_junit::TestCase::new(
                    format!("{}: {}", group.check, group.kind),
                    status,
                ));
        }
        report.add_test_suites(suites_of.into_iter().map(|(operation, cases)| {
            let mut suite = quick_junit::TestSuite::new(operation);
            suite.add_test_cases(cases);
            suite
        }));
        report
            .to_string()
            .unwrap_or_else(|error| format!("<!-- cannot write JUnit: {error} -->"))
    }
}

/// A JSON body on one line (other text as it is, its line breaks as spaces).
fn compact(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => json.to_string(),
        Err(_) => body.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A `curl` command for a request. Secrets are left in shell variables (`auth` and `headers`
/// carry `$NAME` in their place) so that they never end up in a CI log; `headers` are added
/// after the content type, in double quotes, so that each `$NAME` of `variables` in them is
/// expanded and any other `$` is literal.
pub fn curl(
    method: &str,
    url: &str,
    auth: &str,
    content_type: Option<&str>,
    headers: &[(String, String)],
    variables: &[&str],
    body: &[u8],
) -> String {
    const INLINE: usize = 4096;
    let (prefix, data) = match std::str::from_utf8(body) {
        _ if body.is_empty() && content_type.is_none() => (String::new(), None),
        Ok(text) if text.len() <= INLINE && !text.contains('\'') => {
            (String::new(), Some(format!("'{text}'")))
        }
        Ok(text) if text.len() <= INLINE => (
            format!("cat <<'BODY' |\n{text}\nBODY\n"),
            Some("@-".to_owned()),
        ),
        // Bytes that are not text (invalid UTF-8) go through printf, which keeps them exact.
        _ if body.len() <= INLINE => {
            let escaped: String = body.iter().map(|b| format!("\\x{b:02x}")).collect();
            (format!("printf '{escaped}' | "), Some("@-".to_owned()))
        }
        _ => (
            String::new(),
            Some(format!(
                "@request-body  # request-body: the {}-byte request body",
                body.len()
            )),
        ),
    };
    let mut command = format!("{prefix}curl -i -X {method} '{}'", url.replace('\'', "%27"));
    if !auth.is_empty() {
        let _ = write!(command, " \\\n  -H \"Authorization: Bearer {auth}\"");
    }
    if let Some(content_type) = content_type {
        let _ = write!(command, " \\\n  -H 'Content-Type: {content_type}'");
    }
    for (name, value) in headers {
        let value = double_quoted(value, variables);
        let _ = write!(command, " \\\n  -H \"{name}: {value}\"");
    }
    if let Some(data) = data {
        let _ = write!(command, " \\\n  --data-binary {data}");
    }
    command
}

/// `value` for the inside of a shell double-quoted string: each `$NAME` of `variables` stays a
/// variable; every other `$`, `"`, `\` and backquote is literal.
fn double_quoted(value: &str, variables: &[&str]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        let variable = rest.strip_prefix('$').and_then(|after| {
            variables.iter().find(|name| {
                after.starts_with(**name)
                    && !after[name.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        if let Some(name) = variable {
            out.push('$');
            out.push_str(name);
            rest = &rest[1 + name.len()..];
            continue;
        }
        if matches!(c, '$' | '"' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::curl;

    #[test]
    fn curl_commands_reproduce_the_body() {
        let url = "http://127.0.0.1:1/api/x";
        assert_eq!(
            curl(
                "POST",
                url,
                "$T",
                Some("application/json"),
                &[],
                &[],
                br#"{"A":1}"#
            ),
            "curl -i -X POST 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $T\" \\\n  -H 'Content-Type: application/json' \\\n  --data-binary '{\"A\":1}'"
        );
        assert_eq!(
            curl("GET", "http://h/x?a='1'", "", None, &[], &[], b""),
            "curl -i -X GET 'http://h/x?a=%271%27'"
        );
        let headers = [
            ("Authorization".to_owned(), "Bearer $API_TOKEN".to_owned()),
            ("X-Odd".to_owned(), "a\"$b`$API_TOKENS$API_TOKEN".to_owned()),
        ];
        assert_eq!(
            curl("GET", url, "", None, &headers, &["API_TOKEN"], b""),
            "curl -i -X GET 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $API_TOKEN\" \\\n  -H \"X-Odd: a\\\"\\$b\\`\\$API_TOKENS$API_TOKEN\""
        );
        let quoted = curl("POST", url, "", None, &[], &[], br#"{"A":"it's"}"#);
        assert!(
            quoted.starts_with("cat <<'BODY' |\n{\"A\":\"it's\"}\nBODY\ncurl"),
            "{quoted}"
        );
        assert!(!quoted.contains("Authorization"));
        let bytes = curl("POST", url, "", None, &[], &[], b"{\xff}");
        assert!(
            bytes.starts_with("printf '\\x7b\\xff\\x7d' | curl"),
            "{bytes}"
        );
        let large = curl("POST", url, "", None, &[], &[], &vec![b'x'; 5000]);
        assert!(
            large.ends_with(
                "--data-binary @request-body  # request-body: the 5000-byte request body"
            )
        );
    }

    /// A sequence's script reads each id the server gives into a variable and uses it after,
    /// leaving other numbers alone.
    #[test]
    fn scripts_carry_ids_from_answer_to_later_steps() {
        let step = |what: &str, curl: String, binds: Vec<(String, String)>| super::Step {
            what: what.into(),
            request_body: String::new(),
            status: 200,
            response_body: String::new(),
            curl,
            binds,
        };
        let failure = super::Failure {
            operation: "stateful".into(),
            case: crate::vocabulary::Case::Sequence,
            checks: vec![(
                crate::vocabulary::Check::MatchesTheModel.at(crate::vocabulary::Step::Read),
                crate::vocabulary::Mismatch::new("Notes", "Notes"),
            )],
            steps: vec![
                step(
                    "1. create 1",
                    curl(
                        "POST",
                        "http://h/r",
                        "$T",
                        Some("application/json"),
                        &[],
                        &[],
                        b"{}",
                    ),
                    vec![("90123".into(), r#".["Value"]["Id"]"#.into())],
                ),
                step(
                    "2. update record 90123",
                    curl(
                        "PUT",
                        "http://h/r/90123",
                        "$T",
                        Some("application/json"),
                        &[],
                        &[],
                        br#"{"Id":90123,"CoworkerId":901234,"Notes":"90123x"}"#,
                    ),
                    Vec::new(),
                ),
            ],
            sequence: Some(2),
        };
        let script = failure.script();
        assert!(script.starts_with("#!/bin/sh\n"), "{script}");
        assert!(
            script.contains("answer=$(curl -s -X POST 'http://h/r'"),
            "{script}"
        );
        assert!(
            script.contains(r#"ID_1=$(printf '%s' "$answer" | jq -r '.["Value"]["Id"]')"#),
            "{script}"
        );
        assert!(
            script.contains(r#"curl -i -X PUT 'http://h/r/'"${ID_1}"''"#),
            "{script}"
        );
        assert!(
            script.contains(r#"'{"Id":'"${ID_1}"',"CoworkerId":901234,"Notes":"90123x"}'"#),
            "{script}"
        );
    }
}
