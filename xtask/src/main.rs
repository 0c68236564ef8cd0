//! Project automation, run as `cargo xtask <command>`.
//!
//! - `cargo xtask codegen [--check]` regenerates every generated source from `openapi/` (or, with
//!   `--check`, prints a unified diff of what is stale and fails);
//! - `cargo xtask contract` runs the contract checks against the reference server, or against
//!   any server with `--base-url` and `--token`.

mod codegen;
mod contract;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Regenerate the generated sources from the spec.
    Codegen {
        /// Write nothing; print a diff of stale files and fail if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Check that a server, the generated client and the spec agree.
    Contract(contract::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen { check: false } => codegen::run(codegen::Mode::Write).map(|()| true),
        Command::Codegen { check: true } => codegen::run(codegen::Mode::Check).map(|()| true),
        Command::Contract(args) => contract::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
