//! Durable storage of time passes in an embedded SQLite database.
//!
//! `AUTOINCREMENT` keeps ids unique and increasing across restarts, even after deletes. WAL with
//! `synchronous = FULL` fsyncs the log inside every commit, and [`Store::create`] returns only
//! once the transaction holding its records has committed, so a 200 is never sent for records a
//! crash or a power cut could lose.
//!
//! Writes are committed in groups by one writer thread: it sleeps until creates are queued, then
//! stores every queued create in one transaction, each atomic on its own (a savepoint when it
//! has several records: a create that fails is rolled back alone and answered at once), commits,
//! and answers the rest. Every create
//! that arrives during a commit's fsync goes into the next group, so one wake-up of the writer,
//! one commit and one fsync serve all of them; this is what lets durable creates keep up with
//! requests that store nothing (`cargo xtask bench`). What a row needs that is not SQLite's work
//! (uuids, dates) is prepared by the requesting task, off the serial path. Time-ordered
//! `UniqueId`s append to their unique index instead of dirtying a random page of it per record.
//! Reads use a second connection, which WAL lets run beside the writer.

use std::{
    path::Path,
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

use chrono::{DateTime, SecondsFormat, Utc};
use nexudus_types::CoworkerTimePassCreate;
use rusqlite::{Connection, OptionalExtension, params, types::ValueRef};
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
    /// The request the record was created from, rebuilt from its columns, with `CreateMultiple`
    /// 1 (as Nexudus stores it).
    pub request: serde_json::Value,
    /// When it was written.
    pub updated_on: String,
    /// Who wrote it.
    pub updated_by: String,
}

/// The database.
#[derive(Debug)]
pub struct Store {
    queue: Arc<Queue>,
    /// Joined when the store is dropped.
    writer: Option<JoinHandle<()>>,
    reader: Mutex<Connection>,
    commits: Arc<AtomicU64>,
}

/// One create waiting for the writer.
#[derive(Debug)]
struct Job {
    row: Row,
    /// One `UniqueId` per record to create.
    unique_ids: Vec<String>,
    done: Answer,
}

/// The columns of the records one request creates, ready to bind.
#[derive(Debug)]
struct Row {
    coworker_id: i64,
    business_id: i64,
    time_pass_id: i64,
    notes: Option<String>,
    purchase_order: Option<String>,
    used: Option<bool>,
    free: Option<bool>,
    price: Option<f64>,
    expire_date: Option<String>,
    tariff_time_pass_unique_id: Option<String>,
    coworker_product_unique_id: Option<String>,
    coworker_contract_unique_id: Option<String>,
    now: String,
    updated_by: String,
}

impl Row {
    fn new(request: CoworkerTimePassCreate, updated_by: &str, now: DateTime<Utc>) -> Self {
        let date = |date: DateTime<Utc>| date.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let uuid = |value: Option<uuid::Uuid>| value.map(|uuid| uuid.to_string());
        Self {
            // The spec caps ids at i64::MAX and the server validates before this.
            coworker_id: request.coworker_id.get() as i64,
            business_id: request.business_id.get() as i64,
            time_pass_id: request.time_pass_id.get() as i64,
            notes: request.notes.map(String::from),
            purchase_order: request.purchase_order.map(String::from),
            used: request.used,
            free: request.free,
            price: request.price,
            expire_date: request.expire_date.map(date),
            tariff_time_pass_unique_id: uuid(request.tariff_time_pass_unique_id),
            coworker_product_unique_id: uuid(request.coworker_product_unique_id),
            coworker_contract_unique_id: uuid(request.coworker_contract_unique_id),
            now: date(now),
            updated_by: updated_by.to_owned(),
        }
    }
}

/// Creates waiting for the writer, and what the writer waits on.
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when creates are queued while the writer sleeps, and on stop.
    ready: Condvar,
}

