//! What the generators need to know of the document's operations, read once and checked before
//! any code is generated: what cannot be generated is refused here, with the operation named,
//! before progenitor could panic on it.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use serde_json::{Map, Value};

use crate::CodegenError;

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
}

/// How a parameter's text is read on the server, and the Rust type it becomes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Integer32,
    Integer64,
    Number,
    Boolean,
    /// A `date-time` string, parsed into `chrono::DateTime<Utc>`.
    DateTime,
    /// A `uuid` string, parsed into `uuid::Uuid`.
    Uuid,
    /// A `$ref` to a string component schema, parsed with the component type's `FromStr`.
    Component(String),
}

impl Kind {
    /// The `server_runtime::ParameterType` its text is read as.
    pub(crate) fn json_type(&self) -> &'static str {
        match self {
            Self::Integer32 | Self::Integer64 => "Integer",
            Self::Number => "Number",
            Self::Boolean => "Boolean",
            Self::String | Self::DateTime | Self::Uuid | Self::Component(_) => "String",
        }
    }
}

/// How a request body is written: its one media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Json,
    Form,
}

impl BodyFormat {
    const ALL: [(Self, &'static str); 2] = [
        (Self::Json, "application/json"),
        (Self::Form, "application/x-www-form-urlencoded"),
    ];

    /// The `server_runtime::BodyFormat` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Json => "Json",
            Self::Form => "Form",
        }
    }
}

/// A path or query parameter.
#[derive(Debug, Clone)]
pub(crate) struct Parameter {
    pub(crate) name: String,
    pub(crate) location: Location,
    pub(crate) required: bool,
    pub(crate) kind: Kind,
    /// Its schema, converted to JSON Schema.
    pub(crate) schema: Value,
}

/// An OpenAPI link of a response.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) name: String,
    pub(crate) operation_id: String,
    pub(crate) parameters: Value,
    pub(crate) request_body: Value,
}

/// A documented response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// The component schema of its JSON body.
    pub(crate) schema: Option<String>,
    /// The media types of its `content`.
    pub(crate) media_types: Vec<String>,
    pub(crate) links: Vec<Link>,
    /// The headers it documents as required.
    pub(crate) headers: Vec<String>,
    /// Its `x-contract` extension (`null` when absent).
    pub(crate) contract: Value,
}

/// One operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) id: String,
    /// Upper case.
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) docs: String,
    /// Path and query parameters, the path item's first, in the spec's order.
    pub(crate) parameters: Vec<Parameter>,
    /// The component schema of the request body.
    pub(crate) request_schema: Option<String>,
    /// How the request body is written (JSON for an operation without one).
    pub(crate) request_format: BodyFormat,
    pub(crate) responses: Vec<Response>,
    /// Alternatives of (scheme, scopes).
    pub(crate) security: Vec<(String, Vec<String>)>,
    /// Its `x-contract` extension (`null` when absent).
    pub(crate) contract: Value,
}

impl Operation {
    pub(crate) fn unsupported(&self, message: impl Into<String>) -> CodegenError {
        CodegenError::Unsupported {
            operation: self.id.clone(),
            message: message.into(),
        }
    }

    pub(crate) fn response(&self, status: u16) -> Option<&Response> {
        self.responses
            .iter()
            .find(|response| response.status == status)
    }

    pub(crate) fn parameters_at(&self, location: Location) -> impl Iterator<Item = &Parameter> {
        self.parameters
            .iter()
            .filter(move |parameter| parameter.location == location)
    }
}

/// A security scheme, as far as a client needs it to obtain credentials.
#[derive(Debug, Clone)]
pub(crate) struct SecurityScheme {
    pub(crate) name: String,
    /// The `api_description::SchemeKind` variant.
    pub(crate) kind: &'static str,
    /// The `tokenUrl` of an OAuth 2.0 password flow.
    pub(crate) password_token_url: Option<String>,
    /// Its `refreshUrl`.
    pub(crate) refresh_url: Option<String>,
}

