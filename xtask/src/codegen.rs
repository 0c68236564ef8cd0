//! `cargo xtask codegen`: the one place that knows which spec produces which file.

use std::{
    fs,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, bail};

/// The spec, relative to the workspace root.
pub const SPEC: &str = "openapi/nexudus-billing.yaml";
/// The command that regenerates, as named in headers and error messages.
pub const COMMAND: &str = "cargo xtask codegen";

/// Whether to write the generated files or only compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write every file that differs.
    Write,
    /// Write nothing; fail with a diff if any file differs.
    Check,
}

/// Regenerates (or checks) every generated file and prints how long it took.
pub fn run(mode: Mode) -> anyhow::Result<()> {
    let started = Instant::now();
    let root = workspace_root();
    let stale = ensure_fresh(&root, mode)?;
    let elapsed = started.elapsed();
    match (mode, stale.is_empty()) {
        (_, true) => println!(
            "codegen: {} files up to date ({elapsed:.2?})",
            generated_files(&root)?.len()
        ),
        (Mode::Write, false) => {
            println!("codegen: wrote {} ({elapsed:.2?})", stale.join(", "))
        }
        (Mode::Check, false) => bail!(
            "generated files are stale: {}; run `{COMMAND}` and commit the result",
            stale.join(", ")
        ),
    }
    Ok(())
}

/// The workspace root: this crate lives in `<root>/xtask`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// The fixture spec, whose output is compiled and tested in `tests/fixture-api`.
pub const FIXTURE_SPEC: &str = "tests/fixture-api/openapi.yaml";

/// Every generated file with the text it must have.
pub fn generated_files(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    // The Nexudus client waits out throttling (`nexudus_client::Behaviour`); the fixture's sends.
    // nexudus-types compiles schemars only for crates that ask for it; the fixture's always.
    // The Nexudus client's `API` connects through the crate's `unchecked_client`.
    let nexudus = generate(
        root,
        SPEC,
        "::nexudus_types",
        "NexudusBillingApi",
        Some(("crate::Behaviour", "crate::unchecked_client")),
        Some("schemars"),
    )?;
    let fixture = generate(root, FIXTURE_SPEC, "crate::types", "WidgetsApi", None, None)?;
    Ok(vec![
        (
            root.join("crates/nexudus-types/src/generated.rs"),
            nexudus.types,
        ),
        (
            root.join("crates/nexudus-client/src/generated.rs"),
            nexudus.client,
        ),
        (
            root.join("crates/nexudus-server-api/src/generated.rs"),
            nexudus.server,
        ),
        (root.join("tests/fixture-api/src/types.rs"), fixture.types),
        (root.join("tests/fixture-api/src/client.rs"), fixture.client),
        (root.join("tests/fixture-api/src/server.rs"), fixture.server),
    ])
}

fn generate(
    root: &Path,
    spec: &str,
    types_path: &str,
    server_trait: &str,
    client_hooks: Option<(&str, &str)>,
    schemars_feature: Option<&str>,
) -> anyhow::Result<codegen::Generated> {
    let text = fs::read_to_string(root.join(spec)).with_context(|| format!("reading {spec}"))?;
    let settings = codegen::Settings {
        types_path: types_path.into(),
        server_trait: server_trait.into(),
        spec_path: spec.into(),
        command: COMMAND.into(),
        client_hooks: client_hooks.map(|(hooks, _)| hooks.to_owned()),
        // The client crate's constructors install a TLS provider first; progenitor's would panic.
        private_new: client_hooks.is_some(),
        api_connect: client_hooks.map(|(_, connect)| connect.to_owned()),
        schemars_feature: schemars_feature.map(str::to_owned),
    };
    codegen::generate(&text, &settings).with_context(|| format!("generating code from {spec}"))
}

/// Brings every generated file up to date (or, in check mode, prints its diff) and returns the
/// stale ones, relative to `root`.
pub fn ensure_fresh(root: &Path, mode: Mode) -> anyhow::Result<Vec<String>> {
    let mut stale = Vec::new();
    for (path, expected) in generated_files(root)? {
        let current = fs::read_to_string(&path)
            .unwrap_or_default()
            .replace("\r\n", "\n");
        if current == expected {
            continue;
        }
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        match mode {
            Mode::Write => fs::write(&path, &expected)
                .with_context(|| format!("writing {}", path.display()))?,
            Mode::Check => {
                let diff = similar::TextDiff::from_lines(&current, &expected);
                eprint!(
                    "{}",
                    diff.unified_diff().context_radius(3).header(
                        &format!("a/{name} (committed)"),
                        &format!("b/{name} (generated from {SPEC})")
                    )
                );
            }
        }
        stale.push(name);
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec edit without `cargo xtask codegen` fails plain `cargo test`.
    #[test]
    fn generated_files_are_fresh() {
        let stale = ensure_fresh(&workspace_root(), Mode::Check).unwrap();
        assert!(
            stale.is_empty(),
            "stale generated files: {stale:?}; run `{COMMAND}`"
        );
    }
}
