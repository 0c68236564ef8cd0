//! The token endpoint (`POST /api/token`): OAuth 2.0's password and refresh-token grants
//! (RFC 6749, sections 4.3 and 6), answered with its error body (section 5.2); a user with
//! two-factor sign-in also sends `totp`, and a user who must choose a new password gets no tokens.
//! Refresh tokens are kept one per user and client, the client named by the `client_id` header.

use std::{sync::Arc, time::SystemTime};

use nexudus_server_api::{CreateTokenResponse, Rejection};
use nexudus_types::{
    TokenError, TokenErrorError, TokenGranted, TokenRequest, TokenRequestGrantType,
};
use tokio::sync::Semaphore;

use crate::{
    tokens::{Callers, Granted},
    users::Pending,
};

/// The token endpoint's state: who may sign in, and a gate that lets as many password checks
/// run at once as there are cores (each Argon2 check holds 19 MiB and a core for its time, so
/// a flood of sign-ins queues here instead of exhausting memory).
#[derive(Debug)]
pub struct SignIn {
    callers: Callers,
    checks: Arc<Semaphore>,
}

/// The error body.
pub fn token_error(error: TokenErrorError, description: impl Into<String>) -> TokenError {
    TokenError {
        error,
        error_description: Some(description.into()),
    }
}

/// The error body for a request the router refused: a body that is not a form is
/// `unsupported_grant_type` (as Nexudus answers a JSON body), so is a grant type the schema does
/// not list; anything else is `invalid_request`.
pub fn rejection(rejection: Rejection) -> TokenError {
    match rejection {
        Rejection::UnsupportedMediaType { expected, .. } => token_error(
            TokenErrorError::UnsupportedGrantType,
            format!("the body must be sent as {expected}"),
        ),
        Rejection::Invalid(violations)
            if violations.iter().any(|violation| {
                violation.path.segments().next().as_deref() == Some("grant_type")
                    && violation.keyword == "enum"
            }) =>
        {
            token_error(
                TokenErrorError::UnsupportedGrantType,
                "grant_type must be password or refresh_token",
            )
        }
        Rejection::Invalid(violations) => token_error(
            TokenErrorError::InvalidRequest,
            violations
                .iter()
                .map(|violation| match violation.property_name() {
                    Some(name) => format!("{name}: {}", violation.message),
                    None => violation.message.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => token_error(TokenErrorError::InvalidRequest, other.to_string()),
    }
}

impl SignIn {
    /// The endpoint for `callers`.
    pub fn new(callers: Callers) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            callers,
            checks: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Answers one token request for the client `client_id`.
    pub async fn grant(
        &self,
        client_id: Option<String>,
        request: TokenRequest,
    ) -> CreateTokenResponse {
        let refused = |error, description: &str| {
            CreateTokenResponse::BadRequest(token_error(error, description))
        };
        let issued = match request.grant_type {
            TokenRequestGrantType::Password => {
                let (Some(username), Some(password)) = (request.username, request.password) else {
                    return refused(
                        TokenErrorError::InvalidRequest,
                        "the password grant needs username and password",
                    );
                };
                let Some(email) = self
                    .check_password(username.to_string(), password.to_string())
                    .await
                else {
                    return refused(
                        TokenErrorError::InvalidGrant,
                        "The user name or password is incorrect.",
                    );
                };
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs());
                let code = request.totp.as_deref().map(String::as_str);
                match self.callers.users.pending(&email, code, now) {
                    Some(Pending::SecondFactor) => {
                        return refused(
                            TokenErrorError::TwoFactorAuthCheck,
                            "Two-factor sign-in: send the current code of the user's \
                             authenticator as totp.",
                        );
                    }
                    Some(Pending::ResetPassword) => {
                        return refused(
                            TokenErrorError::MustResetPassword,
                            "The user must choose a new password before signing in.",
                        );
                    }
                    None => {}
                }
                let tokens = Arc::clone(&self.callers.tokens);
                // Nexudus' default client: the user's email.
                let client = client_id.unwrap_or_else(|| email.clone());
                blocking(move || tokens.issue(&email, &client, SystemTime::now()).map(Some)).await
            }
            TokenRequestGrantType::RefreshToken => {
                let Some(refresh_token) = request.refresh_token else {
                    return refused(
                        TokenErrorError::InvalidRequest,
                        "the refresh_token grant needs refresh_token",
                    );
                };
                let Some(client) = client_id else {
                    return refused(
                        TokenErrorError::InvalidRequest,
                        "the refresh_token grant needs the client_id header its refresh token \
                         was issued to",
                    );
                };
                let callers = self.callers.clone();
                blocking(move || {
                    let refreshed =
                        callers
                            .tokens
                            .refresh(&refresh_token, &client, SystemTime::now())?;
                    // A user removed from the users file since gets no new pair.
                    Ok(refreshed
                        .filter(|(email, _)| callers.users.by_email(email).is_some())
                        .map(|(_, granted)| granted))
                })
                .await
            }
        };
        match issued {
            Ok(Some(granted)) => CreateTokenResponse::Ok(answer(granted)),
            Ok(None) => refused(
                TokenErrorError::InvalidGrant,
                "The refresh token is invalid, has expired, has been used or replaced, or was issued \
                 to another client_id.",
            ),
            Err(error) => {
                tracing::error!(error = %error, "issuing a token failed");
                CreateTokenResponse::InternalServerError(token_error(
                    TokenErrorError::ServerError,
                    "the server could not store the token; nothing was issued",
                ))
            }
        }
    }

    /// The email of the user whose Basic credentials these are (remembered a while once
    /// verified), or why they let no one in: a wrong username or password, and a user who must
    /// still give a second factor or choose a new password, which Basic credentials cannot.
    pub async fn basic(&self, username: &str, password: &str) -> Result<String, &'static str> {
        let basic = &self.callers.basic;
        if let Some(email) = basic.get(username, password, std::time::Instant::now()) {
            return Ok(email);
        }
        let email = self
            .check_password(username.to_owned(), password.to_owned())
            .await
            .ok_or("the Basic username or password is incorrect")?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        match self.callers.users.pending(&email, None, now) {
            Some(Pending::SecondFactor) => Err(
                "the user has two-factor sign-in, which Basic credentials cannot carry: sign in \
                 at the token endpoint",
            ),
            Some(Pending::ResetPassword) => Err("the user must choose a new password first"),
            None => {
                basic.remember(username, password, &email, std::time::Instant::now());
                Ok(email)
            }
        }
    }

    /// The email of the user `username` whose password is `password`, on a blocking thread once
    /// the gate lets the check through.
    async fn check_password(&self, username: String, password: String) -> Option<String> {
        let _permit = Arc::clone(&self.checks).acquire_owned().await.ok()?;
        let users = self.callers.users.clone();
        tokio::task::spawn_blocking(move || {
            users
                .sign_in(&username, &password)
                .map(|user| user.email.clone())
        })
        .await
        .ok()
        .flatten()
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, crate::store::StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(crate::store::StoreError::WriterStopped))
}

fn answer(granted: Granted) -> TokenGranted {
    TokenGranted {
        access_token: granted
            .access_token
            .parse()
            .expect("64 hex digits are a non-empty string"),
        expires_in: std::num::NonZeroU64::new(granted.expires_in).expect("at least 1"),
        refresh_token: granted
            .refresh_token
            .parse()
            .expect("64 hex digits are a non-empty string"),
        token_type: nexudus_types::TokenGrantedTokenType::Bearer,
    }
}
