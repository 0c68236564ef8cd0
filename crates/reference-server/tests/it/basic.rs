//! Basic authentication, as Nexudus accepts it beside bearer tokens: the same users and roles, a
//! wrong password or a user who needs a second factor refused with 401, and requests counted
//! against the user's throttle once their credentials were verified.

use base64::Engine as _;
use reference_server::users::Users;
use serde_json::Value;

use crate::{TestServer, minimal};

fn basic(username: &str, password: &str) -> String {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

/// A create sent with `authorization`: the status and the body.
async fn create(server: &TestServer, authorization: &str) -> (u16, Value) {
    let response = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .post(server.url())
        .header("authorization", authorization)
        .json(&minimal())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn message(body: &Value) -> &str {
    body["Errors"][0]["Message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn basic_credentials_carry_the_users_roles() {
    let server = TestServer::start().await;
    let client = nexudus_client::basic(
        server.base_url(),
        "creator@example.com",
        "local-creator-password",
        nexudus_client::Behaviour::default(),
    )
    .unwrap();
    let body: nexudus_types::CoworkerTimePassCreate = serde_json::from_value(minimal()).unwrap();
    let created = client.create_coworker_time_pass(&body).await.unwrap();
    assert_eq!(created.updated_by, "creator@example.com");
    // Remembered once verified: the second request needs no new check, and is the same user.
    let again = client.create_coworker_time_pass(&body).await.unwrap();
    assert_eq!(again.updated_by, "creator@example.com");
    // The creator holds no Read role, with Basic as with a token.
    let read = client
        .get_coworker_time_pass(std::num::NonZeroU64::new(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!(read.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert!(!format!("{client:?}").contains("local-creator-password"));
}

#[tokio::test]
async fn basic_credentials_that_let_no_one_in_get_401_by_name() {
    let server = TestServer::start().await;
    for (name, authorization, says) in [
        (
            "wrong password",
            basic("admin@example.com", "not-the-password"),
            "the Basic username or password is incorrect",
        ),
        (
            "unknown user",
            basic("nobody@example.com", "local-admin-password"),
            "the Basic username or password is incorrect",
        ),
        (
            "two-factor sign-in",
            basic("twofactor@example.com", "local-twofactor-password"),
            "the user has two-factor sign-in",
        ),
        (
            "password reset",
            basic("reset@example.com", "local-reset-password"),
            "the user must choose a new password first",
        ),
        (
            "not base64",
            "Basic !!!".to_owned(),
            "the Basic credentials are malformed",
        ),
        (
            "another scheme",
            "Digest abc".to_owned(),
            "the Authorization header must use the Bearer or the Basic scheme",
        ),
    ] {
        let (status, body) = create(&server, &authorization).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert!(message(&body).starts_with(says), "{name}: {body}");
        assert_eq!(body["Errors"][0]["PropertyName"], "Authorization", "{name}");
    }
    assert_eq!(server.count(), 0);
}

/// A request with Basic credentials counts against the user's limits once they were verified:
/// the first is answered by the router, which verifies them; the limit holds from there on.
#[tokio::test]
async fn basic_requests_count_against_the_users_throttle() {
    let server = TestServer::start_configured(
        Users::builtin(),
        reference_server::Limits::default(),
        "2/m".parse().unwrap(),
    )
    .await;
    let admin = basic("admin@example.com", "local-admin-password");
    let statuses = [
        create(&server, &admin).await.0,
        create(&server, &admin).await.0,
        create(&server, &admin).await.0,
        create(&server, &admin).await.0,
    ];
    assert_eq!(statuses, [200, 200, 200, 409]);
}
