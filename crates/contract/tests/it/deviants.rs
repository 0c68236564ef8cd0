//! The suite must be able to fail: servers that each break the contract in one way, and the
//! check that catches every one.

use crate::deviant::{ALL, Deviation, Fault, STATEFUL, Stateful, start_deviant, start_faulty};
use crate::{ReferenceServer, target};
use contract::{
    Case, Check, Detail,
    vocabulary::{Auth, SignIn},
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_deviation_is_caught() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 24,
        seed: 1,
        max_shrink_requests: 32,
        sequences: 4,
        steps: 8,
        // The server's database is thrown away: deleting the thousands of records the creates
        // of up to 100 made would only slow the test.
        keep_records: true,
        ..contract::Options::default()
    };
    let mut caught = Vec::new();
    let mut missed = Vec::new();
    for deviation in ALL {
        let deviant = start_deviant(deviation, server.base_url()).await;
        let report = contract::run(
            &nexudus_client::API,
            &target(deviant.base_url()),
            &options,
            &mut || (),
        )
        .await
        .unwrap();
        drop(deviant);
        if report.passed() {
            println!("{deviation:?}: NOT caught");
            missed.push(deviation);
        } else {
            let groups: Vec<String> = report
                .groups
                .iter()
                .map(|group| format!("{} / {}: {}", group.operation, group.check, group.kind))
                .collect();
            println!("{deviation:?}: caught by {groups:#?}");
            // Every failure of a case comes with a request to reproduce it.
            for group in &report.groups {
                if matches!(group.check, Check::Produced(_)) {
                    continue;
                }
                let failure = group.failure.as_ref().expect("a reproduction");
                let step = failure.case_step().unwrap();
                assert!(step.curl.contains("curl -i -X "), "{failure:#?}");
            }
            caught.push(deviation);
        }
    }
    println!("deviations caught: {}/{}", caught.len(), ALL.len());
    assert!(missed.is_empty(), "not caught: {missed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_in_flight_still_shrink_to_a_minimal_case() {
    let server = ReferenceServer::start().await;
    let deviant = start_deviant(Deviation::NoRedirectUrlWhenNotesSent, server.base_url()).await;
    let options = contract::Options {
        cases: 64,
        seed: 3,
        concurrency: 16,
        ..contract::Options::default()
    };
    let report = contract::run(
        &nexudus_client::API,
        &target(deviant.base_url()),
        &options,
        &mut || (),
    )
    .await
    .unwrap();
    drop(deviant);
    let failure = report
        .groups
        .iter()
        .filter(|group| group.operation == "create_coworker_time_pass")
        .filter_map(|group| group.failure.as_ref())
        .find(|failure| failure.case == Case::Valid)
        .expect("the deviation is caught");
    let mut sent: Value = serde_json::from_str(&failure.case_step().unwrap().request_body).unwrap();
    // Every create carries the run's marker, in place of any value the case had there.
    let marker = sent
        .as_object_mut()
        .unwrap()
        .remove("PurchaseOrder")
        .unwrap();
    assert!(
        marker.as_str().unwrap().starts_with("contract-run-"),
        "{marker}"
    );
    // The required properties at their minimum, and the one property that triggers the fault.
    assert_eq!(
        sent,
        json!({
            "CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 1,
            "Notes": ""
        }),
        "{failure:#?}"
    );
}

