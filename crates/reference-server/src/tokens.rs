//! Tokens issued by the token endpoint (`POST /api/token`): an access token, the bearer token
//! of every other operation, and a refresh token that gets a new pair once.
//!
//! Both are 256 random bits, handed out once and kept only as SHA-256 digests, in the server's
//! database (table `issued_tokens`), so that they survive a restart and a copy of the database
//! gives none away. Each pair is for a user and a client (Nexudus' `client_id`): a new pair
//! retires the earlier refresh tokens of its user and client, and a refresh token gets a new
//! pair only for the client it was issued to. Access tokens are also held in memory, by digest, so that checking one costs
//! a hash and a map lookup; looking up by digest tells nothing of the token a caller sends.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Mutex, MutexGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use rusqlite::{Connection, OptionalExtension};

use crate::{
    store::StoreError,
    users::{User, Users, digest},
};

/// How long issued tokens are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    /// An access token (Nexudus: 604,799 seconds).
    pub access: Duration,
    /// A refresh token (Nexudus: 15 days).
    pub refresh: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: Duration::from_secs(604_799),
            refresh: Duration::from_secs(15 * 86_400),
        }
    }
}

/// A new pair of tokens, as the token endpoint answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The bearer token.
    pub access_token: String,
    /// The token that gets the next pair.
    pub refresh_token: String,
    /// Seconds until the access token expires (at least 1).
    pub expires_in: u64,
}

/// What an access token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// Issued to the user with this email, and still valid.
    Valid(String),
    /// Issued, and expired.
    Expired,
    /// Never issued here.
    Unknown,
}

/// An access token held in memory.
#[derive(Debug, Clone)]
struct Issued {
    email: String,
    /// Milliseconds since the Unix epoch.
    expires_at: i64,
}

/// The issued tokens: the database table and the access tokens in memory.
#[derive(Debug)]
pub struct Tokens {
    connection: Mutex<Connection>,
    access: Mutex<HashMap<[u8; 32], Issued>>,
    lifetimes: TokenLifetimes,
}

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

