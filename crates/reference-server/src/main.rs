//! `nexudus-reference-server`: the reference server as a command.

use std::{
    io::{IsTerminal, Write},
    net::SocketAddr,
    path::PathBuf,
};

use anyhow::Context;
use clap::Parser;
use reference_server::{Config, Server, users::Users};

/// A local server for the CoworkerTimePass resource (`/api/billing/coworkertimepasses`), as Nexudus
/// documents it.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port. The bound address is printed on stdout.
    #[arg(long, env = "NEXUDUS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SQLite database file, created if missing.
    #[arg(
        long,
        env = "NEXUDUS_DATABASE",
        default_value = "nexudus-reference.sqlite3"
    )]
    database: PathBuf,
    /// Users file (YAML). Without it, the built-in local users are used (loopback only).
    #[arg(long, env = "NEXUDUS_USERS")]
    users: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, env = "NEXUDUS_BODY_LIMIT", default_value_t = nexudus_server_api::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    let users = match &args.users {
        Some(path) => {
            Users::load(path).with_context(|| format!("loading users from {}", path.display()))?
        }
        None => {
            tracing::warn!("no --users file: using the built-in local users (see the README)");
            Users::builtin()
        }
    };
    let server = Server::bind(Config {
        listen: args.listen,
        database: args.database.clone(),
        users,
        body_limit: args.body_limit,
    })
    .await?;
    let address = server.local_addr();
    // Scripts and tests read this line to find the port.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{address}")?;
    stdout.flush()?;
    tracing::info!(%address, database = %args.database.display(), "serving");
    server.serve(shutdown_signal()).await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT: finishing requests in flight"),
        _ = terminate.recv() => tracing::info!("SIGTERM: finishing requests in flight"),
    }
}
