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
use spec_strategies::{Location, ParameterShape, RequestShape, Strategies, ViolationKind};

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
        .filter(|k| ![ViolationKind::TooShort, ViolationKind::NotInEnum].contains(k))
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

/// An operation of the real spec as the strategies see it: operationId, shape, and each
/// parameter with its validator.
type Operation = (String, RequestShape, Vec<(ParameterShape, Validator)>);

/// Every operation of the real spec.
fn operations() -> Vec<Operation> {
    let spec = spec();
    let definitions = spec.json_schema_definitions().unwrap();
    let mut operations = Vec::new();
    for (_, item) in spec.document()["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let declared = item["parameters"]
                .as_array()
                .into_iter()
                .chain(operation["parameters"].as_array())
                .flatten();
            let mut parameters = Vec::new();
            for parameter in declared {
                let schema = spec_schema::to_json_schema(&parameter["schema"]).unwrap();
                let shape = ParameterShape {
                    name: parameter["name"].as_str().unwrap().to_owned(),
                    location: if parameter["in"] == "path" {
                        Location::Path
                    } else {
                        Location::Query
                    },
                    required: parameter["required"] == true,
                    schema: schema.clone(),
                };
                let validator =
                    Validator::for_schema(definitions.clone(), &schema, &shape.name).unwrap();
                parameters.push((shape, validator));
            }
            // The body's one media type, JSON or a form: the strategies draw values of its schema.
            let body = operation
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .and_then(|content| content.values().next())
                .and_then(|media| media.pointer("/schema/$ref"))
                .and_then(Value::as_str)
                .map(|reference| reference.rsplit('/').next().unwrap().to_owned());
            let shape = RequestShape {
                parameters: parameters.iter().map(|(shape, _)| shape.clone()).collect(),
                body,
            };
            operations.push((
                operation["operationId"].as_str().unwrap().to_owned(),
                shape,
                parameters,
            ));
        }
    }
    operations
}

/// What a server reads out of a parameter's text, as `server_runtime` does: violations named by
/// the parameter, with the text sent.
fn parameter_violations(
    parameter: &ParameterShape,
    validator: &Validator,
    sent: Option<&Value>,
) -> Vec<(Option<String>, Option<Value>)> {
    let pairs: std::collections::HashMap<String, String> = sent
        .map(|value| {
            (
                parameter.name.clone(),
                spec_strategies::parameter_text(value),
            )
        })
        .into_iter()
        .collect();
    let ty = match parameter.schema.get("type").and_then(Value::as_str) {
        Some("integer") => server_runtime::ParameterType::Integer,
        Some("number") => server_runtime::ParameterType::Number,
        Some("boolean") => server_runtime::ParameterType::Boolean,
        _ => server_runtime::ParameterType::String,
    };
    let mut violations = Vec::new();
    let _ = server_runtime::parameter::<String>(
        &pairs,
        &parameter.name,
        ty,
        parameter.required,
        validator,
        &mut violations,
    );
    violations
        .into_iter()
        .map(|v| (v.property_name(), v.value))
        .collect()
}

#[test]
fn valid_requests_of_every_operation_pass_validation() {
    let definitions = spec().json_schema_definitions().unwrap();
    let strategies = Strategies::new(definitions.clone());
    let operations = operations();
    assert_eq!(operations.len(), 6);
    for (operation, shape, parameters) in operations {
        for request in samples(strategies.valid_request(&shape).unwrap(), 200) {
            for (parameter, validator) in &parameters {
                let map = match parameter.location {
                    Location::Path => &request.path,
                    Location::Query => &request.query,
                };
                let sent = map.get(&parameter.name);
                assert!(
                    sent.is_some() || !parameter.required,
                    "{operation}: {request:?}"
                );
                assert_eq!(
                    parameter_violations(parameter, validator, sent),
                    [],
                    "{operation}: {request:?}"
                );
            }
            match &shape.body {
                Some(schema) => {
                    let validator = Validator::new(definitions.clone(), schema).unwrap();
                    assert_eq!(validator.violations(request.body.as_ref().unwrap()), []);
                }
                None => assert_eq!(request.body, None),
            }
        }
    }
}

#[test]
fn invalid_requests_have_exactly_the_labelled_violations() {
    let definitions = spec().json_schema_definitions().unwrap();
    let strategies = Strategies::new(definitions.clone());
    let mut kinds = BTreeSet::new();
    for (operation, shape, parameters) in operations() {
        for case in samples(strategies.invalid_request(&shape).unwrap(), 400) {
            let request = &case.request;
            let mut found = Vec::new();
            for (parameter, validator) in &parameters {
                let map = match parameter.location {
                    Location::Path => &request.path,
                    Location::Query => &request.query,
                };
                found.extend(parameter_violations(
                    parameter,
                    validator,
                    map.get(&parameter.name),
                ));
            }
            if found.is_empty()
                && let Some(schema) = &shape.body
            {
                let validator = Validator::new(definitions.clone(), schema).unwrap();
                found = validator
                    .violations(request.body.as_ref().unwrap())
                    .into_iter()
                    .map(|v| (v.property_name(), v.value))
                    .collect();
            }
            let mut labelled: Vec<(Option<String>, Option<Value>)> = case
                .violations
                .iter()
                .map(|v| (v.property.clone(), v.sent.clone()))
                .collect();
            labelled.sort_by(|a, b| a.0.cmp(&b.0));
            found.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(found, labelled, "{operation}: {request:?}");
            kinds.extend(case.violations.iter().map(|v| (operation.clone(), v.kind)));
        }
    }
    for (operation, kind) in [
        ("list_coworker_time_passes", ViolationKind::NotInEnum),
        ("list_coworker_time_passes", ViolationKind::WrongType),
        ("list_coworker_time_passes", ViolationKind::BadFormat),
        ("list_coworker_time_passes", ViolationKind::AboveMaximum),
        ("list_coworker_time_passes", ViolationKind::TooLong),
        ("get_coworker_time_pass", ViolationKind::BelowMinimum),
        ("update_coworker_time_pass", ViolationKind::MissingRequired),
    ] {
        assert!(
            kinds.contains(&(operation.to_owned(), kind)),
            "{operation}: {kind:?}"
        );
    }
}
