//! Turns an OpenAPI 3.0 document into formatted Rust sources.
//!
//! Three files come out of one document, see [`generate`]:
//! - **types**: every component schema as a Rust type (typify, through progenitor so that the
//!   client sees exactly the same types), with serde and `schemars::JsonSchema` derives;
//! - **client**: a progenitor client whose every schema type is replaced by the types crate's;
//! - **server**: per operation a trait method and a typed response enum, plus an axum router
//!   (see [`server`]).
//!
//! Nothing here knows about a particular endpoint: everything comes from the document. The
//! only inputs besides the document are names, in [`Settings`].

mod server;

use std::fmt;

use proc_macro2::TokenStream;

/// Names that the document cannot provide.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The crate that holds the generated types, as client and server code names it
    /// (`nexudus_types`).
    pub types_crate: String,
    /// The name of the server trait (`NexudusBillingApi`).
    pub server_trait: String,
    /// The document's path as shown in the `@generated` header.
    pub spec_path: String,
    /// The command that regenerates the files, shown in the `@generated` header.
    pub command: String,
}

/// The generated sources, each a complete, formatted Rust file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The shared types.
    pub types: String,
    /// The client, using the shared types.
    pub client: String,
    /// The server trait, response enums and router.
    pub server: String,
}

/// Why the document could not be turned into code.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The document is not valid YAML or JSON.
    #[error("the OpenAPI document could not be read")]
    Spec(#[from] spec_schema::SpecError),
    /// The document is not an OpenAPI 3.0 document.
    #[error("the document is not a valid OpenAPI 3.0 document")]
    OpenApi(#[source] serde_json::Error),
    /// progenitor refused the document.
    #[error("progenitor could not generate code: {0}")]
    Progenitor(String),
    /// A generated token stream does not parse as Rust (a generator bug).
    #[error("the generated {what} is not valid Rust")]
    Syntax {
        /// Which file.
        what: &'static str,
        /// What syn said.
        #[source]
        source: syn::Error,
    },
    /// The document uses something the server generator does not support.
    #[error("operation `{operation}`: {message}")]
    Unsupported {
        /// The operationId.
        operation: String,
        /// What is not supported and why.
        message: String,
    },
}

/// Generates the three sources from the text of an OpenAPI 3.0 document (YAML or JSON).
pub fn generate(spec_text: &str, settings: &Settings) -> Result<Generated, CodegenError> {
    let spec = spec_schema::Spec::from_yaml(spec_text)?;
    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(spec.document().clone()).map_err(CodegenError::OpenApi)?;

    // The server generator checks the document's shape first: progenitor panics on some of the
    // specs it refuses (several error body types), and a message beats a panic.
    let server = server::generate(&openapi, &spec, settings)?;
    let types = generate_types(&openapi)?;
    let client = generate_client(&openapi, settings)?;

    let header = Header(settings);
    Ok(Generated {
        types: format_file(&header, "types", types)?,
        client: format_file(&header, "client", client)?,
        server: format_file(&header, "server", server)?,
    })
}

fn generate_types(openapi: &openapiv3::OpenAPI) -> Result<TokenStream, CodegenError> {
    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_derive("PartialEq")
        .with_derive("::schemars::JsonSchema");
    let mut generator = progenitor::Generator::new(&settings);
    // Generating the client is what makes progenitor add every schema to its type space; the
    // client itself is discarded here and generated again, against the types crate, below.
    generator
        .generate_tokens(openapi)
        .map_err(|error| CodegenError::Progenitor(error.to_string()))?;
    let types = generator.get_type_space().to_stream();
    // Every component schema with the JSON Schema its Rust type derives, so that a test can
    // compare the types against the spec without knowing their names.
    let names = schema_names(openapi);
    // typify names a type after its schema, in UpperCamelCase.
    let idents = names.iter().map(|name| {
        syn::Ident::new(
            &heck::ToUpperCamelCase::to_upper_camel_case(name.as_str()),
            proc_macro2::Span::call_site(),
        )
    });
    Ok(quote::quote! {
        #types

        /// Every component schema of the spec, by name, with the JSON Schema that its type's
        /// `schemars::JsonSchema` derive produces.
        pub fn component_schemas() -> ::std::vec::Vec<(&'static str, ::schemars::schema::RootSchema)> {
            ::std::vec![#((#names, ::schemars::schema_for!(#idents))),*]
        }
    })
}

fn generate_client(
    openapi: &openapiv3::OpenAPI,
    settings: &Settings,
) -> Result<TokenStream, CodegenError> {
    let mut generation = progenitor::GenerationSettings::new();
    generation.with_interface(progenitor::InterfaceStyle::Positional);
    for name in schema_names(openapi) {
        generation.with_replacement(
            &name,
            format!("::{}::{}", settings.types_crate, name),
            std::iter::empty(),
        );
    }
    progenitor::Generator::new(&generation)
        .generate_tokens(openapi)
        .map_err(|error| CodegenError::Progenitor(error.to_string()))
}

fn schema_names(openapi: &openapiv3::OpenAPI) -> Vec<String> {
    openapi
        .components
        .iter()
        .flat_map(|components| components.schemas.keys().cloned())
        .collect()
}

struct Header<'a>(&'a Settings);

impl fmt::Display for Header<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "// @generated by `{}` from {}. Do not edit by hand: edit the spec and run the command.",
            self.0.command, self.0.spec_path
        )
    }
}

fn format_file(
    header: &Header<'_>,
    what: &'static str,
    tokens: TokenStream,
) -> Result<String, CodegenError> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|source| CodegenError::Syntax { what, source })?;
    Ok(format!("{header}\n{}", prettyplease::unparse(&file)))
}
