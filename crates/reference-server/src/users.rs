//! Who may call the server: users with a static bearer token, a password (as an Argon2 hash) or
//! both, roles and a full-administrator flag; a user may also sign in with a second factor (an
//! RFC 6238 secret) or be asked to choose a new password first.
//!
//! Tokens are kept only as SHA-256 digests and looked up by comparing every digest in constant
//! time, so neither the time taken nor the memory of the process gives a token away. Passwords
//! are kept only as Argon2id hashes (PHC strings); checking one costs the same time whether the
//! user exists, has a password or not ([`Users::sign_in`]).

use std::{collections::BTreeSet, path::Path, sync::LazyLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

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
    /// A password hash is not an Argon2 PHC string.
    #[error("user #{index} ({email}): password_hash is not an Argon2 PHC string: {source}")]
    Hash {
        /// 1-based position in the file.
        index: usize,
        /// The user's email.
        email: String,
        /// What the parser said.
        #[source]
        source: argon2::password_hash::Error,
    },
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
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    full_admin: bool,
    /// The base32 secret of the user's authenticator (two-factor sign-in).
    #[serde(default)]
    totp_secret: Option<String>,
    /// The user must choose a new password before signing in.
    #[serde(default)]
    must_reset_password: bool,
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

/// A known user and how they sign in.
#[derive(Debug, Clone)]
struct Known {
    user: User,
    /// The digest of the static token.
    token: Option<[u8; 32]>,
    /// The Argon2 hash of the password, a PHC string.
    password_hash: Option<String>,
    /// The user's authenticator, for two-factor sign-in.
    totp: Option<TOTP>,
    must_reset_password: bool,
}

/// Why a user whose password is right gets no tokens yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Two-factor sign-in, and no code or a wrong one.
    SecondFactor,
    /// The user must choose a new password first.
    ResetPassword,
}

/// The users the server knows.
#[derive(Debug, Clone)]
pub struct Users {
    entries: Vec<Known>,
    builtin: bool,
}

/// A built-in user for local use. Anyone who reads this repository knows their tokens and
/// passwords, so the server refuses to listen beyond loopback with them.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinUser {
    /// The email, also the username to sign in with.
    pub email: &'static str,
    /// The static bearer token.
    pub token: &'static str,
    /// The password.
    pub password: &'static str,
    /// `password` hashed by `nexudus-reference-server hash-password` (hashed once, here, so
    /// that starting a server costs no hashing).
    pub password_hash: &'static str,
    /// The roles.
    pub roles: &'static [&'static str],
    /// Whether the user is a full unrestricted administrator.
    pub full_admin: bool,
    /// The base32 secret of the user's authenticator, for two-factor sign-in.
    pub totp_secret: Option<&'static str>,
    /// Whether the user must choose a new password before signing in.
    pub must_reset_password: bool,
}

/// The built-in users.
pub const BUILTIN_USERS: &[BuiltinUser] = &[
    BuiltinUser {
        email: "admin@example.com",
        token: "local-admin-token",
        password: "local-admin-password",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$TLm7/MUpv5zK0GglJB9mJg$usq92q6po0BG9PX6c/q1kjtl8I/+nyQ+amtaKbYX4Lc",
        roles: &[],
        full_admin: true,
        totp_secret: None,
        must_reset_password: false,
    },
    BuiltinUser {
        email: "creator@example.com",
        token: "local-creator-token",
        password: "local-creator-password",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$7VM9izMZM7ebZlWfi6JilA$jOPRVGmk26rdeUMvlY3DXQSb00J3VkyYEuiKMu8N6Yo",
        roles: &["CoworkerTimePass-Create"],
        full_admin: false,
        totp_secret: None,
        must_reset_password: false,
    },
    BuiltinUser {
        email: "reader@example.com",
        token: "local-reader-token",
        password: "local-reader-password",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$IKalS06F/oR92E4Sq5wMYg$OFuaazcJqHOJCPYb7KWR5LkwL3JK2tyRFIWLtXWhezk",
        roles: &["CoworkerTimePass-Read", "CoworkerTimePass-List"],
        full_admin: false,
        totp_secret: None,
        must_reset_password: false,
    },
    BuiltinUser {
        email: "norole@example.com",
        token: "local-norole-token",
        password: "local-norole-password",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$m+SIOfqocKWvwiD7M2nycA$eXCZ0/UtsLBHJIWTlAqeGTEoxLp2g3v2uONzWmAnuRo",
        roles: &[],
        full_admin: false,
        totp_secret: None,
        must_reset_password: false,
    },
    BuiltinUser {
        email: "twofactor@example.com",
        token: "local-twofactor-token",
        password: "local-twofactor-password",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$6IwkxWoEFAacG+UBZCkHVA$29NlcXFNz+tPFEDa2KmYSeXKOd1seALa2Of4hKHtluU",
        roles: &["CoworkerTimePass-Read", "CoworkerTimePass-List"],
        full_admin: false,
        totp_secret: Some(BUILTIN_TOTP_SECRET),
        must_reset_password: false,
    },
    BuiltinUser {
        email: "reset@example.com",
        token: "local-reset-token",
        password: "local-reset-password",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$EEPnKYtzQqz67RxwGpAHQw$J8/pmZTzlyEqNp9wV7pMtyEPbpMiP8Lm713oKY+SzJ8",
        roles: &["CoworkerTimePass-Read"],
        full_admin: false,
        totp_secret: None,
        must_reset_password: true,
    },
];

