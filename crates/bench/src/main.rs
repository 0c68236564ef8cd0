//! `nexudus-bench` (run as `cargo xtask bench`): the workspace's performance figures, each target
//! a ratio of two figures taken in the same run (so that a noisy machine moves both alike), or an
//! absolute bound the README states (figures 3 and 9).
//!
//! 1. the CPU of a durable create, and of a read by id, against a request that fails validation
//!    (their throughputs reported) ([`durable`]);
//! 2. the contract runner against replaying its payloads without checks ([`contract_runner`]);
//! 3. codegen time per operation on synthetic specs of growing size ([`codegen_scaling`]);
//! 4. server-side validation against plain deserialisation ([`validation`]);
//! 5. cold build times, reported ([`build_cost`]);
//! 6. a filtered, ordered page on a large table against a small one ([`list_scaling`]);
//! 7. stateful sequences against replaying their requests, and a planted failure's shrink time
//!    ([`contract_runner`]);
//! 8. a client's latency beside slow and idle clients against the same client alone
//!    ([`hostile_load`]);
//! 9. spec-compat time per operation on synthetic specs with one edit per operation
//!    ([`compat_scaling`]);
//! 10. creates with an issued token against a static one, and password checks per second
//!     ([`sign_in`]).
//!
//! It prints a table and writes it as markdown (`BENCHMARKS.md` at the workspace root for a full
//! run). `--quick` runs every figure at a small size, so that CI keeps the harness working.

mod build_cost;
mod codegen_scaling;
mod compat_scaling;
mod contract_runner;
mod durable;
mod hostile_load;
mod list_scaling;
mod load;
mod sign_in;
mod table;
mod validation;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::Parser;
use serde_json::Value;

use crate::table::Row;

/// The spec every figure works from.
const SPEC: &str = include_str!("../../../openapi/nexudus-billing.yaml");

/// Measure the workspace's throughput and costs; write the table to BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask bench", version)]
struct Args {
    /// Every figure at a small size, in seconds (for CI: the figures are not meaningful).
    #[arg(long)]
    quick: bool,
    /// Only these figures (1 to 10), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u8).range(1..=10))]
    only: Vec<u8>,
    /// Where to write the markdown table [default: BENCHMARKS.md for a full run of every figure,
    /// target/BENCHMARKS-quick.md otherwise].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// How long and how large each figure runs.
#[derive(Debug, Clone)]
pub struct Size {
    /// Validation: the length of one timed batch.
    pub batch: Duration,
    /// Validation: timed batches (the median counts).
    pub batches: usize,
    /// Codegen: the spec sizes, in operations; the last two carry the targets.
    pub codegen_operations: Vec<usize>,
    /// Codegen: runs per size (the fastest counts).
    pub repeats: usize,
    /// Durable create: concurrent keep-alive connections.
    pub connections: usize,
    /// Durable create: the length of one load phase.
    pub phase: Duration,
    /// Durable create and contract runner: alternating rounds of the measured and the baseline.
    pub rounds: usize,
    /// Contract runner: valid and invalid cases per operation, each.
    pub contract_cases: u32,
    /// Contract runner: cases in flight at once (runner and replay alike).
    pub contract_concurrency: usize,
    /// Build cost: cold builds (minutes) or warm ones (seconds).
    pub cold_builds: bool,
    /// List scaling: records in the large table (the small one holds a hundredth).
    pub list_records: u64,
    /// Stateful sequences: how many a run has.
    pub sequences: u32,
    /// Hostile clients: idle connections held beside the normal client.
    pub idle_connections: usize,
}

impl Size {
    fn full() -> Self {
        Self {
            batch: Duration::from_millis(200),
            batches: 7,
            codegen_operations: vec![1, 10, 100, 500],
            repeats: 3,
            connections: 64,
            phase: Duration::from_secs(4),
            rounds: 3,
            contract_cases: 512,
            contract_concurrency: contract::Options::default().concurrency,
            cold_builds: true,
            list_records: 1_000_000,
            sequences: 256,
            idle_connections: 5_000,
        }
    }

    fn quick() -> Self {
        Self {
            batch: Duration::from_millis(20),
            batches: 3,
            codegen_operations: vec![1, 10, 50],
            repeats: 1,
            connections: 64,
            phase: Duration::from_millis(500),
            rounds: 1,
            contract_cases: 32,
            contract_concurrency: contract::Options::default().concurrency,
            cold_builds: false,
            list_records: 10_000,
            sequences: 16,
            idle_connections: 200,
        }
    }
}

/// The workspace root: this crate lives in `<root>/crates/bench`.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the bench crate sits two levels inside the workspace")
        .to_path_buf()
}

