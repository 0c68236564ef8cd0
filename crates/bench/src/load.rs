//! A load generator: keep-alive HTTP/1.1 connections on loopback, each sending one request after
//! another for a fixed time, every latency recorded.
//!
//! Built on hyper's connection API so that the number of connections is exactly what is asked
//! for and the generator adds as little work as possible beside the server it measures.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// The reference server under load: on a runtime of its own (so that the load generator's
/// runtime does not share its threads' queues), with its database under `<root>/target`.
pub struct Served {
    /// The server (dropped before its runtime).
    pub reference: contract_cli::Reference,
    /// Its address.
    pub address: SocketAddr,
    /// A token allowed to call every operation.
    pub token: String,
    _runtime: tokio::runtime::Runtime,
}

/// Starts [`Served`].
pub fn serve(root: &std::path::Path) -> anyhow::Result<Served> {
    let scratch = root.join("target");
    std::fs::create_dir_all(&scratch)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("reference-server")
        .build()?;
    let reference = runtime.block_on(contract_cli::Reference::start_in(&scratch))?;
    let address = reference
        .server()
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .context("the server's address")?;
    let token = reference.target().token;
    Ok(Served {
        reference,
        address,
        token,
        _runtime: runtime,
    })
}

/// The one request every connection repeats.
#[derive(Debug, Clone)]
pub struct Template {
    /// The method.
    pub method: Method,
    /// The path and query, e.g. `/api/billing/coworkertimepasses`.
    pub path: String,
    /// The bearer token, if the request carries one.
    pub token: Option<String>,
    /// The body and its content type, if the request has one.
    pub body: Option<(&'static str, Bytes)>,
}

/// What a load run measured.
#[derive(Debug, Default)]
pub struct Load {
    /// Time from the first request to the last response.
    pub elapsed: Duration,
    /// Every response's latency, sorted.
    pub latencies: Vec<Duration>,
    /// Responses per status.
    pub statuses: BTreeMap<u16, u64>,
}

impl Load {
    /// Responses per second.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `fraction` of the responses came.
    pub fn percentile(&self, fraction: f64) -> Duration {
        let index = ((self.latencies.len() as f64 * fraction).ceil() as usize)
            .clamp(1, self.latencies.len().max(1))
            - 1;
        self.latencies.get(index).copied().unwrap_or_default()
    }

    /// Adds another run's responses (rates then cover both runs).
    pub fn merge(&mut self, other: Load) {
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.latencies.sort_unstable();
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
    }

    /// How many responses had `status`.
    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or_default()
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(address: SocketAddr) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Opens `connections` connections to `address`, then has each send `template` back to back for
/// `duration`. Any failed request fails the run: a load figure with errors in it means nothing.
pub async fn run(
    address: SocketAddr,
    connections: usize,
    duration: Duration,
    template: &Template,
) -> anyhow::Result<Load> {
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(address).await?);
    }
    let host = HeaderValue::from_str(&address.to_string())?;
    let authorization = template
        .token
        .as_ref()
        .map(|token| HeaderValue::from_str(&format!("Bearer {token}")))
        .transpose()?;
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            let (host, authorization) = (host.clone(), authorization.clone());
            let template = template.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut statuses = BTreeMap::<u16, u64>::new();
                while Instant::now() < deadline {
                    let mut request = Request::builder()
                        .method(template.method.clone())
                        .uri(template.path.as_str())
                        .header(header::HOST, host.clone());
                    if let Some(authorization) = &authorization {
                        request = request.header(header::AUTHORIZATION, authorization.clone());
                    }
                    let body = match &template.body {
                        Some((content_type, body)) => {
                            request = request.header(header::CONTENT_TYPE, *content_type);
                            body.clone()
                        }
                        None => Bytes::new(),
                    };
                    let request = request.body(Full::new(body))?;
                    let sent = Instant::now();
                    sender.ready().await?;
                    let response = sender.send_request(request).await?;
                    let status = response.status().as_u16();
                    response.into_body().collect().await?;
                    latencies.push(sent.elapsed());
                    *statuses.entry(status).or_default() += 1;
                }
                anyhow::Ok((latencies, statuses))
            })
        })
        .collect();
    let mut load = Load::default();
    for task in tasks {
        let (latencies, statuses) = task.await.context("a load connection panicked")??;
        load.latencies.extend(latencies);
        for (status, count) in statuses {
            *load.statuses.entry(status).or_default() += count;
        }
    }
    load.elapsed = started.elapsed();
    load.latencies.sort_unstable();
    Ok(load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_latency() {
        let load = Load {
            elapsed: Duration::from_secs(2),
            latencies: (1..=100).map(Duration::from_millis).collect(),
            statuses: BTreeMap::from([(200, 100)]),
        };
        assert_eq!(load.percentile(0.5), Duration::from_millis(50));
        assert_eq!(load.percentile(0.99), Duration::from_millis(99));
        assert_eq!(load.rate(), 50.0);
    }
}
