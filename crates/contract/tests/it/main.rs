//! The contract suite against the reference server, against deliberately deviant servers, and
//! the canonical responses pinned as snapshots.

mod deviants;
mod reference;
mod snapshots;

use reference_server::store::Store;

/// The contract's view of the reference server with its built-in users, at `base_url`.
pub(crate) use contract_cli::builtin_target as target;

/// The reference server on an ephemeral loopback port with a temporary database, stopped when
/// dropped.
pub(crate) struct ReferenceServer(contract_cli::Reference);

impl ReferenceServer {
    pub(crate) async fn start() -> Self {
        Self(contract_cli::Reference::start().await.unwrap())
    }

    pub(crate) fn base_url(&self) -> &str {
        self.0.server().base_url()
    }

    pub(crate) fn store(&self) -> &Store {
        self.0.server().store()
    }
}
