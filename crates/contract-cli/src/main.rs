//! `nexudus-contract` (run as `cargo xtask contract`): the contract checks from the command line.
//!
//! With no arguments it starts the reference server on a temporary database and a loopback port
//! and checks it; with `--base-url URL` and `--token TOKEN` or `--username U --password P` (which
//! sign in at the token endpoint, and check it) it checks any running server. The exit
//! status is non-zero when a check fails.

use std::{io::IsTerminal, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::Parser;
use contract_cli::Reference;

/// Check that a server, the generated client and the spec agree.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask contract", version)]
struct Args {
    /// Check the server at this URL instead of starting the reference server.
    #[arg(long)]
    base_url: Option<String>,
    /// Bearer token of a user allowed to call every operation.
    #[arg(
        long,
        env = contract_cli::TOKEN_VARIABLE,
        hide_env_values = true,
        conflicts_with = "username"
    )]
    token: Option<String>,
    /// Username (email) of a user allowed to call every operation: the run signs in at the
    /// token endpoint with it and --password, and checks the endpoint too.
    #[arg(long, env = "NEXUDUS_USERNAME", requires = "password")]
    username: Option<String>,
    /// That user's password.
    #[arg(
        long,
        env = contract_cli::PASSWORD_VARIABLE,
        hide_env_values = true,
        requires = "username"
    )]
    password: Option<String>,
    /// The base32 secret of that user's authenticator, for a user with two-factor sign-in: each
    /// password grant sends its current code as `totp`.
    #[arg(
        long,
        env = "NEXUDUS_TOTP_SECRET",
        hide_env_values = true,
        requires = "username",
        conflicts_with = "totp"
    )]
    totp_secret: Option<String>,
    /// A current code of that user's authenticator, sent as `totp` (it lasts 30 seconds: for a
    /// whole run, give --totp-secret).
    #[arg(long, requires = "username")]
    totp: Option<String>,
    /// Bearer token of a user without any of the operations' roles (checks the 401 for a
    /// missing role).
    #[arg(long, env = contract_cli::TOKEN_WITHOUT_ROLE_VARIABLE, hide_env_values = true)]
    token_without_role: Option<String>,
    /// Email of the --token user, which the spec's `$caller` values (UpdatedBy) must carry.
    #[arg(long)]
    caller: Option<String>,
    /// The server's body limit in bytes (the oversize check sends one byte more).
    #[arg(long, default_value_t = nexudus_server_api::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Valid and invalid requests per operation, each.
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// Seed of the payload generator; a run prints its seed, and the same seed sends the same
    /// requests.
    #[arg(long)]
    seed: Option<u64>,
    /// Cases in flight at once (a failing case is still shrunk alone, one request at a time).
    #[arg(long, default_value_t = contract::Options::default().concurrency)]
    concurrency: usize,
    /// Sequences of operations the stateful checks run, each on records of its own.
    #[arg(long, default_value_t = 64)]
    sequences: u32,
    /// The most operations in one sequence.
    #[arg(long, default_value_t = 24)]
    steps: u32,
    /// Writers sent at once by the checks of concurrent writes (N creates, N updates of one
    /// record with N reads racing them, N deletes of one record); 0 skips those checks.
    #[arg(long, default_value_t = contract::Options::default().writers)]
    writers: u32,
    /// Leave the records the run made on the server (they carry the marker the summary prints);
    /// by default they are deleted at the end, even after a failure or Ctrl-C.
    #[arg(long)]
    keep_records: bool,
    /// Per-user request limits of the reference server started when no --base-url is given
    /// (`nexudus`, `<N>/<s|m|h>` or `off`): its 409s are waited out and counted.
    #[arg(long, conflicts_with = "base_url", default_value = "off")]
    throttle: reference_server::ThrottlePolicy,
    /// The longest one request may spend waiting out throttled answers (seconds): past it, the
    /// 409 is its answer and fails its checks. By default 20, or, against the reference server
    /// started with a --throttle, the longest of its windows (what its `Retry-After` can ask).
    #[arg(long)]
    throttle_wait: Option<u64>,
    /// The most records one request may create (where the spec says a body value gives the
    /// count, as `CreateMultiple` does): a run deletes every record it made, one request each,
    /// which against a throttled server is most of the run.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_creates: Option<u64>,
    /// Write a JUnit XML report here: a test case per check that held and one per failure.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// How much to print: `summary`, a line per operation and each failure once; `table`, also
    /// every check with its counts and the coverage of each documented status.
    #[arg(long, value_enum, default_value_t = ReportDetail::Summary)]
    report: ReportDetail,
}

/// How much of the report to print.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportDetail {
    Summary,
    Table,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Where the signing-in user's second-factor code comes from: `--totp-secret` or `--totp`.
