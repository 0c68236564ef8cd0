//! The generated router and the generated client, talking over real HTTP on loopback.
//!
//! `Echo` is the smallest implementation of the generated trait: it knows one token and answers
//! every rejection with an envelope naming the rejected properties. What is tested is what the
//! router does around it: authentication first, then content type, size, JSON, schema.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use nexudus_server_api::{CreateCoworkerTimePassResponse, NexudusBillingApi, Operation, Rejection};
use nexudus_types::{
    CoworkerTimePassCreate, CreateSuccess, CreatedRecord, ErrorEnvelope, PropertyError,
};
use serde_json::{Value, json};

const TOKEN: &str = "good-token";
const LIMIT: usize = 1024;

struct Echo {
    next_id: AtomicU64,
}

fn envelope(errors: Vec<PropertyError>) -> ErrorEnvelope {
    ErrorEnvelope {
        message: errors
            .iter()
            .map(|e| format!("{}: {}", e.property_name, e.message))
            .collect::<Vec<_>>()
            .join("\n"),
        errors,
        status: None,
        value: Value::Null,
        was_successful: false,
    }
}

fn error(property: &str, message: String) -> PropertyError {
    PropertyError {
        attempted_value: Value::Null,
        message,
        property_name: property.to_owned(),
    }
}

impl NexudusBillingApi for Echo {
    type Caller = String;

    async fn authenticate(
        &self,
        operation: &'static Operation,
        headers: &http::HeaderMap,
    ) -> Result<String, ErrorEnvelope> {
        assert_eq!(operation.security[0].scopes, ["CoworkerTimePass-Create"]);
        match nexudus_server_api::bearer_token(headers) {
            Ok(TOKEN) => Ok("admin@example.com".to_owned()),
            Ok(_) => Err(envelope(vec![error(
                "Authorization",
                "unknown token".into(),
            )])),
            Err(e) => Err(envelope(vec![error("Authorization", e.to_string())])),
        }
    }

    fn reject(&self, _: &'static Operation, rejection: Rejection) -> ErrorEnvelope {
        match rejection {
            Rejection::Invalid(violations) => envelope(
                violations
                    .into_iter()
                    .map(|v| PropertyError {
                        attempted_value: v.value.clone().unwrap_or(Value::Null),
                        message: v.message.clone(),
                        property_name: v.property_name().unwrap_or_else(|| "$body".into()),
                    })
                    .collect(),
            ),
            other => envelope(vec![error("$body", other.to_string())]),
        }
    }

    fn body_limit(&self) -> usize {
        LIMIT
    }

    async fn create_coworker_time_pass(
        &self,
        caller: String,
        body: CoworkerTimePassCreate,
    ) -> CreateCoworkerTimePassResponse {
        let id = self
            .next_id
            .fetch_add(body.create_multiple.get().into(), Ordering::SeqCst);
        CreateCoworkerTimePassResponse::Ok(CreateSuccess {
            errors: None,
            java_script: None,
            message: "CoworkerTimePass was successfully created.".into(),
            open_in_dialog: false,
            open_in_window: false,
            redirect_url: None,
            status: 200,
            updated_by: caller,
            updated_on: "2025-01-15T10:30:00Z".parse().unwrap(),
            value: CreatedRecord {
                id: id.try_into().unwrap(),
            },
            was_successful: true,
        })
    }
}

/// A server on an ephemeral loopback port, stopped when dropped.
struct TestServer {
    base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn start() -> TestServer {
    let router = nexudus_server_api::router(Arc::new(Echo {
        next_id: AtomicU64::new(1),
    }))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    TestServer {
        base_url,
        shutdown: Some(shutdown),
    }
}

fn request() -> CoworkerTimePassCreate {
    serde_json::from_value(json!({
        "CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 2
    }))
    .unwrap()
}

#[tokio::test]
async fn generated_client_creates_through_generated_router() {
    let server = start().await;
    let client = nexudus_client::authenticated(&server.base_url, TOKEN).unwrap();
    let first = client.create_coworker_time_pass(&request()).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.value.id.get(), 1);
    assert_eq!(first.updated_by, "admin@example.com");
    let second = client.create_coworker_time_pass(&request()).await.unwrap();
    assert_eq!(
        second.value.id.get(),
        3,
        "CreateMultiple 2 took ids 1 and 2"
    );
}

