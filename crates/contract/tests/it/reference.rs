//! The reference server keeps the contract.

use contract::{
    Case, Check,
    vocabulary::{Absence, Action, Auth, Gone, SignIn, Step, Transport},
};

use crate::{ReferenceServer, target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_keeps_the_contract() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 64,
        seed: 7,
        sequences: 64,
        steps: 24,
        ..contract::Options::default()
    };
    let mut cases = 0;
    let report = contract::run(
        &nexudus_client::API,
        &target(server.base_url()),
        &options,
        &mut || cases += 1,
    )
    .await
    .unwrap();
    println!("{}", report.summary());
    println!("{}", report.coverage_table());
    assert!(
        report.passed(),
        "{}\n{}",
        report.summary(),
        report.failure_details()
    );
    assert_eq!(
        cases,
        contract::total_cases(&nexudus_client::API, &target(server.base_url()), &options)
    );
    assert_eq!(
        report.skipped,
        Vec::<String>::new(),
        "the built-in users make every check"
    );
    assert_eq!(
        report.cases,
        contract::total_cases(&nexudus_client::API, &target(server.base_url()), &options)
    );
    let types = report
        .tally("types", Case::Types, &Check::TypesAgree)
        .unwrap();
    assert_eq!((types.passed, types.failed), (1, 0));

    // Every operation was exercised, and every check ran and passed somewhere: none is vacuous.
    let transport = |transport| Case::Transport(transport);
    let common = [
        (Case::Valid, Check::Status),
        (Case::Valid, Check::TypedDecode),
        (Case::Valid, Check::ContentType),
        (Case::Valid, Check::ResponseSchema),
        (Case::Invalid, Check::Status),
        (Case::Invalid, Check::TypedDecode),
        (Case::Invalid, Check::ContentType),
        (Case::Invalid, Check::ErrorsMatchViolations),
        (Case::Invalid, Check::AttemptedValue),
        (Case::Invalid, Check::MessageJoin),
        (Case::Invalid, Check::ResponseSchema),
        (Case::Auth(Auth::NoToken), Check::Status),
        (Case::Auth(Auth::BadToken), Check::Status),
        (Case::Auth(Auth::WithoutRole), Check::Status),
        (Case::Auth(Auth::WrongBasic), Check::Status),
        (Case::Auth(Auth::WrongBasic), Check::ResponseSchema),
        (Case::Auth(Auth::BasicWithoutRole), Check::Status),
        (transport(Transport::RepeatedAuthorization), Check::Status),
        (
            transport(Transport::RepeatedAuthorization),
            Check::NamesTheFault,
        ),
        (transport(Transport::WrongMethod), Check::Status),
        (transport(Transport::WrongMethod), Check::ErrorEnvelope),
        (transport(Transport::WrongMethod), Check::ResponseSchema),
        (
            transport(Transport::WrongMethod),
            Check::Header("Allow".into()),
        ),
        (transport(Transport::UnknownPath), Check::Status),
        (transport(Transport::UnknownPath), Check::ErrorEnvelope),
        (transport(Transport::UnknownPath), Check::ResponseSchema),
    ];
    let body = [
        (transport(Transport::MalformedJson), Check::Status),
        (transport(Transport::WrongContentType), Check::Status),
        (transport(Transport::OversizeBody), Check::Status),
        (transport(Transport::PlusJson), Check::Status),
        (transport(Transport::Charset), Check::Status),
        (transport(Transport::ContentEncoding), Check::Status),
        (
            transport(Transport::RepeatedContentType),
            Check::NamesTheFault,
        ),
        (transport(Transport::RepeatedKey), Check::Status),
        (transport(Transport::RepeatedKey), Check::NamesTheFault),
        (transport(Transport::DateBeyondUtc), Check::NamesTheFault),
    ];
    let valid =
        |pointer: &str, expression: &str| (Case::Valid, Check::expectation(pointer, expression));
    let expected: [(&str, Vec<(Case, Check)>); 5] = [
        (
            "create_coworker_time_pass",
            vec![
                valid("/Value/Id", "$unique"),
                valid("/UpdatedBy", "$caller"),
                valid("/Message", "\"CoworkerTimePass was successfully created.\""),
                (Case::Valid, Check::ReadsBackAsSent),
                (Case::Coverage, Check::Produced(413)),
            ],
        ),
        (
            "get_coworker_time_pass",
            vec![
                valid("/Id", "$request.path.id"),
                (Case::NotFound, Check::Status),
                (Case::Coverage, Check::Produced(404)),
            ],
        ),
        (
            "list_coworker_time_passes",
            vec![
                (Case::Valid, Check::PageFigures),
                (Case::Valid, Check::Order),
                (Case::Valid, Check::Filters),
                valid("/CurrentPageSize", "$request.query.size"),
                valid("/CurrentSortDirection", "$request.query.dir"),
                (transport(Transport::RepeatedQuery), Check::Status),
                (transport(Transport::RepeatedQuery), Check::NamesTheFault),
            ],
        ),
        (
            "update_coworker_time_pass",
            vec![
                valid("/Value/Id", "$request.body#/Id"),
                (Case::Valid, Check::ReadsBackAsSent),
                (Case::NotFound, Check::Status),
                (Case::Coverage, Check::Produced(415)),
            ],
        ),
        (
            "delete_coworker_time_pass",
            vec![
                valid("/Value", "null"),
                (Case::Valid, Check::GoneAfterDelete(Gone::ReadAfterDelete)),
                (Case::Valid, Check::GoneAfterDelete(Gone::DeleteAgain)),
                (Case::NotFound, Check::Status),
            ],
        ),
    ];
    for (operation, own) in expected {
        let with_body =
            ["create_coworker_time_pass", "update_coworker_time_pass"].contains(&operation);
        let checks = common
            .iter()
            .chain(&own)
            .chain(body.iter().filter(|_| with_body));
        for (case, check) in checks {
            let tally = report
                .tally(operation, *case, check)
                .unwrap_or_else(|| panic!("{operation}: {case}: {check} missing"));
            assert!(
                tally.passed > 0 && tally.failed == 0,
                "{operation}: {case}: {check}: {tally:?}"
            );
        }
    }
    // The read that needs no record was also answered with Basic credentials, as with the token.
    let basic = report
        .tally(
            "list_coworker_time_passes",
            Case::Auth(Auth::Basic),
            &Check::Status,
        )
        .unwrap();
    assert!(basic.passed > 0 && basic.failed == 0, "{basic:?}");
    // Every documented status a client can cause was produced; 500 was not asked for, 408
    // takes the server's body timeout to reach, and 409 is the throttled answer, which a server
    // that does not throttle never gives.
    for ((operation, status), coverage) in &report.coverage {
        assert_eq!(
            coverage.reachable,
            !matches!(status, 408 | 409 | 500),
            "{operation} {status}"
        );
        assert_eq!(coverage.throttled, *status == 409, "{operation} {status}");
        assert_eq!(
            coverage.responses > 0,
            coverage.reachable,
            "{operation} {status}"
        );
    }
    assert_eq!(report.coverage.len(), 37);
    // The token endpoint's own cases.
    for (sign_in, check) in [
        (SignIn::PasswordGrant, Check::Status),
        (SignIn::PasswordGrant, Check::ContentType),
        (SignIn::PasswordGrant, Check::ResponseSchema),
        (SignIn::PasswordGrant, Check::TokenType),
        (SignIn::PasswordGrant, Check::IssuedTokenWorks),
        (SignIn::RefreshGrant, Check::IssuedTokenWorks),
        (SignIn::RefreshGrant, Check::OAuthErrorCode),
        (SignIn::WrongPassword, Check::OAuthErrorCode),
        (SignIn::UnknownRefreshToken, Check::OAuthErrorCode),
        (SignIn::UnknownGrantType, Check::OAuthErrorCode),
        (SignIn::JsonBody, Check::OAuthErrorCode),
        (SignIn::MissingPassword, Check::OAuthErrorCode),
        (SignIn::OverLimit, Check::Status),
        (SignIn::OverLimit, Check::ResponseSchema),
        // The built-in user with two-factor sign-in, without its code; the one who must
        // choose a new password.
        (SignIn::LeftOut, Check::OAuthErrorCode),
        (SignIn::RefusedUser, Check::OAuthErrorCode),
        // Refresh tokens kept per client: the spec names the client_id header.
        (SignIn::ClientLeftOut, Check::OAuthErrorCode),
        (SignIn::OtherClient, Check::OAuthErrorCode),
        (SignIn::ClientRetired, Check::OAuthErrorCode),
        (SignIn::ClientRetired, Check::IssuedTokenWorks),
    ] {
        let tally = report
            .tally("create_token", Case::SignIn(sign_in), &check)
            .unwrap_or_else(|| panic!("create_token: {sign_in}: {check} missing"));
        assert!(tally.passed > 0 && tally.failed == 0, "{check}: {tally:?}");
    }
    for status in [200, 400] {
        let tally = report
            .tally("create_token", Case::Coverage, &Check::Produced(status))
            .unwrap();
        assert_eq!((tally.passed, tally.failed), (1, 0));
    }
    assert_eq!(report.throttled, 0, "the server does not throttle");

    // The sequences ran every kind of step, and their checks held.
    let never = |action| Step::Absent(action, Absence::NeverMade);
    let stateful = [
        Check::Status.at(Step::Create),
        Check::OwnRecord.at(Step::Create),
        Check::OwnRecord.at(Step::FindCreated),
        Check::AddsAsManyAsItSays.at(Step::Create),
        Check::IdsNeverReused,
        Check::MatchesTheModel.at(Step::Read),
        Check::Status.at(never(Action::Read)),
        Check::Status.at(Step::Absent(Action::Read, Absence::Deleted)),
        Check::MatchesTheModel.at(Step::List),
        Check::PageFigures.at(Step::List),
        Check::ContentType.at(Step::List),
        Check::Status.at(Step::Update),
        Check::Status.at(never(Action::Update)),
        Check::Status.at(Step::Delete),
        Check::Status.at(never(Action::Delete)),
        Check::ErrorsMatchViolations.at(Step::InvalidCreate),
        Check::ErrorsMatchViolations.at(Step::InvalidUpdate),
        Check::HoldsExactlyTheLive.at(Step::Audit),
    ];
    for check in stateful {
        let tally = report
            .tally(contract::STATEFUL, Case::Sequence, &check)
            .unwrap_or_else(|| panic!("{check} missing"));
        assert!(tally.passed > 0 && tally.failed == 0, "{check}: {tally:?}");
    }
    // Everything the run made was deleted at the end.
    assert!(report.removed > 64, "{}", report.removed);
    assert_eq!(server.store().count().unwrap(), 0);
}

