//! `cargo xtask spec-compat [--release]`: the breaking-change gate over `openapi/`'s specs.
//!
//! Released versions are exact copies: `openapi/released/<name>-<info.version>.yaml`. The gate
//! compares the spec with each release of the same name and fails when something breaks a
//! release of the same major version.

use std::{cmp::Ordering, fs, path::Path};

use anyhow::{Context, bail};
use spec_compat::{Evidence, Finding, Version, compare};

use crate::codegen::SPEC;

/// Where released copies live, relative to the workspace root.
pub const RELEASED: &str = "openapi/released";

/// The current spec: its name (the file stem) and text.
fn current(root: &Path) -> anyhow::Result<(String, String)> {
    let path = root.join(SPEC);
    let name = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .context("the spec's file has no name")?
        .to_owned();
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((name, text))
}

/// Every release of `name`, oldest first. A file whose name does not match its `info.version`
/// is an error: the record would lie.
fn releases(root: &Path, name: &str) -> anyhow::Result<Vec<Version>> {
    let dir = root.join(RELEASED);
    let mut releases = Vec::new();
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(releases);
    };
    for entry in entries {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|file| file.to_str()) else {
            continue;
        };
        let Some(rest) = file
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(".yaml"))
        else {
            continue;
        };
        let text = fs::read_to_string(&path)?;
        let version =
            Version::parse(&text).with_context(|| format!("reading {}", path.display()))?;
        if version.version() != rest {
            // Another spec whose name starts with this one's (`<name>-extra-1.0.yaml`).
            if rest.ends_with(version.version()) {
                continue;
            }
            bail!(
                "{} records info.version {}: a released file is named after its version",
                path.display(),
                version.version()
            );
        }
        releases.push(version);
    }
    releases.sort_by(|a, b| version_order(a.version(), b.version()));
    Ok(releases)
}

/// Orders versions by their numeric parts (`1.10` after `1.9`).
fn version_order(a: &str, b: &str) -> Ordering {
    let parts = |version: &str| -> Vec<u64> {
        version
            .split(['.', '-'])
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    };
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// `--release`: records the current spec as released, refusing to rewrite a version already
/// recorded with other content.
pub fn release(root: &Path) -> anyhow::Result<()> {
    let (name, text) = current(root)?;
    let version = Version::parse(&text)?;
    let path = root
        .join(RELEASED)
        .join(format!("{name}-{}.yaml", version.version()));
    match fs::read_to_string(&path) {
        Ok(recorded) if recorded == text => {
            println!(
                "spec-compat: {name} {} is already recorded",
                version.version()
            );
        }
        Ok(_) => bail!(
            "{} already records version {} with other content: a released version does not \
             change; give the spec a new info.version",
            path.display(),
            version.version()
        ),
        Err(_) => {
            fs::create_dir_all(path.parent().context("no released directory")?)?;
            fs::write(&path, &text)?;
            println!(
                "spec-compat: recorded {name} {} as {}",
                version.version(),
                path.strip_prefix(root).unwrap_or(&path).display()
            );
        }
    }
    Ok(())
}

/// The comparison with one release.
struct Outcome {
    release: String,
    findings: Vec<Finding>,
    /// Whether the release has the current major version, so that a break is refused.
    same_major: bool,
}

impl Outcome {
    fn breaking(&self) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.breaks())
            .count()
    }

    fn summary(&self, name: &str, current: &Version) -> String {
        let head = format!(
            "{name} {} against released {}",
            current.version(),
            self.release
        );
        let breaking = self.breaking();
        let unproven = self
            .findings
            .iter()
            .filter(|finding| {
                finding.breaks() && !matches!(finding.evidence, Evidence::Witness { .. })
            })
            .count();
        match (self.findings.len(), breaking) {
            (0, _) => format!("{head}: no differences"),
            (count, 0) => format!("{head}: {}, none breaking", differences(count)),
            (count, breaking) => {
                let proof = match unproven {
                    0 => "each with a witness".to_owned(),
                    unproven => format!("{unproven} possibly breaking, without a witness"),
                };
                let verdict = if self.same_major {
                    let next = current
                        .major()
                        .map_or("a new major".to_owned(), |major| format!("{}.0", major + 1));
                    format!(
                        "refused: a breaking change needs a major version bump (info.version {next})"
                    )
                } else {
                    format!("allowed by the major version bump from {}", self.release)
                };
                format!(
                    "{head}: {}, {breaking} breaking ({proof}); {verdict}",
                    differences(count)
                )
            }
        }
    }
}

fn differences(count: usize) -> String {
    match count {
        1 => "1 difference".to_owned(),
        count => format!("{count} differences"),
    }
}

