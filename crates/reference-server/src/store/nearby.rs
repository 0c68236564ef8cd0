//! Reads on the caller's thread: read-only connections kept for reuse, each taken for one read
//! and put back.
//!
//! A read by id is one B-tree lookup of a few microseconds, less than handing it to a reader
//! thread and waking the caller again (figure 1 of `BENCHMARKS.md` measures both), so it runs
//! where it is asked for. Reads that may touch many rows (lists) stay on the reader threads.

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
};

use rusqlite::Connection;

use super::{connection::read_only, error::StoreError};

/// Idle read-only connections to one database; one more is opened whenever all are in use, so
/// there are never more than the most reads that ran at once.
#[derive(Debug)]
pub(super) struct Nearby {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Nearby {
    /// Opens one connection at once, so that a database that cannot be read fails here.
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            path: path.to_owned(),
            idle: Mutex::new(vec![read_only(path)?]),
        })
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // A connection is pushed or popped whole; nothing half-done can be seen after a panic.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `read` on this thread with an idle connection (or a new one).
    pub(super) fn run<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let taken = self.idle().pop();
        let connection = match taken {
            Some(connection) => connection,
            None => read_only(&self.path)?,
        };
        let result = read(&connection);
        self.idle().push(connection);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::Database;

    #[test]
    fn a_connection_is_reused_and_one_is_opened_only_when_all_are_in_use() {
        let database = Database::new();
        let nearby = Nearby::open(&database.path).unwrap();
        let read = |connection: &Connection| -> Result<i64, StoreError> {
            Ok(connection.query_row("SELECT 41 + 1", [], |row| row.get(0))?)
        };
        assert_eq!(nearby.run(read).unwrap(), 42);
        assert_eq!(nearby.idle().len(), 1);
        let nested = nearby.run(|_| nearby.run(read)).unwrap();
        assert_eq!(nested, 42);
        assert_eq!(nearby.idle().len(), 2);
    }

    #[test]
    fn its_connections_cannot_write() {
        let database = Database::new();
        let nearby = Nearby::open(&database.path).unwrap();
        let written = nearby
            .run(|connection| Ok(connection.execute("DELETE FROM coworker_time_passes", [])?));
        assert!(matches!(written, Err(StoreError::Sqlite(_))), "{written:?}");
        assert_eq!(nearby.idle().len(), 1);
    }

    #[test]
    fn a_database_that_cannot_be_opened_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-directory").join("db.sqlite3");
        assert!(Nearby::open(&missing).is_err());
    }
}
