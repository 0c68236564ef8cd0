//! What a change of one schema keyword does to the values the schema accepts: it narrows them (a
//! value accepted before is rejected now), widens them (the reverse), or both. Whom that breaks
//! depends on where the schema is used, which is [`super::usage`]'s to say.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// What a schema change does to the set of values the schema accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Change {
    /// Some value accepted before is rejected now.
    pub narrows: bool,
    /// Some value rejected before is accepted now.
    pub widens: bool,
}

pub(super) const NARROWS: Change = Change {
    narrows: true,
    widens: false,
};
pub(super) const WIDENS: Change = Change {
    narrows: false,
    widens: true,
};
pub(super) const BOTH: Change = Change {
    narrows: true,
    widens: true,
};

/// A keyword's change, named by its rule, with the values before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rule {
    pub name: &'static str,
    pub change: Change,
    pub detail: String,
}

impl Rule {
    fn new(name: &'static str, change: Change, detail: String) -> Self {
        Self {
            name,
            change,
            detail,
        }
    }
}

/// A numeric bound and the rules that name its changes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bound {
    pub keyword: &'static str,
    /// The OpenAPI 3.0 flag that makes it exclusive, if it has one.
    exclusive: &'static str,
    /// Whether it bounds from below.
    lower: bool,
    tightened: &'static str,
    loosened: &'static str,
}

/// Every bound, in the order the walk reports them.
pub(super) const BOUNDS: [Bound; 6] = [
    Bound {
        keyword: "minimum",
        exclusive: "exclusiveMinimum",
        lower: true,
        tightened: "minimum-tightened",
        loosened: "minimum-loosened",
    },
    Bound {
        keyword: "maximum",
        exclusive: "exclusiveMaximum",
        lower: false,
        tightened: "maximum-tightened",
        loosened: "maximum-loosened",
    },
    Bound {
        keyword: "minLength",
        exclusive: "",
        lower: true,
        tightened: "min-length-tightened",
        loosened: "min-length-loosened",
    },
    Bound {
        keyword: "maxLength",
        exclusive: "",
        lower: false,
        tightened: "max-length-tightened",
        loosened: "max-length-loosened",
    },
    Bound {
        keyword: "minItems",
        exclusive: "",
        lower: true,
        tightened: "min-items-tightened",
        loosened: "min-items-loosened",
    },
    Bound {
        keyword: "maxItems",
        exclusive: "",
        lower: false,
        tightened: "max-items-tightened",
        loosened: "max-items-loosened",
    },
];

