//! Figure 8: a normal client's latency while slow and idle clients hold connections, against the
//! same client alone.
//!
//! The reference server runs with its default limits on its own runtime. The normal client
//! reads one record over one keep-alive connection, one request at a time. The hostile clients
//! are 50 that send a request head a byte every 500 ms (each starts again when the server drops
//! it at its header timeout) and 5,000 that connect and send nothing (fewer when the open-file
//! limit would not allow them, as the table says). Phases alternate, the client alone first.

use std::{
    net::SocketAddr,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, ensure};
use tokio::net::TcpStream;

use crate::{
    Size,
    load::{self, Load, Template},
    table::{Row, Target},
};

const FIGURE: &str = "8. hostile clients";
/// Clients that send a head a byte at a time.
const SLOW: usize = 50;
/// Clients that connect and send nothing, at most.
const IDLE: usize = 5_000;

/// The soft limit on open files, from `/proc/self/limits`.
fn open_file_limit() -> Option<usize> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|line| line.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// Holds `count` idle connections until dropped.
async fn idle(address: SocketAddr, count: usize) -> anyhow::Result<Vec<TcpStream>> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        held.push(
            TcpStream::connect(address)
                .await
                .context("opening an idle connection")?,
        );
    }
    Ok(held)
}

/// A client that sends a request head a byte every 500 ms, again and again, until `stop`.
async fn slow(address: SocketAddr, stop: Arc<AtomicBool>, dropped: Arc<AtomicU64>) {
    let head = b"GET /api/billing/coworkertimepasses HTTP/1.1\r\nHost: bench\r\nX-Slow: ";
    while !stop.load(Ordering::Relaxed) {
        let Ok(stream) = TcpStream::connect(address).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if stream.writable().await.is_err() || stream.try_write(&[*byte]).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

fn latency(load: &Load) -> String {
    format!(
        "p50 {:.3} ms, p99 {:.3} ms ({} requests)",
        load.percentile(0.50).as_secs_f64() * 1e3,
        load.percentile(0.99).as_secs_f64() * 1e3,
        load.latencies.len()
    )
}

/// Runs the phases and returns the rows.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let served = load::serve(root)?;
    let (address, token) = (served.address, served.token.clone());
    let load_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // One record to read.
    let create = Template {
        method: http::Method::POST,
        path: "/api/billing/coworkertimepasses".to_owned(),
        token: Some(token.clone()),
        body: Some((
            "application/json",
            serde_json::to_vec(&crate::example("complete")?)?.into(),
        )),
    };
    load_runtime.block_on(load::run(address, 1, Duration::from_millis(50), &create))?;
    let read = Template {
        method: http::Method::GET,
        path: "/api/billing/coworkertimepasses/1".to_owned(),
        token: Some(token),
        body: None,
    };
    // Each idle connection is two descriptors in this process (client and server side).
    let idle_count = open_file_limit()
        .map_or(IDLE, |limit| IDLE.min(limit.saturating_sub(1_000) / 2))
        .min(size.idle_connections);
    let mut alone = Load::default();
    let mut beside = Load::default();
    let dropped = Arc::new(AtomicU64::new(0));
    load_runtime.block_on(load::run(address, 1, size.phase / 10, &read))?;
    for _ in 0..size.rounds {
        alone.merge(load_runtime.block_on(load::run(address, 1, size.phase, &read))?);
        let stop = Arc::new(AtomicBool::new(false));
        let held = load_runtime.block_on(idle(address, idle_count))?;
        let slow_clients: Vec<_> = (0..SLOW)
            .map(|_| load_runtime.spawn(slow(address, Arc::clone(&stop), Arc::clone(&dropped))))
            .collect();
        // Let every slow client get its connection and start its head.
        std::thread::sleep(Duration::from_millis(200));
        beside.merge(load_runtime.block_on(load::run(address, 1, size.phase, &read))?);
        stop.store(true, Ordering::Relaxed);
        for client in slow_clients {
            load_runtime.block_on(client)?;
        }
        drop(held);
    }
    for load in [&alone, &beside] {
        ensure!(
            load.count(200) == load.latencies.len() as u64,
            "the normal client got {:?}",
            load.statuses
        );
    }
    let p50 = |load: &Load| load.percentile(0.50).as_secs_f64();
    Ok(vec![
        Row::reported(FIGURE, "a read by id, one client alone", latency(&alone)),
        Row::reported(
            FIGURE,
            format!("the same beside {SLOW} slow heads and {idle_count} idle connections"),
            format!(
                "{}; slow clients dropped at the header timeout: {}",
                latency(&beside),
                dropped.load(Ordering::Relaxed)
            ),
        ),
        Row::ratio(
            FIGURE,
            "median latency beside the hostile clients vs alone",
            format!("{:.3} ms", p50(&beside) * 1e3),
            p50(&beside) / p50(&alone),
            Target::AtMost(2.0),
        ),
    ])
}
