//! The generated router and the generated client, talking over real HTTP on loopback.
//!
//! `Echo` is the smallest implementation of the generated trait: it knows one token, answers
//! every rejection with an envelope naming the rejected properties, creates without storing, and
//! answers every other operation with what reached it (a list echoes its parameters, a read, an
//! update or a delete answers 404 naming the id it got). What is tested is what the router does
//! around it: authentication first, then parameters, content type, size, JSON, schema. Its token
//! endpoint (an operation without security, with a form body and an error body of its own)
//! echoes the form back as a grant.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use loopback::Served;
use nexudus_server_api::{
    CreateCoworkerTimePassResponse, CreateTokenResponse, DeleteCoworkerTimePassResponse,
    GetCoworkerTimePassResponse, ListCoworkerTimePassesResponse, NexudusBillingApi, Operation,
    Reject, Rejection, UpdateCoworkerTimePassResponse,
};
use nexudus_types::{
    CoworkerTimePassCreate, CoworkerTimePassList, CoworkerTimePassOrderField,
    CoworkerTimePassUpdate, CreateSuccess, CreatedRecord, ErrorEnvelope, PropertyError, TokenError,
    TokenErrorError, TokenGranted, TokenGrantedTokenType, TokenRequest,
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

/// The 404 envelope naming the id that reached the implementation.
fn absent(property: &str, id: i64) -> ErrorEnvelope {
    envelope(vec![PropertyError {
        attempted_value: id.into(),
        ..error(property, "not found".into())
    }])
}

impl Reject<ErrorEnvelope> for Echo {
    fn reject(&self, _: &'static Operation, rejection: Rejection) -> ErrorEnvelope {
        match rejection {
            Rejection::Invalid(violations) => envelope(
                violations
                    .into_iter()
                    .map(|v| PropertyError {
                        attempted_value: v.value.clone().unwrap_or(Value::Null),
                        message: v.message.to_string(),
                        property_name: v.property_name().unwrap_or_else(|| "$body".into()),
                    })
                    .collect(),
            ),
            other => envelope(vec![error("$body", other.to_string())]),
        }
    }
}

impl Reject<TokenError> for Echo {
    fn reject(&self, _: &'static Operation, rejection: Rejection) -> TokenError {
        TokenError {
            error: match rejection {
                Rejection::UnsupportedMediaType { .. } => TokenErrorError::UnsupportedGrantType,
                _ => TokenErrorError::InvalidRequest,
            },
            error_description: Some(rejection.to_string()),
        }
    }
}

impl NexudusBillingApi for Echo {
    type Caller = String;

    async fn authenticate(
        &self,
        operation: &'static Operation,
        headers: &http::HeaderMap,
    ) -> Result<String, ErrorEnvelope> {
        // The router passes the operation's own requirements.
        let role = operation.security[0].scopes[0];
        assert!(role.starts_with("CoworkerTimePass-"), "{role}");
        match nexudus_server_api::bearer_token(headers) {
            Ok(TOKEN) => Ok("admin@example.com".to_owned()),
            Ok(_) => Err(envelope(vec![error(
                "Authorization",
                "unknown token".into(),
            )])),
            Err(e) => Err(envelope(vec![error("Authorization", e.to_string())])),
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

    /// Echoes the header parameter (or the username) as the access token.
    async fn create_token(
        &self,
        client_id: Option<String>,
        body: TokenRequest,
    ) -> CreateTokenResponse {
        CreateTokenResponse::Ok(TokenGranted {
            access_token: client_id
                .or(body.username.map(|name| name.to_string()))
                .unwrap_or_else(|| "none".into())
                .parse()
                .unwrap(),
            expires_in: 1.try_into().unwrap(),
            refresh_token: body
                .password
                .map_or("none".into(), |name| name.to_string())
                .parse()
                .unwrap(),
            token_type: TokenGrantedTokenType::Bearer,
        })
    }

    async fn get_coworker_time_pass(&self, _: String, id: i64) -> GetCoworkerTimePassResponse {
        GetCoworkerTimePassResponse::NotFound(absent("id", id))
    }

    #[allow(clippy::too_many_arguments)]
    async fn list_coworker_time_passes(
        &self,
        _: String,
        page: Option<i32>,
        size: Option<i32>,
        order_by: Option<CoworkerTimePassOrderField>,
        dir: Option<i32>,
        coworker_id: Option<i64>,
        _: Option<i64>,
        _: Option<i64>,
        used: Option<bool>,
        _: Option<bool>,
        purchase_order: Option<String>,
        from: Option<chrono::DateTime<chrono::Utc>>,
        _: Option<chrono::DateTime<chrono::Utc>>,
    ) -> ListCoworkerTimePassesResponse {
        let filters = format!("{coworker_id:?} {used:?} {purchase_order:?} {from:?}");
        ListCoworkerTimePassesResponse::Ok(CoworkerTimePassList {
            records: Vec::new(),
            current_page: page.map_or(1, |page| page as u32).try_into().unwrap(),
            current_page_size: size.map_or(25, |size| size as u32).try_into().unwrap(),
            current_order_field: format!("{} {filters}", order_by.unwrap_or_default()),
            current_sort_direction: dir.unwrap_or(1),
            first_item: 0,
            last_item: 0,
            total_items: 0,
            total_pages: 0,
            has_next_page: false,
            has_previous_page: false,
        })
    }

    async fn update_coworker_time_pass(
        &self,
        _: String,
        body: CoworkerTimePassUpdate,
    ) -> UpdateCoworkerTimePassResponse {
        UpdateCoworkerTimePassResponse::NotFound(absent("Id", body.id.get() as i64))
    }

    async fn delete_coworker_time_pass(
        &self,
        _: String,
        id: i64,
    ) -> DeleteCoworkerTimePassResponse {
        DeleteCoworkerTimePassResponse::NotFound(absent("id", id))
    }
}

async fn start() -> Served {
    let router = nexudus_server_api::router(Arc::new(Echo {
        next_id: AtomicU64::new(1),
    }))
    .unwrap();
    Served::start(router).await
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
    let client = nexudus_client::authenticated(server.base_url(), TOKEN).unwrap();
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
        nexudus_client::anonymous(server.base_url()).unwrap(),
        nexudus_client::authenticated(server.base_url(), "wrong").unwrap(),
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
    server: &Served,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, String, Value) {
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .post(format!(
            "{}/api/billing/coworkertimepasses",
            server.base_url()
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
async fn parameters_reach_the_implementation_typed() {
    let server = start().await;
    let client = nexudus_client::authenticated(server.base_url(), TOKEN).unwrap();
    let listed = client
        .list_coworker_time_passes(
            None,
            std::num::NonZeroU64::new(9),
            None,
            Some(&"PO 7&x".parse().unwrap()),
            None,
            Some(true),
            Some(&(-1).try_into().unwrap()),
            Some(&"2026-07-31T02:00:00+02:00".parse().unwrap()),
            Some(&CoworkerTimePassOrderField::Price),
            std::num::NonZeroU32::new(3),
            std::num::NonZeroU32::new(10),
            None,
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (listed.current_page.get(), listed.current_page_size.get()),
        (3, 10)
    );
    assert_eq!(
        listed.current_order_field,
        "Price Some(9) Some(true) Some(\"PO 7&x\") Some(2026-07-31T00:00:00Z)"
    );
    assert_eq!(listed.current_sort_direction, -1);

    let id = std::num::NonZeroU64::new(7).unwrap();
    let read = client.get_coworker_time_pass(id).await;
    let deleted = client.delete_coworker_time_pass(id).await;
    for (result, property) in [(read.map(|_| ()), "id"), (deleted.map(|_| ()), "id")] {
        match result {
            Err(nexudus_client::Error::ErrorResponse(response)) => {
                assert_eq!(response.status(), 404);
                assert_eq!(response.errors[0].property_name, property);
                assert_eq!(response.errors[0].attempted_value, json!(7));
            }
            other => panic!("expected the 404 envelope, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn bad_parameters_are_400_envelopes_before_the_implementation() {
    let server = start().await;
    let client = nexudus_client::http_client_builder().build().unwrap();
    let base = format!("{}/api/billing/coworkertimepasses", server.base_url());
    for (path, expected) in [
        ("/0", vec![("id", json!("0"))]),
        ("/abc", vec![("id", json!("abc"))]),
        (
            "?page=0&size=1001&orderBy=Colour&dir=0&from_CoworkerTimePass_ExpireDate=2025-01-31T00:00",
            vec![
                ("page", json!("0")),
                ("size", json!("1001")),
                ("orderBy", json!("Colour")),
                ("dir", json!("0")),
                (
                    "from_CoworkerTimePass_ExpireDate",
                    json!("2025-01-31T00:00"),
                ),
            ],
        ),
    ] {
        let response = client
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        let errors: Vec<(&str, Value)> = body["Errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["PropertyName"].as_str().unwrap(),
                    e["AttemptedValue"].clone(),
                )
            })
            .collect();
        assert_eq!(errors, expected, "{path}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_not_served() {
    let server = start().await;
    let client = nexudus_client::http_client_builder().build().unwrap();
    let patch = client
        .patch(format!(
            "{}/api/billing/coworkertimepasses",
            server.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 405);
    let other = client
        .post(format!("{}/api/billing/other", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// An operation without security is answered without a token; its form body goes through the
/// schema like a JSON one, and its rejections are its own error body, at the statuses it
/// documents (400 for all: it documents no 413 or 415).
#[tokio::test]
async fn a_form_operation_without_security_reads_its_form_and_answers_its_own_errors() {
    let server = start().await;
    let client = nexudus_client::http_client_builder().build().unwrap();
    let send = |content_type: &'static str, body: Vec<u8>| {
        let request = client
            .post(format!("{}/api/token", server.base_url()))
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let form = "application/x-www-form-urlencoded";
    let (status, body) = send(
        form,
        b"grant_type=password&username=a%40b.c&password=p+w".to_vec(),
    )
    .await;
    assert_eq!(
        (status, &body["access_token"], &body["refresh_token"]),
        (200, &json!("a@b.c"), &json!("p w"))
    );
    for (name, content_type, body, error) in [
        (
            "JSON",
            "application/json",
            br#"{"grant_type":"password"}"#.to_vec(),
            "unsupported_grant_type",
        ),
        ("no grant", form, b"username=a".to_vec(), "invalid_request"),
        (
            "repeated",
            form,
            b"grant_type=password&grant_type=password".to_vec(),
            "invalid_request",
        ),
        (
            "malformed",
            form,
            b"grant_type=%zz".to_vec(),
            "invalid_request",
        ),
        (
            "empty username",
            form,
            b"grant_type=password&username=".to_vec(),
            "invalid_request",
        ),
        ("oversize", form, vec![b'a'; LIMIT + 1], "invalid_request"),
    ] {
        let (status, answer) = send(content_type, body).await;
        assert_eq!(
            (status, &answer["error"]),
            (400, &json!(error)),
            "{name}: {answer}"
        );
    }
}

/// A header parameter is read from the head by its name in any case, through its schema like a
/// query parameter: sent twice, empty or too long, it is refused in the operation's own error
/// body.
#[tokio::test]
async fn a_header_parameter_is_read_in_any_case_and_validated_by_its_schema() {
    let server = start().await;
    let client = nexudus_client::http_client_builder().build().unwrap();
    let send = |headers: Vec<(&'static str, String)>| {
        let mut request = client
            .post(format!("{}/api/token", server.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&username=a%40b.c&password=p");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = send(vec![("Client_ID", "billing-export".into())]).await;
    assert_eq!(
        (status, &body["access_token"]),
        (200, &json!("billing-export"))
    );
    let (status, body) = send(Vec::new()).await;
    assert_eq!((status, &body["access_token"]), (200, &json!("a@b.c")));
    for (name, headers) in [
        (
            "twice",
            vec![("client_id", "a".to_owned()), ("client_id", "b".to_owned())],
        ),
        ("empty", vec![("client_id", String::new())]),
        ("too long", vec![("client_id", "c".repeat(257))]),
    ] {
        let (status, body) = send(headers).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_request")),
            "{name}: {body}"
        );
    }
}
