//! `nexudus-reference-server`: the reference server as a command.

use std::{
    io::{IsTerminal, Write},
    net::SocketAddr,
    path::PathBuf,
    time::Duration,
};

use anyhow::Context;
use clap::Parser;
use reference_server::{Config, Limits, Server, ThrottlePolicy, users::Users};

/// A local server for the CoworkerTimePass resource (`/api/billing/coworkertimepasses`), as Nexudus
/// documents it.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
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
    /// Longest time from a request's first byte to the end of its head (`10s`, `500ms`).
    #[arg(long, env = "NEXUDUS_HEADER_TIMEOUT", default_value = "10s", value_parser = duration)]
    header_timeout: Duration,
    /// Longest time from the end of a request's head to the end of its body; a late body is
    /// answered 408.
    #[arg(long, env = "NEXUDUS_BODY_TIMEOUT", default_value = "30s", value_parser = duration)]
    body_timeout: Duration,
    /// How long a connection with no request under way stays open.
    #[arg(long, env = "NEXUDUS_IDLE_TIMEOUT", default_value = "60s", value_parser = duration)]
    idle_timeout: Duration,
    /// Connections open at once; past it, new ones are answered 503 and closed.
    #[arg(long, env = "NEXUDUS_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// On SIGTERM or SIGINT, how long to wait for the requests under way before closing every
    /// connection and exiting.
    #[arg(long, env = "NEXUDUS_SHUTDOWN_DEADLINE", default_value = "5s", value_parser = duration)]
    shutdown_deadline: Duration,
    /// Per-user request limits, answered 409 with `Retry-After`: `nexudus` (its documented
    /// limits: 1 request per 100 ms and 120 a minute, writes 60 a minute and 5,000 a day),
    /// `<N>/<s|m|h>` (`20/s`) or `off`.
    #[arg(long, env = "NEXUDUS_THROTTLE", default_value = "off")]
    throttle: ThrottlePolicy,
    /// How long an access token from `POST /api/token` is valid (Nexudus: 604799 s).
    #[arg(long, env = "NEXUDUS_TOKEN_LIFETIME", default_value = "604799s", value_parser = duration)]
    token_lifetime: Duration,
    /// How long its refresh token is valid (Nexudus: 15 days).
    #[arg(long, env = "NEXUDUS_REFRESH_LIFETIME", default_value = "15d", value_parser = duration)]
    refresh_lifetime: Duration,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Reads a password from the first line of stdin and prints its Argon2id hash, for a users
    /// file's `password_hash` (stdin, so that the password stays out of the shell's history).
    HashPassword,
}

/// `250ms`, `10s`, `2m`, `1h` or `15d`.
fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .ok_or_else(|| format!("`{text}` has no unit: write it as 500ms, 10s, 2m, 1h or 15d"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a number followed by ms, s, m, h or d"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86_400.0,
        _ => return Err(format!("`{unit}` is not a unit: use ms, s, m, h or d")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("`{text}`: {error}"))
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
    if let Some(Command::HashPassword) = args.command {
        let mut password = String::new();
        std::io::stdin()
            .read_line(&mut password)
            .context("reading the password from stdin")?;
        let password = password.trim_end_matches(['\r', '\n']);
        anyhow::ensure!(!password.is_empty(), "the password on stdin is empty");
        println!("{}", reference_server::users::hash_password(password));
        return Ok(());
    }
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
        limits: Limits {
            header_timeout: args.header_timeout,
            body_timeout: args.body_timeout,
            idle_timeout: args.idle_timeout,
            max_connections: args.max_connections,
            shutdown_deadline: args.shutdown_deadline,
        },
        throttle: args.throttle,
        tokens: reference_server::TokenLifetimes {
            access: args.token_lifetime,
            refresh: args.refresh_lifetime,
        },
    })
    .await?;
    let address = server.local_addr();
    // Scripts and tests read this line to find the port.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{address}")?;
    stdout.flush()?;
    tracing::info!(%address, database = %args.database.display(), "serving");
    server.serve(shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT: finishing the requests under way"),
        _ = terminate.recv() => tracing::info!("SIGTERM: finishing the requests under way"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_in_every_unit() {
        for (text, seconds) in [
            ("250ms", 0.25),
            ("1.5s", 1.5),
            ("2m", 120.0),
            ("1h", 3600.0),
            ("15d", 1_296_000.0),
            ("0s", 0.0),
        ] {
            assert_eq!(
                duration(text),
                Ok(Duration::from_secs_f64(seconds)),
                "{text}"
            );
        }
        for (text, error) in [
            ("10", "has no unit"),
            ("5w", "`w` is not a unit"),
            ("1.2.3s", "is not a number"),
            ("ms", "is not a number"),
            ("1e3s", "`e3s` is not a unit"),
            ("99999999999999999999999d", "`99999999999999999999999d`: "),
        ] {
            assert!(duration(text).unwrap_err().contains(error), "{text}");
        }
    }
}
