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
    Header(String),
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
                Source::Header(parameter) => location == Location::Header && parameter == name,
                Source::Body => false,
            })
    }
}

/// The generated client's method of each operation, read from the client's code: the method
/// whose body sends the operation's HTTP method (`self.client.get(url)`) to a URL formatted
/// from the operation's path (`format!("{}/path/{}", self.baseurl, encode_path(&id..))`), its
/// arguments matched to the path parameters (by the argument each slot of the URL is filled
/// from), the query parameters (by the name each `QueryParam` sends) and the body. What the code
/// does, not what its documentation says: a reworded doc comment changes nothing, and code that
/// no longer has this shape finds no method and fails codegen by name.
pub(crate) fn client_methods(
    client: &syn::File,
    operations: &[Operation],
) -> Result<BTreeMap<String, Method>, CodegenError> {
    let mut found: BTreeMap<(String, String), Vec<Candidate>> = BTreeMap::new();
    for item in &client.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for item in &block.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            let body = quote::ToTokens::to_token_stream(&function.block);
            if let Some(sends) = sends(&body) {
                found
                    .entry((sends.method.clone(), sends.path.clone()))
                    .or_default()
                    .push((function.sig.clone(), body, sends));
            }
        }
    }
    let mut methods = BTreeMap::new();
    for operation in operations {
        let key = (operation.method.to_lowercase(), slots(&operation.path));
        let (signature, body, sends) = match found.remove(&key).as_deref() {
            Some([one]) => one.clone(),
            Some(_) => {
                return Err(operation.unsupported(format!(
                    "several generated client methods send `{} {}`",
                    operation.method, operation.path
                )));
            }
            None => {
                return Err(operation.unsupported("progenitor generated no client method for it"));
            }
        };
        methods.insert(
            operation.id.clone(),
            method(operation, &signature, &body, &sends)?,
        );
    }
    Ok(methods)
}

/// A generated method: its signature, its body, and what the body sends.
type Candidate = (syn::Signature, TokenStream, Sends);

/// What a generated method's body sends.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sends {
    /// The HTTP method, lower case, as the `reqwest::Client` method called with the URL.
    method: String,
    /// The path, each parameter's slot written `{}`.
    path: String,
    /// The argument each slot is filled from, in order.
    path_arguments: Vec<String>,
}

/// A path template with each `{name}` written `{}`.
fn slots(path: &str) -> String {
    let mut slotted = String::with_capacity(path.len());
    let mut in_name = false;
    for character in path.chars() {
        match character {
            '{' => in_name = true,
            '}' if in_name => {
                in_name = false;
                slotted.push_str("{}");
            }
            _ if in_name => {}
            _ => slotted.push(character),
        }
    }
    slotted
}

/// The request a method's body sends: the URL from `format!("{}…", self.baseurl, …)` and the
/// HTTP method from `.<method>(url)`; `None` for a body that sends no such request.
fn sends(body: &TokenStream) -> Option<Sends> {
    let (path, path_arguments) = find_url(body)?;
    let method = find_method_call(body)?;
    Some(Sends {
        method,
        path,
        path_arguments,
    })
}

/// The path and slot arguments of the first `format!("{}…", self.baseurl, …)` in `tokens`.
fn find_url(tokens: &TokenStream) -> Option<(String, Vec<String>)> {
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        let TokenTree::Group(group) = token else {
            continue;
        };
        let is_format = index >= 2
            && matches!(&tokens[index - 1], TokenTree::Punct(bang) if bang.as_char() == '!')
            && matches!(&tokens[index - 2], TokenTree::Ident(ident) if ident == "format");
        if is_format && let Some(url) = url_arguments(&group.stream()) {
            return Some(url);
        }
        if let Some(url) = find_url(&group.stream()) {
            return Some(url);
        }
    }
    None
}

/// The arguments of `format!`, when they are `"{}path", self.baseurl, encode_path(&a…), …`.
fn url_arguments(arguments: &TokenStream) -> Option<(String, Vec<String>)> {
    let mut split: Vec<Vec<TokenTree>> = vec![Vec::new()];
    for token in arguments.clone() {
        match &token {
            TokenTree::Punct(comma) if comma.as_char() == ',' => split.push(Vec::new()),
            _ => split.last_mut().expect("never empty").push(token),
        }
    }
    let [TokenTree::Literal(template)] = split.first()?.as_slice() else {
        return None;
    };
    let path = string_literal(template)?.strip_prefix("{}")?.to_owned();
    let base: Vec<String> = split.get(1)?.iter().map(ToString::to_string).collect();
    if base != ["self", ".", "baseurl"] {
        return None;
    }
    let mut path_arguments = Vec::new();
    for argument in split.iter().skip(2).filter(|argument| !argument.is_empty()) {
        // `encode_path(&ident.to_string())`: the first identifier inside the call.
        let inner = argument.iter().find_map(|token| match token {
            TokenTree::Group(group) => Some(group.stream()),
            _ => None,
        })?;
        let ident = inner.into_iter().find_map(|token| match token {
            TokenTree::Ident(ident) => Some(ident.to_string()),
            _ => None,
        })?;
        path_arguments.push(ident);
    }
    (path.matches("{}").count() == path_arguments.len()).then_some((path, path_arguments))
}

