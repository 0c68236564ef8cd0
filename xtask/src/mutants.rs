//! `cargo xtask mutants [--iterate] [CRATE ...]`: cargo-mutants on the crates that decide what is valid and
//! what is stored, each with the tests its `.cargo/mutants/<crate>.toml` names, and the score per
//! crate: caught (a timeout counts as caught: the tests noticed) over viable, after the mutants
//! `mutants-exceptions.txt` lists as equivalent.
//!
//! cargo-mutants is installed (`cargo install cargo-mutants --locked`) when it is missing, and
//! cargo-nextest when a crate's config runs its tests with it (`test_tool = "nextest"`: nextest
//! stops at the first failing test, so a caught mutant costs one test, not the whole suite).

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

/// The lines of `name` in `output`'s `mutants.out`, none when the file is absent.
fn lines(output: &Path, name: &str) -> anyhow::Result<BTreeSet<String>> {
    let path = output.join("mutants.out").join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// The unviable mutants of every earlier run that `--iterate` continued, which cargo-mutants
/// folds into `previously_caught.txt` with the caught ones; kept beside `mutants.out` so that
/// the score tells them apart.
const UNVIABLE_BEFORE: &str = "unviable-before.txt";

/// The score of one crate's output directory: the last run's outcomes, and those of the runs it
/// continued (`--iterate`).
pub fn score(output: &Path, excused: &BTreeSet<String>) -> anyhow::Result<Score> {
    let unviable_before = match std::fs::read_to_string(output.join(UNVIABLE_BEFORE)) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(_) => BTreeSet::new(),
    };
    let unviable: BTreeSet<String> = lines(output, "unviable.txt")?
        .union(&unviable_before)
        .cloned()
        .collect();
    let caught: BTreeSet<String> = lines(output, "caught.txt")?
        .union(&lines(output, "previously_caught.txt")?)
        .filter(|mutant| !unviable.contains(*mutant))
        .cloned()
        .collect();
    let (excused_now, missed): (Vec<String>, Vec<String>) = lines(output, "missed.txt")?
        .into_iter()
        .partition(|line| excused.contains(&key(line)));
    Ok(Score {
        caught: caught.len(),
        timeouts: lines(output, "timeout.txt")?.len(),
        missed,
        excused: excused_now.len(),
        unviable: unviable.len(),
    })
}

/// Before a run that continues the last one: its unviable mutants join those of the runs before
/// it, since cargo-mutants will list them only as previously caught.
fn remember_unviable(output: &Path) -> anyhow::Result<()> {
    let path = output.join(UNVIABLE_BEFORE);
    let mut unviable = match std::fs::read_to_string(&path) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(_) => BTreeSet::new(),
    };
    unviable.extend(lines(output, "unviable.txt")?);
    let text: String = unviable.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Whether `cargo <tool> --version` runs.
fn installed(tool: &str) -> bool {
    Command::new("cargo")
        .args([tool, "--version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Installs `krate` (at `version`, if given) when `cargo <tool>` does not run.
fn ensure_installed(tool: &str, krate: &str, version: Option<&str>) -> anyhow::Result<()> {
    if installed(tool) {
        return Ok(());
    }
    eprintln!("mutants: installing {krate}");
    let mut install = Command::new("cargo");
    install.args(["install", krate, "--locked"]);
    if let Some(version) = version {
        install.args(["--version", version]);
    }
    let status = install.status().context("running cargo install")?;
    if !status.success() {
        bail!("cargo install {krate} failed");
    }
    Ok(())
}

/// Runs cargo-mutants on the crates `args` names (all five when none) and prints the scores;
/// `Ok(false)` when one is under the target. `--iterate` continues each crate's last run: only
/// the mutants it did not catch (or never reached) are tested again, which also resumes a run
/// that was stopped.
pub fn run(root: &Path, args: &[String]) -> anyhow::Result<bool> {
    let iterate = args.iter().any(|arg| arg == "--iterate");
    let crates: Vec<&String> = args.iter().filter(|arg| *arg != "--iterate").collect();
    let crates: Vec<&str> = if crates.is_empty() {
        CRATES.to_vec()
    } else {
        for name in &crates {
            if !CRATES.contains(&name.as_str()) {
                bail!("`{name}` is not one of {CRATES:?}");
            }
        }
        crates.iter().map(|name| name.as_str()).collect()
    };
    ensure_installed("mutants", "cargo-mutants", Some(VERSION))?;
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
        let settings = std::fs::read_to_string(&config)
            .with_context(|| format!("reading {}", config.display()))?;
        if settings.contains("test_tool = \"nextest\"") {
            ensure_installed("nextest", "cargo-nextest", None)?;
        }
        std::fs::create_dir_all(&output)
            .with_context(|| format!("creating {}", output.display()))?;
        if iterate {
            remember_unviable(&output)?;
        } else {
            // A fresh run owes nothing to earlier ones.
            let _ = std::fs::remove_file(output.join(UNVIABLE_BEFORE));
        }
        let mut command = Command::new("cargo");
        command
            .current_dir(root)
            .args(["mutants", "--package", name, "--config"])
            .arg(&config)
            .arg("--output")
            .arg(&output);
        if iterate {
            command.arg("--iterate");
        }
        let status = command.status().context("running cargo mutants")?;
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

    /// A run that continued earlier ones counts what they caught, and not the mutants that did
    /// not build, which cargo-mutants lists among the previously caught.
    #[test]
    fn a_continued_run_counts_what_earlier_runs_caught() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mutants.out");
        std::fs::create_dir_all(&out).unwrap();
        // The first run.
        std::fs::write(out.join("caught.txt"), "a.rs:1:1: x\n").unwrap();
        std::fs::write(out.join("unviable.txt"), "a.rs:2:1: u\n").unwrap();
        std::fs::write(out.join("missed.txt"), "a.rs:3:1: m\n").unwrap();
        remember_unviable(dir.path()).unwrap();
        // The second, which caught the one missed before.
        std::fs::write(
            out.join("previously_caught.txt"),
            "a.rs:1:1: x\na.rs:2:1: u\n",
        )
        .unwrap();
        std::fs::write(out.join("caught.txt"), "a.rs:3:1: m\n").unwrap();
        std::fs::write(out.join("unviable.txt"), "a.rs:4:1: v\n").unwrap();
        std::fs::write(out.join("missed.txt"), "").unwrap();
        let score = score(dir.path(), &BTreeSet::new()).unwrap();
        assert_eq!(
            (score.caught, score.unviable, score.missed.len()),
            (2, 2, 0)
        );
        assert_eq!(score.ratio(), 1.0);
    }
}
