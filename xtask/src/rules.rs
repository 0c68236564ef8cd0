//! The rules `ARCHITECTURE.md` states that a test can check: which workspace crate each crate may
//! depend on (read from `cargo metadata`), that no generic crate depends on a generated one, and
//! that the generic crates name neither the API nor its operations. Plain `cargo test` runs
//! them.

#[cfg(test)]
pub(crate) mod tests {
    use std::{
        collections::{BTreeMap, BTreeSet},
        path::Path,
        process::Command,
    };

    use crate::codegen::{SPEC, workspace_root};

    /// Each workspace crate and the workspace crates it may depend on at run time (not dev):
    /// the table of `ARCHITECTURE.md`'s "Dependencies point one way".
    const ALLOWED: &[(&str, &[&str])] = &[
        ("api-description", &[]),
        ("spec-schema", &[]),
        ("nexudus-types", &["api-description"]),
        ("spec-strategies", &[]),
        ("server-runtime", &["api-description", "spec-schema"]),
        ("codegen", &["spec-schema"]),
        (
            "nexudus-client",
            &["api-description", "nexudus-types", "spec-schema"],
        ),
        (
            "nexudus-server-api",
            &["nexudus-types", "server-runtime", "spec-schema"],
        ),
        ("reference-server", &["nexudus-server-api", "nexudus-types"]),
        (
            "contract",
            &["api-description", "spec-schema", "spec-strategies"],
        ),
        (
            "contract-cli",
            &[
                "contract",
                "nexudus-client",
                "nexudus-server-api",
                "reference-server",
            ],
        ),
        (
            "bench",
            &[
                "codegen",
                "contract",
                "contract-cli",
                "nexudus-client",
                "nexudus-server-api",
                "nexudus-types",
                "reference-server",
                "server-runtime",
                "spec-compat",
                "spec-schema",
            ],
        ),
        ("xtask", &["codegen", "spec-compat"]),
        ("spec-compat", &["spec-schema", "spec-strategies"]),
        ("workspace-tests", &[]),
        ("downstream-check", &["nexudus-client", "nexudus-types"]),
        (
            "fixture-api",
            &["api-description", "server-runtime", "spec-schema"],
        ),
        ("loopback", &[]),
    ];

