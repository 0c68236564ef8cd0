//! The keys of two objects that no rule handles: documentation and `x-` extensions break
//! nothing, objects are compared key by key, and any other difference is unclassified, which
//! counts as breaking.

use std::collections::BTreeSet;

use serde_json::Value;

use super::record::Record;
use crate::{document::escape, findings::Side};

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

impl Record {
    /// Compares what is left of `old` and `new` (at `pointer`) once the `handled` keys, which a
    /// rule has compared, are set aside.
    pub(super) fn rest(
        &mut self,
        old: Option<&Value>,
        new: Option<&Value>,
        pointer: &str,
        handled: &[&str],
    ) {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::kept;
    use super::*;

    fn rest(old: Value, new: Value, handled: &[&str]) -> Vec<(&'static str, Side, String)> {
        let mut record = Record::default();
        record.rest(Some(&old), Some(&new), "/p", handled);
        kept(record.into_differences())
    }

    #[test]
    fn documentation_and_extensions_break_nothing() {
        let old = json!({"description": "a", "example": 1, "x-owner": "a", "tags": ["a"]});
        let new = json!({"description": "b", "example": 2, "x-owner": "b"});
        assert_eq!(
            rest(old, new, &[]),
            [
                (
                    "documentation-changed",
                    Side::Neither,
                    "/p/description".to_owned()
                ),
                (
                    "documentation-changed",
                    Side::Neither,
                    "/p/example".to_owned()
                ),
                ("documentation-changed", Side::Neither, "/p/tags".to_owned()),
                ("extension-changed", Side::Neither, "/p/x-owner".to_owned()),
            ]
        );
    }

    #[test]
    fn an_unknown_key_changed_is_unclassified() {
        assert_eq!(
            rest(
                json!({"deprecated": false}),
                json!({"deprecated": true}),
                &[]
            ),
            [(
                "unclassified",
                Side::Unclassified,
                "/p/deprecated".to_owned()
            )]
        );
        assert_eq!(
            rest(json!({}), json!({"servers": [{"url": "/"}]}), &[]),
            [("unclassified", Side::Unclassified, "/p/servers".to_owned())]
        );
    }

    #[test]
    fn objects_are_compared_key_by_key_with_pointers_escaped() {
        let old = json!({"a/b": {"description": "x", "n": 1}});
        let new = json!({"a/b": {"description": "y", "n": 1}});
        assert_eq!(
            rest(old, new, &[]),
            [(
                "documentation-changed",
                Side::Neither,
                "/p/a~1b/description".to_owned()
            )]
        );
    }

    #[test]
    fn handled_keys_and_equal_values_are_left_alone() {
        let old = json!({"type": "string", "same": [1]});
        let new = json!({"type": "integer", "same": [1]});
        assert_eq!(rest(old, new, &["type"]), []);
    }

    #[test]
    fn a_value_that_is_not_an_object_is_compared_whole() {
        assert_eq!(
            rest(json!(true), json!(false), &[]),
            [("unclassified", Side::Unclassified, "/p".to_owned())]
        );
        assert_eq!(rest(json!([1]), json!([1]), &[]), []);
        let mut record = Record::default();
        record.rest(None, Some(&json!({})), "/p", &[]);
        assert_eq!(record.into_differences().len(), 1);
    }
}
