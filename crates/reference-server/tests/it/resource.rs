//! Read, list, update and delete over HTTP with the generated client: what was written reads
//! back, a list pages, sorts and filters as the spec says (on indexes), updates replace, deletes
//! are final, and concurrent writes of one record never half-apply.

use std::{collections::BTreeSet, num::NonZeroU64};

use nexudus_client::Error;
use nexudus_types::{CoworkerTimePassCreate, CoworkerTimePassOrderField, CoworkerTimePassUpdate};
use reference_server::{api::ListParameters, store::Fields};
use serde_json::{Value, json};

use crate::{ADMIN, TestServer, minimal};

fn create(body: Value) -> CoworkerTimePassCreate {
    serde_json::from_value(body).unwrap()
}

fn update(id: u64, body: Value) -> CoworkerTimePassUpdate {
    let mut body = body;
    body["Id"] = json!(id);
    serde_json::from_value(body).unwrap()
}

fn id(id: u64) -> NonZeroU64 {
    NonZeroU64::new(id).unwrap()
}

/// The status of a documented error.
fn status<T: std::fmt::Debug>(result: Result<T, Error<nexudus_types::ErrorEnvelope>>) -> u16 {
    match result {
        Err(Error::ErrorResponse(response)) => response.status().as_u16(),
        other => panic!("expected a documented error, got {other:?}"),
    }
}

/// Page `number` of every record, `size` to a page (the spec's default when `None`), by Id.
async fn page_of(
    client: &nexudus_client::Client,
    number: u32,
    size: Option<u32>,
) -> nexudus_types::CoworkerTimePassList {
    client
        .list_coworker_time_passes(
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            std::num::NonZeroU32::new(number),
            size.and_then(std::num::NonZeroU32::new),
            None,
        )
        .await
        .unwrap()
        .into_inner()
}

/// A documented error's status and its `Errors` as (property, attempted value, message).
fn refusal<T: std::fmt::Debug>(
    result: Result<T, Error<nexudus_types::ErrorEnvelope>>,
) -> (u16, Vec<(String, Value, String)>) {
    match result {
        Err(Error::ErrorResponse(response)) => (
            response.status().as_u16(),
            response
                .into_inner()
                .errors
                .into_iter()
                .map(|error| (error.property_name, error.attempted_value, error.message))
                .collect(),
        ),
        other => panic!("expected a documented error, got {other:?}"),
    }
}

#[tokio::test]
async fn what_is_written_reads_back_as_sent() {
    let server = TestServer::start().await;
    let client = server.client(ADMIN);
    let sent = json!({
        "CoworkerId": 1414201305, "BusinessId": 1414201001, "TimePassId": 1414201122,
        "CreateMultiple": 2, "Notes": "Welcome pack ✓", "PurchaseOrder": "PO-2025-0042",
        "Used": false, "Free": true, "Price": 25.5,
        "ExpireDate": "2026-07-31T02:00:00.8822471+02:00",
        "TariffTimePassUniqueId": "0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90",
        "CoworkerProductUniqueId": null
    });
    let created = client
        .create_coworker_time_pass(&create(sent))
        .await
        .unwrap();
    let first = created.value.id;
    for record_id in [first.get(), first.get() + 1] {
        let record = client
            .get_coworker_time_pass(id(record_id))
            .await
            .unwrap()
            .into_inner();
        let read = serde_json::to_value(&record).unwrap();
        assert_eq!(read["Id"], record_id);
        // As sent, after the normalisation the spec states: UTC, lower-case uuids, one record
        // each.
        for (key, value) in [
            ("CoworkerId", json!(1414201305)),
            ("Notes", json!("Welcome pack ✓")),
            ("PurchaseOrder", json!("PO-2025-0042")),
            ("Used", json!(false)),
            ("Free", json!(true)),
            ("Price", json!(25.5)),
            ("ExpireDate", json!("2026-07-31T00:00:00.882247100Z")),
            (
                "TariffTimePassUniqueId",
                json!("0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90"),
            ),
            ("CoworkerProductUniqueId", Value::Null),
            ("CoworkerContractUniqueId", Value::Null),
            ("CreateMultiple", json!(1)),
            ("UpdatedBy", json!("admin@example.com")),
            ("IsNew", json!(false)),
            ("TimePassName", Value::Null),
        ] {
            assert_eq!(read[key], value, "{key}");
        }
        assert_eq!(record.created_on, created.updated_on);
        assert_eq!(record.updated_on, created.updated_on);
    }
}

