//! Two schemas used at the same place, compared keyword by keyword and down through their
//! properties, items and additional properties; each change is classified by where the schema
//! is used.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{
    difference::Difference,
    rules::{self, Additional, Change, NARROWS, Rule, WIDENS},
    usage::Context,
    walk::Walk,
};
use crate::{
    document::{Located, escape},
    findings::Side,
};

/// The schema keywords compared here; the rest go to [`super::record::Record::rest`].
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

impl Walk<'_> {
    /// Compares `key` (a schema) of two objects.
    pub(super) fn schema_at(
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
        let (side, plan) = context.classify(change, path);
        self.record.push(Difference {
            rule,
            side,
            pointer,
            detail,
            plan,
            no_plan: "",
        });
    }

    fn keyword(&mut self, context: &Context, rule: Rule, pointer: String, path: &[String]) {
        self.schema_change(context, rule.name, rule.change, pointer, rule.detail, path);
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
                    rules::BOTH,
                    new.pointer.clone(),
                    "a schema that is not an object".into(),
                    path,
                );
            }
            return;
        };
        let at = |key: &str| format!("{}/{key}", new.pointer);
        if let Some(rule) = rules::type_change(old_object, new_object) {
            self.keyword(context, rule, at("type"), path);
        }
        if let Some(rule) = rules::nullable_change(old_object, new_object) {
            self.keyword(context, rule, at("nullable"), path);
        }
        if let Some(rule) = rules::format_change(old_object, new_object) {
            self.keyword(context, rule, at("format"), path);
        }
        for bound in &rules::BOUNDS {
            if let Some(rule) = rules::bound_change(old_object, new_object, bound) {
                self.keyword(context, rule, at(bound.keyword), path);
            }
        }
        for rule in rules::enum_changes(old_object, new_object) {
            self.keyword(context, rule, at("enum"), path);
        }
        if let Some(rule) = rules::pattern_change(old_object, new_object) {
            self.keyword(context, rule, at("pattern"), path);
        }
        if old_object.get("default") != new_object.get("default") {
            self.record.report(
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
        self.record.rest(
            Some(old.value),
            Some(new.value),
            &new.pointer,
            &SCHEMA_KEYWORDS,
        );
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
                let required = new_required.contains(name);
                self.schema_change(
                    context,
                    "property-added",
                    rules::property_added(required, closed(old)),
                    at(new, name),
                    if required { "required" } else { "optional" }.into(),
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
                self.schema_change(
                    context,
                    "property-removed",
                    rules::property_removed(old_required.contains(name), closed(new)),
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
        let key = "additionalProperties";
        match rules::additional_change(old.value.get(key), new.value.get(key)) {
            Additional::Unchanged => {}
            Additional::Changed(rule) => {
                let pointer = format!("{}/{key}", new.pointer);
                self.keyword(context, rule, pointer, path);
            }
            Additional::Schemas => self.schema_at(context, old, new, key, path),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::{
        difference::Draw,
        fixtures::{BODY, RESPONSE, found, only, returns, takes, version},
    };
    use crate::findings::{Place, Side};

    fn object(properties: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": properties, "required": required})
    }

    #[test]
    fn a_property_made_required_breaks_requests_only() {
        let properties = json!({"name": {"type": "string"}});
        let (before, after) = (
            object(properties.clone(), &[]),
            object(properties, &["name"]),
        );
        let pointer = |at: &str| format!("{at}/properties/name");
        assert_eq!(
            found(&takes(before.clone()), &takes(after.clone())),
            [("property-became-required", Side::Requests, pointer(BODY))]
        );
        assert_eq!(
            found(&returns(before.clone()), &returns(after.clone())),
            [("property-became-required", Side::Neither, pointer(RESPONSE))]
        );
        // The other way it widens: a response may now lack it.
        assert_eq!(
            found(&returns(after.clone()), &returns(before.clone())),
            [(
                "property-became-optional",
                Side::Responses,
                pointer(RESPONSE)
            )]
        );
        assert_eq!(
            found(&takes(after), &takes(before)),
            [("property-became-optional", Side::Neither, pointer(BODY))]
        );
    }

    #[test]
    fn a_request_break_in_a_property_is_faulted_at_that_property() {
        let properties = json!({"name": {"type": "string"}});
        let (before, after) = (
            object(properties.clone(), &[]),
            object(properties, &["name"]),
        );
        let difference = only(&takes(before), &takes(after), "property-became-required");
        let plan = difference.plan.unwrap();
        assert_eq!(plan.place, Place::Body(vec!["name".to_owned()]));
        assert_eq!(
            (plan.method.as_str(), plan.path.as_str()),
            ("POST", "/things")
        );
        assert!(matches!(
            plan.draw,
            Draw::Request { content_type: Some(ref content_type), no_body: false, .. }
                if content_type == "application/json"
        ));
    }

    #[test]
    fn an_enum_value_removed_breaks_requests_and_one_added_breaks_responses() {
        let (two, one) = (
            json!({"enum": ["open", "closed"]}),
            json!({"enum": ["open"]}),
        );
        let enum_at = |at: &str| format!("{at}/enum");
        assert_eq!(
            found(&takes(two.clone()), &takes(one.clone())),
            [("enum-value-removed", Side::Requests, enum_at(BODY))]
        );
        assert_eq!(
            found(&returns(two.clone()), &returns(one.clone())),
            [("enum-value-removed", Side::Neither, enum_at(RESPONSE))]
        );
        assert_eq!(
            found(&returns(one.clone()), &returns(two.clone())),
            [("enum-value-added", Side::Responses, enum_at(RESPONSE))]
        );
        assert_eq!(
            found(&takes(one), &takes(two)),
            [("enum-value-added", Side::Neither, enum_at(BODY))]
        );
    }

    #[test]
    fn a_narrowed_type_breaks_requests_and_a_widened_one_responses() {
        let (number, integer) = (json!({"type": "number"}), json!({"type": "integer"}));
        let type_at = |at: &str| format!("{at}/type");
        assert_eq!(
            found(&takes(number.clone()), &takes(integer.clone())),
            [("type-changed", Side::Requests, type_at(BODY))]
        );
        assert_eq!(
            found(&returns(number.clone()), &returns(integer.clone())),
            [("type-changed", Side::Neither, type_at(RESPONSE))]
        );
        assert_eq!(
            found(&returns(integer), &returns(number)),
            [("type-changed", Side::Responses, type_at(RESPONSE))]
        );
    }

    #[test]
    fn a_property_added_breaks_requests_when_required_and_responses_when_the_object_was_closed() {
        let before = json!({"type": "object", "properties": {}, "additionalProperties": false});
        let optional = json!({
            "type": "object",
            "properties": {"note": {"type": "string"}},
            "additionalProperties": false,
        });
        let mut required = optional.clone();
        required["required"] = json!(["note"]);
        let at = |at: &str| format!("{at}/properties/note");
        assert_eq!(
            found(&takes(before.clone()), &takes(required)),
            [("property-added", Side::Requests, at(BODY))]
        );
        assert_eq!(
            found(&takes(before.clone()), &takes(optional.clone())),
            [("property-added", Side::Neither, at(BODY))]
        );
        assert_eq!(
            found(&returns(before), &returns(optional)),
            [("property-added", Side::Responses, at(RESPONSE))]
        );
    }

    #[test]
    fn a_required_response_property_removed_breaks_responses() {
        let before = object(json!({"id": {"type": "string"}}), &["id"]);
        let after = json!({"type": "object", "properties": {}});
        let difference = only(
            &returns(before.clone()),
            &returns(after.clone()),
            "property-removed",
        );
        assert_eq!(difference.side, Side::Responses);
        // Removed: the place is the released document's.
        assert_eq!(difference.pointer, format!("{RESPONSE}/properties/id"));
        assert_eq!(difference.detail, "in the released version");
        assert_eq!(
            only(&takes(before), &takes(after), "property-removed").side,
            Side::Neither
        );
    }

    #[test]
    fn a_required_name_without_a_property_schema_is_reported_at_required() {
        let before = json!({"type": "object"});
        let after = json!({"type": "object", "required": ["ghost"]});
        let difference = only(&takes(before), &takes(after), "property-became-required");
        assert_eq!(difference.side, Side::Requests);
        assert_eq!(difference.pointer, format!("{BODY}/required"));
        assert_eq!(difference.detail, "ghost");
        assert_eq!(
            difference.plan.unwrap().place,
            Place::Body(vec!["ghost".to_owned()])
        );
        // The place is the current document's, wherever the released one kept the schema.
        let body = |schema: Value| {
            json!({"/things": {"post": {
                "requestBody": {"content": {"application/json": {"schema": schema}}},
                "responses": {"204": {"description": "done"}},
            }}})
        };
        let released = takes(json!({"type": "object"}));
        let current = version(
            body(json!({"$ref": "#/components/schemas/Thing"})),
            json!({"Thing": {"type": "object", "required": ["ghost"]}}),
        );
        let difference = only(&released, &current, "property-became-required");
        assert_eq!(difference.pointer, "/components/schemas/Thing/required");
    }

    #[test]
    fn items_and_additional_properties_are_compared_at_any_index_or_key() {
        let list =
            |max: u64| json!({"type": "array", "items": {"type": "string", "maxLength": max}});
        let difference = only(&takes(list(4)), &takes(list(2)), "max-length-tightened");
        assert_eq!(difference.pointer, format!("{BODY}/items/maxLength"));
        assert_eq!(
            difference.plan.unwrap().place,
            Place::Body(vec!["*".to_owned()])
        );
        let map = |ty: &str| json!({"type": "object", "additionalProperties": {"type": ty}});
        let difference = only(
            &returns(map("integer")),
            &returns(map("number")),
            "type-changed",
        );
        assert_eq!(difference.side, Side::Responses);
        assert_eq!(
            difference.pointer,
            format!("{RESPONSE}/additionalProperties/type")
        );
        assert_eq!(
            difference.plan.unwrap().place,
            Place::Body(vec!["*".to_owned()])
        );
    }

    #[test]
    fn a_schema_appearing_narrows_and_one_going_widens() {
        let plain = json!({"type": "array"});
        let typed = json!({"type": "array", "items": {"type": "string"}});
        assert_eq!(
            found(&takes(plain.clone()), &takes(typed.clone())),
            [("schema-changed", Side::Requests, format!("{BODY}/items"))]
        );
        assert_eq!(
            found(&returns(typed), &returns(plain)),
            [(
                "schema-changed",
                Side::Responses,
                format!("{RESPONSE}/items")
            )]
        );
    }

    #[test]
    fn a_default_or_an_unknown_keyword_changed() {
        let before = json!({"type": "integer", "default": 1});
        let after = json!({"type": "integer", "default": 2, "readOnly": true});
        assert_eq!(
            found(&takes(before), &takes(after)),
            [
                ("default-changed", Side::Neither, format!("{BODY}/default")),
                (
                    "unclassified",
                    Side::Unclassified,
                    format!("{BODY}/readOnly")
                ),
            ]
        );
    }

    #[test]
    fn a_component_used_both_ways_is_judged_once_per_direction() {
        let operation = json!({"/things": {"post": {
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"},
            }}},
            "responses": {"200": {"description": "it", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"},
            }}}},
        }}});
        let thing = |values: Value| json!({"Thing": {"type": "string", "enum": values}});
        let released = version(operation.clone(), thing(json!(["a"])));
        let current = version(operation, thing(json!(["a", "b"])));
        let pointer = "/components/schemas/Thing/enum".to_owned();
        assert_eq!(
            found(&released, &current),
            [
                ("enum-value-added", Side::Neither, pointer.clone()),
                ("enum-value-added", Side::Responses, pointer),
            ]
        );
    }

    #[test]
    fn a_recursive_schema_is_walked_once() {
        let node = |ty: &str| {
            json!({"Node": {
                "type": "object",
                "properties": {"name": {"type": ty}, "next": {"$ref": "#/components/schemas/Node"}},
            }})
        };
        let paths = json!({"/things": {"post": {"responses": {"200": {
            "description": "it",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
        }}}}});
        let released = version(paths.clone(), node("integer"));
        let current = version(paths, node("number"));
        assert_eq!(
            found(&released, &current),
            [(
                "type-changed",
                Side::Responses,
                "/components/schemas/Node/properties/name/type".to_owned()
            )]
        );
    }
}
