//! How every connection to the database is opened: durable, patient with locks, and with pages
//! enough in memory; the same settings for the writer, the readers and the token table.
//!
//! WAL with `synchronous = FULL` fsyncs the log inside every commit, so that a write answered
//! is a write a crash or a power cut cannot lose; WAL also lets readers run beside the writer.

use std::path::Path;

use rusqlite::Connection;

use super::error::StoreError;

/// A connection to the database at `path` (created if needed), set up as every one of them is.
pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // 64 MiB of page cache (SQLite's default is 2 MiB): the index pages writes touch stay warm.
    connection.pragma_update(None, "cache_size", -65536)?;
    Ok(connection)
}

/// A connection that cannot write, so that a bug in a read cannot change what is stored.
pub(super) fn read_only(path: &Path) -> Result<Connection, StoreError> {
    let connection = connect(path)?;
    connection.pragma_update(None, "query_only", true)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as Sql;

    use super::*;

    fn pragma(connection: &Connection, name: &str) -> String {
        connection
            .pragma_query_value(None, name, |row| row.get::<_, Sql>(0))
            .map(|value| match value {
                Sql::Integer(n) => n.to_string(),
                Sql::Text(text) => text,
                other => format!("{other:?}"),
            })
            .unwrap()
    }

    /// Every connection the store opens is durable (WAL, a sync on every commit), waits for a
    /// lock instead of failing at once, and keeps 64 MiB of pages in memory.
    #[test]
    fn connections_are_durable_and_patient() {
        let dir = tempfile::tempdir().unwrap();
        let connection = connect(&dir.path().join("db.sqlite3")).unwrap();
        assert_eq!(pragma(&connection, "journal_mode"), "wal");
        // 2 is FULL.
        assert_eq!(pragma(&connection, "synchronous"), "2");
        assert_eq!(pragma(&connection, "busy_timeout"), "5000");
        // Negative: KiB, not pages.
        assert_eq!(pragma(&connection, "cache_size"), "-65536");
        assert_eq!(pragma(&connection, "query_only"), "0");
    }

    #[test]
    fn a_read_only_connection_reads_and_refuses_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        connect(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (a); INSERT INTO t VALUES (1);")
            .unwrap();
        let connection = read_only(&path).unwrap();
        assert_eq!(pragma(&connection, "query_only"), "1");
        assert_eq!(pragma(&connection, "synchronous"), "2");
        let read: i64 = connection
            .query_row("SELECT a FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(read, 1);
        assert!(connection.execute("INSERT INTO t VALUES (2)", []).is_err());
        assert!(connection.execute_batch("CREATE TABLE u (b)").is_err());
    }
}
