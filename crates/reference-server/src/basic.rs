//! Basic credentials (a username and password sent with every request, as Nexudus accepts beside
//! bearer tokens) remembered for a while once verified, so that a client using them pays the
//! Argon2 check on its first request rather than on each one.
//!
//! They are remembered by a digest keyed with 256 random bits of this process, never as
//! themselves: the memory of the process gives no password away, and a digest from one run is
//! worth nothing to another. Wrong credentials are not remembered: each costs a check, behind
//! the same gate as the token endpoint's.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// How long verified credentials are taken without a new check.
const REMEMBERED_FOR: Duration = Duration::from_secs(300);

/// The most credentials remembered at once; past it, the expired ones are forgotten, and if
/// none had expired, all of them.
const MOST: usize = 10_000;

/// Verified Basic credentials, by keyed digest: the user's email and until when.
#[derive(Debug)]
pub struct VerifiedBasic {
    key: [u8; 32],
    verified: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl Default for VerifiedBasic {
    fn default() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self {
            key,
            verified: Mutex::default(),
        }
    }
}

impl VerifiedBasic {
    fn digest(&self, username: &str, password: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        // The username's length first, so that no other pair hashes the same bytes.
        hasher.update((username.len() as u64).to_le_bytes());
        hasher.update(username.to_lowercase().as_bytes());
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (String, Instant)>> {
        self.verified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The email of the user these credentials were verified for, if they were, recently.
    pub fn get(&self, username: &str, password: &str, now: Instant) -> Option<String> {
        let digest = self.digest(username, password);
        let verified = self.verified();
        verified
            .get(&digest)
            .filter(|(_, until)| *until > now)
            .map(|(email, _)| email.clone())
    }

    /// Remembers that these credentials are the user `email`'s.
    pub fn remember(&self, username: &str, password: &str, email: &str, now: Instant) {
        let digest = self.digest(username, password);
        let mut verified = self.verified();
        if verified.len() >= MOST {
            verified.retain(|_, (_, until)| *until > now);
            if verified.len() >= MOST {
                verified.clear();
            }
        }
        verified.insert(digest, (email.to_owned(), now + REMEMBERED_FOR));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_remembered_for_a_while_by_their_username_in_any_case() {
        let basic = VerifiedBasic::default();
        let now = Instant::now();
        assert_eq!(basic.get("a@b.c", "pw", now), None);
        basic.remember("a@b.c", "pw", "a@b.c", now);
        assert_eq!(basic.get("A@B.C", "pw", now).as_deref(), Some("a@b.c"));
        assert_eq!(basic.get("a@b.c", "pw2", now), None);
        assert_eq!(basic.get("a@b.cp", "w", now), None);
        assert_eq!(basic.get("a@b.c", "pw", now + REMEMBERED_FOR), None);
        // Another process keys its digests otherwise.
        assert_ne!(
            basic.digest("a@b.c", "pw"),
            VerifiedBasic::default().digest("a@b.c", "pw")
        );
    }
}
