//! What a downstream application does with the client: signs in, builds a request, creates and
//! reads back, tells a validation error from an auth error by kind and prints each `Errors`
//! entry, and meets requests that break the spec refused before they are sent, each property
//! named. It names only what `nexudus-client` exports (the types, uuid, chrono and reqwest come
//! through it); the reference server on loopback stands in for Nexudus.

use nexudus_client::{ApiError, ErrorKind, nexudus_types::CoworkerTimePassCreate};

struct Server {
    base_url: String,
    _server: reference_server::RunningServer,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let server = reference_server::Server::bind(reference_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("downstream.sqlite3"),
        users: reference_server::users::Users::builtin(),
        body_limit: nexudus_server_api::DEFAULT_BODY_LIMIT,
        limits: reference_server::Limits::default(),
        throttle: reference_server::ThrottlePolicy::default(),
        tokens: reference_server::TokenLifetimes::default(),
    })
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
    CoworkerTimePassCreate {
        business_id: 2.try_into().unwrap(),
        coworker_id: 1.try_into().unwrap(),
        time_pass_id: 3.try_into().unwrap(),
        create_multiple: 2.try_into().unwrap(),
        notes: Some("Welcome pack".parse().unwrap()),
        price: Some(12.5),
        expire_date: Some(
            nexudus_client::chrono::DateTime::parse_from_rfc3339("2027-01-31T18:00:00Z")
                .unwrap()
                .into(),
        ),
        coworker_contract_unique_id: None,
        coworker_product_unique_id: None,
        free: None,
        purchase_order: None,
        tariff_time_pass_unique_id: None,
        used: None,
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
    assert_eq!(missing.status(), Some(404));

    let anonymous = nexudus_client::anonymous(&server.base_url).unwrap();
    let unauthorized = anonymous
        .create_coworker_time_pass(&request())
        .await
        .map_err(ApiError::from)
        .unwrap_err();
    assert_eq!(unauthorized.kind(), ErrorKind::Unauthorized);
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
        ["CoworkerId: must be at most 9223372036854775807"]
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
