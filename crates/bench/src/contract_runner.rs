//! Figures 2 and 7: the contract runner's throughput against replaying its requests without
//! checks, for the one-request cases (2) and the stateful sequences (7).
//!
//! Both sides talk to a fresh reference server (database under `target/`) with the same number
//! of requests in flight; the replay sends every request a first run sent (set-ups, cases,
//! reads back, the sequences' lists and audits), as it sent them, and checks nothing. The runs
//! keep their records (the clean-up is not what is measured). Requests per second are compared: what generation, the typed client, the model and
//! the checks cost per request. Rounds alternate and the median of each side counts.

use std::{path::Path, time::Instant};

use anyhow::ensure;
use contract_cli::Reference;

use crate::{
    Size,
    table::{Row, Target, per_second},
};

const FIGURE: &str = "2. contract runner";
const STATEFUL_FIGURE: &str = "7. stateful sequences";

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The medians of alternating rounds of runs and replays with `options`.
struct Rounds {
    /// Requests per second of the runs.
    run: f64,
    /// Requests per second of the replays.
    replay: f64,
    /// Requests a run sends.
    requests: usize,
    /// The last run's report.
    report: contract::Report,
}

fn rounds(size: &Size, root: &Path, options: &contract::Options) -> anyhow::Result<Rounds> {
    let scratch = root.join("target");
    std::fs::create_dir_all(&scratch)?;
    // Both sides keep the log, so that both count the same requests. The records are kept: the
    // clean-up deletes more at once than the cases have in flight, which the replay would not.
    let options = contract::Options {
        log_requests: true,
        keep_records: true,
        ..*options
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let payloads = {
            let reference = Reference::start_in(&scratch).await?;
            contract::run(
                &nexudus_client::API,
                &reference.target(),
                &options,
                &mut || (),
            )
            .await?
            .sent
        };
        let mut replays = Vec::new();
        let mut runs = Vec::new();
        let mut last = None;
        for _ in 0..size.rounds {
            let reference = Reference::start_in(&scratch).await?;
            let started = Instant::now();
            let statuses = contract::replay(
                reference.server().base_url(),
                &payloads,
                options.concurrency,
            )
            .await?;
            replays.push(statuses.len() as f64 / started.elapsed().as_secs_f64());
            ensure!(
                statuses.iter().all(|status| *status < 500),
                "the replay got a 5xx"
            );
            drop(reference);

            let reference = Reference::start_in(&scratch).await?;
            let report = contract::run(
                &nexudus_client::API,
                &reference.target(),
                &options,
                &mut || (),
            )
            .await?;
            // Without generated cases (figure 7) the coverage of statuses only they cause is not
            // asked for: every check that ran must hold.
            let held = report.groups.iter().all(|group| {
                options.cases == 0
                    && matches!(group.check, contract::Check::Produced(_))
                    && group.operation != contract::STATEFUL
            });
            ensure!(
                held,
                "the reference server failed the contract:\n{}",
                report.failure_details()
            );
            runs.push(report.sent.len() as f64 / report.elapsed.as_secs_f64());
            last = Some(report);
        }
        Ok(Rounds {
            run: median(runs),
            replay: median(replays),
            requests: payloads.len(),
            report: last.expect("at least one round"),
        })
    })
}

fn checks(report: &contract::Report) -> u64 {
    report.tallies.values().map(|tally| tally.passed).sum()
}

/// Figure 2: the one-request cases.
pub fn run(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let options = contract::Options {
        cases: size.contract_cases,
        seed: 1,
        concurrency: size.contract_concurrency,
        sequences: 0,
        ..contract::Options::default()
    };
    let rounds = rounds(size, root, &options)?;
    let concurrency = options.concurrency;
    Ok(vec![
        Row::reported(
            FIGURE,
            format!(
                "baseline: replay of the {} requests a run sent, no checks, {concurrency} in flight",
                rounds.requests
            ),
            format!("{} requests", per_second(rounds.replay)),
        ),
        Row::reported(
            FIGURE,
            format!(
                "contract run: {} cases/operation each valid and invalid, {} operations, \
                 {} checks, {concurrency} in flight",
                options.cases,
                contract::operations(&nexudus_client::API).len(),
                checks(&rounds.report)
            ),
            format!("{} requests", per_second(rounds.run)),
        ),
        Row::ratio(
            FIGURE,
            "contract requests/s vs replayed requests/s",
            format!("{} requests", per_second(rounds.run)),
            rounds.run / rounds.replay,
            Target::AtLeast(0.5),
        ),
    ])
}

/// Figure 7: the stateful sequences (with no one-request cases but the few fixed ones), and the
/// time a planted failure takes to shrink.
pub fn stateful(size: &Size, root: &Path) -> anyhow::Result<Vec<Row>> {
    let options = contract::Options {
        cases: 0,
        seed: 1,
        concurrency: size.contract_concurrency,
        sequences: size.sequences,
        steps: 24,
        ..contract::Options::default()
    };
    let rounds = rounds(size, root, &options)?;
    let stateful = rounds.report.stateful;
    let seconds = stateful.elapsed.as_secs_f64();
    let planted = planted(root, &options)?;
    let concurrency = options.concurrency;
    Ok(vec![
        Row::reported(
            STATEFUL_FIGURE,
            format!(
                "baseline: replay of the {} requests a run sent, no checks, {concurrency} in flight",
                rounds.requests
            ),
            format!("{} requests", per_second(rounds.replay)),
        ),
        Row::reported(
            STATEFUL_FIGURE,
            format!(
                "{} sequences of up to {} operations ({} in all), {} checks, {concurrency} in flight",
                stateful.sequences,
                options.steps,
                stateful.steps,
                checks(&rounds.report)
            ),
            format!(
                "{} sequences, {} steps",
                per_second(stateful.sequences as f64 / seconds),
                per_second(stateful.steps as f64 / seconds)
            ),
        ),
        Row::reported(
            STATEFUL_FIGURE,
            "shrinking a planted failure (the records must name another caller)",
            planted,
        ),
        Row::ratio(
            STATEFUL_FIGURE,
            "stateful requests/s vs replayed requests/s",
            format!("{} requests", per_second(rounds.run)),
            rounds.run / rounds.replay,
            Target::AtLeast(0.5),
        ),
    ])
}

/// How long the first failing sequence takes to shrink when the run is told the caller is
/// someone else (every record read then names the wrong writer), and to how many steps.
fn planted(root: &Path, options: &contract::Options) -> anyhow::Result<String> {
    let scratch = root.join("target");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let reference = Reference::start_in(&scratch).await?;
        let target = contract::Target {
            caller: Some("someone-else@example.com".into()),
            ..reference.target()
        };
        let options = contract::Options {
            log_requests: false,
            ..*options
        };
        let report = contract::run(&nexudus_client::API, &target, &options, &mut || ()).await?;
        let failure = report
            .groups
            .iter()
            .filter(|group| group.operation == contract::STATEFUL)
            .find_map(|group| group.failure.as_ref())
            .ok_or_else(|| anyhow::anyhow!("the planted failure was not caught"))?;
        Ok(format!(
            "{:.2} s, to {} steps",
            report.shrinking.as_secs_f64(),
            failure.sequence.unwrap_or_default()
        ))
    })
}
