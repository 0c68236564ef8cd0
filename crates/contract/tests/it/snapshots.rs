//! The canonical responses of the reference server, pinned. Ids and timestamps are redacted;
//! review changes with `cargo insta review`.

use serde_json::{Value, json};

use crate::ReferenceServer;

const ADMIN: &str = "local-admin-token";

/// Sends a create and returns `{status, body}` for the snapshot.
async fn exchange(
    server: &ReferenceServer,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Value {
    send(server, "POST", "", authorization, content_type, body).await
}

/// Sends `method` to the resource's path followed by `rest`, and returns `{status, body}`.
async fn send(
    server: &ReferenceServer,
    method: &str,
    rest: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Value {
    let headers: Vec<(&str, &str)> = [
        ("authorization", authorization),
        ("content-type", content_type),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect();
    send_headers(server, method, rest, &headers, body).await
}

/// [`send`] with `headers` as they are, in order (a name given twice is sent twice).
async fn send_headers(
    server: &ReferenceServer,
    method: &str,
    rest: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Value {
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/api/billing/coworkertimepasses{rest}", server.base_url()),
        );
    if !body.is_empty() {
        request = request.body(body);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    json!({"status": status, "body": body})
}

async fn post_json(server: &ReferenceServer, body: Value) -> Value {
    exchange(
        server,
        Some(&format!("Bearer {ADMIN}")),
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await
}

fn valid() -> Value {
    json!({"CoworkerId": 1414201305, "BusinessId": 1414201001, "TimePassId": 1414201122, "CreateMultiple": 1})
}

fn with(key: &str, value: Value) -> Value {
    let mut body = valid();
    body[key] = value;
    body
}

fn without(key: &str) -> Value {
    let mut body = valid();
    body.as_object_mut().unwrap().remove(key);
    body
}

/// Every snapshot name asserted, to find snapshot files that no test asserts any more.
static ASSERTED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        ASSERTED.lock().unwrap().push($name);
        insta::assert_json_snapshot!($name, $value, {
            ".body.Value.Id" => "[id]",
            ".body.UpdatedOn" => "[timestamp]",
            ".body.Id" => "[id]",
            ".body.UniqueId" => "[uuid]",
            ".body.CreatedOn" => "[timestamp]",
            ".body.Records[].Id" => "[id]",
            ".body.Records[].UniqueId" => "[uuid]",
            ".body.Records[].CreatedOn" => "[timestamp]",
            ".body.Records[].UpdatedOn" => "[timestamp]",
        })
    }};
}

#[tokio::test]
async fn canonical_responses() {
    let server = ReferenceServer::start().await;

    // The documented curl example and the documented request with every field.
    snapshot!(
        "documented_example_request",
        post_json(
            &server,
            json!({"CoworkerId": 0, "BusinessId": 0, "TimePassId": 0, "CreateMultiple": 0})
        )
        .await
    );
    snapshot!(
        "created",
        post_json(&server, json!({
            "CoworkerId": 1414201305, "BusinessId": 1414201001, "TimePassId": 1414201122, "CreateMultiple": 3,
            "Notes": "Welcome pack", "PurchaseOrder": "PO-2025-0042", "Used": false, "Free": false,
            "Price": 25.5, "ExpireDate": "2026-07-31T00:00:00Z",
            "TariffTimePassUniqueId": "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90",
            "CoworkerProductUniqueId": null, "CoworkerContractUniqueId": null
        }))
        .await
    );

    // One of each violation kind.
    snapshot!(
        "violation_missing_required",
        post_json(&server, without("TimePassId")).await
    );
    snapshot!(
        "violation_wrong_type",
        post_json(&server, with("Used", json!("yes"))).await
    );
    snapshot!(
        "violation_null_not_allowed",
        post_json(&server, with("CoworkerId", Value::Null)).await
    );
    snapshot!(
        "violation_below_minimum",
        post_json(&server, with("Price", json!(-0.5))).await
    );
    snapshot!(
        "violation_above_maximum",
        post_json(&server, with("CreateMultiple", json!(101))).await
    );
    snapshot!(
        "violation_beyond_int64",
        post_json(&server, with("BusinessId", json!(9223372036854775808u64))).await
    );
    snapshot!(
        "violation_bad_date_time",
        post_json(&server, with("ExpireDate", json!("2025-01-15"))).await
    );
    snapshot!(
        "violation_bad_uuid",
        post_json(
            &server,
            with("CoworkerProductUniqueId", json!("not-a-uuid"))
        )
        .await
    );
    snapshot!(
        "violation_too_long",
        post_json(&server, with("PurchaseOrder", json!("P".repeat(201)))).await
    );
    snapshot!(
        "violation_not_an_object",
        post_json(&server, json!([valid()])).await
    );
    snapshot!(
        "several_violations",
        post_json(
            &server,
            json!({"CoworkerId": "1", "TimePassId": null, "CreateMultiple": 0, "Notes": 5})
        )
        .await
    );

    // Authentication.
    let admin = Some("Bearer local-admin-token");
    let body = serde_json::to_vec(&valid()).unwrap();
    let json = Some("application/json");
    snapshot!(
        "auth_no_token",
        exchange(&server, None, json, body.clone()).await
    );
    snapshot!(
        "auth_wrong_scheme",
        exchange(
            &server,
            Some("Digest username=\"admin\""),
            json,
            body.clone()
        )
        .await
    );
    snapshot!(
        "auth_wrong_basic_password",
        exchange(&server, Some("Basic YWRtaW46YWRtaW4="), json, body.clone()).await
    );
    snapshot!(
        "auth_unknown_token",
        exchange(&server, Some("Bearer nobody"), json, body.clone()).await
    );
    snapshot!(
        "auth_without_role",
        exchange(
            &server,
            Some("Bearer local-reader-token"),
            json,
            body.clone()
        )
        .await
    );

    // Transport.
    snapshot!(
        "transport_malformed_json",
        exchange(&server, admin, json, b"{\"CoworkerId\": 1,".to_vec()).await
    );
    snapshot!(
        "transport_wrong_content_type",
        exchange(&server, admin, Some("text/plain"), body.clone()).await
    );
    snapshot!(
        "transport_missing_content_type",
        exchange(&server, admin, None, body.clone()).await
    );
    snapshot!(
        "transport_invalid_utf8",
        exchange(&server, admin, json, b"{\"Notes\": \"\xc3\x28\"}".to_vec()).await
    );
    let oversize = serde_json::to_vec(&with(
        "Notes",
        json!("x".repeat(nexudus_server_api::DEFAULT_BODY_LIMIT)),
    ))
    .unwrap();
    snapshot!(
        "transport_oversize_body",
        exchange(&server, admin, json, oversize).await
    );
    let admin_header = ("authorization", "Bearer local-admin-token");
    let json_header = ("content-type", "application/json");
    snapshot!(
        "transport_plus_json_media_type",
        exchange(
            &server,
            admin,
            Some("application/merge-patch+json"),
            body.clone()
        )
        .await
    );
    snapshot!(
        "transport_content_encoding",
        send_headers(
            &server,
            "POST",
            "",
            &[admin_header, json_header, ("content-encoding", "gzip")],
            body.clone()
        )
        .await
    );
    snapshot!(
        "transport_repeated_key",
        exchange(
            &server,
            admin,
            json,
            br#"{"CoworkerId":1,"BusinessId":1,"TimePassId":1,"CreateMultiple":1000,"CreateMultiple":1}"#
                .to_vec()
        )
        .await
    );
    snapshot!(
        "transport_repeated_authorization",
        send_headers(
            &server,
            "POST",
            "",
            &[
                admin_header,
                ("authorization", "Bearer local-reader-token"),
                json_header
            ],
            body.clone()
        )
        .await
    );
    snapshot!(
        "transport_unknown_path",
        send(&server, "GET", "/1/history", admin, None, Vec::new()).await
    );
    snapshot!(
        "transport_wrong_method",
        send(&server, "PATCH", "/1", admin, json, body.clone()).await
    );

    // The other operations, on a record of the documented example.
    let admin = Some("Bearer local-admin-token");
    let created = post_json(
        &server,
        json!({
            "CoworkerId": 1414201305, "BusinessId": 1414201001, "TimePassId": 1414201122,
            "CreateMultiple": 1, "Notes": "Welcome pack", "PurchaseOrder": "PO-2025-0042",
            "Used": false, "Free": false, "Price": 25.5, "ExpireDate": "2026-07-31T00:00:00Z",
            "TariffTimePassUniqueId": "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90"
        }),
    )
    .await;
    let id = created["body"]["Value"]["Id"].as_i64().unwrap();
    let record = format!("/{id}");
    snapshot!(
        "read",
        send(&server, "GET", &record, admin, None, Vec::new()).await
    );
    snapshot!(
        "list",
        send(
            &server,
            "GET",
            "?CoworkerTimePass_PurchaseOrder=PO-2025-0042&orderBy=ExpireDate&dir=-1&size=2",
            admin,
            None,
            Vec::new()
        )
        .await
    );
    snapshot!(
        "list_beyond_the_last_page",
        send(&server, "GET", "?page=7", admin, None, Vec::new()).await
    );
    let update = json!({
        "Id": id, "CoworkerId": 1414201305, "BusinessId": 1414201001, "TimePassId": 1414201122,
        "CreateMultiple": 1, "Used": true
    });
    snapshot!(
        "updated",
        send(
            &server,
            "PUT",
            "",
            admin,
            json,
            serde_json::to_vec(&update).unwrap()
        )
        .await
    );
    snapshot!(
        "read_after_update",
        send(&server, "GET", &record, admin, None, Vec::new()).await
    );
    snapshot!(
        "deleted",
        send(&server, "DELETE", &record, admin, None, Vec::new()).await
    );
    snapshot!(
        "not_found_read",
        send(&server, "GET", &record, admin, None, Vec::new()).await
    );
    snapshot!(
        "not_found_update",
        send(
            &server,
            "PUT",
            "",
            admin,
            json,
            serde_json::to_vec(&update).unwrap()
        )
        .await
    );
    snapshot!(
        "not_found_delete",
        send(&server, "DELETE", &record, admin, None, Vec::new()).await
    );
    snapshot!(
        "parameter_not_an_id",
        send(&server, "GET", "/abc", admin, None, Vec::new()).await
    );
    snapshot!(
        "parameters_out_of_range",
        send(
            &server,
            "GET",
            "?page=0&size=1001&orderBy=Colour&dir=0&to_CoworkerTimePass_ExpireDate=2025-01-31T00:00",
            admin,
            None,
            Vec::new()
        )
        .await
    );
    snapshot!(
        "auth_reader_may_not_delete",
        send(
            &server,
            "DELETE",
            &record,
            Some("Bearer local-reader-token"),
            None,
            Vec::new()
        )
        .await
    );

    // A snapshot file that nothing asserts is stale: it would hide a removed case.
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let asserted: std::collections::BTreeSet<String> = ASSERTED
        .lock()
        .unwrap()
        .iter()
        .map(|name| format!("it__snapshots__{name}.snap"))
        .collect();
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("it__snapshots__") && name.ends_with(".snap"))
        .collect();
    assert_eq!(
        on_disk,
        asserted,
        "snapshot files in {} that no test asserts",
        directory.display()
    );
}
