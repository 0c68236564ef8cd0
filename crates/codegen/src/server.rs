//! The server generator: for each operation a trait method and a response enum, and one axum
//! router for any implementation of the trait, emitted from the checked model of the operations.
//!
//! The router answers every failure it detects itself (authentication, parameters, content
//! type, size, syntax, schema violations) through the trait's `authenticate` method and the
//! `Reject<E>` trait (one implementation per error body type of the spec), so that the
//! implementation decides the body and the spec decides the status
//! (`model::check_router_statuses` makes sure the spec documents each).

use heck::ToUpperCamelCase;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;

use crate::{
    CodegenError, Names,
    model::{Kind, Location, Operation, Parameter},
    names::Method,
};

/// What the emitters share: the names, and how to spell a type of the types crate.
pub(crate) struct Context<'a> {
    pub(crate) names: &'a Names,
    pub(crate) types: syn::Path,
}

impl Context<'_> {
    pub(crate) fn type_path(&self, schema: &str) -> TokenStream {
        let types = &self.types;
        let ident = Ident::new(&self.names.types[schema], Span::call_site());
        quote!(#types::#ident)
    }

    fn method(&self, operation: &Operation) -> &Method {
        &self.names.methods[&operation.id]
    }
}

/// One operation as the server file spells it: its names, from which every item of the operation
/// is emitted.
struct ServerOperation<'a> {
    operation: &'a Operation,
    /// The trait method, the client's method name.
    method: Ident,
    /// `operations::NAME`.
    constant: Ident,
    /// The response enum.
    response: Ident,
    /// The axum handler.
    handler: Ident,
}

impl<'a> ServerOperation<'a> {
    fn new(context: &Context<'_>, operation: &'a Operation) -> Result<Self, CodegenError> {
        let method = context.method(operation).ident.clone();
        let snake = method.to_string();
        let snake = snake.trim_start_matches('_');
        let response = format!("{}Response", snake.to_upper_camel_case());
        let response = syn::parse_str::<Ident>(&response).map_err(|_| {
            operation.unsupported(format!("`{response}` is not a usable response type name"))
        })?;
        Ok(ServerOperation {
            operation,
            constant: crate::description::constant(&method),
            handler: format_ident!("handle_{}", snake),
            method,
            response,
        })
    }

    /// The field of `Validators` holding the request body's validator.
    fn body_validator(&self) -> Ident {
        format_ident!("{}", self.constant.to_string().to_lowercase())
    }

    /// The field of `Validators` holding a parameter's validator.
    fn parameter_validator(&self, parameter: &Ident) -> Ident {
        format_ident!("{}_{}", self.constant.to_string().to_lowercase(), parameter)
    }

