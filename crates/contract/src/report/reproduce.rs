//! A failure's reproduction: each request as a `curl` command (secrets as shell variables),
//! numbered in a shell script that carries the ids the server gave from one answer to the
//! requests after it.

use std::fmt::Write as _;

use super::*;

impl Failure {
    /// The failure's requests as a numbered shell script of `curl` commands (the target's
    /// secrets in the shell variables [`crate::SecretNames`] names), each with what it was for
    /// and the status it got.
    pub fn script(&self) -> String {
        let mut out = String::from("#!/bin/sh\n");
        let _ = writeln!(
            out,
            "# {} ({}): {}",
            self.operation,
            self.case,
            self.checks
                .iter()
                .map(|(check, _)| check.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if self.steps.iter().any(|step| !step.binds.is_empty()) {
            out.push_str(
                "# The ids the server gives are read from its answers (with jq) into $ID_n, so\n\
                 # that the script reproduces the sequence on any server. Run it once: the records\n\
                 # carry the run's marker, which a second run would find again.\n",
            );
        }
        out.push_str(&self.commands());
        out
    }

    /// Each request as a `curl` command under a comment saying what it was for and its status;
    /// ids an answer gave are read into shell variables for the later requests.
    pub(super) fn commands(&self) -> String {
        let mut out = String::new();
        // Ids answered so far, with their shell variables.
        let mut variables: Vec<(String, String)> = Vec::new();
        for (number, step) in self.steps.iter().enumerate() {
            let mut curl = step.curl.clone();
            for (id, variable) in &variables {
                curl = substitute(&curl, id, &format!("'\"${{{variable}}}\"'"));
            }
            let status = match step.status {
                0 => "no answer".to_owned(),
                status => status.to_string(),
            };
            let _ = writeln!(out, "\n# {}. {} -> {status}", number + 1, step.what);
            if step.at_once {
                // In the background, so that the steps sent at once are in flight together.
                let _ = writeln!(out, "{{\n{curl}\n}} &");
                if !self.steps.get(number + 1).is_some_and(|next| next.at_once) {
                    out.push_str("wait\n");
                }
                continue;
            }
            if step.binds.is_empty() {
                let _ = writeln!(out, "{curl}");
                continue;
            }
            let silent = curl.replacen("curl -i ", "curl -s ", 1);
            let _ = writeln!(out, "answer=$({silent})\nprintf '%s\\n' \"$answer\"");
            for (id, filter) in &step.binds {
                let variable = format!("ID_{}", variables.len() + 1);
                let _ = writeln!(
                    out,
                    "{variable}=$(printf '%s' \"$answer\" | jq -r '{filter}')"
                );
                variables.push((id.clone(), variable));
            }
        }
        out
    }
}

/// `text` with every whole occurrence of `word` (not part of a longer number or word) replaced.
pub(crate) fn substitute(text: &str, word: &str, with: &str) -> String {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(part) || after.is_some_and(part) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// A `curl` command for a request. Secrets are left in shell variables (`auth` and `headers`
/// carry `$NAME` in their place) so that they never end up in a CI log; `headers` are added
/// after the content type, in double quotes, so that each `$NAME` of `variables` in them is
/// expanded and any other `$` is literal.
pub fn curl(
    method: &str,
    url: &str,
    auth: &str,
    content_type: Option<&str>,
    headers: &[(String, String)],
    variables: &[&str],
    body: &[u8],
) -> String {
    const INLINE: usize = 4096;
    let (prefix, data) = match std::str::from_utf8(body) {
        _ if body.is_empty() && content_type.is_none() => (String::new(), None),
        Ok(text) if text.len() <= INLINE && !text.contains('\'') => {
            (String::new(), Some(format!("'{text}'")))
        }
        Ok(text) if text.len() <= INLINE => (
            format!("cat <<'BODY' |\n{text}\nBODY\n"),
            Some("@-".to_owned()),
        ),
        // Bytes that are not text (invalid UTF-8) go through printf, which keeps them exact.
        _ if body.len() <= INLINE => {
            let escaped: String = body.iter().map(|b| format!("\\x{b:02x}")).collect();
            (format!("printf '{escaped}' | "), Some("@-".to_owned()))
        }
        _ => (
            String::new(),
            Some(format!(
                "@request-body  # request-body: the {}-byte request body",
                body.len()
            )),
        ),
    };
    let mut command = format!("{prefix}curl -i -X {method} '{}'", url.replace('\'', "%27"));
    if !auth.is_empty() {
        let _ = write!(command, " \\\n  -H \"Authorization: Bearer {auth}\"");
    }
    if let Some(content_type) = content_type {
        let _ = write!(command, " \\\n  -H 'Content-Type: {content_type}'");
    }
    for (name, value) in headers {
        let value = double_quoted(value, variables);
        let _ = write!(command, " \\\n  -H \"{name}: {value}\"");
    }
    if let Some(data) = data {
        let _ = write!(command, " \\\n  --data-binary {data}");
    }
    command
}

/// `value` for the inside of a shell double-quoted string: each `$NAME` of `variables` stays a
/// variable; every other `$`, `"`, `\` and backquote is literal.
fn double_quoted(value: &str, variables: &[&str]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        let variable = rest.strip_prefix('$').and_then(|after| {
            variables.iter().find(|name| {
                after.starts_with(**name)
                    && !after[name.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        if let Some(name) = variable {
            out.push('$');
            out.push_str(name);
            rest = &rest[1 + name.len()..];
            continue;
        }
        if matches!(c, '$' | '"' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::curl;

    #[test]
    fn curl_commands_reproduce_the_body() {
        let url = "http://127.0.0.1:1/api/x";
        assert_eq!(
            curl(
                "POST",
                url,
                "$T",
                Some("application/json"),
                &[],
                &[],
                br#"{"A":1}"#
            ),
            "curl -i -X POST 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $T\" \\\n  -H 'Content-Type: application/json' \\\n  --data-binary '{\"A\":1}'"
        );
        assert_eq!(
            curl("GET", "http://h/x?a='1'", "", None, &[], &[], b""),
            "curl -i -X GET 'http://h/x?a=%271%27'"
        );
        let headers = [
            ("Authorization".to_owned(), "Bearer $API_TOKEN".to_owned()),
            ("X-Odd".to_owned(), "a\"$b`$API_TOKENS$API_TOKEN".to_owned()),
        ];
        assert_eq!(
            curl("GET", url, "", None, &headers, &["API_TOKEN"], b""),
            "curl -i -X GET 'http://127.0.0.1:1/api/x' \\\n  -H \"Authorization: Bearer $API_TOKEN\" \\\n  -H \"X-Odd: a\\\"\\$b\\`\\$API_TOKENS$API_TOKEN\""
        );
        let quoted = curl("POST", url, "", None, &[], &[], br#"{"A":"it's"}"#);
        assert!(
            quoted.starts_with("cat <<'BODY' |\n{\"A\":\"it's\"}\nBODY\ncurl"),
            "{quoted}"
        );
        assert!(!quoted.contains("Authorization"));
        let bytes = curl("POST", url, "", None, &[], &[], b"{\xff}");
        assert!(
            bytes.starts_with("printf '\\x7b\\xff\\x7d' | curl"),
            "{bytes}"
        );
        let large = curl("POST", url, "", None, &[], &[], &vec![b'x'; 5000]);
        assert!(
            large.ends_with(
                "--data-binary @request-body  # request-body: the 5000-byte request body"
            )
        );
    }

    /// A sequence's script reads each id the server gives into a variable and uses it after,
    /// leaving other numbers alone.
    #[test]
    fn scripts_carry_ids_from_answer_to_later_steps() {
        let step = |what: &str, curl: String, binds: Vec<(String, String)>| super::Step {
            what: what.into(),
            request_body: String::new(),
            status: 200,
            response_body: String::new(),
            curl,
            binds,
            at_once: false,
        };
        let failure = super::Failure {
            operation: "stateful".into(),
            case: crate::vocabulary::Case::Sequence,
            checks: vec![(
                crate::vocabulary::Check::MatchesTheModel.at(crate::vocabulary::Step::Read),
                crate::vocabulary::Mismatch::new("Notes", "Notes"),
            )],
            steps: vec![
                step(
                    "1. create 1",
                    curl(
                        "POST",
                        "http://h/r",
                        "$T",
                        Some("application/json"),
                        &[],
                        &[],
                        b"{}",
                    ),
                    vec![("90123".into(), r#".["Value"]["Id"]"#.into())],
                ),
                step(
                    "2. update record 90123",
                    curl(
                        "PUT",
                        "http://h/r/90123",
                        "$T",
                        Some("application/json"),
                        &[],
                        &[],
                        br#"{"Id":90123,"CoworkerId":901234,"Notes":"90123x"}"#,
                    ),
                    Vec::new(),
                ),
            ],
            sequence: Some(2),
        };
        let script = failure.script();
        assert!(script.starts_with("#!/bin/sh\n"), "{script}");
        assert!(
            script.contains("answer=$(curl -s -X POST 'http://h/r'"),
            "{script}"
        );
        assert!(
            script.contains(r#"ID_1=$(printf '%s' "$answer" | jq -r '.["Value"]["Id"]')"#),
            "{script}"
        );
        assert!(
            script.contains(r#"curl -i -X PUT 'http://h/r/'"${ID_1}"''"#),
            "{script}"
        );
        assert!(
            script.contains(r#"'{"Id":'"${ID_1}"',"CoworkerId":901234,"Notes":"90123x"}'"#),
            "{script}"
        );
    }
}
