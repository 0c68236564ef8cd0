//! Nexudus' own answers, as its pages show them, played back to the client and to the runner:
//! each is a correct answer. The create's 200 and 400 are the API reference page's examples
//! (`tests/it/documented`); the throttled 409 and the token endpoint's `invalid_grant` are
//! quoted in `../shared/reference/nexudus-api-facts.md`. Nothing here is the reference
//! server's: a player answers with the recorded bytes.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{body::Body, extract::State, http::Request, response::Response};
use loopback::Served;
use serde_json::{Value, json};

use crate::{ReferenceServer, target};

/// The API reference page's example responses of the create, by status.
fn documented() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/it/documented/create-coworkertimepass.examples.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["responses"].clone()
}

/// The throttled answer as Nexudus' limits page shows it, whole.
fn throttled() -> Response {
    Response::builder()
        .status(409)
        .header("Cache-Control", "no-cache")
        .header("Pragma", "no-cache")
        .header("Expires", "-1")
        .header("Retry-After", "1")
        .header("Content-Length", "0")
        .body(Body::empty())
        .unwrap()
}

fn json_answer(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

/// Answers the token endpoint `invalid_grant`, and creates in turn: the 409, the 200, the 400.
async fn play(State(creates): State<Arc<AtomicUsize>>, request: Request<Body>) -> Response {
    if request.uri().path() == "/api/token" {
        return json_answer(
            400,
            &json!({"error": "invalid_grant", "error_description": "The user name or password is incorrect."}),
        );
    }
    let documented = documented();
    match creates.fetch_add(1, Ordering::SeqCst) {
        0 => throttled(),
        1 => json_answer(200, &documented["200"]),
        _ => json_answer(400, &documented["400"]),
    }
}

#[tokio::test]
async fn the_client_takes_each_documented_answer_as_nexudus_means_it() {
    let player = Served::start(
        axum::Router::new()
            .fallback(play)
            .with_state(Arc::new(AtomicUsize::new(0))),
    )
    .await;
    let client = nexudus_client::authenticated(player.base_url(), "a-token").unwrap();
    let body: nexudus_types::CoworkerTimePassCreate = serde_json::from_value(
        json!({"CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 1}),
    )
    .unwrap();

    // The 409 is waited out for its Retry-After, and the 200 after it decoded.
    let started = Instant::now();
    let created = client
        .create_coworker_time_pass(&body)
        .await
        .unwrap()
        .into_inner();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        serde_json::to_value(&created).unwrap()["Value"]["Id"],
        87654321
    );
    assert_eq!(
        created.message,
        "CoworkerTimePass was successfully created."
    );

    // The 400 is a validation error naming its property.
    let refused =
        nexudus_client::ApiError::from(client.create_coworker_time_pass(&body).await.unwrap_err());
    assert_eq!(refused.kind(), nexudus_client::ErrorKind::Validation);
    assert_eq!(refused.errors()[0].property_name, "Name");
    assert_eq!(refused.errors()[0].message, "is a required field");

    // A refused sign-in is the OAuth error, by its code.
    match nexudus_client::sign_in(player.base_url(), "someone@example.com", "wrong").await {
        Err(nexudus_client::SignInError::Refused(refusal)) => {
            assert_eq!(refusal.error, nexudus_types::TokenErrorError::InvalidGrant)
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}

/// A proxy in front of the reference server that answers every eighth request with Nexudus'
/// throttled answer, as recorded.
async fn throttle_some(
    State(state): State<Arc<(String, AtomicUsize)>>,
    request: Request<Body>,
) -> Response {
    let (upstream, count) = &*state;
    if count.fetch_add(1, Ordering::SeqCst) % 8 == 7 {
        return throttled();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let http = nexudus_client::http_client_builder().build().unwrap();
    let mut outgoing = http.request(
        parts.method,
        format!("{upstream}{}", parts.uri.path_and_query().unwrap()),
    );
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_waits_out_the_documented_throttled_answer() {
    let server = ReferenceServer::start().await;
    let proxy = Served::start(
        axum::Router::new()
            .fallback(throttle_some)
            .with_state(Arc::new((
                server.base_url().to_owned(),
                AtomicUsize::new(0),
            ))),
    )
    .await;
    let options = contract::Options {
        cases: 4,
        sequences: 1,
        steps: 4,
        writers: 2,
        keep_records: true,
        ..contract::Options::default()
    };
    let mut target = target(proxy.base_url());
    target.sign_in = None;
    let report = contract::run(&nexudus_client::API, &target, &options, &mut || ())
        .await
        .unwrap();
    assert!(report.passed(), "{}", report.failure_details());
    assert!(report.throttled > 0, "nothing was throttled");
}
