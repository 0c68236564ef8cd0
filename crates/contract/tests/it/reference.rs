//! The reference server keeps the contract.

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
    let report = contract::run(&target(server.base_url()), &options, &mut || cases += 1)
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
        contract::total_cases(&target(server.base_url()), &options)
    );
    assert_eq!(
        report.skipped,
        Vec::<String>::new(),
        "the built-in users make every check"
    );
    assert_eq!(
        report.cases,
        contract::total_cases(&target(server.base_url()), &options)
    );
    let types = report.tallies[&("types".to_owned(), "types agree with the spec".to_owned())];
    assert_eq!((types.passed, types.failed), (1, 0));

    // Every operation was exercised, and every check ran and passed somewhere: none is vacuous.
    let common = [
        "valid: status",
        "valid: typed decode",
        "valid: response schema",
        "invalid: status",
        "invalid: typed decode",
        "invalid: errors match violations",
        "invalid: AttemptedValue is the sent value",
        "invalid: Message join",
        "invalid: response schema",
        "auth: no token: status",
        "auth: bad token: status",
        "auth: token without the role: status",
        "transport: repeated Authorization: status",
        "transport: repeated Authorization: names the fault",
        "transport: wrong method: status",
        "transport: wrong method: error envelope",
        "transport: wrong method: response schema",
        "transport: wrong method: Allow header",
        "transport: unknown path: status",
        "transport: unknown path: error envelope",
        "transport: unknown path: response schema",
    ];
    let body = [
        "transport: malformed JSON: status",
        "transport: wrong content type: status",
        "transport: oversize body: status",
        "transport: +json media type: status",
        "transport: charset other than utf-8: status",
        "transport: Content-Encoding: status",
        "transport: repeated Content-Type: names the fault",
        "transport: repeated key: status",
        "transport: repeated key: names the fault",
        "transport: date-time beyond UTC's years: names the fault",
    ];
    let expected: [(&str, &[&str]); 5] = [
        (
            "create_coworker_time_pass",
            &[
                "valid: /Value/Id is $unique",
                "valid: /UpdatedBy is $caller",
                "valid: /Message is \"CoworkerTimePass was successfully created.\"",
                "valid: reads back as sent",
                "coverage: 413 produced",
            ],
        ),
        (
            "get_coworker_time_pass",
            &[
                "valid: /Id is $request.path.id",
                "not found: status",
                "coverage: 404 produced",
            ],
        ),
        (
            "list_coworker_time_passes",
            &[
                "valid: page figures",
                "valid: order",
                "valid: filters",
                "valid: /CurrentPageSize is $request.query.size",
                "valid: /CurrentSortDirection is $request.query.dir",
                "transport: repeated query parameter: status",
                "transport: repeated query parameter: names the fault",
            ],
        ),
        (
            "update_coworker_time_pass",
            &[
                "valid: /Value/Id is $request.body#/Id",
                "valid: reads back as sent",
                "not found: status",
                "coverage: 415 produced",
            ],
        ),
        (
            "delete_coworker_time_pass",
            &[
                "valid: /Value is null",
                "valid: read after delete: 404",
                "valid: delete again: 404",
                "not found: status",
            ],
        ),
    ];
    for (operation, own) in expected {
        let with_body =
            ["create_coworker_time_pass", "update_coworker_time_pass"].contains(&operation);
        let checks = common
            .iter()
            .chain(own)
            .chain(body.iter().filter(|_| with_body));
        for check in checks {
            let tally = report
                .tallies
                .get(&(operation.to_owned(), (*check).to_owned()))
                .unwrap_or_else(|| panic!("{operation}: {check} missing"));
            assert!(
                tally.passed > 0 && tally.failed == 0,
                "{operation}: {check}: {tally:?}"
            );
        }
    }
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
    for check in [
        "sign-in: password grant: status",
        "sign-in: password grant: response schema",
        "sign-in: password grant: token type",
        "sign-in: password grant: issued token works",
        "sign-in: refresh grant, then the same refresh token again: issued token works",
        "sign-in: refresh grant, then the same refresh token again: OAuth error code",
        "sign-in: wrong password: OAuth error code",
        "sign-in: unknown refresh token: OAuth error code",
        "sign-in: unknown grant type: OAuth error code",
        "sign-in: JSON body: OAuth error code",
        "sign-in: missing password: OAuth error code",
        "sign-in: body over the limit: status",
        "sign-in: body over the limit: response schema",
        "coverage: 200 produced",
        "coverage: 400 produced",
    ] {
        let tally = report
            .tallies
            .get(&("create_token".to_owned(), check.to_owned()))
            .unwrap_or_else(|| panic!("create_token: {check} missing"));
        assert!(tally.passed > 0 && tally.failed == 0, "{check}: {tally:?}");
    }
    assert_eq!(report.throttled, 0, "the server does not throttle");

    // The sequences ran every kind of step, and their checks held.
    let stateful = [
        "sequence: create: status",
        "sequence: create: adds as many records as it says",
        "sequence: ids are never reused",
        "sequence: read: matches the model",
        "sequence: read of a never made id: status",
        "sequence: read of a deleted id: status",
        "sequence: list: matches the model",
        "sequence: list: page figures",
        "sequence: update: status",
        "sequence: update of a never made id: status",
        "sequence: delete: status",
        "sequence: delete of a never made id: status",
        "sequence: invalid create: errors match violations",
        "sequence: invalid update: errors match violations",
        "sequence: audit: the list holds exactly the live records",
    ];
    for check in stateful {
        let tally = report
            .tallies
            .get(&(contract::STATEFUL.to_owned(), check.to_owned()))
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
            .map(|id| format!("{:?}", store.get(*id).unwrap().unwrap()))
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
    let report = contract::run(&target(server.base_url()), &options, &mut || ())
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
            let text = format!("{:?}", server.store().get(*id).unwrap().unwrap().fields);
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
        ..contract::Options::default()
    };
    let mut stored = Vec::new();
    for _ in 0..2 {
        let server = ReferenceServer::start().await;
        let report = contract::run(&target(server.base_url()), &options, &mut || ())
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
        ..contract::Options::default()
    };
    let server = ReferenceServer::start().await;
    let report = contract::run(&target(server.base_url()), &options, &mut || ())
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
    let stop_after = contract::total_cases(&target(server.base_url()), &options)
        - u64::from(options.sequences) / 2;
    let mut cases = 0;
    let report = contract::run_until(
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
        cases < contract::total_cases(&target(server.base_url()), &options),
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
    let report = contract::run(&reference.target(), &options, &mut || {})
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
/// throttled server has few to delete; the run still passes (the checks read the count sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_a_record_cap_makes_few_records_and_passes() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 16,
        seed: 5,
        sequences: 4,
        steps: 8,
        max_creates: Some(2),
        ..contract::Options::default()
    };
    let uncapped = contract::Options {
        max_creates: None,
        ..options
    };
    let capped = contract::run(&target(server.base_url()), &options, &mut || {})
        .await
        .unwrap();
    assert!(
        capped.passed(),
        "{}\n{}",
        capped.summary(),
        capped.failure_details()
    );
    let full = contract::run(&target(server.base_url()), &uncapped, &mut || {})
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
