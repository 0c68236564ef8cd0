//! Servers that break the run itself, not one answer: a list that ignores every filter, a create
//! that answers another record's id, paging that never ends, a page that repeats forever, a 200
//! without the members it documents, and a mock that breaks everything at once. Whatever they
//! do, a run touches only the records it made (every record the server held before survives,
//! field by field), stays bounded, and reports each fault once, in a group.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{body::Body, extract::State, http::Request, response::Response};
use contract::{Case, Check, Detail, Report};
use loopback::Served;
use serde_json::{Value, json};

use crate::{ReferenceServer, record, target};

/// One way of breaking the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    /// The list answers as if no filter had been sent.
    IgnoresFilters,
    /// A create answers the id of a record the server held before the run.
    AnswersForeignIds,
    /// The list always says there is a next page, and past the last one makes up a record.
    EndlessPages,
    /// The list answers page 1 whatever page is asked for, and says there is a next one.
    RepeatingPage,
    /// The token endpoint answers `200 {}` where it would refuse.
    RefusalsAnswered200,
    /// The list answers `200 {}`: none of the paging members it documents.
    ListWithoutMembers,
    /// A read of one record answers its JSON as `text/plain`.
    ReadAsText,
    /// Once a record is deleted, its id names a record of someone else's: reads, updates and
    /// deletes of that id reach the other record.
    ReusesIds,
    /// Every request is answered 409 with `Retry-After: 1`, as a throttle that never lifts.
    ThrottledForever,
}

const COLLECTION: &str = "/api/billing/coworkertimepasses";

struct Broken {
    breakage: Breakage,
    upstream: String,
    http: reqwest::Client,
    /// A record the server held before the run.
    foreign: i64,
    /// Every record the server held before the run, handed out in turn as ids are given again.
    foreigners: std::sync::Mutex<std::collections::VecDeque<i64>>,
    /// Ids given again: the id the run deleted, and the record it names now.
    reused: std::sync::Mutex<BTreeMap<i64, i64>>,
    /// Requests it answered.
    requests: AtomicU64,
    /// The highest page number a list request filtered by a run's marker asked for.
    highest_page: AtomicU64,
}

