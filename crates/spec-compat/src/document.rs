//! One version of a spec, read for comparison: its operations with every `$ref` resolved, and the
//! two judges a witness is put before (would this version's server accept this request, would
//! this version's client accept this response).

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use serde_json::{Map, Value};
use spec_schema::{Spec, Validator};

use crate::findings::{CompatError, Place, Rejection, RequestWitness, ResponseWitness};

/// The HTTP methods an OpenAPI path item can hold.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A spec as released or as it is now.
#[derive(Debug)]
pub struct Version {
    version: String,
    document: Value,
    definitions: Map<String, Value>,
    /// `(method, path key)` → the path as the document writes it.
    paths: HashMap<(String, String), String>,
    /// Compiled validators, by converted schema text: a witness search asks the same schema
    /// hundreds of times.
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// An operation's parts, with references resolved and the pointer of each part.
#[derive(Debug, Clone)]
pub(crate) struct Operation<'a> {
    pub method: &'a str,
    /// The path as the document writes it.
    pub path: &'a str,
    pub pointer: String,
    pub object: &'a Map<String, Value>,
    /// Alternatives, each a scheme → scopes map (the operation's own or the document's).
    pub security: Vec<BTreeMap<String, Vec<String>>>,
    /// By `(in, name)`: the path item's parameters, overridden by the operation's.
    pub parameters: BTreeMap<(String, String), Located<'a>>,
    pub request_body: Option<Located<'a>>,
    pub responses: BTreeMap<String, Located<'a>>,
}

/// A part of the document and where it is (after following its `$ref`s).
#[derive(Debug, Clone)]
pub(crate) struct Located<'a> {
    pub value: &'a Value,
    pub pointer: String,
}

