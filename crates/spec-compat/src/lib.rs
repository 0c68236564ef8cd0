//! Compares an OpenAPI 3.0 document with a released version of it, and proves every break.
//!
//! [`compare`] walks both documents operation by operation (every `$ref` followed, each schema
//! seen from where it is used: a request body's schema is read as a request, a response's as a
//! response) and reports each difference as a [`Finding`]: a rule id, the [`Side`] it breaks and
//! the JSON pointer of the place. The side follows from the direction: a change that lets fewer
//! values through breaks requests (an old client's request may be rejected), one that lets more
//! through breaks responses (an old client may fail to decode what a new server sends).
//! Documentation and `x-` extensions never break; a difference the walk has no rule for is
//! [`Side::Unclassified`] and counts as breaking.
//!
//! Every breaking finding is then backed by a [`Witness`], drawn with `spec-strategies` from the
//! version whose values are at stake (requests from the released spec, responses from the current
//! one), judged by both versions (their schemas through `spec-schema`'s validator, their
//! operations, statuses, content types and security) and shrunk. A finding whose witness could
//! not be found says why, and is "possibly breaking".

mod diff;
mod document;
mod findings;
mod witness;

pub use crate::{
    document::Version,
    findings::{
        CompatError, Evidence, Finding, Place, Rejection, RequestWitness, ResponseWitness, Side,
        Witness,
    },
};

/// Every difference between `released` and `current`, in document order, each breaking one with
/// its evidence.
pub fn compare(released: &Version, current: &Version) -> Vec<Finding> {
    diff::differences(released, current)
        .into_iter()
        .map(|difference| {
            let evidence = match (&difference.plan, difference.side.breaks()) {
                (_, false) => Evidence::None,
                (Some(plan), true) => witness::search(released, current, plan, &difference),
                (None, true) => Evidence::Missing(difference.no_plan.to_owned()),
            };
            Finding {
                rule: difference.rule,
                side: difference.side,
                pointer: difference.pointer,
                detail: difference.detail,
                evidence,
            }
        })
        .collect()
}
