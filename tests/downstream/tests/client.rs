//! What a downstream application does with the client: signs in, builds a request, creates and
//! reads back, tells a validation error from an auth error by kind and prints each `Errors`
//! entry, and meets requests that break the spec refused before they are sent, each property
//! named. It names only what `nexudus-client` exports (the types, uuid, chrono and reqwest come
//! through it); the reference server on loopback stands in for Nexudus.

use nexudus_client::{
    ApiError, ErrorKind, chrono,
    nexudus_types::{CoworkerTimePassCreate, CoworkerTimePassCreateNotes},
};

struct Server {
    base_url: String,
    _server: reference_server::RunningServer,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let server = reference_server::Server::bind(reference_server::Config::loopback(
        dir.path().join("downstream.sqlite3"),
    ))
    .await
    .unwrap()
    .spawn();
    Server {
        base_url: server.base_url().to_owned(),
        _server: server,
        _dir: dir,
    }
}

/// Two passes of time pass 3 for coworker 1 at business 2, as an application builds them.
fn request() -> CoworkerTimePassCreate {
    CoworkerTimePassCreate::builder()
        .business_id(2u64)
        .coworker_id(1u64)
        .time_pass_id(3u64)
        .create_multiple(2u32)
        .notes(
            "Welcome pack"
                .parse::<CoworkerTimePassCreateNotes>()
                .unwrap(),
        )
        .price(12.5)
        .expire_date(
            chrono::DateTime::parse_from_rfc3339("2027-01-31T18:00:00Z")
                .unwrap()
                .to_utc(),
        )
        .try_into()
        .unwrap()
}

/// What an application does about each kind of failure the client reports.
fn advice(error: &ApiError) -> &'static str {
    match error.kind() {
        ErrorKind::Refused | ErrorKind::Validation => "correct the request",
        ErrorKind::Unauthorized => "sign in again",
        ErrorKind::Forbidden => "ask for the role",
        ErrorKind::NotFound => "nothing to show",
        ErrorKind::Throttled
        | ErrorKind::RequestTimeout
        | ErrorKind::Server
        | ErrorKind::Transport => "try again later",
        ErrorKind::PayloadTooLarge
        | ErrorKind::UnsupportedMediaType
        | ErrorKind::UnexpectedResponse => "report a fault in the application",
        // ErrorKind is non_exhaustive: a kind added later is reported too.
        _ => "report a fault in the application",
    }
}

/// Each `Errors` entry, printed as an application would print it.
fn entries(error: &ApiError) -> Vec<String> {
    let lines: Vec<String> = error
        .errors()
        .iter()
        .map(|entry| format!("{}: {}", entry.property_name, entry.message))
        .collect();
    for line in &lines {
        println!("{:?} {line}", error.kind());
    }
    lines
}

#[tokio::test]
async fn creates_reads_and_tells_errors_apart_by_kind() {
    let server = server().await;
    let client = nexudus_client::sign_in(
        &server.base_url,
        "admin@example.com",
        "local-admin-password",
    )
    .await
    .unwrap();
    let created = client.create_coworker_time_pass(&request()).await.unwrap();
    let read = client
        .get_coworker_time_pass(created.value.id)
        .await
        .unwrap();
    assert_eq!(read.price, Some(12.5));
    assert_eq!(read.notes.as_deref(), Some("Welcome pack"));

    // A record that is not there and a caller without credentials, told apart by kind.
    let missing = client
        .get_coworker_time_pass(4_000_000_000.try_into().unwrap())
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(advice(&missing), "nothing to show");
    assert_eq!(missing.status(), Some(404));

    let anonymous = nexudus_client::anonymous(&server.base_url).unwrap();
    let unauthorized = anonymous
        .create_coworker_time_pass(&request())
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert_eq!(unauthorized.kind(), ErrorKind::Unauthorized);
    assert_eq!(advice(&unauthorized), "sign in again");
    assert_eq!(entries(&unauthorized).len(), 1, "{unauthorized}");
    assert!(
        unauthorized.to_string().starts_with("401 (Unauthorized): "),
        "one line, no headers: {unauthorized}"
    );

    // With the client's checks off, the server's own validation answers, in the same shape.
    let unchecked = nexudus_client::authenticated_with(
        &server.base_url,
        "local-admin-token",
        nexudus_client::Behaviour::unchecked(),
    )
    .unwrap();
    let mut too_many = request();
    too_many.create_multiple = 101.try_into().unwrap();
    let invalid = unchecked
        .create_coworker_time_pass(&too_many)
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::Validation);
    assert_eq!(advice(&invalid), "correct the request");
    assert_eq!(entries(&invalid), ["CreateMultiple: must be at most 100"]);
}

/// What breaks the spec never leaves the client: it is refused with each property named,
/// before any request is sent (the server here would count any request it received).
#[tokio::test]
async fn requests_that_break_the_spec_are_refused_before_sending() {
    // No server listens here: a request that was sent would fail as `Transport`.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = nexudus_client::authenticated(&base_url, "token").unwrap();

    let refused = |mut change: Box<dyn FnMut(&mut CoworkerTimePassCreate)>| {
        let client = client.clone();
        async move {
            let mut body = request();
            change(&mut body);
            let error = ApiError::from(client.create_coworker_time_pass(&body).await.unwrap_err());
            assert_eq!(error.kind(), ErrorKind::Refused, "{error}");
            assert_eq!(error.status(), None);
            entries(&error)
        }
    };
    for nan in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let entries = refused(Box::new(move |body| body.price = Some(nan))).await;
        assert_eq!(
            entries,
            ["Price: is not a finite number (JSON has no NaN or infinity)"]
        );
    }
    assert_eq!(
        refused(Box::new(
            |body| body.coworker_id = u64::MAX.try_into().unwrap()
        ))
        .await,
        ["CoworkerId: must be at most 9007199254740991"]
    );
    assert_eq!(
        refused(Box::new(|body| {
            body.create_multiple = 101.try_into().unwrap();
            body.price = Some(-1.0);
        }))
        .await,
        [
            "CreateMultiple: must be at most 100",
            "Price: must be at least 0"
        ]
    );
    // A valid body does go out (and meets no server).
    let error = ApiError::from(
        client
            .create_coworker_time_pass(&request())
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
}

/// A length bound the types hold is checked when a value is built, naming the property.
#[test]
fn the_types_refuse_what_they_can_hold_when_built() {
    let notes = "x".repeat(2001);
    let error = notes
        .parse::<nexudus_client::nexudus_types::CoworkerTimePassCreateNotes>()
        .unwrap_err();
    assert_eq!(error.to_string(), "Notes: longer than 2000 characters");
}

/// A builder that misses a required property, or is given a value its type cannot hold, says
/// which property when the value is built.
#[test]
fn a_builder_names_the_property_it_misses_or_refuses() {
    let complete = CoworkerTimePassCreate::builder()
        .business_id(2u64)
        .coworker_id(1u64)
        .create_multiple(1u32);
    let missing = CoworkerTimePassCreate::try_from(complete.clone()).unwrap_err();
    assert_eq!(missing.to_string(), "TimePassId: no value supplied");
    let zero = CoworkerTimePassCreate::try_from(complete.time_pass_id(0u64)).unwrap_err();
    assert_eq!(
        zero.to_string(),
        "TimePassId: out of range integral type conversion attempted"
    );
}
