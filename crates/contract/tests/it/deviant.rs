//! Servers that each break the contract in one way: a proxy in front of the reference server
//! that changes one thing of its answers (or of what it stores), for the checks that must catch it.

use crate::record;
use axum::{body::Body, extract::State, http::Request, response::Response};
use loopback::Served;
use serde_json::{Value, json};
use std::sync::Arc;

/// One way of breaking the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deviation {
    MessageJoinedWithCommas,
    SuccessWithoutRedirectUrl,
    WasSuccessfulTrueOnErrors,
    Status422InsteadOf400,
    CamelCasePropertyName,
    AttemptedValueDropped,
    ViolationAcceptedWith200,
    ErrorForTheWrongProperty,
    SuccessWithoutUpdatedBy,
    ValueNotNullOnErrors,
    Status403InsteadOf401,
    AuthenticationIgnored,
    ErrorsEmptyListOnSuccess,
    SameIdEveryTime,
    Status400InsteadOf415,
    PlainText413,
    UpdatedOnNotADate,
    RequiredMessageChanged,
    /// Only when the request has `Notes`: shrinking must find that property alone. (Not
    /// `PurchaseOrder`, which the runner writes its marker into on creates of several records.)
    NoRedirectUrlWhenNotesSent,
    /// A read answers the record without its `Notes`.
    ReadDropsAField,
    /// A list counts one page too many.
    ListTotalPagesOffByOne,
    /// A delete answers its success and keeps the record.
    DeleteKeepsTheRecord,
    /// An update keeps the record's `Price` whatever was sent.
    UpdateIgnoresAField,
    /// A read of an id that does not exist answers 200 with a record.
    FoundForAnAbsentId,
    /// A body that names a key twice is read as its last value (as `serde_json::Value` does).
    AcceptsRepeatedKeys,
    /// A method the path does not have is answered 405 with an empty body.
    BareMethodNotAllowed,
    /// Lists are throttled: 409 without a body, as Nexudus answers, but no `Retry-After` to wait
    /// for.
    ThrottledWithoutRetryAfter,
    /// The token endpoint grants every refresh token, one used before or one it never issued.
    RefreshTokensNeverRefused,
    /// The token endpoint answers `invalid_request` where OAuth says `unsupported_grant_type`
    /// (a JSON body, a grant it does not know).
    WrongOAuthErrorCode,
    /// The token endpoint signs a user with two-factor sign-in in without their code (the
    /// proxy adds it to a password grant that has none).
    SecondFactorNotAsked,
    /// The token endpoint ignores `client_id`: every grant is for one client (the proxy
    /// names the same one on each, given or not).
    ClientIdIgnored,
    /// The token endpoint never retires a refresh token: each password grant is for a client
    /// of its own (the proxy gives it one, and maps the refresh grants of its refresh tokens
    /// back to it).
    RefreshTokensNeverRetired,
    /// Basic credentials are let in whatever the password (the proxy sends the
    /// administrator's instead).
    BasicPasswordIgnored,
    /// Basic credentials are never let in (the proxy drops them).
    BasicRefused,
    /// Basic credentials of a known user hold every role (the proxy sends the administrator's
    /// for theirs).
    BasicIgnoresRoles,
}

/// Ways of breaking the contract that show only across requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stateful {
    /// The store drops `Notes` longer than 100 characters (it stores null).
    DropsLongNotes,
    /// An update keeps the record's `Price` whatever was sent.
    UpdateIgnoresPrice,
    /// A delete hides the record from read, update and delete, but the list still shows it.
    DeleteHidesFromReadOnly,
    /// `TotalPages` is one too many when `TotalItems` is a (non-zero) multiple of the page size.
    TotalPagesOffOnFullPages,
    /// A create answers the id of the record deleted last.
    IdReusedAfterDelete,
    /// `CreateMultiple` N > 1 stores N - 1 records.
    CreatesOneLess,
    /// An update rejected with 400 still writes the record's `Notes`.
    RejectedUpdateStillWrites,
}

