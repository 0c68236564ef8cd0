//! Code generated from `tests/fixture-api/openapi.yaml`, a small spec with path and query
//! parameters, several operations on one path and a response without a body. It is compiled
//! and exercised over HTTP (`tests/router.rs`), so that generator output for specs other than
//! the Nexudus one cannot be broken code. All three modules come from `cargo xtask codegen`.

#[allow(missing_docs, clippy::all)]
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
pub mod types;

#[allow(missing_docs, clippy::all)]
#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
pub mod client;

#[rustfmt::skip] // formatted by prettyplease in `cargo xtask codegen`
pub mod server;
