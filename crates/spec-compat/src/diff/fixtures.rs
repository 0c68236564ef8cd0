//! The smallest documents the walk's unit tests need: one operation, `POST /things`, holding the
//! part under test, and the differences between two such documents.

use serde_json::{Value, json};

use super::{Difference, differences};
use crate::{document::Version, findings::Side};

/// A document of `paths` and component `schemas`.
pub(super) fn version(paths: Value, schemas: Value) -> Version {
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "Things", "version": "1.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    });
    Version::parse(&document.to_string()).unwrap()
}

/// A document whose one operation, `POST /things`, is `operation`.
pub(super) fn operation(operation: Value) -> Version {
    version(json!({"/things": {"post": operation}}), json!({}))
}

/// An operation whose required JSON body is `schema`.
pub(super) fn takes(schema: Value) -> Version {
    operation(json!({
        "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
        "responses": {"204": {"description": "done"}},
    }))
}

/// An operation whose 200 response's JSON body is `schema`.
pub(super) fn returns(schema: Value) -> Version {
    operation(json!({
        "responses": {"200": {
            "description": "the thing",
            "content": {"application/json": {"schema": schema}},
        }},
    }))
}

/// Where [`takes`] puts its schema.
pub(super) const BODY: &str = "/paths/~1things/post/requestBody/content/application~1json/schema";
/// Where [`returns`] puts its schema.
pub(super) const RESPONSE: &str =
    "/paths/~1things/post/responses/200/content/application~1json/schema";

/// Every difference's rule, side and pointer, in the order found.
pub(super) fn found(old: &Version, new: &Version) -> Vec<(&'static str, Side, String)> {
    kept(differences(old, new))
}

/// The rule, side and pointer of each of `differences`.
pub(super) fn kept(differences: Vec<Difference>) -> Vec<(&'static str, Side, String)> {
    differences
        .into_iter()
        .map(|difference| (difference.rule, difference.side, difference.pointer))
        .collect()
}

/// The one difference with `rule`.
pub(super) fn only(old: &Version, new: &Version, rule: &str) -> Difference {
    let all = differences(old, new);
    let mut matching = all.iter().filter(|difference| difference.rule == rule);
    match (matching.next(), matching.next()) {
        (Some(one), None) => one.clone(),
        _ => panic!("not one {rule} in {all:#?}"),
    }
}