/// Faults that show only across requests: the sequences catch each one and shrink it to a few
/// operations; the one-request checks are run alongside, to show which of them they miss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sequences_catch_what_shows_only_across_requests() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 16,
        seed: 11,
        sequences: 16,
        steps: 16,
        max_shrink_requests: 2000,
        // Few records per create: the clean-up finds and deletes fewer (a sequence's deletes are
        // what a server that gives ids again gives them from).
        max_creates: Some(3),
        // What the sequences see is compared with the one-request checks alone: writes at once
        // find some of these faults too (a delete that hides the record succeeds for each caller).
        writers: 0,
        ..contract::Options::default()
    };
    let mut missed = Vec::new();
    let mut one_request_caught = Vec::new();
    for fault in STATEFUL {
        let deviant = start_faulty(Fault::Store(fault), server.base_url()).await;
        let report = contract::run(
            &nexudus_client::API,
            &target(deviant.base_url()),
            &options,
            &mut || (),
        )
        .await
        .unwrap();
        drop(deviant);
        let by_sequences: Vec<&contract::Failure> = report
            .groups
            .iter()
            .filter(|group| group.operation == contract::STATEFUL)
            .filter_map(|group| group.failure.as_ref())
            .collect();
        let by_one_request: Vec<String> = report
            .groups
            .iter()
            .filter(|group| group.operation != contract::STATEFUL)
            .map(|group| format!("{} / {}: {}", group.operation, group.check, group.kind))
            .collect();
        let shrunk: Vec<usize> = by_sequences
            .iter()
            .filter_map(|failure| failure.sequence)
            .collect();
        println!(
            "{fault:?} ({:.1?}, {:.1?} of it shrinking, {} requests): sequences {} (shrunk to \
             {shrunk:?} steps); one-request checks {}",
            report.elapsed,
            report.shrinking,
            report.requests,
            if by_sequences.is_empty() {
                "MISSED"
            } else {
                "caught"
            },
            if by_one_request.is_empty() {
                "missed".to_owned()
            } else {
                format!("caught by {by_one_request:?}")
            }
        );
        if by_sequences.is_empty() {
            missed.push(fault);
            continue;
        }
        if !by_one_request.is_empty() {
            one_request_caught.push(fault);
        }
        for failure in &by_sequences {
            // A shrunk sequence is short, and every request it sent can be sent again.
            let steps = failure.sequence.expect("a sequence says how long it is");
            assert!(
                steps <= 4,
                "{fault:?} shrank to {steps} steps:\n{}",
                report.failure_details()
            );
            assert!(
                failure
                    .steps
                    .iter()
                    .all(|step| step.curl.contains("curl -i -X ")),
                "{failure:#?}"
            );
            assert!(failure.script().starts_with("#!/bin/sh"));
        }
    }
    assert!(missed.is_empty(), "not caught by the sequences: {missed:?}");
    println!("also caught by the one-request checks: {one_request_caught:?}");
    // These leave no trace in any one answer, nor in a read after a write: only a model of the
    // records can see them.
    for fault in [
        Stateful::DeleteHidesFromReadOnly,
        Stateful::CreatesOneLess,
        Stateful::RejectedUpdateStillWrites,
    ] {
        assert!(
            !one_request_caught.contains(&fault),
            "{fault:?} was caught by the one-request checks"
        );
    }
}