impl Version {
    /// Reads a document written in YAML or JSON.
    pub fn parse(text: &str) -> Result<Self, CompatError> {
        let spec = Spec::from_yaml(text)?;
        let definitions = spec.json_schema_definitions()?;
        let document = spec.document().clone();
        let version = document
            .pointer("/info/version")
            .and_then(Value::as_str)
            .ok_or(CompatError::NoVersion)?
            .to_owned();
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                METHODS
                    .into_iter()
                    .filter(|method| item.get(*method).is_some())
                    .map(move |method| ((method.to_owned(), path_key(path)), path.clone()))
            })
            .collect();
        Ok(Self {
            version,
            document,
            definitions,
            paths,
            validators: Mutex::default(),
        })
    }

    /// `info.version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The major version: the leading number of `info.version` (`1` of `1.1` and of `1.2.3`).
    pub fn major(&self) -> Option<u64> {
        major(&self.version)
    }

    /// The whole document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    pub(crate) fn definitions(&self) -> &Map<String, Value> {
        &self.definitions
    }

    /// Follows local `$ref`s from `value` (at `pointer`) to what they name.
    pub(crate) fn resolve<'a>(&'a self, value: &'a Value, pointer: String) -> Located<'a> {
        let mut located = Located { value, pointer };
        // A bound, so that a document whose references form a loop cannot hang the comparison.
        for _ in 0..32 {
            let Some(target) = located.value.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(inner) = target
                .strip_prefix('#')
                .and_then(|pointer| self.document.pointer(pointer))
            else {
                break;
            };
            located = Located {
                value: inner,
                pointer: target[1..].to_owned(),
            };
        }
        located
    }

    /// Every operation, by `(method, path key)` (see [`path_key`]).
    pub(crate) fn operations(&self) -> BTreeMap<(String, String), Operation<'_>> {
        self.paths
            .iter()
            .filter_map(|(key, path)| Some((key.clone(), self.operation_at(path, &key.0)?)))
            .collect()
    }

    /// The operation a request to `method` and `path` (either as written or as a key) reaches.
    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let path = self.paths.get(&(method.to_lowercase(), path_key(path)))?;
        self.operation_at(path, &method.to_lowercase())
    }

    fn operation_at<'a>(&'a self, path: &'a str, method: &str) -> Option<Operation<'a>> {
        let item = self.document.get("paths")?.get(path)?;
        let item = self.resolve(item, format!("/paths/{}", escape(path)));
        let item_object = item.value.as_object()?;
        let method = METHODS.into_iter().find(|known| *known == method)?;
        let object = item_object.get(method)?.as_object()?;
        let pointer = format!("{}/{method}", item.pointer);
        let mut parameters = BTreeMap::new();
        for (owner, owner_pointer) in [(item_object, &item.pointer), (object, &pointer)] {
            let Some(list) = owner.get("parameters").and_then(Value::as_array) else {
                continue;
            };
            for (index, parameter) in list.iter().enumerate() {
                let located =
                    self.resolve(parameter, format!("{owner_pointer}/parameters/{index}"));
                let key = (
                    text(located.value, "in").to_owned(),
                    text(located.value, "name").to_owned(),
                );
                parameters.insert(key, located);
            }
        }
        let request_body = object
            .get("requestBody")
            .map(|body| self.resolve(body, format!("{pointer}/requestBody")));
        let responses = object
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(status, response)| {
                let at = format!("{pointer}/responses/{}", escape(status));
                (status.clone(), self.resolve(response, at))
            })
            .collect();
        let security = security(object.get("security").or(self.document.get("security")));
        Some(Operation {
            method,
            path,
            pointer,
            object,
            security,
            parameters,
            request_body,
            responses,
        })
    }

    /// The errors this version's server finds in `request`: empty when it would accept it.
    pub fn check_request(&self, request: &RequestWitness) -> Vec<Rejection> {
        let Some(operation) = self.operation(&request.method, &request.path) else {
            return vec![Rejection::new(
                Place::Operation,
                format!("has no operation {} {}", request.method, request.path),
            )];
        };
        let mut rejections = Vec::new();
        if !satisfies(&operation.security, &request.credentials) {
            rejections.push(Rejection::new(
                Place::Credentials,
                "no security requirement is met by these scopes".to_owned(),
            ));
        }
        for ((location, name), parameter) in &operation.parameters {
            let sent = match location.as_str() {
                // By position: a path parameter renamed is the same segment of the path.
                "path" => request.request.path.get(name).or_else(|| {
                    let position = template_names(operation.path)
                        .iter()
                        .position(|n| n == name)?;
                    request
                        .request
                        .path
                        .get(*template_names(&request.path).get(position)?)
                }),
                "query" => request.request.query.get(name),
                _ => continue,
            };
            let required = location == "path" || parameter.value["required"] == true;
            rejections.extend(self.text_rejections(
                parameter.value,
                sent,
                required,
                Place::Parameter(name.clone()),
            ));
        }
        let body = operation.request_body.as_ref();
        match (&request.request.body, body) {
            (None, Some(body)) if body.value["required"] == true => {
                rejections.push(Rejection::new(
                    Place::Body(Vec::new()),
                    "a body is required".to_owned(),
                ));
            }
            (Some(sent), Some(body)) => {
                rejections.extend(self.content_rejections(
                    body.value,
                    request.content_type.as_deref(),
                    sent,
                    |content_type| {
                        format!("`{content_type}` is not a type the body may be sent as")
                    },
                ));
            }
            // A body the operation does not take is not read.
            _ => {}
        }
        rejections
    }

    /// The errors this version's client finds in `response`: empty when it would decode it.
    pub fn check_response(&self, response: &ResponseWitness) -> Vec<Rejection> {
        let Some(operation) = self.operation(&response.method, &response.path) else {
            return vec![Rejection::new(
                Place::Operation,
                format!("has no operation {} {}", response.method, response.path),
            )];
        };
        let status = response.status.to_string();
        let range = format!("{}XX", status.chars().next().unwrap_or('0'));
        let Some(documented) = operation
            .responses
            .get(&status)
            .or_else(|| operation.responses.get(&range))
            .or_else(|| operation.responses.get("default"))
        else {
            return vec![Rejection::new(
                Place::Status,
                format!("status {status} is not documented"),
            )];
        };
        let mut rejections = Vec::new();
        for (name, header) in self.response_headers(documented) {
            let sent = response
                .headers
                .iter()
                .find(|(sent, _)| sent.eq_ignore_ascii_case(&name))
                .map(|(_, text)| Value::String(text.clone()));
            let required = header.value["required"] == true;
            rejections.extend(self.text_rejections(
                header.value,
                sent.as_ref(),
                required,
                Place::Header(name),
            ));
        }
        let has_body = documented
            .value
            .get("content")
            .and_then(Value::as_object)
            .is_some_and(|content| !content.is_empty());
        if response.body.is_none() && has_body {
            rejections.push(Rejection::new(
                Place::ContentType,
                format!("status {status} is documented with a body, and has none"),
            ));
        }
        if let Some(body) = &response.body {
            rejections.extend(self.content_rejections(
                documented.value,
                response.content_type.as_deref(),
                body,
                |content_type| {
                    format!("`{content_type}` is not a type status {status} is documented with")
                },
            ));
        }
        rejections
    }

    /// The faults of a value sent as text (a parameter, a header) against its declaration: absent
    /// though `required`, or not of its schema as the text reads.
    fn text_rejections(
        &self,
        declared: &Value,
        sent: Option<&Value>,
        required: bool,
        place: Place,
    ) -> Vec<Rejection> {
        match sent {
            None if required => vec![Rejection::new(place, "is required".to_owned())],
            None => Vec::new(),
            Some(value) => {
                let schema = declared.get("schema").unwrap_or(&Value::Null);
                self.violations(schema, &parameter_value(value, schema))
                    .into_iter()
                    .map(|violation| Rejection::new(place.clone(), violation.message.to_string()))
                    .collect()
            }
        }
    }

    /// The faults of `body` sent as `content_type` in a part (a request body, a response) whose
    /// `content` lists the types it may be; `refused` says why a type is not one of them.
    fn content_rejections(
        &self,
        part: &Value,
        content_type: Option<&str>,
        body: &Value,
        refused: impl FnOnce(&str) -> String,
    ) -> Vec<Rejection> {
        let content_type = content_type.unwrap_or_default();
        match part.pointer(&format!("/content/{}", escape(content_type))) {
            None => vec![Rejection::new(Place::ContentType, refused(content_type))],
            Some(media) => self.body_rejections(media, body),
        }
    }

    /// A response's headers by lower-case name, references followed.
    pub(crate) fn response_headers<'a>(
        &'a self,
        response: &Located<'a>,
    ) -> BTreeMap<String, Located<'a>> {
        response
            .value
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, header)| {
                let at = format!("{}/headers/{}", response.pointer, escape(name));
                (name.to_lowercase(), self.resolve(header, at))
            })
            .collect()
    }

    fn body_rejections(&self, media: &Value, body: &Value) -> Vec<Rejection> {
        let Some(schema) = media.get("schema") else {
            return Vec::new();
        };
        self.violations(schema, body)
            .into_iter()
            .map(|violation| {
                let message = match violation.keyword.as_ref() {
                    "required" => violation.message.to_string(),
                    _ => format!("{} ({})", violation.message, violation.keyword),
                };
                Rejection::new(Place::Body(violation.path.segments().collect()), message)
            })
            .collect()
    }

    /// The violations of `value` against an OpenAPI schema of this document.
    fn violations(&self, schema: &Value, value: &Value) -> Vec<spec_schema::Violation> {
        match self.validator(schema) {
            Ok(validator) => validator.violations(value),
            Err(error) => vec![spec_schema::Violation::new(
                spec_schema::InstancePath::root(),
                Some(value.clone()),
                "schema",
                format!("cannot be checked: {error}"),
            )],
        }
    }

    fn validator(&self, schema: &Value) -> Result<Arc<Validator>, CompatError> {
        let converted = spec_schema::to_json_schema(schema)?;
        let key = converted.to_string();
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(validator) = validators.get(&key) {
            return Ok(Arc::clone(validator));
        }
        let definitions = reachable(&self.definitions, &converted);
        let validator = Arc::new(Validator::for_schema(definitions, &converted, &key)?);
        validators.insert(key, Arc::clone(&validator));
        Ok(validator)
    }
}

