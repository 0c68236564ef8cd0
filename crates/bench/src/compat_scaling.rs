//! Figure 9: how `cargo xtask spec-compat` scales with the number of operations.
//!
//! Figure 3's synthetic specs (the create operation repeated, each copy with its own request and
//! success schemas) are compared with a copy carrying one edit per operation, in turn a tighter
//! request bound and a looser response bound (both breaking, so each needs a witness drawn,
//! judged and shrunk), a new optional request property and a description (neither). The time
//! covers reading both documents and the whole comparison.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::{
    Size,
    codegen_scaling::{scaling_figure, synthetic_spec},
    table::Row,
};

const FIGURE: &str = "9. spec-compat scaling";

/// The synthetic spec with copy `i`'s schemas edited as the module says.
fn edited(spec: &str, operations: usize) -> anyhow::Result<String> {
    let mut document: Value = serde_json::from_str(spec)?;
    let schemas = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .context("the synthetic spec has no schemas")?;
    for index in 0..operations {
        let request = format!("CoworkerTimePassCreate{index}");
        let (schema, pointer, value) = match index % 4 {
            0 => (request, "/properties/PurchaseOrder/maxLength", json!(100)),
            1 => (
                format!("CreatedRecord{index}"),
                "/properties/Id/minimum",
                json!(0),
            ),
            2 => (request, "/properties/Site", json!({"type": "string"})),
            _ => (request, "/description", json!("Edited.")),
        };
        let target = schemas
            .get_mut(&schema)
            .with_context(|| format!("the synthetic spec has no {schema}"))?;
        let (parent, key) = pointer
            .rsplit_once('/')
            .context("a pointer without a key")?;
        target
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .with_context(|| format!("{schema} has no {parent}"))?
            .insert(key.to_owned(), value);
    }
    Ok(serde_json::to_string(&document)?)
}

/// One comparison: its time and findings (breaking, with a witness).
fn compare(released: &str, current: &str) -> anyhow::Result<(Duration, usize, usize)> {
    let started = Instant::now();
    let released = spec_compat::Version::parse(released)?;
    let current = spec_compat::Version::parse(current)?;
    let findings = spec_compat::compare(&released, &current);
    let elapsed = started.elapsed();
    let breaking = findings.iter().filter(|finding| finding.breaks()).count();
    let proven = findings
        .iter()
        .filter(|finding| matches!(finding.evidence, spec_compat::Evidence::Witness { .. }))
        .count();
    anyhow::ensure!(
        proven == breaking,
        "{} of {breaking} breaking findings have no witness",
        breaking - proven
    );
    Ok((elapsed, findings.len(), breaking))
}

/// Times the comparison on each size (the fastest of `size.repeats` runs).
pub fn run(size: &Size) -> anyhow::Result<Vec<Row>> {
    scaling_figure(
        FIGURE,
        size,
        Duration::from_secs(5),
        |operations| {
            let released = synthetic_spec(operations)?;
            let current = edited(&released, operations)?;
            Ok((released, current))
        },
        |(released, current)| {
            let (elapsed, findings, breaking) = compare(released, current)?;
            Ok((
                elapsed,
                format!("{findings} findings, {breaking} breaking with a witness"),
            ))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_copy_gets_one_edit_and_every_break_a_witness() {
        let released = synthetic_spec(4).unwrap();
        let current = edited(&released, 4).unwrap();
        let (_, findings, breaking) = compare(&released, &current).unwrap();
        assert_eq!((findings, breaking), (4, 2));
    }
}
