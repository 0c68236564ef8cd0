//! Contract checks of an API given as a value: proof, by property-based testing over real HTTP,
//! that the generated client, a server and the spec agree on every operation, every success and
//! every error.
//!
//! The API is a value, an [`Api`] (generated beside each API's client, as its `API` static):
//! its operations, schemas and `x-contract` extension, a typed client to call
//! any operation by its operationId, its error bodies decoded as that client decodes them, and
//! the JSON Schema its types derive. Nothing here names an API.
//!
//! For each operation of the spec:
//! - valid requests (parameters and body) from [`spec_strategies`] go through the generated
//!   client's typed method (its generated `dispatch`) and must come back with the documented
//!   success, holding what the spec's `x-contract` extension says (paging figures, order and
//!   filters of a list included); an operation that links say acts on an existing record gets
//!   one first, made by the operation the link comes from;
//! - after a success, the spec's links to a read are followed: the record must hold what was
//!   sent; after a delete, the record must be gone;
//! - invalid requests, each with labelled violations, must come back 400 as the typed error
//!   envelope, one `Errors` entry per violation; a request for an id that does not exist, 404;
//! - requests without a token, with a bad token and with a token lacking the operation's role
//!   must get 401, and for operations with a body, malformed JSON, a wrong content type and an
//!   oversize body their documented statuses;
//! - transport cases (`hostile.rs`), each with one fault a strict server refuses: a `+json`
//!   media type, another charset, a `Content-Encoding`, a repeated `Content-Type`, a repeated
//!   key and a date-time beyond UTC's years in a body (415 or 400 naming the fault); a repeated
//!   `Authorization` and a query parameter sent twice (400 naming it); a wrong method and an
//!   unknown path (the answers the root's `x-contract` names, `Allow` listing the path's
//!   methods);
//! - every answer is judged in layers: its status; then its `Content-Type` (a media type its
//!   status documents, or no body), the headers its status documents as required, and its body
//!   against the spec's schema for the status, with an independent JSON Schema validator; then
//!   what the body holds. Every documented status a client can cause must be produced by some
//!   case (the coverage table);
//! - an answer of the shape the root's `x-contract.throttled` names (409, `Retry-After`, the
//!   error envelope) is waited out and the request sent again, counted, never failed;
//! - the JSON Schema the shared types derive must agree with the spec ([`drift`]);
//! - an OAuth 2.0 token endpoint (the `tokenUrl` of a security scheme's password flow) gets the
//!   cases of RFC 6749 instead of generated ones, when the target has a username and password:
//!   both grants, each issued token tried on a secured operation, a refresh token used twice, and
//!   each error code;
//! - random sequences of creates, reads, lists, updates, deletes and rejected requests, on
//!   records each sequence makes and marks as its own, must agree at every answer with a model
//!   of what those records hold (stateful checks);
//! - every update and delete, of a case or a sequence, is read before (so that a cache holds the
//!   record) and after: the read must show the write, and after a delete a read, an update and
//!   the delete again must answer 404;
//! - writers at once ([`Options::writers`]): N creates make N records with N ids, all listed;
//!   N updates of one record leave it one update's body whole, and reads racing them see whole
//!   records; N deletes of one record succeed once (sent only once a record deleted alone
//!   reads as gone).
//!
//! A run touches only records it shows to be its own: every create carries its marker, and a
//! read of a record must show that marker (or exactly what the run last wrote) before the run
//! updates or deletes it; at the end it deletes each record it made and can prove, even when
//! stopped early. Failed checks are grouped by operation, check and kind of mismatch
//! ([`Mismatch`]), a read after a write judged as the write's whichever case made it; each group's first case is shrunk to a minimal request and reported with
//! every request it took and a `curl` command for each ([`report`]). [`run`] works against any
//! server URL, and stays bounded whatever the server answers.

mod at_once;
pub mod checks;
pub mod drift;
mod exchange;
mod expression;
mod extension;
mod follow;
mod harness;
mod hostile;
mod linked;
mod one_request;
mod options;
mod ownership;
mod plan;
mod recording;
mod records;
mod replay;
pub mod report;
mod resource;
mod runner;
mod sign_in;
mod stateful;
pub mod vocabulary;

pub use api_description::Api;
use api_description::Operation;

pub use crate::{
    checks::Outcome,
    exchange::Exchange,
    options::{
        Basic, ContractError, FormParameter, LimitedToken, Options, RefusedUser, SecretNames,
        SignIn, Target,
    },
    replay::{Payload, replay},
    report::{Detail, Failure, Group, Report, Sequences, Step, Tally},
    runner::STATEFUL,
    vocabulary::{Case, Check, Mismatch},
};

/// The operations of `api` the contract checks with generated requests: every operation of the
/// spec but an OAuth 2.0 token endpoint, which gets cases of its own.
pub fn operations(api: &Api) -> Vec<&'static Operation> {
    plan::checked_operations(api)
}