/// The authenticator secret of the built-in user with two-factor sign-in (base32, 160 bits).
pub const BUILTIN_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The authenticator of `secret` (base32): RFC 6238's SHA-1, six digits, 30-second steps, the
/// step before and after also taken. `None` when the secret is not base32 of at least 128 bits.
pub fn authenticator(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// The Argon2 hash of `password` with a fresh random salt, as a PHC string (what a users file's
/// `password_hash` holds).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with its default parameters hashes any password")
        .to_string()
}

/// A hash no password matches in practice, checked when the username is unknown or has no
/// password, so that the answer takes as long as for a wrong password.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("no user has this password"));

impl Users {
    /// The built-in users ([`BUILTIN_USERS`]).
    pub fn builtin() -> Self {
        let entries = BUILTIN_USERS
            .iter()
            .map(|user| UserEntry {
                email: user.email.to_owned(),
                token: Some(user.token.to_owned()),
                password_hash: Some(user.password_hash.to_owned()),
                roles: user.roles.iter().map(|role| (*role).to_owned()).collect(),
                full_admin: user.full_admin,
                totp_secret: user.totp_secret.map(str::to_owned),
                must_reset_password: user.must_reset_password,
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
    ///     password_hash: $argon2id$v=19$m=19456,t=2,p=1$...   # from `hash-password`
    ///     roles: [CoworkerTimePass-Create]
    ///     totp_secret: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP       # two-factor sign-in (base32)
    ///     must_reset_password: false
    /// ```
    ///
    /// Each user has a `token`, a `password_hash` or both; `totp_secret` and
    /// `must_reset_password` are for a user with a password.
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
            if entry.token.is_none() && entry.password_hash.is_none() {
                return Err(invalid("the user has neither a token nor a password_hash"));
            }
            if users
                .iter()
                .any(|known: &Known| known.user.email.eq_ignore_ascii_case(&entry.email))
            {
                return Err(invalid("the email is the same as another user's"));
            }
            let token = match &entry.token {
                Some(token) if token.is_empty() || token.bytes().any(|b| !b.is_ascii_graphic()) => {
                    return Err(invalid("the token must be visible ASCII without spaces"));
                }
                Some(token) => {
                    let digest = digest(token);
                    if !seen.insert(digest) {
                        return Err(invalid("the token is the same as another user's"));
                    }
                    Some(digest)
                }
                None => None,
            };
            if let Some(hash) = &entry.password_hash {
                PasswordHash::new(hash).map_err(|source| UsersError::Hash {
                    index: index + 1,
                    email: entry.email.clone(),
                    source,
                })?;
            }
            let totp = match &entry.totp_secret {
                Some(secret) => Some(authenticator(secret).ok_or_else(|| {
                    invalid("totp_secret must be base32 of at least 128 bits (26 characters)")
                })?),
                None => None,
            };
            if (totp.is_some() || entry.must_reset_password) && entry.password_hash.is_none() {
                return Err(invalid(
                    "totp_secret and must_reset_password are for a user who signs in with a password",
                ));
            }
            users.push(Known {
                user: User {
                    email: entry.email,
                    roles: entry.roles.into_iter().collect(),
                    full_admin: entry.full_admin,
                },
                token,
                password_hash: entry.password_hash,
                totp,
                must_reset_password: entry.must_reset_password,
            });
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
        for known in &self.entries {
            if known
                .token
                .is_some_and(|digest| bool::from(digest.ct_eq(&wanted)))
            {
                found = Some(&known.user);
            }
        }
        found
    }

    /// The user with this email (emails compare without case).
    pub fn by_email(&self, email: &str) -> Option<&User> {
        self.entries
            .iter()
            .map(|known| &known.user)
            .find(|user| user.email.eq_ignore_ascii_case(email))
    }

    /// The user whose email is `username` and whose password is `password`. One Argon2 check is
    /// made whatever the case (an unknown user or one without a password is checked against a
    /// decoy hash), so the time taken does not tell which usernames exist.
    pub fn sign_in(&self, username: &str, password: &str) -> Option<&User> {
        let known = self
            .entries
            .iter()
            .find(|known| known.user.email.eq_ignore_ascii_case(username));
        let hash = known
            .and_then(|known| known.password_hash.as_deref())
            .unwrap_or(DECOY_HASH.as_str());
        let matches = PasswordHash::new(hash).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
        known
            .filter(|known| matches && known.password_hash.is_some())
            .map(|known| &known.user)
    }

    /// What the user `email`, whose password was right, must still do before tokens are issued,
    /// with `totp` the code sent (if any) at `now` (seconds since the Unix epoch): the second
    /// factor first, then a new password.
    pub fn pending(&self, email: &str, totp: Option<&str>, now: u64) -> Option<Pending> {
        let known = self
            .entries
            .iter()
            .find(|known| known.user.email.eq_ignore_ascii_case(email))?;
        if let Some(authenticator) = &known.totp
            && !totp.is_some_and(|code| authenticator.check(code, now))
        {
            return Some(Pending::SecondFactor);
        }
        known.must_reset_password.then_some(Pending::ResetPassword)
    }
}

pub(crate) fn digest(token: &str) -> [u8; 32] {
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
    fn builtin_users_sign_in_with_their_passwords_only() {
        let users = Users::builtin();
        for user in BUILTIN_USERS {
            assert_eq!(
                users
                    .sign_in(user.email, user.password)
                    .map(|found| found.email.as_str()),
                Some(user.email)
            );
            assert!(users.sign_in(user.email, "local-admin-passwor").is_none());
        }
        assert!(
            users
                .sign_in("ADMIN@example.com", "local-admin-password")
                .is_some()
        );
        assert!(
            users
                .sign_in("nobody@example.com", "local-admin-password")
                .is_none()
        );
        assert!(users.sign_in("admin@example.com", "").is_none());
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
    fn a_hashed_password_signs_in_from_a_users_file() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(
            hash,
            hash_password("correct horse"),
            "each hash has its own salt"
        );
        let users = Users::from_yaml(&format!(
            "users:\n  - {{email: a@b.c, token: t}}\n  - {{email: d@e.f, password_hash: '{hash}'}}\n"
        ))
        .unwrap();
        assert_eq!(
            users.sign_in("d@e.f", "correct horse").unwrap().email,
            "d@e.f"
        );
        assert!(users.sign_in("d@e.f", "correct hors").is_none());
        assert!(matches!(
            Users::from_yaml(
                "users:\n  - {email: a@b.c, token: t}\n  - {email: d@e.f, password_hash: plain}\n"
            ),
            Err(UsersError::Hash { index: 2, .. })
        ));
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

    /// A second factor is a base32 secret of at least 128 bits, for a user with a password; the
    /// code of the step before and after is taken too, no other.
    #[test]
    fn a_second_factor_is_checked_after_the_password() {
        let hash = BUILTIN_USERS[0].password_hash;
        let file =
            |extra: &str| format!("users:\n  - {{email: a@b.c, password_hash: '{hash}'{extra}}}\n");
        for refused in [", totp_secret: JBSWY3DP", ", totp_secret: 'not base32!'"] {
            assert!(
                matches!(
                    Users::from_yaml(&file(refused)),
                    Err(UsersError::Invalid { index: 1, .. })
                ),
                "{refused}"
            );
        }
        assert!(matches!(
            Users::from_yaml("users:\n  - {email: a@b.c, token: t, must_reset_password: true}\n"),
            Err(UsersError::Invalid { index: 1, .. })
        ));
        let users = Users::from_yaml(&file(&format!(
            ", totp_secret: {BUILTIN_TOTP_SECRET}, must_reset_password: true"
        )))
        .unwrap();
        let authenticator = authenticator(BUILTIN_TOTP_SECRET).unwrap();
        let now = 1_800_000_000;
        let code = |at: u64| authenticator.generate(at);
        assert_eq!(
            users.pending("a@b.c", None, now),
            Some(Pending::SecondFactor)
        );
        for (at, taken) in [
            (now - 60, false),
            (now - 30, true),
            (now, true),
            (now + 30, true),
            (now + 60, false),
        ] {
            let expected = if taken {
                Pending::ResetPassword
            } else {
                Pending::SecondFactor
            };
            assert_eq!(
                users.pending("A@B.C", Some(&code(at)), now),
                Some(expected),
                "{at}"
            );
        }
        assert_eq!(
            Users::builtin().pending("admin@example.com", None, now),
            None
        );
    }
}
