//! Reads an OpenAPI 3.0 document and turns its component schemas into JSON Schema.
//!
//! An OpenAPI 3.0 Schema Object is close to JSON Schema draft 4 but not the same: `nullable`
//! must become a type union with `"null"`, `$ref`s point into `#/components/schemas/`, and
//! `format: int32`/`int64` carry a range that no JSON Schema validator knows about. Everything in
//! this workspace that checks JSON against the spec (the server's request validation, the contract
//! suite's payloads and response checks) goes through [`Spec::json_schema_definitions`], so the
//! three cannot drift apart.
//!
//! [`Validator`] checks a value against one named schema and reports every [`Violation`] with the
//! JSON property it concerns, the value that was sent and a short message.

mod convert;
mod error;
mod formats;
mod spec;
mod validator;
mod violation;

pub use crate::{
    convert::{DEFINITIONS, to_json_schema},
    error::SpecError,
    spec::Spec,
    validator::Validator,
    violation::{InstancePath, Message, Violation},
};

#[cfg(test)]
mod test_fixture;