/// A run against a server that already holds records leaves exactly those records behind, as
/// they were: it reads, lists, updates and deletes only what it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_leaves_the_records_it_found_untouched() {
    let server = ReferenceServer::start().await;
    let client =
        nexudus_client::authenticated(server.base_url(), &target(server.base_url()).token).unwrap();
    for batch in 0..10 {
        let body: nexudus_types::CoworkerTimePassCreate =
            serde_json::from_value(serde_json::json!({
                "CoworkerId": 1 + batch, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 100,
                "Notes": format!("already there {batch}"), "PurchaseOrder": "PO-1"
            }))
            .unwrap();
        client.create_coworker_time_pass(&body).await.unwrap();
    }
    let everything = |server: &ReferenceServer| -> Vec<String> {
        let store = server.store();
        store
            .ids()
            .unwrap()
            .iter()
            .map(|id| format!("{:?}", store.read(*id).unwrap().unwrap()))
            .collect()
    };
    let before = everything(&server);
    assert_eq!(before.len(), 1000);
    let options = contract::Options {
        cases: 24,
        seed: 5,
        sequences: 16,
        ..contract::Options::default()
    };
    let report = contract::run(
        &nexudus_client::API,
        &target(server.base_url()),
        &options,
        &mut || (),
    )
    .await
    .unwrap();
    assert!(report.passed(), "{}", report.failure_details());
    assert!(report.removed > 0);
    assert_eq!(everything(&server), before);
}

