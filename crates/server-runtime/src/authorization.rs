//! The credentials of a request's `Authorization` header, in either scheme an API may accept
//! beside each other: a bearer token (RFC 6750) or a username and password (Basic, RFC 7617).
//! The implementation decides what they grant; this only refuses a header from which no single
//! set of credentials can be read, so that it never guesses at one. [`bearer_token`] is this
//! reading for an API that takes bearer tokens alone.
//!
//! [`bearer_token`]: crate::bearer_token

use base64::Engine as _;
use http::{HeaderMap, header};

/// The credentials a request carries.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// Everything before the first `:`.
        username: String,
        /// Everything after it.
        password: String,
    },
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer(..)"),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// Why no credentials could be read from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// There is no `Authorization` header.
    #[error("the Authorization header is missing")]
    Missing,
    /// The header uses another scheme than `Bearer` or `Basic`.
    #[error("the Authorization header must use the Bearer or the Basic scheme")]
    UnknownScheme,
    /// The header says `Bearer` but carries no usable token.
    #[error("the bearer token is malformed")]
    MalformedBearer,
    /// The header says `Basic` but carries no base64 `username:password` in UTF-8.
    #[error("the Basic credentials are malformed: base64 of username:password is due")]
    MalformedBasic,
}

/// The credentials of the `Authorization` header. Schemes are case-insensitive (RFC 7235); a
/// bearer token must be visible ASCII without spaces, and Basic credentials standard base64 of
/// UTF-8 text with a `:` after a non-empty username.
pub fn credentials(headers: &HeaderMap) -> Result<Credentials<'_>, CredentialsError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(CredentialsError::Missing)?;
    // Read as bytes, so that a value that is not UTF-8 is judged by its scheme like any other.
    let value = value.as_bytes().trim_ascii();
    let (scheme, rest) = match value.iter().position(|byte| *byte == b' ') {
        Some(space) => (&value[..space], value[space..].trim_ascii()),
        None => (value, &b""[..]),
    };
    if scheme.eq_ignore_ascii_case(b"bearer") {
        if rest.is_empty() || rest.iter().any(|byte| !byte.is_ascii_graphic()) {
            return Err(CredentialsError::MalformedBearer);
        }
        let token = std::str::from_utf8(rest).expect("visible ASCII is UTF-8");
        return Ok(Credentials::Bearer(token));
    }
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Err(CredentialsError::UnknownScheme);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .map_err(|_| CredentialsError::MalformedBasic)?;
    let text = String::from_utf8(decoded).map_err(|_| CredentialsError::MalformedBasic)?;
    match text.split_once(':') {
        Some((username, password)) if !username.is_empty() => Ok(Credentials::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        }),
        _ => Err(CredentialsError::MalformedBasic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    fn read(value: &str) -> Result<Credentials<'static>, CredentialsError> {
        let headers = Box::leak(Box::new(headers(&[(header::AUTHORIZATION, value)])));
        credentials(headers)
    }

    fn basic(username: &str, password: &str) -> Credentials<'static> {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    #[test]
    fn both_schemes_in_any_case() {
        assert_eq!(
            credentials(&HeaderMap::new()),
            Err(CredentialsError::Missing)
        );
        assert_eq!(read("Bearer abc"), Ok(Credentials::Bearer("abc")));
        assert_eq!(read("bearer  abc "), Ok(Credentials::Bearer("abc")));
        // "a@b.c:p:w" and "a@b.c:"
        assert_eq!(read("Basic YUBiLmM6cDp3"), Ok(basic("a@b.c", "p:w")));
        assert_eq!(read("BASIC YUBiLmM6"), Ok(basic("a@b.c", "")));
        assert_eq!(read("Digest abc"), Err(CredentialsError::UnknownScheme));
    }

    #[test]
    fn malformed_credentials_are_refused_not_guessed() {
        assert_eq!(read("Bearer"), Err(CredentialsError::MalformedBearer));
        assert_eq!(read("Bearer a b"), Err(CredentialsError::MalformedBearer));
        for value in [
            "Basic",
            "Basic !!!",
            // No colon; an empty username; bytes that are not UTF-8.
            "Basic YWJj",
            "Basic OnB3",
            "Basic /w==",
        ] {
            assert_eq!(
                read(value),
                Err(CredentialsError::MalformedBasic),
                "{value}"
            );
        }
        // A header that is not UTF-8 is judged by its scheme: a bearer token with a byte beyond
        // ASCII is a malformed one, not another scheme.
        let mut opaque = HeaderMap::new();
        opaque.insert(
            header::AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Bearer t\xe9").unwrap(),
        );
        assert_eq!(credentials(&opaque), Err(CredentialsError::MalformedBearer));
        let shown = format!("{:?}", basic("a@b.c", "secret"));

        assert!(!shown.contains("secret"), "{shown}");
    }
}
