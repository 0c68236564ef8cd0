//! Project automation, run as `cargo xtask <command>`.
//!
//! - `cargo xtask codegen [--check]` regenerates every generated source from `openapi/` (or, with
//!   `--check`, prints a unified diff of what is stale and fails);
//! - `cargo xtask contract [ARGS]` runs the contract checks in a release build
//!   (`nexudus-contract`, in `crates/contract-cli`; `cargo xtask contract --help` lists its
//!   options);
//! - `cargo xtask spec-compat [--release]` compares the spec with every released version in
//!   `openapi/released/` and fails when a change breaks a release of the same major version
//!   (`--release` records the current spec as released);
//! - `cargo xtask bench [--quick]` runs the benchmarks in a release build (`nexudus-bench`, in
//!   `crates/bench`) and writes `BENCHMARKS.md`;
//! - `cargo xtask mutants [--iterate] [CRATE ...]` runs cargo-mutants on the crates that decide what is valid
//!   and what is stored and prints each one's score (`mutants.rs`).
//!
//! xtask depends on nothing generated, so that it builds, and can regenerate, whatever state the
//! generated files are in; the contract runner and the benchmarks are built by cargo when they
//! are asked for.

mod codegen;
mod compat;
mod modules;
mod mutants;
mod rules;
mod tidy;

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask codegen [--check] | cargo xtask spec-compat [--release] | cargo xtask contract [ARGS] | cargo xtask bench [ARGS] | cargo xtask mutants [--iterate] [CRATE ...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => match &args[1..] {
            [] => codegen::run(codegen::Mode::Write),
            [check] if check == "--check" => codegen::run(codegen::Mode::Check),
            _ => return usage(),
        }
        .map(|()| {
            // A summary, never a failure: the gate is `cargo xtask spec-compat`.
            match compat::summary(&codegen::workspace_root()) {
                Ok(line) => println!("{line}"),
                Err(error) => println!("spec-compat: cannot compare: {error:#}"),
            }
        }),
        Some("spec-compat") => match &args[1..] {
            [] => match compat::check(&codegen::workspace_root()) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::FAILURE,
                Err(error) => Err(error),
            },
            [release] if release == "--release" => compat::release(&codegen::workspace_root()),
            _ => return usage(),
        },
        Some("contract") => {
            // Release: a run makes (and at its end deletes) tens of thousands of records, which a
            // debug build of the reference server and the runner takes several times longer over.
            return cargo_run(
                &["--release", "--package", "contract-cli"],
                "nexudus-contract",
                &args[1..],
            );
        }
        Some("mutants") => match mutants::run(&codegen::workspace_root(), &args[1..]) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        Some("bench") => {
            return cargo_run(
                &["--release", "--package", "bench"],
                "nexudus-bench",
                &args[1..],
            );
        }
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}

/// Builds `bin` with `cargo_args` and runs it with `args`, passing its exit status on.
fn cargo_run(cargo_args: &[&str], bin: &str, args: &[String]) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["run", "--quiet"])
        .args(cargo_args)
        .args(["--bin", bin, "--"])
        .args(args)
        .current_dir(codegen::workspace_root())
        .status();
    match status {
        Ok(status) => ExitCode::from(status.code().map_or(1, |code| code.clamp(0, 255) as u8)),
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}