#[tokio::test]
async fn authentication_failures_are_401_envelopes_for_the_client() {
    let server = start().await;
    for client in [
        nexudus_client::anonymous(&server.base_url).unwrap(),
        nexudus_client::authenticated(&server.base_url, "wrong").unwrap(),
    ] {
        match client.create_coworker_time_pass(&request()).await {
            Err(nexudus_client::Error::ErrorResponse(response)) => {
                assert_eq!(response.status(), 401);
                assert!(!response.was_successful);
                assert_eq!(response.errors[0].property_name, "Authorization");
            }
            other => panic!("expected a 401 envelope, got {other:?}"),
        }
    }
}

/// Sends raw bytes, the way a broken client would, and returns status, content type and body.
async fn send(
    server: &TestServer,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, String, Value) {
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .post(format!(
            "{}/api/billing/coworkertimepasses",
            server.base_url
        ))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

/// One raw request and the status and first `PropertyName` it must get.
struct Case {
    name: &'static str,
    token: Option<&'static str>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    property: &'static str,
}

fn case(name: &'static str, body: &[u8], status: u16, property: &'static str) -> Case {
    Case {
        name,
        token: Some(TOKEN),
        content_type: Some("application/json"),
        body: body.to_vec(),
        status,
        property,
    }
}

#[tokio::test]
async fn transport_errors_are_envelopes_with_the_documented_status() {
    let server = start().await;
    let valid = br#"{"CoworkerId":1,"BusinessId":2,"TimePassId":3,"CreateMultiple":1}"#;
    let cases = [
        case("malformed JSON", b"{\"CoworkerId\": ", 400, "$body"),
        case("empty body", b"", 400, "$body"),
        case("invalid UTF-8", b"{\"Notes\": \"\xff\"}", 400, "$body"),
        case("array body", b"[]", 400, "$body"),
        case(
            "wrong type",
            br#"{"CoworkerId":"1","BusinessId":2,"TimePassId":3,"CreateMultiple":1}"#,
            400,
            "CoworkerId",
        ),
        case(
            "missing field",
            br#"{"BusinessId":2,"TimePassId":3,"CreateMultiple":1}"#,
            400,
            "CoworkerId",
        ),
        Case {
            content_type: Some("text/plain"),
            ..case("text/plain", valid, 415, "$body")
        },
        Case {
            content_type: None,
            ..case("no content type", valid, 415, "$body")
        },
        case("too large", &[b' '; LIMIT + 1], 413, "$body"),
        Case {
            token: None,
            ..case("no token before a bad body", b"{", 401, "Authorization")
        },
    ];
    for case in cases {
        let name = case.name;
        let (status, content_type, body) =
            send(&server, case.token, case.content_type, case.body).await;
        assert_eq!(status, case.status, "{name}");
        assert_eq!(content_type, "application/json", "{name}");
        assert_eq!(body["WasSuccessful"], false, "{name}");
        assert_eq!(body["Value"], Value::Null, "{name}");
        assert_eq!(
            body["Errors"][0]["PropertyName"], case.property,
            "{name}: {body}"
        );
    }
}

#[tokio::test]
async fn every_violation_reaches_the_implementation() {
    let server = start().await;
    let body = br#"{"CoworkerId":0,"TimePassId":null,"CreateMultiple":101,"Price":-1}"#.to_vec();
    let (status, _, body) = send(&server, Some(TOKEN), Some("application/json"), body).await;
    assert_eq!(status, 400);
    let properties: Vec<&str> = body["Errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["PropertyName"].as_str().unwrap())
        .collect();
    assert_eq!(
        properties,
        [
            "BusinessId",
            "CoworkerId",
            "CreateMultiple",
            "Price",
            "TimePassId"
        ]
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_not_served() {
    let server = start().await;
    let client = nexudus_client::http_client_builder().build().unwrap();
    let get = client
        .get(format!(
            "{}/api/billing/coworkertimepasses",
            server.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let other = client
        .post(format!("{}/api/billing/other", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}
