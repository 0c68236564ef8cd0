//! Durable storage of time passes in an embedded SQLite database: the [`Store`] the API writes
//! to and reads from, put together from parts that each do one job.
//!
//! - `columns`: the column table, one list of the writable fields with the SQL of each, from
//!   which everything else is built; and how requests become [`Fields`].
//! - `record`: a [`StoredRecord`], and the spec's read model made from it.
//! - `connection`: how every connection is opened (durable, patient, well cached).
//! - `layout`: the table in SQL (schema, indexes, layout version) and the statements the readers
//!   and the writer share.
//! - `readers`: the reader threads that serve [`Store::list`], off the async runtime.
//! - `nearby`: read-only connections for reads on the caller's thread ([`Store::read`] and the
//!   inspect reads), short enough not to be worth a hand-off.
//! - `list`: a [`ListQuery`] made into the SQL of a count and a page.
//! - `writer`: the thread that commits writes in groups, durably.
//! - `inspect`: reads on the caller's thread, for tests and benchmarks.
//!
//! Each part uses only those listed before it (and `error`, which uses none), so that no lower
//! part reaches back into one built on it; this module is the only one that uses them all.

mod columns;
mod connection;
mod error;
mod inspect;
mod layout;
mod list;
mod nearby;
mod readers;
mod record;
mod writer;

use std::path::Path;

pub use self::{
    columns::{Column, Fields, SortColumn, stored_date_time},
    error::StoreError,
    list::{Filter, ListPage, ListQuery},
    record::StoredRecord,
    writer::Written,
};
use self::{
    layout::{get, prepare},
    nearby::Nearby,
    readers::{Readers, reader_count},
    writer::Writer,
};
use chrono::{DateTime, Utc};
pub(crate) use connection::connect;

