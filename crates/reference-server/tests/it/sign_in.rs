//! The token endpoint over HTTP: both grants, the tokens it issues on every operation, their
//! expiry and their durability, and every malformed request answered with the OAuth 2.0 error.

use std::time::Duration;

use reference_server::{Config, TokenLifetimes, users::Users};
use serde_json::{Value, json};

use crate::{ADMIN, TestServer, minimal, post_raw};

const FORM: &str = "application/x-www-form-urlencoded";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

async fn token(server: &TestServer, body: Vec<u8>) -> (u16, Value) {
    token_for(server, None, body).await
}

/// A grant for the client `client` (the `client_id` header).
async fn token_for(server: &TestServer, client: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .post(format!("{}/api/token", server.base_url()))
        .header("content-type", FORM)
        .body(body);
    if let Some(client) = client {
        request = request.header("client_id", client);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn password(server: &TestServer, username: &str, password: &str) -> (u16, Value) {
    token(
        server,
        form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ]),
    )
    .await
}

/// The refresh grant for the administrator's default client, the email.
async fn refresh(server: &TestServer, refresh_token: &str) -> (u16, Value) {
    refresh_for(server, Some("admin@example.com"), refresh_token).await
}

async fn refresh_for(
    server: &TestServer,
    client: Option<&str>,
    refresh_token: &str,
) -> (u16, Value) {
    token_for(
        server,
        client,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ]),
    )
    .await
}

/// The built-in administrator's password grant with one more parameter: the status.
async fn admin_with(server: &TestServer, (name, value): (&str, &str)) -> u16 {
    let body = form(&[
        ("grant_type", "password"),
        ("username", "admin@example.com"),
        ("password", "local-admin-password"),
        (name, value),
    ]);
    token(server, body).await.0
}

fn text<'v>(body: &'v Value, key: &str) -> &'v str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {body}"))
}

/// Creates with `token`: the status.
async fn create_with(server: &TestServer, token: &str) -> u16 {
    post_raw(
        &server.url(),
        Some(token),
        Some("application/json"),
        serde_json::to_vec(&minimal()).unwrap(),
    )
    .await
    .status
}

async fn start_with_lifetimes(dir: &tempfile::TempDir, access: Duration) -> TestServer {
    let config = Config {
        tokens: TokenLifetimes {
            access,
            refresh: Duration::from_secs(3600),
        },
        ..Config::loopback(dir.path().join("reference.sqlite3"))
    };
    // The server's own directory is a fresh one inside `dir`; the database is `dir`'s, so that
    // a second server opens the first one's.
    TestServer::start_in(tempfile::tempdir_in(dir.path()).unwrap(), config).await
}

