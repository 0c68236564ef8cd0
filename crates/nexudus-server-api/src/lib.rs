//! Server side of the Nexudus billing API, generated from `openapi/nexudus-billing.yaml`.
//!
//! [`NexudusBillingApi`] has one method per operation, taking the typed path and query
//! parameters and request body, and returning a typed response enum with one variant per
//! documented status. [`router`] builds the axum router for any implementation: it
//! authenticates first (through the trait), then checks the parameters against their schemas
//! and the body's content type, size, JSON syntax and schema, answering every failure with the
//! API's error envelope (through the trait's `reject`), never axum's default text bodies.
//! [`OPERATIONS`] describes every operation as the spec states it, links and `x-contract`
//! extension included, for tools such as the contract runner.
//!
//! The code is in `generated.rs`, written by `cargo xtask codegen`; it is never edited by hand.

#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;

pub use generated::*;
pub use server_runtime::{
    BodyFormat, BodyTimedOut, Credentials, CredentialsError, DEFAULT_BODY_LIMIT, Link, Operation,
    Parameter, ParameterLocation, Rejection, Response, SchemeKind, SecurityRequirement,
    SecurityScheme, Violation, bearer_token, check_headers, credentials,
};
/// Why [`router`] could not compile the spec's schemas.
pub use spec_schema::SpecError as SchemaError;