/// The token endpoint's faults fail its own checks, by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoints_faults_fail_its_checks_by_name() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 2,
        seed: 1,
        max_shrink_requests: 4,
        sequences: 1,
        steps: 2,
        keep_records: true,
        ..contract::Options::default()
    };
    for (deviation, failing) in [
        (
            Deviation::RefreshTokensNeverRefused,
            &[
                (SignIn::RefreshGrant, Check::Status),
                (SignIn::UnknownRefreshToken, Check::Status),
            ][..],
        ),
        (
            Deviation::WrongOAuthErrorCode,
            &[
                (SignIn::JsonBody, Check::OAuthErrorCode),
                (SignIn::UnknownGrantType, Check::OAuthErrorCode),
            ][..],
        ),
        (
            Deviation::SecondFactorNotAsked,
            &[(SignIn::LeftOut, Check::Status)][..],
        ),
        (
            Deviation::ClientIdIgnored,
            &[
                (SignIn::ClientLeftOut, Check::Status),
                (SignIn::OtherClient, Check::Status),
            ][..],
        ),
        (
            Deviation::RefreshTokensNeverRetired,
            &[(SignIn::ClientRetired, Check::Status)][..],
        ),
    ] {
        let deviant = start_deviant(deviation, server.base_url()).await;
        let report = contract::run(
            &nexudus_client::API,
            &target(deviant.base_url()),
            &options,
            &mut || (),
        )
        .await
        .unwrap();
        drop(deviant);
        for (sign_in, check) in failing {
            let tally = report
                .tally("create_token", Case::SignIn(*sign_in), check)
                .unwrap();
            assert!(
                tally.failed > 0,
                "{deviation:?}: {sign_in}: {check}: {}",
                report.text(Detail::Table)
            );
        }
        // The report shows no password and no issued token.
        let details = report.failure_details();
        for password in [
            "local-admin-password",
            "local-twofactor-password",
            "local-reset-password",
        ] {
            assert!(!details.contains(password), "{details}");
            assert!(!report.junit().contains(password));
        }
        for key in ["\"access_token\":\"", "\"refresh_token\":\""] {
            assert!(
                details
                    .match_indices(key)
                    .all(|(at, _)| details[at + key.len()..].starts_with('$')),
                "{details}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_answer_without_its_header_fails_by_name() {
    let server = ReferenceServer::start().await;
    let deviant = start_deviant(Deviation::ThrottledWithoutRetryAfter, server.base_url()).await;
    let options = contract::Options {
        cases: 4,
        seed: 1,
        max_shrink_requests: 8,
        sequences: 1,
        steps: 2,
        keep_records: true,
        ..contract::Options::default()
    };
    let report = contract::run(
        &nexudus_client::API,
        &target(deviant.base_url()),
        &options,
        &mut || (),
    )
    .await
    .unwrap();
    drop(deviant);
    let status = report
        .tally("list_coworker_time_passes", Case::Valid, &Check::Status)
        .unwrap();
    assert!(status.failed > 0, "{}", report.text(Detail::Table));
    assert_eq!(
        report.throttled, 0,
        "nothing to wait for without Retry-After"
    );
    assert!(
        report.failure_details().contains(
            "expected 200, got 409, the throttled answer, not waited out: no Retry-After header"
        ),
        "{}",
        report.failure_details()
    );
}

/// A server that lets Basic credentials in whatever their password fails the case of a user no
/// server has, on every operation; one that never lets them in fails the read sent with the
/// target's; one that gives Basic credentials every role fails the case of a user without the
/// operation's. The reproduction names the target's credentials by their variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_faults_fail_their_auth_cases() {
    let server = ReferenceServer::start().await;
    let options = contract::Options {
        cases: 2,
        seed: 1,
        max_shrink_requests: 4,
        sequences: 0,
        writers: 0,
        keep_records: true,
        ..contract::Options::default()
    };
    for (deviation, operations, auth) in [
        (
            Deviation::BasicPasswordIgnored,
            &[
                "create_coworker_time_pass",
                "get_coworker_time_pass",
                "list_coworker_time_passes",
                "update_coworker_time_pass",
                "delete_coworker_time_pass",
            ][..],
            Auth::WrongBasic,
        ),
        (
            Deviation::BasicRefused,
            &["list_coworker_time_passes"][..],
            Auth::Basic,
        ),
        (
            Deviation::BasicIgnoresRoles,
            &[
                "create_coworker_time_pass",
                "get_coworker_time_pass",
                "update_coworker_time_pass",
                "delete_coworker_time_pass",
            ][..],
            Auth::BasicWithoutRole,
        ),
    ] {
        let deviant = start_deviant(deviation, server.base_url()).await;
        let report = contract::run(
            &nexudus_client::API,
            &target(deviant.base_url()),
            &options,
            &mut || (),
        )
        .await
        .unwrap();
        drop(deviant);
        for operation in operations {
            let tally = report
                .tally(operation, Case::Auth(auth), &Check::Status)
                .unwrap_or_else(|| panic!("{deviation:?}: {operation}: no {auth} case"));
            assert!(tally.failed > 0, "{deviation:?}: {operation}: {tally:?}");
        }
        let details = report.failure_details();
        assert!(!details.contains("YWRtaW5AZXhhbXBsZS5jb206"), "{details}");
        if deviation == Deviation::BasicRefused {
            assert!(
                details.contains("Authorization: Basic $NEXUDUS_BASIC_CREDENTIALS"),
                "{details}"
            );
        }
    }
}
