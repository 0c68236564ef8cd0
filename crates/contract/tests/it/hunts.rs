//! The hunting checks: each fault of a cached or unsafe-under-concurrency server fails the default
//! run with one failure, and the reference server passes them.

use contract::vocabulary::AtOnce;

use crate::hunted::{HUNTED, start_hunted};
use crate::{ReferenceServer, target};

/// The default options, with the records kept (the server's database is thrown away).
fn options() -> contract::Options {
    contract::Options {
        keep_records: true,
        ..contract::Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_hunted_fault_fails_the_default_run_once() {
    let server = ReferenceServer::start().await;
    let mut wrong = Vec::new();
    for fault in HUNTED {
        let hunted = start_hunted(fault, server.base_url()).await;
        let report = contract::run(
            &nexudus_client::API,
            &target(hunted.base_url()),
            &options(),
            &mut || (),
        )
        .await
        .unwrap();
        drop(hunted);
        let groups: Vec<String> = report
            .groups
            .iter()
            .map(|group| format!("{} / {}: {}", group.operation, group.check, group.kind))
            .collect();
        println!("{fault:?}: {groups:#?}");

        if groups.len() != 1 {
            wrong.push((fault, groups));
        }
    }
    assert!(wrong.is_empty(), "not one failure each: {wrong:#?}");
}

/// Writes at once against a correct server never fail: a flaky concurrency check is worse than
/// none. The other checks are cut to the least a run makes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_passes_writes_at_once_every_time() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 0,
        sequences: 0,
        writers: 8,
        ..contract::Options::default()
    };
    // Without the sign-in cases, whose password hashing is most of a small run.
    let mut target = target(server.base_url());
    target.sign_in = None;
    let started = std::time::Instant::now();
    for run in 0..50 {
        let report = contract::run(&nexudus_client::API, &target, &options, &mut || ())
            .await
            .unwrap();
        for at_once in [AtOnce::Creates, AtOnce::Updates, AtOnce::Deletes] {
            let ran = report.tallies.iter().any(|((_, case, check), tally)| {
                *case == contract::Case::AtOnce
                    && *check == contract::Check::AtOnce(at_once)
                    && tally.passed == 1
            });
            assert!(
                ran,
                "run {run}: {at_once:?} at once did not run: {:?}",
                report.skipped
            );
        }
        assert!(report.passed(), "run {run}:\n{}", report.failure_details());
    }
    println!("50 runs in {:.1?}", started.elapsed());
}
