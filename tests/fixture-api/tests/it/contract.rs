//! The contract runner checks the fixture API with the code that checks the Nexudus API, given
//! the fixture's generated `API`: the fixture's router with the in-test implementation keeps the
//! contract, and a server that breaks one rule of it fails the run by that rule.

use contract::{
    vocabulary::{AtOnce, Auth, Gone, Step, Transport},
    Case, Check, Detail,
};

use crate::widgets::{self, Fault, Widgets};

fn target(base_url: &str) -> contract::Target {
    contract::Target {
        base_url: base_url.to_owned(),
        token: "all".to_owned(),
        limited_tokens: Vec::new(),
        caller: None,
        body_limit: server_runtime::DEFAULT_BODY_LIMIT,
        sign_in: None,
        basic: Some(contract::Basic {
            username: "tester".to_owned(),
            password: "secret".to_owned(),
        }),
        secret_names: contract::SecretNames::default(),
    }
}

fn options() -> contract::Options {
    contract::Options {
        cases: 32,
        seed: 1,
        max_shrink_requests: 64,
        ..contract::Options::default()
    }
}

async fn check(fault: Option<Fault>) -> contract::Report {
    let served = widgets::serve(Widgets {
        fault,
        ..Widgets::default()
    })
    .await;
    let report = contract::run(
        &fixture_api::client::API,
        &target(served.base_url()),
        &options(),
        &mut || (),
    )
    .await
    .unwrap();
    println!("{fault:?}:\n{}", report.text(Detail::Table));
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_checks_the_fixture_api_as_it_checks_any() {
    let report = check(None).await;
    assert!(report.passed(), "{}", report.failure_details());
    let held = |operation: &str, case: Case, check: Check| {
        let tally = report
            .tally(operation, case, &check)
            .unwrap_or_else(|| panic!("{operation}: {case}: {check} was not made"));
        assert!(
            tally.passed > 0 && tally.failed == 0,
            "{operation}: {case}: {check}"
        );
    };
    for operation in ["widgets.list", "get-widget", "put_widget", "delete.widget"] {
        held(operation, Case::Valid, Check::Status);
        held(operation, Case::Invalid, Check::ErrorsMatchViolations);
        held(
            operation,
            Case::Transport(Transport::RepeatedAuthorization),
            Check::NamesTheFault,
        );
    }
    held("put_widget", Case::Valid, Check::ReadsBackAsSent);
    held(
        "put_widget",
        Case::Transport(Transport::RepeatedKey),
        Check::NamesTheFault,
    );
    held(
        "delete.widget",
        Case::Valid,
        Check::GoneAfterDelete(Gone::ReadAfterDelete),
    );
    held("get-widget", Case::NotFound, Check::Status);
    // Gadgets take Basic credentials too: a user no server has is refused, and the list answers
    // the target's as it answers its token.
    held("gadgets.list", Case::Auth(Auth::Basic), Check::Status);
    for operation in [
        "gadgets.list",
        "gadgets.create",
        "get-gadget",
        "put_gadget",
        "delete.gadget",
    ] {
        held(operation, Case::Auth(Auth::WrongBasic), Check::Status);
    }
    // A header parameter is drawn, sent and judged like a query parameter, and sent twice it is
    // refused by name.
    held(
        "gadgets.list",
        Case::Transport(Transport::RepeatedHeader),
        Check::NamesTheFault,
    );
    held(
        "gadgets.list",
        Case::Valid,
        Check::expectation("/Tag", "$request.header.X-Tag"),
    );
    held("delete.widget", Case::Valid, Check::ContentType);
    // Gadgets are a resource the runner can scope to its own records: the sequences and the
    // writes at once run on them as on the Nexudus resource.
    assert!(report.stateful.sequences > 0 && report.stateful.steps > 0);
    held(
        "stateful",
        Case::Sequence,
        Check::HoldsExactlyTheLive.at(Step::Audit),
    );
    held(
        "stateful",
        Case::Sequence,
        Check::MatchesTheModel.at(Step::List),
    );
    held("stateful", Case::Sequence, Check::IdsNeverReused);
    held("put_gadget", Case::Sequence, Check::ReadsBackAsSent);
    held(
        "gadgets.create",
        Case::AtOnce,
        Check::AtOnce(AtOnce::Creates),
    );
    held("put_gadget", Case::AtOnce, Check::AtOnce(AtOnce::Updates));
    held(
        "delete.gadget",
        Case::AtOnce,
        Check::AtOnce(AtOnce::Deletes),
    );
    held(
        "delete.gadget",
        Case::Valid,
        Check::GoneAfterDelete(Gone::UpdateAfterDelete),
    );
    // Widgets are written at ids the client chooses, with no list to scope them by: the report
    // says that they get no stateful checks rather than pass them unchecked, and that what the
    // puts wrote stays.
    assert!(
        report
            .skipped
            .iter()
            .any(|note| note.starts_with("stateful checks and writes at once of put_widget")),
        "{:?}",
        report.skipped
    );
    assert!(
        report
            .remaining
            .iter()
            .any(|note| note.contains("successes of put_widget wrote at the ids the run chose")),
        "{:?}",
        report.remaining
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixture_server_that_breaks_one_rule_fails_by_it() {
    for (fault, operation, broken) in [
        (
            Fault::DeleteKeepsTheWidget,
            "delete.widget",
            Check::GoneAfterDelete(Gone::ReadAfterDelete),
        ),
        (
            Fault::PutDropsTheWeight,
            "put_widget",
            Check::ReadsBackAsSent,
        ),
        // The set-up reads the widget before the delete (to show it is as the run wrote it),
        // which warms the cache: the read after the delete finds it there.
        (
            Fault::CacheOutlivesDelete,
            "delete.widget",
            Check::GoneAfterDelete(Gone::ReadAfterDelete),
        ),
        (
            Fault::GadgetDeletesRace,
            "delete.gadget",
            Check::AtOnce(AtOnce::Deletes),
        ),
        // The runner sends the header parameter it drew, and checks the echo the spec promises.
        (
            Fault::TagIgnored,
            "gadgets.list",
            Check::expectation("/Tag", "$request.header.X-Tag"),
        ),
    ] {
        let report = check(Some(fault)).await;
        let groups: Vec<(&str, &Check)> = report
            .groups
            .iter()
            .map(|group| (group.operation.as_str(), &group.check))
            .collect();
        assert!(
            groups.contains(&(operation, &broken)),
            "{fault:?}: {}",
            report.failure_details()
        );
        // A stale read after a delete is one fault, reported once (the proof before a delete
        // that reads back otherwise is another check's, for a put that drops a field); so is a
        // delete that lets every concurrent caller succeed.
        if matches!(
            fault,
            Fault::CacheOutlivesDelete | Fault::GadgetDeletesRace | Fault::TagIgnored
        ) {
            assert_eq!(groups, [(operation, &broken)], "{fault:?}");
        }
    }
}
