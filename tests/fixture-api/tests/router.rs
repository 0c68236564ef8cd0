//! The generated fixture router and client over loopback HTTP: path and query parameters are
//! parsed and validated against the spec, several operations share a path, and a response
//! without a body is answered as such.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use fixture_api::{
    client::Client,
    server::{
        self, DeleteWidgetResponse, GetWidgetResponse, ListWidgetsResponse, PutWidgetResponse,
        WidgetsApi,
    },
    types::{Problem, Widget, WidgetList},
};
use serde_json::{json, Value};

#[derive(Default)]
struct Widgets {
    stored: Mutex<BTreeMap<i64, Widget>>,
}

fn problem(problems: Vec<String>) -> Problem {
    Problem { problems }
}

impl WidgetsApi for Widgets {
    type Caller = ();

    async fn authenticate(
        &self,
        operation: &'static server_runtime::Operation,
        headers: &http::HeaderMap,
    ) -> Result<(), Problem> {
        match server_runtime::bearer_token(headers) {
            Ok("all") => Ok(()),
            _ => Err(problem(vec![format!(
                "{} needs a token",
                operation.operation_id
            )])),
        }
    }

    fn reject(
        &self,
        _: &'static server_runtime::Operation,
        rejection: server_runtime::Rejection,
    ) -> Problem {
        match rejection {
            server_runtime::Rejection::Invalid(violations) => problem(
                violations
                    .iter()
                    .map(|v| {
                        format!(
                            "{}: {} ({})",
                            v.property_name().unwrap_or_default(),
                            v.message,
                            v.value.clone().unwrap_or(Value::Null)
                        )
                    })
                    .collect(),
            ),
            other => problem(vec![other.to_string()]),
        }
    }

    async fn list_widgets(
        &self,
        _: (),
        size: Option<i32>,
        name: Option<String>,
        active: Option<bool>,
    ) -> ListWidgetsResponse {
        let stored = self.stored.lock().unwrap();
        let records = stored
            .values()
            .filter(|widget| {
                name.as_ref()
                    .is_none_or(|name| widget.name.as_str() == name)
            })
            .filter(|_| active != Some(false))
            .take(size.unwrap_or(25) as usize)
            .cloned()
            .collect();
        ListWidgetsResponse::Ok(WidgetList { records })
    }

    async fn get_widget(&self, _: (), id: i64) -> GetWidgetResponse {
        match self.stored.lock().unwrap().get(&id) {
            Some(widget) => GetWidgetResponse::Ok(widget.clone()),
            None => GetWidgetResponse::NotFound(problem(vec![format!("no widget {id}")])),
        }
    }

    async fn put_widget(&self, _: (), id: i64, body: Widget) -> PutWidgetResponse {
        self.stored.lock().unwrap().insert(id, body.clone());
        PutWidgetResponse::Ok(body)
    }

    async fn delete_widget(&self, _: (), id: i64) -> DeleteWidgetResponse {
        match self.stored.lock().unwrap().remove(&id) {
            Some(_) => DeleteWidgetResponse::NoContent,
            None => DeleteWidgetResponse::NotFound(problem(vec![format!("no widget {id}")])),
        }
    }
}

async fn start() -> String {
    let router = server::router(Arc::new(Widgets::default())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base_url
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
    let base_url = start().await;
    let client = client(&base_url);
    // The client types parameters as typify does (ids with `minimum: 1` are `NonZeroU64`).
    let id = std::num::NonZeroU64::new(5).unwrap();
    let widget = Widget {
        name: "gear".parse().unwrap(),
        weight: Some(1.5),
    };
    assert_eq!(
        client.put_widget(id, &widget).await.unwrap().into_inner(),
        widget
    );
    assert_eq!(client.get_widget(id).await.unwrap().into_inner(), widget);
    let list = client
        .list_widgets(
            None,
            Some(&"gear".parse().unwrap()),
            std::num::NonZeroU32::new(10),
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
async fn parameters_are_validated_against_the_spec() {
    let base_url = start().await;
    let cases = [
        ("/widgets/abc", json!(["id: must be an integer (\"abc\")"])),
        ("/widgets/0", json!(["id: must be at least 1 (\"0\")"])),
        (
            "/widgets/99999999999999999999",
            json!(["id: must be at most 9223372036854775807 (\"99999999999999999999\")"]),
        ),
        (
            "/widgets?size=0&name=far%20too%20long&active=maybe",
            json!([
                "size: must be at least 1 (\"0\")",
                "name: must be at most 10 characters long (\"far too long\")",
                "active: must be a boolean (\"maybe\")"
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
    let base_url = start().await;
    let (status, body) = get(format!("{base_url}/widgets/abc"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"Problems": ["get_widget needs a token"]}));
}
