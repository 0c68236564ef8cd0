//! The contract suite against the reference server, against deliberately deviant servers, and
//! the canonical responses pinned as snapshots.

mod deviants;
mod reference;
mod snapshots;

use std::net::SocketAddr;

use reference_server::{Config, RunningServer, Server, store::Store, users::Users};

/// The reference server on an ephemeral loopback port, stopped when dropped.
pub(crate) struct ReferenceServer {
    server: RunningServer,
    _dir: tempfile::TempDir,
}

impl ReferenceServer {
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::bind(Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: dir.path().join("contract.sqlite3"),
            users: Users::builtin(),
            body_limit: nexudus_server_api::DEFAULT_BODY_LIMIT,
        })
        .await
        .unwrap();
        Self {
            server: server.spawn(),
            _dir: dir,
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        self.server.base_url()
    }

    pub(crate) fn store(&self) -> &Store {
        self.server.store()
    }
}

/// The contract's view of the reference server with its built-in users.
pub(crate) fn target(base_url: &str) -> contract::Target {
    contract::Target {
        base_url: base_url.to_owned(),
        token: "local-admin-token".into(),
        token_without_role: Some("local-reader-token".into()),
        caller: Some("admin@example.com".into()),
        body_limit: nexudus_server_api::DEFAULT_BODY_LIMIT,
    }
}