fn outcomes(root: &Path) -> anyhow::Result<(String, Version, Vec<Outcome>)> {
    let (name, text) = current(root)?;
    let current = Version::parse(&text).with_context(|| format!("reading {SPEC}"))?;
    let outcomes = releases(root, &name)?
        .into_iter()
        .map(|release| Outcome {
            release: release.version().to_owned(),
            same_major: release.major() == current.major(),
            findings: compare(&release, &current),
        })
        .collect();
    Ok((name, current, outcomes))
}

/// Compares the spec with every release; `Ok(false)` when a break is refused.
pub fn check(root: &Path) -> anyhow::Result<bool> {
    let (name, current, outcomes) = outcomes(root)?;
    if outcomes.is_empty() {
        println!(
            "spec-compat: {name} has no released version in {RELEASED}; record one with `cargo xtask spec-compat --release`"
        );
        return Ok(true);
    }
    let mut allowed = true;
    for outcome in &outcomes {
        println!("== {}", outcome.summary(&name, &current));
        for finding in &outcome.findings {
            println!("{finding}");
        }
        allowed &= !(outcome.same_major && outcome.breaking() > 0);
    }
    Ok(allowed)
}

/// One line on the spec against its latest release, for `cargo xtask codegen`.
pub fn summary(root: &Path) -> anyhow::Result<String> {
    let (name, current, outcomes) = outcomes(root)?;
    Ok(match outcomes.last() {
        None => format!("spec-compat: {name} has no released version"),
        Some(latest) if latest.findings.is_empty() => {
            format!("spec-compat: {}", latest.summary(&name, &current))
        }
        Some(latest) => format!(
            "spec-compat: {} (`cargo xtask spec-compat` lists them)",
            latest.summary(&name, &current)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::workspace_root;

    /// A workspace of one spec, the real one, in a temporary directory.
    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join(SPEC);
        fs::create_dir_all(spec.parent().unwrap()).unwrap();
        fs::copy(workspace_root().join(SPEC), &spec).unwrap();
        dir
    }

    fn edit_spec(root: &Path, from: &str, to: &str) {
        let path = root.join(SPEC);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "the spec has no `{from}`");
        fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    /// The spec's `info.version` and the one a major bump gives.
    fn versions(root: &Path) -> (String, String) {
        let current = Version::parse(&fs::read_to_string(root.join(SPEC)).unwrap()).unwrap();
        let next = format!("{}.0", current.major().unwrap() + 1);
        (current.version().to_owned(), next)
    }

    #[test]
    fn a_release_is_recorded_once_and_never_rewritten() {
        let dir = workspace();
        let root = dir.path();
        let (version, _) = versions(root);
        // Nothing released yet: nothing to break.
        assert!(check(root).unwrap());
        release(root).unwrap();
        let recorded = root
            .join(RELEASED)
            .join(format!("nexudus-billing-{version}.yaml"));
        assert_eq!(
            fs::read_to_string(&recorded).unwrap(),
            fs::read_to_string(root.join(SPEC)).unwrap()
        );
        // The same content again is no change.
        release(root).unwrap();
        edit_spec(root, "maxLength: 2000", "maxLength: 3000");
        let refused = release(root).unwrap_err().to_string();
        assert!(
            refused.contains(&format!("already records version {version}")),
            "{refused}"
        );
    }

    #[test]
    fn a_break_is_refused_within_a_major_version_and_allowed_across_one() {
        let dir = workspace();
        let root = dir.path();
        let (version, next) = versions(root);
        release(root).unwrap();
        // A looser request bound breaks nothing.
        edit_spec(root, "maxLength: 2000", "maxLength: 3000");
        assert!(check(root).unwrap());
        assert!(
            summary(root)
                .unwrap()
                .contains("1 difference, none breaking")
        );
        // A tighter one breaks requests.
        edit_spec(root, "maxLength: 3000", "maxLength: 10");
        assert!(!check(root).unwrap());
        let line = summary(root).unwrap();
        assert!(
            line.contains(&format!(
                "refused: a breaking change needs a major version bump (info.version {next})"
            )),
            "{line}"
        );
        edit_spec(
            root,
            &format!("version: \"{version}\""),
            &format!("version: \"{next}\""),
        );
        assert!(check(root).unwrap());
        assert!(
            summary(root)
                .unwrap()
                .contains(&format!("allowed by the major version bump from {version}"))
        );
    }

    /// The gate CI runs: today's spec breaks no release of its major version.
    #[test]
    fn the_spec_breaks_no_release_of_its_major_version() {
        let root = workspace_root();
        let (name, current, outcomes) = outcomes(&root).unwrap();
        assert!(!outcomes.is_empty(), "{name} has no release recorded");
        for outcome in outcomes {
            assert!(
                !(outcome.same_major && outcome.breaking() > 0),
                "{}",
                outcome.summary(&name, &current)
            );
        }
    }
}
