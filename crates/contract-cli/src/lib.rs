//! The reference server as a contract target: what `nexudus-contract` checks when it is given no
//! URL, and what `cargo xtask bench` measures against.

use std::path::Path;

use anyhow::Context;
use reference_server::{RunningServer, users::BUILTIN_USERS};

/// The reference server on a loopback port with a temporary database, stopped (and the database
/// deleted) when dropped.
#[derive(Debug)]
pub struct Reference {
    server: RunningServer,
    _dir: tempfile::TempDir,
}

impl Reference {
    /// Starts it on the current tokio runtime, with its database in the system's temporary
    /// directory.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_in(&std::env::temp_dir()).await
    }

    /// Starts it on the current tokio runtime, with its database in a new directory inside `dir`.
    pub async fn start_in(dir: &Path) -> anyhow::Result<Self> {
        Self::start_throttled_in(dir, reference_server::ThrottlePolicy::default()).await
    }

    /// As [`Reference::start_in`], with per-user request limits.
    pub async fn start_throttled_in(
        dir: &Path,
        throttle: reference_server::ThrottlePolicy,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir_in(dir)
            .with_context(|| format!("creating a temporary directory in {}", dir.display()))?;
        let server = reference_server::Server::bind(reference_server::Config {
            throttle,
            ..reference_server::Config::loopback(dir.path().join("contract.sqlite3"))
        })
        .await
        .context("starting the reference server")?;
        Ok(Self {
            server: server.spawn(),
            _dir: dir,
        })
    }

    /// The running server.
    pub fn server(&self) -> &RunningServer {
        &self.server
    }

    /// The contract target for this server: see [`builtin_target`].
    pub fn target(&self) -> contract::Target {
        builtin_target(self.server.base_url())
    }
}

/// The current code of an authenticator, asked for each time it is sent.
pub type Code = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// The password grant's `totp`, whose code comes from `code`: without it, Nexudus answers a
/// right password `two_factor_auth_check`.
pub fn second_factor(code: Code) -> contract::FormParameter {
    contract::FormParameter {
        name: "totp".to_owned(),
        value: code,
        left_out: Some("two_factor_auth_check".to_owned()),
    }
}

/// The current code of the authenticator whose base32 secret is `secret`; `None` when it is
/// not one.
pub fn authenticator_code(secret: &str) -> Option<Code> {
    let authenticator = reference_server::users::authenticator(secret)?;
    Some(std::sync::Arc::new(move || {
        authenticator
            .generate_current()
            .expect("the clock is past 1970")
    }))
}

/// The contract target for a reference server with the built-in users, reached at `base_url`
/// (the server itself, or a proxy in front of it): the built-in full administrator as the
/// caller (its static token), the built-in user with two-factor sign-in for the token
/// endpoint's checks (its password and its authenticator's codes), every other built-in user,
/// with its roles, for the 401 of a missing role, and the administrator's password as Basic
/// credentials.
pub fn builtin_target(base_url: &str) -> contract::Target {
    let admin = BUILTIN_USERS
        .iter()
        .find(|user| user.full_admin)
        .expect("the built-in users have a full administrator");
    let (two_factor, secret) = BUILTIN_USERS
        .iter()
        .find_map(|user| Some((user, user.totp_secret?)))
        .expect("a built-in user signs in with a second factor");
    contract::Target {
        base_url: base_url.to_owned(),
        token: admin.token.to_owned(),
        limited_tokens: BUILTIN_USERS
            .iter()
            .filter(|user| !user.full_admin)
            .map(|user| contract::LimitedToken {
                token: user.token.to_owned(),
                roles: user.roles.iter().map(|role| (*role).to_owned()).collect(),
                // Basic credentials carry no second factor, nor a pending password reset.
                basic: (user.totp_secret.is_none() && !user.must_reset_password).then(|| {
                    contract::Basic {
                        username: user.email.to_owned(),
                        password: user.password.to_owned(),
                    }
                }),
            })
            .collect(),
        caller: Some(admin.email.to_owned()),
        body_limit: nexudus_server_api::DEFAULT_BODY_LIMIT,
        sign_in: Some(contract::SignIn {
            username: two_factor.email.to_owned(),
            password: two_factor.password.to_owned(),
            also: vec![second_factor(
                authenticator_code(secret).expect("the built-in secret is an authenticator's"),
            )],
            refused: BUILTIN_USERS
                .iter()
                .filter(|user| user.must_reset_password)
                .map(|user| contract::RefusedUser {
                    username: user.email.to_owned(),
                    password: user.password.to_owned(),
                    error: "must_reset_password".to_owned(),
                })
                .collect(),
        }),
        basic: Some(contract::Basic {
            username: admin.email.to_owned(),
            password: admin.password.to_owned(),
        }),
        secret_names: secret_names(),
    }
}

/// The environment variable the token of a user allowed every operation is read from.
pub const TOKEN_VARIABLE: &str = "NEXUDUS_TOKEN";
/// The environment variable the token of a user without the operations' roles is read from.
pub const TOKEN_WITHOUT_ROLE_VARIABLE: &str = "NEXUDUS_TOKEN_WITHOUT_ROLE";
/// The environment variable the signing-in user's password is read from.
pub const PASSWORD_VARIABLE: &str = "NEXUDUS_PASSWORD";
/// The shell variable a reproduction sends Basic credentials as: the base64 of
/// `username:password` (`printf %s "$NEXUDUS_USERNAME:$NEXUDUS_PASSWORD" | base64`).
pub const BASIC_VARIABLE: &str = "NEXUDUS_BASIC_CREDENTIALS";
/// The same, for a user without the operations' roles.
pub const BASIC_WITHOUT_ROLE_VARIABLE: &str = "NEXUDUS_BASIC_CREDENTIALS_WITHOUT_ROLE";

/// The reproductions of a report write the secrets as the environment variables they are read
/// from, so that each `curl` command runs as it is where those are set.
pub fn secret_names() -> contract::SecretNames {
    contract::SecretNames {
        token: TOKEN_VARIABLE.to_owned(),
        token_without_role: TOKEN_WITHOUT_ROLE_VARIABLE.to_owned(),
        password: PASSWORD_VARIABLE.to_owned(),
        basic: BASIC_VARIABLE.to_owned(),
        basic_without_role: BASIC_WITHOUT_ROLE_VARIABLE.to_owned(),
    }
}
