//! The checks of an OAuth 2.0 token endpoint: the operation at the `tokenUrl` of a security
//! scheme's password flow (RFC 6749, sections 4.3, 5 and 6). Its requests are forms and its
//! answers OAuth's, not what the generated requests of the other operations assume, so it gets
//! these cases instead: both grants (each issued token is then used on a secured operation), a
//! refresh token used twice, a wrong password, an unknown refresh token and grant type, a JSON
//! body, a missing parameter and a body over the limit, each with the error code RFC 6749 names.
//!
//! A failure's report shows the steps with the password and the issued tokens replaced by
//! placeholders.

use api_description::Operation;
use bytes::Bytes;
use serde_json::Value;

use crate::{
    checks::check,
    exchange::{self, Exchange},
    harness::{CaseResult, Credentials, Runner, Sent, unanswered},
    report::substitute,
    vocabulary::{Check, Mismatch, SignIn},
};

const FORM: &str = "application/x-www-form-urlencoded";

/// A secured operation a token can be tried on with no parameters and no body: a `GET` whose
/// parameters are all optional.
fn probe(operations: &[&'static Operation]) -> Option<&'static Operation> {
    operations.iter().copied().find(|operation| {
        operation.method == "GET"
            && !operation.security.is_empty()
            && operation
                .parameters
                .iter()
                .all(|parameter| !parameter.required)
    })
}

/// A request the endpoint must refuse, and the code RFC 6749 names for it.
struct Refusal {
    kind: SignIn,
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
        kind: SignIn::WrongPassword,
        what: "wrong password",
        request: Refused::WrongPassword,
        error: "invalid_grant",
    },
    Refusal {
        kind: SignIn::UnknownRefreshToken,
        what: "unknown refresh token",
        request: Refused::UnknownRefreshToken,
        error: "invalid_grant",
    },
    Refusal {
        kind: SignIn::UnknownGrantType,
        what: "unknown grant type",
        request: Refused::UnknownGrantType,
        error: "unsupported_grant_type",
    },
    Refusal {
        kind: SignIn::JsonBody,
        what: "JSON body",
        request: Refused::JsonBody,
        error: "unsupported_grant_type",
    },
    Refusal {
        kind: SignIn::MissingPassword,
        what: "missing password",
        request: Refused::MissingPassword,
        error: "invalid_request",
    },
    Refusal {
        kind: SignIn::OverLimit,
        what: "body over the limit",
        request: Refused::OverLimit,
        error: "invalid_request",
    },
];

/// How many cases a run of the sign-in checks counts: the two grants, the refusals, one for
/// each parameter the user's grant needs and each refused user of `credentials`, and the three
/// of refresh tokens kept per client where the spec names a `client_header`.
pub(crate) fn cases(credentials: &crate::options::SignIn, client_header: bool) -> usize {
    let left_out = credentials
        .also
        .iter()
        .filter(|parameter| parameter.left_out.is_some())
        .count();
    let client = if client_header { 3 } else { 0 };
    2 + REFUSALS.len() + left_out + credentials.refused.len() + client
}

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
        credentials: &crate::options::SignIn,
    ) -> Vec<(SignIn, CaseResult)> {
        let (username, password) = (credentials.username.as_str(), credentials.password.as_str());
        let mut secrets = vec![(
            password.to_owned(),
            format!("${}", self.target.secret_names.password),
        )];
        let mut cases = Vec::new();

        let mut result = CaseResult::new();
        let also: Vec<(&str, String)> = credentials
            .also
            .iter()
            .map(|parameter| (parameter.name.as_str(), (parameter.value)()))
            .collect();
        for (name, value) in &also {
            secrets.push((value.clone(), format!("${}", name.to_uppercase())));
        }
        let mut pairs = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ];
        pairs.extend(also.iter().map(|(name, value)| (*name, value.as_str())));
        // The run's own client, where the spec names the header: its grants then retire no
        // refresh token of the user's other clients.
        let client: Vec<(String, String)> = self
            .spec
            .client_header
            .iter()
            .map(|name| {
                (
                    name.clone(),
                    format!("contract-check-{}", self.records.marker),
                )
            })
            .collect();
        let granted = self
            .grant(
                &mut result,
                endpoint,
                "password grant",
                form(&pairs),
                &client,
            )
            .await;
        cases.push((SignIn::PasswordGrant, result));

        let mut result = CaseResult::new();
        if let Some(refresh_token) = granted
            .as_ref()
            .and_then(|body| text(body, "refresh_token"))
        {
            let refresh = refresh_form(&refresh_token);
            self.grant(
                &mut result,
                endpoint,
                "refresh grant",
                refresh.clone(),
                &client,
            )
            .await;
            self.refused(
                &mut result,
                endpoint,
                "the same refresh token",
                Some(FORM),
                refresh,
                &client,
                "invalid_grant",
            )
            .await;
        } else {
            result
                .outcomes
                .push((Check::RefreshToken, Err(no_refresh_token())));
        }
        cases.push((SignIn::RefreshGrant, result));

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
                &client,
                refusal.error,
            )
            .await;
            cases.push((refusal.kind, result));
        }
        for parameter in &credentials.also {
            let Some(error) = &parameter.left_out else {
                continue;
            };
            let without: Vec<(&str, &str)> = pairs
                .iter()
                .copied()
                .filter(|(name, _)| *name != parameter.name)
                .collect();
            let mut result = CaseResult::new();
            let what = format!("right password without {}", parameter.name);
            self.refused(
                &mut result,
                endpoint,
                &what,
                Some(FORM),
                form(&without),
                &client,
                error,
            )
            .await;
            cases.push((SignIn::LeftOut, result));
        }
        for user in &credentials.refused {
            secrets.push((
                user.password.clone(),
                format!("${}_REFUSED", self.target.secret_names.password),
            ));
            let body = form(&[
                ("grant_type", "password"),
                ("username", &user.username),
                ("password", &user.password),
            ]);
            let mut result = CaseResult::new();
            let what = format!("right password of {}", user.username);
            self.refused(
                &mut result,
                endpoint,
                &what,
                Some(FORM),
                body,
                &client,
                &user.error,
            )
            .await;
            cases.push((SignIn::RefusedUser, result));
        }
        if let [(header, id)] = client.as_slice() {
            cases.extend(self.client_cases(endpoint, &form(&pairs), header, id).await);
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

    /// The cases of refresh tokens kept per client, the client named in the header `header`
    /// (the run's own, `id`), each on pairs of its own from `password_grant`: a refresh grant
    /// without the header, one naming another client, and a second pair for the client, which
    /// retires the first refresh token but not the first access token.
    async fn client_cases(
        &self,
        endpoint: &'static Operation,
        password_grant: &Bytes,
        header: &str,
        id: &str,
    ) -> Vec<(SignIn, CaseResult)> {
        let client = [(header.to_owned(), id.to_owned())];
        let other = [(header.to_owned(), format!("{id}-other"))];
        let mut cases = Vec::new();
        for (kind, headers, what, error) in [
            (
                SignIn::ClientLeftOut,
                &[][..],
                format!("refresh grant without {header}"),
                "invalid_request",
            ),
            (
                SignIn::OtherClient,
                &other[..],
                format!("refresh grant with another {header}"),
                "invalid_grant",
            ),
        ] {
            let mut result = CaseResult::new();
            let granted = self
                .grant(
                    &mut result,
                    endpoint,
                    "password grant",
                    password_grant.clone(),
                    &client,
                )
                .await;
            match granted
                .as_ref()
                .and_then(|body| text(body, "refresh_token"))
            {
                Some(refresh_token) => {
                    let body = refresh_form(&refresh_token);
                    self.refused(
                        &mut result,
                        endpoint,
                        &what,
                        Some(FORM),
                        body,
                        headers,
                        error,
                    )
                    .await;
                }
                None => result
                    .outcomes
                    .push((Check::RefreshToken, Err(no_refresh_token()))),
            }
            cases.push((kind, result));
        }

        let mut result = CaseResult::new();
        let first = self
            .grant(
                &mut result,
                endpoint,
                "password grant",
                password_grant.clone(),
                &client,
            )
            .await;
        let second = self
            .grant(
                &mut result,
                endpoint,
                "password grant for the same client",
                password_grant.clone(),
                &client,
            )
            .await;
        let token = |body: &Option<Value>, key| body.as_ref().and_then(|body| text(body, key));
        match (
            token(&first, "refresh_token"),
            token(&second, "refresh_token"),
        ) {
            (Some(retired), Some(current)) => {
                self.refused(
                    &mut result,
                    endpoint,
                    "the first refresh token",
                    Some(FORM),
                    refresh_form(&retired),
                    &client,
                    "invalid_grant",
                )
                .await;
                if let (Some(access_token), Some(probe)) =
                    (token(&first, "access_token"), probe(&self.spec.operations))
                {
                    self.try_token(&mut result, probe, &access_token).await;
                }
                self.grant(
                    &mut result,
                    endpoint,
                    "the second refresh token",
                    refresh_form(&current),
                    &client,
                )
                .await;
            }
            _ => result
                .outcomes
                .push((Check::RefreshToken, Err(no_refresh_token()))),
        }
        cases.push((SignIn::ClientRetired, result));
        cases
    }

    /// Sends one request to the endpoint, anonymously, with `headers`, and records its step.
    #[allow(clippy::too_many_arguments)]
    async fn post(
        &self,
        result: &mut CaseResult,
        endpoint: &'static Operation,
        what: &str,
        content_type: Option<&str>,
        body: Bytes,
        headers: &[(String, String)],
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
                headers,
                refused_early,
            )
            .await;
        let exchange = match sent {
            Ok(exchange) => Some(exchange),
            Err(message) => {
                result
                    .outcomes
                    .push((Check::Request, Err(unanswered(message))));
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
        headers: &[(String, String)],
    ) -> Option<Value> {
        let exchange = self
            .post(result, endpoint, what, Some(FORM), body, headers, false)
            .await?;
        let success = endpoint
            .responses
            .iter()
            .find(|response| (200..300).contains(&response.status))
            .map_or(200, |response| response.status);
        if !self.judge_answer(endpoint, &exchange, success, &mut result.outcomes)
            || exchange.status != success
        {
            return None;
        }
        let body = exchange.response_json()?;
        let token_type = body.get("token_type").cloned().unwrap_or(Value::Null);
        result.outcomes.push((
            Check::TokenType,
            check(
                token_type
                    .as_str()
                    .is_some_and(|text| text.eq_ignore_ascii_case("bearer")),
                || {
                    Mismatch::new(
                        "not bearer",
                        format!("token_type is {token_type}, where RFC 6750 says bearer"),
                    )
                    .values(Value::from("bearer"), token_type.clone())
                },
            ),
        ));
        if let (Some(access_token), Some(probe)) =
            (text(&body, "access_token"), probe(&self.spec.operations))
        {
            self.try_token(result, probe, &access_token).await;
        }
        Some(body)
    }

    /// The issued token on `probe`: it must be answered with its success.
    async fn try_token(&self, result: &mut CaseResult, probe: &'static Operation, token: &str) {
        let client = match exchange::http_client(Some(token)) {
            Ok(client) => client,
            Err(error) => {
                result.outcomes.push((
                    Check::IssuedTokenWorks,
                    Err(Mismatch::new("no client", error)),
                ));
                return;
            }
        };
        let url = format!(
            "{}{}",
            self.target.base_url.trim_end_matches('/'),
            probe.path
        );
        let sent = self
            .raw_as(&client, probe.method, url, None, None, &[], false)
            .await;
        if let Ok(exchange) = &sent {
            self.answered_with(probe, Some(token.to_owned()), exchange);
        }
        let status = sent.as_ref().map_or(0, |exchange| exchange.status);
        result.steps.push(Sent {
            what: format!("{} with the issued token", probe.operation_id),
            credentials: Credentials::Issued,
            exchange: sent.ok(),
        });
        result.outcomes.push((
            Check::IssuedTokenWorks,
            check((200..300).contains(&status), || {
                Mismatch::new(
                    format!("answered {status}"),
                    format!(
                        "{} answered {status} to the issued token",
                        probe.operation_id
                    ),
                )
            }),
        ));
    }

    /// A request the endpoint must refuse with `error` (RFC 6749, section 5.2), at the status it
    /// documents for it (400, or 413 for a body over the limit where it documents 413).
    #[allow(clippy::too_many_arguments)]
    async fn refused(
        &self,
        result: &mut CaseResult,
        endpoint: &'static Operation,
        what: &str,
        content_type: Option<&str>,
        body: Bytes,
        headers: &[(String, String)],
        error: &str,
    ) {
        let oversize = body.len() > self.target.body_limit;
        let Some(exchange) = self
            .post(
                result,
                endpoint,
                what,
                content_type,
                body,
                headers,
                oversize,
            )
            .await
        else {
            return;
        };
        let expected = if oversize && endpoint.response(413).is_some() {
            413
        } else {
            400
        };
        // An answer of another status is that status's fault alone: an OAuth error code is not
        // looked for in a success.
        if !self.judge_answer(endpoint, &exchange, expected, &mut result.outcomes)
            || exchange.status != expected
        {
            return;
        }
        let got = exchange
            .response_json()
            .and_then(|json| json.get("error").cloned());
        result.outcomes.push((
            Check::OAuthErrorCode,
            match got {
                Some(Value::String(got)) if got == error => Ok(()),
                Some(got) => Err(Mismatch::new(
                    format!("error {got}"),
                    format!("error is {got}, where RFC 6749 says {}", Value::from(error)),
                )
                .values(Value::from(error), got.clone())),
                None => Err(Mismatch::new(
                    "no error member",
                    format!(
                        "the answer has no error member, where RFC 6749 says {}",
                        Value::from(error)
                    ),
                )
                .values(Value::from(error), Value::Null)),
            },
        ));
    }
}

/// The refresh grant's form for `refresh_token`.
fn refresh_form(refresh_token: &str) -> Bytes {
    form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ])
}

