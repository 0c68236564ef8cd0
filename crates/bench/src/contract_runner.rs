//! Figure 2: the contract runner's throughput against replaying its requests without checks.
//!
//! Both sides talk to a fresh reference server (database under `target/`) with the same number
//! of requests in flight; the replay sends every request a first run sent (set-ups, cases,
//! reads back), as it sent them, and checks nothing. Requests per second are compared: what
//! generation, the typed client and the checks cost per request. Rounds alternate and the median
//! of each side counts.

use std::{path::Path, time::Instant};

use anyhow::ensure;
use contract_cli::Reference;

use crate::{
    Size,
    table::{Row, Target, per_second},
};

const FIGURE: &str = "2. contract runner";

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the rounds and returns the rows.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let scratch = root.join("target");
    std::fs::create_dir_all(&scratch)?;
    let options = contract::Options {
        cases: size.contract_cases,
        seed: 1,
        concurrency: size.contract_concurrency,
        ..contract::Options::default()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let payloads = {
            let reference = Reference::start_in(&scratch).await?;
            let logging = contract::Options {
                log_requests: true,
                ..options
            };
            contract::run(&reference.target(), &logging, &mut || ()).await?.sent
        };
        let mut replays = Vec::new();
        let mut runs = Vec::new();
        let mut checks = 0;
        for _ in 0..size.rounds {
            let reference = Reference::start_in(&scratch).await?;
            let started = Instant::now();
            let statuses =
                contract::replay(reference.server().base_url(), &payloads, options.concurrency)
                    .await?;
            replays.push(statuses.len() as f64 / started.elapsed().as_secs_f64());
            ensure!(
                statuses.iter().all(|status| *status < 500),
                "the replay got a 5xx"
            );
            drop(reference);

            let reference = Reference::start_in(&scratch).await?;
            let report = contract::run(&reference.target(), &options, &mut || ()).await?;
            ensure!(
                report.passed(),
                "the reference server failed the contract:\n{}",
                report.failure_details()
            );
            runs.push(report.requests as f64 / report.elapsed.as_secs_f64());
            checks = report
                .tallies
                .values()
                .map(|tally| tally.passed)
                .sum::<u64>();
        }
        let (replay, run) = (median(replays), median(runs));
        let concurrency = options.concurrency;
        Ok(vec![
            Row::reported(
                FIGURE,
                format!(
                    "baseline: replay of the {} requests a run sent, no checks, {concurrency} in flight",
                    payloads.len()
                ),
                format!("{} requests", per_second(replay)),
            ),
            Row::reported(
                FIGURE,
                format!(
                    "contract run: {} cases/operation each valid and invalid, {} operations, \
                     {checks} checks, {concurrency} in flight",
                    options.cases,
                    contract::operations().len()
                ),
                format!("{} requests", per_second(run)),
            ),
            Row::ratio(
                FIGURE,
                "contract requests/s vs replayed requests/s",
                format!("{} requests", per_second(run)),
                run / replay,
                Target::AtLeast(0.5),
            ),
        ])
    })
}