/// The major version of a version string: its leading number.
pub(crate) fn major(version: &str) -> Option<u64> {
    version
        .trim_start_matches(['v', 'V'])
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The definitions that `schema` refers to, directly or through others: a validator or a strategy
/// for one schema need not carry (nor copy) a large document's every schema.
pub(crate) fn reachable(definitions: &Map<String, Value>, schema: &Value) -> Map<String, Value> {
    fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    match (key.as_str(), inner) {
                        ("$ref", Value::String(target)) => {
                            if let Some(name) =
                                target.strip_prefix(&format!("#/{}/", spec_schema::DEFINITIONS))
                            {
                                found.push(name);
                            }
                        }
                        _ => references(inner, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| references(item, found)),
            _ => {}
        }
    }
    let mut out = Map::new();
    let mut pending = Vec::new();
    references(schema, &mut pending);
    while let Some(name) = pending.pop() {
        if out.contains_key(name) {
            continue;
        }
        if let Some(definition) = definitions.get(name) {
            out.insert(name.to_owned(), definition.clone());
            references(definition, &mut pending);
        }
    }
    out
}

/// A path with its parameters' names left out (`/a/{}`): renaming a path parameter does not make
/// another operation.
pub(crate) fn path_key(path: &str) -> String {
    let mut key = String::with_capacity(path.len());
    let mut inside = false;
    for character in path.chars() {
        match character {
            '{' => {
                inside = true;
                key.push('{');
            }
            '}' => {
                inside = false;
                key.push('}');
            }
            _ if inside => {}
            other => key.push(other),
        }
    }
    key
}