#[tokio::test]
async fn a_password_grant_issues_a_bearer_token_with_the_users_roles() {
    let server = TestServer::start().await;
    let (status, granted) =
        password(&server, "creator@example.com", "local-creator-password").await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["token_type"], "bearer");
    assert_eq!(granted["expires_in"], 604_799);
    let access = text(&granted, "access_token");
    assert_eq!(create_with(&server, access).await, 200);

    // The reader's token reads and lists, and may not create: the user's roles, not a token's.
    let (_, reader) = password(&server, "READER@example.com", "local-reader-password").await;
    let reader = text(&reader, "access_token");
    let refused = post_raw(
        &server.url(),
        Some(reader),
        Some("application/json"),
        serde_json::to_vec(&minimal()).unwrap(),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.body["Message"]
            .as_str()
            .unwrap()
            .contains("reader@example.com")
    );
    let client = server.client(reader);
    assert!(
        client
            .list_coworker_time_passes(
                None, None, None, None, None, None, None, None, None, None, None, None
            )
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn wrong_credentials_are_one_invalid_grant_whoever_the_user() {
    let server = TestServer::start().await;
    let expected = json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."});
    for (username, secret) in [
        ("admin@example.com", "local-admin-passwor"),
        ("admin@example.com", "local-creator-password"),
        ("nobody@example.com", "local-admin-password"),
    ] {
        assert_eq!(
            password(&server, username, secret).await,
            (400, expected.clone()),
            "{username}"
        );
    }
}

/// Nexudus' two other refusals of a right password: a user with two-factor sign-in needs the
/// current code of their authenticator as `totp`, and a user who must choose a new password
/// gets no tokens. A wrong password is still `invalid_grant`, whatever else the user needs.
#[tokio::test]
async fn a_second_factor_and_a_password_reset_are_asked_for_by_their_codes() {
    let server = TestServer::start().await;
    let with_code = |code: String| {
        form(&[
            ("grant_type", "password"),
            ("username", "twofactor@example.com"),
            ("password", "local-twofactor-password"),
            ("totp", &code),
        ])
    };
    let authenticator =
        reference_server::users::authenticator(reference_server::users::BUILTIN_TOTP_SECRET)
            .unwrap();
    let (status, body) =
        password(&server, "twofactor@example.com", "local-twofactor-password").await;
    assert_eq!(
        (status, text(&body, "error")),
        (400, "two_factor_auth_check")
    );
    let stale = authenticator.generate(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 300,
    );
    let (status, body) = token(&server, with_code(stale)).await;
    assert_eq!(
        (status, text(&body, "error")),
        (400, "two_factor_auth_check")
    );
    let (status, body) = token(
        &server,
        with_code(authenticator.generate_current().unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text(&body, "token_type"), "bearer");
    let (status, body) = password(&server, "twofactor@example.com", "local-reset-password").await;
    assert_eq!((status, text(&body, "error")), (400, "invalid_grant"));

    let (status, body) = password(&server, "reset@example.com", "local-reset-password").await;
    assert_eq!((status, text(&body, "error")), (400, "must_reset_password"));
    let (status, body) = password(&server, "reset@example.com", "local-twofactor-password").await;
    assert_eq!((status, text(&body, "error")), (400, "invalid_grant"));
    // A code sent by a user without two-factor sign-in is ignored.
    assert_eq!(admin_with(&server, ("totp", "000000")).await, 200);

    // The client asks for a code at each password grant; without one it is refused by name.
    match nexudus_client::sign_in(
        server.base_url(),
        "twofactor@example.com",
        "local-twofactor-password",
    )
    .await
    {
        Err(nexudus_client::SignInError::Refused(refusal)) => assert_eq!(
            refusal.error,
            nexudus_client::nexudus_types::TokenErrorError::TwoFactorAuthCheck
        ),
        other => panic!("expected two_factor_auth_check, got {other:?}"),
    }
    let client = nexudus_client::sign_in_with_code(
        server.base_url(),
        "twofactor@example.com",
        "local-twofactor-password",
        move || authenticator.generate_current().unwrap(),
        nexudus_client::Behaviour::default(),
    )
    .await
    .unwrap();
    let missing = client
        .get_coworker_time_pass(std::num::NonZeroU64::new(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(reqwest::StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn a_refresh_token_gets_one_new_pair() {
    let server = TestServer::start().await;
    let (_, first) = password(&server, "admin@example.com", "local-admin-password").await;
    let (status, second) = refresh(&server, text(&first, "refresh_token")).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(
        create_with(&server, text(&second, "access_token")).await,
        200
    );
    // The first access token stays valid until it expires.
    assert_eq!(
        create_with(&server, text(&first, "access_token")).await,
        200
    );

    let used = refresh(&server, text(&first, "refresh_token")).await;
    assert_eq!(
        (used.0, &used.1["error"]),
        (400, &json!("invalid_grant")),
        "{}",
        used.1
    );
    // An access token is not a refresh token, and a refresh token is not a bearer token.
    let wrong_kind = refresh(&server, text(&second, "access_token")).await;
    assert_eq!(wrong_kind.1["error"], "invalid_grant");
    assert_eq!(
        create_with(&server, text(&second, "refresh_token")).await,
        401
    );
    assert_eq!(
        refresh(&server, text(&second, "refresh_token")).await.0,
        200
    );
}

/// Refresh tokens are kept one per user and client (`client_id`, the email when the password
/// grant leaves it out): a new pair retires the client's earlier refresh token and no other,
/// access tokens live on, and a refresh must name the client, the one it was issued to.
#[tokio::test]
async fn refresh_tokens_are_kept_one_per_client() {
    let server = TestServer::start().await;
    let admin = form(&[
        ("grant_type", "password"),
        ("username", "admin@example.com"),
        ("password", "local-admin-password"),
    ]);
    let (_, default) = token(&server, admin.clone()).await;
    let (_, first) = token_for(&server, Some("export"), admin.clone()).await;
    let (_, second) = token_for(&server, Some("export"), admin.clone()).await;
    let error = |(status, body): (u16, Value)| (status, body["error"].as_str().unwrap().to_owned());

    let retired = refresh_for(&server, Some("export"), text(&first, "refresh_token")).await;
    assert_eq!(error(retired), (400, "invalid_grant".to_owned()));
    assert_eq!(
        create_with(&server, text(&first, "access_token")).await,
        200
    );
    let elsewhere = refresh_for(&server, Some("other"), text(&second, "refresh_token")).await;
    assert_eq!(error(elsewhere), (400, "invalid_grant".to_owned()));
    let unnamed = refresh_for(&server, None, text(&second, "refresh_token")).await;
    assert_eq!(error(unnamed), (400, "invalid_request".to_owned()));
    // Neither refusal used the token up, and the default client's pair was not retired.
    let (status, body) = refresh_for(&server, Some("export"), text(&second, "refresh_token")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = refresh(&server, text(&default, "refresh_token")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn issued_tokens_expire_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_lifetimes(&dir, Duration::from_secs(3600)).await;
    let (_, granted) = password(&server, "admin@example.com", "local-admin-password").await;
    assert_eq!(granted["expires_in"], 3600);
    drop(server);
    let server = start_with_lifetimes(&dir, Duration::from_secs(3600)).await;
    assert_eq!(
        create_with(&server, text(&granted, "access_token")).await,
        200
    );
    assert_eq!(
        refresh(&server, text(&granted, "refresh_token")).await.0,
        200
    );
    drop(server);

    let short = start_with_lifetimes(&dir, Duration::from_secs(1)).await;
    let (_, granted) = password(&short, "admin@example.com", "local-admin-password").await;
    assert_eq!(granted["expires_in"], 1);
    assert_eq!(
        create_with(&short, text(&granted, "access_token")).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = post_raw(
        &short.url(),
        Some(text(&granted, "access_token")),
        Some("application/json"),
        serde_json::to_vec(&minimal()).unwrap(),
    )
    .await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.body["Errors"][0]["Message"],
        "the bearer token has expired"
    );
    // Its refresh token outlives it.
    assert_eq!(
        refresh(&short, text(&granted, "refresh_token")).await.0,
        200
    );
}

#[tokio::test]
async fn malformed_token_requests_get_the_oauth_error_and_never_a_5xx() {
    let server = TestServer::start().await;
    let long = "a".repeat(10 * 1024);
    let cases: Vec<(&str, Option<&str>, Vec<u8>, &str)> = vec![
        ("a JSON body", Some("application/json"), serde_json::to_vec(&json!({"grant_type": "password", "username": "admin@example.com", "password": "local-admin-password"})).unwrap(), "unsupported_grant_type"),
        ("no content type", None, form(&[("grant_type", "password")]), "unsupported_grant_type"),
        ("another grant", Some(FORM), form(&[("grant_type", "client_credentials")]), "unsupported_grant_type"),
        ("no grant", Some(FORM), form(&[("username", "admin@example.com"), ("password", "x")]), "invalid_request"),
        ("no password", Some(FORM), form(&[("grant_type", "password"), ("username", "admin@example.com")]), "invalid_request"),
        ("an empty password", Some(FORM), form(&[("grant_type", "password"), ("username", "admin@example.com"), ("password", "")]), "invalid_request"),
        ("a 10 KB username", Some(FORM), form(&[("grant_type", "password"), ("username", &long), ("password", "x")]), "invalid_request"),
        ("no refresh token", Some(FORM), form(&[("grant_type", "refresh_token")]), "invalid_request"),
        ("a refresh grant without client_id", Some(FORM), form(&[("grant_type", "refresh_token"), ("refresh_token", "0123")]), "invalid_request"),
        ("a repeated parameter", Some(FORM), b"grant_type=password&username=admin%40example.com&username=admin%40example.com&password=local-admin-password".to_vec(), "invalid_request"),
        ("a malformed escape", Some(FORM), b"grant_type=password&username=admin%4&password=x".to_vec(), "invalid_request"),
        ("bytes that are not UTF-8", Some(FORM), b"grant_type=password&username=\xff&password=x".to_vec(), "invalid_request"),
        ("an escape that is not UTF-8", Some(FORM), b"grant_type=password&username=%ff&password=x".to_vec(), "invalid_request"),
        ("a body over the limit", Some(FORM), vec![b'a'; nexudus_server_api::DEFAULT_BODY_LIMIT + 1], "invalid_request"),
        ("an empty body", Some(FORM), Vec::new(), "invalid_request"),
    ];
    for (name, content_type, body, error) in cases {
        let raw = post_raw(
            &format!("{}/api/token", server.base_url()),
            None,
            content_type,
            body,
        )
        .await;
        assert_eq!(
            (raw.status, &raw.body["error"]),
            (400, &json!(error)),
            "{name}: {}",
            raw.body
        );
        assert!(raw.body["error_description"].is_string(), "{name}");
    }
    // Unknown parameters are ignored, as RFC 6749 says.
    assert_eq!(admin_with(&server, ("scope", "all")).await, 200);
    // A bearer token is neither needed nor looked at.
    let raw = post_raw(
        &format!("{}/api/token", server.base_url()),
        Some("not-a-token"),
        Some(FORM),
        form(&[
            ("grant_type", "password"),
            ("username", "admin@example.com"),
            ("password", "local-admin-password"),
        ]),
    )
    .await;
    assert_eq!(raw.status, 200);
    assert_eq!(create_with(&server, ADMIN).await, 200);
}

#[tokio::test]
async fn signing_in_is_not_throttled_and_issued_tokens_are_throttled_by_their_user() {
    let server = TestServer::start_configured(
        Users::builtin(),
        reference_server::Limits::default(),
        "2/m".parse().unwrap(),
    )
    .await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (status, granted) =
            password(&server, "admin@example.com", "local-admin-password").await;
        assert_eq!(status, 200, "{granted}");
        tokens.push(text(&granted, "access_token").to_owned());
    }
    // Two issued tokens and the static token of one user share the user's limit.
    assert_eq!(create_with(&server, &tokens[0]).await, 200);
    assert_eq!(create_with(&server, ADMIN).await, 200);
    assert_eq!(create_with(&server, &tokens[1]).await, 409);
}

#[tokio::test]
async fn the_client_signs_in_refreshes_before_expiry_and_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_lifetimes(&dir, Duration::from_secs(1)).await;
    let refused = nexudus_client::sign_in(server.base_url(), "admin@example.com", "wrong").await;
    match refused {
        Err(nexudus_client::SignInError::Refused(error)) => {
            assert_eq!(error.error, nexudus_types::TokenErrorError::InvalidGrant);
        }
        other => panic!("{other:?}"),
    }

    let client = nexudus_client::sign_in(
        server.base_url(),
        "creator@example.com",
        "local-creator-password",
    )
    .await
    .unwrap();
    let body: nexudus_types::CoworkerTimePassCreate = serde_json::from_value(minimal()).unwrap();
    client.create_coworker_time_pass(&body).await.unwrap();
    let session = client.session().unwrap().clone();
    let first = session.access_token().await.unwrap();
    // Past the token's lifetime: the client refreshed it before sending.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.create_coworker_time_pass(&body).await.unwrap();
    let second = session.access_token().await.unwrap();
    assert_ne!(first, second);
    assert_eq!(server.count(), 2);

    let shown = format!("{client:?} {session:?}");
    for secret in ["local-creator-password", first.as_str(), second.as_str()] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("creator@example.com"));
}

/// The client's refresh grant names the client its tokens are for, so the refresh succeeds: a
/// user with two-factor sign-in is asked for a code once, at the password grant, and not again
/// when the access token expires.
#[tokio::test]
async fn the_client_refreshes_for_its_own_client_without_signing_in_again() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    let dir = tempfile::tempdir().unwrap();
    let server = start_with_lifetimes(&dir, Duration::from_secs(1)).await;
    let authenticator =
        reference_server::users::authenticator(reference_server::users::BUILTIN_TOTP_SECRET)
            .unwrap();
    let asked = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&asked);
    let client = nexudus_client::SignIn::new(
        server.base_url(),
        "twofactor@example.com",
        "local-twofactor-password",
    )
    .code(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        authenticator.generate_current().unwrap()
    })
    .client_id("billing-export")
    .send()
    .await
    .unwrap();
    let session = client.session().unwrap().clone();
    let first = session.access_token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let missing = client
        .get_coworker_time_pass(std::num::NonZeroU64::new(1).unwrap())
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(reqwest::StatusCode::NOT_FOUND));
    assert_ne!(session.access_token().await.unwrap(), first);
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "signed in again instead of refreshing"
    );
}