fn json_response(status: u16, content_type: &str, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

async fn forward(State(state): State<Arc<Broken>>, request: Request<Body>) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    if state.breakage == Breakage::ThrottledForever {
        return reference_server::throttle::answer(std::time::Duration::from_secs(1));
    }
    let (parts, body) = request.into_parts();
    let mut body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut path = parts.uri.path().to_owned();
    // The id given again, and the record it names now.
    let mut given_again = None;
    if state.breakage == Breakage::ReusesIds {
        let reused = state.reused.lock().unwrap().clone();
        let id = path
            .strip_prefix(&format!("{COLLECTION}/"))
            .and_then(|id| id.parse::<i64>().ok());
        if let Some((id, other)) = id.and_then(|id| Some((id, *reused.get(&id)?))) {
            path = format!("{COLLECTION}/{other}");
            given_again = Some((id, other));
        }
        if let Ok(mut sent) = serde_json::from_slice::<Value>(&body)
            && let Some(id) = sent.get("Id").and_then(Value::as_i64)
            && let Some(other) = reused.get(&id)
        {
            sent["Id"] = json!(other);
            body = serde_json::to_vec(&sent).unwrap().into();
            given_again = Some((id, *other));
        }
    }
    let list = parts.method == http::Method::GET && path == COLLECTION;
    let read = parts.method == http::Method::GET && path.starts_with(&format!("{COLLECTION}/"));
    let create = parts.method == http::Method::POST && path == COLLECTION;
    let mut query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let page = query
        .iter()
        .find(|(name, _)| name == "page")
        .and_then(|(_, value)| value.parse::<i64>().ok())
        .unwrap_or(1);
    let marked = query.iter().any(|(name, value)| {
        name == "CoworkerTimePass_PurchaseOrder" && value.starts_with("contract-run-")
    });
    if list && marked {
        state
            .highest_page
            .fetch_max(page.max(1) as u64, Ordering::Relaxed);
    }
    if list && state.breakage == Breakage::IgnoresFilters {
        query.retain(|(name, _)| ["page", "size", "orderBy", "dir"].contains(&name.as_str()));
    }
    if list && state.breakage == Breakage::RepeatingPage {
        query.retain(|(name, _)| name != "page");
    }
    let mut url = format!("{}{path}", state.upstream);
    if !query.is_empty() {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &query {
            serializer.append_pair(name, value);
        }
        url = format!("{url}?{}", serializer.finish());
    }
    let mut outgoing = state.http.request(parts.method.clone(), url).body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let response = outgoing.send().await.unwrap();
    let status = response.status().as_u16();
    let mut headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    if state.breakage == Breakage::ReusesIds
        && parts.method == http::Method::DELETE
        && status == 200
        && given_again.is_none()
        && let Some(id) = path
            .strip_prefix(&format!("{COLLECTION}/"))
            .and_then(|id| id.parse::<i64>().ok())
    {
        let mut foreigners = state.foreigners.lock().unwrap();
        let other = foreigners.pop_front().unwrap();
        foreigners.push_back(other);
        state.reused.lock().unwrap().insert(id, other);
    }
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        let mut answer = Response::new(Body::from(bytes));
        *answer.status_mut() = http::StatusCode::from_u16(status).unwrap();
        *answer.headers_mut() = std::mem::take(&mut headers);
        return answer;
    };
    let mut content_type = "application/json";
    match state.breakage {
        Breakage::AnswersForeignIds if create && status == 200 => {
            json["Value"]["Id"] = json!(state.foreign);
        }
        Breakage::EndlessPages if list && status == 200 => {
            json["HasNextPage"] = json!(true);
            if json["Records"].as_array().is_some_and(Vec::is_empty) {
                json["Records"] = json!([record(1_000_000 + page, json!("PO-1"))]);
            }
        }
        Breakage::RepeatingPage if list && status == 200 => json["HasNextPage"] = json!(true),
        Breakage::RefusalsAnswered200 if path == "/api/token" && status == 400 => {
            return json_response(200, content_type, &json!({}));
        }
        Breakage::ListWithoutMembers if list && status == 200 => json = json!({}),
        Breakage::ReadAsText if read => content_type = "text/plain",
        _ => {}
    }
    if let Some((id, other)) = given_again {
        if json.get("Id") == Some(&json!(other)) {
            json["Id"] = json!(id);
        }
        if json.pointer("/Value/Id") == Some(&json!(other)) {
            json["Value"]["Id"] = json!(id);
        }
    }
    let mut answer = json_response(status, content_type, &json);
    if let Some(allow) = headers.get("allow") {
        answer.headers_mut().insert("allow", allow.clone());
    }
    answer
}

/// Every record the server holds, as stored, by id.
fn everything(server: &ReferenceServer) -> BTreeMap<i64, String> {
    let store = server.store();
    store
        .ids()
        .unwrap()
        .into_iter()
        .map(|id| (id, format!("{:?}", store.read(id).unwrap().unwrap())))
        .collect()
}

/// Records made by someone else before the run: one that looks like nothing the run writes, one
/// without a purchase order, and one whose purchase order looks like a run's marker (of a run
/// that is not this one).
async fn foreign_records(server: &ReferenceServer) -> BTreeMap<i64, String> {
    let client =
        nexudus_client::authenticated(server.base_url(), &target(server.base_url()).token).unwrap();
    for (count, purchase_order) in [
        (5, json!("FOREIGN-KEEP-ME")),
        (3, Value::Null),
        (2, json!("contract-run-1-1")),
    ] {
        let body: nexudus_types::CoworkerTimePassCreate = serde_json::from_value(json!({
            "CoworkerId": 7, "BusinessId": 7, "TimePassId": 7, "CreateMultiple": count,
            "Notes": "made by hand", "PurchaseOrder": purchase_order
        }))
        .unwrap();
        client.create_coworker_time_pass(&body).await.unwrap();
    }
    let held = everything(server);
    assert_eq!(held.len(), 10);
    held
}