impl Tokens {
    /// Opens the table in the database at `path` (creating it if needed), forgets the tokens that
    /// have expired and loads the valid access tokens.
    pub fn open(path: &Path, lifetimes: TokenLifetimes) -> Result<Self, StoreError> {
        let connection = crate::store::connect(path)?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS issued_tokens (
                digest BLOB PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
                email TEXT NOT NULL,
                expires_at INTEGER NOT NULL,
                client TEXT NOT NULL
            )",
        )?;
        // A database from before clients: its tokens were issued to the default client, the
        // user's email, so that their refresh tokens keep working.
        let has_client = connection
            .prepare("SELECT 1 FROM pragma_table_info('issued_tokens') WHERE name = 'client'")?
            .exists([])?;
        if !has_client {
            connection.execute_batch(
                "ALTER TABLE issued_tokens ADD COLUMN client TEXT NOT NULL DEFAULT '';
                 UPDATE issued_tokens SET client = email;",
            )?;
        }
        connection.execute_batch(
            "CREATE INDEX IF NOT EXISTS issued_tokens_by_client
                 ON issued_tokens (email, client) WHERE kind = 'refresh'",
        )?;
        let now = millis(SystemTime::now());
        connection.execute("DELETE FROM issued_tokens WHERE expires_at <= ?1", [now])?;
        let mut access = HashMap::new();
        {
            let mut statement = connection
                .prepare("SELECT digest, email, expires_at FROM issued_tokens WHERE kind = ?1")?;
            let mut rows = statement.query([ACCESS])?;
            while let Some(row) = rows.next()? {
                let digest: Vec<u8> = row.get(0)?;
                let Ok(digest) = <[u8; 32]>::try_from(digest) else {
                    continue;
                };
                access.insert(
                    digest,
                    Issued {
                        email: row.get(1)?,
                        expires_at: row.get(2)?,
                    },
                );
            }
        }
        Ok(Self {
            connection: Mutex::new(connection),
            access: Mutex::new(access),
            lifetimes,
        })
    }

    /// A new pair for the user `email` and the client `client`, stored before it is returned.
    pub fn issue(&self, email: &str, client: &str, now: SystemTime) -> Result<Granted, StoreError> {
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        let (granted, issued) = self.insert_pair(&transaction, email, client, now)?;
        transaction.commit()?;
        self.remember(issued, now);
        Ok(granted)
    }

    /// A new pair for the holder of `refresh_token`, which is used up, for `client`; `None` for a
    /// refresh token that is unknown, already used, retired, expired, or issued to another
    /// client (which leaves it as it is: naming the wrong client costs its holder nothing).
    pub fn refresh(
        &self,
        refresh_token: &str,
        client: &str,
        now: SystemTime,
    ) -> Result<Option<(String, Granted)>, StoreError> {
        let mut connection = self.connection();
        let transaction = connection.transaction()?;
        let holder: Option<(String, i64)> = transaction
            .query_row(
                "DELETE FROM issued_tokens WHERE digest = ?1 AND kind = ?2 AND client = ?3
                 RETURNING email, expires_at",
                rusqlite::params![digest(refresh_token).as_slice(), REFRESH, client],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((email, _)) = holder.filter(|(_, at)| *at > millis(now)) else {
            // An expired one is deleted all the same.
            transaction.commit()?;
            return Ok(None);
        };
        let (granted, issued) = self.insert_pair(&transaction, &email, client, now)?;
        transaction.commit()?;
        self.remember(issued, now);
        Ok(Some((email, granted)))
    }

    /// Who holds the access token `token` at `now`.
    pub fn holder(&self, token: &str, now: SystemTime) -> Holder {
        let access = self
            .access
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match access.get(&digest(token)) {
            Some(issued) if issued.expires_at > millis(now) => Holder::Valid(issued.email.clone()),
            Some(_) => Holder::Expired,
            None => Holder::Unknown,
        }
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores a new pair for `email` and `client`, retiring the client's earlier refresh tokens.
    fn insert_pair(
        &self,
        transaction: &rusqlite::Transaction<'_>,
        email: &str,
        client: &str,
        now: SystemTime,
    ) -> Result<(Granted, ([u8; 32], Issued)), StoreError> {
        transaction
            .prepare_cached(
                "DELETE FROM issued_tokens WHERE kind = ?1 AND email = ?2 AND client = ?3",
            )?
            .execute(rusqlite::params![REFRESH, email, client])?;
        let (access_token, refresh_token) = (random_token(), random_token());
        let access_expires = millis(now + self.lifetimes.access);
        let mut insert = transaction.prepare_cached(
            "INSERT INTO issued_tokens (digest, kind, email, expires_at, client)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let access_digest = digest(&access_token);
        insert.execute(rusqlite::params![
            access_digest.as_slice(),
            ACCESS,
            email,
            access_expires,
            client
        ])?;
        insert.execute(rusqlite::params![
            digest(&refresh_token).as_slice(),
            REFRESH,
            email,
            millis(now + self.lifetimes.refresh),
            client
        ])?;
        let granted = Granted {
            access_token,
            refresh_token,
            expires_in: self.lifetimes.access.as_secs().max(1),
        };
        let issued = Issued {
            email: email.to_owned(),
            expires_at: access_expires,
        };
        Ok((granted, (access_digest, issued)))
    }

    /// Keeps a new access token in memory, forgetting the ones that have expired.
    fn remember(&self, (digest, issued): ([u8; 32], Issued), now: SystemTime) {
        let now = millis(now);
        let mut access = self
            .access
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        access.retain(|_, issued| issued.expires_at > now);
        access.insert(digest, issued);
    }
}

/// Who holds a bearer token: a user's static token, or an access token issued here to a user
/// who is still in the users file; and whose Basic credentials were verified lately.
#[derive(Debug, Clone)]
pub struct Callers {
    /// The users file.
    pub users: Users,
    /// The issued tokens.
    pub tokens: std::sync::Arc<Tokens>,
    /// Basic credentials verified lately.
    pub basic: std::sync::Arc<crate::basic::VerifiedBasic>,
}

impl Callers {
    /// The user holding `token` at `now`, or why there is none (for a 401's message).
    pub fn find(&self, token: &str, now: SystemTime) -> Result<&User, &'static str> {
        if let Some(user) = self.users.find(token) {
            return Ok(user);
        }
        match self.tokens.holder(token, now) {
            Holder::Valid(email) => self
                .users
                .by_email(&email)
                .ok_or("the bearer token's user is no longer known"),
            Holder::Expired => Err("the bearer token has expired"),
            Holder::Unknown => Err("the bearer token is not valid"),
        }
    }

    /// The user whose Basic credentials these are, if they were verified lately (no Argon2 check
    /// here: [`crate::sign_in::SignIn::basic`] makes it).
    pub fn verified_basic(&self, username: &str, password: &str) -> Option<&User> {
        let email = self
            .basic
            .get(username, password, std::time::Instant::now())?;
        self.users.by_email(&email)
    }
}

/// 256 random bits from the operating system, as 64 hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn millis(instant: SystemTime) -> i64 {
    instant.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &tempfile::TempDir, access: u64) -> Tokens {
        Tokens::open(
            &dir.path().join("db.sqlite3"),
            TokenLifetimes {
                access: Duration::from_secs(access),
                refresh: Duration::from_secs(2 * access),
            },
        )
        .unwrap()
    }

    #[test]
    fn issued_tokens_survive_a_restart_expire_and_refresh_once() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let granted = open(&dir, 60).issue("a@b.c", "app", now).unwrap();
        assert_eq!(granted.expires_in, 60);
        assert_eq!(granted.access_token.len(), 64);
        assert_ne!(granted.access_token, granted.refresh_token);

        let tokens = open(&dir, 60);
        let valid = Holder::Valid("a@b.c".into());
        assert_eq!(tokens.holder(&granted.access_token, now), valid);
        assert_eq!(tokens.holder(&granted.refresh_token, now), Holder::Unknown);
        let later = now + Duration::from_secs(60);
        assert_eq!(tokens.holder(&granted.access_token, later), Holder::Expired);

        // Another client's refresh leaves the token as it is.
        assert_eq!(
            tokens
                .refresh(&granted.refresh_token, "other", later)
                .unwrap(),
            None
        );
        let (email, next) = tokens
            .refresh(&granted.refresh_token, "app", later)
            .unwrap()
            .unwrap();
        assert_eq!(email, "a@b.c");
        assert_eq!(tokens.holder(&next.access_token, later), valid);
        // Issuing forgets the access tokens a lookup calls expired, from their last millisecond
        // on: memory holds live tokens only.
        assert_eq!(tokens.holder(&granted.access_token, later), Holder::Unknown);
        assert_eq!(
            tokens
                .refresh(&granted.refresh_token, "app", later)
                .unwrap(),
            None
        );
        assert_eq!(
            tokens.refresh(&next.access_token, "app", later).unwrap(),
            None
        );
        let expired = later + Duration::from_secs(120);
        assert_eq!(
            tokens.refresh(&next.refresh_token, "app", expired).unwrap(),
            None
        );

        // Only digests are stored.
        let connection = Connection::open(dir.path().join("db.sqlite3")).unwrap();
        let stored: Vec<Vec<u8>> = connection
            .prepare("SELECT digest FROM issued_tokens")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!stored.is_empty());
        assert!(
            stored
                .iter()
                .all(|digest| digest.len() == 32
                    && digest.as_slice() != next.access_token.as_bytes())
        );
    }

    /// A new pair retires the earlier refresh tokens of its user and client alone; the access
    /// tokens live on.
    #[test]
    fn a_new_pair_retires_the_clients_earlier_refresh_tokens_only() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let tokens = open(&dir, 60);
        let first = tokens.issue("a@b.c", "app", now).unwrap();
        let elsewhere = tokens.issue("a@b.c", "phone", now).unwrap();
        let other_user = tokens.issue("d@e.f", "app", now).unwrap();
        let second = tokens.issue("a@b.c", "app", now).unwrap();
        assert_eq!(
            tokens.refresh(&first.refresh_token, "app", now).unwrap(),
            None
        );
        let valid = Holder::Valid("a@b.c".into());
        assert_eq!(tokens.holder(&first.access_token, now), valid);
        for (token, client) in [
            (&elsewhere.refresh_token, "phone"),
            (&other_user.refresh_token, "app"),
            (&second.refresh_token, "app"),
        ] {
            assert!(
                tokens.refresh(token, client, now).unwrap().is_some(),
                "{client}"
            );
        }
    }

    /// A database written before clients existed: its refresh tokens belong to the default
    /// client, the user's email.
    #[test]
    fn tokens_from_before_clients_belong_to_the_email() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let refresh_token = random_token();
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "CREATE TABLE issued_tokens (
                    digest BLOB PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
                    email TEXT NOT NULL,
                    expires_at INTEGER NOT NULL
                )",
            )
            .unwrap();
        let later = millis(SystemTime::now() + Duration::from_secs(600));
        connection
            .execute(
                "INSERT INTO issued_tokens VALUES (?1, 'refresh', 'a@b.c', ?2)",
                rusqlite::params![digest(&refresh_token).as_slice(), later],
            )
            .unwrap();
        drop(connection);
        let tokens = open(&dir, 60);
        let now = SystemTime::now();
        assert_eq!(tokens.refresh(&refresh_token, "app", now).unwrap(), None);
        let (email, _) = tokens
            .refresh(&refresh_token, "a@b.c", now)
            .unwrap()
            .unwrap();
        assert_eq!(email, "a@b.c");
    }
}