    /// The operation's validators as fields of `Validators` and their initialisers.
    fn validators(&self, context: &Context<'_>) -> Vec<(TokenStream, TokenStream)> {
        let operation = self.operation;
        let body = operation.request_schema.as_deref().map(|schema| {
            let field = self.body_validator();
            (
                quote!(#field: ::server_runtime::Validator),
                quote!(#field: ::server_runtime::Validator::new(definitions.clone(), #schema)?),
            )
        });
        let parameters = operation.parameters.iter().map(|parameter| {
            let field = self.parameter_validator(&parameter_ident(context, operation, parameter));
            let schema = json_text(&parameter.schema);
            let label = format!("{} parameter {}", operation.id, parameter.name);
            (
                quote!(#field: ::server_runtime::Validator),
                quote! {
                    #field: ::server_runtime::Validator::for_schema(
                        definitions.clone(),
                        &::serde_json::from_str::<::serde_json::Value>(#schema).expect("generated JSON is valid"),
                        #label,
                    )?
                },
            )
        });
        body.into_iter().chain(parameters).collect()
    }
}

pub(crate) fn generate(
    context: &Context<'_>,
    model: &[Operation],
    server_trait: &str,
    title: &str,
) -> Result<TokenStream, CodegenError> {
    let api = Ident::new(server_trait, Span::call_site());
    let operations = model
        .iter()
        .map(|operation| ServerOperation::new(context, operation))
        .collect::<Result<Vec<_>, _>>()?;
    let enums = operations
        .iter()
        .map(|operation| response_enum(context, operation))
        .collect::<Result<Vec<_>, _>>()?;
    let handlers = operations
        .iter()
        .map(|operation| handler(context, operation, &api));
    let (validator_fields, validator_inits): (Vec<_>, Vec<_>) = operations
        .iter()
        .flat_map(|operation| operation.validators(context))
        .unzip();
    let types_path = &context.types;
    let api_trait = api_trait(context, model, &operations, &api, title)?;
    let routes = routes(&operations);
    Ok(quote! {
        //! Server side of the API: its trait, the response enums and [`router`].
        #![allow(missing_docs, clippy::all, unused_imports, unused_variables)]

        use ::axum::response::IntoResponse as _;

        pub use #types_path::{operations, CONTRACT, OPERATIONS, SCHEMA_DEFINITIONS, SECURITY_SCHEMES};

        #(#enums)*

        /// The error body `E` for a request the router rejected (its parameters or its body),
        /// for the operations whose error responses carry an `E`; the status comes from
        /// [`::server_runtime::Rejection::status`] where the operation documents it, else 400.
        pub trait Reject<E> {
            /// The body answering `rejection`.
            fn reject(
                &self,
                operation: &'static ::server_runtime::Operation,
                rejection: ::server_runtime::Rejection,
            ) -> E;
        }

        #api_trait

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

/// The API trait: `authenticate` when an operation is secured, the body limit, and one method
/// per operation; it requires a `Reject` for every error body type of the operations.
fn api_trait(
    context: &Context<'_>,
    model: &[Operation],
    operations: &[ServerOperation<'_>],
    api: &Ident,
    title: &str,
) -> Result<TokenStream, CodegenError> {
    let unauthorized = crate::model::unauthorized_type(model)?;
    let mut error_types = std::collections::BTreeSet::new();
    for operation in model {
        error_types.extend(crate::model::error_type(operation)?);
    }
    let rejects = error_types.iter().map(|ty| {
        let ty = context.type_path(ty);
        quote!(+ Reject<#ty>)
    });
    let authenticate = unauthorized.map(|ty| {
        let ty = context.type_path(&ty);
        quote! {
            /// Who is calling, as `authenticate` establishes it.
            type Caller: ::std::marker::Send;

            /// Checks the caller against the operation's security requirements before anything
            /// else of the request is read; an error is answered with 401.
            fn authenticate(
                &self,
                operation: &'static ::server_runtime::Operation,
                headers: &::http::HeaderMap,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, #ty>>
                + ::std::marker::Send;
        }
    });
    let methods = operations
        .iter()
        .map(|operation| trait_method(context, operation));
    let doc = format!("The operations of {title}, one method each, as the spec documents them.");
    Ok(quote! {
        #[doc = #doc]
        pub trait #api: ::std::marker::Send + ::std::marker::Sync + 'static #(#rejects)* {
            #authenticate

            /// The largest request body accepted, in bytes.
            fn body_limit(&self) -> usize {
                ::server_runtime::DEFAULT_BODY_LIMIT
            }

            #(#methods)*
        }
    })
}

/// `.route(path, method(handler).method(handler))`: one method router per path, in the spec's
/// order.
fn routes(operations: &[ServerOperation<'_>]) -> Vec<TokenStream> {
    let mut paths: indexmap::IndexMap<&str, Vec<&ServerOperation<'_>>> = Default::default();
    for operation in operations {
        paths
            .entry(operation.operation.path.as_str())
            .or_default()
            .push(operation);
    }
    paths
        .into_iter()
        .map(|(path, operations)| {
            let methods = operations.iter().enumerate().map(|(index, operation)| {
                let axum_method = format_ident!("{}", operation.operation.method.to_lowercase());
                let handler = &operation.handler;
                if index == 0 {
                    quote!(::axum::routing::#axum_method(#handler::<A>))
                } else {
                    quote!(.#axum_method(#handler::<A>))
                }
            });
            quote!(.route(#path, #(#methods)*))
        })
        .collect()
}

/// The response enum: one variant per documented status.
fn response_enum(
    context: &Context<'_>,
    server: &ServerOperation<'_>,
) -> Result<TokenStream, CodegenError> {
    let (operation, response_ident) = (server.operation, &server.response);
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for response in &operation.responses {
        let status = response.status;
        let variant = variant(status).ok_or_else(|| {
            operation.unsupported(format!("status {status} is not a known HTTP status"))
        })?;
        let doc = format!("{status}.");
        match &response.schema {
            Some(schema) => {
                let ty = context.type_path(schema);
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
    let doc = format!("The documented responses of `{}`.", operation.id);
    Ok(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #response_ident { #(#variants,)* }

        impl ::axum::response::IntoResponse for #response_ident {
            fn into_response(self) -> ::axum::response::Response {
                match self { #(#arms,)* }
            }
        }
    })
}

/// The Rust type a parameter is parsed into on the server.
fn parameter_type(context: &Context<'_>, parameter: &Parameter) -> TokenStream {
    match &parameter.kind {
        Kind::String => quote!(::std::string::String),
        Kind::Integer32 => quote!(i32),
        Kind::Integer64 => quote!(i64),
        Kind::Number => quote!(f64),
        Kind::Boolean => quote!(bool),
        Kind::DateTime => quote!(::chrono::DateTime<::chrono::Utc>),
        Kind::Uuid => quote!(::uuid::Uuid),
        Kind::Component(schema) => context.type_path(schema),
    }
}

/// The ident of a parameter's argument, the one the generated client uses.
fn parameter_ident(context: &Context<'_>, operation: &Operation, parameter: &Parameter) -> Ident {
    context
        .method(operation)
        .parameter(parameter.location, &parameter.name)
        .expect("names::client_methods matched every parameter")
        .ident
        .clone()
}

fn trait_method(context: &Context<'_>, server: &ServerOperation<'_>) -> TokenStream {
    let operation = server.operation;
    let docs = if operation.docs.is_empty() {
        format!("`{} {}`.", operation.method, operation.path)
    } else {
        operation.docs.clone()
    };
    let parameters = operation.parameters.iter().map(|parameter| {
        let ident = parameter_ident(context, operation, parameter);
        let ty = parameter_type(context, parameter);
        if parameter.required {
            quote!(, #ident: #ty)
        } else {
            quote!(, #ident: ::std::option::Option<#ty>)
        }
    });
    let body = operation.request_schema.as_deref().map(|schema| {
        let ty = context.type_path(schema);
        quote!(, body: #ty)
    });
    let (method, response) = (&server.method, &server.response);
    let caller = (!operation.security.is_empty()).then(|| quote!(, caller: Self::Caller));
    quote! {
        #[doc = #docs]
        fn #method(&self #caller #(#parameters)* #body)
            -> impl ::std::future::Future<Output = #response> + ::std::marker::Send;
    }
}

/// The axum handler: it authenticates the caller, reads the parameters and the body, each
/// rejected in the operation's own error body, and answers with what the trait method returns.
fn handler(context: &Context<'_>, server: &ServerOperation<'_>, api: &Ident) -> TokenStream {
    let operation = server.operation;
    let (method, handler) = (&server.method, &server.handler);
    let uses = |location| operation.parameters_at(location).next().is_some();
    let path_extractor = uses(Location::Path).then(|| {
        quote! {
            path: ::std::result::Result<
                ::axum::extract::Path<::std::collections::HashMap<::std::string::String, ::std::string::String>>,
                ::axum::extract::rejection::PathRejection,
            >,
        }
    });
    let query_extractor = uses(Location::Query).then(|| quote!(query: ::axum::extract::RawQuery,));
    let authenticate = authenticate(server);
    let read_parameters = read_parameters(context, server);
    let read_body = read_body(context, server);
    let arguments =
        (!operation.security.is_empty())
            .then(|| quote!(caller))
            .into_iter()
            .chain(operation.parameters.iter().map(|parameter| {
                parameter_ident(context, operation, parameter).into_token_stream()
            }))
            .chain(operation.request_schema.as_ref().map(|_| quote!(body)));
    quote! {
        async fn #handler<A: #api>(
            ::axum::extract::State(state): ::axum::extract::State<::std::sync::Arc<State<A>>>,
            #path_extractor
            #query_extractor
            headers: ::http::HeaderMap,
            body: ::axum::body::Body,
        ) -> ::axum::response::Response {
            #authenticate
            #read_parameters
            #read_body
            state.api.#method(#(#arguments),*).await.into_response()
        }
    }
}

/// The error body answering `rejection`, from the API's `Reject` for the operation's error type.
fn reject(
    context: &Context<'_>,
    server: &ServerOperation<'_>,
    rejection: TokenStream,
) -> TokenStream {
    // `check_router_statuses` made sure that an operation the router rejects for has one.
    let error_type = crate::model::error_type(server.operation)
        .ok()
        .flatten()
        .map(|ty| context.type_path(&ty));
    let constant = &server.constant;
    quote! {
        <A as Reject<#error_type>>::reject(&*state.api, &operations::#constant, #rejection)
    }
}

/// `let caller = ...`: the caller as `authenticate` establishes it, or the 401 it answers; nothing
/// for an operation without security requirements.
fn authenticate(server: &ServerOperation<'_>) -> Option<TokenStream> {
    if server.operation.security.is_empty() {
        return None;
    }
    let (constant, response) = (&server.constant, &server.response);
    let unauthorized = variant(401).expect("a known status");
    Some(quote! {
        let caller = match state.api.authenticate(&operations::#constant, &headers).await {
            ::std::result::Result::Ok(caller) => caller,
            ::std::result::Result::Err(envelope) => {
                return #response::#unauthorized(envelope).into_response();
            }
        };
    })
}

/// Every parameter read and validated, their violations answered together with a 400; nothing
/// for an operation without parameters.
fn read_parameters(context: &Context<'_>, server: &ServerOperation<'_>) -> Option<TokenStream> {
    let operation = server.operation;
    if operation.parameters.is_empty() {
        return None;
    }
    let idents: Vec<Ident> = operation
        .parameters
        .iter()
        .map(|parameter| parameter_ident(context, operation, parameter))
        .collect();
    let reads = operation
        .parameters
        .iter()
        .zip(&idents)
        .map(|(parameter, ident)| {
            let field = server.parameter_validator(ident);
            let (name, required) = (&parameter.name, parameter.required);
            let ty = parameter_type(context, parameter);
            let json_type = format_ident!("{}", parameter.kind.json_type());
            let pairs = match parameter.location {
                Location::Path => quote!(path_pairs),
                Location::Query => quote!(query_pairs),
                Location::Header => quote!(header_pairs),
            };
            quote! {
                let #ident = ::server_runtime::parameter::<#ty>(
                    &#pairs, #name, ::server_runtime::ParameterType::#json_type, #required,
                    &state.validators.#field, &mut violations,
                );
            }
        });
    let unwrap_required = operation
        .parameters
        .iter()
        .zip(&idents)
        .filter(|(parameter, _)| parameter.required)
        .map(|(_, ident)| {
            quote! {
                let #ident = #ident.expect("a required parameter without violations is present");
            }
        });
    let uses = |location| operation.parameters_at(location).next().is_some();
    let path_pairs = uses(Location::Path).then(|| {
        quote! {
            // A path that cannot be decoded leaves its parameters missing, which is reported.
            let path_pairs = path.map(|path| path.0).unwrap_or_default();
        }
    });
    let query_pairs = uses(Location::Query)
        .then(|| quote!(let query_pairs = ::server_runtime::query_pairs(query.0.as_deref());));
    let header_pairs = uses(Location::Header)
        .then(|| quote!(let header_pairs = ::server_runtime::header_pairs(&headers);));
    let reject = reject(
        context,
        server,
        quote!(::server_runtime::Rejection::Invalid(violations)),
    );
    let (response, bad_request) = (&server.response, variant(400).expect("a known status"));
    Some(quote! {
        #path_pairs
        #query_pairs
        #header_pairs
        let mut violations = ::std::vec::Vec::new();
        #(#reads)*
        if !violations.is_empty() {
            let envelope = #reject;
            return #response::#bad_request(envelope).into_response();
        }
        #(#unwrap_required)*
    })
}

/// `let body = ...`: the body read, parsed and validated, or the rejection answered with the
/// status the operation documents for it (else 400); nothing for an operation without a body.
fn read_body(context: &Context<'_>, server: &ServerOperation<'_>) -> Option<TokenStream> {
    let operation = server.operation;
    let schema = operation.request_schema.as_deref()?;
    let ty = context.type_path(schema);
    let field = server.body_validator();
    let response = &server.response;
    // The body statuses the operation documents with its error body; the rest are 400s.
    let own_statuses = [408, 413, 415]
        .into_iter()
        .filter(|status| {
            operation
                .response(*status)
                .is_some_and(|response| response.schema.is_some())
        })
        .map(|status| {
            let variant = variant(status).expect("a known status");
            let status = proc_macro2::Literal::u16_unsuffixed(status);
            quote!(#status => #response::#variant(body),)
        });
    let bad_request = variant(400).expect("a known status");
    let format = format_ident!("{}", operation.request_format.variant());
    let reject = reject(context, server, quote!(rejection));
    Some(quote! {
        let body = match ::server_runtime::read_body::<#ty>(
            &headers, body, state.api.body_limit(), &state.validators.#field,
            ::server_runtime::BodyFormat::#format,
        ).await {
            ::std::result::Result::Ok(body) => body,
            ::std::result::Result::Err(rejection) => {
                let status = rejection.status();
                let body = #reject;
                return match status.as_u16() {
                    #(#own_statuses)*
                    _ => #response::#bad_request(body),
                }.into_response();
            }
        };
    })
}

/// A JSON value as the text of a string literal.
fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}

/// A raw string literal (`r#"..."#`), so that embedded JSON stays readable in the output.
pub(crate) fn raw_string(text: &str) -> proc_macro2::Literal {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .expect("a raw string literal with enough hashes parses")
}

/// `PayloadTooLarge` for 413: the status' canonical reason in UpperCamelCase.
fn variant(status: u16) -> Option<Ident> {
    let reason = http::StatusCode::from_u16(status)
        .ok()?
        .canonical_reason()?;
    let words: String = reason
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    Some(Ident::new(&words.to_upper_camel_case(), Span::call_site()))
}

#[cfg(test)]
mod tests {
    use super::variant;

    #[test]
    fn variant_names_come_from_reason_phrases() {
        let name = |status| variant(status).map(|ident| ident.to_string());
        assert_eq!(name(200).as_deref(), Some("Ok"));
        assert_eq!(name(404).as_deref(), Some("NotFound"));
        assert_eq!(name(413).as_deref(), Some("PayloadTooLarge"));
        assert_eq!(name(415).as_deref(), Some("UnsupportedMediaType"));
        assert_eq!(name(299), None);
    }
}
