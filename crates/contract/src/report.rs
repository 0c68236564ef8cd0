//! What a run found: counts per operation and check, failures with everything needed to
//! reproduce them, a text summary and a JUnit XML report.

use std::{collections::BTreeMap, fmt::Write as _, time::Duration};

/// Passed and failed counts of one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases in which the check held.
    pub passed: u64,
    /// Cases in which it did not.
    pub failed: u64,
}

/// One failing case, shrunk to a minimal request where it came from a strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The operation.
    pub operation: String,
    /// Which kind of case (`valid`, `invalid`, `auth: no token`, ...).
    pub case: String,
    /// The checks that failed, with what was wrong.
    pub checks: Vec<(String, String)>,
    /// Every request the case sent, in order: a set-up, the case's own request, what followed.
    pub steps: Vec<Step>,
    /// For a sequence of the stateful checks: how many operations it has (after shrinking).
    pub sequence: Option<usize>,
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

impl Failure {
    /// The failure's requests as a numbered shell script of `curl` commands (the token in
    /// `$NEXUDUS_TOKEN`), each with what it was for and the status it got.
    pub fn script(&self) -> String {
        let mut out = String::from("#!/bin/sh\n");
        let _ = writeln!(
            out,
            "# {} ({}): {}",
            self.operation,
            self.case,
            self.checks
                .iter()
                .map(|(check, _)| check.as_str())
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
        // Ids answered so far, with their shell variables.
        let mut variables: Vec<(String, String)> = Vec::new();
        for (number, step) in self.steps.iter().enumerate() {
            let mut curl = step.curl.clone();
            for (id, variable) in &variables {
                curl = substitute(&curl, id, &format!("'\"${{{variable}}}\"'"));
            }
            let _ = writeln!(out, "\n# {}. {} -> {}", number + 1, step.what, step.status);
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

/// `text` with every whole occurrence of `id` (not part of a longer number or word) replaced.
fn substitute(text: &str, id: &str, with: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(id) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + id.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(word) || after.is_some_and(word) {
            out.push_str(id);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + id.len()..];
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
    /// Per (operation, check).
    pub tallies: BTreeMap<(String, String), Tally>,
    /// Every failing case.
    pub failures: Vec<Failure>,
    /// How many cases were run (shrinking steps not counted).
    pub cases: u64,
    /// How many requests the cases sent, shrinking included (not the deletes that clean up).
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
    pub sent: Vec<crate::Payload>,
    /// Checks that were not made, and why (a check the target's credentials cannot make).
    pub skipped: Vec<String>,
    /// How many records the run made and deleted at the end.
    pub removed: u64,
    /// The markers of the records left on the server ([`crate::Options::keep_records`]).
    pub kept: Vec<String>,
    /// Whether the run was stopped before it had made every check.
    pub interrupted: bool,
    /// What the stateful checks ran (shrinking not counted).
    pub stateful: Sequences,
    /// Wall time spent shrinking failures.
    pub shrinking: Duration,
    /// Answers the spec's `x-contract.throttled` describes, waited out and sent again.
    pub throttled: u64,
    /// The time those waits took, summed over the requests in flight.
    pub throttle_wait: Duration,
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

impl Report {
    /// Whether every check held in every case.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.tallies.values().all(|tally| tally.failed == 0)
    }

    /// Cases per second of wall time.
    pub fn cases_per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn record(&mut self, operation: &str, check: &str, ok: bool) {
        let tally = self
            .tallies
            .entry((operation.to_owned(), check.to_owned()))
            .or_default();
        if ok {
            tally.passed += 1;
        } else {
            tally.failed += 1;
        }
    }

    /// A table of every check with its counts, and a closing line with the totals.
    pub fn summary(&self) -> String {
        let width = self
            .tallies
            .keys()
            .map(|(op, check)| op.len() + check.len() + 3)
            .max()
            .unwrap_or(10);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>7}",
            "operation / check", "passed", "failed"
        );
        for ((operation, check), tally) in &self.tallies {
            let name = format!("{operation} / {check}");
            let mark = if tally.failed == 0 {
                ""
            } else {
                "  <-- FAILED"
            };
            let _ = writeln!(
                out,
                "{name:<width$}  {:>7}  {:>7}{mark}",
                tally.passed, tally.failed
            );
        }
        let (passed, failed) = self
            .tallies
            .values()
            .fold((0, 0), |(p, f), tally| (p + tally.passed, f + tally.failed));
        let _ = writeln!(
            out,
            "{} cases, {} requests in {:.2?} ({:.1} cases/s), seed {}",
            self.cases,
            self.requests,
            self.elapsed,
            self.cases_per_second(),
            self.seed
        );
        let _ = writeln!(out, "{passed} passed, {failed} failed");
        if self.throttled > 0 {
            let _ = writeln!(
                out,
                "throttled {} times (never counted as failures), waited {:.1?} in all (the waits \
                 of requests in flight at once add up)",
                self.throttled, self.throttle_wait
            );
        }
        for skipped in &self.skipped {
            let _ = writeln!(out, "not checked: {skipped}");
        }
        if self.interrupted {
            let _ = writeln!(out, "STOPPED before every check was made");
        }
        if self.kept.is_empty() {
            let _ = writeln!(out, "removed the {} records the run made", self.removed);
        } else {
            let _ = writeln!(
                out,
                "kept the records the run made: they carry {}",
                self.kept.join(", ")
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

    /// Each failure with its minimal request, every request it took with its response, and a
    /// curl command for each.
    pub fn failure_details(&self) -> String {
        let mut out = String::new();
        for (index, failure) in self.failures.iter().enumerate() {
            let _ = writeln!(
                out,
                "--- failure {} of {}: {} ({})",
                index + 1,
                self.failures.len(),
                failure.operation,
                failure.case
            );
            for (check, message) in &failure.checks {
                let _ = writeln!(out, "  check {check}: {message}");
            }
            if let Some(steps) = failure.sequence {
                let _ = writeln!(
                    out,
                    "  a sequence of {steps} operations, shrunk; to reproduce it, run:\n{}",
                    indent(&failure.script())
                );
                continue;
            }
            for (number, step) in failure.steps.iter().enumerate() {
                let _ = writeln!(out, "  {}. {}:", number + 1, step.what);
                if !step.request_body.is_empty() {
                    let _ = writeln!(
                        out,
                        "    request body:\n{}",
                        indent(&indent(&shorten(&step.request_body)))
                    );
                }
                let _ = writeln!(
                    out,
                    "    response {}:\n{}",
                    step.status,
                    indent(&indent(&shorten(&step.response_body)))
                );
                let _ = writeln!(out, "    reproduce:\n{}", indent(&indent(&step.curl)));
            }
        }
        out
    }

    /// A JUnit XML report: one suite per operation, one test case per check.
    pub fn junit(&self) -> String {
        let mut report = quick_junit::Report::new("contract");
        let mut suites: BTreeMap<&str, quick_junit::TestSuite> = BTreeMap::new();
        for ((operation, check), tally) in &self.tallies {
            let suite = suites
                .entry(operation.as_str())
                .or_insert_with(|| quick_junit::TestSuite::new(operation.as_str()));
            let status = if tally.failed == 0 {
                quick_junit::TestCaseStatus::success()
            } else {
                let mut status =
                    quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure);
                let details: Vec<String> = self
                    .failures
                    .iter()
                    .filter(|failure| {
                        &failure.operation == operation
                            && failure.checks.iter().any(|(c, _)| c == check)
                    })
                    .map(|failure| {
                        let message = failure
                            .checks
                            .iter()
                            .find(|(c, _)| c == check)
                            .map(|(_, m)| m.as_str())
                            .unwrap_or_default();
                        let curls: Vec<&str> = failure
                            .steps
                            .iter()
                            .map(|step| step.curl.as_str())
                            .collect();
                        let status = failure.case_step().map_or(0, |step| step.status);
                        format!(
                            "{} ({status}): {message}\n{}",
                            failure.case,
                            curls.join("\n")
                        )
                    })
                    .collect();
                status.set_message(format!(
                    "failed in {} of {} cases",
                    tally.failed,
                    tally.passed + tally.failed
                ));
                status.set_description(details.join("\n\n"));
                status
            };
            suite.add_test_case(quick_junit::TestCase::new(check.as_str(), status));
        }
        report.add_test_suites(suites.into_values());
        report
            .to_string()
            .unwrap_or_else(|error| format!("<!-- cannot write JUnit: {error} -->"))
    }
}

/// Long bodies (an oversize case) are cut for the terminal.
fn shorten(text: &str) -> String {
    const SHOWN: usize = 2000;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}... ({} bytes in all)", &text[..cut], text.len()),
        None => text.to_owned(),
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `curl` command for a request. The token is left in an environment variable
/// (`$NEXUDUS_TOKEN`) so that it never ends up in a CI log; `headers` are added after the content
/// type, in double quotes so that a `$NEXUDUS_TOKEN` in them is expanded.
pub fn curl(
    method: &str,
    url: &str,
    auth: &str,
    content_type: Option<&str>,
    headers: &[(String, String)],
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
        // `$NEXUDUS_TOKEN` stays a variable; every other `$`, `"`, `\` and backquote is literal.
        let value: String = value
            .replace("$NEXUDUS_TOKEN", "\u{0}")
            .chars()
            .flat_map(|c| match c {
                '$' | '"' | '\\' | '`' => vec!['\\', c],
                c => vec![c],
            })
            .collect::<String>()
            .replace('\u{0}', "$NEXUDUS_TOKEN");
        let _ = write!(command, " \\\n  -H \"{name}: {value}\"");
    }
    if let Some(data) = data {
        let _ = write!(command, " \\\n  --data-binary {data}");
    }
    command
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
                br#"{"A":1}"#
            ),
            "curl -i -X POST 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $T\" \\\n  -H 'Content-Type: application/json' \\\n  --data-binary '{\"A\":1}'"
        );
        assert_eq!(
            curl("GET", "http://h/x?a='1'", "", None, &[], b""),
            "curl -i -X GET 'http://h/x?a=%271%27'"
        );
        let headers = [
            (
                "Authorization".to_owned(),
                "Bearer $NEXUDUS_TOKEN".to_owned(),
            ),
            ("X-Odd".to_owned(), "a\"$b`".to_owned()),
        ];
        assert_eq!(
            curl("GET", url, "", None, &headers, b""),
            "curl -i -X GET 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $NEXUDUS_TOKEN\" \\\n  -H \"X-Odd: a\\\"\\$b\\`\""
        );
        let quoted = curl("POST", url, "", None, &[], br#"{"A":"it's"}"#);
        assert!(
            quoted.starts_with("cat <<'BODY' |\n{\"A\":\"it's\"}\nBODY\ncurl"),
            "{quoted}"
        );
        assert!(!quoted.contains("Authorization"));
        let bytes = curl("POST", url, "", None, &[], b"{\xff}");
        assert!(
            bytes.starts_with("printf '\\x7b\\xff\\x7d' | curl"),
            "{bytes}"
        );
        let large = curl("POST", url, "", None, &[], &vec![b'x'; 5000]);
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
            case: "sequence".into(),
            checks: vec![("read: matches the model".into(), "Notes".into())],
            steps: vec![
                step(
                    "1. create 1",
                    curl(
                        "POST",
                        "http://h/r",
                        "$T",
                        Some("application/json"),
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
