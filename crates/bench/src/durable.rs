//! Figure 1: durable creates against requests that fail validation, and reads by id against
//! creates, same load, same run.
//!
//! The reference server runs on its own tokio runtime with a SQLite file under `target/` (a
//! real disk, where an fsync costs what it costs), the load generator on another. Phases
//! alternate, baseline first, so that drift in the machine's speed hits all alike. After each
//! phase the database is counted: every 200 of a create must have stored exactly its record,
//! and the baseline and the reads nothing.

use std::{path::Path, time::Duration};

use anyhow::{bail, ensure};
use bytes::Bytes;

use crate::{
    Size,
    load::{self, Load, Template},
    table::{Row, Target, per_second},
};

const FIGURE: &str = "1. durable create";

/// The `complete` example with `CreateMultiple` set.
fn body(create_multiple: u32) -> anyhow::Result<Bytes> {
    let mut example = crate::example("complete")?;
    example["CreateMultiple"] = create_multiple.into();
    Ok(Bytes::from(serde_json::to_vec(&example)?))
}

/// CPU time this process has used so far (server, writer and load generator together), from
/// `/proc/self/stat`; zero where that does not exist.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line: 12th and 13th after the name.
            let field = |index: usize| fields.get(index)?.parse::<u64>().ok();
            Some(field(11)? + field(12)?)
        })
        .unwrap_or(0);
    // The kernel's USER_HZ is 100 on every Linux platform Rust supports.
    Duration::from_millis(ticks * 10)
}

/// The process's CPU time per answered request of `load`, in µs.
fn micros_per_request(cpu: Duration, load: &Load) -> f64 {
    cpu.as_secs_f64() * 1e6 / load.latencies.len().max(1) as f64
}

fn cpu_per_request(cpu: Duration, load: &Load) -> String {
    format!(
        "{:.0} µs CPU per request, {:.2} cores busy",
        micros_per_request(cpu, load),
        cpu.as_secs_f64() / load.elapsed.as_secs_f64()
    )
}

fn latency(load: &Load) -> String {
    format!(
        "p50 {:.2} ms, p99 {:.2} ms",
        load.percentile(0.50).as_secs_f64() * 1e3,
        load.percentile(0.99).as_secs_f64() * 1e3
    )
}

/// Runs the phases and returns the rows.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let served = load::serve(root)?;
    let server = served.reference.server();
    let (address, token) = (served.address, served.token.clone());
    let template = |body| Template {
        method: http::Method::POST,
        path: "/api/billing/coworkertimepasses".to_owned(),
        token: Some(token.clone()),
        body: Some(("application/json", body)),
    };
    let creates = template(body(1)?);
    let invalid = template(body(0)?);
    // The record every read asks for: the first one the warm-up creates.
    let reads = Template {
        method: http::Method::GET,
        path: "/api/billing/coworkertimepasses/1".to_owned(),
        token: Some(token.clone()),
        body: None,
    };

    let load_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut baseline = Load::default();
    let mut durable = Load::default();
    let mut read = Load::default();
    let mut stored_by_creates = 0;
    let (mut baseline_cpu, mut durable_cpu, mut read_cpu) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut commits_by_creates = 0;
    // A short warm-up so that neither kind pays for connection set-up or cold caches.
    load_runtime.block_on(load::run(
        address,
        size.connections,
        size.phase / 10,
        &creates,
    ))?;
    #[derive(Clone, Copy, PartialEq)]
    enum Phase {
        Baseline,
        Creates,
        Reads,
    }
    for _ in 0..size.rounds {
        for (template, phase) in [
            (&invalid, Phase::Baseline),
            (&creates, Phase::Creates),
            (&reads, Phase::Reads),
        ] {
            let stores = phase == Phase::Creates;
            let before = server.store().count()?;
            let commits = server.store().commits();
            let cpu = cpu_time();
            let load = load_runtime.block_on(load::run(
                address,
                size.connections,
                size.phase,
                template,
            ))?;
            let cpu = cpu_time() - cpu;
            let (into, cpu_into) = match phase {
                Phase::Baseline => (&mut baseline, &mut baseline_cpu),
                Phase::Creates => (&mut durable, &mut durable_cpu),
                Phase::Reads => (&mut read, &mut read_cpu),
            };
            *cpu_into += cpu;
            let stored = server.store().count()? - before;
            let expected = if phase == Phase::Baseline { 400 } else { 200 };
            ensure!(
                load.count(expected) == load.latencies.len() as u64,
                "expected only {expected}s, got {:?}",
                load.statuses
            );
            let acknowledged = if stores { load.count(200) } else { 0 };
            if stored != acknowledged {
                bail!("{acknowledged} creates were acknowledged but {stored} records were stored");
            }
            if stores {
                stored_by_creates += stored;
                commits_by_creates += server.store().commits() - commits;
            } else {
                ensure!(
                    server.store().commits() == commits,
                    "a request that failed validation, or a read, wrote to the database"
                );
            }
            into.merge(load);
        }
    }
    drop(served);

    let connections = size.connections;
    Ok(vec![
        Row::reported(
            FIGURE,
            format!("baseline: requests failing validation, {connections} connections"),
            format!(
                "{} ({}, {})",
                per_second(baseline.rate()),
                latency(&baseline),
                cpu_per_request(baseline_cpu, &baseline)
            ),
        ),
        Row::reported(
            FIGURE,
            format!("durable creates (CreateMultiple 1), {connections} connections"),
            format!(
                "{} ({}, {})",
                per_second(durable.rate()),
                latency(&durable),
                cpu_per_request(durable_cpu, &durable)
            ),
        ),
        Row::reported(
            FIGURE,
            "creates per commit (group commit: one fsync each)",
            format!(
                "{:.1} ({stored_by_creates} records in {commits_by_creates} commits)",
                (stored_by_creates as f64) / (commits_by_creates.max(1) as f64)
            ),
        ),
        Row::compared(
            FIGURE,
            "durable creates/s vs baseline requests/s",
            per_second(durable.rate()),
            durable.rate() / baseline.rate(),
        ),
        Row::ratio(
            FIGURE,
            "CPU per durable create vs per rejected request",
            format!(
                "{:.0} µs vs {:.0} µs",
                micros_per_request(durable_cpu, &durable),
                micros_per_request(baseline_cpu, &baseline)
            ),
            micros_per_request(durable_cpu, &durable) / micros_per_request(baseline_cpu, &baseline),
            Target::AtMost(2.0),
        ),
        Row::reported(
            FIGURE,
            format!("reads of one record by id, {connections} connections"),
            format!(
                "{} ({}, {})",
                per_second(read.rate()),
                latency(&read),
                cpu_per_request(read_cpu, &read)
            ),
        ),
        Row::compared(
            FIGURE,
            "reads/s vs durable creates/s",
            per_second(read.rate()),
            read.rate() / durable.rate(),
        ),
        Row::ratio(
            FIGURE,
            "CPU per read by id vs per rejected request",
            format!(
                "{:.0} µs vs {:.0} µs",
                micros_per_request(read_cpu, &read),
                micros_per_request(baseline_cpu, &baseline)
            ),
            micros_per_request(read_cpu, &read) / micros_per_request(baseline_cpu, &baseline),
            Target::AtMost(1.3),
        ),
    ])
}
