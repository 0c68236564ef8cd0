//! What the generated types refuse names the property it is about: numbers that JSON cannot
//! write are refused when serialising (never written as `null`), and the newtypes' conversion
//! errors and the builders' errors start with the property's name.
//!
//! serde_json writes `NaN` and the infinities as `null` (not configurable), so a struct with
//! `price: Some(f64::NAN)` would go out as `"Price": null` and the price would be lost without
//! an error anywhere. Every named field of a generated struct whose type is a float, or an
//! `Option` of one, gets `#[serde(serialize_with)]` with a function that fails, naming the
//! field's JSON property, on a number that is not finite.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;

/// Adds the attribute to every such field of the top-level structs in `types`, and returns the
/// module the attributes name (empty when no field needs it).
pub(crate) fn require_finite(types: &mut syn::File) -> TokenStream {
    // One function per JSON property name, shared by the structs that have it.
    let mut functions: BTreeMap<String, syn::Ident> = BTreeMap::new();
    for item in &mut types.items {
        let syn::Item::Struct(item) = item else {
            continue;
        };
        let syn::Fields::Named(fields) = &mut item.fields else {
            continue;
        };
        for field in &mut fields.named {
            if !is_float(&field.ty) {
                continue;
            }
            let name = json_name(field);
            let count = functions.len();
            let function = functions
                .entry(name)
                .or_insert_with(|| format_ident!("property_{count}"));
            let path = format!("finite_numbers::{function}");
            field
                .attrs
                .push(syn::parse_quote!(#[serde(serialize_with = #path)]));
        }
    }
    if functions.is_empty() {
        return TokenStream::new();
    }
    let functions = functions.iter().map(|(name, function)| {
        quote! {
            pub(super) fn #function<T, S>(value: &T, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                T: Finite + ::serde::Serialize,
                S: ::serde::Serializer,
            {
                finite(value, #name, serializer)
            }
        }
    });
    quote! {
        /// Float fields are serialised only when finite: JSON has no NaN or infinity, and
        /// serde_json would write them as `null`, losing the value without an error.
        mod finite_numbers {
            pub(super) trait Finite {
                fn is_finite(&self) -> bool;
            }
            impl Finite for f64 {
                fn is_finite(&self) -> bool {
                    f64::is_finite(*self)
                }
            }
            impl Finite for f32 {
                fn is_finite(&self) -> bool {
                    f32::is_finite(*self)
                }
            }
            impl<T: Finite> Finite for ::std::option::Option<T> {
                fn is_finite(&self) -> bool {
                    self.as_ref().is_none_or(Finite::is_finite)
                }
            }

            fn finite<T, S>(value: &T, property: &str, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                T: Finite + ::serde::Serialize,
                S: ::serde::Serializer,
            {
                if value.is_finite() {
                    value.serialize(serializer)
                } else {
                    ::std::result::Result::Err(<S::Error as ::serde::ser::Error>::custom(
                        ::std::format!("{property}: is not a finite number (JSON has no NaN or infinity)"),
                    ))
                }
            }

            #(#functions)*
        }
    }
}

/// `f64`, `f32`, or an `Option` of one.
fn is_float(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    match &last.arguments {
        syn::PathArguments::None => last.ident == "f64" || last.ident == "f32",
        syn::PathArguments::AngleBracketed(arguments) if last.ident == "Option" => {
            matches!(arguments.args.first(), Some(syn::GenericArgument::Type(inner)) if arguments.args.len() == 1 && is_float(inner))
        }
        _ => false,
    }
}

/// The field's JSON property: its `#[serde(rename = "..")]`, else its Rust name.
fn json_name(field: &syn::Field) -> String {
    let mut renamed = None;
    for attr in field
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("serde"))
    {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                renamed = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                // Other `key = value` entries (skip_serializing_if, default) are skipped whole.
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    renamed.unwrap_or_else(|| {
        field
            .ident
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    })
}

/// The newtypes' and the builders' errors, each starting with the JSON property it is about.
pub(crate) fn name_errors(types: &mut syn::File) {
    let named = parsed_properties(types);
    name_conversion_errors(types, &named);
    name_builder_errors(types, &named);
}

/// The errors of the newtypes' `FromStr` (typify's `longer than 2000 characters`) prefixed with
/// the JSON property the type is for (`Notes: longer than 2000 characters`), where one property
/// name is found for the type among the structs' fields.
fn name_conversion_errors(types: &mut syn::File, named: &BTreeMap<String, String>) {
    for item in &mut types.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        if !is_from_str(block) {
            continue;
        }
        let Some(property) = type_name(&block.self_ty).and_then(|ty| named.get(&ty)) else {
            continue;
        };
        for member in &mut block.items {
            if let syn::ImplItem::Fn(function) = member {
                Reletter(&|text| Some(format!("{property}: {text}")))
                    .visit_block_mut(&mut function.block);
            }
        }
    }
}

/// The builders' errors name the JSON property too, where typify names the Rust field
/// (`no value supplied for coworker_id`) and repeats what a newtype's error already says
/// (`error converting supplied value for notes: Notes: longer than 2000 characters`).
fn name_builder_errors(types: &mut syn::File, named: &BTreeMap<String, String>) {
    // Per struct, each message typify writes for a field and the one that replaces it.
    let mut messages: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for item in &types.items {
        let syn::Item::Struct(item) = item else {
            continue;
        };
        let syn::Fields::Named(fields) = &item.fields else {
            continue;
        };
        let replacements = messages.entry(item.ident.to_string()).or_default();
        for field in &fields.named {
            let Some(ident) = &field.ident else {
                continue;
            };
            let property = json_name(field);
            replacements.insert(
                format!("no value supplied for {ident}"),
                format!("{property}: no value supplied"),
            );
            let converted = if type_name(&field.ty).is_some_and(|ty| named.contains_key(&ty)) {
                "{e}".to_owned()
            } else {
                format!("{property}: {{e}}")
            };
            replacements.insert(
                format!("error converting supplied value for {ident}: {{e}}"),
                converted,
            );
        }
    }
    for item in &mut types.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = module
            .content
            .as_mut()
            .filter(|_| module.ident == "builder")
        else {
            continue;
        };
        for item in items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let Some(replacements) = type_name(&block.self_ty).and_then(|ty| messages.get(&ty))
            else {
                continue;
            };
            Reletter(&|text| replacements.get(text).cloned()).visit_item_impl_mut(block);
        }
    }
}

/// The newtypes whose conversion errors name their property: those parsed from a string
/// (`FromStr`) whose every use is a property of one JSON name, with that name.
fn parsed_properties(types: &syn::File) -> BTreeMap<String, String> {
    let mut properties: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut parsed = std::collections::BTreeSet::new();
    for item in &types.items {
        match item {
            syn::Item::Struct(item) => {
                let syn::Fields::Named(fields) = &item.fields else {
                    continue;
                };
                for field in &fields.named {
                    if let Some(ty) = type_name(&field.ty) {
                        let name = json_name(field);
                        properties
                            .entry(ty)
                            .and_modify(|known| {
                                if known.as_deref() != Some(name.as_str()) {
                                    *known = None;
                                }
                            })
                            .or_insert(Some(name));
                    }
                }
            }
            syn::Item::Impl(block) if is_from_str(block) => {
                parsed.extend(type_name(&block.self_ty));
            }
            _ => {}
        }
    }
    properties
        .into_iter()
        .filter(|(ty, _)| parsed.contains(ty))
        .filter_map(|(ty, name)| Some((ty, name?)))
        .collect()
}

fn is_from_str(block: &syn::ItemImpl) -> bool {
    block
        .trait_
        .as_ref()
        .and_then(|(_, path, _)| path.segments.last())
        .is_some_and(|segment| segment.ident == "FromStr")
}

/// The last path segment's name of `ty`, or of `T` in `Option<T>`.
fn type_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    match &last.arguments {
        syn::PathArguments::None => Some(last.ident.to_string()),
        syn::PathArguments::AngleBracketed(arguments) if last.ident == "Option" => {
            match arguments.args.first()? {
                syn::GenericArgument::Type(inner) => type_name(inner),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Replaces, in place, every string literal of a syntax tree for which its function gives a
/// replacement, those in macro calls (`format!`) too. Walking the tree rather than printing it to
/// tokens and parsing them back keeps codegen's time per operation down (`cargo xtask bench`,
/// figure 3).
struct Reletter<'a>(&'a dyn Fn(&str) -> Option<String>);

impl VisitMut for Reletter<'_> {
    fn visit_lit_str_mut(&mut self, literal: &mut syn::LitStr) {
        if let Some(text) = (self.0)(&literal.value()) {
            *literal = syn::LitStr::new(&text, literal.span());
        }
    }

    fn visit_macro_mut(&mut self, call: &mut syn::Macro) {
        call.tokens = map_strings(std::mem::take(&mut call.tokens), self.0);
    }
}

/// Every string literal in `tokens` for which `map` gives a replacement, replaced.
fn map_strings(tokens: TokenStream, map: &dyn Fn(&str) -> Option<String>) -> TokenStream {
    use proc_macro2::{Group, TokenTree};

    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), map_strings(group.stream(), map));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            TokenTree::Literal(literal) => {
                match syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into())
                    .ok()
                    .and_then(|text| map(&text.value()))
                {
                    Some(text) => TokenTree::Literal(proc_macro2::Literal::string(&text)),
                    None => TokenTree::Literal(literal),
                }
            }
            other => other,
        })
        .collect()
}
