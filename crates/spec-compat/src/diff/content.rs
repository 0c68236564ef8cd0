//! The `content` of a request body or a response: media types one version lists and the other
//! does not, and the schemas of those both list, compared in the part's direction.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    difference::{Difference, Draw, Plan},
    usage::{Context, Direction, Location},
    walk::Walk,
};
use crate::{
    document::{Located, Operation, escape},
    findings::{Place, Side},
};

impl Walk<'_> {
    /// Compares the `content` of two parts: a request body (`status` `None`) or the response
    /// `status`. A media type in one only is `<request|response>-content-type-<added|removed>`,
    /// breaking when a client may meet a type it does not know (a request type removed, a
    /// response type added); the schemas of the types in both are compared in the part's
    /// direction.
    pub(super) fn contents(
        &mut self,
        old_part: &Located<'_>,
        new_part: &Located<'_>,
        status: Option<&str>,
        old: &Operation<'_>,
        new: &Operation<'_>,
        method: &str,
    ) {
        let (old_content, new_content) = (content(old_part), content(new_part));
        let at = |part: &Located<'_>, content_type: &str| {
            format!("{}/content/{}", part.pointer, escape(content_type))
        };
        let detail = |content_type: &str| match status {
            Some(status) => format!("{status} {content_type}"),
            None => content_type.to_owned(),
        };
        if let Some(status) = status
            && new_content.is_empty()
            && !old_content.is_empty()
        {
            // No body where the released version has one: a released client reads one, and
            // meets nothing to read.
            let plan = Plan {
                method: method.to_owned(),
                path: new.path.to_owned(),
                draw: Draw::Response {
                    status: status.to_owned(),
                    content_type: None,
                },
                place: Place::ContentType,
            };
            self.record.push(Difference {
                rule: "response-body-removed",
                side: Side::Responses,
                pointer: format!("{}/content", old_part.pointer),
                detail: format!("{status}, with a body in the released version"),
                plan: Some(plan),
                no_plan: "",
            });
            return;
        }
        for content_type in old_content.keys() {
            if new_content.contains_key(content_type) {
                continue;
            }
            let pointer = at(old_part, content_type);
            let detail = format!("{}, in the released version", detail(content_type));
            match status {
                Some(_) => self.record.report(
                    "response-content-type-removed",
                    Side::Neither,
                    pointer,
                    detail,
                ),
                None => {
                    let plan = Plan {
                        method: method.to_owned(),
                        path: old.path.to_owned(),
                        draw: Draw::Request {
                            credentials: None,
                            content_type: Some(content_type.clone()),
                            no_body: false,
                        },
                        place: Place::ContentType,
                    };
                    self.record.push(Difference {
                        rule: "request-content-type-removed",
                        side: Side::Requests,
                        pointer,
                        detail,
                        plan: Some(plan),
                        no_plan: "",
                    });
                }
            }
        }
        for (content_type, new_media) in &new_content {
            let pointer = at(new_part, content_type);
            let Some(old_media) = old_content.get(content_type) else {
                match status {
                    None => self.record.report(
                        "request-content-type-added",
                        Side::Neither,
                        pointer,
                        detail(content_type),
                    ),
                    Some(status) => {
                        let plan = Plan {
                            method: method.to_owned(),
                            path: new.path.to_owned(),
                            draw: Draw::Response {
                                status: status.to_owned(),
                                content_type: Some(content_type.clone()),
                            },
                            place: Place::ContentType,
                        };
                        self.record.push(Difference {
                            rule: "response-content-type-added",
                            side: Side::Responses,
                            pointer,
                            detail: detail(content_type),
                            plan: Some(plan),
                            no_plan: "",
                        });
                    }
                }
                continue;
            };
            let (direction, location) = match status {
                None => (
                    Direction::Request,
                    Location::RequestBody {
                        content_type: content_type.clone(),
                    },
                ),
                Some(status) => (
                    Direction::Response,
                    Location::Response {
                        status: status.to_owned(),
                        content_type: content_type.clone(),
                    },
                ),
            };
            let context = Context::new(direction, method, old, new, location);
            let old_media = Located {
                value: old_media,
                pointer: at(old_part, content_type),
            };
            let new_media = Located {
                value: new_media,
                pointer,
            };
            self.schema_at(&context, &old_media, &new_media, "schema", &[]);
            self.record.rest(
                Some(old_media.value),
                Some(new_media.value),
                &new_media.pointer,
                &["schema"],
            );
        }
    }
}

