//! The API's description as data, written into the types file: each operation as the spec
//! states it (`operations::NAME`), `OPERATIONS`, `SECURITY_SCHEMES` and the root `x-contract`, as
//! `api_description` constants that the server, the client's `API` and generic tools share.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::model::{Location, Operation, Response};

/// The constant of the operation whose client method is `method` (`operations::NAME`).
pub(crate) fn constant(method: &Ident) -> Ident {
    format_ident!(
        "{}",
        method.to_string().trim_start_matches('_').to_uppercase()
    )
}

/// The description, for operations each with its constant's name.
pub(crate) fn generate(
    operations: &[(&Operation, Ident)],
    contract: &Value,
    security_schemes: &[crate::model::SecurityScheme],
) -> TokenStream {
    let constants = operations
        .iter()
        .map(|(operation, constant)| operation_constant(operation, constant));
    let constant_idents = operations.iter().map(|(_, constant)| constant);
    let security_schemes = security_schemes.iter().map(security_scheme);
    let contract = json_text(contract);
    quote! {
        /// The operations of the spec, as it states them.
        pub mod operations {
            #(#constants)*
        }

        /// Every operation of the spec.
        pub const OPERATIONS: &[&::api_description::Operation] = &[#(&operations::#constant_idents),*];

        /// The security schemes of the spec (`components.securitySchemes`).
        pub const SECURITY_SCHEMES: &[::api_description::SecurityScheme] = &[#(#security_schemes),*];

        /// The document's root `x-contract` extension as JSON text (`null` when it has none):
        /// what the spec says of requests no operation documents, for contract tools.
        pub const CONTRACT: &str = #contract;
    }
}

/// `operations::NAME`: the operation as the spec states it.
fn operation_constant(operation: &Operation, constant: &Ident) -> TokenStream {
    let (id, method, path) = (&operation.id, &operation.method, &operation.path);
    let request_schema = option(operation.request_schema.as_deref());
    let request_format = format_ident!("{}", operation.request_format.variant());
    let security = operation.security.iter().map(|(scheme, scopes)| {
        quote!(::api_description::SecurityRequirement { scheme: #scheme, scopes: &[#(#scopes),*] })
    });
    let parameters = operation.parameters.iter().map(|parameter| {
        let name = &parameter.name;
        let location = match parameter.location {
            Location::Path => quote!(Path),
            Location::Query => quote!(Query),
            Location::Header => quote!(Header),
        };
        let required = parameter.required;
        let schema = json_text(&parameter.schema);
        quote! {
            ::api_description::Parameter {
                name: #name,
                location: ::api_description::ParameterLocation::#location,
                required: #required,
                schema: #schema,
            }
        }
    });
    let responses = operation.responses.iter().map(response_constant);
    let contract = json_text(&operation.contract);
    let doc = format!("`{method} {path}` ({id}).");
    quote! {
        #[doc = #doc]
        pub const #constant: ::api_description::Operation = ::api_description::Operation {
            operation_id: #id,
            method: #method,
            path: #path,
            parameters: &[#(#parameters),*],
            request_schema: #request_schema,
            request_format: ::api_description::BodyFormat::#request_format,
            security: &[#(#security),*],
            responses: &[#(#responses),*],
            contract: #contract,
        };
    }
}

fn response_constant(response: &Response) -> TokenStream {
    let status = response.status;
    let schema = option(response.schema.as_deref());
    let links = response.links.iter().map(|link| {
        let (name, operation_id) = (&link.name, &link.operation_id);
        let parameters = json_text(&link.parameters);
        let request_body = json_text(&link.request_body);
        quote! {
            ::api_description::Link {
                name: #name,
                operation_id: #operation_id,
                parameters: #parameters,
                request_body: #request_body,
            }
        }
    });
    let contract = json_text(&response.contract);
    let headers = &response.headers;
    let media_types = &response.media_types;
    quote! {
        ::api_description::Response {
            status: #status,
            schema: #schema,
            media_types: &[#(#media_types),*],
            links: &[#(#links),*],
            headers: &[#(#headers),*],
            contract: #contract,
        }
    }
}

/// `components.securitySchemes` entry as an `api_description::SecurityScheme`.
fn security_scheme(scheme: &crate::model::SecurityScheme) -> TokenStream {
    let name = &scheme.name;
    let kind = format_ident!("{}", scheme.kind);
    let token_url = option(scheme.password_token_url.as_deref());
    let refresh_url = option(scheme.refresh_url.as_deref());
    quote! {
        ::api_description::SecurityScheme {
            name: #name,
            kind: ::api_description::SchemeKind::#kind,
            password_token_url: #token_url,
            refresh_url: #refresh_url,
        }
    }
}

fn option(value: Option<&str>) -> TokenStream {
    match value {
        Some(value) => quote!(::std::option::Option::Some(#value)),
        None => quote!(::std::option::Option::None),
    }
}

/// A JSON value as the text of a string literal.
fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}
