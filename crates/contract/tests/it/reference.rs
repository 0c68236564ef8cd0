//! The reference server keeps the contract.

use crate::{ReferenceServer, target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_keeps_the_contract() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 64,
        seed: 7,
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
    assert_eq!(cases, contract::total_cases(&options));
    assert_eq!(report.cases, contract::total_cases(&options));
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
    ];
    let body = [
        "transport: malformed JSON: status",
        "transport: wrong content type: status",
        "transport: oversize body: status",
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
    // Every documented status a client can cause was produced; 500 was not asked for.
    for ((operation, status), coverage) in &report.coverage {
        assert_eq!(coverage.reachable, *status != 500, "{operation} {status}");
        assert_eq!(
            coverage.responses > 0,
            coverage.reachable,
            "{operation} {status}"
        );
    }
    assert_eq!(report.coverage.len(), 27);
    // Valid creates made records; deletes removed their own; nothing else stayed.
    let stored = server.store().count().unwrap();
    assert!(stored >= 64, "{stored}");
}

/// What a record holds besides what the server gives it (ids, times).
fn written(server: &ReferenceServer) -> Vec<String> {
    let mut records: Vec<String> = server
        .store()
        .ids()
        .unwrap()
        .iter()
        .map(|id| format!("{:?}", server.store().get(*id).unwrap().unwrap().fields))
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
        ..contract::Options::default()
    };
    let mut stored = Vec::new();
    for _ in 0..2 {
        let server = ReferenceServer::start().await;
        let report = contract::run(&target(server.base_url()), &options, &mut || ())
            .await
            .unwrap();
        assert!(report.passed());
        stored.push(written(&server));
    }
    assert!(!stored[0].is_empty());
    assert_eq!(stored[0], stored[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_runs_requests_sends_what_the_run_sends() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 16,
        seed: 9,
        ..contract::Options::default()
    };
    let payloads = contract::payloads(&options).unwrap();
    assert_eq!(payloads.len(), 32 * contract::operations().len());
    let statuses = contract::replay(&target(server.base_url()), &payloads, 4)
        .await
        .unwrap();
    // Per operation, 16 valid requests then 16 invalid ones: the invalid ones all get 400, and
    // the valid creates and lists succeed (reads, updates and deletes of random ids may not
    // find a record: a replay sets nothing up).
    for (operation, statuses) in payloads.chunks(32).zip(statuses.chunks(32)) {
        let operation = operation[0].operation.operation_id;
        assert_eq!(statuses[16..], [400; 16], "{operation}");
        if ["create_coworker_time_pass", "list_coworker_time_passes"].contains(&operation) {
            assert_eq!(statuses[..16], [200; 16], "{operation}");
        }
    }

    // The payloads are the ones a run sends: a run stores every valid create the replay sent.
    let server = ReferenceServer::start().await;
    let report = contract::run(&target(server.base_url()), &options, &mut || ())
        .await
        .unwrap();
    assert!(report.passed());
    let stored = written(&server);
    let creates = payloads
        .iter()
        .filter(|payload| payload.operation.operation_id == "create_coworker_time_pass")
        .take(16);
    for payload in creates {
        let request: nexudus_types::CoworkerTimePassCreate =
            serde_json::from_slice(payload.body.as_ref().unwrap()).unwrap();
        let (fields, _) = reference_server::store::Fields::from_create(request);
        assert!(
            stored.contains(&format!("{fields:?}")),
            "the run did not store {fields:?}"
        );
    }
}
