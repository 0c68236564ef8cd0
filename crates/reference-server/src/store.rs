//! Durable storage of time passes in an embedded SQLite database.
//!
//! `AUTOINCREMENT` keeps ids unique and increasing across restarts, even after deletes; WAL with
//! `synchronous = FULL` makes a commit durable before [`Store::create`] returns, so a 200 is
//! never sent for records a crash could lose.
//!
//! Writes go through one writer thread that commits in groups: while one transaction is being
//! synced, the creates that arrive queue up, and the next transaction takes all of them, each in
//! its own savepoint. One fsync then covers many requests, which is what lets durable creates keep
//! up with requests that store nothing (`cargo xtask bench`), while a failing create still fails
//! alone and nothing is acknowledged before its transaction has committed. Reads use a second
//! connection, which WAL lets run beside the writer.

use std::{
    path::Path,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread::JoinHandle,
};

use chrono::{DateTime, SecondsFormat, Utc};
use nexudus_types::CoworkerTimePassCreate;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

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
    /// A previous holder of the read connection panicked.
    #[error("the database connection is poisoned")]
    Poisoned,
    /// An id does not fit the API's id type.
    #[error("SQLite returned an id that is not positive: {0}")]
    BadId(i64),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(error))
    }
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
    /// `None` only while dropping, so that the writer sees the queue close.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    reader: Mutex<Connection>,
    commits: Arc<AtomicU64>,
}

/// One create waiting for the writer.
#[derive(Debug)]
struct Job {
    request: CoworkerTimePassCreate,
    updated_by: String,
    now: DateTime<Utc>,
    done: oneshot::Sender<Result<Vec<i64>, StoreError>>,
}

/// The most creates one transaction takes; a bound on how long the first of them waits.
const MAX_GROUP: usize = 256;

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

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(connection)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and starts its writer thread.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = connect(path)?;
        writer.execute_batch(SCHEMA)?;
        let reader = connect(path)?;
        let (jobs, queue) = mpsc::channel();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&commits);
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_groups(writer, queue, &counter))
            .map_err(|error| StoreError::Spawn(Arc::new(error)))?;
        Ok(Self {
            jobs: Some(jobs),
            writer: Some(writer),
            reader: Mutex::new(reader),
            commits,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.reader.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Creates `request.create_multiple` records, all or none, and returns their ids in order.
    /// Returns only once the transaction holding them is durably committed.
    pub async fn create(
        &self,
        request: &CoworkerTimePassCreate,
        updated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let (done, result) = oneshot::channel();
        let job = Job {
            request: request.clone(),
            updated_by: updated_by.to_owned(),
            now,
            done,
        };
        self.jobs
            .as_ref()
            .ok_or(StoreError::WriterStopped)?
            .send(job)
            .map_err(|_| StoreError::WriterStopped)?;
        result.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// How many transactions the writer has committed since the store was opened (creates per
    /// commit show how well group commit works).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
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

impl Drop for Store {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has answered every job it took.
        drop(self.jobs.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: takes whatever creates are queued, commits them in one transaction, then
/// answers each.
fn write_groups(mut connection: Connection, queue: mpsc::Receiver<Job>, commits: &AtomicU64) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        group.extend(queue.try_iter().take(MAX_GROUP - 1));
        let results = write_group(&mut connection, &group);
        if results.iter().any(Result::is_ok) {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        for (job, result) in group.into_iter().zip(results) {
            // A requester that went away (client disconnected) still has its records stored.
            let _ = job.done.send(result);
        }
    }
}

fn write_group(connection: &mut Connection, group: &[Job]) -> Vec<Result<Vec<i64>, StoreError>> {
    let everyone = |error: StoreError| group.iter().map(|_| Err(error.clone())).collect();
    let mut transaction = match connection.transaction() {
        Ok(transaction) => transaction,
        Err(error) => return everyone(error.into()),
    };
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        // A savepoint per create: one that fails is rolled back alone.
        let result = transaction
            .savepoint()
            .map_err(StoreError::from)
            .and_then(|savepoint| {
                let ids = insert(&savepoint, job)?;
                savepoint.commit()?;
                Ok(ids)
            });
        results.push(result);
    }
    match transaction.commit() {
        Ok(()) => results,
        Err(error) => everyone(error.into()),
    }
}

fn insert(connection: &Connection, job: &Job) -> Result<Vec<i64>, StoreError> {
    let request = &job.request;
    let mut stored = request.clone();
    stored.create_multiple = 1.try_into().expect("1 is not zero");
    let stored_json = serde_json::to_string(&stored).expect("generated types always serialise");
    let now = job.now.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let uuid = |value: &Option<uuid::Uuid>| value.map(|uuid| uuid.to_string());
    let mut statement = connection.prepare_cached(
        "INSERT INTO coworker_time_passes (unique_id, coworker_id, business_id,
            time_pass_id, notes, purchase_order, used, free, price, expire_date,
            tariff_time_pass_unique_id, coworker_product_unique_id,
            coworker_contract_unique_id, request, created_on, updated_on, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)",
    )?;
    let mut ids = Vec::with_capacity(request.create_multiple.get() as usize);
    for _ in 0..request.create_multiple.get() {
        statement.execute(params![
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
            job.updated_by,
        ])?;
        let id = connection.last_insert_rowid();
        if id <= 0 {
            return Err(StoreError::BadId(id));
        }
        ids.push(id);
    }
    Ok(ids)
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

    #[tokio::test]
    async fn ids_increase_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let now = Utc::now();
        let first = Store::open(&path)
            .unwrap()
            .create(&request(3), "a@b.c", now)
            .await
            .unwrap();
        assert_eq!(first, [1, 2, 3]);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.create(&request(1), "a@b.c", now).await.unwrap(), [4]);
        assert_eq!(store.count().unwrap(), 4);
        let record = store.get(2).unwrap().unwrap();
        assert_eq!(record.request["CreateMultiple"], 1);
        assert_eq!(record.request["ExpireDate"], "2026-07-30T22:00:00Z");
        assert_eq!(record.updated_by, "a@b.c");
        assert_eq!(record.unique_id.len(), 36);
        assert!(store.get(99).unwrap().is_none());
    }

    #[test]
    fn a_failing_create_fails_alone_in_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        drop(Store::open(&path).unwrap());
        let mut connection = connect(&path).unwrap();
        connection
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON coworker_time_passes
                 WHEN NEW.notes = 'refuse' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let job = |notes: &str, count: u32| {
            let mut request = request(count);
            request.notes = Some(notes.parse().unwrap());
            Job {
                request,
                updated_by: "a@b.c".into(),
                now: Utc::now(),
                done: oneshot::channel().0,
            }
        };
        let group = [job("a", 2), job("refuse", 3), job("b", 1)];
        let results = write_group(&mut connection, &group);
        assert_eq!(results[0].as_ref().unwrap(), &[1, 2]);
        assert!(matches!(results[1], Err(StoreError::Sqlite(_))));
        assert_eq!(results[2].as_ref().unwrap(), &[3]);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.ids().unwrap(), [1, 2, 3]);
    }
}
