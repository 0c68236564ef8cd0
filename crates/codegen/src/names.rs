//! Rust names, taken from what the code is generated from, never made up from the document's
//! strings: a component schema's type name from progenitor's type space (typify's), an
//! operation's method and argument names from the generated client itself. Schema and operation
//! names with `-`, `.` or `_` then need no rule of their own here, and client, server and
//! dispatch cannot disagree on a name.

use std::collections::BTreeMap;

use proc_macro2::{TokenStream, TokenTree};

use crate::{
    CodegenError,
    model::{Location, Operation, template_names},
};

/// The Rust type name of each component schema, in the document's order.
pub(crate) fn type_names(
    type_space: &typify::TypeSpace,
    schemas: &[String],
) -> Result<BTreeMap<String, String>, CodegenError> {
    // typify gives the component schemas, added first and together, the first type ids in the
    // document's order (`TypeSpace::add_ref_types`); `iter_types` walks the ids in order.
    let types: Vec<typify::Type<'_>> = type_space.iter_types().take(schemas.len()).collect();
    if types.len() != schemas.len() {
        return Err(CodegenError::Progenitor(format!(
            "the type space holds {} types for {} component schemas",
            types.len(),
            schemas.len()
        )));
    }
    schemas
        .iter()
        .zip(types)
        .map(|(schema, ty)| {
            let named = matches!(
                ty.details(),
                typify::TypeDetails::Struct(_)
                    | typify::TypeDetails::Enum(_)
                    | typify::TypeDetails::Newtype(_)
            );
            if !named {
                return Err(CodegenError::Unsupported {
                    operation: "*".into(),
                    message: format!("component schema `{schema}` did not become a named type"),
                });
            }
            Ok((schema.clone(), ty.name()))
        })
        .collect()
}

/// What a value passed to a client method stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Path(String),
    Query(String),
    Body,
}

/// One argument of a generated client method.
#[derive(Debug, Clone)]
pub(crate) struct Argument {
    pub(crate) ident: syn::Ident,
    pub(crate) source: Source,
    /// Passed as `&T` (or `Option<&T>`).
    pub(crate) by_ref: bool,
    /// Of type `Option<_>`.
    pub(crate) optional: bool,
}

/// A generated client method.
#[derive(Debug, Clone)]
pub(crate) struct Method {
    pub(crate) ident: syn::Ident,
    pub(crate) arguments: Vec<Argument>,
}

impl Method {
    /// The argument standing for a parameter.
    pub(crate) fn parameter(&self, location: Location, name: &str) -> Option<&Argument> {
        self.arguments
            .iter()
            .find(|argument| match &argument.source {
                Source::Path(parameter) => location == Location::Path && parameter == name,
                Source::Query(parameter) => location == Location::Query && parameter == name,
                Source::Body => false,
            })
    }
}

/// The generated client's method of each operation, read from the client's code: the method
/// whose documentation says it sends the operation's method to its path (progenitor writes
/// "Sends a `GET` request to `/path/{id}`" on every method), its arguments matched to the path
/// parameters (in the template's order, first), the query parameters (by the name each
/// `QueryParam` sends) and the body.
pub(crate) fn client_methods(
    client: &syn::File,
    operations: &[Operation],
) -> Result<BTreeMap<String, Method>, CodegenError> {
    let mut found: BTreeMap<String, Vec<(syn::Signature, TokenStream)>> = BTreeMap::new();
    for item in &client.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for item in &block.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            let body = quote::ToTokens::to_token_stream(&function.block);
            for line in documentation(&function.attrs).lines() {
                if line.starts_with("Sends a `") {
                    found
                        .entry(line.to_owned())
                        .or_default()
                        .push((function.sig.clone(), body.clone()));
                }
            }
        }
    }
    let mut methods = BTreeMap::new();
    for operation in operations {
        let line = format!(
            "Sends a `{}` request to `{}`",
            operation.method, operation.path
        );
        let (signature, body) = match found.remove(&line).as_deref() {
            Some([one]) => one.clone(),
            Some(_) => {
                return Err(operation
                    .unsupported(format!("several generated client methods say \"{line}\"")));
            }
            None => {
                return Err(operation.unsupported("progenitor generated no client method for it"));
            }
        };
        methods.insert(operation.id.clone(), method(operation, &signature, &body)?);
    }
    Ok(methods)
}

