//! The differences found so far, in the order found, each place reported once: a component that
//! many operations use is one place, however often the walk reaches it.

use std::collections::HashSet;

use super::difference::Difference;
use crate::findings::Side;

/// Why a difference reported without a plan has none.
const NO_RULE: &str = "no rule says what this change does, so nothing can be drawn to show it";

#[derive(Debug, Default)]
pub(super) struct Record {
    out: Vec<Difference>,
    /// `(rule, side, pointer)` already reported.
    reported: HashSet<(&'static str, Side, String)>,
}

impl Record {
    /// Keeps `difference` unless its rule, side and place are already kept: the first one reached
    /// (and its plan) stands for all.
    pub(super) fn push(&mut self, difference: Difference) {
        let key = (difference.rule, difference.side, difference.pointer.clone());
        if self.reported.insert(key) {
            self.out.push(difference);
        }
    }

    /// A difference with no plan: it breaks nothing, or no witness can be drawn for it.
    pub(super) fn report(
        &mut self,
        rule: &'static str,
        side: Side,
        pointer: String,
        detail: String,
    ) {
        self.push(Difference {
            rule,
            side,
            pointer,
            detail,
            plan: None,
            no_plan: NO_RULE,
        });
    }

    pub(super) fn into_differences(self) -> Vec<Difference> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(record: Record) -> Vec<(&'static str, Side, String)> {
        super::super::fixtures::kept(record.into_differences())
    }

    #[test]
    fn a_place_reached_twice_is_reported_once() {
        let mut record = Record::default();
        record.report("enum-value-added", Side::Responses, "/a".into(), "x".into());
        record.report("enum-value-added", Side::Responses, "/a".into(), "y".into());
        let differences = record.into_differences();
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].detail, "x", "the first one reached stands");
    }

    #[test]
    fn another_rule_or_side_at_the_same_place_is_another_difference() {
        let mut record = Record::default();
        record.report(
            "enum-value-added",
            Side::Responses,
            "/a".into(),
            String::new(),
        );
        record.report(
            "enum-value-added",
            Side::Neither,
            "/a".into(),
            String::new(),
        );
        record.report(
            "enum-value-removed",
            Side::Responses,
            "/a".into(),
            String::new(),
        );
        record.report(
            "enum-value-added",
            Side::Responses,
            "/b".into(),
            String::new(),
        );
        assert_eq!(
            kept(record),
            [
                ("enum-value-added", Side::Responses, "/a".to_owned()),
                ("enum-value-added", Side::Neither, "/a".to_owned()),
                ("enum-value-removed", Side::Responses, "/a".to_owned()),
                ("enum-value-added", Side::Responses, "/b".to_owned()),
            ]
        );
    }

    #[test]
    fn a_report_has_no_plan_and_says_why() {
        let mut record = Record::default();
        record.report(
            "unclassified",
            Side::Unclassified,
            "/x".into(),
            String::new(),
        );
        let differences = record.into_differences();
        assert!(differences[0].plan.is_none());
        assert_eq!(differences[0].no_plan, NO_RULE);
    }
}