fn options() -> contract::Options {
    contract::Options {
        cases: 8,
        seed: 1,
        max_shrink_requests: 64,
        sequences: 4,
        steps: 8,
        ..contract::Options::default()
    }
}

/// Runs the checks through a server broken by `breakage` in front of a reference server that
/// holds records of others; the report, and the highest page a list request filtered by a
/// run's marker asked for.
async fn run_broken(breakage: Breakage, options: &contract::Options) -> (Report, u64) {
    let server = ReferenceServer::start().await;
    let before = foreign_records(&server).await;
    let state = Arc::new(Broken {
        breakage,
        upstream: server.base_url().to_owned(),
        http: nexudus_client::http_client_builder().build().unwrap(),
        foreign: *before.keys().next().unwrap(),
        foreigners: std::sync::Mutex::new(before.keys().copied().collect()),
        reused: std::sync::Mutex::default(),
        requests: AtomicU64::new(0),
        highest_page: AtomicU64::new(0),
    });
    let broken = Served::start(
        axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&state)),
    )
    .await;
    let report = contract::run(
        &nexudus_client::API,
        &target(broken.base_url()),
        options,
        &mut || (),
    )
    .await
    .unwrap();
    drop(broken);
    println!("{breakage:?}:\n{}", report.text(Detail::Summary));
    // Nothing the server held before was deleted or changed.
    let after = everything(&server);
    for (id, record) in &before {
        assert_eq!(after.get(id), Some(record), "{breakage:?}: record {id}");
    }
    println!(
        "{breakage:?}: {} requests, the highest page asked for {}",
        state.requests.load(Ordering::Relaxed),
        state.highest_page.load(Ordering::Relaxed)
    );
    (report, state.highest_page.load(Ordering::Relaxed))
}

