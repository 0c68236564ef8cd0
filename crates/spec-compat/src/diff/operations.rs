//! Operations matched across versions by method and path (a path parameter renamed is the same
//! operation): those one version has and the other lacks, and for those both have their
//! operation id, security and parts.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    difference::{Difference, Draw, Plan},
    walk::Walk,
};
use crate::{
    document::{METHODS, Operation, escape, satisfies, text},
    findings::{Place, Side},
};

impl Walk<'_> {
    pub(super) fn operations(&mut self) {
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
                    self.record.push(Difference {
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
                        self.record.report(
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
                self.record.report(
                    "operation-added",
                    Side::Neither,
                    new.pointer.clone(),
                    format!("{} {}", key.0, new.path),
                );
            }
        }
        let mut handled: Vec<&str> = METHODS.to_vec();
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
            self.record
                .rest(old, new, &format!("/paths/{}", escape(new_path)), &handled);
        }
    }

    fn operation(&mut self, old: &Operation<'_>, new: &Operation<'_>) {
        let method = old.method.to_uppercase();
        if text(&Value::Object(old.object.clone()), "operationId")
            != text(&Value::Object(new.object.clone()), "operationId")
        {
            self.record.report(
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
        self.record.rest(
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

    /// A released requirement the current alternatives no longer accept turns its holders away;
    /// any other change of the requirements turns no one away.
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
                self.record.push(Difference {
                    rule: "security-scope-added",
                    side: Side::Requests,
                    pointer,
                    detail: format!("{lost:?} no longer suffices"),
                    plan: Some(plan),
                    no_plan: "",
                });
            }
            // Every requirement kept, and more accepted: an alternative added.
            None if old
                .security
                .iter()
                .all(|requirement| new.security.contains(requirement)) =>
            {
                self.record.report(
                    "security-requirement-added",
                    Side::Neither,
                    pointer,
                    String::new(),
                );
            }
            None => self.record.report(
                "security-scope-removed",
                Side::Neither,
                pointer,
                String::new(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::{found, only, version};
    use super::*;
    use crate::document::Version;

    fn api(operations: Value) -> Version {
        version(json!({"/things": operations}), json!({}))
    }

    fn answered() -> Value {
        json!({"responses": {"204": {"description": "done"}}})
    }

    fn secured(requirements: Value) -> Version {
        let mut operation = answered();
        operation["security"] = requirements;
        api(json!({"get": operation}))
    }

    #[test]
    fn an_operation_removed_breaks_requests_and_one_added_nothing() {
        let (one, two) = (
            api(json!({"get": answered()})),
            api(json!({"get": answered(), "delete": answered()})),
        );
        let removed = only(&two, &one, "operation-removed");
        assert_eq!(
            (removed.side, removed.pointer.as_str()),
            (Side::Requests, "/paths/~1things/delete")
        );
        assert_eq!(removed.detail, "delete /things, in the released version");
        let plan = removed.plan.unwrap();
        assert_eq!(
            (plan.method.as_str(), plan.place),
            ("DELETE", Place::Operation)
        );
        assert_eq!(
            found(&one, &two),
            [(
                "operation-added",
                Side::Neither,
                "/paths/~1things/delete".to_owned()
            )]
        );
    }

    #[test]
    fn an_operation_id_renamed_or_a_path_item_documented_breaks_nothing() {
        let named = |id: &str| {
            let mut operation = answered();
            operation["operationId"] = json!(id);
            api(json!({"get": operation, "summary": id}))
        };
        assert_eq!(
            found(&named("listThings"), &named("getThings")),
            [
                (
                    "operation-id-changed",
                    Side::Neither,
                    "/paths/~1things/get/operationId".to_owned()
                ),
                (
                    "documentation-changed",
                    Side::Neither,
                    "/paths/~1things/summary".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_scope_added_to_a_requirement_breaks_its_holders() {
        let difference = only(
            &secured(json!([{"oauth2": ["read"]}])),
            &secured(json!([{"oauth2": ["read", "admin"]}])),
            "security-scope-added",
        );
        assert_eq!(
            (difference.side, difference.pointer.as_str()),
            (Side::Requests, "/paths/~1things/get/security")
        );
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::Credentials);
        let Draw::Request {
            credentials: Some(credentials),
            ..
        } = plan.draw
        else {
            panic!("{:?}", plan.draw);
        };
        assert_eq!(
            credentials,
            BTreeMap::from([("oauth2".to_owned(), vec!["read".to_owned()])])
        );
    }

    #[test]
    fn a_scope_dropped_or_an_alternative_added_breaks_no_one() {
        let pointer = "/paths/~1things/get/security".to_owned();
        assert_eq!(
            found(
                &secured(json!([{"oauth2": ["read", "admin"]}])),
                &secured(json!([{"oauth2": ["read"]}]))
            ),
            [("security-scope-removed", Side::Neither, pointer.clone())]
        );
        assert_eq!(
            found(
                &secured(json!([{"oauth2": ["admin"]}])),
                &secured(json!([{"oauth2": ["admin"]}, {"key": []}]))
            ),
            [("security-requirement-added", Side::Neither, pointer.clone())]
        );
        assert_eq!(
            found(
                &secured(json!([{"oauth2": ["admin"]}])),
                &secured(json!([]))
            ),
            [("security-scope-removed", Side::Neither, pointer)]
        );
    }
}
