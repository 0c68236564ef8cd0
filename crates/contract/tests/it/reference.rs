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
    assert!(
        report.passed(),
        "{}\n{}",
        report.summary(),
        report.failure_details()
    );
    assert_eq!(cases, contract::cases_per_operation(&options));
    assert_eq!(report.cases, contract::cases_per_operation(&options));
    let types = report.tallies[&("types".to_owned(), "types agree with the spec".to_owned())];
    assert_eq!((types.passed, types.failed), (1, 0));

    // Every check ran and passed somewhere: none is vacuous.
    let op = "create_coworker_time_pass";
    for check in [
        "valid: status",
        "valid: typed decode",
        "valid: envelope keys",
        "valid: new Value.Id",
        "valid: UpdatedBy caller",
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
        "transport: malformed JSON: status",
        "transport: wrong content type: status",
        "transport: oversize body: status",
    ] {
        let tally = report
            .tallies
            .get(&(op.to_owned(), check.to_owned()))
            .unwrap_or_else(|| panic!("{check} missing"));
        assert!(tally.passed > 0 && tally.failed == 0, "{check}: {tally:?}");
    }
    // Valid cases created records; nothing else did.
    let created = server.store().count().unwrap();
    assert!(created >= 64, "{created}");
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
        let ids = server.store().ids().unwrap();
        stored.push(
            ids.iter()
                .map(|id| server.store().get(*id).unwrap().unwrap().request)
                .collect::<Vec<_>>(),
        );
    }
    // Cases run concurrently, so the records' order (their ids) may differ between runs.
    for requests in &mut stored {
        requests.sort_by_key(|request| request.to_string());
    }
    assert!(!stored[0].is_empty());
    assert_eq!(stored[0], stored[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_runs_payloads_gets_200s_then_400s() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 16,
        seed: 9,
        ..contract::Options::default()
    };
    let payloads = contract::payloads(&options).unwrap();
    assert_eq!(payloads.len(), 32);
    let statuses = contract::replay(&target(server.base_url()), &payloads, 4)
        .await
        .unwrap();
    assert_eq!(statuses[..16], [200; 16]);
    assert_eq!(statuses[16..], [400; 16]);

    // The payloads are the ones a run sends: the run stores exactly the records the replay did.
    let before = server.store().count().unwrap() as usize;
    let report = contract::run(&target(server.base_url()), &options, &mut || ())
        .await
        .unwrap();
    assert!(report.passed());
    let mut requests: Vec<String> = server
        .store()
        .ids()
        .unwrap()
        .iter()
        .map(|id| {
            server
                .store()
                .get(*id)
                .unwrap()
                .unwrap()
                .request
                .to_string()
        })
        .collect();
    let mut by_run = requests.split_off(before);
    let mut by_replay = requests;
    by_run.sort();
    by_replay.sort();
    assert!(
        by_run == by_replay,
        "the run and the replay stored different records"
    );
}