/// A hostile form: pairs of the endpoint's names (and others) with any text, raw `%` and `+`,
/// repeated names, bytes that are not UTF-8. Each gets 400 with an OAuth error code the spec
/// lists (or, for a right password that happens to be drawn, a grant), never a 5xx.
#[test]
fn arbitrary_forms_get_an_oauth_answer_and_never_a_5xx() {
    use proptest::prelude::*;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let name = prop::sample::select(vec![
        "grant_type",
        "username",
        "password",
        "refresh_token",
        "scope",
        "",
        "%",
        "grant_type%00",
    ]);
    let value = prop_oneof![
        Just("password".to_owned()),
        Just("refresh_token".to_owned()),
        Just("admin@example.com".to_owned()),
        Just("local-admin-password".to_owned()),
        ".{0,12}",
        "[%+=&a-f0-9]{0,8}",
    ];
    let text = prop::collection::vec((name, value), 0..6).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    });
    let body = prop_oneof![4 => text, 1 => prop::collection::vec(any::<u8>(), 0..48)];
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in body)| {
        let raw = runtime.block_on(post_raw(&format!("{}/api/token", server.base_url()), None, Some(FORM), body.clone()));
        let shown = String::from_utf8_lossy(&body).into_owned();
        if raw.status == 200 {
            prop_assert_eq!(&raw.body["token_type"], &json!("bearer"), "{}", shown);
        } else {
            prop_assert_eq!(raw.status, 400, "{}: {}", shown, raw.body);
            let error = raw.body["error"].as_str().unwrap_or_default();
            prop_assert!(
                ["invalid_request", "invalid_grant", "unsupported_grant_type"].contains(&error),
                "{}: {}", shown, raw.body
            );
        }
    });
}
