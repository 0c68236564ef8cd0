//! Types of the Nexudus billing API, generated from `openapi/nexudus-billing.yaml`.
//!
//! Every component schema of the spec is a type here, with serde derives (and
//! `schemars::JsonSchema`, with the default feature `schemars`); JSON keys keep the API's
//! PascalCase through `#[serde(rename)]`. Keys that the API always sends (such as
//! `RedirectURL: null`) are non-optional fields of `Option` type, so re-serialising a response
//! keeps every key. Downstream crates need only this crate: no spec and no generator.
//!
//! What the types can hold, they check when a value is built, naming the property
//! (`"x".repeat(2001).parse::<CoworkerTimePassCreateNotes>()` fails with `Notes: longer than
//! 2000 characters`); a float that is not finite fails to serialise, naming the property, rather
//! than becoming `null`. The rest of the spec's rules (bounds of integers and numbers, patterns)
//! are in [`SCHEMA_DEFINITIONS`], which the server validates against and `nexudus-client`
//! checks bodies with before sending.
//!
//! The code is in `generated.rs`, written by `cargo xtask codegen`; it is never edited by hand.

#[allow(missing_docs, clippy::all)]
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;

pub use generated::*;
// The crates whose types the public fields use, so that a downstream crate names them at the
// versions used here.
pub use chrono;
#[cfg(feature = "schemars")]
pub use schemars;
pub use uuid;