/// The spec's request example `name`.
pub fn example(name: &str) -> anyhow::Result<Value> {
    let spec = spec_schema::Spec::from_yaml(SPEC)?;
    spec.document()
        .pointer("/paths/~1api~1billing~1coworkertimepasses/post/requestBody/content/application~1json/examples")
        .and_then(|examples| examples.get(name))
        .and_then(|example| example.get("value"))
        .cloned()
        .with_context(|| format!("the spec has no request example `{name}`"))
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the figures; `Ok(false)` when a full run misses a target.
fn run(args: Args) -> anyhow::Result<bool> {
    let root = workspace_root();
    let size = if args.quick {
        Size::quick()
    } else {
        Size::full()
    };
    let wanted = |figure: u8| args.only.is_empty() || args.only.contains(&figure);
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut step = |figure: u8, name: &str, f: &dyn Fn() -> anyhow::Result<Vec<Row>>| {
        if !wanted(figure) {
            return anyhow::Ok(());
        }
        eprintln!("bench: {figure}. {name}");
        let figure_rows = f().with_context(|| format!("figure {figure} ({name})"))?;
        eprint!("{}", table::text(&figure_rows));
        rows.extend(figure_rows);
        Ok(())
    };
    step(1, "durable create", &|| durable::run(&size, &root))?;
    step(2, "contract runner", &|| contract_runner::run(&size, &root))?;
    step(3, "codegen scaling", &|| codegen_scaling::run(&size))?;
    step(4, "validation cost", &|| validation::run(&size))?;
    step(5, "build cost", &|| build_cost::run(&size, &root))?;
    step(6, "list scaling", &|| list_scaling::run(&size, &root))?;
    step(7, "stateful sequences", &|| {
        contract_runner::stateful(&size, &root)
    })?;
    step(8, "hostile clients", &|| hostile_load::run(&size, &root))?;
    step(9, "spec-compat scaling", &|| compat_scaling::run(&size))?;
    step(10, "sign-in", &|| sign_in::run(&size, &root))?;

    println!("{}", table::text(&rows));
    let failed = rows.iter().filter(|row| !row.passed()).count();
    let out = args.out.unwrap_or_else(|| {
        if args.quick || !args.only.is_empty() {
            root.join("target").join("BENCHMARKS-quick.md")
        } else {
            root.join("BENCHMARKS.md")
        }
    });
    let markdown = document(&rows, args.quick, started.elapsed());
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, markdown).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("bench: table written to {}", out.display());
    if failed > 0 {
        eprintln!("bench: {failed} target(s) missed");
    }
    // A quick run's sizes are too small for its ratios to mean anything: only the harness counts.
    Ok(args.quick || failed == 0)
}

/// The machine the figures come from.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("MemTotal"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or_else(String::new, |kib| {
            format!(", {:.0} GiB", kib / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
        |_| std::env::consts::OS.to_owned(),
        |release| format!("Linux {}", release.trim()),
    );
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}){memory}, {kernel}, {rustc}")
}

fn document(rows: &[Row], quick: bool, elapsed: Duration) -> String {
    let failed = rows.iter().filter(|row| !row.passed()).count();
    let verdict = match failed {
        0 => "Every target passes.".to_owned(),
        n => format!("{n} target(s) missed."),
    };
    let command = if quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    format!(
        "# Benchmarks\n\n\
         Written by `{command}` (release build) on {date}, in {elapsed:.0} s.\n\n\
         Machine: {machine}.\n\n\
         {verdict} Every target is a ratio of two figures taken in the same run, or an \
         absolute bound the README states.\n\n\
         {table}\n\
         {method}",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        elapsed = elapsed.as_secs_f64(),
        machine = machine(),
        table = table::markdown(rows),
        method = METHOD,
    )
}

const METHOD: &str = "\
## How each figure is taken

1. **Durable create and read.** The reference server (in the bench process, on its own tokio runtime) on a
   SQLite file under `target/`: a 200 is sent only after the transaction holding the record has
   committed, its write-ahead log fsynced (`synchronous=FULL`). A load generator
   (hyper, its own runtime) keeps 64 HTTP/1.1 keep-alive connections busy, each sending the next
   request when the last is answered. Baseline: the same body with `CreateMultiple` 0, which the
   server parses and validates in full and rejects with 400, storing nothing. Phases alternate
   (baseline, creates) for several rounds after a warm-up; after each phase the records are
   counted, and the run fails unless every 200 stored exactly its record and the baseline stored
   none. CPU time is the whole process's (server, SQLite writer and load generator). The server
   gets there by group commit: one writer thread takes every create queued while the previous
   commit was syncing and stores them in one transaction (each create atomic on its own, so a
   failing one fails alone), committed with `synchronous=FULL`, then answers them (the
   creates-per-commit row). Time-ordered (version 7) `UniqueId`s append to their unique index
   instead of dirtying a random page of it per record. A third phase reads one record by id
   (`GET /api/billing/coworkertimepasses/1`) with the same load: authentication, the path
   parameter, a read on a pooled read-only connection in a blocking task, the record as JSON.
   The targets are on CPU per request, not on throughput: a durable create at most 2× the CPU of
   a rejected request, a read by id at most 1.3×. The table keeps an index per sortable column
   (ten of them), because a list ordered by any field stays fast on 1,000,000 records (figure 6),
   a promise users see; each create pays for those indexes, and its throughput on two cores is
   bounded by the fsync of each group commit, which is the disk's, not the server's. CPU per
   request says what the server itself spends, whatever the disk; the throughput ratios are
   reported beside it.