/// The `<method>` of the first `.<method>(url)` call in `tokens`.
fn find_method_call(tokens: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        let TokenTree::Group(group) = token else {
            continue;
        };
        let is_url_call = index >= 2
            && group.delimiter() == proc_macro2::Delimiter::Parenthesis
            && group.stream().to_string() == "url"
            && matches!(&tokens[index - 2], TokenTree::Punct(dot) if dot.as_char() == '.');
        if is_url_call && let TokenTree::Ident(method) = &tokens[index - 1] {
            return Some(method.to_string());
        }
        if let Some(method) = find_method_call(&group.stream()) {
            return Some(method);
        }
    }
    None
}

fn method(
    operation: &Operation,
    signature: &syn::Signature,
    body: &TokenStream,
    sends: &Sends,
) -> Result<Method, CodegenError> {
    let unexpected = |what: String| {
        CodegenError::Progenitor(format!(
            "operation `{}`: the generated client method {what}",
            operation.id
        ))
    };
    let query_sent = query_parameters(body);
    let headers_sent = header_parameters(body);
    let path_sent: BTreeMap<&str, &str> = sends
        .path_arguments
        .iter()
        .map(String::as_str)
        .zip(template_names(&operation.path))
        .collect();
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
        } else if let Some(name) = headers_sent.get(&ident.to_string()) {
            Source::Header(name.clone())
        } else if let Some(name) = path_sent.get(ident.to_string().as_str()) {
            Source::Path((*name).to_owned())
        } else if ident == "body" && operation.request_schema.is_some() {
            Source::Body
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

/// The header each argument is sent in: `header_map.append("name", argument.to_string()…)` for
/// a required one, the same inside `if let Some(value) = argument { … }` for an optional one.
fn header_parameters(body: &TokenStream) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    collect_header_parameters(body, &mut found);
    found
}

fn collect_header_parameters(body: &TokenStream, found: &mut BTreeMap<String, String>) {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    for (index, token) in tokens.iter().enumerate() {
        if let Some((name, argument)) = header_append(&tokens, index)
            && argument != "value"
        {
            found.insert(argument, name);
        }
        // `Some (value) = argument { … }`: the optional argument of the appends inside.
        if let [
            TokenTree::Ident(some),
            TokenTree::Group(value),
            TokenTree::Punct(equals),
            TokenTree::Ident(argument),
            TokenTree::Group(block),
            ..,
        ] = &tokens[index..]
            && some == "Some"
            && value.stream().to_string() == "value"
            && equals.as_char() == '='
        {
            let inner: Vec<TokenTree> = block.stream().into_iter().collect();
            for at in 0..inner.len() {
                if let Some((name, sent)) = header_append(&inner, at)
                    && sent == "value"
                {
                    found.insert(argument.to_string(), name);
                }
            }
        }
        if let TokenTree::Group(group) = token {
            collect_header_parameters(&group.stream(), found);
        }
    }
}

/// At `tokens[index]`, `header_map.append("name", argument …)`: the name and the argument.
fn header_append(tokens: &[TokenTree], index: usize) -> Option<(String, String)> {
    let [
        TokenTree::Ident(map),
        TokenTree::Punct(dot),
        TokenTree::Ident(append),
        TokenTree::Group(call),
        ..,
    ] = &tokens[index..]
    else {
        return None;
    };
    if map != "header_map" || dot.as_char() != '.' || append != "append" {
        return None;
    }
    let inner: Vec<TokenTree> = call.stream().into_iter().collect();
    let [
        TokenTree::Literal(name),
        TokenTree::Punct(comma),
        TokenTree::Ident(argument),
        ..,
    ] = inner.as_slice()
    else {
        return None;
    };
    (comma.as_char() == ',').then_some((string_literal(name)?, argument.to_string()))
}

fn string_literal(literal: &proc_macro2::Literal) -> Option<String> {
    match syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into()) {
        Ok(literal) => Some(literal.value()),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> TokenStream {
        let block: syn::Block = syn::parse_str(code).expect("a block");
        quote::ToTokens::to_token_stream(&block)
    }

    #[test]
    fn a_template_becomes_its_slots() {
        assert_eq!(
            slots("/things/{thing-id}/parts/{part}"),
            "/things/{}/parts/{}"
        );
        assert_eq!(slots("/things"), "/things");
    }

    #[test]
    fn what_a_method_sends_is_read_from_its_code() {
        let sent = sends(&body(
            r#"{
                let url = format!(
                    "{}/things/{}/parts/{}", self.baseurl, encode_path(&thing_id.to_string()),
                    encode_path(&part.to_string()),
                );
                let mut request = self.client.delete(url).header(ACCEPT, "json").build()?;
                let result = self.exec(request, &info).await;
                result
            }"#,
        ));
        assert_eq!(
            sent,
            Some(Sends {
                method: "delete".into(),
                path: "/things/{}/parts/{}".into(),
                path_arguments: vec!["thing_id".into(), "part".into()],
            })
        );
    }

    #[test]
    fn a_body_that_sends_nothing_to_the_base_url_is_no_method() {
        for code in [
            r#"{ let url = format!("{}/things", other); self.client.get(url) }"#,
            r#"{ let url = format!("/things{}", self.baseurl); self.client.get(url) }"#,
            r#"{ let url = format!("{}/things", self.baseurl,); self.client.get(&url) }"#,
            r#"{ self.baseurl.as_str() }"#,
        ] {
            assert_eq!(sends(&body(code)), None, "{code}");
        }
    }
}
