//! Payloads: valid values of every schema validate and reach their boundaries, invalid ones
//! break exactly the labelled properties in every way each allows, and failures shrink small.

use std::collections::BTreeSet;

use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use serde_json::{Value, json};
use spec_schema::Spec;
use spec_strategies::{Strategies, ViolationKind};

use crate::{
    catalogue,
    judge::judge_body,
    kinds::{every_kind, thing_kinds},
    samples, setup, spec,
};

#[test]
fn valid_values_of_every_schema_pass_validation() {
    for spec in [spec(), catalogue()] {
        let definitions = spec.json_schema_definitions().unwrap();
        for name in definitions.keys() {
            let (strategies, validator) = setup(&spec, name);
            for value in samples(strategies.valid(name).unwrap(), 300) {
                assert_eq!(validator.violations(&value), [], "{name}: {value}");
            }
        }
    }
}

/// Every (property, kind) of the invalid cases of `name` in `spec`, each case judged.
fn invalid_kinds(spec: &Spec, name: &str, count: usize) -> BTreeSet<(String, ViolationKind)> {
    let definitions = spec.json_schema_definitions().unwrap();
    let (strategies, validator) = setup(spec, name);
    let mut kinds = BTreeSet::new();
    for case in samples(strategies.invalid(name).unwrap(), count) {
        judge_body(&definitions, &validator, name, &case.body, &case.violations);
        kinds.extend(
            case.violations
                .iter()
                .map(|v| (v.property.clone().unwrap_or_default(), v.kind)),
        );
    }
    kinds
}

#[test]
fn invalid_cases_have_exactly_the_labelled_violations() {
    let kinds: BTreeSet<ViolationKind> = invalid_kinds(&spec(), "CoworkerTimePassCreate", 1000)
        .into_iter()
        .map(|(_, kind)| kind)
        .collect();
    let all: BTreeSet<ViolationKind> = every_kind()
        .into_iter()
        .filter(|k| ![ViolationKind::TooShort, ViolationKind::NotInEnum].contains(k))
        .collect();
    assert_eq!(kinds, all, "every kind the schema allows is produced");
}

/// Over every shape: each property is broken in each way its schema allows and in no other,
/// and the validator finds exactly what the labels say.
#[test]
fn invalid_cases_of_every_shape_break_each_property_in_each_way_it_allows() {
    assert_eq!(invalid_kinds(&catalogue(), "Thing", 3000), thing_kinds());
}

#[test]
fn valid_values_reach_the_boundaries() {
    let (strategies, _) = setup(&spec(), "CoworkerTimePassCreate");
    let values = samples(strategies.valid("CoworkerTimePassCreate").unwrap(), 2000);
    let seen = |key: &str, wanted: &Value| values.iter().any(|v| &v[key] == wanted);
    assert!(seen("CreateMultiple", &json!(1)) && seen("CreateMultiple", &json!(100)));
    assert!(seen("CoworkerId", &json!(1)) && seen("CoworkerId", &json!(9007199254740991i64)));
    assert!(seen("Price", &json!(0.0)) && seen("Price", &json!(1e9)));
    assert!(seen("Notes", &json!("")));
    assert!(values.iter().any(|v| {
        v["Notes"]
            .as_str()
            .is_some_and(|s| s.chars().count() == 2000)
    }));
    assert!(
        values.iter().any(|v| v.get("Used").is_none()),
        "absent optional"
    );
    assert!(
        values.iter().any(|v| v.get("Used") == Some(&Value::Null)),
        "null optional"
    );
    assert!(
        values.iter().any(|v| v["Used"].is_boolean()),
        "present optional"
    );
    assert!(
        values
            .iter()
            .any(|v| v["ExpireDate"].as_str().is_some_and(|s| s.ends_with('Z')))
    );
}

#[test]
fn failing_cases_shrink_to_a_minimal_payload() {
    let (strategies, _) = setup(&spec(), "CoworkerTimePassCreate");
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    // A "server" that rejects any body with a Price: the minimal counterexample is the
    // required fields at their minimum plus the smallest Price.
    let result = runner.run(
        &strategies.valid("CoworkerTimePassCreate").unwrap(),
        |value| {
            prop_assert!(value.get("Price").is_none_or(Value::is_null));
            Ok(())
        },
    );
    let Err(proptest::test_runner::TestError::Fail(_, minimal)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(
        minimal,
        json!({"BusinessId": 1, "CoworkerId": 1, "CreateMultiple": 1, "Price": 0.0, "TimePassId": 1})
    );
}

#[test]
fn unsupported_schemas_are_refused() {
    let definitions = json!({"E": {"type": "string", "pattern": "^a$"}, "O": {"type": "object", "properties": {"P": {"$ref": "#/definitions/E"}}}});
    let strategies = Strategies::new(definitions.as_object().unwrap().clone());
    assert!(
        strategies
            .valid("E")
            .unwrap_err()
            .to_string()
            .contains("`pattern`")
    );
    assert!(
        strategies
            .valid("O")
            .unwrap_err()
            .to_string()
            .contains("O.P")
    );
    assert!(strategies.valid("Nope").is_err());
}

/// Catalogue values reach what each shape allows: the longest unbounded string, whole numbers
/// and two-decimal prices between fractional bounds, both ends of negative and float-written
/// integer bounds.
#[test]
fn valid_values_of_every_shape_reach_their_boundaries() {
    let (strategies, _) = setup(&catalogue(), "Thing");
    let values = samples(strategies.valid("Thing").unwrap(), 2000);
    let seen = |key: &str, wanted: &Value| values.iter().any(|v| &v[key] == wanted);
    assert!(seen("Offset", &json!(-5)) && seen("Offset", &json!(0)));
    assert!(seen("Ratio", &json!(-2.5)) && seen("Ratio", &json!(0.75)));
    assert!(seen("Weight", &json!(5.0)) && seen("Weight", &json!(10.0)));
    let numbers = |key: &'static str| values.iter().filter_map(move |v| v[key].as_f64());
    assert!(
        numbers("Ratio").any(|n| n == -2.0),
        "a whole number within fractional bounds"
    );
    assert!(
        numbers("Ratio").any(|n| n.fract() != 0.0 && (n * 100.0).round() / 100.0 == n && n > -2.5),
        "a two-decimal price within fractional bounds"
    );
    assert!(
        numbers("Weight").any(|n| n.fract() != 0.0 && (n * 100.0).round() / 100.0 == n),
        "a two-decimal price where the bounds are whole"
    );
    let lengths: BTreeSet<usize> = values
        .iter()
        .filter_map(|v| v["Note"].as_str())
        .map(|s| s.chars().count())
        .collect();
    assert!(
        lengths.contains(&0) && lengths.contains(&40),
        "an unbounded string runs from empty to 40 characters: {lengths:?}"
    );
}
