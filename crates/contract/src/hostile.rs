//! Requests a strict server refuses, each with one fault: the transport checks. Built from the
//! spec alone: which operations take a body and which of its properties are date-times, which
//! methods each path has, and what the root's `x-contract` says unknown paths and wrong methods
//! are answered with.
//!
//! The body faults (a `+json` media type, another charset, a `Content-Encoding`, a repeated
//! `Content-Type`, a repeated key, a date-time whose UTC form leaves years 0000-9999) are sent on
//! a valid request of an operation with a body; the others (a repeated `Authorization`, a wrong
//! method, an unknown path) on every operation's valid request.

use std::collections::BTreeSet;

use api_description::{Operation, ParameterLocation};
use bytes::Bytes;
use serde_json::{Map, Value};
use spec_strategies::Request;

use crate::{
    extension::{Answer, Root},
    vocabulary::Transport,
};

/// A date-time whose UTC form (`+10000-01-01T13:59:59Z`) no RFC 3339 reader accepts.
pub(crate) const BEYOND_UTC: &str = "9999-12-31T23:59:59-14:00";

/// A method no operation uses for `path`, in the order a client is most likely to try.
fn missing_method(path: &str, operations: &[&Operation]) -> Option<&'static str> {
    ["PATCH", "PUT", "POST", "DELETE", "GET"]
        .into_iter()
        .find(|method| !path_methods(path, operations).contains(*method))
}

/// The methods of `path`'s operations.
pub(crate) fn path_methods(path: &str, operations: &[&Operation]) -> BTreeSet<String> {
    operations
        .iter()
        .filter(|operation| operation.path == path)
        .map(|operation| operation.method.to_owned())
        .collect()
}

/// Whether `path` (as sent) matches the template `template`.
fn matches(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(template, segment)| template.starts_with('{') || template == segment)
}

/// `url` with segments added to its path until no operation's template matches it.
pub(crate) fn unknown_url(url: &str, base_url: &str, operations: &[&Operation]) -> String {
    let base = base_url.trim_end_matches('/');
    let rest = url.strip_prefix(base).unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut path = path.to_owned();
    loop {
        path.push_str("/contract-check-unknown");
        if !operations
            .iter()
            .any(|operation| matches(operation.path, &path))
        {
            break;
        }
    }
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}{path}{query}")
}

/// One fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The body sent with this content type.
    ContentType(&'static str),
    /// This header added to a JSON body.
    Header(&'static str, &'static str),
    /// `Authorization` sent twice: the caller's token, then one no server issued.
    RepeatedAuthorization,
    /// The body's text with its first key repeated, with its own value.
    RepeatedKey(String),
    /// This top-level date-time property set to [`BEYOND_UTC`].
    DateBeyondUtc(String),
    /// This query parameter sent twice with this text (its default) both times.
    RepeatedQuery(String, String),
    /// This header parameter sent twice with this text (its default) both times.
    RepeatedHeader(String, String),
    /// A method the path does not have.
    WrongMethod(&'static str),
    /// A path no operation has.
    UnknownPath,
}

/// A transport case: its kind, its fault, and the answer it must get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Case {
    pub(crate) kind: Transport,
    pub(crate) fault: Fault,
    pub(crate) status: u16,
    /// The `PropertyName` an `Errors` entry must have.
    pub(crate) names: Option<String>,
    /// For an answer no operation documents: what the root's `x-contract` says of it.
    pub(crate) root: Option<Answer>,
}

