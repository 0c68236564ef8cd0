//! Workspace tests: one binary, one module per area.

mod examples;
mod generated_router;
mod spec;

use std::path::PathBuf;

/// The spec, read from the file the generator reads.
pub fn spec_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/nexudus-billing.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The spec as JSON.
pub fn spec_json() -> serde_json::Value {
    spec_schema::Spec::from_yaml(&spec_text())
        .unwrap()
        .document()
        .clone()
}