fn second_factor(args: &Args) -> anyhow::Result<Option<contract_cli::Code>> {
    Ok(match (&args.totp_secret, &args.totp) {
        (Some(secret), _) => Some(contract_cli::authenticator_code(secret).context(
            "--totp-secret is not the base32 secret of an authenticator (at least 128 bits)",
        )?),
        (None, Some(code)) => {
            let code = code.clone();
            Some(std::sync::Arc::new(move || code.clone()))
        }
        (None, None) => None,
    })
}

/// The bearer token to check `base_url` with: `--token`, or one the token endpoint issues for
/// `--username` and `--password`.
async fn token(
    base_url: &str,
    args: &Args,
    code: Option<contract_cli::Code>,
) -> anyhow::Result<String> {
    match (&args.token, &args.username, &args.password) {
        (Some(token), _, _) => Ok(token.clone()),
        (None, Some(username), Some(password)) => {
            let client = match code {
                Some(code) => {
                    nexudus_client::sign_in_with_code(
                        base_url,
                        username,
                        password,
                        move || code(),
                        nexudus_client::Behaviour::default(),
                    )
                    .await
                }
                None => nexudus_client::sign_in(base_url, username, password).await,
            }
            .with_context(|| format!("signing in at {base_url} as {username}"))?;
            let session = client
                .session()
                .context("a signed-in client has a session")?;
            Ok(session
                .access_token()
                .await
                .context("reading the access token")?)
        }
        _ => anyhow::bail!("--base-url needs --token, or --username and --password"),
    }
}

/// Runs the checks; `Ok(false)` when a check failed.
fn run(args: Args) -> anyhow::Result<bool> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64)
    });
    let options = contract::Options {
        cases: args.cases,
        seed,
        concurrency: args.concurrency,
        sequences: args.sequences,
        steps: args.steps,
        keep_records: args.keep_records,
        throttle_wait: match (args.throttle_wait, &args.base_url) {
            (Some(seconds), _) => Duration::from_secs(seconds),
            (None, None) => args
                .throttle
                .longest_window()
                .unwrap_or(contract::Options::default().throttle_wait),
            (None, Some(_)) => contract::Options::default().throttle_wait,
        },
        max_creates: args.max_creates,
        writers: args.writers,
        ..contract::Options::default()
    };
    let code = second_factor(&args)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let (target, _reference) = match &args.base_url {
            Some(base_url) => (
                contract::Target {
                    base_url: base_url.clone(),
                    token: token(base_url, &args, code.clone()).await?,
                    limited_tokens: args
                        .token_without_role
                        .iter()
                        .map(|token| contract::LimitedToken {
                            token: token.clone(),
                            roles: Vec::new(),
                            basic: None,
                        })
                        .collect(),
                    caller: args.caller.clone().or_else(|| args.username.clone()),
                    body_limit: args.body_limit,
                    sign_in: args.username.clone().zip(args.password.clone()).map(
                        |(username, password)| contract::SignIn {
                            username,
                            password,
                            also: code
                                .clone()
                                .map(contract_cli::second_factor)
                                .into_iter()
                                .collect(),
                            refused: Vec::new(),
                        },
                    ),
                    // Basic credentials carry no second factor: a user who needs one is not
                    // tried with them.
                    basic: args
                        .username
                        .clone()
                        .zip(args.password.clone())
                        .filter(|_| code.is_none())
                        .map(|(username, password)| contract::Basic { username, password }),
                    secret_names: contract_cli::secret_names(),
                },
                None,
            ),
            None => {
                let reference =
                    Reference::start_throttled_in(&std::env::temp_dir(), args.throttle.clone())
                        .await?;
                eprintln!(
                    "reference server on {} (temporary database, throttle {})",
                    reference.server().base_url(),
                    args.throttle
                );
                (reference.target(), Some(reference))
            }
        };
        eprintln!("checking {} with seed {seed}", target.base_url);
        let total = contract::total_cases(&nexudus_client::API, &target, &options);
        let progress = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} cases {per_sec} {elapsed}",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        // Ctrl-C stops the checks; the records made so far are still deleted.
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            eprintln!("stopping: deleting the records the run made");
        };
        let report = contract::run_until(
            &nexudus_client::API,
            &target,
            &options,
            &mut || progress.inc(1),
            stop,
        )
        .await;
        progress.finish_and_clear();
        report.context("running the contract checks")
    })?;

    let detail = match args.report {
        ReportDetail::Summary => contract::Detail::Summary,
        ReportDetail::Table => contract::Detail::Table,
    };
    print!("{}", report.text(detail));
    let complete = !report.interrupted && report.stopped.is_none();
    if !report.passed() || !complete {
        println!("rerun these cases with --seed {}", report.seed);
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("JUnit report written to {}", path.display());
    }
    Ok(report.passed() && complete)
}