/// The text of a method's `#[doc = "..."]` attributes.
fn documentation(attributes: &[syn::Attribute]) -> String {
    attributes
        .iter()
        .filter(|attribute| attribute.path().is_ident("doc"))
        .filter_map(|attribute| match &attribute.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn method(
    operation: &Operation,
    signature: &syn::Signature,
    body: &TokenStream,
) -> Result<Method, CodegenError> {
    let unexpected = |what: String| {
        CodegenError::Progenitor(format!(
            "operation `{}`: the generated client method {what}",
            operation.id
        ))
    };
    let query_sent = query_parameters(body);
    let mut path_names = template_names(&operation.path);
    let mut arguments = Vec::new();
    for input in &signature.inputs {
        let syn::FnArg::Typed(typed) = input else {
            continue;
        };
        let syn::Pat::Ident(pattern) = typed.pat.as_ref() else {
            return Err(unexpected(
                "has an argument that is not a plain name".into(),
            ));
        };
        let ident = pattern.ident.clone();
        let (optional, by_ref) = shape(&typed.ty);
        let source = if let Some(name) = query_sent.get(&ident.to_string()) {
            Source::Query(name.clone())
        } else if ident == "body" && operation.request_schema.is_some() {
            Source::Body
        } else if let Some(name) = path_names.next() {
            Source::Path(name.to_owned())
        } else {
            return Err(unexpected(format!(
                "has an argument `{ident}` that matches no parameter"
            )));
        };
        arguments.push(Argument {
            ident,
            source,
            by_ref,
            optional,
        });
    }
    let method = Method {
        ident: signature.ident.clone(),
        arguments,
    };
    for parameter in &operation.parameters {
        if method
            .parameter(parameter.location, &parameter.name)
            .is_none()
        {
            return Err(unexpected(format!(
                "takes no argument for `{}`",
                parameter.name
            )));
        }
    }
    Ok(method)
}

/// Whether a type is `Option<_>`, and whether (inside it) it is a reference.
fn shape(ty: &syn::Type) -> (bool, bool) {
    if let syn::Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(arguments) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = arguments.args.first()
    {
        return (true, matches!(inner, syn::Type::Reference(_)));
    }
    (false, matches!(ty, syn::Type::Reference(_)))
}

/// Argument ident to the query parameter name it is sent as, from the body's
/// `QueryParam::new("name", &ident)` calls.
fn query_parameters(body: &TokenStream) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    collect_query_parameters(body, &mut found);
    found
}

fn collect_query_parameters(body: &TokenStream, found: &mut BTreeMap<String, String>) {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        let TokenTree::Group(group) = token else {
            continue;
        };
        let is_query_param_new = index >= 4
            && matches!(&tokens[index - 1], TokenTree::Ident(ident) if ident == "new")
            && matches!(&tokens[index - 4], TokenTree::Ident(ident) if ident == "QueryParam");
        if is_query_param_new {
            let inner: Vec<TokenTree> = group.stream().into_iter().collect();
            if let [
                TokenTree::Literal(name),
                TokenTree::Punct(comma),
                TokenTree::Punct(ampersand),
                TokenTree::Ident(ident),
            ] = inner.as_slice()
                && comma.as_char() == ','
                && ampersand.as_char() == '&'
                && let Some(name) = string_literal(name)
            {
                found.insert(ident.to_string(), name);
            }
        }
        collect_query_parameters(&group.stream(), found);
    }
}

fn string_literal(literal: &proc_macro2::Literal) -> Option<String> {
    match syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into()) {
        Ok(literal) => Some(literal.value()),
        Err(_) => None,
    }
}