/// What a record holds besides what the server gives it (ids, times), with the run's marker
/// (which differs between runs) left out.
fn written(server: &ReferenceServer) -> Vec<String> {
    let mut records: Vec<String> = server
        .store()
        .ids()
        .unwrap()
        .iter()
        .map(|id| {
            let text = format!("{:?}", server.store().read(*id).unwrap().unwrap().fields);
            match text.find("\"contract-run-") {
                Some(start) => {
                    let end = start + 1 + text[start + 1..].find('"').unwrap();
                    format!("{}\"marker{}", &text[..start], &text[end..])
                }
                None => text,
            }
        })
        .collect();
    // Cases run concurrently, so the records' order (their ids) may differ between runs.
    records.sort();
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_sends_the_same_payloads() {
    let options = contract::Options {
        cases: 8,
        seed: 42,
        keep_records: true,
        // Which of the updates sent at once the record keeps is the server's choice.
        writers: 0,
        ..contract::Options::default()
    };
    let mut stored = Vec::new();
    for _ in 0..2 {
        let server = ReferenceServer::start().await;
        let report = contract::run(
            &nexudus_client::API,
            &target(server.base_url()),
            &options,
            &mut || (),
        )
        .await
        .unwrap();
        assert!(report.passed(), "{}", report.failure_details());
        stored.push(written(&server));
    }
    assert!(!stored[0].is_empty());
    assert_eq!(stored[0], stored[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_log_replayed_does_what_the_run_did() {
    let options = contract::Options {
        cases: 12,
        seed: 9,
        concurrency: 1,
        log_requests: true,
        keep_records: true,
        // A replay sends one request at a time: writes sent at once end in whichever order the
        // server took them, which one at a time cannot repeat.
        writers: 0,
        ..contract::Options::default()
    };
    let server = ReferenceServer::start().await;
    let report = contract::run(
        &nexudus_client::API,
        &target(server.base_url()),
        &options,
        &mut || (),
    )
    .await
    .unwrap();
    assert!(report.passed(), "{}", report.failure_details());
    assert_eq!(report.sent.len() as u64, report.requests);
    let methods: std::collections::BTreeSet<&str> = report
        .sent
        .iter()
        .map(|payload| payload.method.as_str())
        .collect();
    // PATCH is the transport case's method that no path has.
    assert_eq!(methods, ["DELETE", "GET", "PATCH", "POST", "PUT"].into());

    // One request at a time, a replay on a fresh server leaves exactly the records the run left:
    // the log holds every request, set-ups and reads back included, as sent.
    let fresh = ReferenceServer::start().await;
    let statuses = contract::replay(fresh.base_url(), &report.sent, 1)
        .await
        .unwrap();
    assert_eq!(statuses.len(), report.sent.len());
    assert!(statuses.iter().all(|status| *status < 500), "{statuses:?}");
    assert_eq!(written(&fresh), written(&server));
}

/// Stopped midway through its sequences (as Ctrl-C stops `nexudus-contract`), a run still deletes
/// every record it made, those of the sequences cut short included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_midway_still_deletes_what_it_made() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 16,
        seed: 3,
        sequences: 32,
        ..contract::Options::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut stop = Some(stop);
    let stop_after =
        contract::total_cases(&nexudus_client::API, &target(server.base_url()), &options)
            - u64::from(options.sequences) / 2;
    let mut cases = 0;
    let report = contract::run_until(
        &nexudus_client::API,
        &target(server.base_url()),
        &options,
        &mut || {
            cases += 1;
            if cases == stop_after
                && let Some(stop) = stop.take()
            {
                let _ = stop.send(());
            }
        },
        async {
            let _ = stopped.await;
        },
    )
    .await
    .unwrap();
    assert!(report.interrupted);
    assert!(
        cases < contract::total_cases(&nexudus_client::API, &target(server.base_url()), &options),
        "{cases}"
    );
    assert!(report.removed > 0);
    assert!(report.summary().contains("STOPPED"));
    assert_eq!(server.store().count().unwrap(), 0);
}

/// Throttling is part of the contract: a throttled answer with `Retry-After` and the envelope is
/// waited out, sent again and counted, never failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_server_is_waited_out_not_failed() {
    let reference =
        contract_cli::Reference::start_throttled_in(&std::env::temp_dir(), "20/s".parse().unwrap())
            .await
            .unwrap();
    let options = contract::Options {
        cases: 4,
        seed: 3,
        sequences: 2,
        steps: 4,
        ..contract::Options::default()
    };
    let report = contract::run(
        &nexudus_client::API,
        &reference.target(),
        &options,
        &mut || {},
    )
    .await
    .unwrap();
    assert!(
        report.passed(),
        "{}\n{}",
        report.summary(),
        report.failure_details()
    );
    assert!(report.throttled > 0, "{}", report.summary());
    assert!(report.throttle_wait >= std::time::Duration::from_secs(1));
    assert!(
        report.summary().contains("throttled"),
        "{}",
        report.summary()
    );
}

/// `max_creates` keeps every request's records within the cap, so that a run against a
/// throttled server has few to delete; the run still passes (the checks read the count sent),
/// and an invalid request whose violation is the count is sent with it, not capped away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_a_record_cap_makes_few_records_and_passes() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 64,
        seed: 5,
        sequences: 4,
        steps: 8,
        max_creates: Some(2),
        log_requests: true,
        ..contract::Options::default()
    };
    let uncapped = contract::Options {
        max_creates: None,
        log_requests: false,
        ..options
    };
    let capped = contract::run(
        &nexudus_client::API,
        &target(server.base_url()),
        &options,
        &mut || {},
    )
    .await
    .unwrap();
    assert!(
        capped.passed(),
        "{}\n{}",
        capped.summary(),
        capped.failure_details()
    );
    let counts: Vec<u64> = capped
        .sent
        .iter()
        .filter(|payload| payload.method == "POST")
        .filter_map(|payload| serde_json::from_slice::<serde_json::Value>(&payload.body).ok())
        .filter_map(|body| body.get("CreateMultiple")?.as_u64())
        .collect();
    assert!(
        counts.iter().any(|count| *count > 100),
        "no invalid case sent a count over the maximum: {counts:?}"
    );
    assert!(counts.contains(&2), "{counts:?}");
    let full = contract::run(
        &nexudus_client::API,
        &target(server.base_url()),
        &uncapped,
        &mut || {},
    )
    .await
    .unwrap();
    assert!(full.passed(), "{}", full.summary());
    // The same cases: at most 2 records per request instead of up to 100.
    assert!(
        capped.removed * 4 < full.removed,
        "capped {} vs {}",
        capped.removed,
        full.removed
    );
    assert_eq!(server.store().count().unwrap(), 0, "every record deleted");
}