#[derive(Debug, Default)]
struct QueueState {
    jobs: Vec<Job>,
    /// The writer is asleep on `ready` (so only then does anyone need to wake it).
    waiting: bool,
    stopping: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // The state stays consistent whatever panicked while holding it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the state, and wakes the writer if it sleeps and now has work.
    fn update(&self, change: impl FnOnce(&mut QueueState)) {
        let mut state = self.lock();
        change(&mut state);
        let wake = state.waiting;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }
}

/// Where a create's outcome goes.
type Answer = oneshot::Sender<Result<Vec<i64>, StoreError>>;

/// Creates whose transaction has committed, with their ids.
type Committed = Vec<(Answer, Vec<i64>)>;

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
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
";

/// Brings a database written by an earlier version of this server to the current layout.
fn migrate(connection: &Connection) -> Result<(), StoreError> {
    // Until November 2026 each record also kept its request as JSON, a copy of its columns.
    let has_request_copy: bool = connection.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('coworker_time_passes')
         WHERE name = 'request'",
        [],
        |row| row.get(0),
    )?;
    if has_request_copy {
        connection.execute_batch("ALTER TABLE coworker_time_passes DROP COLUMN request")?;
    }
    Ok(())
}

/// Each request property that has a column of its own: (column, property).
const REQUEST_COLUMNS: [(&str, &str); 12] = [
    ("coworker_id", "CoworkerId"),
    ("business_id", "BusinessId"),
    ("time_pass_id", "TimePassId"),
    ("notes", "Notes"),
    ("purchase_order", "PurchaseOrder"),
    ("used", "Used"),
    ("free", "Free"),
    ("price", "Price"),
    ("expire_date", "ExpireDate"),
    ("tariff_time_pass_unique_id", "TariffTimePassUniqueId"),
    ("coworker_product_unique_id", "CoworkerProductUniqueId"),
    ("coworker_contract_unique_id", "CoworkerContractUniqueId"),
];

