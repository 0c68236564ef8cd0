//! What a comparison finds: each difference as a [`Finding`] (its rule, the [`Side`] it breaks,
//! its [`Place`]), and the [`Witness`] that proves a break, with the [`Rejection`]s the
//! rejecting version gives it.

use std::{collections::BTreeMap, fmt};

use serde_json::{Value, json};

/// A document that cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// It could not be read, or its schemas could not be converted.
    #[error(transparent)]
    Spec(#[from] spec_schema::SpecError),
    /// It has no `info.version`.
    #[error("the document has no info.version")]
    NoVersion,
}

/// Whom a difference can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// A request an old client sends may be rejected by the new server.
    Requests,
    /// A response the new server sends may be rejected by an old client.
    Responses,
    /// Neither.
    Neither,
    /// A difference no rule classifies: it counts as breaking.
    Unclassified,
}

impl Side {
    /// Whether the difference counts as breaking.
    pub fn breaks(self) -> bool {
        self != Self::Neither
    }

    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Requests => "breaks requests",
            Self::Responses => "breaks responses",
            Self::Neither => "breaks neither",
            Self::Unclassified => "unclassified",
        }
    }
}

/// What part of an exchange a version finds fault with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// No such operation.
    Operation,
    /// The caller's scopes meet no security requirement.
    Credentials,
    /// A content type the operation or status does not document.
    ContentType,
    /// A status the operation does not document.
    Status,
    /// A path or query parameter, by name.
    Parameter(String),
    /// A response header, by lower-case name.
    Header(String),
    /// A place in the body: property names from the root, `*` for any array index or key.
    Body(Vec<String>),
}

impl Place {
    /// Whether a fault found at `found` is one at this place: the same place or, in a body, the
    /// place itself or an object that holds it (a property refused by `additionalProperties` is
    /// reported at its parent).
    pub fn covers(&self, found: &Place) -> bool {
        match (self, found) {
            (Self::Body(expected), Self::Body(found)) => {
                found.len() <= expected.len()
                    && found
                        .iter()
                        .zip(expected)
                        .all(|(found, expected)| expected == "*" || found == expected)
            }
            (expected, found) => expected == found,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operation => f.write_str("operation"),
            Self::Credentials => f.write_str("credentials"),
            Self::ContentType => f.write_str("content type"),
            Self::Status => f.write_str("status"),
            Self::Parameter(name) => write!(f, "parameter {name}"),
            Self::Header(name) => write!(f, "header {name}"),
            Self::Body(path) if path.is_empty() => f.write_str("body"),
            Self::Body(path) => write!(f, "body {}", path.join(".")),
        }
    }
}

/// A fault a version finds in a request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where.
    pub place: Place,
    /// What.
    pub message: String,
}

impl Rejection {
    pub(crate) fn new(place: Place, message: String) -> Self {
        Self { place, message }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// A request, as a client of some version sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestWitness {
    /// Upper-case method.
    pub method: String,
    /// The path template, as the document writes it.
    pub path: String,
    /// The scopes the caller holds, by security scheme.
    pub credentials: BTreeMap<String, Vec<String>>,
    /// The body's content type, when there is a body.
    pub content_type: Option<String>,
    /// Parameters and body.
    pub request: spec_strategies::Request,
}

/// A response, as a server of some version sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseWitness {
    /// Upper-case method of the request answered.
    pub method: String,
    /// The path template, as the document writes it.
    pub path: String,
    /// The status.
    pub status: u16,
    /// The body's content type, when there is a body.
    pub content_type: Option<String>,
    /// Headers by lower-case name, as sent (text).
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Option<Value>,
}

/// A concrete exchange that one version accepts and the other rejects.
#[derive(Debug, Clone, PartialEq)]
pub enum Witness {
    /// Accepted by the released version's server, rejected by the current one's.
    Request(RequestWitness),
    /// Sent by the current version's server, rejected by the released version's client.
    Response(ResponseWitness),
}

impl Witness {
    /// The witness as JSON, for the report.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Request(request) => {
                let mut out = json!({"request": {"method": request.method, "path": request.path}});
                let fields = &mut out["request"];
                if !request.credentials.is_empty() {
                    fields["scopes"] = json!(request.credentials);
                }
                if !request.request.path.is_empty() {
                    fields["path_parameters"] = Value::Object(request.request.path.clone());
                }
                if !request.request.query.is_empty() {
                    fields["query"] = Value::Object(request.request.query.clone());
                }
                if let Some(content_type) = &request.content_type {
                    fields["content_type"] = json!(content_type);
                }
                if let Some(body) = &request.request.body {
                    fields["body"] = body.clone();
                }
                out
            }
            Self::Response(response) => {
                let mut out = json!({"response": {
                    "method": response.method,
                    "path": response.path,
                    "status": response.status,
                }});
                if let Some(content_type) = &response.content_type {
                    out["response"]["content_type"] = json!(content_type);
                }
                if !response.headers.is_empty() {
                    out["response"]["headers"] = json!(response.headers);
                }
                if let Some(body) = &response.body {
                    out["response"]["body"] = body.clone();
                }
                out
            }
        }
    }
}

/// What backs a finding.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// It breaks nothing: nothing to prove.
    None,
    /// A witness, and the fault the rejecting version finds in it.
    Witness {
        /// The exchange.
        witness: Box<Witness>,
        /// What the rejecting version says of it.
        rejection: Rejection,
    },
    /// No witness was found ("possibly breaking"), and why.
    Missing(String),
}

/// One difference between a released version and the current one.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What changed (`max-length-tightened`, `operation-removed`, ...).
    pub rule: &'static str,
    /// Whom it breaks.
    pub side: Side,
    /// Where: a JSON pointer into the current document, or into the released one for what was
    /// removed.
    pub pointer: String,
    /// The values before and after, or what the rule needs said.
    pub detail: String,
    /// The witness of a break.
    pub evidence: Evidence,
}

impl Finding {
    /// Whether it counts as breaking (proven or not).
    pub fn breaks(&self) -> bool {
        self.side.breaks()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<16} {} {}",
            self.side.label(),
            self.rule,
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            }
        )?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        match &self.evidence {
            Evidence::None => Ok(()),
            Evidence::Witness { witness, rejection } => {
                let (accepts, rejects) = match witness.as_ref() {
                    Witness::Request(_) => ("released server accepts", "current server rejects"),
                    Witness::Response(_) => ("current server may send", "released client rejects"),
                };
                write!(
                    f,
                    "\n    witness ({accepts}, {rejects}: {rejection}): {}",
                    witness.to_json()
                )
            }
            Evidence::Missing(why) => write!(f, "\n    possibly breaking: no witness, {why}"),
        }
    }
}
