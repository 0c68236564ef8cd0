//! The bearer token of a request's `Authorization` header, read as RFC 6750 writes it: the
//! implementation decides what a token grants; this only refuses a header from which no single
//! token can be read, so that it never guesses at one.

use http::HeaderMap;

use crate::authorization::{Credentials, CredentialsError, credentials};

/// Why no bearer token could be read from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// There is no `Authorization` header.
    #[error("the Authorization header is missing")]
    Missing,
    /// The header uses another scheme than `Bearer`.
    #[error("the Authorization header must use the Bearer scheme")]
    NotBearer,
    /// The header says `Bearer` but carries no usable token.
    #[error("the bearer token is malformed")]
    Malformed,
}

/// The token of an `Authorization: Bearer <token>` header, read as [`credentials`] reads it:
/// the scheme is case-insensitive (RFC 7235), the token visible ASCII without spaces, and any
/// other scheme, Basic included, is not a bearer token.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerError> {
    match credentials(headers) {
        Ok(Credentials::Bearer(token)) => Ok(token),
        Ok(Credentials::Basic { .. })
        | Err(CredentialsError::UnknownScheme | CredentialsError::MalformedBasic) => {
            Err(BearerError::NotBearer)
        }
        Err(CredentialsError::Missing) => Err(BearerError::Missing),
        Err(CredentialsError::MalformedBearer) => Err(BearerError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, header};

    use super::*;
    use crate::test_support::headers;

    fn auth(value: &str) -> HeaderMap {
        headers(&[(header::AUTHORIZATION, value)])
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer_token(&HeaderMap::new()), Err(BearerError::Missing));
        assert_eq!(
            bearer_token(&auth("Basic dXNlcg==")),
            Err(BearerError::NotBearer)
        );
        assert_eq!(bearer_token(&auth("Bearer")), Err(BearerError::Malformed));
        assert_eq!(
            bearer_token(&auth("Bearer a b")),
            Err(BearerError::Malformed)
        );
        assert_eq!(bearer_token(&auth("bearer tok-1")), Ok("tok-1"));
        assert_eq!(bearer_token(&auth("Bearer  tok-1 ")), Ok("tok-1"));
    }

    #[test]
    fn the_scheme_is_matched_in_any_case_and_nothing_else() {
        for scheme in ["Bearer", "BEARER", "bEaReR"] {
            assert_eq!(bearer_token(&auth(&format!("{scheme} t"))), Ok("t"));
        }
        for other in ["Bearers t", "Bear t", "Token t", "Bearer-t", "t"] {
            assert_eq!(
                bearer_token(&auth(other)),
                Err(BearerError::NotBearer),
                "{other}"
            );
        }
    }

    /// An empty header names no scheme; `Bearer` with only spaces after it names no token.
    #[test]
    fn an_empty_header_or_token_is_refused() {
        assert_eq!(bearer_token(&auth("")), Err(BearerError::NotBearer));
        assert_eq!(bearer_token(&auth("   ")), Err(BearerError::NotBearer));
        assert_eq!(bearer_token(&auth("Bearer ")), Err(BearerError::Malformed));
        assert_eq!(
            bearer_token(&auth("Bearer    ")),
            Err(BearerError::Malformed)
        );
    }

    /// Spaces around the header's value and any number between scheme and token are allowed;
    /// only a space separates the scheme (a tab makes the whole text the scheme), and a token
    /// may not contain a space or tab of its own.
    #[test]
    fn spaces_around_the_token_are_allowed_and_inside_it_are_not() {
        assert_eq!(bearer_token(&auth("  Bearer    tok  ")), Ok("tok"));
        assert_eq!(
            bearer_token(&auth("Bearer\ttok")),
            Err(BearerError::NotBearer)
        );
        assert_eq!(
            bearer_token(&auth("Bearer tok\tx")),
            Err(BearerError::Malformed)
        );
        assert_eq!(
            bearer_token(&auth("Bearer tok  x")),
            Err(BearerError::Malformed)
        );
    }

    /// A token is visible ASCII: punctuation (base64, JWT dots) is kept as sent, bytes beyond
    /// ASCII are refused whether the header is UTF-8 or not.
    #[test]
    fn tokens_are_visible_ascii() {
        assert_eq!(
            bearer_token(&auth("Bearer a.b-c_d~e+f/g=")),
            Ok("a.b-c_d~e+f/g=")
        );
        let opaque = |bytes: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_bytes(bytes).unwrap(),
            );
            bearer_token(&headers).map(str::to_owned)
        };
        assert_eq!(opaque(b"Bearer t\xe9"), Err(BearerError::Malformed));
        assert_eq!(opaque("Bearer tö".as_bytes()), Err(BearerError::Malformed));
    }

    /// Of two `Authorization` headers the first is read: refusing the pair is
    /// [`check_headers`](crate::check_headers)'s job, which runs before.
    #[test]
    fn the_first_of_two_headers_is_read() {
        let two = headers(&[
            (header::AUTHORIZATION, "Bearer first"),
            (header::AUTHORIZATION, "Bearer second"),
        ]);
        assert_eq!(bearer_token(&two), Ok("first"));
    }
}
