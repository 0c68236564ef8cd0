//! The reference server over real HTTP on loopback, with a real SQLite file.

mod auth;
mod bad_input;
mod basic;
mod process;
mod resource;
mod robustness;
mod sign_in;
mod throttle;
mod transport;
mod volume;

use reference_server::{Config, RunningServer, Server, store::Store, users::Users};
use serde_json::{Value, json};

/// A server started in this process on an ephemeral loopback port, stopped when dropped.
pub(crate) struct TestServer {
    server: RunningServer,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub(crate) async fn start() -> Self {
        Self::start_with(Users::builtin()).await
    }

    pub(crate) async fn start_with(users: Users) -> Self {
        Self::start_with_limits(users, reference_server::Limits::default()).await
    }

    pub(crate) async fn start_with_limits(users: Users, limits: reference_server::Limits) -> Self {
        Self::start_configured(users, limits, reference_server::ThrottlePolicy::default()).await
    }

    pub(crate) async fn start_configured(
        users: Users,
        limits: reference_server::Limits,
        throttle: reference_server::ThrottlePolicy,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            users,
            limits,
            throttle,
            ..Config::loopback(dir.path().join("reference.sqlite3"))
        };
        Self::start_in(dir, config).await
    }

    /// A server with `config`, whose database is in `dir`.
    pub(crate) async fn start_in(dir: tempfile::TempDir, config: Config) -> Self {
        let server = Server::bind(config).await.unwrap();
        Self {
            server: server.spawn(),
            _dir: dir,
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        self.server.base_url()
    }

    pub(crate) fn store(&self) -> &Store {
        self.server.store()
    }

    pub(crate) fn url(&self) -> String {
        format!("{}/api/billing/coworkertimepasses", self.server.base_url())
    }

    pub(crate) fn client(&self, token: &str) -> nexudus_client::Client {
        nexudus_client::authenticated(self.server.base_url(), token).unwrap()
    }

    pub(crate) fn count(&self) -> u64 {
        self.store().count().unwrap()
    }
}

pub(crate) const ADMIN: &str = "local-admin-token";
pub(crate) const CREATOR: &str = "local-creator-token";
pub(crate) const READER: &str = "local-reader-token";
pub(crate) const NOROLE: &str = "local-norole-token";

/// The smallest valid body, as JSON.
pub(crate) fn minimal() -> Value {
    json!({"CoworkerId": 1414201305, "BusinessId": 1414201001, "TimePassId": 1414201122, "CreateMultiple": 1})
}

/// A raw response: status, and body as JSON (`Null` if it is not JSON).
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Value,
}

/// Sends `body` as it is, the way a broken client would.
pub(crate) async fn post_raw(
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Raw {
    send_raw("POST", url, token, content_type, body).await
}

/// Sends `method url` with `body` as it is (no body when it is empty).
pub(crate) async fn send_raw(
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Raw {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = nexudus_client::http_client_builder()
        .build()
        .unwrap()
        .request(method, url);
    if !body.is_empty() {
        request = request.body(body);
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Raw {
        status,
        content_type,
        body,
    }
}

/// Checks that `body` is an error envelope whose `Errors` are `expected`
/// (`PropertyName`, `AttemptedValue`, `Message`) and whose `Message` lists them.
#[track_caller]
pub(crate) fn assert_envelope(body: &Value, expected: &[(&str, Value, &str)], context: &str) {
    assert_eq!(body["WasSuccessful"], false, "{context}: {body}");
    assert_eq!(body["Value"], Value::Null, "{context}");
    let errors: Vec<(String, Value, String)> = body["Errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{context}: no Errors in {body}"))
        .iter()
        .map(|e| {
            (
                e["PropertyName"].as_str().unwrap().to_owned(),
                e["AttemptedValue"].clone(),
                e["Message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, Value, String)> = expected
        .iter()
        .map(|(p, v, m)| (p.to_string(), v.clone(), m.to_string()))
        .collect();
    assert_eq!(errors, expected, "{context}");
    let message: Vec<String> = expected
        .iter()
        .map(|(p, _, m)| format!("{p}: {m}"))
        .collect();
    assert_eq!(body["Message"], message.join("\n"), "{context}");
}
