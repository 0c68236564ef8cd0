//! Servers with the faults of real servers that only a hunt finds: a read cache that a write does
//! not invalidate, and writes that are not safe when two callers make them at once. Each is a
//! proxy in front of the reference server that adds one such fault and is right otherwise.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{body::Body, extract::State, http::Request, response::Response};
use loopback::Served;
use serde_json::{Value, json};

/// One fault a hunt must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hunted {
    /// Reads by id are answered from a cache that an update does not invalidate (a delete does).
    StaleAfterUpdate,
    /// Reads by id are answered from a cache that outlives a delete (an update invalidates it).
    StaleAfterDelete,
    /// An update writes the second half of its fields a moment after the first, without a lock:
    /// two updates at once leave the record with fields of both.
    TornUpdates,
    /// Deletes of one record at once all answer success.
    EveryDeleteSucceeds,
}

pub(crate) const HUNTED: [Hunted; 4] = [
    Hunted::StaleAfterUpdate,
    Hunted::StaleAfterDelete,
    Hunted::TornUpdates,
    Hunted::EveryDeleteSucceeds,
];

const COLLECTION: &str = "/api/billing/coworkertimepasses";
const ADMIN: &str = "Bearer local-admin-token";

/// The read cache, and how many times each path was forgotten: a read that began before a
/// write forgot its path fills nothing in, so that the one fault is the write the cache
/// ignores, never a stale fill racing a write it sees.
#[derive(Default)]
struct Cache {
    answers: BTreeMap<(String, String), Answered>,
    forgotten: BTreeMap<String, u64>,
}

struct Proxy {
    fault: Hunted,
    upstream: String,
    http: reqwest::Client,
    /// Reads by id answered 200: (authorization, path) → body.
    cache: Mutex<Cache>,
    /// Writes in flight, per record id.
    in_flight: Mutex<BTreeMap<i64, usize>>,
    /// When a delete of each record last succeeded.
    succeeded: Mutex<BTreeMap<i64, Instant>>,
}

/// An answer as the upstream gave it: status, headers (its length recomputed) and body.
#[derive(Clone)]
struct Answered {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Answered {
    fn json(status: u16, body: &Value) -> Self {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        Self {
            status,
            headers,
            body: serde_json::to_vec(body).unwrap(),
        }
    }

