//! How a labelled violation is judged: the keyword the validator must name for each kind, how
//! far past its bound an out-of-range value may be, and a body's violations compared with its
//! labels.

use serde_json::Value;
use spec_schema::Validator;
use spec_strategies::ViolationKind;

/// A violation as the judges compare it: the property, the value sent and the schema keyword.
pub(crate) type Found = (Option<String>, Option<Value>, String);

/// The keyword a validator names for a violation of `kind`, on a value whose schema is `schema`
/// (`None` for the body as a whole): a value of the wrong type breaks `type`, `anyOf` for a
/// nullable reference (`null` or the referenced schema), or `enum` when the schema lists values
/// without a type.
pub(crate) fn keyword(kind: ViolationKind, schema: Option<&Value>) -> String {
    use ViolationKind::*;

    let has = |key: &str| schema.is_some_and(|schema| schema.get(key).is_some());
    match kind {
        MissingRequired => "required",
        WrongType | NullNotAllowed | NotAnObject if has("anyOf") => "anyOf",
        WrongType | NullNotAllowed | NotAnObject
            if schema.is_none() || has("type") || has("$ref") =>
        {
            "type"
        }
        WrongType | NullNotAllowed | NotAnObject => "enum",
        BelowMinimum => "minimum",
        AboveMaximum => "maximum",
        BadFormat => "format",
        TooLong => "maxLength",
        TooShort => "minLength",
        NotInEnum => "enum",
    }
    .to_owned()
}

/// A value out of bounds is just out, so that a report reads easily: a string at most 8
/// characters too long, an integer at most 1000 past its bound, a number at most a billion (or a
/// billionth of the bound) past it. `sent` is the value, or a parameter's text.
pub(crate) fn assert_near_its_bound(kind: ViolationKind, sent: &Value, schema: &Value) {
    let text = sent
        .as_str()
        .map_or_else(|| sent.to_string(), str::to_owned);
    let (bound, direction) = match kind {
        ViolationKind::TooLong => {
            let past = text.chars().count() as u64 - schema["maxLength"].as_u64().unwrap();
            assert!((1..=8).contains(&past), "{sent} for {schema}");
            return;
        }
        ViolationKind::BelowMinimum => (&schema["minimum"], -1),
        ViolationKind::AboveMaximum => (&schema["maximum"], 1),
        _ => return,
    };
    if schema["type"] == "integer" {
        // A bound may be written as a float (`-5.0`).
        let bound = bound
            .as_i64()
            .map(i128::from)
            .or(bound.as_u64().map(i128::from))
            .unwrap_or_else(|| bound.as_f64().unwrap() as i128);
        let past = (text.parse::<i128>().unwrap() - bound) * direction;
        assert!((1..=1000).contains(&past), "{sent} for {schema}");
    } else {
        let bound = bound.as_f64().unwrap();
        let past = (text.parse::<f64>().unwrap() - bound) * f64::from(direction as i32);
        let limit = 1e9 + bound.abs() * 1e-9;
        assert!(past > 0.0 && past <= limit, "{sent} for {schema}");
    }
}

/// Violations in a stable order: by property, then keyword (the values need not be ordered).
pub(crate) fn sort(violations: &mut [Found]) {
    violations.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
}

/// Checks that `case`'s body breaks the object schema `name` in exactly the labelled ways, and
/// returns the (property, kind) of each.
pub(crate) fn judge_body(
    definitions: &serde_json::Map<String, Value>,
    validator: &Validator,
    name: &str,
    body: &Value,
    violations: &[spec_strategies::Violation],
) -> Vec<Found> {
    let mut found: Vec<Found> = validator
        .violations(body)
        .into_iter()
        .map(|v| (v.property_name(), v.value, v.keyword.into_owned()))
        .collect();
    sort(&mut found);
    let mut labelled: Vec<Found> = violations
        .iter()
        .map(|v| {
            let schema = v
                .property
                .as_ref()
                .map(|property| &definitions[name]["properties"][property]);
            if let (Some(schema), Some(sent)) = (schema, &v.sent) {
                assert_near_its_bound(v.kind, sent, schema);
            }
            (v.property.clone(), v.sent.clone(), keyword(v.kind, schema))
        })
        .collect();
    sort(&mut labelled);
    assert_eq!(found, labelled, "{body}");
    found
}