2. **Contract runner.** `contract::run` (what `cargo xtask contract` runs) against the reference
   server, every operation: generation, set-ups, the typed call, decoding as the generated client
   does, response-schema validation, every check and follow-up read, cases in flight
   concurrently. Baseline: the same generated requests, replayed through the same HTTP client at
   the same concurrency with no checks and no set-ups. Requests per second are compared (a run
   sends more requests than its replay: set-ups and reads back). Both against a fresh reference
   server, alternating, the median round counts.
3. **Codegen scaling.** `codegen::generate` (what `cargo xtask codegen` runs) on specs made from
   the real one by repeating its operation, each copy with its own path, operationId, request
   and success schemas. The fastest of several runs per size counts.
4. **Validation cost.** `server_runtime::parse_json`, the synchronous part of what a generated
   handler does with a body (UTF-8, JSON, every schema violation, then the generated type),
   against `serde_json::from_slice` into the generated type, on the spec's own examples; the
   median of several timed batches. The `documented` example is the documentation's body, whose
   zero ids this project's schema rejects: the server parses it whole and reports all four
   violations with their messages, while serde_json gives up at the first field (a zero where the
   generated type holds a `NonZeroU64`), so that ratio compares a full report with an early exit.
   The `complete` example is accepted by both, which do their whole work. The steps rows split
   the server's time (each step timed alone): JSON into a `serde_json::Value`, the schema's
   pass/fail check, and building every violation with its path and message.
5. **Build cost.** Cold `cargo build --workspace` and `cargo test --workspace --no-run` into an
   empty target directory (crates already downloaded). A quick run times only the test build,
   warm, on the workspace's own target directory.
6. **List scaling.** Two stores, 1,000,000 and 10,000 records (10,000 and 100 in a quick run),
   filled through the store's writer, 100 records per create and each create its own customer.
   The page is what `GET /api/billing/coworkertimepasses?CoworkerTimePass_CoworkerId=N&orderBy=ExpireDate&dir=-1&size=25`
   asks the store for, read as the server reads (count and page in one read transaction, on a
   pooled connection in a blocking task): the median of several timed batches. The filter's
   index finds the customer's 100 records in either table, so the large table costs what its
   matches cost. An unfiltered page is reported beside it: its `TotalItems` count walks an
   index of every record, so it grows with the table.
7. **Stateful sequences.** As figure 2, for the stateful checks alone (no generated one-request
   cases, only the few fixed ones): 256 sequences of up to 24 operations (16 in a quick run), the
   run's requests/s against a replay of its log (the sequences' lists and audits included; the
   runs of figures 2 and 7 keep their records, so no clean-up is timed). Sequences and steps per second are the sequences' own wall time. The
   planted failure is a run told that the caller is someone else, so that the first record read
   names the wrong writer: the time its first failing sequence takes to shrink, and to how many
   steps.
8. **Hostile clients.** One keep-alive client reading by id, alone and then beside 50 clients
   sending their heads a byte at a time and 5,000 idle connections (200 in a quick run): the
   median latencies' ratio.
9. **Spec-compat scaling.** `spec_compat::compare` (what `cargo xtask spec-compat` runs), reading
   both documents included, on figure 3's synthetic specs against a copy with one edit per
   operation (a tighter request `maxLength`, a looser response `minimum`, a new optional request
   property, a description, in turn): half the findings break and each gets a witness drawn,
   judged by both versions and shrunk. Fastest of 3 runs per size.
10. **Sign-in.** As figure 1's creates (64 connections, alternating phases): with the built-in
   administrator's static token, and with an access token `POST /api/token` issued to the same
   user (looked up by its SHA-256 digest in memory). Then password grants on 8 connections:
   a wrong password of a known user, a right password of an unknown user (checked against a
   decoy hash of the same cost) and the right password (the check, then the new tokens stored
   with an fsync); Argon2id with its default parameters (19 MiB, 2 passes), one check per core at
   a time.
";
