//! The walk over two versions: operations matched by method and path, their parts by name, each
//! schema compared keyword by keyword in the direction it is used in.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{Map, Value};

use crate::{
    document::{Located, Operation, Version, escape, satisfies, template_names, text},
    findings::{Place, Side},
};

/// A difference before its evidence is looked for.
#[derive(Debug, Clone)]
pub(crate) struct Difference {
    pub rule: &'static str,
    pub side: Side,
    pub pointer: String,
    pub detail: String,
    /// How to draw a witness of a break.
    pub plan: Option<Plan>,
    /// Why there is no plan, for a break that has none.
    pub no_plan: &'static str,
}

/// Where to draw a witness from and what the rejecting version must fault in it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Upper-case method.
    pub method: String,
    /// The path as the drawing version writes it (the released one for requests, the current one
    /// for responses).
    pub path: String,
    pub draw: Draw,
    pub place: Place,
}

impl Draw {
    /// A request of the released operation as its first security requirement's holder sends it.
    fn request() -> Self {
        Self::Request {
            credentials: None,
            content_type: None,
            no_body: false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Draw {
    /// A request of the released version.
    Request {
        /// The scopes to hold, when not the operation's first requirement's.
        credentials: Option<BTreeMap<String, Vec<String>>>,
        /// The body's content type, when not the operation's first.
        content_type: Option<String>,
        /// Send no body at all.
        no_body: bool,
    },
    /// A response of the current version.
    Response {
        status: String,
        content_type: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Direction {
    Request,
    Response,
}

/// What a schema change does to the set of values the schema accepts.
#[derive(Debug, Clone, Copy)]
struct Change {
    /// Some value accepted before is rejected now.
    narrows: bool,
    /// Some value rejected before is accepted now.
    widens: bool,
}

const NARROWS: Change = Change {
    narrows: true,
    widens: false,
};
const WIDENS: Change = Change {
    narrows: false,
    widens: true,
};
const BOTH: Change = Change {
    narrows: true,
    widens: true,
};

/// Where a schema is used.
#[derive(Debug, Clone)]
struct Context {
    direction: Direction,
    method: String,
    old_path: String,
    new_path: String,
    location: Location,
}

impl Context {
    fn new(
        direction: Direction,
        method: &str,
        old: &Operation<'_>,
        new: &Operation<'_>,
        location: Location,
    ) -> Self {
        Self {
            direction,
            method: method.to_owned(),
            old_path: old.path.to_owned(),
            new_path: new.path.to_owned(),
            location,
        }
    }
}

#[derive(Debug, Clone)]
enum Location {
    Parameter(String),
    RequestBody {
        content_type: String,
    },
    Response {
        status: String,
        content_type: String,
    },
    ResponseHeader {
        status: String,
        content_type: Option<String>,
        name: String,
    },
}

/// Keys that only document: their changes break nothing.
const DOCUMENTATION: [&str; 7] = [
    "description",
    "summary",
    "title",
    "example",
    "examples",
    "externalDocs",
    "tags",
];

/// The schema keywords the schema walk compares itself; the rest go to [`Walk::rest`].
const SCHEMA_KEYWORDS: [&str; 18] = [
    "type",
    "nullable",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "enum",
    "pattern",
    "additionalProperties",
    "properties",
    "required",
    "items",
    "default",
];

/// Every difference, in document order.
pub(crate) fn differences(old: &Version, new: &Version) -> Vec<Difference> {
    let mut walk = Walk {
        old,
        new,
        out: Vec::new(),
        seen: HashSet::new(),
        reported: HashSet::new(),
    };
    walk.document();
    walk.out
}

struct Walk<'a> {
    old: &'a Version,
    new: &'a Version,
    out: Vec<Difference>,
    /// Schema pairs already compared in a direction: a shared component is compared once, and a
    /// recursive one ends.
    seen: HashSet<(String, String, Direction)>,
    /// `(rule, side, pointer)` already reported: a component used by many operations is one place.
    reported: HashSet<(&'static str, Side, String)>,
}

impl<'a> Walk<'a> {
    fn push(&mut self, difference: Difference) {
        let key = (difference.rule, difference.side, difference.pointer.clone());
        if self.reported.insert(key) {
            self.out.push(difference);
        }
    }

    fn report(&mut self, rule: &'static str, side: Side, pointer: String, detail: String) {
        self.push(Difference {
            rule,
            side,
            pointer,
            detail,
            plan: None,
            no_plan: "no rule says what this change does, so nothing can be drawn to show it",
        });
    }

    fn document(&mut self) {
        let (old, new) = (self.old.document(), self.new.document());
        let old_version = self.old.version().to_owned();
        let new_version = self.new.version().to_owned();
        if old_version != new_version {
            self.report(
                "version-changed",
                Side::Neither,
                "/info/version".into(),
                format!("{old_version} → {new_version}"),
            );
        }
        self.rest(old.get("info"), new.get("info"), "/info", &["version"]);
        self.rest(
            Some(old),
            Some(new),
            "",
            &["info", "paths", "components", "security"],
        );
        self.rest(
            old.get("components"),
            new.get("components"),
            "/components",
            &[
                "schemas",
                "responses",
                "parameters",
                "requestBodies",
                "headers",
                "examples",
            ],
        );
        self.operations();
        let names = |document: &'a Value| -> BTreeSet<&'a String> {
            document
                .pointer("/components/schemas")
                .and_then(Value::as_object)
                .map(|schemas| schemas.keys().collect())
                .unwrap_or_default()
        };
        let (old_names, new_names) = (names(old), names(new));
        for name in new_names.difference(&old_names) {
            self.report(
                "schema-added",
                Side::Neither,
                format!("/components/schemas/{}", escape(name)),
                String::new(),
            );
        }
        for name in old_names.difference(&new_names) {
            self.report(
                "schema-removed",
                Side::Neither,
                format!("/components/schemas/{}", escape(name)),
                "in the released version".into(),
            );
        }
    }

    fn operations(&mut self) {
        let old_operations = self.old.operations();
        let new_operations = self.new.operations();
        let mut item_pairs = BTreeMap::new();
        for (key, old) in &old_operations {
            match new_operations.get(key) {
                None => {
                    let plan = Plan {
                        method: old.method.to_uppercase(),
                        path: old.path.to_owned(),
                        draw: Draw::request(),
                        place: Place::Operation,
                    };
                    self.push(Difference {
                        rule: "operation-removed",
                        side: Side::Requests,
                        pointer: old.pointer.clone(),
                        detail: format!("{} {}, in the released version", key.0, old.path),
                        plan: Some(plan),
                        no_plan: "",
                    });
                }
                Some(new) => {
                    if old.path != new.path && !item_pairs.contains_key(old.path) {
                        self.report(
                            "path-parameter-renamed",
                            Side::Neither,
                            format!("/paths/{}", escape(new.path)),
                            format!("{} → {}", old.path, new.path),
                        );
                    }
                    item_pairs.insert(old.path, new.path);
                    self.operation(old, new);
                }
            }
        }
        for (key, new) in &new_operations {
            if !old_operations.contains_key(key) {
                self.report(
                    "operation-added",
                    Side::Neither,
                    new.pointer.clone(),
                    format!("{} {}", key.0, new.path),
                );
            }
        }
        let mut handled: Vec<&str> = crate::document::METHODS.to_vec();
        handled.push("parameters");
        for (old_path, new_path) in item_pairs {
            let old = self
                .old
                .document()
                .pointer(&format!("/paths/{}", escape(old_path)));
            let new = self
                .new
                .document()
                .pointer(&format!("/paths/{}", escape(new_path)));
            self.rest(old, new, &format!("/paths/{}", escape(new_path)), &handled);
        }
    }

    fn operation(&mut self, old: &Operation<'_>, new: &Operation<'_>) {
        let method = old.method.to_uppercase();
        if text(&Value::Object(old.object.clone()), "operationId")
            != text(&Value::Object(new.object.clone()), "operationId")
        {
            self.report(
                "operation-id-changed",
                Side::Neither,
                format!("{}/operationId", new.pointer),
                String::new(),
            );
        }
        self.security(old, new, &method);
        self.parameters(old, new, &method);
        self.request_body(old, new, &method);
        self.responses(old, new, &method);
        self.rest(
            Some(&Value::Object(old.object.clone())),
            Some(&Value::Object(new.object.clone())),
            &new.pointer,
            &[
                "operationId",
                "security",
                "parameters",
                "requestBody",
                "responses",
            ],
        );
    }

    fn security(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
        if old.security == new.security {
            return;
        }
        let pointer = format!("{}/security", new.pointer);
        match old
            .security
            .iter()
            .find(|requirement| !satisfies(&new.security, requirement))
        {
            Some(lost) => {
                let plan = Plan {
                    method: method.to_owned(),
                    path: old.path.to_owned(),
                    draw: Draw::Request {
                        credentials: Some(lost.clone()),
                        content_type: None,
                        no_body: false,
                    },
                    place: Place::Credentials,
                };
                self.push(Difference {
                    rule: "security-scope-added",
                    side: Side::Requests,
                    pointer,
                    detail: format!("{lost:?} no longer suffices"),
                    plan: Some(plan),
                    no_plan: "",
                });
            }
            None => self.report(
                "security-scope-removed",
                Side::Neither,
                pointer,
                String::new(),
            ),
        }
    }

    fn request_plan(&self, old: &Operation<'_>, method: &str, place: Place) -> Plan {
        Plan {
            method: method.to_owned(),
            path: old.path.to_owned(),
            draw: Draw::request(),
            place,
        }
    }

    fn parameters(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
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
                    self.push(Difference {
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
                        plan: breaks.then(|| self.request_plan(old, method, place)),
                        no_plan: "",
                    });
                }
                Some(old_parameter) => {
                    let pointer = format!("{}/required", new_parameter.pointer);
                    match (required(old_parameter), required(new_parameter)) {
                        (false, true) => self.push(Difference {
                            rule: "parameter-became-required",
                            side: Side::Requests,
                            pointer,
                            detail: format!("{} {}", key.0, key.1),
                            plan: Some(self.request_plan(old, method, place)),
                            no_plan: "",
                        }),
                        (true, false) => self.report(
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
                    self.rest(
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
                self.report(
                    "parameter-removed",
                    Side::Neither,
                    old_parameter.pointer.clone(),
                    format!("{} {}, in the released version", key.0, key.1),
                );
            }
        }
    }

    fn request_body(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
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
                self.push(Difference {
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
            (Some(body), None) => self.report(
                "request-body-removed",
                Side::Neither,
                body.pointer.clone(),
                "in the released version".into(),
            ),
            (Some(old_body), Some(new_body)) => {
                let pointer = format!("{}/required", new_body.pointer);
                match (required(old_body), required(new_body)) {
                    (false, true) => self.push(Difference {
                        rule: "request-body-became-required",
                        side: Side::Requests,
                        pointer,
                        detail: String::new(),
                        plan: Some(no_body_plan(Place::Body(Vec::new()))),
                        no_plan: "",
                    }),
                    (true, false) => self.report(
                        "request-body-became-optional",
                        Side::Neither,
                        pointer,
                        String::new(),
                    ),
                    _ => {}
                }
                self.contents(old_body, new_body, None, old, new, method);
                self.rest(
                    Some(old_body.value),
                    Some(new_body.value),
                    &new_body.pointer,
                    &["required", "content"],
                );
            }
        }
    }

    fn responses(&mut self, old: &Operation<'_>, new: &Operation<'_>, method: &str) {
        for (status, new_response) in &new.responses {
            let Some(old_response) = old.responses.get(status) else {
                let unreachable = new_response.value.pointer("/x-contract/reachable")
                    == Some(&Value::Bool(false));
                let content_type = content(new_response).keys().next().cloned();
                // The operation's own place: a shared response component is added to each
                // operation that names it.
                let pointer = format!("{}/responses/{}", new.pointer, escape(status));
                self.push(Difference {
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
                self.report(
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
            self.report(
                "links-changed",
                Side::Neither,
                format!("{}/links", new_response.pointer),
                String::new(),
            );
        }
        self.rest(
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
                None => self.report(
                    "response-header-added",
                    Side::Neither,
                    header.pointer.clone(),
                    name.clone(),
                ),
                Some(old_header) => {
                    if required(old_header) && !required(header) {
                        self.push(Difference {
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
                    self.rest(
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
                self.push(Difference {
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

    /// Compares the `content` of two parts: a request body (`status` `None`) or the response
    /// `status`. A media type in one only is `<request|response>-content-type-<added|removed>`,
    /// breaking when a client may meet a type it does not know (a request type removed, a
    /// response type added); the schemas of the types in both are compared in the part's
    /// direction.
    fn contents(
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
        for content_type in old_content.keys() {
            if new_content.contains_key(content_type) {
                continue;
            }
            let pointer = at(old_part, content_type);
            let detail = format!("{}, in the released version", detail(content_type));
            match status {
                Some(_) => self.report(
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
                    self.push(Difference {
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
                    None => self.report(
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
                        self.push(Difference {
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
            self.rest(
                Some(old_media.value),
                Some(new_media.value),
                &new_media.pointer,
                &["schema"],
            );
        }
    }

    /// Compares `key` (a schema) of two objects.
    fn schema_at(
        &mut self,
        context: &Context,
        old: &Located<'_>,
        new: &Located<'_>,
        key: &str,
        path: &[String],
    ) {
        match (old.value.get(key), new.value.get(key)) {
            (Some(old_schema), Some(new_schema)) => {
                let old_schema = self
                    .old
                    .resolve(old_schema, format!("{}/{}", old.pointer, escape(key)));
                let new_schema = self
                    .new
                    .resolve(new_schema, format!("{}/{}", new.pointer, escape(key)));
                self.schema(context, &old_schema, &new_schema, path);
            }
            (None, None) => {}
            // A schema appearing or going is a change of everything it says.
            (old_schema, _) => {
                let change = if old_schema.is_none() {
                    NARROWS
                } else {
                    WIDENS
                };
                self.schema_change(
                    context,
                    "schema-changed",
                    change,
                    format!("{}/{}", new.pointer, escape(key)),
                    if old_schema.is_none() {
                        "a schema where there was none".into()
                    } else {
                        "no schema where there was one".into()
                    },
                    path,
                );
            }
        }
    }

    fn schema_change(
        &mut self,
        context: &Context,
        rule: &'static str,
        change: Change,
        pointer: String,
        detail: String,
        path: &[String],
    ) {
        let side = match context.direction {
            Direction::Request if change.narrows => Side::Requests,
            Direction::Response if change.widens => Side::Responses,
            _ => Side::Neither,
        };
        let place = match &context.location {
            Location::Parameter(name) => Place::Parameter(name.clone()),
            Location::ResponseHeader { name, .. } => Place::Header(name.clone()),
            _ => Place::Body(path.to_vec()),
        };
        let plan = side.breaks().then(|| match &context.location {
            Location::Parameter(_) => Plan {
                method: context.method.clone(),
                path: context.old_path.clone(),
                draw: Draw::request(),
                place,
            },
            Location::RequestBody { content_type } => Plan {
                method: context.method.clone(),
                path: context.old_path.clone(),
                draw: Draw::Request {
                    credentials: None,
                    content_type: Some(content_type.clone()),
                    no_body: false,
                },
                place,
            },
            Location::Response {
                status,
                content_type,
            } => Plan {
                method: context.method.clone(),
                path: context.new_path.clone(),
                draw: Draw::Response {
                    status: status.clone(),
                    content_type: Some(content_type.clone()),
                },
                place,
            },
            Location::ResponseHeader {
                status,
                content_type,
                ..
            } => Plan {
                method: context.method.clone(),
                path: context.new_path.clone(),
                draw: Draw::Response {
                    status: status.clone(),
                    content_type: content_type.clone(),
                },
                place,
            },
        });
        self.push(Difference {
            rule,
            side,
            pointer,
            detail,
            plan,
            no_plan: "",
        });
    }

    fn schema(&mut self, context: &Context, old: &Located<'_>, new: &Located<'_>, path: &[String]) {
        if !self
            .seen
            .insert((old.pointer.clone(), new.pointer.clone(), context.direction))
        {
            return;
        }
        let (Some(old_object), Some(new_object)) = (old.value.as_object(), new.value.as_object())
        else {
            if old.value != new.value {
                self.schema_change(
                    context,
                    "unclassified",
                    BOTH,
                    new.pointer.clone(),
                    "a schema that is not an object".into(),
                    path,
                );
            }
            return;
        };
        let at = |key: &str| format!("{}/{key}", new.pointer);
        self.types(context, old_object, new_object, &at("type"), path);
        let nullable =
            |object: &Map<String, Value>| object.get("nullable") == Some(&Value::Bool(true));
        match (nullable(old_object), nullable(new_object)) {
            (false, true) => self.schema_change(
                context,
                "nullable-added",
                WIDENS,
                at("nullable"),
                String::new(),
                path,
            ),
            (true, false) => self.schema_change(
                context,
                "nullable-removed",
                NARROWS,
                at("nullable"),
                String::new(),
                path,
            ),
            _ => {}
        }
        self.format(context, old_object, new_object, &at("format"), path);
        for (keyword, exclusive, lower, rule) in [
            ("minimum", "exclusiveMinimum", true, "minimum"),
            ("maximum", "exclusiveMaximum", false, "maximum"),
            ("minLength", "", true, "min-length"),
            ("maxLength", "", false, "max-length"),
            ("minItems", "", true, "min-items"),
            ("maxItems", "", false, "max-items"),
        ] {
            self.bound(
                context,
                old_object,
                new_object,
                (keyword, exclusive, lower, rule),
                &at(keyword),
                path,
            );
        }
        self.enumeration(context, old_object, new_object, &at("enum"), path);
        match (old_object.get("pattern"), new_object.get("pattern")) {
            (None, Some(pattern)) => self.schema_change(
                context,
                "pattern-added",
                NARROWS,
                at("pattern"),
                pattern.to_string(),
                path,
            ),
            (Some(pattern), None) => self.schema_change(
                context,
                "pattern-removed",
                WIDENS,
                at("pattern"),
                pattern.to_string(),
                path,
            ),
            (Some(old_pattern), Some(new_pattern)) if old_pattern != new_pattern => self
                .schema_change(
                    context,
                    "pattern-changed",
                    BOTH,
                    at("pattern"),
                    format!("{old_pattern} → {new_pattern}"),
                    path,
                ),
            _ => {}
        }
        if old_object.get("default") != new_object.get("default") {
            self.report(
                "default-changed",
                Side::Neither,
                at("default"),
                String::new(),
            );
        }
        self.properties(context, old, new, path);
        let mut items = path.to_vec();
        items.push("*".into());
        self.schema_at(context, old, new, "items", &items);
        self.additional_properties(context, old, new, &items);
        self.rest(
            Some(old.value),
            Some(new.value),
            &new.pointer,
            &SCHEMA_KEYWORDS,
        );
    }

    fn types(
        &mut self,
        context: &Context,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        pointer: &str,
        path: &[String],
    ) {
        let (old_type, new_type) = (old.get("type"), new.get("type"));
        if old_type == new_type {
            return;
        }
        // No `type` accepts every type.
        let covers = |types: Option<&Value>, ty: &str| match types.and_then(Value::as_str) {
            None => true,
            Some(held) => held == ty || (ty == "integer" && held == "number"),
        };
        let name =
            |types: Option<&Value>| types.and_then(Value::as_str).unwrap_or("any").to_owned();
        let all = ["string", "number", "integer", "boolean", "array", "object"];
        let narrows = all
            .iter()
            .any(|ty| covers(old_type, ty) && !covers(new_type, ty));
        let widens = all
            .iter()
            .any(|ty| covers(new_type, ty) && !covers(old_type, ty));
        self.schema_change(
            context,
            "type-changed",
            Change { narrows, widens },
            pointer.to_owned(),
            format!("{} → {}", name(old_type), name(new_type)),
            path,
        );
    }

    fn format(
        &mut self,
        context: &Context,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        pointer: &str,
        path: &[String],
    ) {
        let (old_format, new_format) = (
            old.get("format").and_then(Value::as_str),
            new.get("format").and_then(Value::as_str),
        );
        // Formats whose values are a subset of another's.
        let within = |small: &str, large: &str| {
            matches!((small, large), ("int32", "int64") | ("float", "double"))
        };
        let (rule, change) = match (old_format, new_format) {
            (Some(old_format), Some(new_format)) if old_format == new_format => return,
            (None, None) => return,
            (None, Some(_)) => ("format-added", NARROWS),
            (Some(_), None) => ("format-removed", WIDENS),
            (Some(old_format), Some(new_format)) if within(old_format, new_format) => {
                ("format-changed", WIDENS)
            }
            (Some(old_format), Some(new_format)) if within(new_format, old_format) => {
                ("format-changed", NARROWS)
            }
            _ => ("format-changed", BOTH),
        };
        self.schema_change(
            context,
            rule,
            change,
            pointer.to_owned(),
            format!(
                "{} → {}",
                old_format.unwrap_or("none"),
                new_format.unwrap_or("none")
            ),
            path,
        );
    }

    fn bound(
        &mut self,
        context: &Context,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        (keyword, exclusive, lower, rule): (&str, &str, bool, &str),
        pointer: &str,
        path: &[String],
    ) {
        // (value, exclusive); `None` is no bound.
        let read = |object: &Map<String, Value>| {
            let value = object.get(keyword).and_then(Value::as_f64)?;
            Some((value, object.get(exclusive) == Some(&Value::Bool(true))))
        };
        let (old_bound, new_bound) = (read(old), read(new));
        if old_bound == new_bound {
            return;
        }
        // Whether bound `a` lets through less than bound `b`.
        let tighter = |a: Option<(f64, bool)>, b: Option<(f64, bool)>| match (a, b) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some((a, a_exclusive)), Some((b, b_exclusive))) => {
                let stricter = if lower { a > b } else { a < b };
                stricter || (a == b && a_exclusive && !b_exclusive)
            }
        };
        let tightened = tighter(new_bound, old_bound);
        let show = |bound: Option<(f64, bool)>| match bound {
            None => "none".to_owned(),
            Some((value, true)) => format!("{value} exclusive"),
            Some((value, false)) => value.to_string(),
        };
        let rule: &'static str = match (rule, tightened) {
            ("minimum", true) => "minimum-tightened",
            ("minimum", false) => "minimum-loosened",
            ("maximum", true) => "maximum-tightened",
            ("maximum", false) => "maximum-loosened",
            ("min-length", true) => "min-length-tightened",
            ("min-length", false) => "min-length-loosened",
            ("max-length", true) => "max-length-tightened",
            ("max-length", false) => "max-length-loosened",
            ("min-items", true) => "min-items-tightened",
            ("min-items", false) => "min-items-loosened",
            ("max-items", true) => "max-items-tightened",
            _ => "max-items-loosened",
        };
        self.schema_change(
            context,
            rule,
            if tightened { NARROWS } else { WIDENS },
            pointer.to_owned(),
            format!("{} → {}", show(old_bound), show(new_bound)),
            path,
        );
    }

    fn enumeration(
        &mut self,
        context: &Context,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        pointer: &str,
        path: &[String],
    ) {
        let values = |object: &Map<String, Value>| {
            object
                .get("enum")
                .and_then(Value::as_array)
                .map(|values| values.iter().map(Value::to_string).collect::<BTreeSet<_>>())
        };
        match (values(old), values(new)) {
            (None, None) => {}
            (None, Some(_)) => self.schema_change(
                context,
                "enum-added",
                NARROWS,
                pointer.to_owned(),
                String::new(),
                path,
            ),
            (Some(_), None) => self.schema_change(
                context,
                "enum-removed",
                WIDENS,
                pointer.to_owned(),
                String::new(),
                path,
            ),
            (Some(old_values), Some(new_values)) => {
                let removed: Vec<&String> = old_values.difference(&new_values).collect();
                let added: Vec<&String> = new_values.difference(&old_values).collect();
                if !removed.is_empty() {
                    self.schema_change(
                        context,
                        "enum-value-removed",
                        NARROWS,
                        pointer.to_owned(),
                        join(&removed),
                        path,
                    );
                }
                if !added.is_empty() {
                    self.schema_change(
                        context,
                        "enum-value-added",
                        WIDENS,
                        pointer.to_owned(),
                        join(&added),
                        path,
                    );
                }
            }
        }
    }

    fn properties(
        &mut self,
        context: &Context,
        old: &Located<'_>,
        new: &Located<'_>,
        path: &[String],
    ) {
        let properties = |schema: &Located<'_>| -> Map<String, Value> {
            schema
                .value
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let required = |schema: &Located<'_>| -> BTreeSet<String> {
            schema
                .value
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect()
        };
        let closed = |schema: &Located<'_>| {
            schema.value.get("additionalProperties") == Some(&Value::Bool(false))
        };
        let (old_properties, new_properties) = (properties(old), properties(new));
        let (old_required, new_required) = (required(old), required(new));
        let at = |schema: &Located<'_>, name: &str| {
            format!("{}/properties/{}", schema.pointer, escape(name))
        };
        for name in new_properties.keys() {
            let mut inner = path.to_vec();
            inner.push(name.clone());
            if !old_properties.contains_key(name) {
                let change = Change {
                    narrows: new_required.contains(name),
                    widens: closed(old),
                };
                let detail = if new_required.contains(name) {
                    "required"
                } else {
                    "optional"
                };
                self.schema_change(
                    context,
                    "property-added",
                    change,
                    at(new, name),
                    detail.into(),
                    &inner,
                );
                continue;
            }
            match (old_required.contains(name), new_required.contains(name)) {
                (false, true) => self.schema_change(
                    context,
                    "property-became-required",
                    NARROWS,
                    at(new, name),
                    String::new(),
                    &inner,
                ),
                (true, false) => self.schema_change(
                    context,
                    "property-became-optional",
                    WIDENS,
                    at(new, name),
                    String::new(),
                    &inner,
                ),
                _ => {}
            }
            let old_schema = self.old.resolve(
                old.value
                    .pointer(&format!("/properties/{}", escape(name)))
                    .unwrap_or(&Value::Null),
                at(old, name),
            );
            let new_schema = self.new.resolve(
                new.value
                    .pointer(&format!("/properties/{}", escape(name)))
                    .unwrap_or(&Value::Null),
                at(new, name),
            );
            self.schema(context, &old_schema, &new_schema, &inner);
        }
        for name in old_properties.keys() {
            if !new_properties.contains_key(name) {
                let mut inner = path.to_vec();
                inner.push(name.clone());
                let change = Change {
                    narrows: closed(new),
                    widens: old_required.contains(name),
                };
                self.schema_change(
                    context,
                    "property-removed",
                    change,
                    at(old, name),
                    "in the released version".into(),
                    &inner,
                );
            }
        }
        // A required name with no property schema still makes a property required.
        let unnamed = [
            (
                &new_required,
                &old_required,
                &new_properties,
                "property-became-required",
                NARROWS,
            ),
            (
                &old_required,
                &new_required,
                &old_properties,
                "property-became-optional",
                WIDENS,
            ),
        ];
        for (required, other, properties, rule, change) in unnamed {
            for name in required.difference(other) {
                if !properties.contains_key(name) {
                    let mut inner = path.to_vec();
                    inner.push(name.clone());
                    let pointer = format!("{}/required", new.pointer);
                    self.schema_change(context, rule, change, pointer, name.clone(), &inner);
                }
            }
        }
    }

    fn additional_properties(
        &mut self,
        context: &Context,
        old: &Located<'_>,
        new: &Located<'_>,
        path: &[String],
    ) {
        let (old_value, new_value) = (
            old.value.get("additionalProperties"),
            new.value.get("additionalProperties"),
        );
        if old_value == new_value {
            return;
        }
        let pointer = format!("{}/additionalProperties", new.pointer);
        // Absent and `true` allow any property; `false` none; a schema those it accepts.
        let open = |value: Option<&Value>| match value {
            None | Some(Value::Bool(true)) => Some(true),
            Some(Value::Bool(false)) => Some(false),
            _ => None,
        };
        match (open(old_value), open(new_value)) {
            (Some(true), Some(true)) | (Some(false), Some(false)) => {}
            (Some(_), Some(false)) | (None, Some(false)) => self.schema_change(
                context,
                "additional-properties-restricted",
                NARROWS,
                pointer,
                String::new(),
                path,
            ),
            (Some(false), _) | (None, Some(true)) => self.schema_change(
                context,
                "additional-properties-allowed",
                WIDENS,
                pointer,
                String::new(),
                path,
            ),
            (Some(true), None) => self.schema_change(
                context,
                "additional-properties-restricted",
                NARROWS,
                pointer,
                String::new(),
                path,
            ),
            (None, None) => self.schema_at(context, old, new, "additionalProperties", path),
        }
    }

    /// The keys of two objects that no rule above handled: documentation and extensions break
    /// nothing; an object is compared key by key; any other difference is unclassified.
    fn rest(&mut self, old: Option<&Value>, new: Option<&Value>, pointer: &str, handled: &[&str]) {
        let (old, new) = match (old, new) {
            (Some(Value::Object(old)), Some(Value::Object(new))) => (old, new),
            (old, new) => {
                if old != new {
                    self.report(
                        "unclassified",
                        Side::Unclassified,
                        pointer.to_owned(),
                        String::new(),
                    );
                }
                return;
            }
        };
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for key in keys {
            if handled.contains(&key.as_str()) {
                continue;
            }
            let (old_value, new_value) = (old.get(key), new.get(key));
            if old_value == new_value {
                continue;
            }
            let at = format!("{pointer}/{}", escape(key));
            if DOCUMENTATION.contains(&key.as_str()) {
                self.report("documentation-changed", Side::Neither, at, String::new());
            } else if key.starts_with("x-") {
                self.report("extension-changed", Side::Neither, at, String::new());
            } else if old_value.is_some_and(Value::is_object)
                && new_value.is_some_and(Value::is_object)
            {
                self.rest(old_value, new_value, &at, &[]);
            } else {
                self.report("unclassified", Side::Unclassified, at, String::new());
            }
        }
    }
}

/// The content map of a request body or response, by media type.
fn content<'a>(located: &Located<'a>) -> BTreeMap<String, &'a Value> {
    located
        .value
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(content_type, media)| (content_type.clone(), media))
        .collect()
}

fn join(values: &[&String]) -> String {
    values
        .iter()
        .map(|value| value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
