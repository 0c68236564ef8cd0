//! The report as JUnit XML: one test case per fault, so that CI counts what the summary counts.

use std::{collections::BTreeMap, fmt::Write as _};

use super::*;

impl Report {
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
