//! What an operation's request carries besides credentials: its parameters, matched by where
//! they go and their name (a path parameter by its position), and its body.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{
    difference::{Difference, Draw, Plan},
    usage::{Context, Direction, Location},
    walk::Walk,
};
use crate::{
    document::{Located, Operation, template_names},
    findings::{Place, Side},
};

/// A witness of a request break: a request of the released operation, faulted at `place`.
fn request_plan(old: &Operation<'_>, method: &str, place: Place) -> Plan {
    Plan {
        method: method.to_owned(),
        path: old.path.to_owned(),
        draw: Draw::request(),
        place,
    }
}

impl Walk<'_> {
    pub(super) fn parameters(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
        // A path parameter is known by its position: renaming it changes no request.
        let released_key = |key: &(String, String)| -> (String, String) {
            let renamed = (key.0 == "path")
                .then(|| {
                    let position = template_names(new.path)
                        .iter()
                        .position(|name| *name == key.1)?;
                    template_names(old.path)
                        .get(position)
                        .map(|name| (*name).to_owned())
                })
                .flatten();
            (key.0.clone(), renamed.unwrap_or_else(|| key.1.clone()))
        };
        let kept: BTreeSet<(String, String)> = new.parameters.keys().map(released_key).collect();
        for (key, new_parameter) in &new.parameters {
            let required = |parameter: &Located<'_>| {
                key.0 == "path" || parameter.value.get("required") == Some(&Value::Bool(true))
            };
            let place = Place::Parameter(key.1.clone());
            match old.parameters.get(&released_key(key)) {
                None => {
                    let breaks = required(new_parameter);
                    self.record.push(Difference {
                        rule: "parameter-added",
                        side: if breaks {
                            Side::Requests
                        } else {
                            Side::Neither
                        },
                        pointer: new_parameter.pointer.clone(),
                        detail: format!(
                            "{} {}, {}",
                            key.0,
                            key.1,
                            if breaks { "required" } else { "optional" }
                        ),
                        plan: breaks.then(|| request_plan(old, method, place)),
                        no_plan: "",
                    });
                }
                Some(old_parameter) => {
                    let pointer = format!("{}/required", new_parameter.pointer);
                    match (required(old_parameter), required(new_parameter)) {
                        (false, true) => self.record.push(Difference {
                            rule: "parameter-became-required",
                            side: Side::Requests,
                            pointer,
                            detail: format!("{} {}", key.0, key.1),
                            plan: Some(request_plan(old, method, place)),
                            no_plan: "",
                        }),
                        (true, false) => self.record.report(
                            "parameter-became-optional",
                            Side::Neither,
                            pointer,
                            format!("{} {}", key.0, key.1),
                        ),
                        _ => {}
                    }
                    let location = Location::Parameter(key.1.clone());
                    let context = Context::new(Direction::Request, method, old, new, location);
                    self.schema_at(&context, old_parameter, new_parameter, "schema", &[]);
                    self.record.rest(
                        Some(old_parameter.value),
                        Some(new_parameter.value),
                        &new_parameter.pointer,
                        &["name", "in", "required", "schema"],
                    );
                }
            }
        }
        for (key, old_parameter) in &old.parameters {
            if !kept.contains(key) {
                // A server ignores a query parameter it does not know; a path parameter cannot
                // go without the path changing, which is another operation.
                self.record.report(
                    "parameter-removed",
                    Side::Neither,
                    old_parameter.pointer.clone(),
                    format!("{} {}, in the released version", key.0, key.1),
                );
            }
        }
    }

    pub(super) fn request_body(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
        let required = |body: &Located<'_>| body.value.get("required") == Some(&Value::Bool(true));
        let no_body_plan = |place| Plan {
            method: method.to_owned(),
            path: old.path.to_owned(),
            draw: Draw::Request {
                credentials: None,
                content_type: None,
                no_body: true,
            },
            place,
        };
        match (&old.request_body, &new.request_body) {
            (None, None) => {}
            (None, Some(body)) => {
                let breaks = required(body);
                self.record.push(Difference {
                    rule: "request-body-added",
                    side: if breaks {
                        Side::Requests
                    } else {
                        Side::Neither
                    },
                    pointer: body.pointer.clone(),
                    detail: if breaks { "required" } else { "optional" }.into(),
                    plan: breaks.then(|| no_body_plan(Place::Body(Vec::new()))),
                    no_plan: "",
                });
            }
            (Some(body), None) => self.record.report(
                "request-body-removed",
                Side::Neither,
                body.pointer.clone(),
                "in the released version".into(),
            ),
            (Some(old_body), Some(new_body)) => {
                let pointer = format!("{}/required", new_body.pointer);
                match (required(old_body), required(new_body)) {
                    (false, true) => self.record.push(Difference {
                        rule: "request-body-became-required",
                        side: Side::Requests,
                        pointer,
                        detail: String::new(),
                        plan: Some(no_body_plan(Place::Body(Vec::new()))),
                        no_plan: "",
                    }),
                    (true, false) => self.record.report(
                        "request-body-became-optional",
                        Side::Neither,
                        pointer,
                        String::new(),
                    ),
                    _ => {}
                }
                self.contents(old_body, new_body, None, old, new, method);
                self.record.rest(
                    Some(old_body.value),
                    Some(new_body.value),
                    &new_body.pointer,
                    &["required", "content"],
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::{found, only, operation, version};
    use super::*;

    fn with_parameters(parameters: Value) -> crate::document::Version {
        operation(json!({"parameters": parameters, "responses": {"204": {"description": "done"}}}))
    }

    fn query(required: bool) -> Value {
        json!({"in": "query", "name": "limit", "required": required, "schema": {"type": "integer"}})
    }

    const LIMIT: &str = "/paths/~1things/post/parameters/0";

    #[test]
    fn a_required_parameter_added_breaks_requests_and_an_optional_one_nothing() {
        let none = with_parameters(json!([]));
        let difference = only(
            &none,
            &with_parameters(json!([query(true)])),
            "parameter-added",
        );
        assert_eq!(difference.side, Side::Requests);
        assert_eq!(difference.pointer, LIMIT);
        assert_eq!(difference.detail, "query limit, required");
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::Parameter("limit".into()));
        assert!(matches!(plan.draw, Draw::Request { no_body: false, .. }));
        let difference = only(
            &none,
            &with_parameters(json!([query(false)])),
            "parameter-added",
        );
        assert_eq!(difference.side, Side::Neither);
        assert_eq!(difference.detail, "query limit, optional");
        assert!(difference.plan.is_none());
    }

    #[test]
    fn a_parameter_made_required_breaks_requests_and_made_optional_nothing() {
        let (optional, required) = (
            with_parameters(json!([query(false)])),
            with_parameters(json!([query(true)])),
        );
        let pointer = format!("{LIMIT}/required");
        assert_eq!(
            found(&optional, &required),
            [("parameter-became-required", Side::Requests, pointer.clone())]
        );
        assert_eq!(
            found(&required, &optional),
            [("parameter-became-optional", Side::Neither, pointer)]
        );
    }

    #[test]
    fn a_parameter_removed_breaks_nothing() {
        let removed = only(
            &with_parameters(json!([query(true)])),
            &with_parameters(json!([])),
            "parameter-removed",
        );
        assert_eq!(removed.side, Side::Neither);
        assert_eq!(removed.detail, "query limit, in the released version");
    }

    #[test]
    fn a_parameter_schema_is_read_as_a_request_and_faulted_by_name() {
        let bounded = |maximum: u64| {
            with_parameters(
                json!([{"in": "query", "name": "limit", "schema": {"type": "integer", "maximum": maximum}}]),
            )
        };
        let difference = only(&bounded(100), &bounded(10), "maximum-tightened");
        assert_eq!(difference.side, Side::Requests);
        assert_eq!(difference.pointer, format!("{LIMIT}/schema/maximum"));
        assert_eq!(
            difference.plan.unwrap().place,
            Place::Parameter("limit".into())
        );
        assert_eq!(
            only(&bounded(10), &bounded(100), "maximum-loosened").side,
            Side::Neither
        );
    }

    #[test]
    fn a_path_parameter_is_matched_by_position_and_always_required() {
        let path = |name: &str, extra: Value| {
            let mut parameters =
                vec![json!({"in": "path", "name": name, "schema": {"type": "string"}})];
            parameters.extend(extra.as_array().cloned().unwrap_or_default());
            version(
                json!({format!("/things/{{{name}}}"): {"get": {
                    "parameters": parameters,
                    "responses": {"204": {"description": "done"}},
                }}}),
                json!({}),
            )
        };
        assert_eq!(
            found(&path("id", json!([])), &path("thing", json!([]))),
            [(
                "path-parameter-renamed",
                Side::Neither,
                "/paths/~1things~1{thing}".to_owned()
            )]
        );
        // A path parameter with no `required: true` is required all the same.
        let extra = json!([{"in": "path", "name": "other", "schema": {"type": "string"}}]);
        let added = only(
            &path("id", json!([])),
            &path("id", extra),
            "parameter-added",
        );
        assert_eq!(added.side, Side::Requests);
    }

    fn with_body(body: Option<Value>) -> crate::document::Version {
        let mut operation_object = json!({"responses": {"204": {"description": "done"}}});
        if let Some(body) = body {
            operation_object["requestBody"] = body;
        }
        operation(operation_object)
    }

    fn body(required: bool) -> Option<Value> {
        Some(
            json!({"required": required, "content": {"application/json": {"schema": {"type": "object"}}}}),
        )
    }

    const BODY: &str = "/paths/~1things/post/requestBody";

    #[test]
    fn a_required_body_added_breaks_requests_without_one() {
        let difference = only(
            &with_body(None),
            &with_body(body(true)),
            "request-body-added",
        );
        assert_eq!(
            (difference.side, difference.detail.as_str()),
            (Side::Requests, "required")
        );
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::Body(Vec::new()));
        assert!(matches!(
            plan.draw,
            Draw::Request {
                no_body: true,
                content_type: None,
                ..
            }
        ));
        let optional = only(
            &with_body(None),
            &with_body(body(false)),
            "request-body-added",
        );
        assert_eq!(
            (optional.side, optional.detail.as_str()),
            (Side::Neither, "optional")
        );
    }

    #[test]
    fn a_body_made_required_breaks_requests_and_a_body_dropped_nothing() {
        let pointer = format!("{BODY}/required");
        assert_eq!(
            found(&with_body(body(false)), &with_body(body(true))),
            [(
                "request-body-became-required",
                Side::Requests,
                pointer.clone()
            )]
        );
        assert_eq!(
            found(&with_body(body(true)), &with_body(body(false))),
            [("request-body-became-optional", Side::Neither, pointer)]
        );
        assert_eq!(
            found(&with_body(body(true)), &with_body(None)),
            [("request-body-removed", Side::Neither, BODY.to_owned())]
        );
    }
}
