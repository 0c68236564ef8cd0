//! Who may call the server: users with a bearer token, roles and a full-administrator flag.
//!
//! Tokens are kept only as SHA-256 digests and looked up by comparing every digest in constant
//! time, so neither the time taken nor the memory of the process gives a token away.

use std::{collections::BTreeSet, path::Path};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a users file was refused.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file could not be read.
    #[error("cannot read the users file {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML of the expected shape.
    #[error("the users file is not valid: {0}")]
    Parse(#[source] serde_yaml_ng::Error),
    /// A user is not usable.
    #[error("user #{index} ({email}): {problem}")]
    Invalid {
        /// 1-based position in the file.
        index: usize,
        /// The user's email.
        email: String,
        /// What is wrong.
        problem: &'static str,
    },
}

/// One user as the users file describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    email: String,
    token: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    full_admin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    users: Vec<UserEntry>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The email, reported as `UpdatedBy`.
    pub email: String,
    /// The roles the user holds.
    pub roles: BTreeSet<String>,
    /// A full unrestricted administrator holds every role.
    pub full_admin: bool,
}

impl User {
    /// Whether the user satisfies one of the alternative role sets (`requirements`); an empty
    /// list of alternatives asks for no role.
    pub fn may(&self, requirements: &[&[&str]]) -> bool {
        self.full_admin
            || requirements.is_empty()
            || requirements
                .iter()
                .any(|roles| roles.iter().all(|role| self.roles.contains(*role)))
    }
}

/// The users the server knows.
#[derive(Debug, Clone)]
pub struct Users {
    entries: Vec<([u8; 32], User)>,
    builtin: bool,
}

/// The built-in users for local use: `(email, token, roles, full_admin)`. Anyone who reads this
/// repository knows these tokens, so the server refuses to listen beyond loopback with them.
pub const BUILTIN_USERS: &[(&str, &str, &[&str], bool)] = &[
    ("admin@example.com", "local-admin-token", &[], true),
    (
        "creator@example.com",
        "local-creator-token",
        &["CoworkerTimePass-Create"],
        false,
    ),
    (
        "reader@example.com",
        "local-reader-token",
        &["CoworkerTimePass-Read", "CoworkerTimePass-List"],
        false,
    ),
    ("norole@example.com", "local-norole-token", &[], false),
];

impl Users {
    /// The built-in users ([`BUILTIN_USERS`]).
    pub fn builtin() -> Self {
        let entries = BUILTIN_USERS
            .iter()
            .map(|(email, token, roles, full_admin)| UserEntry {
                email: (*email).to_owned(),
                token: (*token).to_owned(),
                roles: roles.iter().map(|role| (*role).to_owned()).collect(),
                full_admin: *full_admin,
            })
            .collect();
        Self::from_entries(entries, true).expect("the built-in users are valid")
    }

    /// Users from a YAML file:
    ///
    /// ```yaml
    /// users:
    ///   - email: admin@example.com
    ///     token: a-long-random-token
    ///     full_admin: true
    ///   - email: desk@example.com
    ///     token: another-long-random-token
    ///     roles: [CoworkerTimePass-Create]
    /// ```
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// Users from the text of a users file (see [`Users::load`]).
    pub fn from_yaml(text: &str) -> Result<Self, UsersError> {
        let file: UsersFile = serde_yaml_ng::from_str(text).map_err(UsersError::Parse)?;
        Self::from_entries(file.users, false)
    }

    fn from_entries(entries: Vec<UserEntry>, builtin: bool) -> Result<Self, UsersError> {
        let mut seen = BTreeSet::new();
        let mut users = Vec::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let invalid = |problem| UsersError::Invalid {
                index: index + 1,
                email: entry.email.clone(),
                problem,
            };
            if entry.email.trim().is_empty() {
                return Err(invalid("the email is empty"));
            }
            if entry.token.is_empty() || entry.token.bytes().any(|b| !b.is_ascii_graphic()) {
                return Err(invalid("the token must be visible ASCII without spaces"));
            }
            let digest = digest(&entry.token);
            if !seen.insert(digest) {
                return Err(invalid("the token is the same as another user's"));
            }
            users.push((
                digest,
                User {
                    email: entry.email,
                    roles: entry.roles.into_iter().collect(),
                    full_admin: entry.full_admin,
                },
            ));
        }
        Ok(Self {
            entries: users,
            builtin,
        })
    }

    /// Whether these are the built-in users.
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The user holding `token`. Every user's digest is compared, in constant time, whatever
    /// matches.
    pub fn find(&self, token: &str) -> Option<&User> {
        let wanted = digest(token);
        let mut found = None;
        for (digest, user) in &self.entries {
            if bool::from(digest.ct_eq(&wanted)) {
                found = Some(user);
            }
        }
        found
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_by_token() {
        let users = Users::builtin();
        assert!(users.is_builtin());
        assert_eq!(
            users.find("local-admin-token").unwrap().email,
            "admin@example.com"
        );
        assert!(users.find("local-admin-toke").is_none());
        assert!(users.find("").is_none());
    }

    #[test]
    fn roles_and_full_admins() {
        let users = Users::builtin();
        let create: &[&[&str]] = &[&["CoworkerTimePass-Create"]];
        assert!(users.find("local-admin-token").unwrap().may(create));
        assert!(users.find("local-creator-token").unwrap().may(create));
        assert!(!users.find("local-reader-token").unwrap().may(create));
        assert!(
            users
                .find("local-reader-token")
                .unwrap()
                .may(&[&["CoworkerTimePass-List"]])
        );
        assert!(!users.find("local-norole-token").unwrap().may(create));
        assert!(users.find("local-norole-token").unwrap().may(&[]));
    }

    #[test]
    fn users_files_are_checked() {
        let users = Users::from_yaml(
            "users:\n  - {email: a@b.c, token: t1, roles: [R]}\n  - {email: d@e.f, token: t2, full_admin: true}\n",
        )
        .unwrap();
        assert!(!users.is_builtin());
        assert_eq!(users.find("t2").unwrap().email, "d@e.f");
        let duplicate = "users:\n  - {email: a@b.c, token: t}\n  - {email: d@e.f, token: t}\n";
        assert!(matches!(
            Users::from_yaml(duplicate),
            Err(UsersError::Invalid { index: 2, .. })
        ));
        let spaced = "users:\n  - {email: a@b.c, token: 'a b'}\n";
        assert!(matches!(
            Users::from_yaml(spaced),
            Err(UsersError::Invalid { index: 1, .. })
        ));
        assert!(matches!(
            Users::from_yaml("users:\n  - {email: a@b.c, tokn: t}\n"),
            Err(UsersError::Parse(_))
        ));
    }
}