/// The names of a path template's parameters, in order (`/a/{id}/b/{x}` → `id`, `x`).
pub(crate) fn template_names(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// A JSON pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

pub(crate) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Security requirement alternatives; `None` (no `security` anywhere) and `[]` need nothing.
fn security(value: Option<&Value>) -> Vec<BTreeMap<String, Vec<String>>> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|requirement| {
            requirement
                .as_object()
                .into_iter()
                .flatten()
                .map(|(scheme, scopes)| {
                    let mut scopes: Vec<String> = scopes
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|scope| scope.as_str().map(str::to_owned))
                        .collect();
                    scopes.sort();
                    (scheme.clone(), scopes)
                })
                .collect()
        })
        .collect()
}

/// Whether a caller holding `credentials` (scheme → scopes) meets one of the alternatives.
pub(crate) fn satisfies(
    alternatives: &[BTreeMap<String, Vec<String>>],
    credentials: &BTreeMap<String, Vec<String>>,
) -> bool {
    alternatives.is_empty()
        || alternatives.iter().any(|requirement| {
            requirement.iter().all(|(scheme, scopes)| {
                credentials
                    .get(scheme)
                    .is_some_and(|held| scopes.iter().all(|scope| held.contains(scope)))
            })
        })
}

/// A parameter's value as its schema reads the text it is sent as: a server reads `5` as a number
/// for an integer parameter and as the text `5` for a string one.
fn parameter_value(value: &Value, schema: &Value) -> Value {
    let sent = spec_strategies::parameter_text(value);
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(single)) => vec![single.as_str()],
        _ => Vec::new(),
    };
    if types.contains(&"string") || types.is_empty() {
        return Value::String(sent);
    }
    serde_json::from_str(&sent).unwrap_or(Value::String(sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_key_forgets_parameter_names() {
        assert_eq!(path_key("/a/{id}/b/{x}"), "/a/{}/b/{}");
        assert_eq!(path_key("/a"), "/a");
    }

    #[test]
    fn template_names_are_in_path_order() {
        assert_eq!(template_names("/a/{id}/b/{x}"), ["id", "x"]);
        assert!(template_names("/a").is_empty());
    }

    #[test]
    fn majors_are_leading_numbers() {
        assert_eq!(major("1.1"), Some(1));
        assert_eq!(major("2.0.3"), Some(2));
        assert_eq!(major("v3"), Some(3));
        assert_eq!(major("draft"), None);
    }

    #[test]
    fn scopes_meet_a_requirement_when_they_hold_all_of_its_scopes() {
        let requirement = |scopes: &[&str]| {
            BTreeMap::from([(
                "oauth2".to_owned(),
                scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            )])
        };
        assert!(satisfies(&[requirement(&["a"])], &requirement(&["a", "b"])));
        assert!(!satisfies(
            &[requirement(&["a", "b"])],
            &requirement(&["a"])
        ));
        assert!(satisfies(&[], &BTreeMap::new()));
        assert!(!satisfies(&[requirement(&[])], &BTreeMap::new()));
    }
}
