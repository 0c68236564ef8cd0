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
                Source::Header(parameter) if argument.optional => {
                    quote!(optional(&arguments.headers, #parameter)?)
                }
                Source::Header(parameter) => quote!(required(&arguments.headers, #parameter)?),
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
        let bodyless = crate::model::bodyless_errors(operation);
        quote! {
            #id => {
                #(#reads)*
                answer(client.#ident(#(#passes),*).await, &[#(#bodyless),*])
            }
        }
    });
    quote! {
        /// Every operation callable by its operationId with JSON arguments, through the typed
        /// method: what a contract runner drives the client with.
        pub mod dispatch {
            use super::{Client, Error, ResponseValue};

            pub use ::api_description::{Answer, Arguments, DispatchError};

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

            /// The typed call's answer; `bodyless` lists the error statuses the operation
            /// documents without a body, which the client returns as unexpected.
            fn answer<T: ::serde::Serialize, E: ::serde::Serialize + ::std::fmt::Debug>(
                result: ::std::result::Result<ResponseValue<T>, Error<E>>,
                bodyless: &[u16],
            ) -> ::std::result::Result<Answer, DispatchError> {
                match result {
                    ::std::result::Result::Ok(value) => ::std::result::Result::Ok(encode(true, value)),
                    ::std::result::Result::Err(Error::ErrorResponse(value)) => {
                        ::std::result::Result::Ok(encode(false, value))
                    }
                    ::std::result::Result::Err(Error::UnexpectedResponse(response))
                        if bodyless.contains(&response.status().as_u16()) =>
                    {
                        ::std::result::Result::Ok(Answer {
                            status: response.status().as_u16(),
                            success: false,
                            body: ::serde_json::Value::Null,
                        })
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

/// How the generated `API` makes a typed client for a base URL and token.
pub(crate) enum Connect<'a> {
    /// Through this crate function, `fn(&str, Option<&str>) -> Result<Client, impl Display>`.
    Function(&'a syn::Path),
    /// With a `reqwest::Client` of default settings (a client without hooks).
    Plain,
}

/// `API`: the API as generic tools take it (`api_description::Api`), and the client as its
/// `Caller`.
pub(crate) fn api(
    operations: &[Operation],
    title: &str,
    types: &syn::Path,
    error_types: &[(String, TokenStream)],
    connect: Connect<'_>,
    schemars_feature: Option<&str>,
) -> TokenStream {
    let connect = match connect {
        Connect::Function(function) => quote! {
            #function(base_url, token)
                .map(|client| ::std::boxed::Box::new(client) as ::std::boxed::Box<dyn ::api_description::Caller>)
                .map_err(|error| error.to_string())
        },
        Connect::Plain => quote! {
            let mut headers = ::reqwest::header::HeaderMap::new();
            if let ::std::option::Option::Some(token) = token {
                let mut value = ::reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|error| error.to_string())?;
                value.set_sensitive(true);
                headers.insert(::reqwest::header::AUTHORIZATION, value);
            }
            let http = ::reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .map_err(|error| error.to_string())?;
            ::std::result::Result::Ok(::std::boxed::Box::new(Client::new_with_client(base_url, http)))
        },
    };
    let decoders = error_types.iter().map(|(id, ty)| {
        quote! {
            #id => ::serde_json::from_slice::<#ty>(body)
                .map(|_| ())
                .map_err(|error| error.to_string()),
        }
    });
    let without: Vec<&String> = operations
        .iter()
        .map(|operation| &operation.id)
        .filter(|id| !error_types.iter().any(|(with, _)| with == *id))
        .collect();
    let without = (!without.is_empty()).then(|| {
        quote! {
            #(#without)|* => ::std::result::Result::Err(format!("{operation_id} documents no error body")),
        }
    });
    let derived = quote! {
        #types::component_schemas()
            .into_iter()
            .map(|(name, schema)| {
                (name, ::serde_json::to_value(schema).expect("a JSON Schema serialises"))
            })
            .collect()
    };
    let derived = match schemars_feature {
        Some(feature) => quote! {
            #[cfg(feature = #feature)]
            {
                #derived
            }
            #[cfg(not(feature = #feature))]
            {
                ::std::vec::Vec::new()
            }
        },
        None => derived,
    };
    quote! {
        /// This API as generic tools take it (the contract checks, say): its description, a typed
        /// client for any base URL ([`Caller`](::api_description::Caller), calling by
        /// operationId through [`dispatch::call`]), error bodies decoded as this client decodes
        /// them, and the JSON Schema its types derive.
        pub static API: ::api_description::Api = ::api_description::Api {
            title: #title,
            operations: #types::OPERATIONS,
            schema_definitions: #types::SCHEMA_DEFINITIONS,
            contract: #types::CONTRACT,
            security_schemes: #types::SECURITY_SCHEMES,
            connect: api_connect,
            decode_error: api_decode_error,
            derived_schemas: api_derived_schemas,
        };

        impl ::api_description::Caller for Client {
            fn call<'a>(
                &'a self,
                operation_id: &'a str,
                arguments: &'a dispatch::Arguments,
            ) -> ::api_description::CallFuture<'a> {
                ::std::boxed::Box::pin(dispatch::call(self, operation_id, arguments))
            }
        }

        fn api_connect(
            base_url: &str,
            token: ::std::option::Option<&str>,
        ) -> ::std::result::Result<::std::boxed::Box<dyn ::api_description::Caller>, ::std::string::String> {
            #connect
        }

        fn api_decode_error(operation_id: &str, body: &[u8]) -> ::std::result::Result<(), ::std::string::String> {
            match operation_id {
                #(#decoders)*
                #without
                other => ::std::result::Result::Err(format!("the spec has no operation {other}")),
            }
        }

        fn api_derived_schemas() -> ::std::vec::Vec<(&'static str, ::serde_json::Value)> {
            #derived
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
