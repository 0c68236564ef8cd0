//! What the walk hands on: a [`Difference`] before its evidence is looked for, and the [`Plan`]
//! the witness search follows to show that it breaks.

use std::collections::BTreeMap;

use crate::findings::{Place, Side};

/// A difference before its evidence is looked for.
#[derive(Debug, Clone)]
pub(crate) struct Difference {
    pub rule: &'static str,
    pub side: Side,
    pub pointer: String,
    pub detail: String,
    /// How to draw a witness of a break.
    pub plan: Option<Plan>,
    /// Why there is no plan, for a break that has none.
    pub no_plan: &'static str,
}

/// Where to draw a witness from and what the rejecting version must fault in it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Upper-case method.
    pub method: String,
    /// The path as the drawing version writes it (the released one for requests, the current one
    /// for responses).
    pub path: String,
    pub draw: Draw,
    pub place: Place,
}

#[derive(Debug, Clone)]
pub(crate) enum Draw {
    /// A request of the released version.
    Request {
        /// The scopes to hold, when not the operation's first requirement's.
        credentials: Option<BTreeMap<String, Vec<String>>>,
        /// The body's content type, when not the operation's first.
        content_type: Option<String>,
        /// Send no body at all.
        no_body: bool,
    },
    /// A response of the current version.
    Response {
        status: String,
        content_type: Option<String>,
    },
}

impl Draw {
    /// A request of the released operation as its first security requirement's holder sends it.
    pub(super) fn request() -> Self {
        Self::Request {
            credentials: None,
            content_type: None,
            no_body: false,
        }
    }
}
