//! The documented bodies survive a round trip through the generated types, every key kept.

use nexudus_types::{CoworkerTimePassCreate, CreateSuccess, ErrorEnvelope};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::spec_json;

fn example(pointer: &str) -> Value {
    let path = "/paths/~1api~1billing~1coworkertimepasses/post";
    spec_json()
        .pointer(&format!("{path}{pointer}"))
        .unwrap()
        .clone()
}

#[track_caller]
fn round_trip<T: DeserializeOwned + Serialize>(json: Value) -> T {
    let typed: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), json);
    typed
}

#[test]
fn documented_success_round_trips() {
    let success: CreateSuccess =
        round_trip(example("/responses/200/content/application~1json/example"));
    assert!(success.was_successful);
    assert_eq!(success.value.id.get(), 87654321);
    assert_eq!(success.redirect_url, None);
    assert_eq!(success.errors, None);
    assert_eq!(success.updated_by, "admin@example.com");
}

#[test]
fn documented_error_round_trips() {
    let error: ErrorEnvelope =
        round_trip(example("/responses/400/content/application~1json/example"));
    assert!(!error.was_successful);
    assert_eq!(error.value, Value::Null);
    assert_eq!(error.errors[0].property_name, "Name");
    assert_eq!(error.errors[0].attempted_value, Value::Null);
}

#[test]
fn complete_request_round_trips() {
    let request: CoworkerTimePassCreate = round_trip(
        example("/requestBody/content/application~1json/examples/complete/value")
            .as_object()
            .unwrap()
            .iter()
            // An absent optional and a null one mean the same; the types write absent.
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    assert_eq!(request.create_multiple.get(), 1);
    assert_eq!(
        request.notes.as_deref().map(String::as_str),
        Some("Welcome pack")
    );
}

#[test]
fn keys_are_case_sensitive_and_unknown_keys_ignored() {
    let body = serde_json::json!({
        "CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 4, "Extra": true
    });
    assert!(serde_json::from_value::<CoworkerTimePassCreate>(body).is_ok());
    let lower = serde_json::json!({
        "coworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 4
    });
    assert!(serde_json::from_value::<CoworkerTimePassCreate>(lower).is_err());
}
