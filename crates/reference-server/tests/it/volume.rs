//! Successful creates: the envelope, and many at once.

use std::collections::BTreeSet;

use nexudus_types::CoworkerTimePassCreate;
use serde_json::json;

use crate::{ADMIN, CREATOR, TestServer, minimal, post_raw};

fn request(count: u32) -> CoworkerTimePassCreate {
    let mut body = minimal();
    body["CreateMultiple"] = json!(count);
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn success_envelope_carries_every_documented_key() {
    let server = TestServer::start().await;
    let before = chrono::Utc::now();
    let raw = post_raw(
        &server.url(),
        Some(CREATOR),
        Some("application/json"),
        serde_json::to_vec(&minimal()).unwrap(),
    )
    .await;
    assert_eq!(raw.status, 200);
    let body = raw.body.as_object().unwrap();
    let keys: BTreeSet<&str> = body.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "Status",
            "Message",
            "Value",
            "OpenInDialog",
            "OpenInWindow",
            "RedirectURL",
            "JavaScript",
            "UpdatedOn",
            "UpdatedBy",
            "Errors",
            "WasSuccessful"
        ])
    );
    assert_eq!(body["Status"], 200);
    assert_eq!(
        body["Message"],
        "CoworkerTimePass was successfully created."
    );
    assert_eq!(body["Value"], json!({"Id": 1}));
    assert_eq!(body["UpdatedBy"], "creator@example.com");
    assert_eq!(body["Errors"], serde_json::Value::Null);
    assert_eq!(body["RedirectURL"], serde_json::Value::Null);
    assert_eq!(body["WasSuccessful"], true);
    let updated_on: chrono::DateTime<chrono::Utc> =
        body["UpdatedOn"].as_str().unwrap().parse().unwrap();
    assert!(updated_on >= before && updated_on <= chrono::Utc::now());
    assert!(body["UpdatedOn"].as_str().unwrap().ends_with('Z'), "UTC");
    let stored = server.store().read(1).unwrap().unwrap();
    assert_eq!(stored.updated_by, "creator@example.com");
}

#[tokio::test]
async fn create_multiple_creates_that_many_and_returns_the_first_id() {
    let server = TestServer::start().await;
    let client = server.client(ADMIN);
    let first = client.create_coworker_time_pass(&request(5)).await.unwrap();
    let second = client.create_coworker_time_pass(&request(1)).await.unwrap();
    assert_eq!(first.value.id.get(), 1);
    assert_eq!(second.value.id.get(), 6);
    assert_eq!(server.store().ids().unwrap(), [1, 2, 3, 4, 5, 6]);
    for id in 1..=5 {
        let record = server.store().read(id).unwrap().unwrap();
        assert_eq!(record.to_read_model().unwrap().create_multiple, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_share_ids() {
    let server = TestServer::start().await;
    let client = server.client(ADMIN);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..64u32 {
        let client = client.clone();
        let count = n % 7 + 1;
        tasks.spawn(async move {
            let created = client
                .create_coworker_time_pass(&request(count))
                .await
                .unwrap();
            (created.value.id.get() as i64, i64::from(count))
        });
    }
    let mut ranges = Vec::new();
    while let Some(result) = tasks.join_next().await {
        ranges.push(result.unwrap());
    }
    ranges.sort();
    let total: i64 = ranges.iter().map(|(_, count)| count).sum();
    assert_eq!(server.count() as i64, total);
    // Each response's records are a block of ids of its own.
    for pair in ranges.windows(2) {
        let ((first, count), (next, _)) = (pair[0], pair[1]);
        assert!(first + count <= next, "{pair:?} overlap");
    }
    let ids = server.store().ids().unwrap();
    assert_eq!(ids.len() as i64, total);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len());
}