/// The database.
#[derive(Debug)]
pub struct Store {
    /// Declared first so that it is dropped first: it stops once everything queued is
    /// committed and answered, before the readers and the direct connection close.
    writer: Writer,
    readers: Readers,
    /// Connections for reads on the calling thread ([`Store::read`], [`Store::count`] and the
    /// like).
    nearby: Nearby,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut connection = connect(path)?;
        prepare(&mut connection)?;
        Ok(Self {
            writer: Writer::start(connection)?,
            readers: Readers::start(
                path,
                reader_count(std::thread::available_parallelism().map_or(1, usize::from)),
            )?,
            nearby: Nearby::open(path)?,
        })
    }

    /// Creates `count` records of `fields`, all or none, and returns their ids in order with the
    /// time they were written. Returns only once they are durably committed.
    pub async fn create(
        &self,
        fields: Fields,
        count: u32,
        updated_by: &str,
    ) -> Result<(Vec<i64>, DateTime<Utc>), StoreError> {
        self.writer.create(fields, count, updated_by).await
    }

    /// Replaces the writable fields of record `id`. Returns once durably committed.
    pub async fn update(
        &self,
        id: i64,
        fields: Fields,
        updated_by: &str,
    ) -> Result<Written, StoreError> {
        self.writer.update(id, fields, updated_by).await
    }

    /// Deletes record `id`. Returns once durably committed.
    pub async fn delete(&self, id: i64) -> Result<Written, StoreError> {
        self.writer.delete(id).await
    }

    /// The record with `id`, read on the calling thread: one lookup by primary key, shorter
    /// than a hand-off to a reader thread.
    pub fn read(&self, id: i64) -> Result<Option<StoredRecord>, StoreError> {
        self.nearby.run(|connection| get(connection, id))
    }

    /// One page of the records that meet `query`, read by a reader thread, off the async
    /// runtime.
    pub async fn list(&self, query: ListQuery) -> Result<ListPage, StoreError> {
        self.readers
            .run(move |connection| list::list(connection, &query))
            .await
    }

    /// How many transactions the writer has committed since the store was opened (writes per
    /// commit show how well group commit works).
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// How many records there are.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.nearby.run(inspect::count)
    }

    /// Every id, ascending.
    #[cfg(feature = "inspect")]
    pub fn ids(&self) -> Result<Vec<i64>, StoreError> {
        self.nearby.run(inspect::ids)
    }

    /// SQLite's plan for `query`'s count and page, one line per step, to check that lists use
    /// indexes.
    #[cfg(feature = "inspect")]
    pub fn plan(&self, query: &ListQuery) -> Result<Vec<String>, StoreError> {
        self.nearby
            .run(|connection| inspect::plan(connection, query))
    }
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use serde_json::json;

    use super::*;
    use crate::store::testing::{committed, fields};

    fn open(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("db.sqlite3")).unwrap()
    }

    /// Dropping the store stops its writer and its readers and closes their connections, so
    /// SQLite folds the write-ahead log into the database and removes it: a stopped server
    /// leaves one file.
    #[tokio::test]
    async fn a_dropped_store_closes_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store.create(fields("a"), 1, "a@b.c").await.unwrap();
        let listed = store
            .list(ListQuery {
                filters: Vec::new(),
                sort: SortColumn::Id,
                descending: false,
                page: 1,
                size: 10,
            })
            .await
            .unwrap();
        assert_eq!(listed.records.len(), 1);
        let log = dir.path().join("db.sqlite3-wal");
        assert!(log.exists());
        drop(store);
        assert!(!log.exists(), "a connection is still open");
    }

    #[tokio::test]
    async fn ids_increase_across_reopens_and_are_never_given_twice() {
        let dir = tempfile::tempdir().unwrap();
        let (ids, _) = open(&dir).create(fields("a"), 3, "a@b.c").await.unwrap();
        assert_eq!(ids, [1, 2, 3]);
        let store = open(&dir);
        committed(store.delete(3).await.unwrap());
        assert_eq!(store.delete(3).await.unwrap(), Written::NotFound);
        drop(store);
        let store = open(&dir);
        // 3 was deleted, and stays unused.
        assert_eq!(store.create(fields("b"), 1, "a@b.c").await.unwrap().0, [4]);
        assert_eq!(store.ids().unwrap(), [1, 2, 4]);
        assert_eq!(store.count().unwrap(), 3);
        assert_eq!(store.commits(), 1);
    }

    #[tokio::test]
    async fn what_is_written_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let sent = json!({
            "CoworkerId": 9223372036854775807u64, "BusinessId": 1414201001, "TimePassId": 7,
            "CreateMultiple": 2, "Notes": "n\u{0}\"é", "PurchaseOrder": "", "Used": false,
            "Free": true, "Price": 0.1, "ExpireDate": "2026-07-31T02:00:00.123456789+02:00",
            "TariffTimePassUniqueId": "0D6B7C1E-3F8A-4C2E-9B1D-5A7E2F4C8D90",
            "CoworkerProductUniqueId": null
        });
        let (fields, count) = Fields::from_create(serde_json::from_value(sent).unwrap());
        let (ids, at) = store.create(fields, count, "a@b.c").await.unwrap();
        assert_eq!(ids, [1, 2]);
        let record = store.read(2).unwrap().unwrap().to_read_model().unwrap();
        let read = serde_json::to_value(&record).unwrap();
        let expected = json!({
            "Id": 2, "CoworkerId": 9223372036854775807u64, "BusinessId": 1414201001,
            "TimePassId": 7, "TimePassName": null, "TimePassCurrencyCode": null,
            "Notes": "n\u{0}\"é", "PurchaseOrder": "", "Used": false, "CheckedIn": null,
            "UsedDate": null, "RemainingUses": null, "TotalUses": null, "Free": true,
            "Price": 0.1, "CreateMultiple": 1, "ExpireDate": "2026-07-31T00:00:00.123456789Z",
            "Invoiced": null, "InvoiceDate": null, "IsFromTariff": null, "IsPayAsYouGo": null,
            "TariffTimePassUniqueId": "0d6b7c1e-3f8a-4c2e-9b1d-5a7e2f4c8d90",
            "CoworkerProductUniqueId": null, "CoworkerContractUniqueId": null,
            "CreatedOn": serde_json::to_value(at).unwrap(),
            "UpdatedOn": serde_json::to_value(at).unwrap(),
            "UpdatedBy": "a@b.c", "IsNew": false, "SystemId": null,
            "UniqueId": read["UniqueId"]
        });
        assert_eq!(read, expected);
        assert!(store.read(3).unwrap().is_none());
    }

    #[tokio::test]
    async fn a_database_of_another_layout_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 0")
            .unwrap();
        let error = Store::open(&path).err().unwrap();
        assert!(
            matches!(error, StoreError::Layout { found: 0, .. }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_value_this_server_did_not_write_is_reported_not_mangled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.create(fields("n"), 1, "a@b.c").await.unwrap().0, [1]);
        drop(store);
        Connection::open(&path)
            .unwrap()
            .execute_batch("UPDATE coworker_time_passes SET created_on = 'yesterday'")
            .unwrap();
        let record = Store::open(&path).unwrap().read(1).unwrap().unwrap();
        let error = record.to_read_model().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("column created_on holds \"yesterday\""),
            "{error}"
        );
        // Nothing was changed: the database still holds what was found.
        let text: String = Connection::open(&path)
            .unwrap()
            .query_row("SELECT created_on FROM coworker_time_passes", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(text, "yesterday");
    }
}
