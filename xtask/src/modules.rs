//! The modules of each crate and what they use of each other, read from the sources: no crate
//! may have a cycle among its top-level modules (the crate root counts as one, `crate`), so that
//! a lower module never reaches back into one built on it. Plain `cargo test` runs it, and runs
//! it on planted sources it must refuse.

#[cfg(test)]
mod tests {
    use std::{
        collections::{BTreeMap, BTreeSet},
        path::Path,
    };

    use crate::codegen::workspace_root;

    /// The top-level module a source file of `src` belongs to: `crate` for the crate root.
    fn module_of(relative: &Path) -> String {
        let first = relative
            .components()
            .next()
            .map(|component| component.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        match first.strip_suffix(".rs") {
            Some("lib" | "main") => "crate".to_owned(),
            Some(name) => name.to_owned(),
            None => first,
        }
    }

    /// The top-level modules `code` (of module `module`) names through `crate::`, in `use`
    /// lines (groups included) and in paths anywhere; a module named by `super::` from a file
    /// one level down is its own parent, not an edge.
    fn uses(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
        // Comments (a doc link, say) are not code.
        let code: String = code
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = BTreeSet::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            let word_before = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            rest = &rest[at + "crate::".len()..];
            if word_before {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::{c}, d::e}`: the first segment of each path at the top level.
                let mut depth = 0;
                let mut segment = String::new();
                let mut at_start = true;
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => at_start = true,
                        c if depth == 0 && at_start && (c.is_alphanumeric() || c == '_') => {
                            segment.push(c);
                        }
                        _ if depth == 0 && at_start && !segment.is_empty() => {
                            found.insert(std::mem::take(&mut segment));
                            at_start = false;
                        }
                        _ => {}
                    }
                }
                if !segment.is_empty() {
                    found.insert(segment);
                }
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
        // What is not a module is an item of the crate root.
        found
            .into_iter()
            .map(|name| {
                if modules.contains(&name) {
                    name
                } else {
                    "crate".to_owned()
                }
            })
            .collect()
    }

    /// The graph of one crate's top-level modules: `files` are (path relative to `src`, code
    /// before its unit tests).
    fn graph(files: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
        let modules: BTreeSet<String> = files
            .iter()
            .map(|(path, _)| module_of(Path::new(path)))
            .filter(|module| module != "crate")
            .collect();
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, code) in files {
            let module = module_of(Path::new(path));
            let mut targets = uses(code, &modules);
            targets.remove(&module);
            graph.entry(module).or_default().extend(targets);
        }
        graph
    }

    /// A cycle of `graph`, as the modules along it, if it has one.
    fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
        fn visit(
            node: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(start) = path.iter().position(|seen| seen == node) {
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            if done.contains(node) {
                return None;
            }
            path.push(node.to_owned());
            for next in graph.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(next, graph, path, done) {
                    return Some(cycle);
                }
            }
            path.pop();
            done.insert(node.to_owned());
            None
        }
        let mut done = BTreeSet::new();
        graph
            .keys()
            .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
    }

    /// Every `.rs` file under `dir`, relative to it, with its code before its unit tests
    /// (`#[cfg(test)] mod tests`, at its end).
    fn sources(dir: &Path, under: &Path) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir(under) else {
            return found;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(sources(dir, &path));
            } else if path.extension().is_some_and(|extension| extension == "rs")
                && path.file_name().is_some_and(|name| name != "generated.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text
                    .split("#[cfg(test)]\nmod tests")
                    .next()
                    .unwrap_or_default();
                let relative = path.strip_prefix(dir).unwrap().display().to_string();
                found.push((relative, code.to_owned()));
            }
        }
        found
    }

    /// The modules that stand in a cycle with others, grouped (the graph's strongly connected
    /// components of more than one module).
    fn tangles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
        let reach = |from: &str| {
            let mut reached = BTreeSet::new();
            let mut frontier = vec![from.to_owned()];
            while let Some(node) = frontier.pop() {
                for next in graph.get(&node).into_iter().flatten() {
                    if reached.insert(next.clone()) {
                        frontier.push(next.clone());
                    }
                }
            }
            reached
        };
        let reached: BTreeMap<&String, BTreeSet<String>> =
            graph.keys().map(|node| (node, reach(node))).collect();
        let mut tangles: Vec<BTreeSet<String>> = Vec::new();
        for (node, from) in &reached {
            let tangle: BTreeSet<String> = from
                .iter()
                .filter(|other| {
                    reached
                        .get(other)
                        .is_some_and(|back| back.contains(node.as_str()))
                })
                .cloned()
                .collect();
            if tangle.len() > 1 && !tangles.contains(&tangle) {
                tangles.push(tangle);
            }
        }
        tangles
    }

    #[test]
    fn no_crate_has_a_module_cycle() {
        let root = workspace_root();
        let mut cycles = Vec::new();
        for parent in ["crates", "tests"] {
            for entry in std::fs::read_dir(root.join(parent)).unwrap() {
                let src = entry.unwrap().path().join("src");
                let files = sources(&src, &src);
                let graph = graph(&files);
                if let Some(cycle) = cycle(&graph) {
                    let tangles: Vec<String> = tangles(&graph)
                        .iter()
                        .map(|tangle| tangle.iter().cloned().collect::<Vec<_>>().join(", "))
                        .collect();
                    cycles.push(format!(
                        "{}: {} (modules in cycles: {})",
                        src.display(),
                        cycle.join(" -> "),
                        tangles.join("; ")
                    ));
                }
            }
        }
        let src = root.join("xtask/src");
        if let Some(cycle) = cycle(&graph(&sources(&src, &src))) {
            cycles.push(format!("xtask: {}", cycle.join(" -> ")));
        }
        assert!(cycles.is_empty(), "module cycles: {cycles:#?}");
    }

    #[test]
    fn a_planted_cycle_is_found() {
        let file = |path: &str, code: &str| (path.to_owned(), code.to_owned());
        let acyclic = [
            file("lib.rs", "mod a; mod b; pub use crate::a::A;"),
            file("a.rs", "use crate::b::{self, B};\npub struct A(B);"),
            file("b/mod.rs", "pub struct B;"),
            file("b/inner.rs", "use super::B; use crate::b::B as C;"),
        ];
        assert_eq!(cycle(&graph(&acyclic)), None);
        let through_a_group = [
            file("lib.rs", "mod a; mod b; pub struct Options;"),
            file("a.rs", "use crate::{b::{self, B}, Options};"),
            file("b.rs", "pub fn f() -> crate::a::A { todo!() }"),
        ];
        assert_eq!(
            cycle(&graph(&through_a_group)),
            Some(vec!["a".to_owned(), "b".to_owned(), "a".to_owned()])
        );
        // An item of the crate root used by a module the root uses.
        let through_the_root = [
            file(
                "lib.rs",
                "mod a; pub struct Options; fn f() { crate::a::g() }",
            ),
            file("a.rs", "pub fn g() { let _ = crate::Options; }"),
        ];
        assert_eq!(
            cycle(&graph(&through_the_root)),
            Some(vec!["a".to_owned(), "crate".to_owned(), "a".to_owned()])
        );
    }
}