/// The document's security schemes, in its order.
pub(crate) fn security_schemes(openapi: &OpenAPI) -> Result<Vec<SecurityScheme>, CodegenError> {
    let schemes = openapi
        .components
        .iter()
        .flat_map(|components| &components.security_schemes);
    let mut read = Vec::new();
    for (name, scheme) in schemes {
        let scheme = scheme.as_item().ok_or_else(|| CodegenError::Unsupported {
            operation: "*".into(),
            message: format!("security scheme {name}: schemes given by $ref are not supported"),
        })?;
        let password = match scheme {
            openapiv3::SecurityScheme::OAuth2 { flows, .. } => flows.password.as_ref(),
            _ => None,
        };
        let kind = match scheme {
            openapiv3::SecurityScheme::OAuth2 { .. }
            | openapiv3::SecurityScheme::OpenIDConnect { .. } => "Bearer",
            openapiv3::SecurityScheme::HTTP { scheme, .. }
                if scheme.eq_ignore_ascii_case("bearer") =>
            {
                "Bearer"
            }
            openapiv3::SecurityScheme::HTTP { scheme, .. }
                if scheme.eq_ignore_ascii_case("basic") =>
            {
                "Basic"
            }
            _ => "Other",
        };
        read.push(SecurityScheme {
            name: name.clone(),
            kind,
            password_token_url: password.map(|flow| flow.token_url.clone()),
            refresh_url: password.and_then(|flow| flow.refresh_url.clone()),
        });
    }
    Ok(read)
}

/// Every operation of the document, in path then method order, checked.
pub(crate) fn operations(
    openapi: &OpenAPI,
    definitions: &Map<String, Value>,
) -> Result<Vec<Operation>, CodegenError> {
    let mut operations = Vec::new();
    for (path, item) in openapi.paths.iter() {
        let item = item.as_item().ok_or_else(|| CodegenError::Unsupported {
            operation: path.clone(),
            message: "path items given by $ref are not supported".into(),
        })?;
        for (method, op) in item.iter() {
            let id = op
                .operation_id
                .clone()
                .ok_or_else(|| CodegenError::Unsupported {
                    operation: format!("{method} {path}"),
                    message: "every operation needs an operationId".into(),
                })?;
            let mut operation = Operation {
                id,
                method: method.to_uppercase(),
                path: path.clone(),
                docs: [op.summary.as_deref(), op.description.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                parameters: Vec::new(),
                request_schema: None,
                request_format: BodyFormat::Json,
                responses: Vec::new(),
                security: Vec::new(),
                contract: op
                    .extensions
                    .get("x-contract")
                    .cloned()
                    .unwrap_or(Value::Null),
            };
            for parameter in item.parameters.iter().chain(&op.parameters) {
                let parameter = parameter_of(&operation, parameter, definitions)?;
                // An operation's parameter overrides the path item's of the same name and place.
                operation.parameters.retain(|p| {
                    (p.name.as_str(), p.location) != (parameter.name.as_str(), parameter.location)
                });
                operation.parameters.push(parameter);
            }
            check_path_parameters(&operation)?;
            if let Some(body) = &op.request_body {
                let body = body.as_item().ok_or_else(|| {
                    operation.unsupported("request bodies given by $ref are not supported")
                })?;
                let (format, schema) = request_body(&body.content, definitions).ok_or_else(|| {
                    operation.unsupported(
                        "the request body must have one media type, application/json or application/x-www-form-urlencoded, with a $ref to a component schema (for a form: an object of string properties)",
                    )
                })?;
                operation.request_schema = Some(schema);
                operation.request_format = format;
            }
            if op.responses.default.is_some() {
                return Err(
                    operation.unsupported("a `default` response has no status to answer with")
                );
            }
            for (code, response) in &op.responses.responses {
                let StatusCode::Code(status) = code else {
                    return Err(
                        operation.unsupported(format!("status range {code} is not supported"))
                    );
                };
                let response = response_item(openapi, &operation, response)?;
                operation
                    .responses
                    .push(response_of(&operation, *status, response)?);
            }
            let security = op.security.as_ref().or(openapi.security.as_ref());
            for requirement in security.into_iter().flatten() {
                let mut schemes = requirement.iter();
                match (schemes.next(), schemes.next()) {
                    (Some((scheme, scopes)), None) => {
                        operation.security.push((scheme.clone(), scopes.clone()))
                    }
                    _ => {
                        return Err(operation.unsupported(
                            "each security requirement must name exactly one scheme",
                        ));
                    }
                }
            }
            operations.push(operation);
        }
    }
    check_links(&operations)?;
    Ok(operations)
}

fn response_item<'a>(
    openapi: &'a OpenAPI,
    operation: &Operation,
    response: &'a ReferenceOr<openapiv3::Response>,
) -> Result<&'a openapiv3::Response, CodegenError> {
    match response {
        ReferenceOr::Item(response) => Ok(response),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/responses/")
            .and_then(|name| openapi.components.as_ref()?.responses.get(name))
            .and_then(ReferenceOr::as_item)
            .ok_or_else(|| {
                operation.unsupported(format!(
                    "the response {reference} is not a response of components.responses"
                ))
            }),
    }
}