#[tokio::test]
async fn updates_replace_the_record_and_deletes_are_final() {
    let server = TestServer::start().await;
    let client = server.client(ADMIN);
    let created = client
        .create_coworker_time_pass(&create(json!({
            "CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 1,
            "Notes": "before", "Price": 10.0
        })))
        .await
        .unwrap();
    let record = created.value.id;
    let updated = client
        .update_coworker_time_pass(&update(
            record.get(),
            json!({"CoworkerId": 4, "BusinessId": 5, "TimePassId": 6, "CreateMultiple": 7, "Used": true}),
        ))
        .await
        .unwrap();
    assert_eq!(updated.value.id, record);
    assert_eq!(
        updated.message,
        "CoworkerTimePass was successfully updated."
    );
    assert!(updated.updated_on >= created.updated_on);
    let read = client.get_coworker_time_pass(record).await.unwrap();
    assert_eq!(read.coworker_id.get(), 4);
    assert_eq!(read.used, Some(true));
    // What the update left out is null: PUT replaces.
    assert_eq!((read.notes.as_deref(), read.price), (None, None));
    assert_eq!(read.create_multiple, 1);
    assert_eq!(read.created_on, created.updated_on);
    assert_eq!(read.updated_on, updated.updated_on);

    let deleted = client.delete_coworker_time_pass(record).await.unwrap();
    assert_eq!(deleted.message, "The record was deleted successfully.");
    assert_eq!(deleted.value, Value::Null);
    // Each 404 names the id no record has (not the path, as for an unknown route).
    let gone = |name: &str| {
        (
            404,
            vec![(
                name.to_owned(),
                json!(record.get()),
                "no CoworkerTimePass has this Id".to_owned(),
            )],
        )
    };
    assert_eq!(
        refusal(client.get_coworker_time_pass(record).await),
        gone("id")
    );
    assert_eq!(
        refusal(client.delete_coworker_time_pass(record).await),
        gone("id")
    );
    assert_eq!(
        refusal(
            client
                .update_coworker_time_pass(&update(record.get(), minimal()))
                .await
        ),
        gone("Id")
    );
    let listed = client
        .list_coworker_time_passes(
            None, None, None, None, None, None, None, None, None, None, None, None,
        )
        .await
        .unwrap();
    assert_eq!(listed.total_items, 0);
    // The id is never given again.
    let next = client
        .create_coworker_time_pass(&create(minimal()))
        .await
        .unwrap();
    assert!(next.value.id > record);
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn lists_page_sort_and_filter_as_the_spec_says() {
    let server = TestServer::start().await;
    let client = server.client(ADMIN);
    // 12 records: coworkers 1 to 3, prices falling, every third one without a price.
    for n in 1..=12u64 {
        let price = (n % 3 != 0).then_some(100.0 - n as f64);
        let mut body = json!({
            "CoworkerId": n % 3 + 1, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 1,
            "Used": n % 2 == 0, "PurchaseOrder": format!("PO-{}", n % 4),
            "ExpireDate": format!("2026-01-{n:02}T00:00:00Z"),
        });
        body["Price"] = json!(price);
        client
            .create_coworker_time_pass(&create(body))
            .await
            .unwrap();
    }
    let page = client
        .list_coworker_time_passes(
            None,
            None,
            None,
            None,
            None,
            None,
            Some(&(-1).try_into().unwrap()),
            None,
            Some(&CoworkerTimePassOrderField::Price),
            std::num::NonZeroU32::new(2),
            std::num::NonZeroU32::new(5),
            None,
        )
        .await
        .unwrap()
        .into_inner();
    // Descending by price, nulls last and ties by id descending: 1, 2, 4, 5, 7 | 8, 10, 11,
    // then the nulls 12, 9 | 6, 3. Page 2 of 5 per page:
    let ids: Vec<u64> = page.records.iter().map(|record| record.id.get()).collect();
    assert_eq!(ids, [8, 10, 11, 12, 9]);
    assert_eq!(
        (
            page.total_items,
            page.total_pages,
            page.first_item,
            page.last_item
        ),
        (12, 3, 6, 10)
    );
    assert!(page.has_next_page && page.has_previous_page);
    assert_eq!(page.current_order_field, "Price");
    assert_eq!(page.current_sort_direction, -1);

    let filtered = client
        .list_coworker_time_passes(
            None,
            NonZeroU64::new(2),
            None,
            Some(&"PO-3".parse().unwrap()),
            None,
            Some(false),
            None,
            Some(&"2026-01-02T00:00:00Z".parse().unwrap()),
            None,
            None,
            None,
            Some(&"2026-01-10T00:00:00+01:00".parse().unwrap()),
        )
        .await
        .unwrap()
        .into_inner();
    // Coworker 2 (n % 3 == 1: 1, 4, 7, 10), not used (odd: 1, 7), PO-3 (n % 4 == 3: 7), from
    // Jan 2 to Jan 9 23:00 UTC.
    let ids: Vec<u64> = filtered
        .records
        .iter()
        .map(|record| record.id.get())
        .collect();
    assert_eq!(ids, [7]);
    assert_eq!((filtered.total_items, filtered.first_item), (1, 1));
    let beyond = page_of(&client, 99, None).await;
    assert_eq!(
        (beyond.records.len(), beyond.first_item, beyond.total_pages),
        (0, 0, 1)
    );
    assert!(!beyond.has_next_page && beyond.has_previous_page);

    // Pages of 4 divide the 12 records evenly: three pages; the first has none before it, the
    // last none after it.
    for (number, first, last, previous, next) in [
        (1, 1, 4, false, true),
        (2, 5, 8, true, true),
        (3, 9, 12, true, false),
    ] {
        let page = page_of(&client, number, Some(4)).await;
        assert_eq!(
            (
                page.total_pages,
                page.first_item,
                page.last_item,
                page.has_previous_page,
                page.has_next_page
            ),
            (3, first, last, previous, next),
            "page {number}"
        );
        // By default, by Id ascending.
        assert_eq!(page.current_sort_direction, 1);
        let ids: Vec<i64> = page
            .records
            .iter()
            .map(|record| record.id.get() as i64)
            .collect();
        assert_eq!(ids, (first..=last).collect::<Vec<_>>(), "page {number}");
    }
}

/// Every filter and sort the spec offers is answered from an index: a filter's count searches
/// the filter's index; a page either searches it or walks the sort's index in order and stops
/// at the page's end (SQLite's planner picks), never scans the whole table and sorts it; a sort
/// without a filter walks its index in order.
#[tokio::test]
async fn every_filter_and_sort_uses_an_index() {
    let server = TestServer::start().await;
    let definitions: Value = serde_json::from_str(nexudus_server_api::SCHEMA_DEFINITIONS).unwrap();
    let list = nexudus_server_api::operations::LIST_COWORKER_TIME_PASSES;
    let contract: Value = serde_json::from_str(list.contract).unwrap();
    let mut checked = BTreeSet::new();
    let date = "2026-01-01T00:00:00Z".parse().unwrap();
    for parameter in contract["filters"].as_object().unwrap().keys() {
        let parameters = match parameter.as_str() {
            "CoworkerTimePass_CoworkerId" => ListParameters {
                coworker_id: Some(1),
                ..Default::default()
            },
            "CoworkerTimePass_BusinessId" => ListParameters {
                business_id: Some(1),
                ..Default::default()
            },
            "CoworkerTimePass_TimePassId" => ListParameters {
                time_pass_id: Some(1),
                ..Default::default()
            },
            "CoworkerTimePass_Used" => ListParameters {
                used: Some(true),
                ..Default::default()
            },
            "CoworkerTimePass_Free" => ListParameters {
                free: Some(false),
                ..Default::default()
            },
            "CoworkerTimePass_PurchaseOrder" => ListParameters {
                purchase_order: Some("PO".into()),
                ..Default::default()
            },
            "from_CoworkerTimePass_ExpireDate" => ListParameters {
                expire_from: Some(date),
                ..Default::default()
            },
            "to_CoworkerTimePass_ExpireDate" => ListParameters {
                expire_to: Some(date),
                ..Default::default()
            },
            other => panic!("the spec offers a filter the server does not know: {other}"),
        };
        let plan = server.store().plan(&parameters.query()).unwrap();
        let count = &plan[0];
        assert!(
            count.starts_with("SEARCH") && count.contains("INDEX"),
            "{parameter}: {plan:?}"
        );
        let scans = plan[1..]
            .iter()
            .any(|step| step.starts_with("SCAN") && !step.contains("INDEX"));
        let sorts = plan[1..].iter().any(|step| step.contains("TEMP B-TREE"));
        assert!(!(scans && sorts), "{parameter}: {plan:?}");
        checked.insert(parameter.clone());
    }
    for field in definitions["CoworkerTimePassOrderField"]["enum"]
        .as_array()
        .unwrap()
    {
        let order_by: CoworkerTimePassOrderField = serde_json::from_value(field.clone()).unwrap();
        for dir in [1, -1] {
            let parameters = ListParameters {
                order_by: Some(order_by),
                dir: Some(dir),
                ..Default::default()
            };
            let query = parameters.query();
            let plan = server.store().plan(&query).unwrap();
            // The page walks the table (the id's own order) or the sort column's index.
            let walk = match query.sort {
                reference_server::store::SortColumn::Id => "SCAN coworker_time_passes".to_owned(),
                column => format!(
                    "SCAN coworker_time_passes USING INDEX coworker_time_passes_by_{}",
                    column.name()
                ),
            };
            assert_eq!(plan[1..], [walk], "{field} {dir}: {plan:?}");
        }
        checked.insert(field.to_string());
    }
    assert_eq!(checked.len(), 8 + 11);
}

/// Many updates and deletes of one record at once: each answered 200 or 404, never a 5xx; the
/// record ends as exactly one update left it, or gone for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_and_deletes_of_one_record_never_half_apply() {
    let server = TestServer::start().await;
    let client = server.client(ADMIN);
    for round in 0..8u64 {
        let record = client
            .create_coworker_time_pass(&create(minimal()))
            .await
            .unwrap()
            .value
            .id;
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..24u64 {
            let client = client.clone();
            tasks.spawn(async move {
                if n == round + 8 {
                    return (
                        "delete",
                        client
                            .delete_coworker_time_pass(record)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.status()),
                    );
                }
                let body = update(
                    record.get(),
                    json!({"CoworkerId": n + 1, "BusinessId": n + 1, "TimePassId": n + 1,
                           "CreateMultiple": 1, "Notes": format!("update {n}"), "Price": n}),
                );
                (
                    "update",
                    client
                        .update_coworker_time_pass(&body)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.status()),
                )
            });
        }
        let mut deleted = false;
        while let Some(result) = tasks.join_next().await {
            let (kind, result) = result.unwrap();
            match result {
                Ok(()) => deleted |= kind == "delete",
                Err(status) => assert_eq!(status.map(|s| s.as_u16()), Some(404), "{kind}"),
            }
        }
        assert!(deleted, "the delete found the record");
        assert_eq!(status(client.get_coworker_time_pass(record).await), 404);
        assert!(server.store().read(record.get() as i64).unwrap().is_none());
    }
    // Without a delete, the last update wins whole.
    let record = client
        .create_coworker_time_pass(&create(minimal()))
        .await
        .unwrap()
        .value
        .id;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 1..=32u64 {
        let client = client.clone();
        tasks.spawn(async move {
            let body = update(
                record.get(),
                json!({"CoworkerId": n, "BusinessId": n, "TimePassId": n, "CreateMultiple": 1,
                       "Notes": format!("update {n}"), "Price": n}),
            );
            client.update_coworker_time_pass(&body).await.unwrap();
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    let stored = server
        .store()
        .read(record.get() as i64)
        .unwrap()
        .unwrap()
        .fields;
    let n = stored.coworker_id;
    let (_, expected) = Fields::from_update(update(
        record.get(),
        json!({"CoworkerId": n, "BusinessId": n, "TimePassId": n, "CreateMultiple": 1,
               "Notes": format!("update {n}"), "Price": n}),
    ));
    assert_eq!(stored, expected, "every field from one update");
}
