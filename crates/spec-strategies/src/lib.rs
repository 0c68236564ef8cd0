//! proptest strategies derived from a spec's schemas: valid payloads, and invalid ones that
//! carry a label for each violation they contain.
//!
//! The input is the JSON Schema that `spec-schema` converts an OpenAPI document's component
//! schemas to, so every rule comes from the spec and nothing here knows an endpoint: a second
//! operation's request schema gets strategies for free.
//!
//! - [`Strategies::valid`] honours every constraint the schema states (required, types, integer
//!   ranges, minimum/maximum, `date-time` and `uuid` formats, lengths, nullability) and leans on
//!   the boundaries: minimum, maximum, empty and longest strings, absent and present optionals.
//! - [`Strategies::invalid`] takes a valid object and breaks one to three of its properties (or
//!   sends something that is not an object at all); each [`Violation`] names the property the
//!   server must report and the value that was sent.
//! - [`Strategies::valid_request`] and [`Strategies::invalid_request`] do the same for a whole
//!   request of an operation: its path and query parameters, as text, and its body.
//!
//! Values shrink towards the smallest valid case, so a failing case is reported small.

mod invalid;
mod labels;
mod request;
mod schema;
mod valid;

use std::sync::Arc;

use proptest::strategy::BoxedStrategy;
use serde_json::{Map, Value};

pub use crate::{
    labels::{InvalidCase, StrategyError, Violation, ViolationKind},
    request::{InvalidRequest, Location, ParameterShape, Request, RequestShape, parameter_text},
    schema::Node,
};

/// Strategies for the schemas of one document.
#[derive(Debug, Clone)]
pub struct Strategies {
    definitions: Arc<Map<String, Value>>,
}

impl Strategies {
    /// Strategies over converted definitions (`spec_schema::Spec::json_schema_definitions`).
    pub fn new(definitions: Map<String, Value>) -> Self {
        Self {
            definitions: Arc::new(definitions),
        }
    }

    /// The schema `name` as a [`Node`].
    pub fn node(&self, name: &str) -> Result<Node, StrategyError> {
        let schema = self
            .definitions
            .get(name)
            .ok_or_else(|| StrategyError::UnknownSchema(name.to_owned()))?;
        Node::parse(schema, &self.definitions, name)
    }

    /// Values the schema `name` accepts.
    pub fn valid(&self, name: &str) -> Result<BoxedStrategy<Value>, StrategyError> {
        Ok(valid::strategy(&self.node(name)?))
    }

    /// Values the schema `name` rejects, each with its violations. The schema must describe an
    /// object with at least one property.
    pub fn invalid(&self, name: &str) -> Result<BoxedStrategy<InvalidCase>, StrategyError> {
        invalid::strategy(&self.node(name)?, name)
    }

    /// Requests of an operation that its parameters' and body's schemas accept.
    pub fn valid_request(
        &self,
        shape: &RequestShape,
    ) -> Result<BoxedStrategy<Request>, StrategyError> {
        request::valid(shape, &self.definitions)
    }

    /// Requests of an operation with one to three labelled violations, of its parameters or of
    /// its body.
    pub fn invalid_request(
        &self,
        shape: &RequestShape,
    ) -> Result<BoxedStrategy<InvalidRequest>, StrategyError> {
        request::invalid(shape, &self.definitions)
    }
}
