//! How storage fails: one error for every part of the store, so that a caller answers any of
//! them the same way (the API turns each into one 500 envelope).

use std::sync::Arc;

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("the database failed: {0}")]
    Sqlite(Arc<rusqlite::Error>),
    /// The writer thread could not be started.
    #[error("cannot start the database writer: {0}")]
    Spawn(Arc<std::io::Error>),
    /// The writer thread is gone (it panicked), so nothing more can be stored.
    #[error("the database writer has stopped")]
    WriterStopped,
    /// The reader threads are gone (the store is closing), or one panicked during the read.
    #[error("the database readers have stopped")]
    ReadersStopped,
    /// An id does not fit the API's id type.
    #[error("SQLite returned an id that is not positive: {0}")]
    BadId(i64),
    /// A stored value is not what this server writes.
    #[error("record {id}: column {column} holds {value:?}, which this server does not write")]
    Corrupt {
        /// The record.
        id: i64,
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
    /// The database holds the table in a layout this server does not write.
    #[error(
        "the database's layout is version {found}, this server writes version {writes}: \
         use a database this version created"
    )]
    Layout {
        /// The database's `PRAGMA user_version`.
        found: i64,
        /// The version this server writes. Carried here, not read from the layout module, so
        /// that this module depends on no other part of the store.
        writes: i64,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_error_names_both_versions() {
        let error = StoreError::Layout {
            found: 0,
            writes: 1,
        };
        assert_eq!(
            error.to_string(),
            "the database's layout is version 0, this server writes version 1: \
             use a database this version created"
        );
    }

    #[test]
    fn sqlite_errors_convert_and_keep_their_cause() {
        let error = StoreError::from(rusqlite::Error::QueryReturnedNoRows);
        assert!(matches!(&error, StoreError::Sqlite(cause)
            if matches!(**cause, rusqlite::Error::QueryReturnedNoRows)));
        assert_eq!(
            error.to_string(),
            "the database failed: Query returned no rows"
        );
    }
}
