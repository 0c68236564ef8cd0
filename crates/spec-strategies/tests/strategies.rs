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
use spec_strategies::{Location, Node, ParameterShape, RequestShape, Strategies, ViolationKind};

/// The real spec.
fn spec() -> Spec {
    load("../../openapi/nexudus-billing.yaml")
}

/// A document with every shape the strategies generate (`catalogue.yaml`).
fn catalogue() -> Spec {
    load("tests/catalogue.yaml")
}

fn load(path: &str) -> Spec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    Spec::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn setup(spec: &Spec, name: &str) -> (Strategies, Validator) {
    let definitions = spec.json_schema_definitions().unwrap();
    (
        Strategies::new(definitions.clone()),
        Validator::new(definitions, name).unwrap(),
    )
}

/// A violation as the judges compare it: the property, the value sent and the schema keyword.
type Found = (Option<String>, Option<Value>, String);

/// The keyword a validator names for a violation of `kind`, on a value whose schema is `schema`
/// (`None` for the body as a whole): a value of the wrong type breaks `type`, `anyOf` for a
/// nullable reference (`null` or the referenced schema), or `enum` when the schema lists values
/// without a type.
fn keyword(kind: ViolationKind, schema: Option<&Value>) -> String {
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
fn assert_near_its_bound(kind: ViolationKind, sent: &Value, schema: &Value) {
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
fn sort(violations: &mut [Found]) {
    violations.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
}

/// Checks that `case`'s body breaks the object schema `name` in exactly the labelled ways, and
/// returns the (property, kind) of each.
fn judge_body(
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

fn samples<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, count: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

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

/// The ways each property of the catalogue's `Thing` can be broken alone, by its schema.
const THING_KINDS: &[(&str, &[ViolationKind])] = {
    use ViolationKind::*;
    &[
        ("", &[NotAnObject, NullNotAllowed]),
        (
            "Count",
            &[
                MissingRequired,
                NullNotAllowed,
                WrongType,
                BelowMinimum,
                AboveMaximum,
            ],
        ),
        (
            "Offset",
            &[NullNotAllowed, WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "Weight",
            &[NullNotAllowed, WrongType, BelowMinimum, AboveMaximum],
        ),
        (
            "Ratio",
            &[NullNotAllowed, WrongType, BelowMinimum, AboveMaximum],
        ),
        ("Amount", &[NullNotAllowed, WrongType, BelowMinimum]),
        ("Debt", &[NullNotAllowed, WrongType, AboveMaximum]),
        (
            "Name",
            &[
                MissingRequired,
                NullNotAllowed,
                WrongType,
                TooLong,
                TooShort,
            ],
        ),
        ("Note", &[NullNotAllowed, WrongType]),
        ("Stamp", &[WrongType, BadFormat]),
        ("Key", &[NullNotAllowed, WrongType, BadFormat]),
        ("Colour", &[NullNotAllowed, WrongType, NotInEnum]),
        ("Level", &[WrongType, NotInEnum]),
        ("Mixed", &[NullNotAllowed, WrongType]),
        ("Flag", &[NullNotAllowed, WrongType]),
        ("Tags", &[MissingRequired, NullNotAllowed, WrongType]),
        ("Matrix", &[NullNotAllowed, WrongType]),
        ("Part", &[MissingRequired, NullNotAllowed, WrongType]),
        ("Parent", &[WrongType]),
    ]
};

fn thing_kinds() -> BTreeSet<(String, ViolationKind)> {
    THING_KINDS
        .iter()
        .flat_map(|(property, kinds)| kinds.iter().map(|kind| (property.to_string(), *kind)))
        .collect()
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

fn parse(schema: Value, definitions: Value) -> Result<Node, String> {
    Node::parse(&schema, definitions.as_object().unwrap(), "S").map_err(|e| e.to_string())
}

/// How a schema is wrapped in one more level.
type Wrap = fn(Value) -> Value;

/// An integer schema wrapped `depth` times in `wrap`.
fn nested(depth: usize, wrap: Wrap) -> Value {
    (0..depth).fold(json!({"type": "integer"}), |inner, _| wrap(inner))
}

/// Schemas nest up to 16 levels, through arrays, properties, references and nullable
/// references alike; deeper or recursive ones are refused rather than overflowing the stack.
#[test]
fn schemas_nest_sixteen_deep_and_recursion_is_refused() {
    let wraps: [(&str, Wrap); 3] = [
        ("items", |inner| json!({"type": "array", "items": inner})),
        (
            "properties",
            |inner| json!({"type": "object", "properties": {"P": inner}}),
        ),
        (
            "nullable",
            |inner| json!({"anyOf": [{"type": "null"}, inner]}),
        ),
    ];
    for (how, wrap) in wraps {
        assert!(parse(nested(16, wrap), json!({})).is_ok(), "{how}");
        assert!(
            parse(nested(17, wrap), json!({})).unwrap_err().ends_with(
                "a schema nested more than 16 levels deep (or a recursive one) is not supported"
            ),
            "{how}"
        );
    }
    // Sixteen references, then the integer.
    let mut chain: serde_json::Map<String, Value> = (0..16)
        .map(|n| {
            (
                format!("R{n}"),
                json!({"$ref": format!("#/definitions/R{}", n + 1)}),
            )
        })
        .collect();
    chain.insert("R16".into(), json!({"type": "integer"}));
    let chain = Value::Object(chain);
    assert!(parse(json!({"$ref": "#/definitions/R1"}), chain.clone()).is_ok());
    assert!(parse(json!({"$ref": "#/definitions/R0"}), chain).is_err());
    for recursive in [
        json!({"$ref": "#/definitions/Loop"}),
        json!({"anyOf": [{"type": "null"}, {"$ref": "#/definitions/Loop"}]}),
    ] {
        assert_eq!(
            parse(
                json!({"$ref": "#/definitions/Loop"}),
                json!({"Loop": recursive})
            )
            .unwrap_err(),
            "S: a schema nested more than 16 levels deep (or a recursive one) is not supported"
        );
    }
}

#[test]
fn schema_forms_parse_to_what_they_allow() {
    assert_eq!(parse(json!(true), json!({})), Ok(Node::Any));
    assert!(parse(json!(false), json!({})).is_err());
    let definitions = json!({"I": {"type": "integer"}});
    assert_eq!(
        parse(
            json!({"anyOf": [{"type": "null"}, {"$ref": "#/definitions/I"}]}),
            definitions.clone()
        ),
        Ok(Node::Nullable(Box::new(Node::Integer {
            min: None,
            max: None
        })))
    );
    for other in [
        json!({"anyOf": [{"$ref": "#/definitions/I"}, {"type": "null"}]}),
        json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
    ] {
        assert_eq!(
            parse(other, definitions.clone()).unwrap_err(),
            "S: `anyOf` other than a nullable reference is not supported"
        );
    }
    assert!(Node::Nullable(Box::new(Node::Boolean)).is_nullable());
    assert!(Node::Any.is_nullable());
    assert!(!Node::Boolean.is_nullable());
}

/// Integer bounds written as floats are read when whole and within what an `i128` holds
/// comfortably; a fractional or huge one is refused, not rounded.
#[test]
fn integer_bounds_written_as_floats() {
    let bounds = |minimum: Value| parse(json!({"type": "integer", "minimum": minimum}), json!({}));
    assert_eq!(
        bounds(json!(-5.0)),
        Ok(Node::Integer {
            min: Some(-5),
            max: None
        })
    );
    assert_eq!(
        bounds(json!(1e20)),
        Ok(Node::Integer {
            min: Some(100_000_000_000_000_000_000),
            max: None
        })
    );
    assert_eq!(
        bounds(json!(u64::MAX)),
        Ok(Node::Integer {
            min: Some(u64::MAX.into()),
            max: None
        })
    );
    for refused in [
        json!(1.5),
        json!(-0.5),
        json!(1e30),
        json!(-1e31),
        json!("1"),
    ] {
        assert!(
            bounds(refused.clone())
                .unwrap_err()
                .contains("the integer bound"),
            "{refused}"
        );
    }
}

/// Every kind, in declaration order; the match fails to compile when a kind is added.
fn every_kind() -> [ViolationKind; 10] {
    use ViolationKind::*;
    let every = [
        MissingRequired,
        WrongType,
        NullNotAllowed,
        BelowMinimum,
        AboveMaximum,
        BadFormat,
        TooLong,
        TooShort,
        NotAnObject,
        NotInEnum,
    ];
    for kind in every {
        match kind {
            MissingRequired | WrongType | NullNotAllowed | BelowMinimum | AboveMaximum
            | BadFormat | TooLong | TooShort | NotAnObject | NotInEnum => {}
        }
    }
    every
}

#[test]
fn violation_kinds_have_the_names_reports_print() {
    let names: Vec<&str> = every_kind().iter().map(|kind| kind.name()).collect();
    assert_eq!(
        names,
        [
            "missing-required",
            "wrong-type",
            "null-not-allowed",
            "below-minimum",
            "above-maximum",
            "bad-format",
            "too-long",
            "too-short",
            "not-an-object",
            "not-in-enum"
        ]
    );
}
