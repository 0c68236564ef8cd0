//! The server as a hostile client meets it: one strict reading of every request (media types,
//! encodings, repeated keys and headers), the envelope on every error down to malformed HTTP,
//! and the timeouts and connection cap that keep slow and idle clients from holding it.
//! Requests are written byte for byte on a socket, so nothing in between tidies them.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use loopback::raw;
use proptest::prelude::*;
use reference_server::Limits;
use serde_json::{Value, json};

use crate::{TestServer, assert_envelope, minimal};

/// A create with `headers` (one per line, as sent) and `body`.
fn create(headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(body);
    request
}

/// A create whose body is sent in one chunk, with `framing` (header lines) saying how.
fn chunked(framing: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n{JSON}\r\n{framing}\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    request
}

const AUTH: &str = "Authorization: Bearer local-admin-token";
const JSON: &str = "Content-Type: application/json";

/// One row of the table: what is sent, and the status and `Errors` it must get.
struct Row {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    errors: Vec<(&'static str, Value, &'static str)>,
}

fn rows() -> Vec<Row> {
    let body = serde_json::to_vec(&minimal()).unwrap();
    let row = |name, request, status, errors| Row {
        name,
        request,
        status,
        errors,
    };
    let mut rows = Vec::new();
    for media_type in [
        "application/problem+json",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        "application/json; version=2",
    ] {
        rows.push(row(
            media_type,
            create(&[AUTH, &format!("Content-Type: {media_type}")], &body),
            415,
            vec![(
                "Content-Type",
                json!(media_type),
                "must be application/json",
            )],
        ));
    }
    rows.extend([
        row(
            "charset=utf-8 is JSON's own",
            create(&[AUTH, "Content-Type: application/json; charset=UTF-8"], &body),
            200,
            vec![],
        ),
        row(
            "Content-Encoding: gzip on a plain body",
            create(&[AUTH, JSON, "Content-Encoding: gzip"], &body),
            415,
            vec![(
                "Content-Encoding",
                json!("gzip"),
                "must not be sent: the body is read as it is",
            )],
        ),
        row(
            "two Content-Type headers",
            create(&[AUTH, JSON, "Content-Type: text/plain"], &body),
            400,
            vec![("Content-Type", Value::Null, "must be sent once")],
        ),
        row(
            "two Authorization headers",
            create(
                &[AUTH, "Authorization: Bearer local-reader-token", JSON],
                &body,
            ),
            400,
            vec![("Authorization", Value::Null, "must be sent once")],
        ),
        row(
            "a key given twice (the last value is valid)",
            create(
                &[AUTH, JSON],
                br#"{"CoworkerId":1,"BusinessId":1,"TimePassId":1,"CreateMultiple":1000,"CreateMultiple":1}"#,
            ),
            400,
            vec![("CreateMultiple", Value::Null, "is sent more than once")],
        ),
        row(
            "a key given twice with the same value",
            create(
                &[AUTH, JSON],
                br#"{"CoworkerId":1,"BusinessId":1,"TimePassId":1,"CreateMultiple":1,"BusinessId":1}"#,
            ),
            400,
            vec![("BusinessId", Value::Null, "is sent more than once")],
        ),
        // Identical values are one value (RFC 9112, section 6.3): hyper reads them as one.
        row(
            "the same Content-Length twice",
            format!(
                "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n{JSON}\r\n\
                 Content-Length: {0}\r\nContent-Length: {0}\r\n\r\n{1}",
                body.len(),
                String::from_utf8(body.clone()).unwrap()
            )
            .into_bytes(),
            200,
            vec![],
        ),
        row(
            "two Host headers",
            format!("GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: a\r\nHost: b\r\n{AUTH}\r\n\r\n")
                .into_bytes(),
            400,
            vec![("Host", Value::Null, "must be sent once")],
        ),
        // hyper drops a Content-Length beside Transfer-Encoding (RFC 9112, section 6.3) and
        // closes the connection after the answer: the body has one reading, the chunked one.
        row(
            "Content-Length beside Transfer-Encoding",
            chunked("Content-Length: 5\r\nTransfer-Encoding: chunked", &body),
            200,
            vec![],
        ),
        row(
            "a transfer coding besides chunked",
            chunked("Transfer-Encoding: gzip, chunked", &body),
            400,
            vec![(
                "Transfer-Encoding",
                Value::Null,
                "must be chunked alone: no other transfer coding is read",
            )],
        ),
        row(
            "chunked alone is read",
            chunked("Transfer-Encoding: chunked", &body),
            200,
            vec![],
        ),
        row(
            "a query parameter sent twice",
            format!("GET /api/billing/coworkertimepasses?page=1&page=2 HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n")
                .into_bytes(),
            400,
            vec![("page", json!(["1", "2"]), "is sent more than once")],
        ),
        row(
            "HTTP/1.1 without Host",
            format!("GET /api/billing/coworkertimepasses HTTP/1.1\r\n{AUTH}\r\n\r\n").into_bytes(),
            400,
            vec![("Host", Value::Null, "is a required header")],
        ),
        row(
            "an unknown path",
            format!("GET /api/billing/nothing HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n").into_bytes(),
            404,
            vec![("$path", json!("/api/billing/nothing"), "matches no operation")],
        ),
        row(
            "a method the path does not have",
            format!("PATCH /api/billing/coworkertimepasses/1 HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n")
                .into_bytes(),
            405,
            vec![(
                "$method",
                json!("PATCH"),
                "is not one this path has (see Allow)",
            )],
        ),
        row(
            "-0 as an id",
            format!("GET /api/billing/coworkertimepasses/-0 HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n")
                .into_bytes(),
            400,
            vec![("id", json!("-0"), "must be at least 1")],
        ),
        row(
            "a request target of 70,000 bytes",
            format!(
                "GET /api/billing/coworkertimepasses/{} HTTP/1.1\r\nHost: t\r\n\r\n",
                "1".repeat(70_000)
            )
            .into_bytes(),
            414,
            vec![("$path", Value::Null, "is longer than the server reads")],
        ),
        row(
            "a header section of 500,000 bytes",
            format!(
                "GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
                "a".repeat(500_000)
            )
            .into_bytes(),
            431,
            vec![("$headers", Value::Null, "are larger than the server reads")],
        ),
    ]);
    for (name, request) in [
        (
            "a NUL in a header",
            &b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n"[..],
        ),
        (
            "header folding",
            b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n",
        ),
        (
            "two different Content-Length",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        ),
        (
            "a Content-Length that is not a number",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n",
        ),
        ("not HTTP", b"HELLO\r\n\r\n"),
    ] {
        rows.push(row(
            name,
            request.to_vec(),
            400,
            vec![("$request", Value::Null, "is not a valid HTTP/1.1 request")],
        ));
    }
    for date in ["9999-12-31T23:59:59-14:00", "0000-01-01T00:00:00+01:00"] {
        let mut body = minimal();
        body["ExpireDate"] = json!(date);
        rows.push(row(
            "a date whose UTC form leaves years 0000-9999",
            create(&[AUTH, JSON], &serde_json::to_vec(&body).unwrap()),
            400,
            vec![("ExpireDate", json!(date), "must be a valid date-time")],
        ));
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_has_one_reading_and_every_error_is_the_envelope() {
    let server = TestServer::start().await;
    let rows = rows();
    let mut stored = 0;
    for row in &rows {
        let answer = tokio::task::block_in_place(|| raw::exchange(server.base_url(), &row.request));
        assert_eq!(answer.status, row.status, "{}: {:?}", row.name, answer.body);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "{}: {:?}",
            row.name,
            answer.headers
        );
        if row.status == 200 {
            stored += 1;
        } else {
            assert_envelope(&answer.body, &row.errors, row.name);
        }
        assert_eq!(server.count(), stored, "{} stored something", row.name);
    }
    let wrong_method = rows
        .iter()
        .find(|row| row.status == 405)
        .map(|row| tokio::task::block_in_place(|| raw::exchange(server.base_url(), &row.request)))
        .unwrap();
    assert_eq!(wrong_method.header("allow"), Some("GET,HEAD,DELETE"));
    assert!(rows.len() >= 25, "{} rows", rows.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_given_before_the_body_is_read_closes_the_connection() {
    let server = TestServer::start().await;
    tokio::task::block_in_place(|| {
        let oversize = vec![b' '; nexudus_server_api::DEFAULT_BODY_LIMIT + 1];
        for (request, status) in [
            (create(&[AUTH, JSON], &oversize), 413),
            (create(&[JSON], br#"{}"#), 401),
            (create(&[AUTH, "Content-Type: text/plain"], br#"{}"#), 415),
        ] {
            let mut stream = raw::connect(server.base_url());
            stream.write_all(&request).unwrap();
            let answer = raw::read_answer(&mut stream).unwrap();
            assert_eq!(answer.status, status);
            assert_eq!(answer.header("connection"), Some("close"), "{status}");
        }
        // A body read to its end keeps the connection for the next request.
        let mut stream = raw::connect(server.base_url());
        let body = serde_json::to_vec(&minimal()).unwrap();
        for _ in 0..2 {
            stream.write_all(&create(&[AUTH, JSON], &body)).unwrap();
            let answer = raw::read_answer(&mut stream).unwrap();
            assert_eq!(answer.status, 200);
            assert_eq!(answer.header("connection"), None);
        }
    });
}

/// How late a timeout may act on a busy 2-core machine running other tests.
const SLACK: Duration = Duration::from_secs(2);

/// Short limits, so that each timeout is seen to act within a test's time.
fn tight() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(600),
        body_timeout: Duration::from_millis(600),
        idle_timeout: Duration::from_millis(900),
        max_connections: 4,
        shutdown_deadline: Duration::from_secs(1),
    }
}

/// How long until the server closes `stream` (reading and dropping whatever it sends).
fn closed_after(stream: &mut TcpStream, started: Instant) -> (Duration, Vec<u8>) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return (started.elapsed(), received),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_dropped_within_their_limit() {
    let server =
        TestServer::start_with_limits(reference_server::users::Users::builtin(), tight()).await;
    let limits = tight();
    tokio::task::block_in_place(|| {
        // A head sent a byte every 100 ms: progress, but not enough.
        let mut slow = raw::connect(server.base_url());
        let started = Instant::now();
        for byte in b"GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n" {
            if slow.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            if started.elapsed() > Duration::from_secs(3) {
                break;
            }
        }
        let (after, received) = closed_after(&mut slow, started);
        assert!(
            after >= limits.header_timeout && after < limits.header_timeout + SLACK,
            "slow head closed after {after:?}"
        );
        assert!(received.is_empty());

        // A body that stops halfway is answered 408 and the connection closed.
        let mut stalled = raw::connect(server.base_url());
        let started = Instant::now();
        let mut request = create(&[AUTH, JSON], &serde_json::to_vec(&minimal()).unwrap());
        request.truncate(request.len() - 10);
        stalled.write_all(&request).unwrap();
        let answer = raw::read_answer(&mut stalled).unwrap();
        let after = started.elapsed();
        assert_eq!(answer.status, 408);
        assert_envelope(
            &answer.body,
            &[("$body", Value::Null, "did not arrive within 0.6 s")],
            "stalled body",
        );
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(
            after >= limits.body_timeout && after < limits.body_timeout + SLACK,
            "{after:?}"
        );

        // A connection that never sends, and one idle after an answer.
        let mut silent = raw::connect(server.base_url());
        let started = Instant::now();
        let (after, _) = closed_after(&mut silent, started);
        assert!(
            after >= limits.idle_timeout && after < limits.idle_timeout + SLACK,
            "silent connection closed after {after:?}"
        );
        let mut used = raw::connect(server.base_url());
        used.write_all(
            format!("GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(raw::read_answer(&mut used).unwrap().status, 200);
        let started = Instant::now();
        let (after, _) = closed_after(&mut used, started);
        assert!(
            after >= limits.idle_timeout && after < limits.idle_timeout + SLACK,
            "idle connection closed after {after:?}"
        );
    });
    assert_eq!(server.count(), 0);
}

/// Once its head is in, a request is timed by the body timeout only: a body slower than the
/// header timeout, but within its own, is read and answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_timeout_stops_counting_when_the_head_is_in() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_secs(3),
        ..tight()
    };
    let server =
        TestServer::start_with_limits(reference_server::users::Users::builtin(), limits).await;
    tokio::task::block_in_place(|| {
        let mut stream = raw::connect(server.base_url());
        let request = create(&[AUTH, JSON], &serde_json::to_vec(&minimal()).unwrap());
        let (first, rest) = request.split_at(request.len() - 10);
        stream.write_all(first).unwrap();
        std::thread::sleep(Duration::from_millis(900));
        stream.write_all(rest).unwrap();
        assert_eq!(
            raw::read_answer(&mut stream).map(|answer| answer.status),
            Some(200)
        );
    });
    assert_eq!(server.count(), 1);
}

/// The first byte of a head starts the header timeout, however long the connection may idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_timeout_starts_at_the_first_byte_not_the_idle_one() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(20),
        ..tight()
    };
    let server =
        TestServer::start_with_limits(reference_server::users::Users::builtin(), limits).await;
    tokio::task::block_in_place(|| {
        let mut slow = raw::connect(server.base_url());
        let started = Instant::now();
        for byte in b"GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n" {
            if slow.write_all(&[*byte]).is_err() || started.elapsed() > Duration::from_secs(3) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let (after, _) = closed_after(&mut slow, started);
        assert!(
            after < Duration::from_secs(3),
            "slow head closed after {after:?}"
        );
    });
}

/// A server with tight limits whose idle clients may stay, so that they can hold every place
/// under its connection cap.
async fn capped() -> (TestServer, Limits) {
    let limits = Limits {
        idle_timeout: Duration::from_secs(30),
        ..tight()
    };
    let server =
        TestServer::start_with_limits(reference_server::users::Users::builtin(), limits).await;
    (server, limits)
}

/// A list of the records, as one request.
fn list_request() -> String {
    format!("GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_new_connections_are_refused_at_once() {
    let (server, limits) = capped().await;
    tokio::task::block_in_place(|| {
        let list = list_request();
        // Under the cap, with all but one slot held by idle clients, a request is served.
        let mut held: Vec<TcpStream> = (0..limits.max_connections - 1)
            .map(|_| raw::connect(server.base_url()))
            .collect();
        let mut last = raw::connect(server.base_url());
        last.write_all(list.as_bytes()).unwrap();
        assert_eq!(raw::read_answer(&mut last).unwrap().status, 200);
        held.push(last);

        let started = Instant::now();
        let mut refused = raw::connect(server.base_url());
        let _ = refused.write_all(list.as_bytes());
        let answer = raw::read_answer(&mut refused).expect("a 503, not a hang");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(answer.status, 503);
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert_envelope(
            &answer.body,
            &[(
                "$server",
                Value::Null,
                "is at its limit of 4 open connections: try again shortly",
            )],
            "refused",
        );

        // A slot freed is a slot served, as soon as the server has seen the close (until then a
        // client is refused, as above, which holds no slot).
        drop(held.pop());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut again = raw::connect(server.base_url());
            again.write_all(list.as_bytes()).unwrap();
            let status = raw::read_answer(&mut again).map(|answer| answer.status);
            if status == Some(200) {
                break;
            }
            assert_eq!(status, Some(503), "while the slot was being freed");
            assert!(
                Instant::now() < deadline,
                "a slot freed 10 s ago is still not served: every request is refused 503"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

/// Past the cap, a refusal reads what the client sends up to its end before closing (a close
/// with bytes unread is a reset, which fails the client's sending and can destroy the answer),
/// and ends as soon as the client does, so that its place serves the next refusal: a burst of
/// clients past the cap each get the whole 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_refusals_read_to_the_clients_end_and_end_with_it() {
    let (server, limits) = capped().await;
    tokio::task::block_in_place(|| {
        let held: Vec<TcpStream> = (0..limits.max_connections)
            .map(|_| raw::connect(server.base_url()))
            .collect();
        let refused = |request: &[u8]| {
            let mut stream = raw::connect(server.base_url());
            let sent = stream.write_all(request);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            (
                sent,
                raw::read_answer(&mut stream).map(|answer| answer.status),
            )
        };
        // More than any socket buffer holds: the client can finish sending only if the refusal
        // reads it all.
        let (sent, status) = refused(&create(&[AUTH, JSON], &vec![b' '; 8 << 20]));
        assert!(sent.is_ok(), "the request was cut off: {sent:?}");
        assert_eq!(status, Some(503));
        // More refusals than may be in progress at once, one after another.
        let list = list_request();
        for client in 0..100 {
            let (sent, status) = refused(list.as_bytes());
            assert!(sent.is_ok(), "client {client}: {sent:?}");
            assert_eq!(status, Some(503), "client {client}");
        }
        drop(held);
    });
}

/// A chunk that declares 2^64 - 1 bytes is read only up to the body limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_size_beyond_any_limit_is_cut_at_the_body_limit() {
    let server = TestServer::start().await;
    let mut request = format!(
        "POST /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n{JSON}\r\n\
         Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"
    )
    .into_bytes();
    request.resize(
        request.len() + nexudus_server_api::DEFAULT_BODY_LIMIT + 1,
        b' ',
    );
    let answer = tokio::task::block_in_place(|| raw::exchange(server.base_url(), &request));
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(server.count(), 0);
}

/// The generated client lets an idle pooled connection go before the server would close it, so
/// that it never reuses one the server is closing.
#[test]
fn pooled_connections_are_let_go_before_the_server_closes_them() {
    assert!(nexudus_client::POOL_IDLE_TIMEOUT < Limits::default().idle_timeout);
}

/// Head lines a hostile client adds: repeated ones, and ones HTTP or this API forbids.
fn hostile_lines() -> Vec<&'static str> {
    vec![
        "Host: t",
        AUTH,
        "Authorization: Bearer local-reader-token",
        "Authorization: Basic dXNlcg==",
        JSON,
        "Content-Type: application/json; charset=utf-16",
        "Content-Type: text/plain",
        "Content-Encoding: gzip",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip, chunked",
        "Content-Length: 99999999999999999999",
        "Content-Length: -1",
        "Expect: 100-continue",
        "Connection: close",
        "X-Folded: a\r\n b",
        "X-Nul: a\0b",
        "X-Latin: caf\u{e9}",
        "Bad Header: 1",
        ": no name",
    ]
}

/// One change a hostile client makes to a valid create.
#[derive(Debug, Clone)]
enum Mangle {
    /// Another request line.
    Line(&'static str),
    /// A head line added.
    Add(&'static str),
    /// One of the valid head lines (Host, Authorization, Content-Type) left out.
    Drop(usize),
    /// The body cut to this many bytes (the declared length stays).
    Cut(usize),
    /// This length declared instead of the body's.
    Declare(usize),
}

/// A valid create with up to three [`Mangle`]s, as bytes.
fn raw_request() -> impl Strategy<Value = Vec<u8>> {
    let body = serde_json::to_vec(&minimal()).unwrap();
    let length = body.len();
    let mangle = prop_oneof![
        prop::sample::select(vec![
            "POST /api/billing/coworkertimepasses HTTP/1.0",
            "PUT /api/billing/coworkertimepasses HTTP/1.1",
            "GET /api/billing/coworkertimepasses?page=1&page=1 HTTP/1.1",
            "GET /api/billing/coworkertimepasses/1 HTTP/1.1",
            "DELETE /api/billing/coworkertimepasses/%31 HTTP/1.1",
            "PATCH /api/billing/coworkertimepasses HTTP/1.1",
            "POST /api/billing/coworkertimepasses HTTP/2.0",
            "POST /api/billing/coworkertimepasses",
            "POST  /api/billing/coworkertimepasses  HTTP/1.1",
            "GET /api/billing/../billing/coworkertimepasses HTTP/1.1",
            "GET http://t/api/billing/coworkertimepasses HTTP/1.1",
        ])
        .prop_map(Mangle::Line),
        prop::sample::select(hostile_lines()).prop_map(Mangle::Add),
        (0..3usize).prop_map(Mangle::Drop),
        (0..length).prop_map(Mangle::Cut),
        (0..length + 8).prop_map(Mangle::Declare),
    ];
    prop::collection::vec(mangle, 0..=3).prop_map(move |mangles| {
        let mut line = "POST /api/billing/coworkertimepasses HTTP/1.1";
        let mut lines = vec!["Host: t".to_owned(), AUTH.to_owned(), JSON.to_owned()];
        let mut sent = body.clone();
        let mut declared = length;
        for mangle in &mangles {
            match mangle {
                Mangle::Line(other) => line = other,
                Mangle::Add(extra) => lines.push((*extra).to_owned()),
                Mangle::Drop(index) => {
                    if *index < lines.len() {
                        lines.remove(*index);
                    }
                }
                Mangle::Cut(cut) => sent.truncate(*cut),
                Mangle::Declare(length) => declared = *length,
            }
        }
        let mut request = format!("{line}\r\nContent-Length: {declared}\r\n");
        for line in lines {
            request.push_str(&line);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        let mut request = request.into_bytes();
        request.extend_from_slice(&sent);
        request
    })
}

/// Whatever a hostile client writes, the server answers within its limits with a status below
/// 500 and the error envelope for every error (or closes the connection where HTTP leaves no
/// answer to give), changes the store only when it answers 200, and goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_the_envelope_or_a_close_and_never_a_5xx() {
    let server =
        TestServer::start_with_limits(reference_server::users::Users::builtin(), tight()).await;
    let config = ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    };
    tokio::task::block_in_place(|| {
        proptest!(config, |(request in raw_request())| {
            let before = server.count();
            let mut stream = raw::connect(server.base_url());
            let _ = stream.write_all(&request);
            let started = Instant::now();
            let answer = raw::read_answer(&mut stream);
            prop_assert!(started.elapsed() < tight().body_timeout + tight().header_timeout + SLACK);
            let after = server.count();
            let shown = String::from_utf8_lossy(&request).into_owned();
            if let Some(answer) = answer {
                prop_assert!(answer.status < 500, "{} for {shown:?}", answer.status);
                prop_assert!(
                    answer.header("content-type").is_some_and(|value| value.starts_with("application/json")),
                    "{answer:?} for {shown:?}"
                );
                if answer.status >= 400 {
                    prop_assert_eq!(&answer.body["WasSuccessful"], &json!(false), "{:?}", shown);
                    prop_assert!(answer.body["Errors"].as_array().is_some_and(|errors| !errors.is_empty()));
                }
                // Only a success writes (a create adds, a delete removes).
                if answer.status != 200 {
                    prop_assert_eq!(after, before, "{} changed the store for {:?}", answer.status, shown);
                }
            } else {
                prop_assert_eq!(after, before, "stored without an answer: {:?}", shown);
            }
        });
    });
    // Still serving.
    let mut stream = raw::connect(server.base_url());
    stream
        .write_all(
            format!("GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: t\r\n{AUTH}\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(raw::read_answer(&mut stream).unwrap().status, 200);
}

/// Dropping the handle of a spawned server stops it: its port takes no new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_running_server_stops_it() {
    let server = TestServer::start().await;
    let address = server.base_url().trim_start_matches("http://").to_owned();
    assert!(tokio::net::TcpStream::connect(&address).await.is_ok());
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "{address} still takes connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
