//! Figure 3: how `cargo xtask codegen`'s generator scales with the number of operations.
//!
//! Synthetic specs repeat the real create operation (without its links, which lead to operations
//! the copies do not have): copy `i` gets its own path, operationId and its own copies of the
//! request and success schemas (so types grow with operations, as in a real API); the error
//! envelope and the shared responses are shared, as they are across Nexudus' endpoints.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value};

use crate::{
    Size,
    table::{Row, Target},
};

const FIGURE: &str = "3. codegen scaling";
const PATH: &str = "/api/billing/coworkertimepasses";
/// The schemas each copy of the operation gets for itself.
const PER_OPERATION: [&str; 3] = ["CoworkerTimePassCreate", "CreateSuccess", "CreatedRecord"];

/// The real spec with its create operation repeated `operations` times.
pub fn synthetic_spec(operations: usize) -> anyhow::Result<String> {
    let spec = spec_schema::Spec::from_yaml(crate::SPEC)?;
    let mut document = spec.document().clone();
    let mut create = document
        .pointer(&format!("/paths/{}/post", PATH.replace('/', "~1")))
        .cloned()
        .context("the spec lost its create operation")?;
    if let Some(success) = create
        .pointer_mut("/responses/200")
        .and_then(Value::as_object_mut)
    {
        success.remove("links");
    }
    let path_item = serde_json::json!({ "post": create });
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .context("the spec has no schemas")?;
    let mut paths = Map::new();
    let mut new_schemas: Map<String, Value> = schemas
        .iter()
        .filter(|(name, _)| !PER_OPERATION.contains(&name.as_str()))
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect();
    for index in 0..operations {
        let rename = |value: &Value| -> anyhow::Result<Value> {
            let mut text = serde_json::to_string(value)?;
            for name in PER_OPERATION {
                text = text.replace(
                    &format!("\"#/components/schemas/{name}\""),
                    &format!("\"#/components/schemas/{name}{index}\""),
                );
            }
            text = text.replace(
                "\"create_coworker_time_pass\"",
                &format!("\"create_coworker_time_pass_{index}\""),
            );
            Ok(serde_json::from_str(&text)?)
        };
        paths.insert(format!("{PATH}/copy{index}"), rename(&path_item)?);
        for name in PER_OPERATION {
            let schema = schemas.get(name).context("a schema went missing")?;
            new_schemas.insert(format!("{name}{index}"), rename(schema)?);
        }
    }
    document["paths"] = Value::Object(paths);
    document["components"]["schemas"] = Value::Object(new_schemas);
    Ok(serde_json::to_string(&document)?)
}

fn generate(spec: &str) -> anyhow::Result<(Duration, usize)> {
    let settings = codegen::Settings {
        types_path: "crate::types".into(),
        server_trait: "SyntheticApi".into(),
        spec_path: "synthetic.json".into(),
        command: "cargo xtask bench".into(),
        client_hooks: None,
        private_new: false,
        api_connect: None,
        schemars_feature: None,
    };
    let started = Instant::now();
    let generated = codegen::generate(spec, &settings)?;
    let elapsed = started.elapsed();
    let lines = [&generated.types, &generated.client, &generated.server]
        .iter()
        .map(|text| text.lines().count())
        .sum();
    Ok((elapsed, lines))
}

/// Times the generator on each size (the fastest of `size.repeats` runs, since anything else
/// on the machine only ever adds time).
pub fn run(size: &Size) -> anyhow::Result<Vec<Row>> {
    scaling_figure(
        FIGURE,
        size,
        Duration::from_secs(10),
        synthetic_spec,
        |spec| {
            let (elapsed, lines) = generate(spec)?;
            Ok((elapsed, format!("{lines} generated lines")))
        },
    )
}

/// A scaling figure: for each of `size.codegen_operations`, an input made by `prepare`, timed by
/// `time` (the fastest of `size.repeats` runs, with what the run says of itself), a row each,
/// and the targets of the last two sizes (100 and 500 in a full run).
pub fn scaling_figure<T>(
    figure: &'static str,
    size: &Size,
    limit: Duration,
    prepare: impl Fn(usize) -> anyhow::Result<T>,
    time: impl Fn(&T) -> anyhow::Result<(Duration, String)>,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut per_operation = Vec::new();
    for &operations in &size.codegen_operations {
        let input = prepare(operations)?;
        let mut best = Duration::MAX;
        let mut said = String::new();
        for _ in 0..size.repeats {
            let (elapsed, what) = time(&input)?;
            best = best.min(elapsed);
            said = what;
        }
        let each = best.as_secs_f64() / operations as f64;
        per_operation.push((operations, best, each));
        rows.push(Row::reported(
            figure,
            format!("{operations} operations ({said})"),
            format!(
                "{:.3} s, {:.2} ms per operation",
                best.as_secs_f64(),
                each * 1e3
            ),
        ));
    }
    rows.extend(scaling_targets(figure, &per_operation, limit));
    Ok(rows)
}

/// The targets of a scaling figure from its `(operations, total, per operation)` sizes: time per
/// operation at the last size against the one before at most 1.5×, the last size's total under
/// `limit`.
fn scaling_targets(
    figure: &'static str,
    per_operation: &[(usize, Duration, f64)],
    limit: Duration,
) -> Vec<Row> {
    let [.., (small, _, small_each), (large, large_total, large_each)] = per_operation[..] else {
        return Vec::new();
    };
    vec![
        Row::ratio(
            figure,
            format!("time per operation, {large} vs {small} operations"),
            format!("{:.2} ms vs {:.2} ms", large_each * 1e3, small_each * 1e3),
            large_each / small_each,
            Target::AtMost(1.5),
        ),
        Row::bounded(
            figure,
            format!("{large} operations in total"),
            format!("{:.2} s", large_total.as_secs_f64()),
            &format!("< {} s", limit.as_secs()),
            large_total < limit,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthetic_spec_has_one_operation_and_schema_set_per_copy() {
        let spec: Value = serde_json::from_str(&synthetic_spec(3).unwrap()).unwrap();
        let paths = spec["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 3);
        let operation = &paths[&format!("{PATH}/copy2")]["post"];
        assert_eq!(operation["operationId"], "create_coworker_time_pass_2");
        let schemas = spec["components"]["schemas"].as_object().unwrap();
        assert!(schemas.contains_key("CoworkerTimePassCreate2"));
        assert!(!schemas.contains_key("CoworkerTimePassCreate"));
        assert!(schemas.contains_key("ErrorEnvelope"));
        assert_eq!(
            schemas["CreateSuccess1"]["properties"]["Value"]["$ref"],
            "#/components/schemas/CreatedRecord1"
        );
    }
}