/// How many cases a run with `options` counts for `operation` (for a progress bar): valid and
/// invalid ones, three auth cases (and two or three with Basic credentials where it takes them),
/// three body cases for an operation with a body, the transport cases, and one for an id that
/// does not exist where links say the operation acts on one.
fn cases_per_operation(plan: &plan::Plan, options: &Options, spec: &plan::Spec) -> u64 {
    let operation = plan.operation;
    let (basic, basic_read) = plan::basic_cases(&spec.api, plan);
    let body = if operation.request_schema.is_some() {
        3
    } else {
        0
    };
    let not_found = u64::from(follow::has_not_found_case(operation, &spec.operations));
    // Any body with a property stands for the valid one: only whether it has a key counts.
    let any_body = serde_json::json!({ "": null });
    let transport = hostile::cases(
        operation,
        &spec.operations,
        &spec.definitions,
        &spec.root,
        Some(&any_body),
    )
    .0
    .len() as u64;
    2 * u64::from(options.cases)
        + 3
        + 2 * u64::from(basic)
        + u64::from(basic_read)
        + body
        + transport
        + not_found
}

/// How many cases a run against `target` with `options` counts in all (a sequence of the
/// stateful checks counts as one); 0 for a spec the run would refuse.
pub fn total_cases(api: &Api, target: &Target, options: &Options) -> u64 {
    let Ok(spec) = plan::Spec::load(api) else {
        return 0;
    };
    let sign_in = match (&target.sign_in, spec.token_endpoint) {
        (Some(credentials), Some(_)) => {
            sign_in::cases(credentials, spec.client_header.is_some()) as u64
        }
        _ => 0,
    };
    let resources = resource::Resource::all(&spec).0;
    // One case of writes at once for the creates, the updates and the deletes of each.
    let at_once: u64 = if options.writers > 0 {
        resources
            .iter()
            .map(|resource| {
                1 + u64::from(resource.update.is_some()) + u64::from(resource.delete.is_some())
            })
            .sum()
    } else {
        0
    };
    spec.plans
        .iter()
        .map(|plan| cases_per_operation(plan, options, &spec))
        .sum::<u64>()
        + resources.len() as u64 * u64::from(options.sequences)
        + at_once
        + sign_in
}

/// Runs every check of `api` against `target`. `on_case` is called after each case (for
/// progress).
pub async fn run(
    api: &Api,
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
) -> Result<Report, ContractError> {
    runner::run(api, target, options, on_case, std::future::pending()).await
}

/// [`run`], stopped early when `stop` completes (on Ctrl-C, say): what is running is dropped and
/// the records made so far are deleted all the same ([`Report::interrupted`] says so).
pub async fn run_until(
    api: &Api,
    target: &Target,
    options: &Options,
    on_case: &mut dyn FnMut(),
    stop: impl std::future::Future<Output = ()>,
) -> Result<Report, ContractError> {
    runner::run(api, target, options, on_case, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_without_an_operations_role_is_the_one_holding_most_other_roles() {
        let limited = |token: &str, roles: &[&str]| LimitedToken {
            token: token.into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            basic: None,
        };
        let mut target = Target {
            base_url: "http://127.0.0.1:1".into(),
            token: "admin".into(),
            limited_tokens: vec![
                limited("creator", &["CoworkerTimePass-Create"]),
                limited(
                    "reader",
                    &["CoworkerTimePass-Read", "CoworkerTimePass-List"],
                ),
                limited("none", &[]),
            ],
            caller: None,
            body_limit: 1,
            sign_in: None,
            basic: None,
            secret_names: SecretNames::default(),
        };
        let operation = |id: &str| {
            operations(&nexudus_client::API)
                .into_iter()
                .find(|operation| operation.operation_id == id)
                .unwrap()
        };
        let chosen = |target: &Target, id: &str| {
            target
                .token_without_role(operation(id), nexudus_client::API.security_schemes)
                .map(|index| target.limited_tokens[index].token.clone())
        };
        assert_eq!(
            chosen(&target, "create_coworker_time_pass").as_deref(),
            Some("reader")
        );
        assert_eq!(
            chosen(&target, "get_coworker_time_pass").as_deref(),
            Some("creator")
        );
        assert_eq!(
            chosen(&target, "delete_coworker_time_pass").as_deref(),
            Some("reader")
        );
        // A token holding every role lacks none: nothing to check with.
        target.limited_tokens = vec![limited(
            "all",
            &[
                "CoworkerTimePass-Create",
                "CoworkerTimePass-Read",
                "CoworkerTimePass-List",
                "CoworkerTimePass-Edit",
                "CoworkerTimePass-Delete",
            ],
        )];
        assert_eq!(chosen(&target, "update_coworker_time_pass"), None);
    }
}
