//! Figure 5: what building the workspace costs, reported (no target).
//!
//! A full run builds from nothing into a target directory of its own (crates already
//! downloaded, so the figure is compile time, not network time). A quick run only times the test
//! build, warm, on the workspace's own target directory (measured at 10-16 s in CI, which runs
//! it after the tests and the contract run): that keeps the harness exercised. It skips the plain build, which after the tests compiles again (`cargo build`
//! resolves dependencies without the dev-dependencies' features; about 25 s in CI).

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::{Size, table::Row};

const FIGURE: &str = "5. build cost";

/// The two commands whose cost is reported.
const COMMANDS: [&[&str]; 2] = [
    &["build", "--workspace"],
    &["test", "--workspace", "--no-run"],
];

fn cargo(root: &Path, args: &[&str], target_dir: Option<&Path>) -> anyhow::Result<Duration> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(args).arg("--quiet").current_dir(root);
    if let Some(target_dir) = target_dir {
        command.arg("--target-dir").arg(target_dir);
    }
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed: {status}", args.join(" "));
    }
    Ok(started.elapsed())
}

/// Runs each command cold in a full run; a quick run times the test build warm.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for args in COMMANDS {
        let shown = format!("cargo {}", args.join(" "));
        if !size.cold_builds && args[0] == "build" {
            rows.push(Row::reported(
                FIGURE,
                format!("`{shown}`"),
                "not timed in a quick run".to_owned(),
            ));
            continue;
        }
        let (what, elapsed) = if size.cold_builds {
            let dir = root.join("target").join("bench-cold");
            let _ = std::fs::remove_dir_all(&dir);
            let elapsed = cargo(root, args, Some(&dir))?;
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
            (format!("cold `{shown}`"), elapsed)
        } else {
            (
                format!("`{shown}` on the workspace's warm target directory (quick run)"),
                cargo(root, args, None)?,
            )
        };
        rows.push(Row::reported(
            FIGURE,
            what,
            format!("{:.1} s", elapsed.as_secs_f64()),
        ));
    }
    Ok(rows)
}