    fn into_response(self) -> Response {
        let mut response = Response::builder().status(self.status);
        for (name, value) in &self.headers {
            if name != "content-length" && name != "transfer-encoding" {
                response = response.header(name, value);
            }
        }
        response.body(Body::from(self.body)).unwrap()
    }
}

impl Proxy {
    async fn send(
        &self,
        method: http::Method,
        path_and_query: &str,
        headers: &http::HeaderMap,
        body: Vec<u8>,
    ) -> Answered {
        let mut outgoing = self
            .http
            .request(method, format!("{}{path_and_query}", self.upstream))
            .body(body);
        for (name, value) in headers {
            if name != "host" && name != "content-length" {
                outgoing = outgoing.header(name, value);
            }
        }
        let response = outgoing.send().await.unwrap();
        Answered {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    async fn admin(&self, method: http::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.upstream))
            .header("authorization", ADMIN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn forget(&self, path: &str) {
        let mut cache = self.cache.lock().unwrap();
        cache.answers.retain(|(_, cached), _| cached != path);
        *cache.forgotten.entry(path.to_owned()).or_default() += 1;
    }

    /// Counts a write of `id` in; how many others were in flight.
    fn arrive(&self, id: i64) -> usize {
        let mut in_flight = self.in_flight.lock().unwrap();
        let count = in_flight.entry(id).or_default();
        *count += 1;
        *count - 1
    }

    /// Counts a write of `id` out.
    fn leave(&self, id: i64) {
        let mut in_flight = self.in_flight.lock().unwrap();
        let count = in_flight.entry(id).or_default();
        *count -= 1;
        if *count == 0 {
            in_flight.remove(&id);
        }
    }
}

/// The id of a record's path (`/api/billing/coworkertimepasses/{id}`).
fn record_id(path: &str) -> Option<i64> {
    path.strip_prefix(&format!("{COLLECTION}/"))?.parse().ok()
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let path = parts.uri.path().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_owned();
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let cached = matches!(
        proxy.fault,
        Hunted::StaleAfterUpdate | Hunted::StaleAfterDelete
    );
    let id = record_id(&path);
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let updated = (parts.method == http::Method::PUT && path == COLLECTION)
        .then(|| sent.get("Id").and_then(Value::as_i64))
        .flatten();
    let deleted = (parts.method == http::Method::DELETE)
        .then_some(id)
        .flatten();
    let send = proxy.send(parts.method.clone(), &path_and_query, &parts.headers, body);
    if cached && parts.method == http::Method::GET && id.is_some() {
        let key = (authorization, path.clone());
        let began = {
            let cache = proxy.cache.lock().unwrap();
            if let Some(hit) = cache.answers.get(&key).cloned() {
                return hit.into_response();
            }
            cache.forgotten.get(&path).copied()
        };
        let answered = send.await;
        let mut cache = proxy.cache.lock().unwrap();
        if answered.status == 200 && cache.forgotten.get(&path).copied() == began {
            cache.answers.insert(key, answered.clone());
        }
        return answered.into_response();
    }
    // The write's record is forgotten before the write and again after it, and a read racing
    // the write fills nothing in (`Cache`): the one fault is the write the cache ignores.
    let forgotten = match proxy.fault {
        Hunted::StaleAfterDelete => updated.map(|id| format!("{COLLECTION}/{id}")),
        Hunted::StaleAfterUpdate if deleted.is_some() => Some(path.clone()),
        _ => None,
    };
    if let Some(forgotten) = forgotten {
        proxy.forget(&forgotten);
        let answered = send.await;
        proxy.forget(&forgotten);
        return answered.into_response();
    }
    match (proxy.fault, deleted, updated) {
        (Hunted::EveryDeleteSucceeds, Some(id), _) => {
            let arrived = Instant::now();
            proxy.arrive(id);
            // A slow delete, so that deletes sent together are in flight together.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let answered = send.await;
            if answered.status == 200 {
                proxy.succeeded.lock().unwrap().insert(id, Instant::now());
            }
            proxy.leave(id);
            if answered.status == 404 {
                // Once the deletes in flight beside this one are done: did one succeed?
                while proxy.in_flight.lock().unwrap().contains_key(&id) {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                let succeeded = proxy.succeeded.lock().unwrap().get(&id).copied();
                if succeeded.is_some_and(|at| at >= arrived) {
                    return Answered::json(
                        200,
                        &json!({
                            "Status": 200, "Message": "The record was deleted successfully.",
                            "Value": null, "OpenInDialog": false, "OpenInWindow": false,
                            "RedirectURL": null, "JavaScript": null,
                            "UpdatedOn": "2025-01-15T10:30:00Z",
                            "UpdatedBy": "admin@example.com", "Errors": null,
                            "WasSuccessful": true
                        }),
                    )
                    .into_response();
                }
            }
            answered.into_response()
        }
        (Hunted::TornUpdates, _, Some(id)) => {
            let ahead = proxy.arrive(id);
            let answered = send.await;
            if answered.status == 200 {
                // The second half of the fields lands later: the later, the earlier the update
                // came.
                let delay = 30 - 10 * ahead.min(2) as u64;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                proxy.write_second_half(id, &sent).await;
            }
            proxy.leave(id);
            answered.into_response()
        }
        _ => send.await.into_response(),
    }
}

impl Proxy {
    /// Writes the second half of the fields `sent` names onto record `id` as it is now.
    async fn write_second_half(&self, id: i64, sent: &Value) {
        let (found, record) = self
            .admin(http::Method::GET, &format!("{COLLECTION}/{id}"), None)
            .await;
        if found != 200 {
            return;
        }
        let names: Vec<&String> = sent
            .as_object()
            .unwrap()
            .keys()
            .filter(|name| record.get(*name).is_some() && *name != "Id")
            .collect();
        let mut written: serde_json::Map<String, Value> = sent
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|name| Some((name.clone(), record.get(name)?.clone())))
            .collect();
        for name in &names[names.len() / 2..] {
            written.insert((*name).clone(), sent[*name].clone());
        }
        self.admin(http::Method::PUT, COLLECTION, Some(&Value::Object(written)))
            .await;
    }
}

pub(crate) async fn start_hunted(fault: Hunted, upstream: &str) -> Served {
    let proxy = Arc::new(Proxy {
        fault,
        upstream: upstream.to_owned(),
        http: nexudus_client::http_client_builder().build().unwrap(),
        cache: Mutex::default(),
        in_flight: Mutex::default(),
        succeeded: Mutex::default(),
    });
    Served::start(axum::Router::new().fallback(forward).with_state(proxy)).await
}
