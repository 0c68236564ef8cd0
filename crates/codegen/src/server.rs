//! The server generator: for each operation a trait method and a response enum, and one axum
//! router for any implementation of the trait.
//!
//! The router answers every failure it detects itself (authentication, content type, size, JSON
//! syntax, schema violations) through the trait's `authenticate` and `reject` methods, so that
//! the implementation decides the body and the spec decides the status. For that, the spec must
//! document those statuses with one error body type shared by all operations: this module checks
//! it and says which response is missing rather than generating a router that cannot answer.

use std::collections::BTreeSet;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::{CodegenError, Settings};

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Path,
    Query,
}

/// A path or query parameter.
struct Parameter {
    name: String,
    location: Location,
    required: bool,
    /// `String`, `Integer`, `Number` or `Boolean` (a `server_runtime::ParameterType`).
    json_type: &'static str,
    /// The Rust type it is parsed into.
    rust_type: TokenStream,
    /// Its schema, converted to JSON Schema.
    schema: serde_json::Value,
}

/// What the generator needs to know of one operation.
struct Operation {
    id: String,
    method: String,
    path: String,
    docs: String,
    request_schema: Option<String>,
    /// Path and query parameters in the spec's order.
    parameters: Vec<Parameter>,
    /// (status, body schema name) in the spec's order.
    responses: Vec<(u16, Option<String>)>,
    /// Alternatives of (scheme, scopes).
    security: Vec<(String, Vec<String>)>,
}

impl Operation {
    fn unsupported(&self, message: impl Into<String>) -> CodegenError {
        CodegenError::Unsupported {
            operation: self.id.clone(),
            message: message.into(),
        }
    }

    fn response_body(&self, status: u16) -> Option<&Option<String>> {
        self.responses
            .iter()
            .find(|(code, _)| *code == status)
            .map(|(_, body)| body)
    }
}

