//! `cargo xtask mutants [CRATE ...]`: cargo-mutants on the crates that decide what is valid and
//! what is stored, each with the tests its `.cargo/mutants/<crate>.toml` names, and the score per
//! crate: caught (a timeout counts as caught: the tests noticed) over viable, after the mutants
//! `mutants-exceptions.txt` lists as equivalent.
//!
//! cargo-mutants is installed (`cargo install cargo-mutants --locked`) when it is missing.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// The crates, in the order they run (cheapest tests first).
pub const CRATES: [&str; 5] = [
    "spec-schema",
    "server-runtime",
    "spec-strategies",
    "reference-server",
    "contract",
];

/// The score every crate must reach.
const TARGET: f64 = 0.9;

/// The version installed when none is.
const VERSION: &str = "27.0.0";

/// One crate's outcomes.
#[derive(Debug, Default, PartialEq)]
pub struct Score {
    pub caught: usize,
    pub timeouts: usize,
    pub missed: Vec<String>,
    pub excused: usize,
    pub unviable: usize,
}

impl Score {
    pub fn ratio(&self) -> f64 {
        let caught = self.caught + self.timeouts;
        let viable = caught + self.missed.len();
        if viable == 0 {
            1.0
        } else {
            caught as f64 / viable as f64
        }
    }
}

/// A mutant as `missed.txt` names it, without its line and column (which move as code is
/// edited): `crates/x/src/lib.rs: replace f -> bool with true`.
pub fn key(line: &str) -> String {
    let mut parts = line.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(file), Some(_line), Some(_column), Some(rest)) => format!("{file}:{rest}"),
        _ => line.to_owned(),
    }
}

/// The exceptions file's mutants: one per line, `<mutant as missed.txt names it, line and column
/// left out> # <why it is equivalent>`; a line without a reason is refused.
pub fn exceptions(text: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let Some((mutant, why)) = line.split_once(" # ") else {
            bail!(
                "mutants-exceptions.txt line {}: `<mutant> # <why it is equivalent>` expected",
                number + 1
            );
        };
        if why.trim().is_empty() {
            bail!(
                "mutants-exceptions.txt line {}: no reason given",
                number + 1
            );
        }
        keys.insert(mutant.trim().to_owned());
    }
    Ok(keys)
}

/// The score of one crate's output directory.
pub fn score(output: &Path, excused: &BTreeSet<String>) -> anyhow::Result<Score> {
    let read = |name: &str| -> anyhow::Result<Vec<String>> {
        let path = output.join("mutants.out").join(name);
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect())
    };
    let missed = read("missed.txt")?;
    let (excused_now, missed): (Vec<String>, Vec<String>) = missed
        .into_iter()
        .partition(|line| excused.contains(&key(line)));
    Ok(Score {
        caught: read("caught.txt")?.len(),
        timeouts: read("timeout.txt")?.len(),
        missed,
        excused: excused_now.len(),
        unviable: read("unviable.txt")?.len(),
    })
}

fn ensure_installed() -> anyhow::Result<()> {
    let installed = Command::new("cargo")
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        eprintln!("mutants: installing cargo-mutants {VERSION}");
        let status = Command::new("cargo")
            .args(["install", "cargo-mutants", "--locked", "--version", VERSION])
            .status()
            .context("running cargo install")?;
        if !status.success() {
            bail!("cargo install cargo-mutants failed");
        }
    }
    Ok(())
}

/// Runs cargo-mutants on `crates` (all five when empty) and prints the scores; `Ok(false)` when
/// one is under the target.
pub fn run(root: &Path, crates: &[String]) -> anyhow::Result<bool> {
    let crates: Vec<&str> = if crates.is_empty() {
        CRATES.to_vec()
    } else {
        for name in crates {
            if !CRATES.contains(&name.as_str()) {
                bail!("`{name}` is not one of {CRATES:?}");
            }
        }
        crates.iter().map(String::as_str).collect()
    };
    ensure_installed()?;
    let excused = exceptions(
        &std::fs::read_to_string(root.join("mutants-exceptions.txt"))
            .context("reading mutants-exceptions.txt")?,
    )?;
    let mut passed = true;
    let mut lines = Vec::new();
    for name in crates {
        let config = root
            .join(".cargo")
            .join("mutants")
            .join(format!("{name}.toml"));
        let output: PathBuf = root.join("target").join("mutants").join(name);
        eprintln!("mutants: {name} ({})", config.display());
        std::fs::create_dir_all(&output)
            .with_context(|| format!("creating {}", output.display()))?;
        let status = Command::new("cargo")
            .current_dir(root)
            .args(["mutants", "--package", name, "--config"])
            .arg(&config)
            .arg("--output")
            .arg(&output)
            .status()
            .context("running cargo mutants")?;
        // cargo-mutants exits 2 when it found missed mutants and 3 for timeouts: the score says.
        if !matches!(status.code(), Some(0 | 2 | 3)) {
            bail!("cargo mutants failed on {name} ({status})");
        }
        let score = score(&output, &excused)?;
        let line = format!(
            "{name}: {:.1}% ({} caught, {} timeouts, {} missed, {} excused, {} unviable)",
            score.ratio() * 100.0,
            score.caught,
            score.timeouts,
            score.missed.len(),
            score.excused,
            score.unviable
        );
        for missed in &score.missed {
            eprintln!("  missed: {missed}");
        }
        passed &= score.ratio() >= TARGET;
        lines.push(line);
    }
    println!("mutation scores (target {:.0}%):", TARGET * 100.0);
    for line in lines {
        println!("  {line}");
    }
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_are_named_without_their_position() {
        assert_eq!(
            key(
                "crates/spec-schema/src/lib.rs:264:9: replace Validator::is_valid -> bool with true"
            ),
            "crates/spec-schema/src/lib.rs: replace Validator::is_valid -> bool with true"
        );
    }

    #[test]
    fn exceptions_need_a_reason_and_scores_leave_them_out() {
        assert!(exceptions("a.rs: replace f with g\n").is_err());
        assert!(exceptions("a.rs: replace f with g #   \n").is_err());
        let excused = exceptions(
            "// comment\n\na.rs: replace f -> bool with true # f is only a cache of g\n",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mutants.out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join("caught.txt"),
            "a.rs:1:1: x\na.rs:2:1: y\na.rs:3:1: z\n",
        )
        .unwrap();
        std::fs::write(out.join("timeout.txt"), "a.rs:4:1: t\n").unwrap();
        std::fs::write(out.join("unviable.txt"), "a.rs:5:1: u\n").unwrap();
        std::fs::write(
            out.join("missed.txt"),
            "a.rs:9:5: replace f -> bool with true\na.rs:7:1: replace h with ()\n",
        )
        .unwrap();
        let score = score(dir.path(), &excused).unwrap();
        assert_eq!(score.missed, ["a.rs:7:1: replace h with ()"]);
        assert_eq!(
            (score.caught, score.timeouts, score.excused, score.unviable),
            (3, 1, 1, 1)
        );
        assert_eq!(score.ratio(), 0.8);
    }
}
