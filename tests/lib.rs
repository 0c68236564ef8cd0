//! Tests that span the workspace: the spec itself, the generated types, client and router
//! together over real HTTP. The tests are in `it/`; this library is empty.