/// The content map of a request body or response, by media type.
pub(super) fn content<'a>(located: &Located<'a>) -> BTreeMap<String, &'a Value> {
    located
        .value
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(content_type, media)| (content_type.clone(), media))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::{found, only, operation};
    use super::*;
    use crate::document::Version;

    fn media(types: &[&str]) -> Value {
        types
            .iter()
            .map(|content_type| {
                (
                    (*content_type).to_owned(),
                    json!({"schema": {"type": "string"}}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    fn takes(types: &[&str]) -> Version {
        operation(json!({
            "requestBody": {"content": media(types)},
            "responses": {"204": {"description": "done"}},
        }))
    }

    fn returns(types: &[&str]) -> Version {
        operation(json!({"responses": {"200": {"description": "it", "content": media(types)}}}))
    }

    const REQUEST: &str = "/paths/~1things/post/requestBody/content/text~1csv";
    const RESPONSE: &str = "/paths/~1things/post/responses/200/content/text~1csv";

    #[test]
    fn a_response_body_removed_breaks_clients_that_read_it() {
        let bodyless = operation(json!({"responses": {"200": {"description": "it"}}}));
        let difference = only(
            &returns(&["application/json", "text/csv"]),
            &bodyless,
            "response-body-removed",
        );
        assert_eq!(
            (difference.side, difference.pointer.as_str()),
            (
                Side::Responses,
                "/paths/~1things/post/responses/200/content"
            )
        );
        let plan = difference.plan.unwrap();
        assert!(matches!(
            plan.draw,
            Draw::Response { ref status, content_type: None } if status == "200"
        ));
        // A body where there was none is a response type added, as before.
        assert_eq!(
            found(&bodyless, &returns(&["application/json"]))
                .into_iter()
                .map(|(rule, side, _)| (rule, side))
                .collect::<Vec<_>>(),
            [("response-content-type-added", Side::Responses)]
        );
    }

    #[test]
    fn a_request_type_removed_breaks_requests_sent_as_it() {
        let difference = only(
            &takes(&["application/json", "text/csv"]),
            &takes(&["application/json"]),
            "request-content-type-removed",
        );
        assert_eq!(
            (difference.side, difference.pointer.as_str()),
            (Side::Requests, REQUEST)
        );
        assert_eq!(difference.detail, "text/csv, in the released version");
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::ContentType);
        assert!(matches!(
            plan.draw,
            Draw::Request { content_type: Some(ref content_type), .. } if content_type == "text/csv"
        ));
        assert_eq!(
            found(
                &takes(&["application/json"]),
                &takes(&["application/json", "text/csv"])
            ),
            [(
                "request-content-type-added",
                Side::Neither,
                REQUEST.to_owned()
            )]
        );
    }

    #[test]
    fn a_response_type_added_breaks_responses_and_one_removed_nothing() {
        let difference = only(
            &returns(&["application/json"]),
            &returns(&["application/json", "text/csv"]),
            "response-content-type-added",
        );
        assert_eq!(
            (difference.side, difference.pointer.as_str()),
            (Side::Responses, RESPONSE)
        );
        assert_eq!(difference.detail, "200 text/csv");
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::ContentType);
        assert!(matches!(
            plan.draw,
            Draw::Response { ref status, content_type: Some(ref content_type) }
                if status == "200" && content_type == "text/csv"
        ));
        assert_eq!(
            found(
                &returns(&["application/json", "text/csv"]),
                &returns(&["application/json"])
            ),
            [(
                "response-content-type-removed",
                Side::Neither,
                RESPONSE.to_owned()
            )]
        );
    }

    #[test]
    fn a_media_type_in_both_has_its_schema_and_the_rest_compared() {
        let old = operation(
            json!({"responses": {"200": {"description": "it", "content": {
                "text/csv": {"schema": {"type": "string"}, "example": "a"},
            }}}}),
        );
        let new = operation(
            json!({"responses": {"200": {"description": "it", "content": {
                "text/csv": {"schema": {"type": "string", "nullable": true}, "example": "b"},
            }}}}),
        );
        assert_eq!(
            found(&old, &new),
            [
                (
                    "nullable-added",
                    Side::Responses,
                    format!("{RESPONSE}/schema/nullable")
                ),
                (
                    "documentation-changed",
                    Side::Neither,
                    format!("{RESPONSE}/example")
                ),
            ]
        );
    }
}
