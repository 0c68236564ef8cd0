//! Per-user limits (`--throttle`): no window lets more of a user's requests through than the
//! limit, under 64 connections at once; a refused request is answered 409 with `Retry-After`
//! and no body, as Nexudus answers it, and changes nothing; other users and unknown tokens are
//! not counted.

use std::time::Instant;

use reference_server::{Limits, ThrottlePolicy, users::Users};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{ADMIN, CREATOR, TestServer, minimal};

async fn throttled(policy: &str) -> TestServer {
    TestServer::start_configured(Users::builtin(), Limits::default(), policy.parse().unwrap()).await
}

/// Sends `method url` with the admin's token and `body`; the status and `Retry-After`.
async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, Option<String>, serde_json::Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn sixty_four_connections_of_one_user_get_no_more_through_than_the_limit() {
    let server = throttled("5/s").await;
    let url = server.url();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let url = url.clone();
        tasks.spawn(async move {
            // A client each: 64 connections, not one pool's few.
            let http = nexudus_client::http_client_builder().build().unwrap();
            send(&http, reqwest::Method::GET, &url, ADMIN, None).await
        });
    }
    let answers = tasks.join_all().await;
    let elapsed = started.elapsed();
    let through = answers.iter().filter(|(status, ..)| *status == 200).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, ..)| *status == 409)
        .collect();
    assert_eq!(through + refused.len(), 64, "{answers:?}");
    // Each started second is one window: no window holds more than 5.
    let windows = elapsed.as_secs_f64().ceil().max(1.0) as usize;
    assert!(
        (1..=5 * windows).contains(&through),
        "{through} let through in {elapsed:?}"
    );
    for (_, retry_after, body) in refused {
        let seconds: u64 = retry_after
            .as_deref()
            .expect("a 409 carries Retry-After")
            .parse()
            .expect("whole seconds");
        assert_eq!(seconds, 1, "a 1 s window asks for at most 1 s");
        assert_eq!(*body, Value::Null, "a throttled answer has no body");
    }
}

/// A throttled answer is the one Nexudus documents, byte for byte where it counts: the status
/// line with its own reason phrase, the headers that keep it out of caches, and no body.
#[tokio::test]
async fn a_throttled_answer_is_the_one_nexudus_documents() {
    let server = throttled("1/m").await;
    let address = server.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\r\n"
    );
    for _ in 0..2 {
        stream.write_all(request.as_bytes()).await.unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let throttled = &answer[answer.rfind("HTTP/1.1 ").unwrap()..];
    let lines: Vec<&str> = throttled.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "HTTP/1.1 409 You must wait before accessing this url again."
    );
    let header = |name: &str| {
        lines
            .iter()
            .find_map(|line| {
                let (found, value) = line.split_once(": ")?;
                found.eq_ignore_ascii_case(name).then_some(value)
            })
            .unwrap_or_else(|| panic!("no {name} in {throttled}"))
    };
    assert_eq!(header("cache-control"), "no-cache");
    assert_eq!(header("pragma"), "no-cache");
    assert_eq!(header("expires"), "-1");
    assert_eq!(header("content-length"), "0");
    let seconds: u64 = header("retry-after").parse().unwrap();
    assert!((59..=60).contains(&seconds), "{seconds}");
    assert!(throttled.ends_with("\r\n\r\n"), "no body: {throttled:?}");
}

#[tokio::test]
async fn a_throttled_write_changes_nothing_and_counts_for_its_user_only() {
    let server = throttled("1/m").await;
    let http = nexudus_client::http_client_builder().build().unwrap();
    let url = server.url();
    let (status, ..) = send(&http, reqwest::Method::POST, &url, ADMIN, Some(minimal())).await;
    assert_eq!(status, 200);
    let (status, retry_after, _) =
        send(&http, reqwest::Method::POST, &url, ADMIN, Some(minimal())).await;
    assert_eq!(status, 409);
    let seconds: u64 = retry_after.unwrap().parse().unwrap();
    assert!((59..=60).contains(&seconds), "{seconds}");
    assert_eq!(server.count(), 1, "the refused create wrote nothing");
    // Another user has windows of their own.
    let (status, ..) = send(&http, reqwest::Method::POST, &url, CREATOR, Some(minimal())).await;
    assert_eq!(status, 200);
    // An unknown token has no user to count against: it is the router's 401.
    let (status, ..) = send(&http, reqwest::Method::GET, &url, "no-such-token", None).await;
    assert_eq!(status, 401);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn off_by_default() {
    let server = TestServer::start().await;
    let http = nexudus_client::http_client_builder().build().unwrap();
    for _ in 0..30 {
        let (status, ..) = send(&http, reqwest::Method::GET, &server.url(), ADMIN, None).await;
        assert_eq!(status, 200);
    }
    assert_eq!(ThrottlePolicy::default().to_string(), "off");
}

fn create_body() -> nexudus_types::CoworkerTimePassCreate {
    serde_json::from_value(minimal()).unwrap()
}

#[tokio::test]
async fn the_client_waits_out_throttling_within_its_limit() {
    let server = throttled("1/s").await;
    let client = server.client(ADMIN);
    client
        .create_coworker_time_pass(&create_body())
        .await
        .unwrap();
    // The second create in the same second is throttled: the client waits and sends it again.
    let started = Instant::now();
    client
        .create_coworker_time_pass(&create_body())
        .await
        .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    assert_eq!(server.count(), 2);

    // A client that may not wait gets the 409 and how long the server asked for.
    let impatient = nexudus_client::authenticated_with(
        server
            .url()
            .trim_end_matches("/api/billing/coworkertimepasses"),
        ADMIN,
        nexudus_client::Behaviour {
            throttle_wait: std::time::Duration::ZERO,
            ..nexudus_client::Behaviour::default()
        },
    )
    .unwrap();
    let error = impatient
        .create_coworker_time_pass(&create_body())
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(reqwest::StatusCode::CONFLICT),
        "{error}"
    );
    assert_eq!(
        nexudus_client::retry_after(&error),
        Some(std::time::Duration::from_secs(1))
    );
    // The answer has no body to decode: the caller's error says what it is all the same.
    let error = nexudus_client::ApiError::from(error);
    assert_eq!(
        (error.kind(), error.status(), error.retry_after()),
        (
            nexudus_client::ErrorKind::Throttled,
            Some(409),
            Some(std::time::Duration::from_secs(1))
        )
    );
    assert_eq!(
        error.message(),
        "You must wait before accessing this url again (Retry-After 1 s)."
    );
    assert_eq!(server.count(), 2, "the refused create wrote nothing");
}
