//! The auth matrix: who gets 401, with which message, and who may call which operation.

use nexudus_client::Error;
use reference_server::users::Users;
use serde_json::Value;

use crate::{ADMIN, CREATOR, NOROLE, READER, TestServer, assert_envelope, minimal, post_raw};

async fn status_and_body(server: &TestServer, authorization: Option<&str>) -> (u16, Value) {
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .post(server.url())
        .json(&minimal());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_auth_matrix() {
    let server = TestServer::start().await;
    let refused = [
        (None, "the Authorization header is missing"),
        (
            Some("Digest username=\"admin\""),
            "the Authorization header must use the Bearer or the Basic scheme",
        ),
        (
            Some("Basic YWRtaW46YWRtaW4="),
            "the Basic username or password is incorrect",
        ),
        (Some("Bearer"), "the bearer token is malformed"),
        (
            Some("Bearer not-a-known-token"),
            "the bearer token is not valid",
        ),
        (
            Some("Bearer local-reader-token"),
            "reader@example.com needs the CoworkerTimePass-Create role or to be a full unrestricted administrator",
        ),
    ];
    for (authorization, message) in refused {
        let (status, body) = status_and_body(&server, authorization).await;
        assert_eq!(status, 401, "{authorization:?}");
        assert_envelope(
            &body,
            &[("Authorization", Value::Null, message)],
            &format!("{authorization:?}"),
        );
    }
    assert_eq!(server.count(), 0, "no refused request stored anything");

    for (token, email) in [
        (CREATOR, "creator@example.com"),
        (ADMIN, "admin@example.com"),
    ] {
        let created = server
            .client(token)
            .create_coworker_time_pass(&serde_json::from_value(minimal()).unwrap())
            .await
            .unwrap();
        assert_eq!(created.updated_by, email);
    }
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn the_generated_client_sees_401_as_the_typed_envelope() {
    let server = TestServer::start().await;
    let request = serde_json::from_value(minimal()).unwrap();
    match server
        .client(READER)
        .create_coworker_time_pass(&request)
        .await
    {
        Err(Error::ErrorResponse(response)) => {
            assert_eq!(response.status(), 401);
            assert!(response.message.contains("CoworkerTimePass-Create"));
        }
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn authentication_comes_before_the_body() {
    let server = TestServer::start().await;
    let raw = post_raw(&server.url(), None, Some("text/plain"), b"{".to_vec()).await;
    assert_eq!(raw.status, 401);
}

#[tokio::test]
async fn users_come_from_a_file_with_roles_and_full_admins() {
    let users = Users::from_yaml(
        "users:\n  - {email: desk@example.com, token: desk-token, roles: [CoworkerTimePass-Create]}\n  - {email: boss@example.com, token: boss-token, full_admin: true}\n  - {email: nobody@example.com, token: nobody-token}\n",
    )
    .unwrap();
    let server = TestServer::start_with(users).await;
    let request = serde_json::from_value(minimal()).unwrap();
    for (token, ok) in [
        ("desk-token", true),
        ("boss-token", true),
        ("nobody-token", false),
        (ADMIN, false),
    ] {
        let result = server
            .client(token)
            .create_coworker_time_pass(&request)
            .await;
        assert_eq!(result.is_ok(), ok, "{token}");
    }
}

#[tokio::test]
async fn builtin_users_are_refused_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let error = reference_server::Server::bind(reference_server::Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..reference_server::Config::loopback(dir.path().join("db"))
    })
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("refusing to listen on 0.0.0.0:0"),
        "{error}"
    );
}

/// Each built-in user may call what its roles allow, and gets 401 naming the missing role for
/// the rest.
#[tokio::test]
async fn every_operation_checks_its_own_role() {
    let server = TestServer::start().await;
    let admin = server.client(ADMIN);
    let mut allowed = Vec::new();
    for (token, email) in [
        (ADMIN, "admin@example.com"),
        (CREATOR, "creator@example.com"),
        (READER, "reader@example.com"),
        (NOROLE, "norole@example.com"),
    ] {
        // A record of its own for each call that might change or remove one.
        let record = admin
            .create_coworker_time_pass(&serde_json::from_value(minimal()).unwrap())
            .await
            .unwrap()
            .value
            .id;
        let client = server.client(token);
        let mut update = minimal();
        update["Id"] = record.get().into();
        let outcomes: [(&str, Result<(), Error<nexudus_types::ErrorEnvelope>>); 5] = [
            (
                "CoworkerTimePass-Create",
                client
                    .create_coworker_time_pass(&serde_json::from_value(minimal()).unwrap())
                    .await
                    .map(|_| ()),
            ),
            (
                "CoworkerTimePass-Read",
                client.get_coworker_time_pass(record).await.map(|_| ()),
            ),
            (
                "CoworkerTimePass-List",
                client
                    .list_coworker_time_passes(
                        None, None, None, None, None, None, None, None, None, None, None, None,
                    )
                    .await
                    .map(|_| ()),
            ),
            (
                "CoworkerTimePass-Edit",
                client
                    .update_coworker_time_pass(&serde_json::from_value(update).unwrap())
                    .await
                    .map(|_| ()),
            ),
            (
                "CoworkerTimePass-Delete",
                client.delete_coworker_time_pass(record).await.map(|_| ()),
            ),
        ];
        for (role, outcome) in outcomes {
            match outcome {
                Ok(()) => allowed.push((email, role)),
                Err(Error::ErrorResponse(response)) => {
                    assert_eq!(response.status(), 401, "{email} {role}");
                    assert_eq!(
                        response.message,
                        format!(
                            "Authorization: {email} needs the {role} role or to be a full unrestricted administrator"
                        )
                    );
                }
                Err(other) => panic!("{email} {role}: {other}"),
            }
        }
    }
    assert_eq!(
        allowed,
        [
            ("admin@example.com", "CoworkerTimePass-Create"),
            ("admin@example.com", "CoworkerTimePass-Read"),
            ("admin@example.com", "CoworkerTimePass-List"),
            ("admin@example.com", "CoworkerTimePass-Edit"),
            ("admin@example.com", "CoworkerTimePass-Delete"),
            ("creator@example.com", "CoworkerTimePass-Create"),
            ("reader@example.com", "CoworkerTimePass-Read"),
            ("reader@example.com", "CoworkerTimePass-List"),
        ]
    );
}
