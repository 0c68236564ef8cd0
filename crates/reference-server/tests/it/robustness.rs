//! Arbitrary input never makes the server answer 5xx, and only a 200 stores anything.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::{ADMIN, TestServer, post_raw};

/// The request's property names, from the spec.
fn fields() -> Vec<String> {
    let definitions: Value = serde_json::from_str(nexudus_server_api::SCHEMA_DEFINITIONS).unwrap();
    definitions["CoworkerTimePassCreate"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Any JSON value, biased towards the shapes the schema cares about.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-2i64..200).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        Just(json!("2026-07-31T00:00:00Z")),
        Just(json!("0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Objects that use the real keys with any values, so that most cases get past the JSON parser
/// and exercise validation.
fn near_valid() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields()), any_json()), 0..14).prop_map(|pairs| {
        let mut object = Map::new();
        for (key, value) in pairs {
            object.insert(key.to_owned(), value);
        }
        Value::Object(object)
    })
}

/// A valid body with one field set to anything: often still valid, so 200s are exercised too.
fn one_field_changed() -> impl Strategy<Value = Value> {
    (prop::sample::select(fields()), any_json()).prop_map(|(key, value)| {
        let mut body = crate::minimal();
        body[key] = value;
        body
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => one_field_changed().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        4 => near_valid().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        1 => any_json().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

#[test]
fn arbitrary_bodies_get_200_or_400_and_only_200_stores() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    // A failure is saved under proptest-regressions/ beside this file, replayed first in later
    // runs, and committed.
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in body())| {
        let before = server.count();
        let raw = runtime.block_on(post_raw(&server.url(), Some(ADMIN), Some("application/json"), body.clone()));
        let after = server.count();
        prop_assert!(raw.status == 200 || raw.status == 400, "{} for {:?}: {}", raw.status, String::from_utf8_lossy(&body), raw.body);
        if raw.status == 200 {
            let sent: Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(after - before, sent["CreateMultiple"].as_u64().unwrap());
        } else {
            prop_assert_eq!(after, before);
            prop_assert_eq!(&raw.body["WasSuccessful"], &json!(false));
        }
    });
}

/// Text a hostile client might put in a path segment or a query value.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        (-3i64..5).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("9223372036854775808".to_owned()),
        Just("2026-07-31T00:00:00Z".to_owned()),
        Just("Price".to_owned()),
    ]
}

/// The query parameters of the spec's operations, and some it does not have.
fn query_names() -> Vec<String> {
    let mut names: Vec<String> = nexudus_server_api::OPERATIONS
        .iter()
        .flat_map(|operation| operation.parameters)
        .map(|parameter| parameter.name.to_owned())
        .collect();
    names.extend(["Id", "id", "page[]", ""].map(str::to_owned));
    names
}

#[test]
fn arbitrary_requests_to_every_operation_never_get_a_5xx_and_reads_change_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let record = runtime.block_on(post_raw(
        &server.url(),
        Some(ADMIN),
        Some("application/json"),
        serde_json::to_vec(&crate::minimal()).unwrap(),
    ));
    assert_eq!(record.status, 200);
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    };
    let request = (
        prop::sample::select(vec!["GET", "PUT", "DELETE", "GET"]),
        prop::option::of(any_text()),
        prop::collection::vec((prop::sample::select(query_names()), any_text()), 0..5),
        body(),
    );
    proptest!(config, |((method, id, query, body) in request)| {
        let mut url = server.url();
        if let Some(id) = &id {
            url.push('/');
            url.extend(form_urlencoded::byte_serialize(id.as_bytes()));
        }
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish();
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        let body = if method == "PUT" { body } else { Vec::new() };
        let before = server.count();
        let raw = runtime.block_on(crate::send_raw(method, &url, Some(ADMIN), Some("application/json"), body));
        prop_assert!(raw.status < 500, "{} for {method} {url}: {}", raw.status, raw.body);
        if raw.status != 200 || method == "GET" {
            prop_assert_eq!(server.count(), before);
        }
        if raw.status >= 400 && raw.status != 404 && raw.status != 405 {
            prop_assert_eq!(&raw.body["WasSuccessful"], &json!(false));
        }
    });
}
