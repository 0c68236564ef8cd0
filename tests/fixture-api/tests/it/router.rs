//! The generated fixture router and client over loopback HTTP: path and query parameters of every
//! kind are parsed and validated against the spec, several operations share a path, a response
//! without a body is answered as such, and the generated dispatch calls every operation by its
//! operationId. The fixture's schema and operation names carry `-`, `.` and `_`: the Rust names
//! below are the ones the type space and the client gave them.

use fixture_api::{
    client::{
        dispatch::{self, Arguments, DispatchError},
        Client,
    },
    types::{GadgetDraft, SortOrder, WidgetList, WidgetV2},
};
use loopback::Served;
use serde_json::{json, Value};

use crate::widgets::Widgets;

async fn start() -> Served {
    crate::widgets::serve(Widgets::default()).await
}

fn client(base_url: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", "Bearer all".parse().unwrap());
    let http = nexudus_client::http_client_builder()
        .default_headers(headers)
        .build()
        .unwrap();
    Client::new_with_client(base_url, http)
}

async fn get(url: String, token: Option<&str>) -> (u16, Value) {
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_generated_client_uses_every_operation() {
    let served = start().await;
    let base_url = served.base_url();
    let client = client(base_url);
    // The client types parameters as typify does (ids with `minimum: 1` are `NonZeroU64`).
    let id = std::num::NonZeroU64::new(5).unwrap();
    let widget = WidgetV2 {
        name: "gear".parse().unwrap(),
        weight: Some(1.5),
    };
    assert_eq!(
        client.put_widget(id, &widget).await.unwrap().into_inner(),
        widget
    );
    assert_eq!(client.get_widget(id).await.unwrap().into_inner(), widget);
    let list = client
        .widgets_list(
            None,
            None,
            Some(&"gear".parse().unwrap()),
            None,
            std::num::NonZeroU32::new(10),
            Some(&SortOrder::ByName),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.records, [widget]);
    assert_eq!(client.delete_widget(id).await.unwrap().status(), 204);
    match client.get_widget(id).await {
        Err(progenitor_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("expected 404, got {other:?}"),
    }
}

#[tokio::test]
async fn gadgets_are_numbered_by_the_server_and_listed_in_pages() {
    let served = start().await;
    let client = client(served.base_url());
    let mut ids = Vec::new();
    for count in [Some(3), None, Some(0)] {
        let draft = GadgetDraft {
            label: "kit".parse().unwrap(),
            count,
        };
        let made = client.gadgets_create(&draft).await.unwrap();
        assert_eq!(made.status(), 201);
        assert_eq!(made.count, count);
        ids.push(std::num::NonZeroU64::new(made.id as u64).unwrap());
    }
    let other = GadgetDraft {
        label: "other".parse().unwrap(),
        count: None,
    };
    client.gadgets_create(&other).await.unwrap();
    let kit = "kit".parse().unwrap();
    let tag = "t-1".parse().unwrap();
    let page = |page, size| {
        client.gadgets_list(
            Some(&kit),
            std::num::NonZeroU32::new(page),
            std::num::NonZeroU32::new(size),
            Some(&tag),
        )
    };
    let second = page(2, 2).await.unwrap().into_inner();
    // The header parameter reaches the server, which echoes it.
    assert_eq!(second.tag, "t-1");
    assert_eq!(
        (second.total, second.pages, second.first, second.last),
        (3, 2, 3, 3)
    );
    assert!(!second.has_next && second.has_previous);
    assert_eq!(second.records[0].id as u64, ids[2].get());
    let beyond = page(3, 2).await.unwrap().into_inner();
    assert_eq!((beyond.records.len(), beyond.first, beyond.last), (0, 0, 0));

    let renamed = client
        .put_gadget(ids[0], &other)
        .await
        .unwrap()
        .into_inner();
    assert_eq!((renamed.id as u64, renamed.count), (ids[0].get(), None));
    assert_eq!(
        client.get_gadget(ids[0]).await.unwrap().into_inner(),
        renamed
    );
    assert_eq!(page(1, 10).await.unwrap().total, 2);
    assert_eq!(client.delete_gadget(ids[1]).await.unwrap().status(), 204);
    for gone in [
        client.get_gadget(ids[1]).await.map(|_| ()),
        client.put_gadget(ids[1], &other).await.map(|_| ()),
        client.delete_gadget(ids[1]).await.map(|_| ()),
    ] {
        match gone {
            Err(progenitor_client::Error::ErrorResponse(response)) => {
                assert_eq!(response.status(), 404)
            }
            other => panic!("expected 404, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn parameters_are_validated_against_the_spec() {
    let served = start().await;
    let base_url = served.base_url();
    let cases = [
        ("/widgets/abc", json!(["id: must be an integer (\"abc\")"])),
        ("/widgets/0", json!(["id: must be at least 1 (\"0\")"])),
        (
            "/widgets/99999999999999999999",
            json!(["id: must be at most 9223372036854775807 (\"99999999999999999999\")"]),
        ),
        (
            "/widgets?size=0&name=far%20too%20long&active=maybe&sort-order=by-age&since=2025-01-15&batch=x",
            json!([
                "size: must be at least 1 (\"0\")",
                "name: must be at most 10 characters long (\"far too long\")",
                "active: must be a boolean (\"maybe\")",
                "sort-order: must be one of [\"by-name\",\"by-weight\"] (\"by-age\")",
                "since: must be a valid date-time (\"2025-01-15\")",
                "batch: must be a valid uuid (\"x\")"
            ]),
        ),
    ];
    for (path, problems) in cases {
        let (status, body) = get(format!("{base_url}{path}"), Some("all")).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body, json!({ "Problems": problems }), "{path}");
    }
    let (status, body) = get(format!("{base_url}/widgets?size=2&unknown=1"), Some("all")).await;
    assert_eq!((status, body), (200, json!({"Records": []})));
}

#[tokio::test]
async fn authentication_comes_before_parameters() {
    let served = start().await;
    let base_url = served.base_url();
    let (status, body) = get(format!("{base_url}/widgets/abc"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"Problems": ["get-widget needs a token"]}));
}

#[tokio::test]
async fn parameters_arrive_parsed_into_their_types() {
    let served = start().await;
    let base_url = served.base_url();
    let client = client(base_url);
    for name in ["b", "a"] {
        let widget = WidgetV2 {
            name: name.parse().unwrap(),
            weight: None,
        };
        let id = std::num::NonZeroU64::new(if name == "a" { 2 } else { 1 }).unwrap();
        client.put_widget(id, &widget).await.unwrap();
    }
    let names = |list: WidgetList| -> Vec<String> {
        list.records
            .iter()
            .map(|widget| widget.name.to_string())
            .collect()
    };
    let (status, body) = get(
        format!("{base_url}/widgets?sort-order=by-name"),
        Some("all"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(serde_json::from_value(body).unwrap()), ["a", "b"]);
    let (_, body) = get(
        format!("{base_url}/widgets?since=2101-01-01T00:00:00%2B01:00"),
        Some("all"),
    )
    .await;
    assert_eq!(
        names(serde_json::from_value(body).unwrap()),
        Vec::<String>::new()
    );
    let (_, body) = get(
        format!("{base_url}/widgets?batch=0d6b7c1e-3f8a-1c2e-9b1d-5a7e2f4c8d90"),
        Some("all"),
    )
    .await;
    assert_eq!(
        names(serde_json::from_value(body).unwrap()),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_generated_dispatch_calls_every_operation_by_its_id() {
    let served = start().await;
    let base_url = served.base_url();
    let client = client(base_url);
    let arguments = |path: Value, query: Value, body: Option<Value>| Arguments {
        path: path.as_object().cloned().unwrap_or_default(),
        query: query.as_object().cloned().unwrap_or_default(),
        headers: Default::default(),
        body,
    };
    let call = |id: &'static str, arguments: Arguments| {
        let client = &client;
        async move { dispatch::call(client, id, &arguments).await }
    };
    let put = call(
        "put_widget",
        arguments(
            json!({"id": 7}),
            json!({}),
            Some(json!({"Name": "cog", "Weight": 2.0})),
        ),
    )
    .await
    .unwrap();
    assert_eq!((put.status, put.success), (200, true));
    assert_eq!(put.body, json!({"Name": "cog", "Weight": 2.0}));
    let listed = call(
        "widgets.list",
        arguments(
            json!({}),
            json!({"name": "cog", "sort-order": "by-weight", "size": 5}),
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        listed.body,
        json!({"Records": [{"Name": "cog", "Weight": 2.0}]})
    );
    let read = call("get-widget", arguments(json!({"id": 7}), json!({}), None))
        .await
        .unwrap();
    assert_eq!(read.body["Name"], "cog");
    let deleted = call(
        "delete.widget",
        arguments(json!({"id": 7}), json!({}), None),
    )
    .await
    .unwrap();
    assert_eq!(
        (deleted.status, deleted.success, deleted.body),
        (204, true, Value::Null)
    );
    // A documented error comes back decoded, as the typed method's ErrorResponse.
    let absent = call("get-widget", arguments(json!({"id": 7}), json!({}), None))
        .await
        .unwrap();
    assert_eq!((absent.status, absent.success), (404, false));
    assert_eq!(absent.body, json!({"Problems": ["no widget 7"]}));

    // What the typed method cannot take is refused before anything is sent.
    let refused = call("get-widget", arguments(json!({"id": 0}), json!({}), None)).await;
    assert!(
        matches!(refused, Err(DispatchError::Argument { ref name, .. }) if name == "id"),
        "{refused:?}"
    );
    let refused = call(
        "put_widget",
        arguments(json!({"id": 1}), json!({}), Some(json!({"Name": 5}))),
    )
    .await;
    assert!(
        matches!(refused, Err(DispatchError::Argument { ref name, .. }) if name == "body"),
        "{refused:?}"
    );
    let unknown = call("list_widgets", Arguments::default()).await;
    assert_eq!(
        unknown,
        Err(DispatchError::UnknownOperation("list_widgets".into()))
    );
}