/// A run whose signing-in user needs no second factor, and given no user the endpoint refuses,
/// says which sign-in checks it could not make rather than pass them unchecked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_checks_a_run_cannot_make_are_named() {
    let server = ReferenceServer::start().await;
    let mut target = target(server.base_url());
    target.sign_in = Some(contract::SignIn {
        username: "admin@example.com".to_owned(),
        password: "local-admin-password".to_owned(),
        also: Vec::new(),
        refused: Vec::new(),
    });
    let options = contract::Options {
        cases: 0,
        sequences: 0,
        writers: 0,
        ..contract::Options::default()
    };
    let report = contract::run(&nexudus_client::API, &target, &options, &mut || ())
        .await
        .unwrap();
    // No other case ran, so only the token endpoint's checks are judged here.
    let held = report
        .tally(
            "create_token",
            Case::SignIn(SignIn::PasswordGrant),
            &Check::IssuedTokenWorks,
        )
        .unwrap();
    assert!(held.passed > 0 && held.failed == 0, "{held:?}");
    assert!(
        report
            .groups
            .iter()
            .all(|group| group.operation != "create_token"),
        "{}",
        report.failure_details()
    );
    for skipped in [
        "sign-in: a right password without a parameter the user needs",
        "sign-in: the right password of a user the endpoint refuses",
    ] {
        assert!(
            report.skipped.iter().any(|note| note.starts_with(skipped)),
            "{skipped}: {:?}",
            report.skipped
        );
    }
    for kind in [SignIn::LeftOut, SignIn::RefusedUser] {
        assert!(
            report
                .tally("create_token", Case::SignIn(kind), &Check::OAuthErrorCode)
                .is_none(),
            "{kind}"
        );
    }
}
