//! The checks of an OAuth 2.0 token endpoint: the operation at the `tokenUrl` of a security
//! scheme's password flow (RFC 6749, sections 4.3, 5 and 6). Its requests are forms and its
//! answers OAuth's, not what the generated requests of the other operations assume, so it gets
//! these cases instead: both grants (each issued token is then used on a secured operation), a
//! refresh token used twice, a wrong password, an unknown refresh token and grant type, a JSON
//! body, a missing parameter and a body over the limit, each with the error code RFC 6749 names.
//!
//! A failure's report shows the steps with the password and the issued tokens replaced by
//! placeholders.

use bytes::Bytes;
use nexudus_server_api::{Operation, SECURITY_SCHEMES};
use serde_json::Value;

use crate::{
    SignIn,
    checks::{self, check},
    exchange::{self, Exchange},
    runner::{CaseResult, Credentials, Runner, Sent},
};

const FORM: &str = "application/x-www-form-urlencoded";

/// The operations that are the token endpoint of a password flow.
pub(crate) fn is_token_endpoint(operation: &Operation) -> bool {
    operation.method == "POST"
        && SECURITY_SCHEMES
            .iter()
            .any(|scheme| scheme.password_token_url == Some(operation.path))
}

/// The token endpoint, if the spec has one.
pub(crate) fn token_endpoint() -> Option<&'static Operation> {
    nexudus_server_api::OPERATIONS
        .iter()
        .copied()
        .find(|operation| is_token_endpoint(operation))
}

/// A secured operation a token can be tried on with no parameters and no body: a `GET` whose
/// parameters are all optional.
fn probe() -> Option<&'static Operation> {
    crate::operations().iter().copied().find(|operation| {
        operation.method == "GET"
            && !operation.security.is_empty()
            && operation
                .parameters
                .iter()
                .all(|parameter| !parameter.required)
    })
}

/// The two grants that must succeed, with their kinds.
const PASSWORD_GRANT: &str = "sign-in: password grant";
const REFRESH_GRANT: &str = "sign-in: refresh grant, then the same refresh token again";

/// A request the endpoint must refuse, and the code RFC 6749 names for it.
struct Refusal {
    kind: &'static str,
    /// What the step is called in a report.
    what: &'static str,
    request: Refused,
    error: &'static str,
}

/// What a refused request holds.
enum Refused {
    WrongPassword,
    UnknownRefreshToken,
    UnknownGrantType,
    JsonBody,
    MissingPassword,
    OverLimit,
}

const REFUSALS: [Refusal; 6] = [
    Refusal {
        kind: "sign-in: wrong password",
        what: "wrong password",
        request: Refused::WrongPassword,
        error: "invalid_grant",
    },
    Refusal {
        kind: "sign-in: unknown refresh token",
        what: "unknown refresh token",
        request: Refused::UnknownRefreshToken,
        error: "invalid_grant",
    },
    Refusal {
        kind: "sign-in: unknown grant type",
        what: "unknown grant type",
        request: Refused::UnknownGrantType,
        error: "unsupported_grant_type",
    },
    Refusal {
        kind: "sign-in: JSON body",
        what: "JSON body",
        request: Refused::JsonBody,
        error: "unsupported_grant_type",
    },
    Refusal {
        kind: "sign-in: missing password",
        what: "missing password",
        request: Refused::MissingPassword,
        error: "invalid_request",
    },
    Refusal {
        kind: "sign-in: body over the limit",
        what: "body over the limit",
        request: Refused::OverLimit,
        error: "invalid_request",
    },
];

/// How many cases a run of the sign-in checks counts: the two grants and the refusals.
pub(crate) const CASES: usize = 2 + REFUSALS.len();