pub(crate) const STATEFUL: [Stateful; 7] = [
    Stateful::DropsLongNotes,
    Stateful::UpdateIgnoresPrice,
    Stateful::DeleteHidesFromReadOnly,
    Stateful::TotalPagesOffOnFullPages,
    Stateful::IdReusedAfterDelete,
    Stateful::CreatesOneLess,
    Stateful::RejectedUpdateStillWrites,
];

/// What a deviant server does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Answer(Deviation),
    Store(Stateful),
}

pub(crate) const ALL: [Deviation; 35] = [
    Deviation::MessageJoinedWithCommas,
    Deviation::SuccessWithoutRedirectUrl,
    Deviation::WasSuccessfulTrueOnErrors,
    Deviation::Status422InsteadOf400,
    Deviation::CamelCasePropertyName,
    Deviation::AttemptedValueDropped,
    Deviation::ViolationAcceptedWith200,
    Deviation::ErrorForTheWrongProperty,
    Deviation::SuccessWithoutUpdatedBy,
    Deviation::ValueNotNullOnErrors,
    Deviation::Status403InsteadOf401,
    Deviation::AuthenticationIgnored,
    Deviation::ErrorsEmptyListOnSuccess,
    Deviation::SameIdEveryTime,
    Deviation::Status400InsteadOf415,
    Deviation::PlainText413,
    Deviation::UpdatedOnNotADate,
    Deviation::RequiredMessageChanged,
    Deviation::NoRedirectUrlWhenNotesSent,
    Deviation::ReadDropsAField,
    Deviation::ListTotalPagesOffByOne,
    Deviation::DeleteKeepsTheRecord,
    Deviation::UpdateIgnoresAField,
    Deviation::FoundForAnAbsentId,
    Deviation::AcceptsRepeatedKeys,
    Deviation::BareMethodNotAllowed,
    Deviation::ThrottledWithoutRetryAfter,
    Deviation::RefreshTokensNeverRefused,
    Deviation::WrongOAuthErrorCode,
    Deviation::SecondFactorNotAsked,
    Deviation::ClientIdIgnored,
    Deviation::RefreshTokensNeverRetired,
    Deviation::BasicPasswordIgnored,
    Deviation::BasicRefused,
    Deviation::BasicIgnoresRoles,
];

/// The path of one record (`/api/billing/coworkertimepasses/{id}`): its id.
fn record_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/billing/coworkertimepasses/")
        .filter(|id| !id.contains('/'))
}