/// `type`: each type one accepts and the other does not is a narrowing or a widening.
pub(super) fn type_change(old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Rule> {
    let (old_type, new_type) = (old.get("type"), new.get("type"));
    if old_type == new_type {
        return None;
    }
    // No `type` accepts every type.
    let covers = |types: Option<&Value>, ty: &str| match types.and_then(Value::as_str) {
        None => true,
        Some(held) => held == ty || (ty == "integer" && held == "number"),
    };
    let name = |types: Option<&Value>| types.and_then(Value::as_str).unwrap_or("any").to_owned();
    let all = ["string", "number", "integer", "boolean", "array", "object"];
    let narrows = all
        .iter()
        .any(|ty| covers(old_type, ty) && !covers(new_type, ty));
    let widens = all
        .iter()
        .any(|ty| covers(new_type, ty) && !covers(old_type, ty));
    Some(Rule::new(
        "type-changed",
        Change { narrows, widens },
        format!("{} → {}", name(old_type), name(new_type)),
    ))
}

/// `nullable`: only `true` lets `null` through.
pub(super) fn nullable_change(old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Rule> {
    let nullable = |object: &Map<String, Value>| object.get("nullable") == Some(&Value::Bool(true));
    match (nullable(old), nullable(new)) {
        (false, true) => Some(Rule::new("nullable-added", WIDENS, String::new())),
        (true, false) => Some(Rule::new("nullable-removed", NARROWS, String::new())),
        _ => None,
    }
}

/// `format`: a format whose values are a subset of the other's narrows or widens one way only.
pub(super) fn format_change(old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Rule> {
    let (old_format, new_format) = (
        old.get("format").and_then(Value::as_str),
        new.get("format").and_then(Value::as_str),
    );
    let within = |small: &str, large: &str| {
        matches!((small, large), ("int32", "int64") | ("float", "double"))
    };
    let (name, change) = match (old_format, new_format) {
        (Some(old_format), Some(new_format)) if old_format == new_format => return None,
        (None, None) => return None,
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
    let detail = format!(
        "{} → {}",
        old_format.unwrap_or("none"),
        new_format.unwrap_or("none")
    );
    Some(Rule::new(name, change, detail))
}

/// A bound: tightened when it lets through less than before (a bound where there was none, a
/// stricter value, the same value made exclusive), loosened otherwise.
pub(super) fn bound_change(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    bound: &Bound,
) -> Option<Rule> {
    // (value, exclusive); `None` is no bound.
    let read = |object: &Map<String, Value>| {
        let value = object.get(bound.keyword).and_then(Value::as_f64)?;
        Some((
            value,
            object.get(bound.exclusive) == Some(&Value::Bool(true)),
        ))
    };
    let (old_bound, new_bound) = (read(old), read(new));
    if old_bound == new_bound {
        return None;
    }
    // Whether bound `a` lets through less than bound `b`.
    let tighter = |a: Option<(f64, bool)>, b: Option<(f64, bool)>| match (a, b) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some((a, a_exclusive)), Some((b, b_exclusive))) => {
            let stricter = if bound.lower { a > b } else { a < b };
            stricter || (a == b && a_exclusive && !b_exclusive)
        }
    };
    let show = |bound: Option<(f64, bool)>| match bound {
        None => "none".to_owned(),
        Some((value, true)) => format!("{value} exclusive"),
        Some((value, false)) => value.to_string(),
    };
    let detail = format!("{} → {}", show(old_bound), show(new_bound));
    Some(if tighter(new_bound, old_bound) {
        Rule::new(bound.tightened, NARROWS, detail)
    } else {
        Rule::new(bound.loosened, WIDENS, detail)
    })
}

/// `enum`: the keyword itself appearing or going, else the values removed (first) and added,
/// each listed as JSON.
pub(super) fn enum_changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<Rule> {
    let values = |object: &Map<String, Value>| {
        object
            .get("enum")
            .and_then(Value::as_array)
            .map(|values| values.iter().map(Value::to_string).collect::<BTreeSet<_>>())
    };
    match (values(old), values(new)) {
        (None, None) => Vec::new(),
        (None, Some(_)) => vec![Rule::new("enum-added", NARROWS, String::new())],
        (Some(_), None) => vec![Rule::new("enum-removed", WIDENS, String::new())],
        (Some(old_values), Some(new_values)) => {
            let removed: Vec<&String> = old_values.difference(&new_values).collect();
            let added: Vec<&String> = new_values.difference(&old_values).collect();
            let mut rules = Vec::new();
            if !removed.is_empty() {
                rules.push(Rule::new("enum-value-removed", NARROWS, join(&removed)));
            }
            if !added.is_empty() {
                rules.push(Rule::new("enum-value-added", WIDENS, join(&added)));
            }
            rules
        }
    }
}

/// `pattern`: two patterns cannot be compared, so a changed one both narrows and widens.
pub(super) fn pattern_change(old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Rule> {
    match (old.get("pattern"), new.get("pattern")) {
        (None, Some(pattern)) => Some(Rule::new("pattern-added", NARROWS, pattern.to_string())),
        (Some(pattern), None) => Some(Rule::new("pattern-removed", WIDENS, pattern.to_string())),
        (Some(old_pattern), Some(new_pattern)) if old_pattern != new_pattern => Some(Rule::new(
            "pattern-changed",
            BOTH,
            format!("{old_pattern} → {new_pattern}"),
        )),
        _ => None,
    }
}

/// What a change of `additionalProperties` comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Additional {
    /// The same properties are let through.
    Unchanged,
    /// Fewer or more are.
    Changed(Rule),
    /// Two schemas: they are compared as schemas.
    Schemas,
}

/// `additionalProperties`: absent and `true` let any property through, `false` none, a schema
/// those it accepts.
pub(super) fn additional_change(old: Option<&Value>, new: Option<&Value>) -> Additional {
    if old == new {
        return Additional::Unchanged;
    }
    let open = |value: Option<&Value>| match value {
        None | Some(Value::Bool(true)) => Some(true),
        Some(Value::Bool(false)) => Some(false),
        _ => None,
    };
    let restricted = || {
        Additional::Changed(Rule::new(
            "additional-properties-restricted",
            NARROWS,
            String::new(),
        ))
    };
    match (open(old), open(new)) {
        (Some(true), Some(true)) | (Some(false), Some(false)) => Additional::Unchanged,
        (Some(_), Some(false)) | (None, Some(false)) => restricted(),
        (Some(false), _) | (None, Some(true)) => Additional::Changed(Rule::new(
            "additional-properties-allowed",
            WIDENS,
            String::new(),
        )),
        (Some(true), None) => restricted(),
        (None, None) => Additional::Schemas,
    }
}

/// A property added: a required one turns away values without it; a closed object (no
/// additional properties) took no value with it before.
pub(super) fn property_added(required: bool, was_closed: bool) -> Change {
    Change {
        narrows: required,
        widens: was_closed,
    }
}

/// A property removed: a closed object now turns away values with it; a required one may now be
/// missing.
pub(super) fn property_removed(was_required: bool, closed: bool) -> Change {
    Change {
        narrows: closed,
        widens: was_required,
    }
}

fn join(values: &[&String]) -> String {
    values
        .iter()
        .map(|value| value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn rule(name: &'static str, change: Change, detail: &str) -> Rule {
        Rule::new(name, change, detail.to_owned())
    }

    fn bound(keyword: &str) -> &'static Bound {
        BOUNDS
            .iter()
            .find(|bound| bound.keyword == keyword)
            .unwrap()
    }

    #[test]
    fn a_type_widened_to_number_only_widens() {
        let (integer, number) = (
            schema(json!({"type": "integer"})),
            schema(json!({"type": "number"})),
        );
        assert_eq!(
            type_change(&integer, &number),
            Some(rule("type-changed", WIDENS, "integer → number"))
        );
        assert_eq!(
            type_change(&number, &integer),
            Some(rule("type-changed", NARROWS, "number → integer"))
        );
    }

    #[test]
    fn a_type_swapped_for_an_unrelated_one_narrows_and_widens() {
        let (string, integer) = (
            schema(json!({"type": "string"})),
            schema(json!({"type": "integer"})),
        );
        assert_eq!(type_change(&string, &integer).unwrap().change, BOTH);
    }

    #[test]
    fn no_type_accepts_every_type() {
        let (any, string) = (schema(json!({})), schema(json!({"type": "string"})));
        assert_eq!(
            type_change(&string, &any),
            Some(rule("type-changed", WIDENS, "string → any"))
        );
        assert_eq!(
            type_change(&any, &string),
            Some(rule("type-changed", NARROWS, "any → string"))
        );
        assert_eq!(type_change(&string, &string.clone()), None);
    }

    #[test]
    fn only_nullable_true_lets_null_through() {
        let (absent, off, on) = (
            schema(json!({})),
            schema(json!({"nullable": false})),
            schema(json!({"nullable": true})),
        );
        assert_eq!(nullable_change(&absent, &off), None);
        assert_eq!(
            nullable_change(&off, &on),
            Some(rule("nullable-added", WIDENS, ""))
        );
        assert_eq!(
            nullable_change(&on, &absent),
            Some(rule("nullable-removed", NARROWS, ""))
        );
    }

    #[test]
    fn a_format_within_another_changes_one_way() {
        let format = |name: &str| schema(json!({"format": name}));
        assert_eq!(
            format_change(&format("int32"), &format("int64")),
            Some(rule("format-changed", WIDENS, "int32 → int64"))
        );
        assert_eq!(
            format_change(&format("double"), &format("float")),
            Some(rule("format-changed", NARROWS, "double → float"))
        );
        assert_eq!(
            format_change(&format("date"), &format("date-time"))
                .unwrap()
                .change,
            BOTH
        );
        assert_eq!(format_change(&format("uuid"), &format("uuid")), None);
    }

    #[test]
    fn a_format_added_narrows_and_one_removed_widens() {
        let (none, uuid) = (schema(json!({})), schema(json!({"format": "uuid"})));
        assert_eq!(
            format_change(&none, &uuid),
            Some(rule("format-added", NARROWS, "none → uuid"))
        );
        assert_eq!(
            format_change(&uuid, &none),
            Some(rule("format-removed", WIDENS, "uuid → none"))
        );
    }

    #[test]
    fn a_stricter_bound_is_tightened_in_its_own_direction() {
        let value = |keyword: &str, value: u64| schema(json!({ keyword: value }));
        assert_eq!(
            bound_change(
                &value("maximum", 10),
                &value("maximum", 5),
                bound("maximum")
            ),
            Some(rule("maximum-tightened", NARROWS, "10 → 5"))
        );
        assert_eq!(
            bound_change(
                &value("minimum", 10),
                &value("minimum", 5),
                bound("minimum")
            ),
            Some(rule("minimum-loosened", WIDENS, "10 → 5"))
        );
        assert_eq!(
            bound_change(
                &value("minLength", 1),
                &value("minLength", 2),
                bound("minLength")
            ),
            Some(rule("min-length-tightened", NARROWS, "1 → 2"))
        );
        assert_eq!(
            bound_change(
                &value("maxItems", 3),
                &value("maxItems", 4),
                bound("maxItems")
            ),
            Some(rule("max-items-loosened", WIDENS, "3 → 4"))
        );
    }

    #[test]
    fn a_bound_added_tightens_and_one_removed_loosens() {
        let (none, limited) = (schema(json!({})), schema(json!({"maxLength": 8})));
        assert_eq!(
            bound_change(&none, &limited, bound("maxLength")),
            Some(rule("max-length-tightened", NARROWS, "none → 8"))
        );
        assert_eq!(
            bound_change(&limited, &none, bound("maxLength")),
            Some(rule("max-length-loosened", WIDENS, "8 → none"))
        );
    }

    #[test]
    fn the_same_bound_made_exclusive_tightens() {
        let inclusive = schema(json!({"minimum": 5}));
        let exclusive = schema(json!({"minimum": 5, "exclusiveMinimum": true}));
        assert_eq!(
            bound_change(&inclusive, &exclusive, bound("minimum")),
            Some(rule("minimum-tightened", NARROWS, "5 → 5 exclusive"))
        );
        assert_eq!(
            bound_change(&exclusive, &inclusive, bound("minimum")),
            Some(rule("minimum-loosened", WIDENS, "5 exclusive → 5"))
        );
    }

    #[test]
    fn a_bound_is_read_as_a_number() {
        let (integer, float) = (
            schema(json!({"maximum": 5})),
            schema(json!({"maximum": 5.0})),
        );
        assert_eq!(bound_change(&integer, &float, bound("maximum")), None);
    }

    #[test]
    fn enum_values_removed_narrow_and_added_widen() {
        let old = schema(json!({"enum": ["a", "b"]}));
        let new = schema(json!({"enum": ["b", "c", 1]}));
        assert_eq!(
            enum_changes(&old, &new),
            [
                rule("enum-value-removed", NARROWS, "\"a\""),
                rule("enum-value-added", WIDENS, "\"c\", 1"),
            ]
        );
        let reordered = schema(json!({"enum": ["b", "a"]}));
        assert_eq!(enum_changes(&old, &reordered), []);
    }

    #[test]
    fn an_enum_appearing_narrows_and_one_going_widens() {
        let (open, listed) = (schema(json!({})), schema(json!({"enum": ["a"]})));
        assert_eq!(
            enum_changes(&open, &listed),
            [rule("enum-added", NARROWS, "")]
        );
        assert_eq!(
            enum_changes(&listed, &open),
            [rule("enum-removed", WIDENS, "")]
        );
    }

    #[test]
    fn a_changed_pattern_both_narrows_and_widens() {
        let (none, digits, letters) = (
            schema(json!({})),
            schema(json!({"pattern": "^[0-9]+$"})),
            schema(json!({"pattern": "^[a-z]+$"})),
        );
        assert_eq!(
            pattern_change(&none, &digits),
            Some(rule("pattern-added", NARROWS, "\"^[0-9]+$\""))
        );
        assert_eq!(
            pattern_change(&digits, &none),
            Some(rule("pattern-removed", WIDENS, "\"^[0-9]+$\""))
        );
        assert_eq!(pattern_change(&digits, &letters).unwrap().change, BOTH);
        assert_eq!(pattern_change(&digits, &digits.clone()), None);
    }

    #[test]
    fn additional_properties_closed_narrows_and_opened_widens() {
        let (absent, open, closed, typed) = (
            None,
            Some(json!(true)),
            Some(json!(false)),
            Some(json!({"type": "string"})),
        );
        let restricted = Additional::Changed(rule("additional-properties-restricted", NARROWS, ""));
        let allowed = Additional::Changed(rule("additional-properties-allowed", WIDENS, ""));
        assert_eq!(
            additional_change(absent, open.as_ref()),
            Additional::Unchanged
        );
        assert_eq!(additional_change(absent, closed.as_ref()), restricted);
        assert_eq!(additional_change(open.as_ref(), typed.as_ref()), restricted);
        assert_eq!(
            additional_change(typed.as_ref(), closed.as_ref()),
            restricted
        );
        assert_eq!(additional_change(closed.as_ref(), typed.as_ref()), allowed);
        assert_eq!(additional_change(closed.as_ref(), absent), allowed);
        assert_eq!(additional_change(typed.as_ref(), open.as_ref()), allowed);
        let other = Some(json!({"type": "integer"}));
        assert_eq!(
            additional_change(typed.as_ref(), other.as_ref()),
            Additional::Schemas
        );
        assert_eq!(
            additional_change(typed.as_ref(), typed.as_ref()),
            Additional::Unchanged
        );
    }

    #[test]
    fn a_property_narrows_when_required_and_widens_where_closed() {
        assert_eq!(property_added(true, false), NARROWS);
        assert_eq!(property_added(false, true), WIDENS);
        assert_eq!(
            property_added(false, false),
            Change {
                narrows: false,
                widens: false
            }
        );
        assert_eq!(property_removed(true, false), WIDENS);
        assert_eq!(property_removed(false, true), NARROWS);
        assert_eq!(
            property_removed(false, false),
            Change {
                narrows: false,
                widens: false
            }
        );
    }
}
