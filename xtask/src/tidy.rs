//! Tidiness that a test can check, in the style of rust-analyzer's `tidy`: no dependency that no
//! source names, in any `Cargo.toml` (a crate's own, or the workspace's table); crate-level docs
//! at the top of every library and binary; no test executable without a test (`test = false` or
//! `doctest = false` where a target has none, so that none is built and linked for nothing); no
//! text that points at how the work was organised instead of at the code. Plain `cargo test` runs them; each check is a function of what it reads,
//! so that its tests plant what it must find.

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, path::Path};

    use crate::{codegen::workspace_root, rules::tests::metadata};

    /// One dependency of a package, as `cargo metadata` gives it.
    struct Dependency {
        /// The name the code uses (its `package` rename, or its name), `-` as `_`.
        ident: String,
        /// `normal`, `dev` or `build`.
        kind: String,
    }

    /// The dependencies that no source of the package names: `ident::`, `use ident` or
    /// `extern crate ident`, as a whole word.
    fn unused(dependencies: &[Dependency], sources: &[String]) -> Vec<String> {
        dependencies
            .iter()
            .filter(|dependency| {
                !sources.iter().any(|text| {
                    names(text, &format!("{}::", dependency.ident))
                        || names(text, &format!("use {}", dependency.ident))
                        || names(text, &format!("extern crate {}", dependency.ident))
                })
            })
            .map(|dependency| format!("{} ({})", dependency.ident, dependency.kind))
            .collect()
    }

    /// Whether `text` holds `needle` not preceded by part of an identifier (`my_serde::` does
    /// not name `serde`) and, for `use x`, not followed by one (`use serde_json` does not name
    /// `serde`).
    fn names(text: &str, needle: &str) -> bool {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        text.match_indices(needle).any(|(at, _)| {
            let before = text[..at].chars().next_back().is_none_or(|c| !word(c));
            let after = needle.ends_with("::")
                || text[at + needle.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !word(c));
            before && after
        })
    }

    /// The `[workspace.dependencies]` keys of the root manifest that no member depends on.
    fn unused_in_workspace(manifest: &str, used: &BTreeSet<String>) -> Vec<String> {
        let mut table = false;
        let mut unused = Vec::new();
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                table = line == "[workspace.dependencies]";
                continue;
            }
            if !table || line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((key, _)) = line.split_once('=') {
                let key = key.trim();
                if !used.contains(key) {
                    unused.push(key.to_owned());
                }
            }
        }
        unused
    }

    /// The files whose text is not crate-level docs from its first line.
    fn undocumented(roots: &[(String, String)]) -> Vec<String> {
        roots
            .iter()
            .filter(|(_, text)| !text.trim_start().starts_with("//!"))
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// Words that point at how the work was organised rather than at the code. Written split
    /// so that this file does not name them itself.
    fn process_words() -> Vec<String> {
        [
            ["the ", "issue"],
            ["this ", "issue"],
            ["issue ", "#"],
            ["tic", "ket"],
            ["this ", "session"],
            ["closing ", "note"],
        ]
        .iter()
        .map(|parts| parts.concat())
        .collect()
    }

    /// Each `path:line` of `files` that uses a process word, as a whole word.
    fn process_references(files: &[(String, String)]) -> Vec<String> {
        let words = process_words();
        let mut found = Vec::new();
        for (path, text) in files {
            for (number, line) in text.lines().enumerate() {
                let lower = line.to_lowercase();
                for word in &words {
                    let whole = lower.match_indices(word.as_str()).any(|(at, _)| {
                        let end = at + word.len();
                        let before = lower[..at]
                            .chars()
                            .next_back()
                            .is_none_or(|c| !c.is_alphanumeric());
                        let after = lower[end..]
                            .chars()
                            .next()
                            .is_none_or(|c| !c.is_alphanumeric());
                        before && after
                    });
                    if whole {
                        found.push(format!("{path}:{}: `{word}`", number + 1));
                    }
                }
                // A numbered one, as in `(issue` and a number`)`.
                let numbered = lower.match_indices("issue ").any(|(at, word)| {
                    lower[at + word.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit())
                });
                if numbered {
                    found.push(format!("{path}:{}: a numbered {}", number + 1, "issue"));
                }
            }
        }
        found
    }

    /// Every file under `dir` whose name ends with one of `extensions`, skipping `target` and
    /// hidden directories.
    fn files(dir: &Path, extensions: &[&str]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return found;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    found.extend(files(&path, extensions));
                }
            } else if extensions.iter().any(|extension| name.ends_with(extension)) {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path.display().to_string(), text));
            }
        }
        found
    }

    fn packages() -> Vec<serde_json::Value> {
        metadata()["packages"].as_array().unwrap().clone()
    }

    fn dependencies(package: &serde_json::Value) -> Vec<Dependency> {
        package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|dependency| Dependency {
                ident: dependency["rename"]
                    .as_str()
                    .or(dependency["name"].as_str())
                    .unwrap()
                    .replace('-', "_"),
                kind: dependency["kind"].as_str().unwrap_or("normal").to_owned(),
            })
            .collect()
    }

    fn package_dir(package: &serde_json::Value) -> std::path::PathBuf {
        Path::new(package["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .to_path_buf()
    }

    #[test]
    fn every_dependency_is_used() {
        let mut found = Vec::new();
        let mut used = BTreeSet::new();
        for package in packages() {
            let dir = package_dir(&package);
            // A package's sources, without those of a package nested in it (tests/ holds
            // several).
            let nested: Vec<_> = packages()
                .iter()
                .map(package_dir)
                .filter(|other| other != &dir && other.starts_with(&dir))
                .collect();
            let sources: Vec<String> = files(&dir, &[".rs"])
                .into_iter()
                .filter(|(path, _)| {
                    !nested
                        .iter()
                        .any(|other| Path::new(path).starts_with(other))
                })
                .map(|(_, text)| text)
                .collect();
            let dependencies = dependencies(&package);
            for dependency in package["dependencies"].as_array().unwrap() {
                used.insert(dependency["name"].as_str().unwrap().to_owned());
            }
            for unused in unused(&dependencies, &sources) {
                found.push(format!("{}: {unused}", package["name"].as_str().unwrap()));
            }
        }
        assert!(found.is_empty(), "dependencies no source names: {found:#?}");
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        let unused = unused_in_workspace(&manifest, &used);
        assert!(
            unused.is_empty(),
            "[workspace.dependencies] that no member uses: {unused:?}"
        );
    }

    #[test]
    fn every_crate_starts_with_its_docs() {
        let roots: Vec<(String, String)> = packages()
            .iter()
            .flat_map(|package| package["targets"].as_array().unwrap().clone())
            .filter(|target| {
                target["kind"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kind| kind == "lib" || kind == "bin")
            })
            .map(|target| {
                let path = target["src_path"].as_str().unwrap().to_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                (path, text)
            })
            .collect();
        assert!(roots.len() > 15, "{} crate roots", roots.len());
        let undocumented = undocumented(&roots);
        assert!(
            undocumented.is_empty(),
            "crate roots without `//!` docs first: {undocumented:?}"
        );
    }

    /// The source files of the module tree rooted at `root`, following `mod name;` lines, and
    /// the files its docs include (`#[doc = include_str!("…")]`).
    fn module_tree(root: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(path) = pending.pop() {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let parent = path.parent().unwrap();
            // A crate root or `mod.rs` holds its children beside it, `a.rs` in `a/`.
            let dir = if path == root || stem == "mod" {
                parent.to_path_buf()
            } else {
                parent.join(&stem)
            };
            for line in text.lines() {
                let line = line.trim();
                if let Some(included) = line
                    .split_once("doc = include_str!(\"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(included, _)| included)
                    && let Ok(docs) = std::fs::read_to_string(parent.join(included))
                {
                    found.push(docs);
                }
                let line = line
                    .strip_prefix("pub(crate) ")
                    .or_else(|| line.strip_prefix("pub(super) "))
                    .or_else(|| line.strip_prefix("pub "))
                    .unwrap_or(line);
                if let Some(name) = line
                    .strip_prefix("mod ")
                    .and_then(|rest| rest.strip_suffix(';'))
                {
                    let file = dir.join(format!("{name}.rs"));
                    pending.push(if file.exists() {
                        file
                    } else {
                        dir.join(name).join("mod.rs")
                    });
                }
            }
            found.push(text);
        }
        found
    }

    /// Whether `sources` hold a test: a `#[test]`-like attribute or a `proptest!` block.
    fn has_tests(sources: &[String]) -> bool {
        sources.iter().any(|text| {
            text.lines().any(|line| {
                let line = line.trim();
                line == "#[test]" || line.ends_with("::test]") || line.starts_with("proptest! {")
            })
        })
    }

    /// Whether `sources` hold a doc test: a fenced block that rustdoc runs (no language, or
    /// `rust` and its test attributes).
    fn has_doc_tests(sources: &[String]) -> bool {
        let runs = |info: &str| {
            info.split(',').map(str::trim).all(|word| {
                matches!(
                    word,
                    "" | "rust" | "no_run" | "should_panic" | "compile_fail"
                ) || word.starts_with("edition")
            })
        };
        sources.iter().any(|text| {
            let mut open = false;
            text.lines().any(|line| {
                let Some((_, info)) = line.split_once("```") else {
                    return false;
                };
                open = !open;
                open && runs(info.trim_end_matches(['"', '\\']).trim())
            })
        })
    }

    /// The targets of `targets` (name, whether cargo tests it, whether it runs its doc tests,
    /// its sources) that are built as test executables with nothing to run.
    fn empty_test_targets(targets: &[(String, bool, bool, Vec<String>)]) -> Vec<String> {
        let mut found = Vec::new();
        for (name, test, doctest, sources) in targets {
            if *test && !has_tests(sources) {
                found.push(format!("{name}: no test (set `test = false`)"));
            }
            if *doctest && !has_doc_tests(sources) {
                found.push(format!("{name}: no doc test (set `doctest = false`)"));
            }
        }
        found
    }

    #[test]
    fn no_test_executable_is_empty() {
        let targets: Vec<(String, bool, bool, Vec<String>)> = packages()
            .iter()
            .flat_map(|package| package["targets"].as_array().unwrap().clone())
            .filter(|target| {
                target["kind"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kind| kind == "lib" || kind == "bin" || kind == "test")
            })
            .map(|target| {
                let root = Path::new(target["src_path"].as_str().unwrap());
                (
                    target["name"].as_str().unwrap().to_owned(),
                    target["test"].as_bool().unwrap(),
                    target["doctest"].as_bool().unwrap(),
                    module_tree(root),
                )
            })
            .collect();
        assert!(targets.len() > 20, "{} targets", targets.len());
        let empty = empty_test_targets(&targets);
        assert!(
            empty.is_empty(),
            "test executables built for nothing: {empty:#?}"
        );
    }

    /// What `document` names in backquotes that does not exist: a path (with a `/` or a file
    /// extension) that is no file or directory of `files` (paths relative to the root; a bare
    /// name may be anywhere), and a test-like name (`a_b_c_d`: four words or more) that no
    /// source defines as a function.
    fn missing_names(document: &str, files: &[(String, String)]) -> Vec<String> {
        let mut missing = Vec::new();
        for (index, quoted) in document.split('`').enumerate() {
            if index % 2 == 0 || quoted.contains(' ') || quoted.is_empty() {
                continue;
            }
            let is_path = quoted.contains('/')
                || [".rs", ".md", ".yaml", ".toml", ".txt"]
                    .iter()
                    .any(|extension| quoted.ends_with(extension));
            let is_test_name = quoted.split('_').count() >= 4
                && quoted
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if is_path {
                let wanted = quoted.trim_end_matches('/');
                let found = files.iter().any(|(path, _)| {
                    path == wanted
                        || path.starts_with(&format!("{wanted}/"))
                        || (!wanted.contains('/')
                            && (path.ends_with(&format!("/{wanted}"))
                                || path.contains(&format!("/{wanted}/"))))
                });
                if !found {
                    missing.push(quoted.to_owned());
                }
            } else if is_test_name {
                let defined = files
                    .iter()
                    .any(|(_, text)| text.contains(&format!("fn {quoted}(")));
                if !defined {
                    missing.push(quoted.to_owned());
                }
            }
        }
        missing
    }

    #[test]
    fn architecture_names_what_exists() {
        let root = workspace_root();
        let files: Vec<(String, String)> =
            files(&root, &[".rs", ".md", ".yaml", ".toml", ".txt", ".json"])
                .into_iter()
                .map(|(path, text)| {
                    let relative = Path::new(&path).strip_prefix(&root).unwrap();
                    (relative.display().to_string(), text)
                })
                .collect();
        let document = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
        let missing = missing_names(&document, &files);
        assert!(
            missing.is_empty(),
            "ARCHITECTURE.md names what does not exist: {missing:?}"
        );
    }

    #[test]
    fn no_text_points_at_how_the_work_was_organised() {
        let root = workspace_root();
        let texts = files(&root, &[".rs", ".md", ".toml", ".yaml", ".yml"]);
        assert!(texts.len() > 50, "{} files", texts.len());
        let found = process_references(&texts);
        assert!(
            found.is_empty(),
            "say what the code does, not which work asked for it: {found:#?}"
        );
    }

    /// The checks find what is planted in them.
    #[test]
    fn the_checks_catch_what_is_planted() {
        let dependency = |ident: &str| Dependency {
            ident: ident.into(),
            kind: "normal".into(),
        };
        let sources = vec![
            "use serde::Serialize;\nfn f() { serde_json::json!({}); }".to_owned(),
            "#[tokio::test] async fn t() {} // my_regex::x".to_owned(),
        ];
        assert_eq!(
            unused(
                &[
                    dependency("serde"),
                    dependency("serde_json"),
                    dependency("tokio"),
                    dependency("regex"),
                    dependency("json"),
                ],
                &sources
            ),
            ["regex (normal)", "json (normal)"]
        );
        assert!(!names("use serde_json;", "use serde"));
        assert!(names("use serde;", "use serde"));

        let manifest = "[workspace]\nmembers = []\n\n[workspace.dependencies]\n# why\nserde = \"1\"\nregex = { version = \"1\" }\n\n[profile.dev]\nopt-level = 0\n";
        let used = BTreeSet::from(["serde".to_owned()]);
        assert_eq!(unused_in_workspace(manifest, &used), ["regex"]);

        let roots = vec![
            ("a/lib.rs".to_owned(), "//! Does a.\nfn a() {}".to_owned()),
            ("b/lib.rs".to_owned(), "// not docs\nfn b() {}".to_owned()),
        ];
        assert_eq!(undocumented(&roots), ["b/lib.rs"]);

        let files = vec![
            (
                "crates/a/src/lib.rs".to_owned(),
                "fn the_a_is_checked() {}".to_owned(),
            ),
            ("crates/a/src/b/c.rs".to_owned(), String::new()),
        ];
        assert_eq!(
            missing_names(
                "`crates/a` `lib.rs` `b/` `c.rs` `crates/a/src/b/c.rs` `the_a_is_checked` \
                 `crates/gone` `gone.rs` `a_test_that_is_gone` `plain_words` `a b/c`",
                &files
            ),
            ["crates/gone", "gone.rs", "a_test_that_is_gone"]
        );

        let target = |name: &str, test, doctest, source: &str| {
            (name.to_owned(), test, doctest, vec![source.to_owned()])
        };
        let fence = "```";
        assert_eq!(
            empty_test_targets(&[
                target(
                    "tested",
                    true,
                    false,
                    "#[cfg(test)]\nmod tests {\n    #[test]\n"
                ),
                target("async", true, false, "    #[tokio::test]\n"),
                target("none", true, false, "fn f() {}\n// #[test] in a comment\n"),
                target(
                    "docs",
                    false,
                    true,
                    &format!("/// {fence}\n/// f();\n/// {fence}\n")
                ),
                target(
                    "text",
                    false,
                    true,
                    &format!("/// {fence}text\n/// out\n/// {fence}\n/// {fence}json\n"),
                ),
                target("off", false, false, ""),
            ]),
            [
                "none: no test (set `test = false`)",
                "text: no doc test (set `doctest = false`)"
            ]
        );

        let planted = ["As the ", "issue asked"].concat();
        let numbered = ["as in ", "issue ", "11"].concat();
        let files = vec![
            ("a.md".to_owned(), format!("fine\n{planted}\n")),
            (
                "b.rs".to_owned(),
                format!("// the issued token\n// {numbered}\n"),
            ),
        ];
        assert_eq!(
            process_references(&files),
            [
                format!("a.md:2: `{}`", ["the ", "issue"].concat()),
                ["b.rs:2: a numbered ", "issue"].concat()
            ]
        );
    }
}