fn no_refresh_token() -> Mismatch {
    Mismatch::new(
        "no refresh token",
        "the password grant gave no refresh token to try",
    )
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The exchange with every secret replaced by its placeholder wherever it is a whole value: a
/// query or form value, a JSON string, a header value (or `Bearer` and it), or, in a body that is
/// neither JSON nor a form, a whole word. A secret is never replaced inside other text.
fn redact(exchange: &mut Exchange, secrets: &[(String, String)]) {
    let secrets: Vec<&(String, String)> = secrets
        .iter()
        .filter(|(secret, _)| !secret.is_empty())
        .collect();
    let value = |text: &str| {
        secrets
            .iter()
            .find(|(secret, _)| secret == text)
            .map(|(_, placeholder)| placeholder.clone())
    };
    let form = |text: &str| -> String {
        text.split('&')
            .map(|pair| {
                let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
                let decoded: String = form_urlencoded::parse(format!("x={raw}").as_bytes())
                    .next()
                    .map(|(_, decoded)| decoded.into_owned())
                    .unwrap_or_default();
                match value(&decoded) {
                    Some(placeholder) => format!("{name}={placeholder}"),
                    None => pair.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    fn json(value: &mut Value, replace: &dyn Fn(&str) -> Option<String>) {
        match value {
            Value::String(text) => {
                if let Some(placeholder) = replace(text) {
                    *text = placeholder;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| json(item, replace)),
            Value::Object(members) => members.values_mut().for_each(|item| json(item, replace)),
            _ => {}
        }
    }
    let body = |bytes: &Bytes| -> Bytes {
        if let Ok(mut parsed) = serde_json::from_slice::<Value>(bytes) {
            json(&mut parsed, &value);
            return Bytes::from(serde_json::to_vec(&parsed).expect("JSON values serialise"));
        }
        let text = String::from_utf8_lossy(bytes);
        if !text.is_empty() && !text.contains(char::is_whitespace) && text.contains('=') {
            return Bytes::from(form(&text));
        }
        let mut text = text.into_owned();
        for (secret, placeholder) in &secrets {
            text = substitute(&text, secret, placeholder);
        }
        Bytes::from(text)
    };
    if let Some((path, query)) = exchange.url.split_once('?') {
        exchange.url = format!("{path}?{}", form(query));
    }
    exchange.request_body = body(&exchange.request_body);
    exchange.response_body = body(&exchange.response_body);
    for (_, header) in &mut exchange.headers {
        let bearer = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .and_then(|(_, token)| value(token));
        if let Some(placeholder) = value(header) {
            *header = placeholder;
        } else if let Some(placeholder) = bearer {
            *header = format!("Bearer {placeholder}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_as_whole_values_only() {
        let secrets = [
            ("ab".to_owned(), "$ISSUED_ACCESS_TOKEN".to_owned()),
            ("p@ss word".to_owned(), "$API_PASSWORD".to_owned()),
        ];
        let mut exchange = Exchange {
            method: "POST".into(),
            url: "http://h/api/token?token=ab&about=abab".into(),
            request_body: Bytes::from_static(
                b"grant_type=password&password=p%40ss+word&about=ab%20c",
            ),
            content_type: Some(FORM.into()),
            headers: vec![("Authorization".into(), "Bearer ab".into())],
            status: 200,
            response_headers: Vec::new(),
            response_body: Bytes::from_static(
                br#"{"access_token":"ab","note":"about abstract tables","list":["ab","abc"]}"#,
            ),
        };
        redact(&mut exchange, &secrets);
        assert_eq!(
            exchange.url,
            "http://h/api/token?token=$ISSUED_ACCESS_TOKEN&about=abab"
        );
        assert_eq!(
            &exchange.request_body[..],
            b"grant_type=password&password=$API_PASSWORD&about=ab%20c"
        );
        assert_eq!(exchange.headers[0].1, "Bearer $ISSUED_ACCESS_TOKEN");
        let body: Value = serde_json::from_slice(&exchange.response_body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"access_token": "$ISSUED_ACCESS_TOKEN", "note": "about abstract tables", "list": ["$ISSUED_ACCESS_TOKEN", "abc"]})
        );
        let mut text = exchange.clone();
        text.response_body = Bytes::from_static(b"token ab is not about abc");
        redact(&mut text, &secrets);
        assert_eq!(
            &text.response_body[..],
            b"token $ISSUED_ACCESS_TOKEN is not about abc"
        );
    }
}
