//! Types of the Nexudus billing API, generated from `openapi/nexudus-billing.yaml`.
//!
//! Every component schema of the spec is a type here, with serde derives (and
//! `schemars::JsonSchema`, with the default feature `schemars`); JSON keys keep the API's
//! PascalCase through `#[serde(rename)]`. Keys that the API always sends (such as
//! `RedirectURL: null`) are non-optional fields of `Option` type, so re-serialising a response
//! keeps every key. Downstream crates need only this crate: no spec and no generator.
//!
//! Every struct has a builder (`X::builder()`, in [`builder`]): code that builds a request with
//! it keeps compiling when the spec gains an optional property, and a value is checked when it
//! is built, each error naming the property.
//!
//! ```
//! use nexudus_types::{CoworkerTimePassCreate, CoworkerTimePassCreateNotes};
//!
//! let pass: CoworkerTimePassCreate = CoworkerTimePassCreate::builder()
//!     .coworker_id(1414201305u64)
//!     .business_id(1414201001u64)
//!     .time_pass_id(1414201122u64)
//!     .create_multiple(1u32)
//!     .notes("Welcome pack".parse::<CoworkerTimePassCreateNotes>()?)
//!     .price(12.5)
//!     .try_into()?;
//! assert_eq!(
//!     serde_json::to_value(&pass)?,
//!     serde_json::json!({
//!         "CoworkerId": 1414201305u64, "BusinessId": 1414201001u64, "TimePassId": 1414201122u64,
//!         "CreateMultiple": 1, "Notes": "Welcome pack", "Price": 12.5,
//!     })
//! );
//!
//! // A required property left out, or a value its type cannot hold, is named.
//! let unfinished = CoworkerTimePassCreate::builder().coworker_id(0u64);
//! let error = CoworkerTimePassCreate::try_from(unfinished).unwrap_err();
//! assert_eq!(error.to_string(), "BusinessId: no value supplied");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What the types can hold, they check when a value is built, naming the property
//! (`"x".repeat(2001).parse::<CoworkerTimePassCreateNotes>()` fails with `Notes: longer than
//! 2000 characters`); a float that is not finite fails to serialise, naming the property, rather
//! than becoming `null`. The rest of the spec's rules are not in the types, because typify has
//! no type for them: bounds of integers and numbers (`CreateMultiple` of at most 100, an id of
//! at most `i64::MAX`, a `Price` of at least 0) and patterns. They are in
//! [`SCHEMA_DEFINITIONS`], which the server validates against and `nexudus-client` checks
//! bodies with before sending (its default feature `validate`).
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
