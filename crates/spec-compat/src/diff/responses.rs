//! An operation's responses, matched by status: statuses one version documents and the other
//! does not, and for those both document their content, headers and links.

use serde_json::Value;

use super::{
    content::content,
    difference::{Difference, Draw, Plan},
    usage::{Context, Direction, Location},
    walk::Walk,
};
use crate::{
    document::{Located, Operation, escape},
    findings::{Place, Side},
};

impl Walk<'_> {
    pub(super) fn responses(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
        for (status, new_response) in &new.responses {
            let Some(old_response) = old.responses.get(status) else {
                let unreachable = new_response.value.pointer("/x-contract/reachable")
                    == Some(&Value::Bool(false));
                let content_type = content(new_response).keys().next().cloned();
                // The operation's own place: a shared response component is added to each
                // operation that names it.
                let pointer = format!("{}/responses/{}", new.pointer, escape(status));
                self.record.push(Difference {
                    rule: "status-added",
                    side: if unreachable {
                        Side::Neither
                    } else {
                        Side::Responses
                    },
                    pointer,
                    detail: if unreachable {
                        format!("{status}, documented as not reachable by clients")
                    } else {
                        status.clone()
                    },
                    plan: (!unreachable).then(|| Plan {
                        method: method.to_owned(),
                        path: new.path.to_owned(),
                        draw: Draw::Response {
                            status: status.clone(),
                            content_type,
                        },
                        place: Place::Status,
                    }),
                    no_plan: "",
                });
                continue;
            };
            self.response(old_response, new_response, status, old, new, method);
        }
        for status in old.responses.keys() {
            if !new.responses.contains_key(status) {
                self.record.report(
                    "status-removed",
                    Side::Neither,
                    format!("{}/responses/{}", old.pointer, escape(status)),
                    format!("{status}, in the released version"),
                );
            }
        }
    }

    fn response(
        &mut self,
        old_response: &Located<'_>,
        new_response: &Located<'_>,
        status: &str,
        old: &Operation<'_>,
        new: &Operation<'_>,
        method: &str,
    ) {
        self.contents(old_response, new_response, Some(status), old, new, method);
        self.headers(old_response, new_response, status, old, new, method);
        if old_response.value.get("links") != new_response.value.get("links") {
            self.record.report(
                "links-changed",
                Side::Neither,
                format!("{}/links", new_response.pointer),
                String::new(),
            );
        }
        self.record.rest(
            Some(old_response.value),
            Some(new_response.value),
            &new_response.pointer,
            &["content", "headers", "links"],
        );
    }

    fn headers(
        &mut self,
        old_response: &Located<'_>,
        new_response: &Located<'_>,
        status: &str,
        old: &Operation<'_>,
        new: &Operation<'_>,
        method: &str,
    ) {
        let old_headers = self.old.response_headers(old_response);
        let new_headers = self.new.response_headers(new_response);
        let required =
            |header: &Located<'_>| header.value.get("required") == Some(&Value::Bool(true));
        // A witness is a response of the current version without the header, or with a value of
        // its current schema.
        let content_type = content(new_response).keys().next().cloned();
        let plan = |name: &str| Plan {
            method: method.to_owned(),
            path: new.path.to_owned(),
            draw: Draw::Response {
                status: status.to_owned(),
                content_type: content_type.clone(),
            },
            place: Place::Header(name.to_owned()),
        };
        for (name, header) in &new_headers {
            match old_headers.get(name) {
                None => self.record.report(
                    "response-header-added",
                    Side::Neither,
                    header.pointer.clone(),
                    name.clone(),
                ),
                Some(old_header) => {
                    if required(old_header) && !required(header) {
                        self.record.push(Difference {
                            rule: "response-header-became-optional",
                            side: Side::Responses,
                            pointer: format!("{}/required", header.pointer),
                            detail: name.clone(),
                            plan: Some(plan(name)),
                            no_plan: "",
                        });
                    }
                    let location = Location::ResponseHeader {
                        status: status.to_owned(),
                        content_type: content_type.clone(),
                        name: name.clone(),
                    };
                    let context = Context::new(Direction::Response, method, old, new, location);
                    self.schema_at(&context, old_header, header, "schema", &[]);
                    self.record.rest(
                        Some(old_header.value),
                        Some(header.value),
                        &header.pointer,
                        &["required", "schema"],
                    );
                }
            }
        }
        for (name, header) in &old_headers {
            if !new_headers.contains_key(name) {
                let breaks = required(header);
                self.record.push(Difference {
                    rule: "response-header-removed",
                    side: if breaks {
                        Side::Responses
                    } else {
                        Side::Neither
                    },
                    pointer: header.pointer.clone(),
                    detail: format!("{name}, in the released version"),
                    plan: breaks.then(|| plan(name)),
                    no_plan: "",
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::{found, only, operation};
    use super::*;
    use crate::document::Version;

    fn responds(responses: Value) -> Version {
        operation(json!({"responses": responses}))
    }

    fn ok() -> Value {
        json!({"description": "it", "content": {"application/json": {"schema": {"type": "string"}}}})
    }

    const RESPONSES: &str = "/paths/~1things/post/responses";

    #[test]
    fn a_status_added_breaks_responses_unless_documented_unreachable() {
        let released = responds(json!({"200": ok()}));
        let difference = only(
            &released,
            &responds(json!({"200": ok(), "409": ok()})),
            "status-added",
        );
        assert_eq!(difference.side, Side::Responses);
        assert_eq!(difference.pointer, format!("{RESPONSES}/409"));
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::Status);
        assert!(matches!(
            plan.draw,
            Draw::Response { ref status, content_type: Some(ref content_type) }
                if status == "409" && content_type == "application/json"
        ));
        let unreachable = json!({"description": "never", "x-contract": {"reachable": false}});
        let current = responds(json!({"200": ok(), "500": unreachable}));
        let difference = only(&released, &current, "status-added");
        assert_eq!(difference.side, Side::Neither);
        assert_eq!(
            difference.detail,
            "500, documented as not reachable by clients"
        );
        assert!(difference.plan.is_none());
    }

    #[test]
    fn a_status_removed_breaks_nothing() {
        assert_eq!(
            found(
                &responds(json!({"200": ok(), "404": ok()})),
                &responds(json!({"200": ok()}))
            ),
            [("status-removed", Side::Neither, format!("{RESPONSES}/404"))]
        );
    }

    fn with_header(header: Option<Value>) -> Version {
        let mut response = ok();
        if let Some(header) = header {
            response["headers"] = json!({"Retry-After": header});
        }
        responds(json!({"200": response}))
    }

    fn header(required: bool) -> Option<Value> {
        Some(json!({"required": required, "schema": {"type": "integer"}}))
    }

    const HEADER: &str = "/paths/~1things/post/responses/200/headers/Retry-After";

    #[test]
    fn a_required_header_dropped_breaks_responses_and_an_optional_one_nothing() {
        let difference = only(
            &with_header(header(true)),
            &with_header(None),
            "response-header-removed",
        );
        assert_eq!(
            (difference.side, difference.pointer.as_str()),
            (Side::Responses, HEADER)
        );
        // Headers are known by their lower-case name.
        assert_eq!(
            difference.plan.unwrap().place,
            Place::Header("retry-after".into())
        );
        let optional = only(
            &with_header(header(false)),
            &with_header(None),
            "response-header-removed",
        );
        assert_eq!(optional.side, Side::Neither);
        assert_eq!(
            found(&with_header(None), &with_header(header(true))),
            [("response-header-added", Side::Neither, HEADER.to_owned())]
        );
    }

    #[test]
    fn a_header_made_optional_breaks_responses() {
        assert_eq!(
            found(&with_header(header(true)), &with_header(header(false))),
            [(
                "response-header-became-optional",
                Side::Responses,
                format!("{HEADER}/required")
            )]
        );
    }

    #[test]
    fn a_header_schema_is_read_as_a_response() {
        let typed = |ty: &str| with_header(Some(json!({"schema": {"type": ty}})));
        let difference = only(&typed("integer"), &typed("number"), "type-changed");
        assert_eq!(
            (difference.side, difference.pointer),
            (Side::Responses, format!("{HEADER}/schema/type"))
        );
        assert_eq!(
            difference.plan.unwrap().place,
            Place::Header("retry-after".into())
        );
        assert_eq!(
            only(&typed("number"), &typed("integer"), "type-changed").side,
            Side::Neither
        );
    }

    #[test]
    fn links_break_nothing() {
        let mut linked = ok();
        linked["links"] = json!({"self": {"operationId": "getThing"}});
        assert_eq!(
            found(
                &responds(json!({"200": ok()})),
                &responds(json!({"200": linked}))
            ),
            [(
                "links-changed",
                Side::Neither,
                format!("{RESPONSES}/200/links")
            )]
        );
    }
}