    /// `cargo metadata` of the workspace's packages.
    pub(crate) fn metadata() -> serde_json::Value {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(workspace_root())
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Every workspace crate's run-time dependencies on other workspace crates.
    fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
        let metadata = metadata();
        let packages = metadata["packages"].as_array().unwrap();
        let names: BTreeSet<&str> = packages
            .iter()
            .map(|package| package["name"].as_str().unwrap())
            .collect();
        packages
            .iter()
            .map(|package| {
                let dependencies = package["dependencies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|dependency| dependency["kind"].is_null())
                    .map(|dependency| dependency["name"].as_str().unwrap())
                    .filter(|name| names.contains(name))
                    .map(str::to_owned)
                    .collect();
                (package["name"].as_str().unwrap().to_owned(), dependencies)
            })
            .collect()
    }

    /// What breaks `allowed` in `actual`: a crate one of them lacks, and each edge `allowed`
    /// does not list.
    fn forbidden(
        actual: &BTreeMap<String, BTreeSet<String>>,
        allowed: &[(&str, &[&str])],
    ) -> Vec<String> {
        let allowed: BTreeMap<&str, BTreeSet<&str>> = allowed
            .iter()
            .map(|(name, dependencies)| (*name, dependencies.iter().copied().collect()))
            .collect();
        let mut found = Vec::new();
        for name in allowed.keys().filter(|name| !actual.contains_key(**name)) {
            found.push(format!("the table names {name}, which is gone"));
        }
        for (name, dependencies) in actual {
            let Some(allowed) = allowed.get(name.as_str()) else {
                found.push(format!("{name} is missing from the table"));
                continue;
            };
            for dependency in dependencies {
                if !allowed.contains(dependency.as_str()) {
                    found.push(format!("{name} depends on {dependency}"));
                }
            }
        }
        found
    }

    #[test]
    fn dependencies_point_the_way_the_architecture_says() {
        let found = forbidden(&workspace_dependencies(), ALLOWED);
        assert!(
            found.is_empty(),
            "ARCHITECTURE.md's dependency rules are broken: {found:?}"
        );
    }

    #[test]
    fn a_planted_forbidden_edge_is_found() {
        let mut actual = workspace_dependencies();
        assert!(forbidden(&actual, ALLOWED).is_empty());
        actual
            .get_mut("spec-schema")
            .unwrap()
            .insert("contract".into());
        actual.insert("new-crate".into(), BTreeSet::new());
        assert_eq!(
            forbidden(&actual, ALLOWED),
            [
                "new-crate is missing from the table",
                "spec-schema depends on contract"
            ]
        );
    }

    /// The crates that take any API as a value and the crates generated from a spec: no edge
    /// may lead from the first to the second, whatever the table above allows.
    const GENERIC: &[&str] = &[
        "api-description",
        "codegen",
        "server-runtime",
        "spec-schema",
        "spec-strategies",
        "spec-compat",
        "contract",
    ];
    const GENERATED: &[&str] = &[
        "nexudus-types",
        "nexudus-client",
        "nexudus-server-api",
        "fixture-api",
    ];

    /// The edges from a generic crate to a generated one, at run time, directly or through
    /// other crates.
    fn generic_to_generated(actual: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
        let mut found = Vec::new();
        for generic in GENERIC {
            let mut reached = BTreeSet::new();
            let mut frontier = vec![(*generic).to_owned()];
            while let Some(name) = frontier.pop() {
                for dependency in actual.get(&name).into_iter().flatten() {
                    if reached.insert(dependency.clone()) {
                        frontier.push(dependency.clone());
                    }
                }
            }
            for generated in GENERATED {
                if reached.contains(*generated) {
                    found.push(format!("{generic} depends on {generated}"));
                }
            }
        }
        found
    }

    #[test]
    fn no_generic_crate_depends_on_a_generated_one() {
        let actual = workspace_dependencies();
        for name in GENERIC.iter().chain(GENERATED) {
            assert!(
                actual.contains_key(*name),
                "{name} is not a workspace crate"
            );
        }
        assert_eq!(generic_to_generated(&actual), Vec::<String>::new());
        // Planted: the contract checks depending on a generated client, through another crate.
        let mut planted = actual.clone();
        planted.insert(
            "middle".into(),
            BTreeSet::from(["nexudus-client".to_owned()]),
        );
        planted.get_mut("contract").unwrap().insert("middle".into());
        assert_eq!(
            generic_to_generated(&planted),
            [
                "contract depends on nexudus-types",
                "contract depends on nexudus-client"
            ]
        );
    }

    /// The operationIds of the spec (and of its links), read from its text.
    fn operation_ids() -> BTreeSet<String> {
        let spec = std::fs::read_to_string(workspace_root().join(SPEC)).unwrap();
        spec.lines()
            .filter_map(|line| line.trim().strip_prefix("operationId:"))
            .map(|id| id.trim().to_owned())
            .collect()
    }

    /// The Rust sources of `dir`, with the unit tests at their end (which may check the real
    /// spec) left out.
    fn sources(dir: &Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(sources(&path));
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text
                    .split("#[cfg(test)]\nmod tests")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                found.push((path.display().to_string(), code));
            }
        }
        found
    }

    #[test]
    fn generic_crates_name_neither_the_api_nor_its_operations() {
        let operations = operation_ids();
        assert_eq!(operations.len(), 6, "{operations:?}");
        let mut words: Vec<String> = operations.into_iter().collect();
        // The API's name, the resource itself, in every case each is written in, and the token
        // endpoint's path.
        words.push("nexudus".into());
        words.push("coworkertimepass".into());
        words.push("/api/token".into());
        let root = workspace_root();
        for krate in GENERIC {
            for (path, code) in sources(&root.join("crates").join(krate).join("src")) {
                let lower = code.to_lowercase();
                for word in &words {
                    assert!(
                        !lower.contains(&word.to_lowercase()),
                        "{path} names `{word}`: a generic crate must take it from the spec"
                    );
                }
            }
        }
    }
}
