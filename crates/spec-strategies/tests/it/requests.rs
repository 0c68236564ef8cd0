//! Whole requests of every operation: path, query and header parameters, as text, judged by how
//! `server-runtime` reads them, and bodies judged as payloads are.

use std::collections::BTreeSet;

use serde_json::Value;
use spec_schema::{Spec, Validator};
use spec_strategies::{Location, ParameterShape, RequestShape, Strategies, ViolationKind};

use crate::{
    catalogue,
    judge::{Found, assert_near_its_bound, judge_body, keyword, sort},
    kinds::thing_kinds,
    samples, spec,
};

/// An operation as the strategies see it: operationId, shape, and each
/// parameter with its validator.
type Operation = (String, RequestShape, Vec<(ParameterShape, Validator)>);

/// Every operation of `spec`.
fn operations(spec: &Spec) -> Vec<Operation> {
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
                    location: match parameter["in"].as_str() {
                        Some("path") => Location::Path,
                        Some("header") => Location::Header,
                        _ => Location::Query,
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

/// Whether `text` reaches a server as it was sent in a header: visible ASCII and spaces, none
/// at either end (which HTTP strips).
fn is_header_text(text: &str) -> bool {
    text.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        && !text.starts_with(' ')
        && !text.ends_with(' ')
}

/// What a server reads out of a parameter's text, as `server_runtime` does: violations named by
/// the parameter, with the text sent.
fn parameter_violations(
    parameter: &ParameterShape,
    validator: &Validator,
    sent: Option<&Value>,
) -> Vec<Found> {
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
        .map(|v| (v.property_name(), v.value, v.keyword.into_owned()))
        .collect()
}

#[test]
fn valid_requests_of_every_operation_pass_validation() {
    for (spec, operation_count) in [(spec(), 6), (catalogue(), 2)] {
        let definitions = spec.json_schema_definitions().unwrap();
        let strategies = Strategies::new(definitions.clone());
        let operations = operations(&spec);
        assert_eq!(operations.len(), operation_count);
        for (operation, shape, parameters) in operations {
            for request in samples(strategies.valid_request(&shape).unwrap(), 200) {
                for (parameter, validator) in &parameters {
                    let sent = match parameter.location {
                        // Always sent, as one whole segment.
                        Location::Path => {
                            let sent = request.path.get(&parameter.name);
                            let text = sent.map(spec_strategies::parameter_text);
                            assert!(
                                text.is_some_and(|text| !["", ".", ".."].contains(&text.as_str())),
                                "{operation}: {request:?}"
                            );
                            sent
                        }
                        Location::Query => request.query.get(&parameter.name),
                        // Text a header carries unchanged: visible ASCII, inner spaces only.
                        Location::Header => {
                            let sent = request.headers.get(&parameter.name);
                            let text = sent.map(spec_strategies::parameter_text);
                            assert!(
                                text.is_none_or(|text| is_header_text(&text)),
                                "{operation}: {request:?}"
                            );
                            sent
                        }
                    };
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
}

/// Every (operation, parameter or property, kind) of the invalid requests of `spec`'s
/// operations, each request judged.
fn invalid_request_kinds(spec: &Spec) -> BTreeSet<(String, String, ViolationKind)> {
    let definitions = spec.json_schema_definitions().unwrap();
    let strategies = Strategies::new(definitions.clone());
    let mut kinds = BTreeSet::new();
    for (operation, shape, parameters) in operations(spec) {
        for case in samples(strategies.invalid_request(&shape).unwrap(), 400) {
            let request = &case.request;
            let mut found: Vec<Found> = Vec::new();
            for (parameter, validator) in &parameters {
                let map = request.at(parameter.location);
                if parameter.location == Location::Header
                    && let Some(sent) = map.get(&parameter.name)
                {
                    let text = spec_strategies::parameter_text(sent);
                    assert!(is_header_text(&text), "{operation}: {text:?}");
                }
                found.extend(parameter_violations(
                    parameter,
                    validator,
                    map.get(&parameter.name),
                ));
            }
            if found.is_empty() {
                let schema = shape.body.as_ref().expect("a body was broken");
                let validator = Validator::new(definitions.clone(), schema).unwrap();
                let body = request.body.as_ref().unwrap();
                judge_body(&definitions, &validator, schema, body, &case.violations);
            } else {
                let mut labelled: Vec<Found> = case
                    .violations
                    .iter()
                    .map(|v| {
                        let (parameter, _) = parameters
                            .iter()
                            .find(|(parameter, _)| Some(&parameter.name) == v.property.as_ref())
                            .expect("violations of parameters name one");
                        if let Some(sent) = &v.sent {
                            assert_near_its_bound(v.kind, sent, &parameter.schema);
                        }
                        (
                            v.property.clone(),
                            v.sent.clone(),
                            keyword(v.kind, Some(&parameter.schema)),
                        )
                    })
                    .collect();
                sort(&mut labelled);
                sort(&mut found);
                assert_eq!(found, labelled, "{operation}: {request:?}");
            }
            kinds.extend(case.violations.iter().map(|v| {
                (
                    operation.clone(),
                    v.property.clone().unwrap_or_default(),
                    v.kind,
                )
            }));
        }
    }
    kinds
}

#[test]
fn invalid_requests_have_exactly_the_labelled_violations() {
    let kinds: BTreeSet<(String, ViolationKind)> = invalid_request_kinds(&spec())
        .into_iter()
        .map(|(operation, _, kind)| (operation, kind))
        .collect();
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

/// Over parameters of every type and place: each is broken in each way its schema allows as
/// text (a missing path parameter or an empty segment would change the path, so neither is
/// among them), and a body as bodies are.
#[test]
fn invalid_requests_of_every_shape_break_each_parameter_in_each_way_it_allows() {
    use ViolationKind::*;

    let parameters: &[(&str, &str, &[ViolationKind])] = &[
        (
            "get_thing",
            "Number",
            &[WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "get_thing",
            "Count",
            &[MissingRequired, WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "get_thing",
            "Ratio",
            &[WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "get_thing",
            "Weight",
            &[WrongType, BelowMinimum, AboveMaximum],
        ),
        ("get_thing", "Flag", &[WrongType]),
        ("get_thing", "Colour", &[NotInEnum]),
        ("get_thing", "Level", &[WrongType, NotInEnum]),
        ("get_thing", "Label", &[TooLong, TooShort]),
        ("get_thing", "Since", &[BadFormat]),
        ("get_thing", "Key", &[BadFormat]),
        ("put_thing", "Code", &[TooLong, TooShort]),
    ];
    let mut expected: BTreeSet<(String, String, ViolationKind)> = parameters
        .iter()
        .flat_map(|(operation, parameter, kinds)| {
            kinds
                .iter()
                .map(|kind| (operation.to_string(), parameter.to_string(), *kind))
        })
        .collect();
    expected.extend(
        thing_kinds()
            .into_iter()
            .map(|(property, kind)| ("put_thing".to_owned(), property, kind)),
    );
    assert_eq!(invalid_request_kinds(&catalogue()), expected);
}