/// The transport cases of `operation`, and what cannot be checked for it, said why.
pub(crate) fn cases(
    operation: &Operation,
    operations: &[&Operation],
    definitions: &Map<String, Value>,
    root: &Root,
    body: Option<&Value>,
) -> (Vec<Case>, Vec<String>) {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    let case = |kind, fault, status, names: Option<&str>| Case {
        kind,
        fault,
        status,
        names: names.map(str::to_owned),
        root: None,
    };
    if let Some(schema) = operation.request_schema {
        cases.extend([
            case(
                Transport::PlusJson,
                Fault::ContentType("application/merge-patch+json"),
                415,
                None,
            ),
            case(
                Transport::Charset,
                Fault::ContentType("application/json; charset=utf-16"),
                415,
                None,
            ),
            case(
                Transport::ContentEncoding,
                Fault::Header("Content-Encoding", "gzip"),
                415,
                None,
            ),
            case(
                Transport::RepeatedContentType,
                Fault::Header("Content-Type", "text/plain"),
                400,
                Some("Content-Type"),
            ),
        ]);
        match body
            .and_then(Value::as_object)
            .and_then(|body| body.keys().next())
        {
            Some(key) => cases.push(case(
                Transport::RepeatedKey,
                Fault::RepeatedKey(key.clone()),
                400,
                Some(key),
            )),
            None => skipped.push(format!(
                "transport: {}: the valid body has no property",
                Transport::RepeatedKey
            )),
        }
        let dates = date_times(definitions, schema);
        match dates.first() {
            Some(property) => cases.push(case(
                Transport::DateBeyondUtc,
                Fault::DateBeyondUtc(property.clone()),
                400,
                Some(property),
            )),
            None => skipped.push(format!(
                "transport: {}: {schema} has no date-time property",
                Transport::DateBeyondUtc
            )),
        }
    }
    if operation.response(400).is_some() {
        cases.push(case(
            Transport::RepeatedAuthorization,
            Fault::RepeatedAuthorization,
            400,
            Some("Authorization"),
        ));
        if let Some((name, text)) = defaulted_parameter(operation, ParameterLocation::Query) {
            cases.push(case(
                Transport::RepeatedQuery,
                Fault::RepeatedQuery(name.clone(), text),
                400,
                Some(&name),
            ));
        }
        if let Some((name, text)) = defaulted_parameter(operation, ParameterLocation::Header) {
            cases.push(case(
                Transport::RepeatedHeader,
                Fault::RepeatedHeader(name.clone(), text),
                400,
                Some(&name),
            ));
        }
    } else {
        skipped.push(format!(
            "transport: {}: the operation documents no 400",
            Transport::RepeatedAuthorization
        ));
    }
    let rooted =
        |kind: Transport, fault, answer: &Option<Answer>, key: &str, skipped: &mut Vec<String>| {
            match answer {
                Some(answer) => Some(Case {
                    kind,
                    fault,
                    status: answer.status,
                    names: None,
                    root: Some(answer.clone()),
                }),
                None => {
                    skipped.push(format!(
                        "transport: {kind}: the root x-contract has no `{key}`"
                    ));
                    None
                }
            }
        };
    match missing_method(operation.path, operations) {
        Some(method) => cases.extend(rooted(
            Transport::WrongMethod,
            Fault::WrongMethod(method),
            &root.wrong_method,
            "wrong-method",
            &mut skipped,
        )),
        None => skipped.push(format!(
            "transport: {}: the path has every method",
            Transport::WrongMethod
        )),
    }
    cases.extend(rooted(
        Transport::UnknownPath,
        Fault::UnknownPath,
        &root.unknown_path,
        "unknown-path",
        &mut skipped,
    ));
    (cases, skipped)
}

/// The first parameter at `location` whose schema has a `default`, and that default as sent: a
/// value valid on its own, so that only its repetition is wrong.
fn defaulted_parameter(
    operation: &Operation,
    location: ParameterLocation,
) -> Option<(String, String)> {
    operation.parameters.iter().find_map(|parameter| {
        if parameter.location != location {
            return None;
        }
        let schema: Value = serde_json::from_str(parameter.schema).ok()?;
        let default = schema.get("default")?;
        Some((
            parameter.name.to_owned(),
            spec_strategies::parameter_text(default),
        ))
    })
}

/// The top-level properties of `schema` whose format is `date-time`, in the schema's order.
fn date_times(definitions: &Map<String, Value>, schema: &str) -> Vec<String> {
    definitions
        .get(schema)
        .and_then(|schema| schema.get("properties"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, property)| {
            let property = match property.get("$ref").and_then(Value::as_str) {
                Some(reference) => reference
                    .strip_prefix("#/definitions/")
                    .and_then(|name| definitions.get(name))
                    .unwrap_or(property),
                None => property,
            };
            property.get("format").and_then(Value::as_str) == Some("date-time")
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// What a case sends instead of the valid request's body: content type and bytes.
pub(crate) fn body(fault: &Fault, request: &Request) -> Option<(&'static str, Bytes)> {
    let body = request.body.as_ref()?;
    let json = |value: &Value| Bytes::from(serde_json::to_vec(value).expect("JSON serialises"));
    Some(match fault {
        Fault::ContentType(content_type) => (content_type, json(body)),
        Fault::RepeatedKey(key) => {
            let text = serde_json::to_string(body).expect("JSON serialises");
            let value = serde_json::to_string(&body[key.as_str()]).expect("JSON serialises");
            let key = serde_json::to_string(key).expect("JSON serialises");
            // `{"K":v,` + the object without its `{`: the key first, then again in place.
            let text = format!("{{{key}:{value},{}", &text[1..]);
            ("application/json", Bytes::from(text))
        }
        Fault::DateBeyondUtc(property) => {
            let mut body = body.clone();
            body[property.as_str()] = Value::from(BEYOND_UTC);
            ("application/json", json(&body))
        }
        _ => ("application/json", json(body)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_unknown_path_matches_no_template() {
        let operations = &crate::plan::checked_operations(&nexudus_client::API);
        let base = "http://h:1/";
        let collection = format!("{}{}", base.trim_end_matches('/'), operations[0].path);
        let unknown = unknown_url(&format!("{collection}?page=2"), base, operations);
        assert!(unknown.ends_with("?page=2"), "{unknown}");
        let path = unknown
            .strip_prefix("http://h:1")
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        assert!(
            !operations
                .iter()
                .any(|operation| matches(operation.path, path))
        );
        assert!(matches("/a/{id}", "/a/7"));
        assert!(!matches("/a/{id}", "/a/7/x"));
    }

    #[test]
    fn a_repeated_key_is_the_first_key_again() {
        let request = Request {
            body: Some(json!({"B": 1, "A": "x"})),
            ..Request::default()
        };
        let (_, bytes) = body(&Fault::RepeatedKey("A".into()), &request).unwrap();
        assert_eq!(&bytes[..], br#"{"A":"x","A":"x","B":1}"#);
    }
}
