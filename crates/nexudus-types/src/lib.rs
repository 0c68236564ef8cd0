//! Types of the Nexudus billing API, generated from `openapi/nexudus-billing.yaml`.
//!
//! Every component schema of the spec is a type here, with serde and `schemars::JsonSchema`
//! derives; JSON keys keep the API's PascalCase through `#[serde(rename)]`. Keys that the API
//! always sends (such as `RedirectURL: null`) are non-optional fields of `Option` type, so
//! re-serialising a response keeps every key. Downstream crates need only this crate: no spec
//! and no generator.
//!
//! The code is in `generated.rs`, written by `cargo xtask codegen`; it is never edited by hand.

#[allow(missing_docs, clippy::all)]
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
mod generated;

pub use generated::*;
// The crates whose types the public fields use, so that a downstream crate names them at the
// versions used here.
pub use chrono;
pub use schemars;
pub use uuid;
