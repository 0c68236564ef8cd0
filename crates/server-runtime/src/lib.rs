//! What generated axum routers call at run time.
//!
//! Generated server code (see the `codegen` crate) stays small by leaving the generic work of a
//! request to this crate: reading the body within a size limit, checking its content type,
//! parsing JSON, validating it against the spec's schema (every violation, not just the first)
//! and only then deserialising it into the generated type. Each failure is a typed
//! [`Rejection`] that the server implementation turns into its API's error envelope; nothing
//! here writes a response body of its own.
//!
//! Path, query and header parameters go the same way ([`parameter`]): checked against the parameter's
//! schema, every violation reported under the parameter's name, then parsed.
//!
//! The request's head is read strictly too ([`check_headers`]): a header that names one thing
//! (`Authorization`, `Content-Type`, ...) sent twice is refused, not resolved by picking one.
//!
//! A request's credentials are read from `Authorization` in either scheme ([`credentials`]),
//! or as a bearer token alone ([`bearer_token`]).
//!
//! [`Operation`] describes an operation as the spec states it (including its security
//! requirements), so that an implementation can authorize by what the spec says.

mod authorization;
mod bearer;
mod body;
mod header_pairs;
mod headers;
mod operation;
mod parameters;
mod query;
mod rejection;
mod strict_json;

pub use spec_schema::{InstancePath, Message, Validator, Violation};

pub use crate::{
    authorization::{Credentials, CredentialsError, credentials},
    bearer::{BearerError, bearer_token},
    body::{BodyTimedOut, DEFAULT_BODY_LIMIT, parse_form, parse_json, read_body},
    header_pairs::{HeaderPairs, header_pairs},
    headers::check_headers,
    operation::{
        BodyFormat, Link, Operation, Parameter, ParameterLocation, Response, SchemeKind,
        SecurityRequirement, SecurityScheme,
    },
    parameters::{ParameterSource, ParameterType, parameter},
    query::{QueryPairs, query_pairs},
    rejection::Rejection,
};

#[cfg(test)]
mod test_support;