impl Refused {
    /// The request's content type and body, for `username` whose password is `password`.
    fn request(&self, username: &str, password: &str, body_limit: usize) -> (&'static str, Bytes) {
        match self {
            Refused::WrongPassword => (
                FORM,
                form(&[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", &format!("{password}-not-the-password")),
                ]),
            ),
            Refused::UnknownRefreshToken => (
                FORM,
                form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "contract-check-unknown"),
                ]),
            ),
            Refused::UnknownGrantType => (
                FORM,
                form(&[
                    ("grant_type", "urn:contract-check:unknown"),
                    ("username", username),
                ]),
            ),
            Refused::JsonBody => (
                "application/json",
                Bytes::from(
                    serde_json::to_vec(&serde_json::json!({
                        "grant_type": "password", "username": username, "password": password,
                    }))
                    .expect("JSON values serialise"),
                ),
            ),
            Refused::MissingPassword => (
                FORM,
                form(&[("grant_type", "password"), ("username", username)]),
            ),
            Refused::OverLimit => (FORM, Bytes::from(vec![b'a'; body_limit + 1])),
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    Bytes::from(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    )
}

impl Runner<'_> {
    /// Every case, with its kind, against `endpoint` as `credentials`' user.
    pub(crate) async fn sign_in_cases(
        &self,
        endpoint: &'static Operation,
        credentials: &SignIn,
    ) -> Vec<(&'static str, CaseResult)> {
        let (username, password) = (credentials.username.as_str(), credentials.password.as_str());
        let mut secrets = vec![(password.to_owned(), "$NEXUDUS_PASSWORD".to_owned())];
        let mut cases = Vec::new();

        let mut result = CaseResult::new();
        let granted = self
            .grant(
                &mut result,
                endpoint,
                "password grant",
                form(&[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                ]),
            )
            .await;
        cases.push((PASSWORD_GRANT, result));

        let mut result = CaseResult::new();
        if let Some(refresh_token) = granted
            .as_ref()
            .and_then(|body| text(body, "refresh_token"))
        {
            let refresh = form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
            ]);
            self.grant(&mut result, endpoint, "refresh grant", refresh.clone())
                .await;
            self.refused(
                &mut result,
                endpoint,
                "the same refresh token",
                Some(FORM),
                refresh,
                "invalid_grant",
            )
            .await;
        } else {
            result.outcomes.push((
                "refresh token".into(),
                Err("the password grant gave none".into()),
            ));
        }
        cases.push((REFRESH_GRANT, result));

        for refusal in &REFUSALS {
            let (content_type, body) =
                refusal
                    .request
                    .request(username, password, self.target.body_limit);
            let mut result = CaseResult::new();
            self.refused(
                &mut result,
                endpoint,
                refusal.what,
                Some(content_type),
                body,
                refusal.error,
            )
            .await;
            cases.push((refusal.kind, result));
        }
        // Tokens granted where a refusal was due are secrets all the same.
        for exchange in cases
            .iter()
            .flat_map(|(_, result)| &result.steps)
            .filter_map(|sent| sent.exchange.as_ref())
        {
            if let Some(body) = exchange.response_json() {
                for key in ["access_token", "refresh_token"] {
                    if let Some(token) = text(&body, key) {
                        secrets.push((token, format!("$ISSUED_{}", key.to_uppercase())));
                    }
                }
            }
        }
        for (_, result) in &mut cases {
            for sent in &mut result.steps {
                if let Some(exchange) = &mut sent.exchange {
                    redact(exchange, &secrets);
                }
            }
        }
        cases
    }

    /// Sends one request to the endpoint, anonymously, and records its step.
    async fn post(
        &self,
        result: &mut CaseResult,
        endpoint: &'static Operation,
        what: &str,
        content_type: Option<&str>,
        body: Bytes,
        refused_early: bool,
    ) -> Option<Exchange> {
        let url = format!(
            "{}{}",
            self.target.base_url.trim_end_matches('/'),
            endpoint.path
        );
        let sent = self
            .raw(
                Credentials::None,
                endpoint,
                url,
                content_type,
                body,
                refused_early,
            )
            .await;
        let exchange = match sent {
            Ok(exchange) => Some(exchange),
            Err(message) => {
                result.outcomes.push(("request".into(), Err(message)));
                None
            }
        };
        result.steps.push(Sent {
            what: what.to_owned(),
            credentials: Credentials::None,
            exchange: exchange.clone(),
        });
        exchange
    }

    /// A grant that must succeed; the access token is then tried on a secured operation. The answer's body, when it succeeded.
    async fn grant(
        &self,
        result: &mut CaseResult,
        endpoint: &'static Operation,
        what: &str,
        body: Bytes,
    ) -> Option<Value> {
        let exchange = self
            .post(result, endpoint, what, Some(FORM), body, false)
            .await?;
        let json = exchange.response_json();
        let success = endpoint
            .responses
            .iter()
            .find(|response| (200..300).contains(&response.status));
        result.outcomes.push(checks::status(
            success.map_or(200, |response| response.status),
            exchange.status,
        ));
        result.outcomes.push(checks::response_schema(
            self.spec.response_validator(endpoint, exchange.status),
            json.as_ref(),
        ));
        let body = json.filter(|_| (200..300).contains(&exchange.status))?;
        let token_type = body
            .get("token_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        result.outcomes.push((
            "token type".into(),
            check(token_type.eq_ignore_ascii_case("bearer"), || {
                format!("token_type is {token_type:?}, not bearer (RFC 6750)")
            }),
        ));
        if let (Some(access_token), Some(probe)) = (text(&body, "access_token"), probe()) {
            self.try_token(result, probe, &access_token).await;
        }
        Some(body)
    }

    /// The issued token on `probe`: it must be answered with its success.
    async fn try_token(&self, result: &mut CaseResult, probe: &'static Operation, token: &str) {
        let client = match nexudus_client::authenticated(&self.target.base_url, token) {
            Ok(client) => client,
            Err(error) => {
                result
                    .outcomes
                    .push(("issued token works".into(), Err(error.to_string())));
                return;
            }
        };
        let url = format!(
            "{}{}",
            self.target.base_url.trim_end_matches('/'),
            probe.path
        );
        let sent = exchange::send_raw(
            &client,
            self.patience(),
            probe.method,
            url,
            None,
            None,
            &[],
            false,
        )
        .await
        .map_err(|error| format!("the request failed: {error}"));
        if let Ok(exchange) = &sent {
            self.answered_with(probe, Some(token.to_owned()), exchange);
        }
        let status = sent.as_ref().map_or(0, |exchange| exchange.status);
        result.steps.push(Sent {
            what: format!("{} with the issued token", probe.operation_id),
            credentials: Credentials::None,
            exchange: sent.ok(),
        });
        result.outcomes.push((
            "issued token works".into(),
            check((200..300).contains(&status), || {
                format!(
                    "{} answered {status} to the issued token",
                    probe.operation_id
                )
            }),
        ));
    }

    /// A request the endpoint must refuse with `error` (RFC 6749, section 5.2), at the status it
    /// documents for it (400, or 413 for a body over the limit where it documents 413).
    async fn refused(
        &self,
        result: &mut CaseResult,
        endpoint: &'static Operation,
        what: &str,
        content_type: Option<&str>,
        body: Bytes,
        error: &str,
    ) {
        let oversize = body.len() > self.target.body_limit;
        let Some(exchange) = self
            .post(result, endpoint, what, content_type, body, oversize)
            .await
        else {
            return;
        };
        let expected = if oversize && endpoint.response(413).is_some() {
            413
        } else {
            400
        };
        let json = exchange.response_json();
        result
            .outcomes
            .push(checks::status(expected, exchange.status));
        result.outcomes.push(checks::response_schema(
            self.spec.response_validator(endpoint, exchange.status),
            json.as_ref(),
        ));
        let got = json
            .as_ref()
            .and_then(|json| json.get("error"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        result.outcomes.push((
            "OAuth error code".into(),
            check(got == error, || {
                format!("error is {got:?}, expected {error:?}")
            }),
        ));
    }
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The exchange with every secret replaced by its placeholder (in the URL, both bodies).
fn redact(exchange: &mut Exchange, secrets: &[(String, String)]) {
    let replace = |text: &str| {
        secrets
            .iter()
            .filter(|(secret, _)| !secret.is_empty())
            .fold(text.to_owned(), |text, (secret, placeholder)| {
                // A form carries it percent-encoded.
                let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
                text.replace(secret, placeholder)
                    .replace(&encoded, placeholder)
            })
    };
    exchange.url = replace(&exchange.url);
    exchange.request_body = Bytes::from(replace(&String::from_utf8_lossy(&exchange.request_body)));
    exchange.response_body =
        Bytes::from(replace(&String::from_utf8_lossy(&exchange.response_body)));
}