/// The request's properties stored as SQLite integers 0 and 1.
const BOOLEANS: [&str; 2] = ["Used", "Free"];

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // 64 MiB of page cache (SQLite's default is 2 MiB): the index pages inserts touch stay warm.
    connection.pragma_update(None, "cache_size", -65536)?;
    Ok(connection)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = connect(path)?;
        writer.execute_batch(SCHEMA)?;
        migrate(&writer)?;
        let reader = connect(path)?;
        let queue = Arc::new(Queue::default());
        let commits = Arc::new(AtomicU64::new(0));
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn({
                let (queue, commits) = (Arc::clone(&queue), Arc::clone(&commits));
                move || write(&writer, &queue, &commits)
            })
            .map_err(|error| StoreError::Spawn(Arc::new(error)))?;
        Ok(Self {
            queue,
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
        request: CoworkerTimePassCreate,
        updated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let (done, result) = oneshot::channel();
        // Version 7 (time-ordered) uuids: still unique and random enough to be unguessable, and
        // each lands at the end of the UNIQUE index instead of on a random page of it, so a
        // commit writes one index page, not one per record.
        let unique_ids = (0..request.create_multiple.get())
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let job = Job {
            row: Row::new(request, updated_by, now),
            unique_ids,
            done,
        };
        self.queue.update(|state| state.jobs.push(job));
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
        let columns: Vec<&str> = REQUEST_COLUMNS.iter().map(|(column, _)| *column).collect();
        let query = format!(
            "SELECT id, unique_id, updated_on, updated_by, {} FROM coworker_time_passes
             WHERE id = ?1",
            columns.join(", ")
        );
        let connection = self.lock()?;
        let record = connection
            .query_row(&query, [id], |row| {
                let mut request = serde_json::Map::new();
                request.insert("CreateMultiple".into(), 1.into());
                for (index, (_, name)) in REQUEST_COLUMNS.iter().enumerate() {
                    let value = match row.get_ref(index + 4)? {
                        ValueRef::Null => continue,
                        ValueRef::Integer(value) if BOOLEANS.contains(name) => (value != 0).into(),
                        ValueRef::Integer(value) => value.into(),
                        ValueRef::Real(value) => value.into(),
                        ValueRef::Text(text) => String::from_utf8_lossy(text).into(),
                        ValueRef::Blob(_) => continue,
                    };
                    request.insert((*name).to_owned(), value);
                }
                Ok(StoredTimePass {
                    id: row.get(0)?,
                    unique_id: row.get(1)?,
                    request: serde_json::Value::Object(request),
                    updated_on: row.get(2)?,
                    updated_by: row.get(3)?,
                })
            })
            .optional()?;
        Ok(record)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // The writer stops once everything queued is committed and answered.
        self.queue.update(|state| state.stopping = true);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread (see the module docs): sleeps until creates are queued, then stores all of
/// them in one transaction and answers them once it has committed.
fn write(connection: &Connection, queue: &Queue, commits: &AtomicU64) {
    loop {
        let jobs = {
            let mut state = queue.lock();
            while state.jobs.is_empty() {
                if state.stopping {
                    return;
                }
                state.waiting = true;
                state = queue
                    .ready
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                state.waiting = false;
            }
            std::mem::take(&mut state.jobs)
        };
        let group = write_group(connection, jobs);
        if !group.is_empty() {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        for (done, ids) in group {
            // A requester that went away (client disconnected) still has its records stored.
            let _ = done.send(Ok(ids));
        }
    }
}

/// Stores `jobs` in one transaction, each atomic on its own, and commits. Creates that fail are
/// answered at once (nothing of them is stored); the rest are returned, committed.
fn write_group(connection: &Connection, jobs: Vec<Job>) -> Committed {
    fn fail_all(answers: impl IntoIterator<Item = Answer>, error: rusqlite::Error) -> Committed {
        let error = StoreError::from(error);
        for done in answers {
            let _ = done.send(Err(error.clone()));
        }
        Vec::new()
    }
    if let Err(error) = connection.execute_batch("BEGIN") {
        return fail_all(jobs.into_iter().map(|job| job.done), error);
    }
    let mut group = Vec::with_capacity(jobs.len());
    for job in jobs {
        match insert_alone(connection, &job) {
            Ok(ids) => group.push((job.done, ids)),
            Err(error) => {
                let _ = job.done.send(Err(error));
            }
        }
    }
    match connection.execute_batch("COMMIT") {
        Ok(()) => group,
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            fail_all(group.into_iter().map(|(done, _)| done), error)
        }
    }
}

/// Inserts `job`'s records in a savepoint of their own: all of them, or none.
fn insert_alone(connection: &Connection, job: &Job) -> Result<Vec<i64>, StoreError> {
    if job.unique_ids.len() == 1 {
        // One INSERT is atomic by itself: SQLite undoes a failed statement and nothing else
        // (its statement journal), so the savepoint's two extra statements buy nothing.
        return insert(connection, job);
    }
    connection.prepare_cached("SAVEPOINT job")?.execute([])?;
    let inserted = insert(connection, job);
    let end = if inserted.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job"
    };
    connection.prepare_cached(end)?.execute([])?;
    if inserted.is_err() {
        connection.prepare_cached("RELEASE job")?.execute([])?;
    }
    inserted
}

fn insert(connection: &Connection, job: &Job) -> Result<Vec<i64>, StoreError> {
    let row = &job.row;
    let mut statement = connection.prepare_cached(
        "INSERT INTO coworker_time_passes (unique_id, coworker_id, business_id,
            time_pass_id, notes, purchase_order, used, free, price, expire_date,
            tariff_time_pass_unique_id, coworker_product_unique_id,
            coworker_contract_unique_id, created_on, updated_on, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)",
    )?;
    let mut ids = Vec::with_capacity(job.unique_ids.len());
    for unique_id in &job.unique_ids {
        statement.execute(params![
            unique_id,
            row.coworker_id,
            row.business_id,
            row.time_pass_id,
            row.notes,
            row.purchase_order,
            row.used,
            row.free,
            row.price,
            row.expire_date,
            row.tariff_time_pass_unique_id,
            row.coworker_product_unique_id,
            row.coworker_contract_unique_id,
            row.now,
            row.updated_by,
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
            .create(request(3), "a@b.c", now)
            .await
            .unwrap();
        assert_eq!(first, [1, 2, 3]);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.create(request(1), "a@b.c", now).await.unwrap(), [4]);
        assert_eq!(store.count().unwrap(), 4);
        let record = store.get(2).unwrap().unwrap();
        assert_eq!(record.request["CreateMultiple"], 1);
        assert_eq!(record.request["ExpireDate"], "2026-07-30T22:00:00Z");
        assert_eq!(record.updated_by, "a@b.c");
        assert_eq!(record.unique_id.len(), 36);
        assert!(store.get(99).unwrap().is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_create_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let store = Store::open(&path).unwrap();
        connect(&path)
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse AFTER INSERT ON coworker_time_passes
                 WHEN NEW.notes = 'refuse'
                     AND (SELECT COUNT(*) FROM coworker_time_passes WHERE notes = 'refuse') >= 2
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;
                 CREATE TRIGGER refuse_one AFTER INSERT ON coworker_time_passes
                 WHEN NEW.notes = 'refuse one' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let create = |notes: &str, count: u32| {
            let mut request = request(count);
            request.notes = Some(notes.parse().unwrap());
            store.create(request, "a@b.c", Utc::now())
        };
        // Sent together, so that they may share a transaction. "refuse" fails after inserting
        // its first record, which must be rolled back with it; "refuse one" fails in its only
        // insert.
        let (a, refused, b, refused_one) = tokio::join!(
            create("a", 2),
            create("refuse", 3),
            create("b", 1),
            create("refuse one", 1)
        );
        assert_eq!(a.unwrap().len(), 2);
        assert!(matches!(refused, Err(StoreError::Sqlite(_))), "{refused:?}");
        assert_eq!(b.unwrap().len(), 1);
        assert!(
            matches!(refused_one, Err(StoreError::Sqlite(_))),
            "{refused_one:?}"
        );
        assert_eq!(store.count().unwrap(), 3);
        let notes: Vec<_> = store
            .ids()
            .unwrap()
            .into_iter()
            .map(|id| store.get(id).unwrap().unwrap().request["Notes"].clone())
            .collect();
        assert!(!notes.contains(&json!("refuse")), "{notes:?}");
        assert!(!notes.contains(&json!("refuse one")), "{notes:?}");
    }

    #[tokio::test]
    async fn databases_of_the_earlier_layout_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let schema_with_copy = SCHEMA.replace(
            "    created_on TEXT NOT NULL,",
            "    request TEXT NOT NULL,\n    created_on TEXT NOT NULL,",
        );
        assert_ne!(schema_with_copy, SCHEMA);
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&schema_with_copy).unwrap();
        old.execute_batch(
            "INSERT INTO coworker_time_passes (unique_id, coworker_id, business_id, time_pass_id,
                request, created_on, updated_on, updated_by)
             VALUES ('u', 7, 8, 9, '{}', 'then', 'then', 'old@b.c')",
        )
        .unwrap();
        drop(old);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.create(request(1), "a@b.c", Utc::now()).await.unwrap(),
            [2]
        );
        let old = store.get(1).unwrap().unwrap();
        assert_eq!(
            old.request,
            json!({"CoworkerId": 7, "BusinessId": 8, "TimePassId": 9, "CreateMultiple": 1})
        );
        let new = store.get(2).unwrap().unwrap().request;
        assert_eq!(new["Notes"], "n");
        assert_eq!(new["Price"], 1.5);
    }
}
