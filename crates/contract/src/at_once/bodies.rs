//! What the bodies sent at once are, and what a record read after them is: the bodies picked
//! as unlike each other as possible, and a record judged as one body's whole, a mixture of
//! several, or a write not kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use spec_strategies::Request;

use crate::{checks, plan::Plan, vocabulary::Mismatch};

/// `count` of `drawn`, picked one at a time: first the one that sends the most, then each time
/// the one whose fewest differences from those picked are the most (ties to the one that sends
/// more). A difference is a property one sends and the other does not, or sends otherwise.
pub(super) fn unlike(
    mut drawn: Vec<Request>,
    count: usize,
    write_only: &BTreeSet<String>,
) -> Vec<Request> {
    let sent = |request: &Request| -> BTreeMap<String, Value> {
        request
            .body
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(name, _)| !write_only.contains(*name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    };
    let differences = |a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>| {
        a.keys()
            .chain(b.keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|name| a.get(*name) != b.get(*name))
            .count()
    };
    let mut picked: Vec<(Request, BTreeMap<String, Value>)> = Vec::new();
    while picked.len() < count && !drawn.is_empty() {
        let best = drawn
            .iter()
            .enumerate()
            .map(|(at, request)| {
                let properties = sent(request);
                let fewest = picked
                    .iter()
                    .map(|(_, other)| differences(&properties, other))
                    .min()
                    .unwrap_or(usize::MAX);
                (fewest, properties.len(), std::cmp::Reverse(at))
            })
            .max()
            .map(|(_, _, std::cmp::Reverse(at))| at)
            .expect("not empty");
        let request = drawn.swap_remove(best);
        let properties = sent(&request);
        if picked.iter().all(|(_, other)| *other != properties) {
            picked.push((request, properties));
        }
    }
    picked.into_iter().map(|(request, _)| request).collect()
}

/// The kind of a record written by several writers at once.
pub(super) const MIXTURE: &str = "fields of several writers";

/// How a record read stands to the bodies that may have written it.
#[derive(Debug)]
pub(super) enum Verdict {
    /// It holds what the body at this index sent, whole.
    Whole(usize),
    /// Each property it holds one of the bodies sent, but no one body sent them all.
    Mixture,
    /// A property holds what no body sent: a write not kept as sent, which needs no other
    /// writer to show (the mismatch against the first body).
    NotAsSent(Mismatch),
}

/// A body that may have written a record, with how its write reads back (the properties it
/// never reads back, the formats of those it does).
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate<'c> {
    body: Option<&'c Value>,
    write_only: &'c BTreeSet<String>,
    formats: &'c BTreeMap<String, String>,
}

impl<'c> Candidate<'c> {
    pub(super) fn of(plan: &'c Plan, request: &'c Request) -> Self {
        Self {
            body: request.body.as_ref(),
            write_only: &plan.write_only,
            formats: &plan.formats,
        }
    }

    /// Whether `record` holds what `body` sends (this candidate's body when `None`).
    fn held(&self, record: Option<&Value>, body: Option<&Value>) -> Result<(), Mismatch> {
        checks::read_back(body.or(self.body), record, self.write_only, self.formats).1
    }
}

pub(super) fn verdict(record: Option<&Value>, candidates: &[Candidate<'_>]) -> Verdict {
    if let Some(at) = candidates
        .iter()
        .position(|candidate| candidate.held(record, None).is_ok())
    {
        return Verdict::Whole(at);
    }
    let sent_by_some = |name: &str| {
        candidates.iter().any(|candidate| {
            candidate
                .body
                .and_then(|body| body.get(name))
                .is_some_and(|value| {
                    let one = serde_json::json!({ name: value });
                    candidate.held(record, Some(&one)).is_ok()
                })
        })
    };
    let unsent = candidates.iter().any(|candidate| {
        candidate
            .body
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .any(|(name, _)| !candidate.write_only.contains(name) && !sent_by_some(name))
    });
    match candidates.first() {
        Some(first) if unsent => match first.held(record, None) {
            Err(mismatch) => Verdict::NotAsSent(mismatch),
            Ok(()) => Verdict::Whole(0),
        },
        _ => Verdict::Mixture,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn judged(record: Value, bodies: &[Value]) -> Verdict {
        let (write_only, formats) = (BTreeSet::from(["Count".to_owned()]), BTreeMap::new());
        let candidates: Vec<Candidate<'_>> = bodies
            .iter()
            .map(|body| Candidate {
                body: Some(body),
                write_only: &write_only,
                formats: &formats,
            })
            .collect();
        verdict(Some(&record), &candidates)
    }

    fn body(value: Value) -> Request {
        Request {
            body: Some(value),
            ..Request::default()
        }
    }

    #[test]
    fn the_bodies_picked_are_the_most_unlike_and_never_the_same() {
        let drawn = vec![
            body(json!({"a": 1})),
            body(json!({"a": 1, "b": 1, "c": 1, "Count": 1})),
            body(json!({"a": 1, "b": 1, "c": 1, "Count": 2})),
            body(json!({"a": 1, "b": 1, "c": 2})),
            body(json!({"a": 2, "b": 2, "c": 2})),
        ];
        let write_only = BTreeSet::from(["Count".to_owned()]);
        let picked: Vec<Value> = unlike(drawn, 3, &write_only)
            .into_iter()
            .filter_map(|request| request.body)
            .collect();
        // The fullest first, then the one differing from it everywhere, then the one with the
        // most differences from both; a body the same but for what is never stored is skipped.
        assert_eq!(
            picked,
            [
                json!({"a": 1, "b": 1, "c": 1, "Count": 1}),
                json!({"a": 2, "b": 2, "c": 2}),
                json!({"a": 1}),
            ]
        );
    }

    #[test]
    fn a_record_one_body_wrote_whole_is_that_body() {
        let bodies = [json!({"a": 1, "b": 1, "Count": 1}), json!({"a": 2, "b": 2})];
        let verdict = judged(json!({"Id": 7, "a": 2, "b": 2, "c": null}), &bodies);
        assert!(matches!(verdict, Verdict::Whole(1)), "{verdict:?}");
    }

    #[test]
    fn fields_from_two_bodies_are_a_mixture() {
        let bodies = [json!({"a": 1, "b": 1}), json!({"a": 2, "b": 2})];
        let verdict = judged(json!({"a": 1, "b": 2}), &bodies);
        assert!(matches!(verdict, Verdict::Mixture), "{verdict:?}");
    }

    /// A value no body sent needs no second writer to explain it: the write was not kept.
    #[test]
    fn a_value_no_body_sent_is_a_write_not_kept() {
        let bodies = [json!({"a": 1, "b": 1}), json!({"a": 2, "b": 2})];
        let verdict = judged(json!({"a": 1, "b": null}), &bodies);
        match verdict {
            Verdict::NotAsSent(mismatch) => {
                assert_eq!(mismatch.kind, "a property reads back otherwise")
            }
            other => panic!("{other:?}"),
        }
    }
}
