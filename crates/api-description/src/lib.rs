//! An API as data, and as the value generic tools take.
//!
//! [`Operation`] and the types it holds describe each operation as its spec states it: method,
//! path, parameters with their JSON Schemas, request body, security requirements, documented
//! responses with their media types, headers and links, and the spec's `x-contract` extension.
//! Generated code (see the `codegen` crate) writes them as constants.
//!
//! [`Api`] is an API as a generic tool takes it (the contract checks, say): the description
//! above, the spec's schemas as JSON Schema, and what only the code generated from the spec can
//! do: call any operation by its operationId through the typed client ([`Caller`]), decode an
//! error body as that client does, and give the JSON Schema its types derive. A tool that takes
//! an `Api` names no API of its own.

use std::{future::Future, pin::Pin};

use serde_json::{Map, Value};

/// An operation of the spec, as the generated router describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The spec's `operationId`.
    pub operation_id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template.
    pub path: &'static str,
    /// Path and query parameters, in the spec's order (path item's first).
    pub parameters: &'static [Parameter],
    /// The component schema of the request body, if the operation takes one.
    pub request_schema: Option<&'static str>,
    /// How the request body is written (JSON for an operation without one).
    pub request_format: BodyFormat,
    /// Alternative security requirements: satisfying any one of them is enough. Empty when the
    /// operation needs no authentication.
    pub security: &'static [SecurityRequirement],
    /// The documented responses, in the spec's order.
    pub responses: &'static [Response],
    /// The operation's `x-contract` extension as JSON text (`null` when it has none): what the
    /// spec says a success holds beyond its schema, for contract tools.
    pub contract: &'static str,
}

impl Operation {
    /// The documented response for `status`.
    pub fn response(&self, status: u16) -> Option<&'static Response> {
        self.responses
            .iter()
            .find(|response| response.status == status)
    }

    /// The parameter `name` at `location`.
    pub fn parameter(&self, location: ParameterLocation, name: &str) -> Option<&'static Parameter> {
        self.parameters
            .iter()
            .find(|parameter| parameter.location == location && parameter.name == name)
    }
}

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParameterLocation {
    /// A segment of the path (`/records/{id}`).
    Path,
    /// The query string.
    Query,
    /// A request header (its name matched without regard to case).
    Header,
}

/// A path, query or header parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    /// The name, as sent.
    pub name: &'static str,
    /// Where it is sent.
    pub location: ParameterLocation,
    /// Whether it must be sent (path parameters always must).
    pub required: bool,
    /// Its schema converted to JSON Schema, as JSON text; `$ref`s point into the spec's
    /// definitions.
    pub schema: &'static str,
}

/// A documented response of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The status.
    pub status: u16,
    /// The component schema of its JSON body, if it has one.
    pub schema: Option<&'static str>,
    /// The media types its body may have, as the spec's `content` names them (none: the answer
    /// has no body).
    pub media_types: &'static [&'static str],
    /// The response's OpenAPI links: operations that can use its values.
    pub links: &'static [Link],
    /// The headers it documents as required (`Retry-After`), as the spec writes their names.
    pub headers: &'static [&'static str],
    /// The response's `x-contract` extension as JSON text (`null` when it has none).
    pub contract: &'static str,
}

/// An OpenAPI link from a response to an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The link's name.
    pub name: &'static str,
    /// The operation it leads to.
    pub operation_id: &'static str,
    /// The target's parameters, as a JSON object of name to constant or runtime expression.
    pub parameters: &'static str,
    /// The target's request body, as JSON (`null` when the link sets none): a constant, a
    /// runtime expression, or an object whose members are either.
    pub request_body: &'static str,
}

/// A security scheme of the spec, as far as a client needs it to obtain credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityScheme {
    /// Its name in `components.securitySchemes`.
    pub name: &'static str,
    /// What its credentials are.
    pub kind: SchemeKind,
    /// Where OAuth 2.0's resource owner password flow issues tokens (its `tokenUrl`), for a
    /// scheme with that flow.
    pub password_token_url: Option<&'static str>,
    /// Where the password flow's tokens are refreshed (its `refreshUrl`), if it says.
    pub refresh_url: Option<&'static str>,
}

