//! A run's requests sent again without any check or set-up: the baseline a run's throughput is
//! measured against (`cargo xtask bench`).

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use nexudus_server_api::Operation;

use crate::{ContractError, Options, Target, exchange, plan::Spec, runner};

/// One request of a run, as [`payloads`] lists them.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The operation it is sent to.
    pub operation: &'static Operation,
    /// The path and query, as sent.
    pub path_and_query: String,
    /// The JSON body, if the operation takes one.
    pub body: Option<Bytes>,
}

/// The generated requests a run with `options` sends (valid, then invalid, per operation),
/// without shrinking, set-ups or follow-ups.
pub fn payloads(options: &Options) -> Result<Vec<Payload>, ContractError> {
    let spec = Spec::load(crate::operations())?;
    let mut payloads = Vec::new();
    for plan in &spec.plans {
        for request in runner::requests(&spec, plan, options)? {
            payloads.push(Payload {
                operation: plan.operation,
                path_and_query: exchange::url("", plan.operation, &request),
                body: request.body.map(|body| {
                    Bytes::from(serde_json::to_vec(&body).expect("JSON values serialise"))
                }),
            });
        }
    }
    Ok(payloads)
}

/// Sends `payloads` to `target` with the token's generated client, `concurrency` at a time, and
/// checks nothing. Returns the statuses, in order.
pub async fn replay(
    target: &Target,
    payloads: &[Payload],
    concurrency: usize,
) -> Result<Vec<u16>, ContractError> {
    let client =
        nexudus_client::authenticated(&target.base_url, &target.token).map_err(|source| {
            ContractError::Client {
                base_url: target.base_url.clone(),
                source,
            }
        })?;
    let client = &client;
    let base_url = target.base_url.trim_end_matches('/');
    stream::iter(payloads)
        .map(|payload| async move {
            exchange::send_raw(
                client,
                payload.operation.method,
                format!("{base_url}{}", payload.path_and_query),
                payload.body.as_ref().map(|_| "application/json"),
                payload.body.clone(),
            )
            .await
            .map(|exchange| exchange.status)
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|source| ContractError::Replay(source.to_string()))
}
