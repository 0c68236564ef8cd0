//! What tests need to talk to a server over real loopback HTTP: [`Served`], an axum router on an
//! ephemeral `127.0.0.1` port that stops when dropped, and [`raw`], requests written byte for
//! byte on a socket and the answers read back as they came, for tests that send what no
//! well-behaved client would.
//!
//! Dev-only: crates name it under `[dev-dependencies]` alone (`ARCHITECTURE.md`; xtask's rules
//! test refuses any run-time edge to it).

use std::net::SocketAddr;

pub mod raw;

/// An axum router served on an ephemeral loopback port; stopped (gracefully: answers in flight
/// finish) when dropped.
#[derive(Debug)]
pub struct Served {
    base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    /// Serves `router` on `127.0.0.1` at a port the system picks, on the current tokio runtime.
    ///
    /// # Panics
    /// When no loopback port can be bound: a test cannot go on without one.
    pub async fn start(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("an ephemeral loopback port");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("serving on loopback");
        });
        Self {
            base_url: format!("http://{address}"),
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
