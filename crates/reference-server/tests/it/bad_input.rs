//! Bad input of every class: bodies, path ids and query parameters, each with its status and
//! exact `Errors`, and nothing stored or changed.

use serde_json::{Value, json};

use crate::{ADMIN, TestServer, assert_envelope, minimal, post_raw};

/// `minimal()` with `edit` applied.
fn body_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut body = minimal();
    edit(body.as_object_mut().unwrap());
    serde_json::to_vec(&body).unwrap()
}

fn set(key: &'static str, value: Value) -> impl FnOnce(&mut serde_json::Map<String, Value>) {
    move |body| {
        body.insert(key.to_owned(), value);
    }
}

struct Case {
    name: String,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    errors: Vec<(&'static str, Value, String)>,
}

fn case(
    name: impl Into<String>,
    body: Vec<u8>,
    errors: Vec<(&'static str, Value, String)>,
) -> Case {
    Case {
        name: name.into(),
        content_type: "application/json",
        body,
        status: 400,
        errors,
    }
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        case(
            "malformed JSON",
            b"{\"CoworkerId\": ".to_vec(),
            vec![(
                "$body",
                Value::Null,
                "is not valid JSON: EOF while parsing a value at line 1 column 15".into(),
            )],
        ),
        case(
            "empty body",
            Vec::new(),
            vec![(
                "$body",
                Value::Null,
                "is not valid JSON: EOF while parsing a value at line 1 column 0".into(),
            )],
        ),
        case(
            "a JSON array",
            b"[1,2]".to_vec(),
            vec![("$body", json!([1, 2]), "must be an object".into())],
        ),
        case(
            "a JSON number",
            b"42".to_vec(),
            vec![("$body", json!(42), "must be an object".into())],
        ),
        case(
            "a JSON string",
            b"\"x\"".to_vec(),
            vec![("$body", json!("x"), "must be an object".into())],
        ),
        case(
            "JSON null",
            b"null".to_vec(),
            vec![("$body", Value::Null, "must not be null".into())],
        ),
        case(
            "invalid UTF-8",
            b"{\"CoworkerId\": 1, \"Notes\": \"caf\xe9\"}".to_vec(),
            vec![(
                "$body",
                Value::Null,
                "is not valid UTF-8 (from byte 31)".into(),
            )],
        ),
        case(
            "ids beyond the integers a JavaScript tool keeps exact",
            body_with(set("CoworkerId", json!(9007199254740992u64))),
            vec![(
                "CoworkerId",
                json!(9007199254740992u64),
                "must be at most 9007199254740991".into(),
            )],
        ),
        case(
            "ids beyond int64",
            body_with(set("CoworkerId", json!(9223372036854775808u64))),
            vec![(
                "CoworkerId",
                json!(9223372036854775808u64),
                "must be at most 9007199254740991".into(),
            )],
        ),
        case(
            "ids far beyond int64",
            br#"{"CoworkerId": 1e30, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 1}"#
                .to_vec(),
            vec![(
                "CoworkerId",
                json!(1e30),
                "must be at most 9007199254740991".into(),
            )],
        ),
        case(
            "CreateMultiple 0",
            body_with(set("CreateMultiple", json!(0))),
            vec![("CreateMultiple", json!(0), "must be at least 1".into())],
        ),
        case(
            "CreateMultiple negative",
            body_with(set("CreateMultiple", json!(-3))),
            vec![("CreateMultiple", json!(-3), "must be at least 1".into())],
        ),
        case(
            "CreateMultiple above 100",
            body_with(set("CreateMultiple", json!(101))),
            vec![("CreateMultiple", json!(101), "must be at most 100".into())],
        ),
        case(
            "CreateMultiple fractional",
            body_with(set("CreateMultiple", json!(1.5))),
            vec![("CreateMultiple", json!(1.5), "must be an integer".into())],
        ),
        case(
            "negative Price",
            body_with(set("Price", json!(-0.01))),
            vec![("Price", json!(-0.01), "must be at least 0".into())],
        ),
        case(
            "oversize Notes",
            body_with(set("Notes", json!("n".repeat(2001)))),
            vec![(
                "Notes",
                json!("n".repeat(2001)),
                "must be at most 2000 characters long".into(),
            )],
        ),
        case(
            "oversize PurchaseOrder",
            body_with(set("PurchaseOrder", json!("é".repeat(201)))),
            vec![(
                "PurchaseOrder",
                json!("é".repeat(201)),
                "must be at most 200 characters long".into(),
            )],
        ),
        case(
            "several violations at once, in property order",
            br#"{"TimePassId": "3", "CreateMultiple": 0, "Price": -1, "ExpireDate": "soon"}"#
                .to_vec(),
            vec![
                ("BusinessId", Value::Null, "is a required field".into()),
                ("CoworkerId", Value::Null, "is a required field".into()),
                ("CreateMultiple", json!(0), "must be at least 1".into()),
                (
                    "ExpireDate",
                    json!("soon"),
                    "must be a valid date-time".into(),
                ),
                ("Price", json!(-1), "must be at least 0".into()),
                ("TimePassId", json!("3"), "must be an integer".into()),
            ],
        ),
        Case {
            content_type: "text/plain",
            status: 415,
            ..case(
                "wrong content type",
                serde_json::to_vec(&minimal()).unwrap(),
                vec![(
                    "Content-Type",
                    json!("text/plain"),
                    "must be application/json".into(),
                )],
            )
        },
        Case {
            status: 413,
            ..case(
                "oversize body",
                body_with(set(
                    "Notes",
                    json!("x".repeat(nexudus_server_api::DEFAULT_BODY_LIMIT)),
                )),
                vec![(
                    "$body",
                    Value::Null,
                    format!(
                        "must be at most {} bytes",
                        nexudus_server_api::DEFAULT_BODY_LIMIT
                    ),
                )],
            )
        },
    ];
    for required in ["CoworkerId", "BusinessId", "TimePassId", "CreateMultiple"] {
        cases.push(case(
            format!("{required} missing"),
            body_with(|body| {
                body.remove(required);
            }),
            vec![(required, Value::Null, "is a required field".into())],
        ));
        cases.push(case(
            format!("{required} null"),
            body_with(set(required, Value::Null)),
            vec![(required, Value::Null, "must not be null".into())],
        ));
    }
    let wrong_types = [
        ("CoworkerId", json!("1"), "must be an integer"),
        ("BusinessId", json!(true), "must be an integer"),
        ("TimePassId", json!([3]), "must be an integer"),
        ("CreateMultiple", json!({"n": 1}), "must be an integer"),
        ("Notes", json!(7), "must be a string"),
        ("PurchaseOrder", json!(["PO"]), "must be a string"),
        ("Used", json!("yes"), "must be a boolean"),
        ("Free", json!(0), "must be a boolean"),
        ("Price", json!("9.99"), "must be a number"),
        ("ExpireDate", json!(20260731), "must be a string"),
        ("TariffTimePassUniqueId", json!(1), "must be a string"),
        ("CoworkerProductUniqueId", json!({}), "must be a string"),
        ("CoworkerContractUniqueId", json!(false), "must be a string"),
    ];
    for (field, value, message) in wrong_types {
        cases.push(case(
            format!("{field} of the wrong type"),
            body_with(set(field, value.clone())),
            vec![(field, value, message.into())],
        ));
    }
    for date in [
        "2025-13-01T00:00:00Z",
        "2025-01-15T10:30:00",
        "2025-01-15",
        "yesterday",
        "",
    ] {
        cases.push(case(
            format!("ExpireDate {date:?}"),
            body_with(set("ExpireDate", json!(date))),
            vec![(
                "ExpireDate",
                json!(date),
                "must be a valid date-time".into(),
            )],
        ));
    }
    for uuid in [
        "not-a-uuid",
        "0d6b7c1e3f8a4c2e9b1d5a7e2f4c8d90",
        "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d9z",
    ] {
        cases.push(case(
            format!("uuid {uuid:?}"),
            body_with(set("CoworkerContractUniqueId", json!(uuid))),
            vec![(
                "CoworkerContractUniqueId",
                json!(uuid),
                "must be a valid uuid".into(),
            )],
        ));
    }
    cases
}

#[tokio::test]
async fn every_bad_input_gets_its_envelope_and_stores_nothing() {
    let server = TestServer::start().await;
    let cases = cases();
    for case in &cases {
        let raw = post_raw(
            &server.url(),
            Some(ADMIN),
            Some(case.content_type),
            case.body.clone(),
        )
        .await;
        assert_eq!(raw.status, case.status, "{}: {}", case.name, raw.body);
        assert_eq!(raw.content_type, "application/json", "{}", case.name);
        let expected: Vec<(&str, Value, &str)> = case
            .errors
            .iter()
            .map(|(p, v, m)| (*p, v.clone(), m.as_str()))
            .collect();
        assert_envelope(&raw.body, &expected, &case.name);
        assert_eq!(server.count(), 0, "{} stored something", case.name);
    }
    assert!(cases.len() >= 45, "{} cases", cases.len());
}

#[tokio::test]
async fn the_generated_client_decodes_400_as_the_typed_envelope() {
    let server = TestServer::start().await;
    let mut request: nexudus_types::CoworkerTimePassCreate =
        serde_json::from_value(minimal()).unwrap();
    // The types let a caller build what the spec forbids; with the client's own check off,
    // the server is the judge.
    request.create_multiple = 101.try_into().unwrap();
    let client = nexudus_client::authenticated_with(
        server.base_url(),
        ADMIN,
        nexudus_client::Behaviour::unchecked(),
    )
    .unwrap();
    match client.create_coworker_time_pass(&request).await {
        Err(nexudus_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status(), 400);
            assert_eq!(response.message, "CreateMultiple: must be at most 100");
            assert_eq!(response.errors[0].attempted_value, json!(101));
        }
        other => panic!("expected 400, got {other:?}"),
    }
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn unknown_properties_are_ignored_and_valid_edges_accepted() {
    let server = TestServer::start().await;
    let edges = [
        json!({"CoworkerId": 9007199254740991i64, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 100,
               "Notes": "n".repeat(2000), "PurchaseOrder": "", "Price": 0, "Used": null, "Free": true,
               "ExpireDate": "2026-07-31T00:00:00.8822471+02:00", "TariffTimePassUniqueId": null,
               "CoworkerProductUniqueId": "0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90", "Unknown": [1, {"x": null}]}),
        json!({"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 1, "Price": 1000000000}),
    ];
    for body in edges {
        let raw = post_raw(
            &server.url(),
            Some(ADMIN),
            Some("application/json; charset=utf-8"),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
        assert_eq!(raw.status, 200, "{body}: {}", raw.body);
    }
    assert_eq!(server.count(), 101);
}

/// A request of another operation than create, as raw parts.
struct Request {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

async fn send(server: &TestServer, request: &Request) -> crate::Raw {
    crate::send_raw(
        request.method,
        &format!("{}{}", server.url(), request.path),
        Some(ADMIN),
        request.content_type,
        request.body.clone(),
    )
    .await
}

fn get(path: impl Into<String>) -> Request {
    Request {
        method: "GET",
        path: path.into(),
        content_type: None,
        body: Vec::new(),
    }
}

fn put(content_type: &'static str, body: Vec<u8>) -> Request {
    Request {
        method: "PUT",
        path: String::new(),
        content_type: Some(content_type),
        body,
    }
}

/// An expected entry of `Errors`: `PropertyName`, `AttemptedValue`, `Message`.
type Expected = (&'static str, Value, String);

/// Bad path ids, query parameters and update bodies: each gets its exact envelope, and neither
/// the records nor any of their fields change.
#[tokio::test]
async fn bad_parameters_and_update_bodies_change_nothing() {
    let server = TestServer::start().await;
    let created = post_raw(
        &server.url(),
        Some(ADMIN),
        Some("application/json"),
        serde_json::to_vec(&minimal()).unwrap(),
    )
    .await;
    let id = created.body["Value"]["Id"].as_i64().unwrap();
    let before = server.store().read(id).unwrap().unwrap();
    let order_fields: Value = serde_json::from_str::<Value>(nexudus_server_api::SCHEMA_DEFINITIONS)
        .unwrap()["CoworkerTimePassOrderField"]["enum"]
        .clone();
    let one_of = |values: &Value| format!("must be one of {values}");
    let mut cases: Vec<(Request, u16, Vec<Expected>)> = Vec::new();
    for method in ["GET", "DELETE"] {
        for (text, message) in [
            ("0", "must be at least 1"),
            ("-1", "must be at least 1"),
            ("9223372036854775808", "must be at most 9007199254740991"),
            ("9007199254740992", "must be at most 9007199254740991"),
            ("abc", "must be an integer"),
            ("1.5", "must be an integer"),
        ] {
            cases.push((
                Request {
                    method,
                    ..get(format!("/{text}"))
                },
                400,
                vec![("id", json!(text), message.to_owned())],
            ));
        }
    }
    for (query, name, text, message) in [
        ("page=0", "page", "0", "must be at least 1".to_owned()),
        (
            "size=1001",
            "size",
            "1001",
            "must be at most 1000".to_owned(),
        ),
        ("size=0", "size", "0", "must be at least 1".to_owned()),
        ("orderBy=Colour", "orderBy", "Colour", one_of(&order_fields)),
        ("orderBy=price", "orderBy", "price", one_of(&order_fields)),
        ("dir=0", "dir", "0", one_of(&json!([1, -1]))),
        ("dir=asc", "dir", "asc", "must be an integer".to_owned()),
        (
            "from_CoworkerTimePass_ExpireDate=2025-01-31T00:00",
            "from_CoworkerTimePass_ExpireDate",
            "2025-01-31T00:00",
            "must be a valid date-time".to_owned(),
        ),
        (
            "to_CoworkerTimePass_ExpireDate=9999-12-31T23:59:59-14:00",
            "to_CoworkerTimePass_ExpireDate",
            "9999-12-31T23:59:59-14:00",
            "must be a valid date-time".to_owned(),
        ),
        (
            "CoworkerTimePass_Used=yes",
            "CoworkerTimePass_Used",
            "yes",
            "must be a boolean".to_owned(),
        ),
        (
            "CoworkerTimePass_CoworkerId=0",
            "CoworkerTimePass_CoworkerId",
            "0",
            "must be at least 1".to_owned(),
        ),
    ] {
        cases.push((
            get(format!("?{query}")),
            400,
            vec![(name, json!(text), message)],
        ));
    }
    cases.push((
        get("?page=0&size=1001&dir=2"),
        400,
        vec![
            ("page", json!("0"), "must be at least 1".to_owned()),
            ("size", json!("1001"), "must be at most 1000".to_owned()),
            ("dir", json!("2"), one_of(&json!([1, -1]))),
        ],
    ));
    let update = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut body = minimal();
        body["Id"] = json!(id);
        body["Notes"] = json!("changed");
        edit(body.as_object_mut().unwrap());
        serde_json::to_vec(&body).unwrap()
    };
    for (body, errors) in [
        (
            update(&|body| drop(body.remove("Id"))),
            vec![("Id", Value::Null, "is a required field")],
        ),
        (
            update(&|body| drop(body.insert("Id".into(), json!(0)))),
            vec![("Id", json!(0), "must be at least 1")],
        ),
        (
            update(&|body| drop(body.insert("Id".into(), json!("1")))),
            vec![("Id", json!("1"), "must be an integer")],
        ),
        (
            update(&|body| drop(body.insert("CreateMultiple".into(), json!(101)))),
            vec![("CreateMultiple", json!(101), "must be at most 100")],
        ),
        (
            update(&|body| {
                drop(body.insert("ExpireDate".into(), json!("0000-01-01T00:00:00+01:00")))
            }),
            vec![(
                "ExpireDate",
                json!("0000-01-01T00:00:00+01:00"),
                "must be a valid date-time",
            )],
        ),
        (
            b"[1]".to_vec(),
            vec![("$body", json!([1]), "must be an object")],
        ),
    ] {
        let errors = errors
            .into_iter()
            .map(|(p, v, m)| (p, v, m.to_owned()))
            .collect();
        cases.push((put("application/json", body), 400, errors));
    }
    cases.push((
        put("text/plain", update(&|_| ())),
        415,
        vec![(
            "Content-Type",
            json!("text/plain"),
            "must be application/json".to_owned(),
        )],
    ));
    cases.push((
        put(
            "application/json",
            update(&|body| {
                body.insert(
                    "Notes".into(),
                    json!("x".repeat(nexudus_server_api::DEFAULT_BODY_LIMIT)),
                );
            }),
        ),
        413,
        vec![(
            "$body",
            Value::Null,
            format!(
                "must be at most {} bytes",
                nexudus_server_api::DEFAULT_BODY_LIMIT
            ),
        )],
    ));
    for (request, status, errors) in &cases {
        let raw = send(&server, request).await;
        let name = format!(
            "{} {} {}",
            request.method,
            request.path,
            String::from_utf8_lossy(&request.body)
        );
        assert_eq!(raw.status, *status, "{name}: {}", raw.body);
        assert_eq!(raw.content_type, "application/json", "{name}");
        let expected: Vec<(&str, Value, &str)> = errors
            .iter()
            .map(|(p, v, m)| (*p, v.clone(), m.as_str()))
            .collect();
        assert_envelope(&raw.body, &expected, &name);
        assert_eq!(server.count(), 1, "{name} changed the records");
        assert_eq!(
            server.store().read(id).unwrap().unwrap(),
            before,
            "{name} changed the record"
        );
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());
}