/// The group of `operation`'s `check` (whatever its kind), which must be there.
fn group<'r>(report: &'r Report, operation: &str, check: &Check) -> &'r contract::Group {
    report
        .groups
        .iter()
        .find(|group| group.operation == operation && &group.check == check)
        .unwrap_or_else(|| {
            panic!(
                "no failure of {operation}: {check}:\n{}",
                report.failure_details()
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_ignores_every_filter_loses_nothing() {
    let (report, _) = run_broken(Breakage::IgnoresFilters, &options()).await;
    assert!(!report.passed());
    let filters = group(&report, "list_coworker_time_passes", &Check::Filters);
    assert!(
        filters.mismatch.message.contains("but"),
        "{:?}",
        filters.mismatch
    );
    // The clean-up names the list that pointed at records that are not the run's.
    let clean_up = report
        .groups
        .iter()
        .find(|group| group.cases.contains_key(&Case::CleanUp))
        .expect("the clean-up's finding");
    assert_eq!(clean_up.operation, "list_coworker_time_passes");
    assert_eq!(clean_up.kind, "records without the marker filtered by");
    assert!(
        clean_up
            .mismatch
            .message
            .contains("none of them was touched"),
        "{}",
        clean_up.mismatch.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_answers_another_records_id_loses_nothing() {
    let (report, _) = run_broken(Breakage::AnswersForeignIds, &options()).await;
    assert!(!report.passed());
    // The update and delete cases get no record to work on: their set-up answered one that is
    // not the run's, and they were not sent.
    for operation in ["update_coworker_time_pass", "delete_coworker_time_pass"] {
        let own = group(&report, operation, &Check::OwnRecord);
        assert_eq!(own.kind, "not the run's own");
        assert!(
            own.mismatch
                .message
                .contains("the case's request was not sent"),
            "{}",
            own.mismatch.message
        );
    }
    // The ids the creates answered are named, once, as the create's fault at the clean-up.
    let clean_up = report
        .groups
        .iter()
        .find(|group| {
            group.operation == "create_coworker_time_pass"
                && group.cases.contains_key(&Case::CleanUp)
        })
        .expect("the clean-up's finding");
    assert!(
        clean_up
            .mismatch
            .message
            .contains("\"FOREIGN-KEEP-ME\", not this run's marker"),
        "{}",
        clean_up.mismatch.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_that_never_ends_is_left_after_a_bounded_number_of_pages() {
    let (report, highest_page) = run_broken(Breakage::EndlessPages, &options()).await;
    assert!(!report.passed());
    let ends = report
        .groups
        .iter()
        .find(|group| matches!(&group.check, Check::Step(_, check) if **check == Check::ListEnds))
        .expect("a listing that did not end");
    assert_eq!(ends.kind, "the pages never end");
    // The made-up records were shown, never touched; the clean-up says once what it could not
    // read.
    assert_eq!(report.remaining.len(), 1, "{:?}", report.remaining);
    assert!(
        report.remaining[0].contains("the list still says there are more"),
        "{:?}",
        report.remaining
    );
    // A list is followed for the pages its marker's records could fill (one, here) and ten
    // more, not for the thousand pages a list that never ends would have it read.
    assert_eq!(highest_page, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_repeats_forever_is_left_at_once() {
    let (report, _) = run_broken(Breakage::RepeatingPage, &options()).await;
    assert!(!report.passed());
    let repeats = report
        .groups
        .iter()
        .find(|group| group.kind == "a page repeats earlier pages")
        .expect("a listing whose pages repeat");
    assert!(
        repeats
            .mismatch
            .message
            .contains("page 2 shows only records earlier pages showed"),
        "{}",
        repeats.mismatch.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_without_the_members_it_documents_is_one_plain_failure() {
    let (report, _) = run_broken(Breakage::RefusalsAnswered200, &options()).await;
    assert!(!report.passed());
    // Every refusal answered 200: one fault, said as a status, no OAuth error code looked for
    // in a success.
    let status = group(&report, "create_token", &Check::Status);
    assert_eq!(status.kind, "expected 400, got 200");
    assert!(status.count() >= 6, "{status:?}");
    assert!(
        !report
            .groups
            .iter()
            .any(|group| group.check == Check::OAuthErrorCode),
        "{}",
        report.failure_details()
    );
    assert_eq!(
        report
            .groups
            .iter()
            .filter(|group| group.operation == "create_token")
            .count(),
        1,
        "{}",
        report.failure_details()
    );

    let (report, _) = run_broken(Breakage::ListWithoutMembers, &options()).await;
    let schema = group(&report, "list_coworker_time_passes", &Check::ResponseSchema);
    assert!(
        schema.mismatch.message.contains("is a required field"),
        "{}",
        schema.mismatch.message
    );
    // The checks of what a page holds do not apply to a body without its members.
    assert!(
        !report
            .groups
            .iter()
            .any(|group| group.operation == "list_coworker_time_passes"
                && [Check::PageFigures, Check::Order, Check::Filters].contains(&group.check)),
        "{}",
        report.failure_details()
    );
    assert!(
        !report.remaining.is_empty(),
        "the records it could not find are named"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_of_another_media_type_fails_its_content_type() {
    let (report, _) = run_broken(Breakage::ReadAsText, &options()).await;
    let typed = group(&report, "get_coworker_time_pass", &Check::ContentType);
    assert_eq!(typed.kind, "Content-Type text/plain");
    assert!(typed.cases.contains_key(&Case::Valid), "{typed:?}");
    // One failure per operation and kind of mismatch: the valid and the not-found cases' alike.
    assert!(typed.cases.contains_key(&Case::NotFound), "{typed:?}");
    let stateful = group(
        &report,
        contract::STATEFUL,
        &Check::ContentType.at(contract::vocabulary::Step::Read),
    );
    assert_eq!(stateful.kind, "Content-Type text/plain");
}

/// What a spec-driven mock answers: the same documented example for every request of an
/// operation, whatever was sent, without looking at credentials.
struct Mock {
    /// Updates and deletes aimed at the one record its examples name.
    writes: AtomicU64,
    requests: AtomicU64,
}

async fn mock(State(state): State<Arc<Mock>>, request: Request<Body>) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let path = parts.uri.path();
    let envelope = |message: &str| {
        json!({
            "Status": 200, "Message": message, "Value": {"Id": 1}, "OpenInDialog": false,
            "OpenInWindow": false, "RedirectURL": null, "JavaScript": null,
            "UpdatedOn": "2025-01-15T10:30:00Z", "UpdatedBy": "admin@example.com",
            "Errors": null, "WasSuccessful": true
        })
    };
    let answer = match (&parts.method, path) {
        (&http::Method::POST, "/api/token") => json!({
            "access_token": "mock-access", "token_type": "bearer", "expires_in": 604799,
            "refresh_token": "mock-refresh"
        }),
        (&http::Method::POST, COLLECTION) => envelope("CoworkerTimePass was successfully created."),
        (&http::Method::GET, COLLECTION) => json!({
            "Records": [record(1, json!("PO-1"))], "CurrentPage": 1, "CurrentPageSize": 25,
            "CurrentOrderField": "Id", "CurrentSortDirection": 1, "FirstItem": 1, "LastItem": 1,
            "HasNextPage": true, "HasPreviousPage": false, "TotalItems": 2000, "TotalPages": 80
        }),
        (&http::Method::PUT, COLLECTION) => {
            let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
            if sent.get("Id") == Some(&json!(1)) {
                state.writes.fetch_add(1, Ordering::Relaxed);
            }
            envelope("CoworkerTimePass was successfully updated.")
        }
        (&http::Method::DELETE, path) => {
            if path == format!("{COLLECTION}/1") {
                state.writes.fetch_add(1, Ordering::Relaxed);
            }
            envelope("The record was deleted successfully.")
        }
        (&http::Method::GET, _) => record(1, json!("PO-1")),
        _ => json!({}),
    };
    json_response(200, "application/json", &answer)
}

/// A mock breaks nearly every check at once: the run ends, with a bounded report, a failure, and
/// not one write to the record the mock's examples name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_that_breaks_everything_gets_a_bounded_report_and_no_write() {
    let state = Arc::new(Mock {
        writes: AtomicU64::new(0),
        requests: AtomicU64::new(0),
    });
    let served = Served::start(
        axum::Router::new()
            .fallback(mock)
            .with_state(Arc::clone(&state)),
    )
    .await;
    let options = contract::Options {
        cases: 32,
        sequences: 8,
        ..options()
    };
    let report = contract::run(
        &nexudus_client::API,
        &target(served.base_url()),
        &options,
        &mut || (),
    )
    .await
    .unwrap();
    let text = report.text(Detail::Summary);
    println!("{text}");
    assert!(!report.passed());
    assert_eq!(
        state.writes.load(Ordering::Relaxed),
        0,
        "the run wrote to a record it did not make"
    );
    assert_eq!(report.removed, 0);
    let lines = text.lines().count();
    let longest = text
        .lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0);
    println!(
        "{} groups, {lines} lines (the longest {longest} characters), {} requests",
        report.groups.len(),
        state.requests.load(Ordering::Relaxed)
    );
    assert!(lines < 1500, "{lines} lines");
    assert!(longest <= 2100, "a line of {longest} characters");
    // Each fault once: the report has far fewer failures than failed checks.
    assert!(
        (report.groups.len() as u64) * 4 < report.failed_checks(),
        "{} groups for {} failed checks",
        report.groups.len(),
        report.failed_checks()
    );
}

/// Console, JUnit and the exit status count the same failures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_junit_count_the_same_failures() {
    let (report, _) = run_broken(Breakage::ReadAsText, &options()).await;
    let junit = report.junit();
    let failures = junit.matches("<failure").count();
    assert_eq!(failures, report.groups.len(), "{junit}");
    let text = report.text(Detail::Summary);
    assert!(
        text.contains(&format!(
            "FAILED: {} failures ({} failed checks)",
            report.groups.len(),
            report.failed_checks()
        )),
        "{text}"
    );
    let groups: u64 = report.groups.iter().map(contract::Group::count).sum();
    assert_eq!(groups, report.failed_checks());
    let tests = junit.matches("<testcase").count();
    let held = report
        .tallies
        .values()
        .filter(|tally| tally.failed == 0)
        .count();
    assert_eq!(tests, held + report.groups.len());
}

/// What a person reads, pinned: a run that passes, and one against a server that answers reads
/// as `text/plain` (cases in flight one at a time, so that ids and order are the same every run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_output_is_pinned() {
    let options = contract::Options {
        cases: 2,
        sequences: 2,
        steps: 4,
        concurrency: 1,
        ..options()
    };
    let server = ReferenceServer::start().await;
    let passing = contract::run(
        &nexudus_client::API,
        &target(server.base_url()),
        &options,
        &mut || (),
    )
    .await
    .unwrap();
    assert!(passing.passed());
    let (failing, _) = run_broken(Breakage::ReadAsText, &options).await;
    insta::with_settings!({filters => vec![
        (r"http://127\.0\.0\.1:\d+", "http://[server]"),
        (r"contract-run-[0-9a-f]+-[0-9a-f]+", "[marker]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[time]"),
        (r" in [0-9.]+[a-zµ]+ \([0-9.]+ cases/s\)", " in [elapsed]"),
    ]}, {
        insta::assert_snapshot!("passing", passing.text(Detail::Summary));
        insta::assert_snapshot!("failing", failing.text(Detail::Summary));
    });
}

/// A server that gives a deleted record's id to another's record: the run writes nothing to it
/// (the deleted id is read first, and a delete is sent again only after a read answers 404), and
/// the clean-up leaves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_gives_ids_again_loses_nothing() {
    let (report, _) = run_broken(Breakage::ReusesIds, &options()).await;
    assert!(!report.passed());
    let gone = group(
        &report,
        "delete_coworker_time_pass",
        &Check::GoneAfterDelete(contract::vocabulary::Gone::ReadAfterDelete),
    );
    assert_eq!(gone.kind, "answered 200");
    assert!(
        report
            .tally(
                "delete_coworker_time_pass",
                Case::Valid,
                &Check::GoneAfterDelete(contract::vocabulary::Gone::DeleteAgain)
            )
            .is_none(),
        "a delete was sent again to an id that names a record"
    );
}

/// A throttle that never lifts: after a few requests still throttled at the end of their wait,
/// the run stops waiting, and every answer after is judged as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_that_never_lifts_is_waited_out_a_few_times_only() {
    let options = contract::Options {
        throttle_wait: std::time::Duration::from_secs(2),
        ..options()
    };
    let (report, _) = run_broken(Breakage::ThrottledForever, &options).await;
    assert!(!report.passed());
    let why = report
        .gave_up_waiting
        .as_deref()
        .expect("it stopped waiting");
    assert!(
        why.starts_with("3 requests in a row were still throttled"),
        "{why}"
    );
    assert!(report.throttled <= 3 * 2 + 8 * 2, "{}", report.throttled);
    let status = group(&report, "create_coworker_time_pass", &Check::Status);
    assert!(
        status
            .mismatch
            .message
            .contains("the throttled answer, not waited out"),
        "{}",
        status.mismatch.message
    );
}

/// A server that stops answering stops the run: it says so, and does not try to clean up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_answer_stops_the_run() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    // Nothing listens there any more: every connection is refused at once.
    drop(listener);
    let report = contract::run(
        &nexudus_client::API,
        &target(&format!("http://{address}")),
        &options(),
        &mut || (),
    )
    .await
    .unwrap();
    let stopped = report.stopped.as_deref().expect("the run stopped");
    assert!(
        stopped.starts_with("the server did not answer 16 requests in a row"),
        "{stopped}"
    );
    assert!(!report.passed());
    assert_eq!(report.requests, 0, "no request was answered");
    assert!(report.cases < 100, "{} cases", report.cases);
    assert!(
        report.remaining[0].starts_with("the server stopped answering before the clean-up"),
        "{:?}",
        report.remaining
    );
    assert!(
        report
            .text(Detail::Summary)
            .contains("STOPPED: the server did not answer")
    );
}
