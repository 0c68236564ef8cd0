//! The walk over two versions: operations matched by method and path, their parts by name, each
//! schema compared keyword by keyword in the direction it is used in. This module starts it at
//! the document's root (its version, info and components); each part it reaches is compared by
//! a module of its own, and [`rules`] and [`usage`] decide what a schema change breaks.

mod content;
mod difference;
mod leftovers;
mod operations;
mod record;
mod request;
mod responses;
mod rules;
mod schema;
mod usage;
mod walk;

use std::collections::BTreeSet;

use serde_json::Value;

pub(crate) use self::difference::{Difference, Draw, Plan};
use self::walk::Walk;
use crate::{
    document::{Version, escape},
    findings::Side,
};

/// Every difference, in document order.
pub(crate) fn differences(old: &Version, new: &Version) -> Vec<Difference> {
    let mut walk = Walk::new(old, new);
    walk.document();
    walk.record.into_differences()
}

impl<'a> Walk<'a> {
    fn document(&mut self) {
        let (old, new) = (self.old.document(), self.new.document());
        let old_version = self.old.version().to_owned();
        let new_version = self.new.version().to_owned();
        if old_version != new_version {
            self.record.report(
                "version-changed",
                Side::Neither,
                "/info/version".into(),
                format!("{old_version} → {new_version}"),
            );
        }
        self.record
            .rest(old.get("info"), new.get("info"), "/info", &["version"]);
        self.record.rest(
            Some(old),
            Some(new),
            "",
            &["info", "paths", "components", "security"],
        );
        self.record.rest(
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
                "securitySchemes",
            ],
        );
        self.security_schemes(old, new);
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
            self.record.report(
                "schema-added",
                Side::Neither,
                format!("/components/schemas/{}", escape(name)),
                String::new(),
            );
        }
        for name in old_names.difference(&new_names) {
            self.record.report(
                "schema-removed",
                Side::Neither,
                format!("/components/schemas/{}", escape(name)),
                "in the released version".into(),
            );
        }
    }

    /// A security scheme added or removed changes no request by itself (the operations'
    /// requirements, compared with the operations, say who may call what); a scheme that stays
    /// is compared key by key, so that a change to it no rule knows is unclassified.
    fn security_schemes(&mut self, old: &'a Value, new: &'a Value) {
        let schemes = |document: &'a Value| {
            document
                .pointer("/components/securitySchemes")
                .and_then(Value::as_object)
        };
        let (old, new) = (schemes(old), schemes(new));
        let names: BTreeSet<&String> = old
            .iter()
            .chain(new.iter())
            .flat_map(|schemes| schemes.keys())
            .collect();
        for name in names {
            let pointer = format!("/components/securitySchemes/{}", escape(name));
            let (was, is) = (
                old.and_then(|schemes| schemes.get(name)),
                new.and_then(|schemes| schemes.get(name)),
            );
            match (was, is) {
                (None, Some(_)) => {
                    self.record.report(
                        "security-scheme-added",
                        Side::Neither,
                        pointer,
                        String::new(),
                    );
                }
                (Some(_), None) => self.record.report(
                    "security-scheme-removed",
                    Side::Neither,
                    pointer,
                    "in the released version".into(),
                ),
                (was, is) => self.record.rest(was, is, &pointer, &[]),
            }
        }
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fixtures::{found, version};
    use super::*;

    #[test]
    fn a_version_against_itself_differs_nowhere() {
        let thing = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let paths = json!({"/things/{id}": {"get": {
            "parameters": [{"in": "path", "name": "id", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"},
            }}}},
        }}});
        let released = version(paths.clone(), json!({"Thing": thing.clone()}));
        let current = version(paths, json!({"Thing": thing}));
        assert_eq!(found(&released, &current), []);
    }

    #[test]
    fn the_version_and_the_components_list_break_nothing() {
        let released = version(json!({}), json!({"Old": {"type": "string"}}));
        let mut document = released.document().clone();
        document["info"]["version"] = json!("1.1");
        document["info"]["title"] = json!("More things");
        document["components"]["schemas"] = json!({"New": {"type": "string"}});
        let current = Version::parse(&document.to_string()).unwrap();
        assert_eq!(
            found(&released, &current),
            [
                ("version-changed", Side::Neither, "/info/version".to_owned()),
                (
                    "documentation-changed",
                    Side::Neither,
                    "/info/title".to_owned()
                ),
                (
                    "schema-added",
                    Side::Neither,
                    "/components/schemas/New".to_owned()
                ),
                (
                    "schema-removed",
                    Side::Neither,
                    "/components/schemas/Old".to_owned()
                ),
            ]
        );
        let differences = differences(&released, &current);
        assert_eq!(differences[0].detail, "1.0 → 1.1");
    }

    #[test]
    fn a_change_at_the_root_no_rule_knows_is_unclassified() {
        let released = version(json!({}), json!({}));
        let mut document = released.document().clone();
        document["servers"] = json!([{"url": "https://example.com"}]);
        document["components"]["links"] = json!({"next": {"operationId": "x"}});
        let current = Version::parse(&document.to_string()).unwrap();
        assert_eq!(
            found(&released, &current),
            [
                ("unclassified", Side::Unclassified, "/servers".to_owned()),
                (
                    "unclassified",
                    Side::Unclassified,
                    "/components/links".to_owned()
                ),
            ]
        );
    }

    /// A scheme added or removed breaks no one by itself; one changed in a way no rule knows is
    /// unclassified, and its description is documentation.
    #[test]
    fn security_schemes_added_removed_and_changed() {
        let released = version(json!({}), json!({}));
        let with = |schemes: Value| {
            let mut document = released.document().clone();
            document["components"]["securitySchemes"] = schemes;
            Version::parse(&document.to_string()).unwrap()
        };
        let key = json!({"key": {"type": "apiKey", "in": "header", "name": "X-Key"}});
        assert_eq!(
            found(&released, &with(key.clone())),
            [(
                "security-scheme-added",
                Side::Neither,
                "/components/securitySchemes/key".to_owned()
            )]
        );
        assert_eq!(
            found(&with(key.clone()), &released),
            [(
                "security-scheme-removed",
                Side::Neither,
                "/components/securitySchemes/key".to_owned()
            )]
        );
        let moved =
            json!({"key": {"type": "apiKey", "in": "query", "name": "X-Key", "description": "d"}});
        assert_eq!(
            found(&with(key), &with(moved)),
            [
                (
                    "documentation-changed",
                    Side::Neither,
                    "/components/securitySchemes/key/description".to_owned()
                ),
                (
                    "unclassified",
                    Side::Unclassified,
                    "/components/securitySchemes/key/in".to_owned()
                ),
            ]
        );
    }
}
