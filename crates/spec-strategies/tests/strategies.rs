//! The strategies against an independent judge: the JSON Schema validator of `spec-schema`,
//! over every schema of the real spec.

use std::collections::BTreeSet;

use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestRunner},
};
use serde_json::{Value, json};
use spec_schema::{Spec, Validator};
use spec_strategies::{Strategies, ViolationKind};

fn spec() -> Spec {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/nexudus-billing.yaml");
    Spec::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn setup(name: &str) -> (Strategies, Validator) {
    let definitions = spec().json_schema_definitions().unwrap();
    (
        Strategies::new(definitions.clone()),
        Validator::new(definitions, name).unwrap(),
    )
}

fn samples<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, count: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn valid_values_of_every_schema_pass_validation() {
    let definitions = spec().json_schema_definitions().unwrap();
    for name in definitions.keys() {
        let (strategies, validator) = setup(name);
        for value in samples(strategies.valid(name).unwrap(), 300) {
            assert_eq!(validator.violations(&value), [], "{name}: {value}");
        }
    }
}

#[test]
fn invalid_cases_have_exactly_the_labelled_violations() {
    let (strategies, validator) = setup("CoworkerTimePassCreate");
    let mut kinds = BTreeSet::new();
    for case in samples(strategies.invalid("CoworkerTimePassCreate").unwrap(), 1000) {
        let found: Vec<(Option<String>, Option<Value>)> = validator
            .violations(&case.body)
            .into_iter()
            .map(|v| (v.property_name(), v.value))
            .collect();
        let mut labelled: Vec<(Option<String>, Option<Value>)> = case
            .violations
            .iter()
            .map(|v| (v.property.clone(), v.sent.clone()))
            .collect();
        labelled.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(found, labelled, "{}", case.body);
        kinds.extend(case.violations.iter().map(|v| v.kind));
    }
    let all: BTreeSet<ViolationKind> = ViolationKind::ALL
        .into_iter()
        .filter(|k| *k != ViolationKind::TooShort)
        .collect();
    assert_eq!(kinds, all, "every kind the schema allows is produced");
}

#[test]
fn valid_values_reach_the_boundaries() {
    let (strategies, _) = setup("CoworkerTimePassCreate");
    let values = samples(strategies.valid("CoworkerTimePassCreate").unwrap(), 2000);
    let seen = |key: &str, wanted: &Value| values.iter().any(|v| &v[key] == wanted);
    assert!(seen("CreateMultiple", &json!(1)) && seen("CreateMultiple", &json!(100)));
    assert!(seen("CoworkerId", &json!(1)) && seen("CoworkerId", &json!(i64::MAX)));
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
    let (strategies, _) = setup("CoworkerTimePassCreate");
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
    let definitions = json!({"E": {"type": "string", "enum": ["a"]}, "O": {"type": "object", "properties": {"P": {"$ref": "#/definitions/E"}}}});
    let strategies = Strategies::new(definitions.as_object().unwrap().clone());
    assert!(
        strategies
            .valid("E")
            .unwrap_err()
            .to_string()
            .contains("`enum`")
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
