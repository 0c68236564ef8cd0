//! Figure 4: what the server's validation costs over plain deserialisation.
//!
//! The server path is `server_runtime::parse_json`, the synchronous part of what a generated
//! handler does with a body (UTF-8, JSON, every schema violation, then the generated type); the
//! baseline is `serde_json::from_slice` into the same generated type.

use std::{hint::black_box, time::Instant};

use nexudus_types::CoworkerTimePassCreate;
use server_runtime::Validator;

use crate::{
    Size,
    table::{Row, Target},
};

const FIGURE: &str = "4. validation cost";

/// Nanoseconds per call of `f`, the median of `size.batches` timed batches.
fn nanos_per_call(size: &Size, mut f: impl FnMut()) -> f64 {
    // Calibrate: as many calls as fit in the batch time.
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < size.batch / 10 {
        f();
        calls += 1;
    }
    let per_batch = (calls * 10).max(1);
    let mut samples: Vec<f64> = (0..size.batches)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            started.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Measures both examples of the spec: `documented` (the documentation's body, which this
/// project's schema rejects) and `complete` (every field set, accepted).
pub fn run(size: &Size) -> anyhow::Result<Vec<Row>> {
    let definitions = serde_json::from_str(nexudus_server_api::SCHEMA_DEFINITIONS)?;
    let validator = Validator::new(definitions, "CoworkerTimePassCreate")?;
    let mut rows = Vec::new();
    for name in ["documented", "complete"] {
        let body = serde_json::to_vec(&crate::example(name)?)?;
        let accepted = server_runtime::parse_json::<CoworkerTimePassCreate>(&body, &validator);
        let outcome = match &accepted {
            Ok(_) => "accepted".to_owned(),
            Err(server_runtime::Rejection::Invalid(violations)) => format!(
                "rejected with all {} violations; serde_json stops at the first",
                violations.len()
            ),
            Err(other) => anyhow::bail!("example {name}: unexpected rejection {other:?}"),
        };
        let server = nanos_per_call(size, || {
            let _ = black_box(server_runtime::parse_json::<CoworkerTimePassCreate>(
                black_box(&body),
                &validator,
            ));
        });
        let serde = nanos_per_call(size, || {
            let _ = black_box(serde_json::from_slice::<CoworkerTimePassCreate>(black_box(
                &body,
            )));
        });
        // Where the server's time goes, step by step.
        let value: serde_json::Value = serde_json::from_slice(&body)?;
        let steps = [
            (
                "JSON into a serde_json::Value",
                nanos_per_call(size, || {
                    let _ = black_box(serde_json::from_slice::<serde_json::Value>(black_box(
                        &body,
                    )));
                }),
            ),
            (
                "schema check alone (is_valid)",
                nanos_per_call(size, || {
                    black_box(validator.is_valid(black_box(&value)));
                }),
            ),
            (
                "every violation with its message",
                nanos_per_call(size, || {
                    black_box(validator.violations(black_box(&value)));
                }),
            ),
        ];
        let steps = steps
            .iter()
            .map(|(step, nanos)| format!("{step} {nanos:.0} ns"))
            .collect::<Vec<_>>()
            .join("; ");
        rows.push(Row::reported(
            FIGURE,
            format!("serde_json into the generated type, `{name}` example"),
            format!("{serde:.0} ns"),
        ));
        rows.push(Row::reported(
            FIGURE,
            format!("server validation's steps, `{name}` example"),
            steps,
        ));
        rows.push(Row::ratio(
            FIGURE,
            format!("server validation, `{name}` example ({outcome}) vs serde_json"),
            format!("{server:.0} ns"),
            server / serde,
            Target::AtMost(5.0),
        ));
    }
    Ok(rows)
}
