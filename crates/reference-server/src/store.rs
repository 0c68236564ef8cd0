//! Durable storage of time passes in an embedded SQLite database.
//!
//! `AUTOINCREMENT` keeps ids unique and increasing across restarts, even after deletes; WAL with
//! `synchronous = FULL` makes a commit durable before [`Store::create`] returns, so a 200 is
//! never sent for records a crash could lose. One connection behind a mutex serialises writers,
//! which is what SQLite does anyway.

use std::{
    path::Path,
    sync::{Mutex, MutexGuard},
};

use chrono::{DateTime, SecondsFormat, Utc};
use nexudus_types::CoworkerTimePassCreate;
use rusqlite::{Connection, OptionalExtension, params};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("the database failed")]
    Sqlite(#[from] rusqlite::Error),
    /// A previous holder of the connection panicked.
    #[error("the database connection is poisoned")]
    Poisoned,
    /// An id does not fit the API's id type.
    #[error("SQLite returned an id that is not positive: {0}")]
    BadId(i64),
}

/// One stored time pass.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTimePass {
    /// The record's Id.
    pub id: i64,
    /// The record's UniqueId.
    pub unique_id: String,
    /// The request the record was created from, with `CreateMultiple` 1 (as Nexudus stores it).
    pub request: serde_json::Value,
    /// When it was written.
    pub updated_on: String,
    /// Who wrote it.
    pub updated_by: String,
}

/// The database.
#[derive(Debug)]
pub struct Store {
    connection: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS coworker_time_passes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unique_id TEXT NOT NULL UNIQUE,
    coworker_id INTEGER NOT NULL,
    business_id INTEGER NOT NULL,
    time_pass_id INTEGER NOT NULL,
    notes TEXT,
    purchase_order TEXT,
    used INTEGER,
    free INTEGER,
    price REAL,
    expire_date TEXT,
    tariff_time_pass_unique_id TEXT,
    coworker_product_unique_id TEXT,
    coworker_contract_unique_id TEXT,
    request TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
";

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.connection.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Creates `request.create_multiple` records in one transaction and returns their ids, in
    /// order. Returns only once the transaction is durably committed.
    pub fn create(
        &self,
        request: &CoworkerTimePassCreate,
        updated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut stored = request.clone();
        stored.create_multiple = 1.try_into().expect("1 is not zero");
        let stored_json = serde_json::to_string(&stored).expect("generated types always serialise");
        let now = now.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let uuid = |value: &Option<uuid::Uuid>| value.map(|uuid| uuid.to_string());

        let mut connection = self.lock()?;
        let transaction = connection.transaction()?;
        let mut ids = Vec::with_capacity(request.create_multiple.get() as usize);
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO coworker_time_passes (unique_id, coworker_id, business_id,
                    time_pass_id, notes, purchase_order, used, free, price, expire_date,
                    tariff_time_pass_unique_id, coworker_product_unique_id,
                    coworker_contract_unique_id, request, created_on, updated_on, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)",
            )?;
            for _ in 0..request.create_multiple.get() {
                insert.execute(params![
                    uuid::Uuid::new_v4().to_string(),
                    // The spec caps ids at i64::MAX and the server validates before this.
                    request.coworker_id.get() as i64,
                    request.business_id.get() as i64,
                    request.time_pass_id.get() as i64,
                    request.notes.as_deref().map(String::as_str),
                    request.purchase_order.as_deref().map(String::as_str),
                    request.used,
                    request.free,
                    request.price,
                    request
                        .expire_date
                        .map(|date| date.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                    uuid(&request.tariff_time_pass_unique_id),
                    uuid(&request.coworker_product_unique_id),
                    uuid(&request.coworker_contract_unique_id),
                    stored_json,
                    now,
                    updated_by,
                ])?;
                let id = transaction.last_insert_rowid();
                if id <= 0 {
                    return Err(StoreError::BadId(id));
                }
                ids.push(id);
            }
        }
        transaction.commit()?;
        Ok(ids)
    }

    /// How many records there are.
    pub fn count(&self) -> Result<u64, StoreError> {
        let count: i64 =
            self.lock()?
                .query_row("SELECT COUNT(*) FROM coworker_time_passes", [], |row| {
                    row.get(0)
                })?;
        Ok(count as u64)
    }

    /// Every id, ascending.
    pub fn ids(&self) -> Result<Vec<i64>, StoreError> {
        let connection = self.lock()?;
        let mut statement =
            connection.prepare("SELECT id FROM coworker_time_passes ORDER BY id")?;
        let ids = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The record with `id`.
    pub fn get(&self, id: i64) -> Result<Option<StoredTimePass>, StoreError> {
        let connection = self.lock()?;
        let record = connection
            .query_row(
                "SELECT id, unique_id, request, updated_on, updated_by
                 FROM coworker_time_passes WHERE id = ?1",
                [id],
                |row| {
                    let request: String = row.get(2)?;
                    Ok(StoredTimePass {
                        id: row.get(0)?,
                        unique_id: row.get(1)?,
                        request: serde_json::from_str(&request).unwrap_or(serde_json::Value::Null),
                        updated_on: row.get(3)?,
                        updated_by: row.get(4)?,
                    })
                },
            )
            .optional()?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(count: u32) -> CoworkerTimePassCreate {
        serde_json::from_value(json!({
            "CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": count,
            "Notes": "n", "Price": 1.5, "ExpireDate": "2026-07-31T00:00:00+02:00"
        }))
        .unwrap()
    }

    #[test]
    fn ids_increase_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let now = Utc::now();
        let first = Store::open(&path)
            .unwrap()
            .create(&request(3), "a@b.c", now)
            .unwrap();
        assert_eq!(first, [1, 2, 3]);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.create(&request(1), "a@b.c", now).unwrap(), [4]);
        assert_eq!(store.count().unwrap(), 4);
        let record = store.get(2).unwrap().unwrap();
        assert_eq!(record.request["CreateMultiple"], 1);
        assert_eq!(record.request["ExpireDate"], "2026-07-30T22:00:00Z");
        assert_eq!(record.updated_by, "a@b.c");
        assert_eq!(record.unique_id.len(), 36);
        assert!(store.get(99).unwrap().is_none());
    }
}