/// How many keys the top-level object of `bytes` names, repeated ones included.
fn keys_named(bytes: &[u8]) -> Option<usize> {
    struct Count(usize);
    impl<'de> serde::Deserialize<'de> for Count {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Count;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Count, A::Error> {
                    let mut count = 0;
                    while map.next_entry::<String, serde::de::IgnoredAny>()?.is_some() {
                        count += 1;
                    }
                    Ok(Count(count))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    serde_json::from_slice::<Count>(bytes)
        .ok()
        .map(|count| count.0)
}

/// `Message` rebuilt from `Errors`, so that a deviation in the entries is the only deviation.
fn rejoin(body: &mut Value, separator: &str) {
    let joined = body["Errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["PropertyName"].as_str().unwrap_or(""),
                        e["Message"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(separator)
        })
        .unwrap_or_default();
    body["Message"] = Value::String(joined);
}

fn each_error(body: &mut Value, edit: impl Fn(&mut Value)) {
    if let Some(errors) = body["Errors"].as_array_mut() {
        errors.iter_mut().for_each(edit);
    }
    rejoin(body, "\n");
}

/// What the deviant server answers instead of the reference server's `(status, body)`.
fn deviate(
    deviation: Deviation,
    method: &http::Method,
    path: &str,
    request: &Value,
    status: u16,
    mut body: Value,
) -> (u16, Result<Value, String>) {
    use Deviation::*;
    let error = status >= 400;
    let read = method == http::Method::GET && record_id(path).is_some();
    let list = method == http::Method::GET && record_id(path).is_none();
    match deviation {
        ReadDropsAField if read && !error => {
            body.as_object_mut().unwrap().remove("Notes");
        }
        ListTotalPagesOffByOne if list && !error => {
            body["TotalPages"] = json!(body["TotalPages"].as_i64().unwrap() + 1);
        }
        FoundForAnAbsentId if read && status == 404 => {
            if let Ok(id) = record_id(path).unwrap().parse() {
                return (200, Ok(record(id, Value::Null)));
            }
        }
        BareMethodNotAllowed if status == 405 => return (405, Err(String::new())),
        WrongOAuthErrorCode
            if path == "/api/token" && body["error"] == "unsupported_grant_type" =>
        {
            body["error"] = json!("invalid_request");
        }
        ThrottledWithoutRetryAfter if list && !error => return (409, Err(String::new())),
        MessageJoinedWithCommas if error => rejoin(&mut body, ", "),
        SuccessWithoutRedirectUrl if !error => {
            body.as_object_mut().unwrap().remove("RedirectURL");
        }
        NoRedirectUrlWhenNotesSent if !error && request.get("Notes").is_some() => {
            body.as_object_mut().unwrap().remove("RedirectURL");
        }
        WasSuccessfulTrueOnErrors if error => body["WasSuccessful"] = json!(true),
        Status422InsteadOf400 if status == 400 => return (422, Ok(body)),
        CamelCasePropertyName if error => each_error(&mut body, |e| {
            let name = e["PropertyName"].as_str().unwrap_or("").to_owned();
            let mut chars = name.chars();
            let camel: String = chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default();
            e["PropertyName"] = json!(camel);
        }),
        AttemptedValueDropped if error => each_error(&mut body, |e| {
            e.as_object_mut().unwrap().remove("AttemptedValue");
        }),
        ViolationAcceptedWith200 if status == 400 => {
            return (
                200,
                Ok(json!({
                    "Status": 200, "Message": "CoworkerTimePass was successfully created.",
                    "Value": {"Id": 999_999}, "OpenInDialog": false, "OpenInWindow": false,
                    "RedirectURL": null, "JavaScript": null, "UpdatedOn": "2025-01-15T10:30:00Z",
                    "UpdatedBy": "admin@example.com", "Errors": null, "WasSuccessful": true
                })),
            );
        }
        ErrorForTheWrongProperty if status == 400 => each_error(&mut body, |e| {
            let wrong = if e["PropertyName"] == "Notes" {
                "PurchaseOrder"
            } else {
                "Notes"
            };
            e["PropertyName"] = json!(wrong);
        }),
        SuccessWithoutUpdatedBy if !error => {
            body.as_object_mut().unwrap().remove("UpdatedBy");
        }
        ValueNotNullOnErrors if error => body["Value"] = json!({}),
        Status403InsteadOf401 if status == 401 => return (403, Ok(body)),
        ErrorsEmptyListOnSuccess if !error => body["Errors"] = json!([]),
        SameIdEveryTime if !error => body["Value"]["Id"] = json!(1),
        Status400InsteadOf415 if status == 415 => return (400, Ok(body)),
        PlainText413 if status == 413 => return (413, Err("length limit exceeded".into())),
        UpdatedOnNotADate if !error => body["UpdatedOn"] = json!("15/01/2025 10:30"),
        RequiredMessageChanged if status == 400 => each_error(&mut body, |e| {
            if e["Message"] == "is a required field" {
                e["Message"] = json!("is required");
            }
        }),
        _ => {}
    }
    (status, Ok(body))
}

struct DeviantState {
    fault: Fault,
    upstream: String,
    http: reqwest::Client,
    /// Ids of records a `DeleteHidesFromReadOnly` server hid, and ids an `IdReusedAfterDelete`
    /// server will answer again.
    hidden: std::sync::Mutex<std::collections::BTreeSet<String>>,
    freed: std::sync::Mutex<Vec<Value>>,
    /// A `RefreshTokensNeverRetired` server's clients: the one each refresh token was issued
    /// to, and how many password grants it has seen.
    clients: std::sync::Mutex<(std::collections::HashMap<String, String>, usize)>,
}

/// The value of `name` in the form `body`.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// An id no record has: the reference server answers 404 for it as for a deleted one.
const ABSENT: &str = "9007199254740991";

impl DeviantState {
    fn deviation(&self) -> Option<Deviation> {
        match self.fault {
            Fault::Answer(deviation) => Some(deviation),
            Fault::Store(_) => None,
        }
    }

    fn store(&self) -> Option<Stateful> {
        match self.fault {
            Fault::Store(fault) => Some(fault),
            Fault::Answer(_) => None,
        }
    }

    async fn admin(&self, method: http::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.upstream))
            .header("authorization", "Bearer local-admin-token");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn forward(State(state): State<Arc<DeviantState>>, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let mut body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    if state.deviation() == Some(Deviation::SecondFactorNotAsked)
        && body.starts_with(b"grant_type=password")
        && !body.windows(5).any(|window| window == b"totp=")
    {
        let code =
            reference_server::users::authenticator(reference_server::users::BUILTIN_TOTP_SECRET)
                .unwrap()
                .generate_current()
                .unwrap();
        body = [body.as_ref(), format!("&totp={code}").as_bytes()]
            .concat()
            .into();
    }
    let mut request_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // A body that repeats a key is passed on as it is, unless reading it loosely is the fault: a
    // fault that edits bodies must not also hide the repetition.
    let repeats_a_key = request_json
        .as_object()
        .is_some_and(|object| keys_named(&body) != Some(object.len()));
    let loose = state.deviation() == Some(Deviation::AcceptsRepeatedKeys);
    let path = parts.uri.path().to_owned();
    let success = |body: Value| {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap()
    };
    // Only for the caller allowed to delete, so that nothing but the record's fate differs.
    let admin = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some("Bearer local-admin-token");
    let mut path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_owned();
    let store = state.store();
    let hidden = |id: &str| state.hidden.lock().unwrap().contains(id);
    match (store, &parts.method, record_id(&path)) {
        (Some(Stateful::DeleteHidesFromReadOnly), &http::Method::DELETE, Some(id))
            if admin && !hidden(id) =>
        {
            let (status, _) = state.admin(http::Method::GET, &path, None).await;
            if status == 200 {
                state.hidden.lock().unwrap().insert(id.to_owned());
                return success(json!({
                    "Status": 200, "Message": "The record was deleted successfully.", "Value": null,
                    "OpenInDialog": false, "OpenInWindow": false, "RedirectURL": null,
                    "JavaScript": null, "UpdatedOn": "2025-01-15T10:30:00Z",
                    "UpdatedBy": "admin@example.com", "Errors": null, "WasSuccessful": true
                }));
            }
        }
        (Some(Stateful::DeleteHidesFromReadOnly), _, Some(id)) if hidden(id) => {
            path_and_query = path_and_query.replace(id, ABSENT);
        }
        _ => {}
    }
    if store == Some(Stateful::DeleteHidesFromReadOnly)
        && parts.method == http::Method::PUT
        && let Some(id) = request_json.get("Id").map(Value::to_string)
        && hidden(&id)
    {
        request_json["Id"] = json!(ABSENT.parse::<i64>().unwrap());
    }
    if store == Some(Stateful::DropsLongNotes)
        && request_json
            .get("Notes")
            .and_then(Value::as_str)
            .is_some_and(|notes| (101..=2000).contains(&notes.chars().count()))
    {
        request_json["Notes"] = Value::Null;
    }
    if store == Some(Stateful::CreatesOneLess)
        && parts.method == http::Method::POST
        && let Some(n) = request_json.get("CreateMultiple").and_then(Value::as_i64)
        && (2..=100).contains(&n)
    {
        request_json["CreateMultiple"] = json!(n - 1);
    }
    if state.deviation() == Some(Deviation::RefreshTokensNeverRefused)
        && path == "/api/token"
        && body.starts_with(b"grant_type=refresh_token")
    {
        let granted: Value = state
            .http
            .post(format!("{}/api/token", state.upstream))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&username=admin%40example.com&password=local-admin-password")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        return success(granted);
    }
    if state.deviation() == Some(Deviation::DeleteKeepsTheRecord)
        && parts.method == http::Method::DELETE
        && admin
        && record_id(&path).is_some_and(|id| id.parse::<i64>().is_ok_and(|id| id > 0))
    {
        return success(json!({
            "Status": 200, "Message": "The record was deleted successfully.", "Value": null,
            "OpenInDialog": false, "OpenInWindow": false, "RedirectURL": null,
            "JavaScript": null, "UpdatedOn": "2025-01-15T10:30:00Z",
            "UpdatedBy": "admin@example.com", "Errors": null, "WasSuccessful": true
        }));
    }
    let mut body = if (store.is_some() && !repeats_a_key || loose) && request_json.is_object() {
        axum::body::Bytes::from(serde_json::to_vec(&request_json).unwrap())
    } else {
        body
    };
    if (state.deviation() == Some(Deviation::UpdateIgnoresAField)
        || store == Some(Stateful::UpdateIgnoresPrice))
        && parts.method == http::Method::PUT
        && !repeats_a_key
        && let Some(id) = request_json.get("Id").and_then(Value::as_i64)
    {
        // Whatever Price was sent, the record keeps the one it had.
        let stored: Value = state
            .http
            .get(format!(
                "{}/api/billing/coworkertimepasses/{id}",
                state.upstream
            ))
            .header("authorization", "Bearer local-admin-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(price) = stored.get("Price") {
            request_json["Price"] = price.clone();
            body = serde_json::to_vec(&request_json).unwrap().into();
        }
    }
    // The client a token request is sent for, where the deviation chooses another.
    let token_request = path == "/api/token";
    let mut client = None;
    if token_request && state.deviation() == Some(Deviation::ClientIdIgnored) {
        client = Some("shared".to_owned());
    }
    if token_request && state.deviation() == Some(Deviation::RefreshTokensNeverRetired) {
        let sent = parts
            .headers
            .get("client_id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut clients = state.clients.lock().unwrap();
        client = if body.starts_with(b"grant_type=password") {
            clients.1 += 1;
            Some(format!("{}#{}", sent.unwrap_or_default(), clients.1))
        } else {
            // Only a refresh grant for the client it was sent for is mapped to the one the
            // proxy issued it to.
            form_value(&body, "refresh_token")
                .and_then(|token| clients.0.get(&token).cloned())
                .filter(|issued| {
                    sent.as_deref()
                        .is_some_and(|sent| issued.starts_with(&format!("{sent}#")))
                })
                .or(sent)
        };
    }
    let mut outgoing = state
        .http
        .request(
            parts.method.clone(),
            format!("{}{path_and_query}", state.upstream),
        )
        .body(body);
    for (name, value) in &parts.headers {
        let replaced = client.is_some() && name == "client_id";
        if name != "host" && name != "content-length" && name != "authorization" && !replaced {
            outgoing = outgoing.header(name, value);
        }
    }
    if let Some(client) = &client {
        outgoing = outgoing.header("client_id", client);
    }
    if state.deviation() == Some(Deviation::AuthenticationIgnored) {
        outgoing = outgoing.header("authorization", "Bearer local-admin-token");
    } else {
        for authorization in parts.headers.get_all("authorization") {
            let basic = authorization
                .to_str()
                .is_ok_and(|value| value.starts_with("Basic "));
            // A built-in user's Basic credentials (not those of a user no server has).
            let known = authorization.to_str().ok().and_then(|value| {
                use base64::Engine as _;
                let encoded = value.strip_prefix("Basic ")?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()?;
                String::from_utf8(decoded).ok()
            });
            let known = known.is_some_and(|pair| pair.contains("@example.com:"));
            match state.deviation() {
                Some(Deviation::BasicIgnoresRoles) if known => {
                    outgoing = outgoing.header(
                        "authorization",
                        "Basic YWRtaW5AZXhhbXBsZS5jb206bG9jYWwtYWRtaW4tcGFzc3dvcmQ=",
                    );
                }
                Some(Deviation::BasicPasswordIgnored) if basic => {
                    // admin@example.com:local-admin-password
                    outgoing = outgoing.header(
                        "authorization",
                        "Basic YWRtaW5AZXhhbXBsZS5jb206bG9jYWwtYWRtaW4tcGFzc3dvcmQ=",
                    );
                }
                Some(Deviation::BasicRefused) if basic => {}
                _ => outgoing = outgoing.header("authorization", authorization),
            }
        }
    }
    let response = outgoing.send().await.unwrap();
    let status = response.status().as_u16();
    let allow = response.headers().get("allow").cloned();
    let mut body: Value = response.json().await.unwrap();
    if state.deviation() == Some(Deviation::RefreshTokensNeverRetired)
        && let (Some(client), Some(token)) = (&client, body["refresh_token"].as_str())
    {
        let mut clients = state.clients.lock().unwrap();
        clients.0.insert(token.to_owned(), client.clone());
    }
    if let Some(fault) = store {
        remember(
            &state,
            fault,
            &parts.method,
            &path,
            &request_json,
            status,
            &mut body,
        )
        .await;
    }
    let (status, body) = match state.deviation() {
        Some(deviation) => deviate(deviation, &parts.method, &path, &request_json, status, body),
        None => (status, Ok(body)),
    };
    let (content_type, bytes) = match body {
        Ok(json) => ("application/json", serde_json::to_vec(&json).unwrap()),
        Err(text) => ("text/plain", text.into_bytes()),
    };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", content_type);
    if let Some(allow) = allow {
        response = response.header("allow", allow);
    }
    response.body(Body::from(bytes)).unwrap()
}

/// What a store-faulty server does after the reference server answered.
async fn remember(
    state: &DeviantState,
    fault: Stateful,
    method: &http::Method,
    path: &str,
    request: &Value,
    status: u16,
    body: &mut Value,
) {
    let list = method == http::Method::GET && record_id(path).is_none();
    match fault {
        Stateful::TotalPagesOffOnFullPages if list && status == 200 => {
            let total = body["TotalItems"].as_i64().unwrap();
            let size = body["CurrentPageSize"].as_i64().unwrap();
            if total > 0 && total % size == 0 {
                body["TotalPages"] = json!(body["TotalPages"].as_i64().unwrap() + 1);
            }
        }
        Stateful::IdReusedAfterDelete if status == 200 => {
            if *method == http::Method::DELETE {
                let id: i64 = record_id(path).unwrap().parse().unwrap();
                state.freed.lock().unwrap().push(json!(id));
            } else if *method == http::Method::POST
                && let Some(id) = state.freed.lock().unwrap().pop()
            {
                body["Value"]["Id"] = id;
            }
        }
        Stateful::RejectedUpdateStillWrites if *method == http::Method::PUT && status == 400 => {
            let Some(id) = request
                .get("Id")
                .and_then(Value::as_i64)
                .filter(|id| *id > 0)
            else {
                return;
            };
            let record_path = format!("/api/billing/coworkertimepasses/{id}");
            let (found, mut record) = state.admin(http::Method::GET, &record_path, None).await;
            if found == 200 {
                record["Notes"] = json!("written by a rejected update");
                let writable: serde_json::Map<String, Value> = record
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(name, _)| {
                        [
                            "Id",
                            "CoworkerId",
                            "BusinessId",
                            "TimePassId",
                            "Notes",
                            "PurchaseOrder",
                            "Used",
                            "Free",
                            "Price",
                            "ExpireDate",
                            "TariffTimePassUniqueId",
                            "CoworkerProductUniqueId",
                            "CoworkerContractUniqueId",
                        ]
                        .contains(&name.as_str())
                    })
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                let mut update = Value::Object(writable);
                update["CreateMultiple"] = json!(1);
                state
                    .admin(
                        http::Method::PUT,
                        "/api/billing/coworkertimepasses",
                        Some(&update),
                    )
                    .await;
            }
        }
        _ => {}
    }
}

pub(crate) async fn start_deviant(deviation: Deviation, upstream: &str) -> Served {
    start_faulty(Fault::Answer(deviation), upstream).await
}

pub(crate) async fn start_faulty(fault: Fault, upstream: &str) -> Served {
    let state = Arc::new(DeviantState {
        fault,
        upstream: upstream.to_owned(),
        http: nexudus_client::http_client_builder().build().unwrap(),
        hidden: std::sync::Mutex::default(),
        freed: std::sync::Mutex::default(),
        clients: std::sync::Mutex::default(),
    });
    Served::start(axum::Router::new().fallback(forward).with_state(state)).await
}