fn response_of(
    operation: &Operation,
    status: u16,
    response: &openapiv3::Response,
) -> Result<Response, CodegenError> {
    let schema = if response.content.is_empty() {
        None
    } else {
        Some(json_schema_ref(&response.content).ok_or_else(|| {
            operation.unsupported(format!(
                "response {status} must be application/json with a $ref to a component schema"
            ))
        })?)
    };
    let mut links = Vec::new();
    for (name, link) in &response.links {
        let link = link.as_item().ok_or_else(|| {
            operation.unsupported(format!(
                "link {name}: links given by $ref are not supported"
            ))
        })?;
        let openapiv3::LinkOperation::OperationId(target) = &link.operation else {
            return Err(operation.unsupported(format!(
                "link {name}: only links by operationId are supported"
            )));
        };
        links.push(Link {
            name: name.clone(),
            operation_id: target.clone(),
            parameters: Value::Object(
                link.parameters
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect(),
            ),
            request_body: link.request_body.clone().unwrap_or(Value::Null),
        });
    }
    let mut headers = Vec::new();
    for (name, header) in &response.headers {
        let header = header.as_item().ok_or_else(|| {
            operation.unsupported(format!(
                "response {status}: header {name} given by $ref is not supported"
            ))
        })?;
        if header.required {
            headers.push(name.clone());
        }
    }
    Ok(Response {
        status,
        schema,
        media_types: response.content.keys().cloned().collect(),
        links,
        headers,
        contract: response
            .extensions
            .get("x-contract")
            .cloned()
            .unwrap_or(Value::Null),
    })
}

