//! The strategies against independent judges: the JSON Schema validator of `spec-schema` over
//! every schema of the real spec and of the catalogue (`tests/catalogue.yaml`), and
//! `server-runtime`'s reading of parameters over every operation's requests.

mod bodies;
mod judge;
mod kinds;
mod requests;
mod schemas;

use proptest::{prelude::Strategy, strategy::ValueTree, test_runner::TestRunner};
use spec_schema::{Spec, Validator};
use spec_strategies::Strategies;

/// The real spec.
pub(crate) fn spec() -> Spec {
    load("../../openapi/nexudus-billing.yaml")
}

/// A document with every shape the strategies generate (`catalogue.yaml`).
pub(crate) fn catalogue() -> Spec {
    load("tests/catalogue.yaml")
}

fn load(path: &str) -> Spec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    Spec::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn setup(spec: &Spec, name: &str) -> (Strategies, Validator) {
    let definitions = spec.json_schema_definitions().unwrap();
    (
        Strategies::new(definitions.clone()),
        Validator::new(definitions, name).unwrap(),
    )
}

/// `count` values of `strategy`, the same ones in every run.
pub(crate) fn samples<T: std::fmt::Debug>(
    strategy: impl Strategy<Value = T>,
    count: usize,
) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}