/// What a security scheme's credentials are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    /// A bearer token in `Authorization` (OAuth 2.0, OpenID Connect, HTTP `bearer`).
    Bearer,
    /// A username and password in `Authorization: Basic` (HTTP `basic`).
    Basic,
    /// Anything else (an API key, another HTTP scheme).
    Other,
}

/// One security requirement object of the spec: a scheme and the scopes it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityRequirement {
    /// The security scheme's name in `components.securitySchemes`.
    pub scheme: &'static str,
    /// The scopes (for this API: roles) the caller must hold.
    pub scopes: &'static [&'static str],
}

impl SecurityRequirement {
    /// The kind of its scheme, of `schemes` (the spec's; a scheme they do not name is `Other`).
    pub fn kind(&self, schemes: &[SecurityScheme]) -> SchemeKind {
        schemes
            .iter()
            .find(|scheme| scheme.name == self.scheme)
            .map_or(SchemeKind::Other, |scheme| scheme.kind)
    }
}

/// How an operation's request body is written, as its one media type in the spec says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`: names and values are text, so the schema reads each
    /// value as a string.
    Form,
}

impl BodyFormat {
    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
        }
    }
}

/// The arguments of a call by operationId, as JSON: path, query and header parameters by name (a
/// query or header parameter left out is not sent), and the body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arguments {
    /// Path parameters.
    pub path: Map<String, Value>,
    /// Query parameters.
    pub query: Map<String, Value>,
    /// Header parameters, by the name the spec gives them.
    pub headers: Map<String, Value>,
    /// The request body.
    pub body: Option<Value>,
}

/// A documented answer, decoded by the typed method into its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Whether the method returned it as a success rather than as a documented error.
    pub success: bool,
    /// The decoded body, encoded again as JSON (`null` when there is none).
    pub body: Value,
}

/// Why a call by operationId gave no documented answer.
#[derive(Debug, Clone, PartialEq)]
pub enum DispatchError {
    /// The client has no operation with this operationId.
    UnknownOperation(String),
    /// An argument does not fit the typed method's parameter.
    Argument {
        /// The parameter (`body` for the body).
        name: String,
        /// Why.
        message: String,
    },
    /// The typed method failed: an undocumented status, an undecodable body, or no answer at
    /// all.
    Client(String),
}

impl std::fmt::Display for DispatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOperation(id) => write!(f, "the client has no operation {id}"),
            Self::Argument { name, message } => {
                write!(f, "the typed method refuses {name}: {message}")
            }
            Self::Client(message) => write!(f, "the typed method failed: {message}"),
        }
    }
}

impl std::error::Error for DispatchError {}

/// What [`Caller::call`] returns.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Answer, DispatchError>> + Send + 'a>>;

/// A typed client of an API, called by operationId with JSON arguments.
pub trait Caller: Send + Sync {
    /// Calls `operation_id` with `arguments` through its typed method.
    fn call<'a>(&'a self, operation_id: &'a str, arguments: &'a Arguments) -> CallFuture<'a>;
}

/// How an [`Api`] makes a typed client: for a base URL and a bearer token (none: anonymous).
pub type Connect = fn(base_url: &str, token: Option<&str>) -> Result<Box<dyn Caller>, String>;

/// An API as a generic tool takes it, generated beside each API's client.
#[derive(Clone, Copy)]
pub struct Api {
    /// The spec's title.
    pub title: &'static str,
    /// Every operation of the spec.
    pub operations: &'static [&'static Operation],
    /// The spec's component schemas as JSON Schema definitions (JSON text, one object keyed by
    /// schema name; `$ref`s point at `#/definitions/`).
    pub schema_definitions: &'static str,
    /// The document's root `x-contract` extension as JSON text (`null` when it has none).
    pub contract: &'static str,
    /// The spec's security schemes.
    pub security_schemes: &'static [SecurityScheme],
    /// A typed client of the API at a base URL, sending `Authorization: Bearer` with the token
    /// (none: anonymous); it checks nothing before sending and waits out nothing, so that a tool
    /// sees how a server answers each request as sent.
    pub connect: Connect,
    /// Decodes an error answer's body of an operation as its typed client does; `Err` says why it
    /// does not decode.
    pub decode_error: fn(operation_id: &str, body: &[u8]) -> Result<(), String>,
    /// The JSON Schema the API's types derive (schemars), by component schema name; empty when
    /// the types are built without it.
    pub derived_schemas: fn() -> Vec<(&'static str, Value)>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("title", &self.title)
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}