fn parameter_of(
    operation: &Operation,
    parameter: &ReferenceOr<openapiv3::Parameter>,
    definitions: &Map<String, Value>,
) -> Result<Parameter, CodegenError> {
    let parameter = parameter
        .as_item()
        .ok_or_else(|| operation.unsupported("parameters given by $ref are not supported"))?;
    let (data, location) = match parameter {
        openapiv3::Parameter::Path { parameter_data, .. } => (parameter_data, Location::Path),
        openapiv3::Parameter::Query { parameter_data, .. } => (parameter_data, Location::Query),
        openapiv3::Parameter::Header { parameter_data, .. } => (parameter_data, Location::Header),
        openapiv3::Parameter::Cookie { .. } => {
            return Err(
                operation.unsupported("only path, query and header parameters are supported")
            );
        }
    };
    let name = &data.name;
    // OpenAPI ignores these three: HTTP sets them, not the operation's parameters.
    if location == Location::Header
        && ["accept", "content-type", "authorization"].contains(&name.to_ascii_lowercase().as_str())
    {
        return Err(operation.unsupported(format!(
            "header parameter `{name}`: OpenAPI ignores Accept, Content-Type and Authorization as parameters"
        )));
    }
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return Err(operation.unsupported(format!("parameter `{name}` needs a schema")));
    };
    let schema = serde_json::to_value(schema).expect("openapiv3 schemas serialise");
    let schema = spec_schema::to_json_schema(&schema)?;
    let kind = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = reference.rsplit('/').next().unwrap_or_default();
            let is_string = definitions
                .get(target)
                .is_some_and(|definition| types_of(definition).contains(&"string"));
            if !is_string {
                return Err(operation.unsupported(format!(
                    "parameter `{name}` refers to {reference}: a parameter's component schema must be a string (parsed with FromStr)"
                )));
            }
            Kind::Component(target.to_owned())
        }
        None => {
            let format = schema.get("format").and_then(Value::as_str);
            match types_of(&schema).into_iter().find(|ty| *ty != "null") {
                Some("integer") if format == Some("int32") => Kind::Integer32,
                Some("integer") => Kind::Integer64,
                Some("number") => Kind::Number,
                Some("boolean") => Kind::Boolean,
                Some("string") if format == Some("date-time") => Kind::DateTime,
                Some("string") if format == Some("uuid") => Kind::Uuid,
                Some("string") => Kind::String,
                other => {
                    return Err(operation.unsupported(format!(
                        "parameter `{name}` is of type {other:?}: only strings, integers, numbers and booleans are supported"
                    )));
                }
            }
        }
    };
    Ok(Parameter {
        name: name.clone(),
        location,
        required: data.required || location == Location::Path,
        kind,
        schema,
    })
}

fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(ty)) => vec![ty.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every `{name}` of the path template is a path parameter, and every path parameter is in it.
fn check_path_parameters(operation: &Operation) -> Result<(), CodegenError> {
    let in_template: BTreeSet<&str> = template_names(&operation.path).collect();
    let declared: BTreeSet<&str> = operation
        .parameters_at(Location::Path)
        .map(|parameter| parameter.name.as_str())
        .collect();
    if in_template != declared {
        return Err(operation.unsupported(format!(
            "the path template names {in_template:?} but the path parameters are {declared:?}"
        )));
    }
    Ok(())
}

/// The names of a path template's `{name}` segments, in order.
pub(crate) fn template_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Every link leads to an operation of the document and sets only what that operation takes.
fn check_links(operations: &[Operation]) -> Result<(), CodegenError> {
    for operation in operations {
        for link in operation
            .responses
            .iter()
            .flat_map(|response| &response.links)
        {
            let problem =
                |message: String| operation.unsupported(format!("link {}: {message}", link.name));
            let Some(target) = operations
                .iter()
                .find(|candidate| candidate.id == link.operation_id)
            else {
                return Err(problem(format!(
                    "no operation has the operationId {}",
                    link.operation_id
                )));
            };
            for name in link
                .parameters
                .as_object()
                .into_iter()
                .flatten()
                .map(|(n, _)| n)
            {
                let bare = name
                    .strip_prefix("path.")
                    .or_else(|| name.strip_prefix("query."))
                    .unwrap_or(name);
                if !target
                    .parameters
                    .iter()
                    .any(|parameter| parameter.name == bare)
                {
                    return Err(problem(format!("{} has no parameter `{name}`", target.id)));
                }
            }
            if !link.request_body.is_null() && target.request_schema.is_none() {
                return Err(problem(format!("{} takes no request body", target.id)));
            }
        }
    }
    Ok(())
}

fn json_schema_ref(content: &openapiv3::Content) -> Option<String> {
    schema_ref(content.get("application/json")?)
}

fn schema_ref(media: &openapiv3::MediaType) -> Option<String> {
    match media.schema.as_ref()? {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_owned),
        ReferenceOr::Item(_) => None,
    }
}

