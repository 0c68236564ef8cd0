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

/// One failing case, shrunk to a minimal payload where it came from a strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The operation.
    pub operation: String,
    /// Which kind of case (`valid`, `invalid`, `auth: no token`, ...).
    pub case: String,
    /// The checks that failed, with what was wrong.
    pub checks: Vec<(String, String)>,
    /// The request body as sent (pretty-printed when it is JSON).
    pub request_body: String,
    /// The response status.
    pub status: u16,
    /// The response body.
    pub response_body: String,
    /// A `curl` command that sends the same request.
    pub curl: String,
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
    /// How many requests were sent, shrinking included.
    pub requests: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The seed, to run the same cases again.
    pub seed: u64,
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
        out
    }

    /// Each failure with its minimal payload, the response and a curl command.
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
            let _ = writeln!(
                out,
                "  minimal request body:\n{}",
                indent(&shorten(&failure.request_body))
            );
            let _ = writeln!(
                out,
                "  response {}:\n{}",
                failure.status,
                indent(&failure.response_body)
            );
            let _ = writeln!(out, "  reproduce:\n{}", indent(&failure.curl));
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
                        format!(
                            "{} ({}): {message}\n{}",
                            failure.case, failure.status, failure.curl
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

/// A `curl` command for a request. The token is left in `$NEXUDUS_TOKEN` so that it never ends
/// up in a CI log.
pub fn curl(
    base_url: &str,
    method: &str,
    path: &str,
    auth: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> String {
    const INLINE: usize = 4096;
    let (prefix, data) = match std::str::from_utf8(body) {
        Ok(text) if text.len() <= INLINE && !text.contains('\'') => {
            (String::new(), format!("'{text}'"))
        }
        Ok(text) if text.len() <= INLINE => {
            (format!("cat <<'BODY' |\n{text}\nBODY\n"), "@-".to_owned())
        }
        // Bytes that are not text (invalid UTF-8) go through printf, which keeps them exact.
        _ if body.len() <= INLINE => {
            let escaped: String = body.iter().map(|b| format!("\\x{b:02x}")).collect();
            (format!("printf '{escaped}' | "), "@-".to_owned())
        }
        _ => (
            String::new(),
            format!(
                "@request-body  # request-body: the {}-byte request body",
                body.len()
            ),
        ),
    };
    let mut command = format!(
        "{prefix}curl -i -X {method} '{}{path}'",
        base_url.trim_end_matches('/')
    );
    if !auth.is_empty() {
        let _ = write!(command, " \\\n  -H \"Authorization: Bearer {auth}\"");
    }
    if let Some(content_type) = content_type {
        let _ = write!(command, " \\\n  -H 'Content-Type: {content_type}'");
    }
    let _ = write!(command, " \\\n  --data-binary {data}");
    command
}

#[cfg(test)]
mod tests {
    use super::curl;

    #[test]
    fn curl_commands_reproduce_the_body() {
        let url = "http://127.0.0.1:1/";
        let path = "/api/x";
        assert_eq!(
            curl(
                url,
                "POST",
                path,
                "$T",
                Some("application/json"),
                br#"{"A":1}"#
            ),
            "curl -i -X POST 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $T\" \\\n  -H 'Content-Type: application/json' \\\n  --data-binary '{\"A\":1}'"
        );
        let quoted = curl(url, "POST", path, "", None, br#"{"A":"it's"}"#);
        assert!(
            quoted.starts_with("cat <<'BODY' |\n{\"A\":\"it's\"}\nBODY\ncurl"),
            "{quoted}"
        );
        assert!(!quoted.contains("Authorization"));
        let bytes = curl(url, "POST", path, "", None, b"{\xff}");
        assert!(
            bytes.starts_with("printf '\\x7b\\xff\\x7d' | curl"),
            "{bytes}"
        );
        let large = curl(url, "POST", path, "", None, &vec![b'x'; 5000]);
        assert!(
            large.ends_with(
                "--data-binary @request-body  # request-body: the 5000-byte request body"
            )
        );
    }
}
