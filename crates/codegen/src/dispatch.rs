//! The client's dispatch: any operation called by its operationId with JSON arguments, through
//! the generated client's typed method. A contract runner drives every operation of a spec with
//! it, without a hand-written `match` per operation.

use proc_macro2::TokenStream;
use quote::quote;

use crate::{
    model::Operation,
    names::{Method, Source},
};

/// The `dispatch` module appended to the client file.
pub(crate) fn generate(
    operations: &[Operation],
    methods: &std::collections::BTreeMap<String, Method>,
) -> TokenStream {
    let arms = operations.iter().map(|operation| {
        let method = &methods[&operation.id];
        let ident = &method.ident;
        let mut reads = Vec::new();
        let mut passes = Vec::new();
        for argument in &method.arguments {
            let name = &argument.ident;
            let read = match &argument.source {
                Source::Path(parameter) => quote!(required(&arguments.path, #parameter)?),
                Source::Query(parameter) if argument.optional => {
                    quote!(optional(&arguments.query, #parameter)?)
                }
                Source::Query(parameter) => quote!(required(&arguments.query, #parameter)?),
                Source::Body => quote!(body(arguments)?),
            };
            reads.push(quote!(let #name = #read;));
            passes.push(match (argument.by_ref, argument.optional) {
                (true, true) => quote!(#name.as_ref()),
                (true, false) => quote!(&#name),
                (false, _) => quote!(#name),
            });
        }
        let id = &operation.id;
        quote! {
            #id => {
                #(#reads)*
                answer(client.#ident(#(#passes),*).await)
            }
        }
    });
    quote! {
        /// Every operation callable by its operationId with JSON arguments, through the typed
        /// method: what a contract runner drives the client with.
        pub mod dispatch {
            use super::{Client, Error, ResponseValue};

            /// The arguments of a call, as JSON: path and query parameters by name (a query
            /// parameter left out is not sent), and the body.
            #[derive(Debug, Clone, Default, PartialEq)]
            pub struct Arguments {
                /// Path parameters.
                pub path: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                /// Query parameters.
                pub query: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                /// The request body.
                pub body: ::std::option::Option<::serde_json::Value>,
            }

            /// A documented answer, decoded by the typed method into its type.
            #[derive(Debug, Clone, PartialEq)]
            pub struct Answer {
                /// The status.
                pub status: u16,
                /// Whether the method returned it as a success (`Ok`) rather than as a
                /// documented error (`Error::ErrorResponse`).
                pub success: bool,
                /// The decoded body, encoded again as JSON (`null` when there is none).
                pub body: ::serde_json::Value,
            }

            /// Why a call gave no documented answer.
            #[derive(Debug, Clone, PartialEq)]
            pub enum DispatchError {
                /// The client has no operation with this operationId.
                UnknownOperation(::std::string::String),
                /// An argument does not fit the typed method's parameter.
                Argument {
                    /// The parameter (`body` for the body).
                    name: ::std::string::String,
                    /// Why.
                    message: ::std::string::String,
                },
                /// The typed method failed: an undocumented status, an undecodable body, or
                /// no answer at all.
                Client(::std::string::String),
            }

            impl ::std::fmt::Display for DispatchError {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    match self {
                        Self::UnknownOperation(id) => write!(f, "the client has no operation {id}"),
                        Self::Argument { name, message } => {
                            write!(f, "the typed method refuses {name}: {message}")
                        }
                        Self::Client(message) => write!(f, "the typed method failed: {message}"),
                    }
                }
            }

            impl ::std::error::Error for DispatchError {}

            /// Calls the operation `operation_id` with `arguments`.
            pub async fn call(
                client: &Client,
                operation_id: &str,
                arguments: &Arguments,
            ) -> ::std::result::Result<Answer, DispatchError> {
                match operation_id {
                    #(#arms)*
                    other => ::std::result::Result::Err(DispatchError::UnknownOperation(other.to_owned())),
                }
            }

            fn decode<T: ::serde::de::DeserializeOwned>(
                name: &str,
                value: ::serde_json::Value,
            ) -> ::std::result::Result<T, DispatchError> {
                ::serde_json::from_value(value).map_err(|error| DispatchError::Argument {
                    name: name.to_owned(),
                    message: error.to_string(),
                })
            }

            fn required<T: ::serde::de::DeserializeOwned>(
                values: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
                name: &str,
            ) -> ::std::result::Result<T, DispatchError> {
                match values.get(name) {
                    ::std::option::Option::Some(value) => decode(name, value.clone()),
                    ::std::option::Option::None => ::std::result::Result::Err(DispatchError::Argument {
                        name: name.to_owned(),
                        message: "is required".to_owned(),
                    }),
                }
            }

            fn optional<T: ::serde::de::DeserializeOwned>(
                values: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
                name: &str,
            ) -> ::std::result::Result<::std::option::Option<T>, DispatchError> {
                values.get(name).map(|value| decode(name, value.clone())).transpose()
            }

            fn body<T: ::serde::de::DeserializeOwned>(
                arguments: &Arguments,
            ) -> ::std::result::Result<T, DispatchError> {
                decode("body", arguments.body.clone().unwrap_or(::serde_json::Value::Null))
            }

            fn answer<T: ::serde::Serialize, E: ::serde::Serialize + ::std::fmt::Debug>(
                result: ::std::result::Result<ResponseValue<T>, Error<E>>,
            ) -> ::std::result::Result<Answer, DispatchError> {
                match result {
                    ::std::result::Result::Ok(value) => ::std::result::Result::Ok(encode(true, value)),
                    ::std::result::Result::Err(Error::ErrorResponse(value)) => {
                        ::std::result::Result::Ok(encode(false, value))
                    }
                    ::std::result::Result::Err(error) => {
                        ::std::result::Result::Err(DispatchError::Client(error.to_string()))
                    }
                }
            }

            fn encode<T: ::serde::Serialize>(success: bool, value: ResponseValue<T>) -> Answer {
                Answer {
                    status: value.status().as_u16(),
                    success,
                    body: ::serde_json::to_value(value.into_inner()).unwrap_or(::serde_json::Value::Null),
                }
            }
        }
    }
}

/// `REQUEST_SCHEMAS`: for each operation with a JSON body, the name its method gives
/// `progenitor_client::OperationInfo` and the component schema of the body, so that a client
/// hook can check a body against the spec before it is sent.
pub(crate) fn request_schemas(
    operations: &[Operation],
    methods: &std::collections::BTreeMap<String, Method>,
) -> TokenStream {
    let entries = operations.iter().filter_map(|operation| {
        let schema = operation.request_schema.as_deref()?;
        if operation.request_format != crate::model::BodyFormat::Json {
            return None;
        }
        let method = methods[&operation.id].ident.to_string();
        Some(quote!((#method, #schema)))
    });
    quote! {
        /// For each operation with a JSON body: the method's name (as `OperationInfo` gives
        /// it) and the component schema its body must satisfy, in the types'
        /// `SCHEMA_DEFINITIONS`.
        pub const REQUEST_SCHEMAS: &[(&str, &str)] = &[#(#entries),*];
    }
}