/// The format and component schema of a request body of one media type. A form's values are
/// text, so its schema must be an object whose properties are all strings.
fn request_body(
    content: &openapiv3::Content,
    definitions: &Map<String, Value>,
) -> Option<(BodyFormat, String)> {
    let mut media_types = content.iter();
    let ((media_type, media), None) = (media_types.next()?, media_types.next()) else {
        return None;
    };
    let (format, _) = BodyFormat::ALL
        .into_iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(media_type))?;
    let schema = schema_ref(media)?;
    if format == BodyFormat::Form {
        let definition = definitions.get(&schema)?;
        let all_strings = definition
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|properties| {
                properties
                    .values()
                    .all(|property| types_of(property).iter().all(|ty| *ty == "string"))
            });
        if !all_strings || !types_of(definition).contains(&"object") {
            return None;
        }
    }
    Some((format, schema))
}

/// The one body type of an operation's 4xx/5xx responses (`None` when they have no body).
pub(crate) fn error_type(operation: &Operation) -> Result<Option<String>, CodegenError> {
    let bodies: BTreeSet<&str> = operation
        .responses
        .iter()
        .filter(|response| response.status >= 400)
        .filter_map(|response| response.schema.as_deref())
        .collect();
    let mut bodies = bodies.into_iter();
    match (bodies.next(), bodies.next()) {
        (body, None) => Ok(body.map(str::to_owned)),
        (Some(first), Some(second)) => Err(operation.unsupported(format!(
            "error responses use several body types ({first}, {second}, ...): an operation's must share one"
        ))),
        (None, Some(_)) => unreachable!("an iterator yields nothing after its end"),
    }
}

/// The 4xx/5xx statuses an operation documents without a body beside others with one: the
/// generated client cannot give both one error type, and treats these as undocumented.
pub(crate) fn bodyless_errors(operation: &Operation) -> Vec<u16> {
    let errors = || {
        operation
            .responses
            .iter()
            .filter(|response| response.status >= 400)
    };
    if errors().all(|response| response.media_types.is_empty()) {
        return Vec::new();
    }
    errors()
        .filter(|response| response.media_types.is_empty())
        .map(|response| response.status)
        .collect()
}

/// The one body type of every 401 (the router's `authenticate` returns it).
pub(crate) fn unauthorized_type(operations: &[Operation]) -> Result<Option<String>, CodegenError> {
    let bodies: BTreeSet<&str> = operations
        .iter()
        .filter_map(|operation| operation.response(401)?.schema.as_deref())
        .collect();
    let mut bodies = bodies.into_iter();
    match (bodies.next(), bodies.next()) {
        (body, None) => Ok(body.map(str::to_owned)),
        (Some(first), Some(second)) => Err(CodegenError::Unsupported {
            operation: "*".into(),
            message: format!(
                "401 responses use several body types ({first}, {second}, ...): `authenticate` returns one"
            ),
        }),
        (None, Some(_)) => unreachable!("an iterator yields nothing after its end"),
    }
}

/// The statuses the router answers by itself, each with why. 401 for an operation with
/// security, 400 for one with parameters or a body; for a body also 408, 413 and 415, each of
/// which falls back to 400 where the operation does not document it (an API whose endpoint
/// answers every bad body 400, as OAuth 2.0's token endpoint does).
pub(crate) fn check_router_statuses(operation: &Operation) -> Result<(), CodegenError> {
    let mut needed = Vec::new();
    if !operation.security.is_empty() {
        needed.push((401, "the router answers it when authentication fails"));
    }
    if !operation.parameters.is_empty() {
        needed.push((400, "the router answers it for invalid parameters"));
    }
    if operation.request_schema.is_some() {
        needed.push((400, "the router answers it for malformed or invalid bodies"));
    }
    if needed.is_empty() {
        return Ok(());
    }
    let error_type = error_type(operation)?;
    for (status, why) in needed {
        match (operation.response(status), &error_type) {
            (
                Some(Response {
                    schema: Some(body), ..
                }),
                Some(error_type),
            ) if body == error_type => {}
            _ => {
                return Err(operation.unsupported(format!(
                    "document response {status} with a JSON error body: {why}"
                )));
            }
        }
    }
    Ok(())
}