pub(crate) fn generate(
    openapi: &OpenAPI,
    spec: &spec_schema::Spec,
    settings: &Settings,
) -> Result<TokenStream, CodegenError> {
    let definitions = spec.json_schema_definitions()?;
    let operations = operations(openapi, &definitions)?;
    let error_type = shared_error_type(&operations)?;
    for operation in &operations {
        check_router_statuses(operation, &error_type)?;
    }

    let types: syn::Path =
        syn::parse_str(&settings.types_path).map_err(|error| CodegenError::Unsupported {
            operation: "*".into(),
            message: format!("types path `{}`: {error}", settings.types_path),
        })?;
    let api = Ident::new(&settings.server_trait, Span::call_site());
    let type_path = |name: &str| {
        let ident = Ident::new(name, Span::call_site());
        quote!(#types::#ident)
    };
    let error_type_tokens = type_path(&error_type);

    let definitions_json = raw_string(
        &serde_json::to_string_pretty(&serde_json::Value::Object(definitions))
            .expect("a JSON value always serialises"),
    );

    let variant = |status| {
        Ident::new(
            &variant_name(status).expect("a known status"),
            Span::call_site(),
        )
    };
    let (bad_request, unauthorized, too_large, media_type) =
        (variant(400), variant(401), variant(413), variant(415));
    let mut operation_consts = Vec::new();
    let mut consts = Vec::new();
    let mut enums = Vec::new();
    let mut methods = Vec::new();
    let mut handlers = Vec::new();
    // One method router per path, in the spec's order.
    let mut routes: indexmap::IndexMap<String, Vec<TokenStream>> = Default::default();
    let mut validator_fields = Vec::new();
    let mut validator_inits = Vec::new();

    for operation in &operations {
        let method_ident = format_ident!("{}", operation.id.to_snake_case());
        let const_ident = format_ident!("{}", operation.id.to_shouty_snake_case());
        operation_consts.push(const_ident.clone());
        let response_ident = format_ident!("{}Response", operation.id.to_upper_camel_case());
        let handler_ident = format_ident!("handle_{}", method_ident);
        let (id, method, path) = (&operation.id, &operation.method, &operation.path);
        let request_schema = match &operation.request_schema {
            Some(name) => quote!(::std::option::Option::Some(#name)),
            None => quote!(::std::option::Option::None),
        };
        let security = operation.security.iter().map(|(scheme, scopes)| {
            quote!(::server_runtime::SecurityRequirement { scheme: #scheme, scopes: &[#(#scopes),*] })
        });
        let responses = operation.responses.iter().map(|(status, body)| match body {
            Some(schema) => quote!((#status, ::std::option::Option::Some(#schema))),
            None => quote!((#status, ::std::option::Option::None)),
        });
        let const_doc = format!("`{method} {path}` ({id}).");
        consts.push(quote! {
            #[doc = #const_doc]
            pub const #const_ident: ::server_runtime::Operation = ::server_runtime::Operation {
                operation_id: #id,
                method: #method,
                path: #path,
                request_schema: #request_schema,
                security: &[#(#security),*],
                responses: &[#(#responses),*],
            };
        });

        // The response enum: one variant per documented status.
        let mut variants = Vec::new();
        let mut arms = Vec::new();
        for (status, body) in &operation.responses {
            let variant = variant_name(*status).ok_or_else(|| {
                operation.unsupported(format!("status {status} is not a known HTTP status"))
            })?;
            let variant = Ident::new(&variant, Span::call_site());
            let doc = format!("{status}.");
            match body {
                Some(schema) => {
                    let ty = type_path(schema);
                    variants.push(quote!(#[doc = #doc] #variant(#ty)));
                    arms.push(quote! {
                        Self::#variant(body) => (
                            ::http::StatusCode::from_u16(#status).expect("a documented status"),
                            ::axum::Json(body),
                        ).into_response()
                    });
                }
                None => {
                    variants.push(quote!(#[doc = #doc] #variant));
                    arms.push(quote! {
                        Self::#variant => ::http::StatusCode::from_u16(#status)
                            .expect("a documented status")
                            .into_response()
                    });
                }
            }
        }
        let enum_doc = format!("The documented responses of `{id}`.");
        enums.push(quote! {
            #[doc = #enum_doc]
            #[derive(Debug, Clone, PartialEq)]
            pub enum #response_ident { #(#variants,)* }

            impl ::axum::response::IntoResponse for #response_ident {
                fn into_response(self) -> ::axum::response::Response {
                    match self { #(#arms,)* }
                }
            }
        });

        // The trait method and the handler.
        let docs = if operation.docs.is_empty() {
            format!("`{method} {path}`.")
        } else {
            operation.docs.clone()
        };
        let (body_param, body_arg, read_body) = match &operation.request_schema {
            Some(schema) => {
                let ty = type_path(schema);
                let field = &method_ident;
                validator_fields.push(quote!(#field: ::server_runtime::Validator));
                validator_inits.push(quote! {
                    #field: ::server_runtime::Validator::new(definitions.clone(), #schema)?
                });
                (
                    quote!(, body: #ty),
                    quote!(, body),
                    quote! {
                        let body = match ::server_runtime::read_json::<#ty>(
                            &headers, body, state.api.body_limit(), &state.validators.#field,
                        ).await {
                            ::std::result::Result::Ok(body) => body,
                            ::std::result::Result::Err(rejection) => {
                                let status = rejection.status();
                                let envelope = state.api.reject(&operations::#const_ident, rejection);
                                return match status.as_u16() {
                                    413 => #response_ident::#too_large(envelope),
                                    415 => #response_ident::#media_type(envelope),
                                    _ => #response_ident::#bad_request(envelope),
                                }.into_response();
                            }
                        };
                    },
                )
            }
            None => (quote!(), quote!(), quote!(let _ = body;)),
        };
        let mut parameter_params = Vec::new();
        let mut parameter_args = Vec::new();
        let mut read_parameters = Vec::new();
        let mut required_parameters = Vec::new();
        for parameter in &operation.parameters {
            let ident = format_ident!("{}", parameter.name.to_snake_case());
            let field = format_ident!("{}_{}", method_ident, parameter.name.to_snake_case());
            let (name, required, rust_type) =
                (&parameter.name, parameter.required, &parameter.rust_type);
            let json_type = format_ident!("{}", parameter.json_type);
            let schema = serde_json::to_string(&parameter.schema).expect("JSON serialises");
            let label = format!("{} parameter {name}", operation.id);
            validator_fields.push(quote!(#field: ::server_runtime::Validator));
            validator_inits.push(quote! {
                #field: ::server_runtime::Validator::for_schema(
                    definitions.clone(),
                    &::serde_json::from_str::<::serde_json::Value>(#schema).expect("generated JSON is valid"),
                    #label,
                )?
            });
            let pairs = match parameter.location {
                Location::Path => quote!(path_pairs),
                Location::Query => quote!(query_pairs),
            };
            read_parameters.push(quote! {
                let #ident = ::server_runtime::parameter::<#rust_type>(
                    &#pairs, #name, ::server_runtime::ParameterType::#json_type, #required,
                    &state.validators.#field, &mut violations,
                );
            });
            if required {
                parameter_params.push(quote!(#ident: #rust_type));
                required_parameters.push(quote! {
                    let #ident = #ident.expect("a required parameter without violations is present");
                });
            } else {
                parameter_params.push(quote!(#ident: ::std::option::Option<#rust_type>));
            }
            parameter_args.push(quote!(#ident));
        }
        let uses_path = operation
            .parameters
            .iter()
            .any(|p| p.location == Location::Path);
        let uses_query = operation
            .parameters
            .iter()
            .any(|p| p.location == Location::Query);
        let path_extractor = uses_path.then(|| quote! {
            path: ::std::result::Result<
                ::axum::extract::Path<::std::collections::HashMap<::std::string::String, ::std::string::String>>,
                ::axum::extract::rejection::PathRejection,
            >,
        });
        let query_extractor = uses_query.then(|| quote!(query: ::axum::extract::RawQuery,));
        let read_parameters = if operation.parameters.is_empty() {
            quote!()
        } else {
            let path_pairs = uses_path.then(|| {
                quote! {
                    // A path that cannot be decoded leaves its parameters missing, which is reported.
                    let path_pairs = path.map(|path| path.0).unwrap_or_default();
                }
            });
            let query_pairs = uses_query.then(|| {
                quote! {
                    let query_pairs = ::server_runtime::query_pairs(query.0.as_deref());
                }
            });
            quote! {
                #path_pairs
                #query_pairs
                let mut violations = ::std::vec::Vec::new();
                #(#read_parameters)*
                if !violations.is_empty() {
                    let envelope = state.api.reject(
                        &operations::#const_ident,
                        ::server_runtime::Rejection::Invalid(violations),
                    );
                    return #response_ident::#bad_request(envelope).into_response();
                }
                #(#required_parameters)*
            }
        };
        let authenticate = quote! {
            let caller = match state.api.authenticate(&operations::#const_ident, &headers).await {
                ::std::result::Result::Ok(caller) => caller,
                ::std::result::Result::Err(envelope) => {
                    return #response_ident::#unauthorized(envelope).into_response();
                }
            };
        };
        methods.push(quote! {
            #[doc = #docs]
            fn #method_ident(&self, caller: Self::Caller #(, #parameter_params)* #body_param)
                -> impl ::std::future::Future<Output = #response_ident> + ::std::marker::Send;
        });
        handlers.push(quote! {
            async fn #handler_ident<A: #api>(
                ::axum::extract::State(state): ::axum::extract::State<::std::sync::Arc<State<A>>>,
                #path_extractor
                #query_extractor
                headers: ::http::HeaderMap,
                body: ::axum::body::Body,
            ) -> ::axum::response::Response {
                #authenticate
                #read_parameters
                #read_body
                state.api.#method_ident(caller #(, #parameter_args)* #body_arg).await.into_response()
            }
        });
        let axum_method = format_ident!("{}", method.to_lowercase());
        let route = routes.entry(path.clone()).or_default();
        let handler = quote!(#handler_ident::<A>);
        route.push(if route.is_empty() {
            quote!(::axum::routing::#axum_method(#handler))
        } else {
            quote!(.#axum_method(#handler))
        });
    }
    let routes = routes
        .into_iter()
        .map(|(path, methods)| quote!(.route(#path, #(#methods)*)));
    let trait_doc = format!(
        "The operations of {}, one method each, as the spec documents them.",
        openapi.info.title
    );
    Ok(quote! {
        //! Server side of the API: its trait, the response enums and [`router`].
        #![allow(missing_docs, clippy::all, unused_imports, unused_variables)]

        use ::axum::response::IntoResponse as _;

        /// The component schemas converted to JSON Schema (draft 4): what request bodies are
        /// validated against.
        pub const SCHEMA_DEFINITIONS: &str = #definitions_json;

        /// The operations of the spec.
        pub mod operations {
            #(#consts)*
        }

        /// Every operation of the spec.
        pub const OPERATIONS: &[&::server_runtime::Operation] = &[#(&operations::#operation_consts),*];

        #(#enums)*

        #[doc = #trait_doc]
        pub trait #api: ::std::marker::Send + ::std::marker::Sync + 'static {
            /// Who is calling, as `authenticate` establishes it.
            type Caller: ::std::marker::Send;

            /// Checks the caller against the operation's security requirements before the body is
            /// read; an error is answered with 401.
            fn authenticate(
                &self,
                operation: &'static ::server_runtime::Operation,
                headers: &::http::HeaderMap,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, #error_type_tokens>>
                + ::std::marker::Send;

            /// The error body for a request body the router rejected; the status comes from
            /// [`::server_runtime::Rejection::status`].
            fn reject(
                &self,
                operation: &'static ::server_runtime::Operation,
                rejection: ::server_runtime::Rejection,
            ) -> #error_type_tokens;

            /// The largest request body accepted, in bytes.
            fn body_limit(&self) -> usize {
                ::server_runtime::DEFAULT_BODY_LIMIT
            }

            #(#methods)*
        }

        struct Validators {
            #(#validator_fields,)*
        }

        struct State<A> {
            api: ::std::sync::Arc<A>,
            validators: Validators,
        }

        /// The axum router serving every operation of the spec with `api`. Fails only if the
        /// spec's schemas do not compile, which the generator's own tests rule out.
        pub fn router<A: #api>(api: ::std::sync::Arc<A>)
            -> ::std::result::Result<::axum::Router, ::spec_schema::SpecError>
        {
            let definitions: ::serde_json::Map<::std::string::String, ::serde_json::Value> =
                ::serde_json::from_str(SCHEMA_DEFINITIONS).expect("generated JSON is valid");
            let validators = Validators { #(#validator_inits,)* };
            let state = ::std::sync::Arc::new(State { api, validators });
            ::std::result::Result::Ok(::axum::Router::new() #(#routes)* .with_state(state))
        }

        #(#handlers)*
    })
}

fn operations(
    openapi: &OpenAPI,
    definitions: &serde_json::Map<String, serde_json::Value>,
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
                request_schema: None,
                parameters: Vec::new(),
                responses: Vec::new(),
                security: Vec::new(),
            };
            for parameter in item.parameters.iter().chain(&op.parameters) {
                let parameter = parse_parameter(&operation, parameter, definitions)?;
                // An operation's parameter overrides the path item's of the same name and place.
                operation.parameters.retain(|p| {
                    (p.name.as_str(), p.location) != (parameter.name.as_str(), parameter.location)
                });
                operation.parameters.push(parameter);
            }
            if let Some(body) = &op.request_body {
                let body = body.as_item().ok_or_else(|| {
                    operation.unsupported("request bodies given by $ref are not supported")
                })?;
                let schema = json_schema_ref(&body.content).ok_or_else(|| {
                    operation.unsupported(
                        "the request body must be application/json with a $ref to a component schema",
                    )
                })?;
                operation.request_schema = Some(schema);
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
                let response = response.as_item().ok_or_else(|| {
                    operation.unsupported("responses given by $ref are not supported")
                })?;
                let body = if response.content.is_empty() {
                    None
                } else {
                    Some(json_schema_ref(&response.content).ok_or_else(|| {
                        operation.unsupported(format!(
                            "response {status} must be application/json with a $ref to a component schema"
                        ))
                    })?)
                };
                operation.responses.push((*status, body));
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
            if operation.security.is_empty() {
                return Err(operation.unsupported(
                    "operations without security are not supported yet: the router authenticates every request",
                ));
            }
            operations.push(operation);
        }
    }
    Ok(operations)
}

fn parse_parameter(
    operation: &Operation,
    parameter: &ReferenceOr<openapiv3::Parameter>,
    definitions: &serde_json::Map<String, serde_json::Value>,
) -> Result<Parameter, CodegenError> {
    let parameter = parameter
        .as_item()
        .ok_or_else(|| operation.unsupported("parameters given by $ref are not supported"))?;
    let (data, location) = match parameter {
        openapiv3::Parameter::Path { parameter_data, .. } => (parameter_data, Location::Path),
        openapiv3::Parameter::Query { parameter_data, .. } => (parameter_data, Location::Query),
        _ => return Err(operation.unsupported("only path and query parameters are supported")),
    };
    let name = &data.name;
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return Err(operation.unsupported(format!("parameter `{name}` needs a schema")));
    };
    let schema = serde_json::to_value(schema).expect("openapiv3 schemas serialise");
    let schema = spec_schema::to_json_schema(&schema)?;
    // The JSON type decides how the parameter's text is read; a $ref to a component is followed.
    let resolved = match schema.get("$ref").and_then(serde_json::Value::as_str) {
        Some(reference) => reference
            .rsplit('/')
            .next()
            .and_then(|target| definitions.get(target))
            .unwrap_or(&schema),
        None => &schema,
    };
    let types: Vec<&str> = match resolved.get("type") {
        Some(serde_json::Value::String(ty)) => vec![ty.as_str()],
        Some(serde_json::Value::Array(types)) => types.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    };
    let format = resolved.get("format").and_then(serde_json::Value::as_str);
    let (json_type, rust_type) = match types.iter().find(|ty| **ty != "null").copied() {
        Some("integer") if format == Some("int32") => ("Integer", quote!(i32)),
        Some("integer") => ("Integer", quote!(i64)),
        Some("number") => ("Number", quote!(f64)),
        Some("boolean") => ("Boolean", quote!(bool)),
        Some("string") => ("String", quote!(::std::string::String)),
        other => {
            return Err(operation.unsupported(format!(
                "parameter `{name}` is of type {other:?}: only strings, integers, numbers and booleans are supported"
            )));
        }
    };
    if name.to_snake_case().is_empty() {
        return Err(operation.unsupported(format!("parameter `{name}` has no usable name")));
    }
    Ok(Parameter {
        name: name.clone(),
        location,
        required: data.required || location == Location::Path,
        json_type,
        rust_type,
        schema,
    })
}

fn json_schema_ref(content: &openapiv3::Content) -> Option<String> {
    match content.get("application/json")?.schema.as_ref()? {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_owned),
        ReferenceOr::Item(_) => None,
    }
}

/// The one body type of every 4xx/5xx response of every operation.
fn shared_error_type(operations: &[Operation]) -> Result<String, CodegenError> {
    let bodies: BTreeSet<&str> = operations
        .iter()
        .flat_map(|operation| &operation.responses)
        .filter(|(status, _)| *status >= 400)
        .filter_map(|(_, body)| body.as_deref())
        .collect();
    let mut bodies = bodies.into_iter();
    match (bodies.next(), bodies.next()) {
        (Some(body), None) => Ok(body.to_owned()),
        (None, _) => Err(CodegenError::Unsupported {
            operation: "*".into(),
            message: "no error response documents a JSON body: the router needs one for 401".into(),
        }),
        (Some(first), Some(second)) => Err(CodegenError::Unsupported {
            operation: "*".into(),
            message: format!(
                "error responses use several body types ({first}, {second}, ...): they must share one"
            ),
        }),
    }
}

/// The router itself answers 401, and for operations with a body 400, 413 and 415: the spec must
/// document each with the shared error body.
fn check_router_statuses(operation: &Operation, error_type: &str) -> Result<(), CodegenError> {
    let mut needed = vec![(401, "the router answers it when authentication fails")];
    if !operation.parameters.is_empty() && operation.request_schema.is_none() {
        needed.push((400, "the router answers it for invalid parameters"));
    }
    if operation.request_schema.is_some() {
        needed.push((400, "the router answers it for malformed or invalid bodies"));
        needed.push((413, "the router answers it for bodies over the size limit"));
        needed.push((
            415,
            "the router answers it for bodies that are not application/json",
        ));
    }
    for (status, why) in needed {
        match operation.response_body(status) {
            Some(Some(body)) if body == error_type => {}
            _ => {
                return Err(operation.unsupported(format!(
                    "document response {status} with body {error_type}: {why}"
                )));
            }
        }
    }
    Ok(())
}

/// A raw string literal (`r#"..."#`), so that embedded JSON stays readable in the output.
fn raw_string(text: &str) -> proc_macro2::Literal {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .expect("a raw string literal with enough hashes parses")
}

/// `PayloadTooLarge` for 413: the status' canonical reason in UpperCamelCase.
fn variant_name(status: u16) -> Option<String> {
    let reason = http::StatusCode::from_u16(status)
        .ok()?
        .canonical_reason()?;
    let words: String = reason
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    Some(words.to_upper_camel_case())
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names_come_from_reason_phrases() {
        assert_eq!(variant_name(200).as_deref(), Some("Ok"));
        assert_eq!(variant_name(413).as_deref(), Some("PayloadTooLarge"));
        assert_eq!(variant_name(415).as_deref(), Some("UnsupportedMediaType"));
        assert_eq!(variant_name(299), None);
    }
}
