//! Durable storage of time passes in an embedded SQLite database.
//!
//! **One table of columns.** [`Fields`] is the writable part of a record, declared once with the
//! SQL of each column (the `fields!` invocation below); the table's schema, the insert, the
//! update, the select and the reading of a row are all built from that one list. Requests become
//! [`Fields`] by exhaustive destructuring and records are read into the generated read model by
//! an exhaustive struct literal, so a property the spec gains and the store does not keep fails
//! to compile.
//!
//! **Durable writes.** `AUTOINCREMENT` keeps ids unique and increasing across restarts, even after
//! deletes, so an id is never given twice. WAL with `synchronous = FULL` fsyncs the log inside
//! every commit, and a write returns only once the transaction holding it has committed, so a
//! 200 is never sent for a change a crash or a power cut could lose.
//!
//! Writes are committed in groups by one writer thread: it sleeps until writes are queued, then
//! applies every queued write in one transaction, each atomic on its own (a savepoint when a
//! create has several records: a write that fails is rolled back alone and answered at once),
//! commits, and answers the rest. Every write that arrives during a commit's fsync goes into the
//! next group, so one wake-up, one commit and one fsync serve all of them; this is what lets
//! durable creates keep up with requests that store nothing (`cargo xtask bench`). One writer
//! also makes concurrent updates and deletes of one record simple: they apply one after the
//! other, whole. The writer stamps each group with one time that never goes backwards, so a
//! record's `UpdatedOn` only moves forward. Time-ordered `UniqueId`s append to their unique index
//! instead of dirtying a random page of it per record.
//!
//! **Reads** run on reader threads, each with a read-only connection that WAL lets run beside the
//! writer ([`Store::read`], [`Store::list`]), never on the async runtime. Every column a list can
//! filter or sort on has an index (whose entries SQLite orders by the column, then by id), so
//! that a filtered page costs what its matches cost, not what the table holds.

use std::{
    path::Path,
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

use chrono::{DateTime, Utc};
use nexudus_types::{CoworkerTimePass, CoworkerTimePassCreate, CoworkerTimePassUpdate};
use rusqlite::{Connection, OptionalExtension, ToSql, params_from_iter};
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
    /// The reader threads are gone (the store is closing), or one panicked during the read.
    #[error("the database readers have stopped")]
    ReadersStopped,
    /// A previous holder of a lock panicked.
    #[error("the database connections are poisoned")]
    Poisoned,
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
        "the database's layout is version {found}, this server writes version {LAYOUT}: \
         use a database this version created"
    )]
    Layout {
        /// The database's `PRAGMA user_version`.
        found: i64,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(error))
    }
}

/// Declares [`Fields`] and [`Column`] from one list of `field: type = "SQL of the column"`.
macro_rules! fields {
    ($($field:ident: $ty:ty = $sql:literal,)*) => {
        /// The writable fields of a record, as stored: one per column.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Fields {
            $(
                #[doc = concat!("Column `", $sql, "`.")]
                pub $field: $ty,
            )*
        }

        /// A column of [`Fields`].
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Column {
            $(
                #[doc = concat!("`", $sql, "`.")]
                $field,
            )*
        }

        impl Column {
            /// Every column, in table order.
            pub const ALL: &[Column] = &[$(Column::$field),*];

            /// The column's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Column::$field => stringify!($field),)*
                }
            }

            /// The column's definition in `CREATE TABLE`.
            fn definition(self) -> &'static str {
                match self {
                    $(Column::$field => concat!(stringify!($field), " ", $sql),)*
                }
            }
        }

        impl Fields {
            /// The values to bind, in [`Column::ALL`]'s order.
            fn values(&self) -> Vec<&dyn ToSql> {
                vec![$(&self.$field),*]
            }

            /// Reads the fields from `row`, whose columns from `first` on are [`Column::ALL`].
            fn from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
                let mut index = first;
                let mut next = || {
                    index += 1;
                    index - 1
                };
                Ok(Self { $($field: row.get(next())?,)* })
            }
        }
    };
}

fields! {
    coworker_id: i64 = "INTEGER NOT NULL",
    business_id: i64 = "INTEGER NOT NULL",
    time_pass_id: i64 = "INTEGER NOT NULL",
    notes: Option<String> = "TEXT",
    purchase_order: Option<String> = "TEXT",
    used: Option<bool> = "INTEGER",
    free: Option<bool> = "INTEGER",
    price: Option<f64> = "REAL",
    expire_date: Option<String> = "TEXT",
    tariff_time_pass_unique_id: Option<String> = "TEXT",
    coworker_product_unique_id: Option<String> = "TEXT",
    coworker_contract_unique_id: Option<String> = "TEXT",
}

/// How date-times are stored: UTC, nine fractional digits, so that the text sorts as the
/// instants do (the spec keeps date-times within years 0000 to 9999 in UTC).
const DATE_TIME: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";

/// A date-time as stored.
pub fn stored_date_time(instant: DateTime<Utc>) -> String {
    instant.format(DATE_TIME).to_string()
}

fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|instant| instant.to_utc())
}

impl Fields {
    /// The fields of a create request; `CreateMultiple` says how many records, and is not
    /// stored (the spec marks it write-only).
    pub fn from_create(request: CoworkerTimePassCreate) -> (Self, u32) {
        let CoworkerTimePassCreate {
            coworker_id,
            business_id,
            time_pass_id,
            create_multiple,
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date,
            tariff_time_pass_unique_id,
            coworker_product_unique_id,
            coworker_contract_unique_id,
        } = request;
        let fields = Self::new(
            [coworker_id, business_id, time_pass_id],
            [notes.map(String::from), purchase_order.map(String::from)],
            [used, free],
            price,
            expire_date,
            [
                tariff_time_pass_unique_id,
                coworker_product_unique_id,
                coworker_contract_unique_id,
            ],
        );
        (fields, create_multiple.get())
    }

    /// The fields of an update request, and the Id of the record to update. `CreateMultiple` is
    /// not stored (the spec marks it write-only).
    pub fn from_update(request: CoworkerTimePassUpdate) -> (i64, Self) {
        let CoworkerTimePassUpdate {
            id,
            coworker_id,
            business_id,
            time_pass_id,
            create_multiple: _,
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date,
            tariff_time_pass_unique_id,
            coworker_product_unique_id,
            coworker_contract_unique_id,
        } = request;
        let fields = Self::new(
            [coworker_id, business_id, time_pass_id],
            [notes.map(String::from), purchase_order.map(String::from)],
            [used, free],
            price,
            expire_date,
            [
                tariff_time_pass_unique_id,
                coworker_product_unique_id,
                coworker_contract_unique_id,
            ],
        );
        (sql_id(id), fields)
    }

    fn new(
        [coworker_id, business_id, time_pass_id]: [std::num::NonZeroU64; 3],
        [notes, purchase_order]: [Option<String>; 2],
        [used, free]: [Option<bool>; 2],
        price: Option<f64>,
        expire_date: Option<DateTime<Utc>>,
        [tariff, product, contract]: [Option<uuid::Uuid>; 3],
    ) -> Self {
        let uuid = |value: Option<uuid::Uuid>| value.map(|uuid| uuid.hyphenated().to_string());
        Self {
            coworker_id: sql_id(coworker_id),
            business_id: sql_id(business_id),
            time_pass_id: sql_id(time_pass_id),
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date: expire_date.map(stored_date_time),
            tariff_time_pass_unique_id: uuid(tariff),
            coworker_product_unique_id: uuid(product),
            coworker_contract_unique_id: uuid(contract),
        }
    }
}

/// An id as SQLite keeps it. The spec caps ids at `i64::MAX` and the server validates before
/// anything is stored.
fn sql_id(id: std::num::NonZeroU64) -> i64 {
    i64::try_from(id.get()).unwrap_or(i64::MAX)
}

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The record's Id.
    pub id: i64,
    /// The record's UniqueId.
    pub unique_id: String,
    /// What was last written.
    pub fields: Fields,
    /// When it was created, as stored.
    pub created_on: String,
    /// When it was last written, as stored.
    pub updated_on: String,
    /// Who last wrote it.
    pub updated_by: String,
}

impl StoredRecord {
    /// The record as the spec's read model: what was written, and null for every field this
    /// server has no source for (the spec says which).
    pub fn to_read_model(&self) -> Result<CoworkerTimePass, StoreError> {
        let corrupt = |column: &'static str, value: &str| StoreError::Corrupt {
            id: self.id,
            column,
            value: value.to_owned(),
        };
        let id = |column: &'static str, value: i64| {
            u64::try_from(value)
                .ok()
                .and_then(std::num::NonZeroU64::new)
                .ok_or_else(|| corrupt(column, &value.to_string()))
        };
        let date = |column: &'static str, text: &str| {
            parse_date_time(text).ok_or_else(|| corrupt(column, text))
        };
        let uuid = |column: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(|text| {
                    text.parse::<uuid::Uuid>()
                        .map_err(|_| corrupt(column, text))
                })
                .transpose()
        };
        let Fields {
            coworker_id,
            business_id,
            time_pass_id,
            notes,
            purchase_order,
            used,
            free,
            price,
            expire_date,
            tariff_time_pass_unique_id,
            coworker_product_unique_id,
            coworker_contract_unique_id,
        } = &self.fields;
        Ok(CoworkerTimePass {
            id: id("id", self.id)?,
            unique_id: self
                .unique_id
                .parse()
                .map_err(|_| corrupt("unique_id", &self.unique_id))?,
            coworker_id: id("coworker_id", *coworker_id)?,
            business_id: id("business_id", *business_id)?,
            time_pass_id: id("time_pass_id", *time_pass_id)?,
            time_pass_name: None,
            time_pass_currency_code: None,
            notes: notes.clone(),
            purchase_order: purchase_order.clone(),
            used: *used,
            checked_in: None,
            used_date: None,
            remaining_uses: None,
            total_uses: None,
            free: *free,
            price: *price,
            create_multiple: 1,
            expire_date: expire_date
                .as_deref()
                .map(|text| date("expire_date", text))
                .transpose()?,
            invoiced: None,
            invoice_date: None,
            is_from_tariff: None,
            is_pay_as_you_go: None,
            tariff_time_pass_unique_id: uuid(
                "tariff_time_pass_unique_id",
                tariff_time_pass_unique_id,
            )?,
            coworker_product_unique_id: uuid(
                "coworker_product_unique_id",
                coworker_product_unique_id,
            )?,
            coworker_contract_unique_id: uuid(
                "coworker_contract_unique_id",
                coworker_contract_unique_id,
            )?,
            created_on: date("created_on", &self.created_on)?,
            updated_on: date("updated_on", &self.updated_on)?,
            updated_by: self.updated_by.clone(),
            is_new: false,
            system_id: None,
        })
    }
}

/// What a list sorts by: a column of [`Fields`] or of the record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// The Id.
    Id,
    /// When the record was created.
    CreatedOn,
    /// When it was last written.
    UpdatedOn,
    /// A writable field.
    Field(Column),
}

impl SortColumn {
    /// The column's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::CreatedOn => "created_on",
            Self::UpdatedOn => "updated_on",
            Self::Field(column) => column.name(),
        }
    }
}

/// A condition of a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The column equals the value (a null column matches nothing).
    Equal(Column, rusqlite::types::Value),
    /// The column is at least the value.
    AtLeast(Column, rusqlite::types::Value),
    /// The column is at most the value.
    AtMost(Column, rusqlite::types::Value),
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Every condition a record must meet.
    pub filters: Vec<Filter>,
    /// The sort column; ties are ordered by id, in the same direction.
    pub sort: SortColumn,
    /// Descending instead of ascending (nulls sort first in ascending order).
    pub descending: bool,
    /// The page, from 1.
    pub page: u32,
    /// Records per page, at least 1.
    pub size: u32,
}

/// What a list found.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// The page's records, in order.
    pub records: Vec<StoredRecord>,
    /// How many records match, on every page.
    pub total: u64,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The write was committed at this time; for a create, with the ids of its records.
    Committed {
        /// The ids created (empty for an update or a delete).
        ids: Vec<i64>,
        /// The time the writer stamped the write's group with.
        at: DateTime<Utc>,
    },
    /// No record has the id an update or delete named; nothing was changed.
    NotFound,
}

/// A write waiting for the writer.
#[derive(Debug)]
enum Write {
    Create {
        fields: Fields,
        /// One `UniqueId` per record to create.
        unique_ids: Vec<String>,
        updated_by: String,
    },
    Update {
        id: i64,
        fields: Fields,
        updated_by: String,
    },
    Delete {
        id: i64,
    },
}

/// Where a write's outcome goes.
type Answer = oneshot::Sender<Result<Written, StoreError>>;

#[derive(Debug)]
struct Job {
    write: Write,
    done: Answer,
}

/// Writes waiting for the writer, and what the writer waits on.
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when writes are queued while the writer sleeps, and on stop.
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

const TABLE: &str = "coworker_time_passes";

/// The columns of the record besides [`Fields`], in the order every select reads them.
const RECORD_COLUMNS: &str = "id, unique_id, created_on, updated_on, updated_by";

/// The columns a list can filter or sort on, each indexed (an index's entries are ordered by
/// the column, then by the id, which SQLite keeps in every index: so one index serves a filter,
/// a sort, and a sort's tie-break by id; the id itself is the primary key).
const INDEXED: [SortColumn; 10] = [
    SortColumn::Field(Column::coworker_id),
    SortColumn::Field(Column::business_id),
    SortColumn::Field(Column::time_pass_id),
    SortColumn::Field(Column::purchase_order),
    SortColumn::Field(Column::used),
    SortColumn::Field(Column::free),
    SortColumn::Field(Column::price),
    SortColumn::Field(Column::expire_date),
    SortColumn::CreatedOn,
    SortColumn::UpdatedOn,
];

/// The layout version this server writes (`PRAGMA user_version`).
const LAYOUT: i64 = 1;

fn create_table() -> String {
    let columns: Vec<&str> = Column::ALL
        .iter()
        .map(|column| column.definition())
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            unique_id TEXT NOT NULL UNIQUE,
            {},
            created_on TEXT NOT NULL,
            updated_on TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )",
        columns.join(",\n            ")
    )
}

fn create_indexes() -> String {
    INDEXED
        .iter()
        .map(|column| {
            let name = column.name();
            format!("CREATE INDEX IF NOT EXISTS {TABLE}_by_{name} ON {TABLE} ({name});")
        })
        .collect()
}

/// Creates the table in a new database, in one transaction with its layout version; a database
/// that holds the table in another layout (or one this server did not write) is refused as it
/// is, never rewritten.
fn prepare(connection: &mut Connection) -> Result<(), StoreError> {
    let transaction = connection.transaction()?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let has_table: bool = transaction.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [TABLE],
        |row| row.get(0),
    )?;
    if has_table && version != LAYOUT {
        return Err(StoreError::Layout { found: version });
    }
    if !has_table {
        transaction.execute_batch(&create_table())?;
        transaction.execute_batch(&format!("PRAGMA user_version = {LAYOUT}"))?;
    }
    transaction.execute_batch(&create_indexes())?;
    transaction.commit()?;
    Ok(())
}

pub(crate) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // 64 MiB of page cache (SQLite's default is 2 MiB): the index pages writes touch stay warm.
    connection.pragma_update(None, "cache_size", -65536)?;
    Ok(connection)
}

/// A read waiting for a reader thread.
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// Reads waiting for the reader threads, and what they wait on.
#[derive(Default)]
struct ReadQueue {
    state: Mutex<ReadState>,
    /// Signalled when a read is queued while a reader sleeps, and on stop.
    ready: Condvar,
}

#[derive(Default)]
struct ReadState {
    jobs: std::collections::VecDeque<ReadJob>,
    /// How many readers sleep on `ready`.
    sleeping: usize,
    stopping: bool,
}

impl ReadQueue {
    fn lock(&self) -> MutexGuard<'_, ReadState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for ReadQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadQueue").finish_non_exhaustive()
    }
}

/// A few reader threads, each with its own read-only connection, taking reads from one queue.
/// A thread of its own costs one hand-off per read; tokio's blocking pool, measured here, cost
/// more than the read itself (a thread woken, and often started, per read).
#[derive(Debug)]
struct Readers {
    queue: Arc<ReadQueue>,
    /// Joined when the store is dropped.
    threads: Vec<JoinHandle<()>>,
}

fn read_only(path: &Path) -> Result<Connection, StoreError> {
    let connection = connect(path)?;
    connection.pragma_update(None, "query_only", true)?;
    Ok(connection)
}

impl Readers {
    fn start(path: &Path, count: usize) -> Result<Self, StoreError> {
        let queue = Arc::new(ReadQueue::default());
        let mut threads = Vec::with_capacity(count);
        for index in 0..count {
            let connection = read_only(path)?;
            let queue = Arc::clone(&queue);
            let thread = std::thread::Builder::new()
                .name(format!("sqlite-reader-{index}"))
                .spawn(move || serve_reads(&connection, &queue))
                .map_err(|error| StoreError::Spawn(Arc::new(error)))?;
            threads.push(thread);
        }
        Ok(Self { queue, threads })
    }

    /// Runs `read` on a reader thread and waits, without blocking, for its result.
    async fn run<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, result) = oneshot::channel();
        let job: ReadJob = Box::new(move |connection| {
            let _ = done.send(read(connection));
        });
        let wake = {
            let mut state = self.queue.lock();
            if state.stopping {
                return Err(StoreError::ReadersStopped);
            }
            state.jobs.push_back(job);
            state.sleeping > 0
        };
        if wake {
            self.queue.ready.notify_one();
        }
        result.await.map_err(|_| StoreError::ReadersStopped)?
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        // The readers stop once every queued read is answered.
        self.queue.lock().stopping = true;
        self.queue.ready.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A reader thread: takes one read at a time off the queue, sleeps while it is empty.
fn serve_reads(connection: &Connection, queue: &ReadQueue) {
    let mut state = queue.lock();
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            // A read that panics is answered with an error (its sender is dropped); the thread
            // serves on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(connection)));
            state = queue.lock();
        } else if state.stopping {
            return;
        } else {
            state.sleeping += 1;
            state = queue
                .ready
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.sleeping -= 1;
        }
    }
}

fn get(connection: &Connection, id: i64) -> Result<Option<StoredRecord>, StoreError> {
    let mut statement = connection.prepare_cached(&STATEMENTS.select_by_id)?;
    Ok(statement.query_row([id], record).optional()?)
}

fn list(connection: &Connection, query: &ListQuery) -> Result<ListPage, StoreError> {
    let sql = ListSql::new(query);
    // One read transaction, so that the count and the page see the same records.
    connection.execute_batch("BEGIN")?;
    let result = (|| {
        let total: i64 = connection
            .prepare_cached(&sql.count())?
            .query_row(params_from_iter(&sql.values), |row| row.get(0))?;
        let records = if sql.offset >= total {
            Vec::new()
        } else {
            connection
                .prepare_cached(&sql.page())?
                .query_map(sql.page_values().as_slice(), record)?
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(ListPage {
            records,
            total: u64::try_from(total).unwrap_or_default(),
        })
    })();
    connection.execute_batch("COMMIT")?;
    result
}

/// The SQL of a list: a count of the matches and one page of them.
struct ListSql<'q> {
    condition: String,
    order: String,
    values: Vec<&'q rusqlite::types::Value>,
    size: i64,
    offset: i64,
}

impl<'q> ListSql<'q> {
    fn new(query: &'q ListQuery) -> Self {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        for filter in &query.filters {
            let (column, operator, value) = match filter {
                Filter::Equal(column, value) => (column, "=", value),
                Filter::AtLeast(column, value) => (column, ">=", value),
                Filter::AtMost(column, value) => (column, "<=", value),
            };
            values.push(value);
            conditions.push(format!("{} {operator} ?{}", column.name(), values.len()));
        }
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let direction = if query.descending { "DESC" } else { "ASC" };
        let order = match query.sort {
            SortColumn::Id => format!("ORDER BY id {direction}"),
            column => format!("ORDER BY {} {direction}, id {direction}", column.name()),
        };
        let size = i64::from(query.size.max(1));
        Self {
            condition,
            order,
            values,
            size,
            offset: i64::from(query.page.max(1) - 1) * size,
        }
    }

    fn count(&self) -> String {
        format!("SELECT COUNT(*) FROM {TABLE} {}", self.condition)
    }

    fn page(&self) -> String {
        let limit = self.values.len() + 1;
        select(&format!(
            "{} {} LIMIT ?{limit} OFFSET ?{}",
            self.condition,
            self.order,
            limit + 1
        ))
    }

    fn page_values(&self) -> Vec<&dyn ToSql> {
        let mut values: Vec<&dyn ToSql> = self
            .values
            .iter()
            .map(|value| *value as &dyn ToSql)
            .collect();
        values.push(&self.size);
        values.push(&self.offset);
        values
    }
}

/// The statements built from the column table, once.
struct Statements {
    /// `SELECT` of every column of a record, up to the `FROM` clause included.
    select: String,
    /// The record with id `?1`.
    select_by_id: String,
    /// `unique_id` `?1`, the fields, then created and updated on, updated by.
    insert: String,
    /// The fields, then updated on, updated by, and the id.
    update: String,
}

static STATEMENTS: std::sync::LazyLock<Statements> = std::sync::LazyLock::new(|| {
    let names: Vec<&str> = Column::ALL.iter().map(|column| column.name()).collect();
    let count = Column::ALL.len();
    let select = format!("SELECT {RECORD_COLUMNS}, {} FROM {TABLE}", names.join(", "));
    let placeholders: Vec<String> = (2..count + 2).map(|index| format!("?{index}")).collect();
    let assignments: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(index, name)| format!("{name} = ?{}", index + 1))
        .collect();
    Statements {
        select_by_id: format!("{select} WHERE id = ?1"),
        insert: format!(
            "INSERT INTO {TABLE} (unique_id, {}, created_on, updated_on, updated_by)
             VALUES (?1, {}, ?{n}, ?{n}, ?{})",
            names.join(", "),
            placeholders.join(", "),
            count + 3,
            n = count + 2,
        ),
        update: format!(
            "UPDATE {TABLE} SET {}, updated_on = ?{}, updated_by = ?{} WHERE id = ?{}",
            assignments.join(", "),
            count + 1,
            count + 2,
            count + 3
        ),
        select,
    }
});

/// `SELECT` of every column of a record, then `rest`.
fn select(rest: &str) -> String {
    format!("{} {rest}", STATEMENTS.select)
}

/// A row of [`select`].
fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecord> {
    Ok(StoredRecord {
        id: row.get(0)?,
        unique_id: row.get(1)?,
        created_on: row.get(2)?,
        updated_on: row.get(3)?,
        updated_by: row.get(4)?,
        fields: Fields::from_row(row, 5)?,
    })
}

/// The database.
#[derive(Debug)]
pub struct Store {
    queue: Arc<Queue>,
    /// Joined when the store is dropped.
    writer: Option<JoinHandle<()>>,
    readers: Readers,
    /// A connection for reads on the calling thread ([`Store::get`] and the like).
    direct: Mutex<Connection>,
    commits: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut writer = connect(path)?;
        prepare(&mut writer)?;
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
            readers: Readers::start(
                path,
                readers(std::thread::available_parallelism().map_or(1, usize::from)),
            )?,
            direct: Mutex::new(read_only(path)?),
            commits,
        })
    }

    async fn submit(&self, write: Write) -> Result<Written, StoreError> {
        let (done, result) = oneshot::channel();
        self.queue
            .update(|state| state.jobs.push(Job { write, done }));
        result.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Creates `count` records of `fields`, all or none, and returns their ids in order with the
    /// time they were written. Returns only once they are durably committed.
    pub async fn create(
        &self,
        fields: Fields,
        count: u32,
        updated_by: &str,
    ) -> Result<(Vec<i64>, DateTime<Utc>), StoreError> {
        // Version 7 (time-ordered) uuids: still unique and random enough to be unguessable, and
        // each lands at the end of the UNIQUE index instead of on a random page of it, so a
        // commit writes one index page, not one per record.
        let unique_ids = (0..count)
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let written = self
            .submit(Write::Create {
                fields,
                unique_ids,
                updated_by: updated_by.to_owned(),
            })
            .await?;
        match written {
            Written::Committed { ids, at } => Ok((ids, at)),
            Written::NotFound => unreachable!("a create always finds its records"),
        }
    }

    /// Replaces the writable fields of record `id`. Returns once durably committed.
    pub async fn update(
        &self,
        id: i64,
        fields: Fields,
        updated_by: &str,
    ) -> Result<Written, StoreError> {
        self.submit(Write::Update {
            id,
            fields,
            updated_by: updated_by.to_owned(),
        })
        .await
    }

    /// Deletes record `id`. Returns once durably committed.
    pub async fn delete(&self, id: i64) -> Result<Written, StoreError> {
        self.submit(Write::Delete { id }).await
    }

    /// The record with `id`, read by a reader thread, off the async runtime.
    pub async fn read(&self, id: i64) -> Result<Option<StoredRecord>, StoreError> {
        self.readers
            .run(move |connection| get(connection, id))
            .await
    }

    /// One page of the records that meet `query`, read by a reader thread, off the async
    /// runtime.
    pub async fn list(&self, query: ListQuery) -> Result<ListPage, StoreError> {
        self.readers
            .run(move |connection| list(connection, &query))
            .await
    }

    fn direct<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        read(&*self.direct.lock().map_err(|_| StoreError::Poisoned)?)
    }

    /// The record with `id`, read on the calling thread.
    #[cfg(feature = "inspect")]
    pub fn get(&self, id: i64) -> Result<Option<StoredRecord>, StoreError> {
        self.direct(|connection| get(connection, id))
    }

    /// How many transactions the writer has committed since the store was opened (writes per
    /// commit show how well group commit works).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// How many records there are.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.direct(|connection| {
            let count: i64 =
                connection.query_row(&format!("SELECT COUNT(*) FROM {TABLE}"), [], |row| {
                    row.get(0)
                })?;
            Ok(u64::try_from(count).unwrap_or_default())
        })
    }

    /// Every id, ascending.
    #[cfg(feature = "inspect")]
    pub fn ids(&self) -> Result<Vec<i64>, StoreError> {
        self.direct(|connection| {
            let mut statement =
                connection.prepare(&format!("SELECT id FROM {TABLE} ORDER BY id"))?;
            let ids = statement
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
    }

    /// SQLite's plan for `query`'s count and page, one line per step, to check that lists use
    /// indexes.
    #[cfg(feature = "inspect")]
    pub fn plan(&self, query: &ListQuery) -> Result<Vec<String>, StoreError> {
        let sql = ListSql::new(query);
        self.direct(|connection| {
            let mut steps = Vec::new();
            for (text, values) in [
                (
                    sql.count(),
                    sql.values
                        .iter()
                        .map(|v| *v as &dyn ToSql)
                        .collect::<Vec<_>>(),
                ),
                (sql.page(), sql.page_values()),
            ] {
                let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {text}"))?;
                let details = statement
                    .query_map(values.as_slice(), |row| row.get::<_, String>(3))?
                    .collect::<Result<Vec<_>, _>>()?;
                steps.extend(details);
            }
            Ok(steps)
        })
    }
}

/// How many reader threads a store runs: one per two cores. Reads are short, and a reader that
/// stays busy draining the queue costs less than several that sleep and wake (on 2 cores, one
/// reader served 15-20% more reads per second than two, measured with `cargo xtask bench`).
fn readers(cores: usize) -> usize {
    (cores / 2).max(1)
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

/// The writer thread (see the module docs): sleeps until writes are queued, then applies all of
/// them in one transaction and answers them once it has committed.
fn write(connection: &Connection, queue: &Queue, commits: &AtomicU64) {
    let mut last = DateTime::<Utc>::MIN_UTC;
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
        // One time for the group, never before the previous group's.
        let at = Utc::now().max(last);
        last = at;
        let group = write_group(connection, jobs, at);
        if !group.is_empty() {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        for (done, written) in group {
            // A requester that went away (client disconnected) still has its write committed.
            let _ = done.send(Ok(written));
        }
    }
}

/// Applies `jobs` in one transaction, each atomic on its own, and commits. Writes that fail are
/// answered at once (nothing of them is kept); the rest are returned, committed.
fn write_group(
    connection: &Connection,
    jobs: Vec<Job>,
    at: DateTime<Utc>,
) -> Vec<(Answer, Written)> {
    fn fail_all(
        answers: impl IntoIterator<Item = Answer>,
        error: rusqlite::Error,
    ) -> Vec<(Answer, Written)> {
        let error = StoreError::from(error);
        for done in answers {
            let _ = done.send(Err(error.clone()));
        }
        Vec::new()
    }
    if let Err(error) = connection.execute_batch("BEGIN") {
        return fail_all(jobs.into_iter().map(|job| job.done), error);
    }
    let now = stored_date_time(at);
    let mut group = Vec::with_capacity(jobs.len());
    for job in jobs {
        match apply(connection, &job.write, &now, at) {
            Ok(written) => group.push((job.done, written)),
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

/// Applies one write, atomically: a create of several records in a savepoint of its own; an
/// update, a delete or a single insert is one statement, which SQLite undoes alone on failure.
fn apply(
    connection: &Connection,
    write: &Write,
    now: &str,
    at: DateTime<Utc>,
) -> Result<Written, StoreError> {
    match write {
        Write::Create {
            fields,
            unique_ids,
            updated_by,
        } => {
            let ids = if unique_ids.len() == 1 {
                insert(connection, fields, unique_ids, now, updated_by)?
            } else {
                connection.prepare_cached("SAVEPOINT job")?.execute([])?;
                let inserted = insert(connection, fields, unique_ids, now, updated_by);
                let end = if inserted.is_ok() {
                    "RELEASE job"
                } else {
                    "ROLLBACK TO job"
                };
                connection.prepare_cached(end)?.execute([])?;
                if inserted.is_err() {
                    connection.prepare_cached("RELEASE job")?.execute([])?;
                }
                inserted?
            };
            Ok(Written::Committed { ids, at })
        }
        Write::Update {
            id,
            fields,
            updated_by,
        } => {
            let mut values = fields.values();
            values.push(&now);
            values.push(updated_by);
            values.push(id);
            let changed = connection
                .prepare_cached(&STATEMENTS.update)?
                .execute(values.as_slice())?;
            Ok(if changed == 0 {
                Written::NotFound
            } else {
                Written::Committed {
                    ids: Vec::new(),
                    at,
                }
            })
        }
        Write::Delete { id } => {
            let changed = connection
                .prepare_cached(&format!("DELETE FROM {TABLE} WHERE id = ?1"))?
                .execute([id])?;
            Ok(if changed == 0 {
                Written::NotFound
            } else {
                Written::Committed {
                    ids: Vec::new(),
                    at,
                }
            })
        }
    }
}

fn insert(
    connection: &Connection,
    fields: &Fields,
    unique_ids: &[String],
    now: &str,
    updated_by: &str,
) -> Result<Vec<i64>, StoreError> {
    let mut statement = connection.prepare_cached(&STATEMENTS.insert)?;
    let mut ids = Vec::with_capacity(unique_ids.len());
    for unique_id in unique_ids {
        let mut values: Vec<&dyn ToSql> = vec![unique_id];
        values.extend(fields.values());
        values.push(&now);
        values.push(&updated_by);
        statement.execute(values.as_slice())?;
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
    use rusqlite::types::Value as Sql;
    use serde_json::json;

    use super::*;

    fn create_request(body: serde_json::Value) -> (Fields, u32) {
        let mut request =
            json!({"CoworkerId": 1, "BusinessId": 2, "TimePassId": 3, "CreateMultiple": 1});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        Fields::from_create(serde_json::from_value(request).unwrap())
    }

    fn fields(notes: &str) -> Fields {
        create_request(
            json!({"Notes": notes, "Price": 1.5, "ExpireDate": "2026-07-31T00:00:00+02:00"}),
        )
        .0
    }

    fn open(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("db.sqlite3")).unwrap()
    }

    /// Every connection the store opens is durable (WAL, a sync on every commit), waits for a
    /// lock instead of failing at once, and keeps 64 MiB of pages in memory.
    #[test]
    fn connections_are_durable_and_patient() {
        let dir = tempfile::tempdir().unwrap();
        let connection = connect(&dir.path().join("db.sqlite3")).unwrap();
        let pragma = |name: &str| -> String {
            connection
                .pragma_query_value(None, name, |row| row.get::<_, Sql>(0))
                .map(|value| match value {
                    Sql::Integer(n) => n.to_string(),
                    Sql::Text(text) => text,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(pragma("journal_mode"), "wal");
        // 2 is FULL.
        assert_eq!(pragma("synchronous"), "2");
        assert_eq!(pragma("busy_timeout"), "5000");
        // Negative: KiB, not pages.
        assert_eq!(pragma("cache_size"), "-65536");
        assert_eq!(format!("{:?}", ReadQueue::default()), "ReadQueue { .. }");
    }

    fn committed(written: Written) -> DateTime<Utc> {
        match written {
            Written::Committed { at, .. } => at,
            Written::NotFound => panic!("not found"),
        }
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

    #[test]
    fn one_reader_per_two_cores_and_at_least_one() {
        let readers: Vec<usize> = [1, 2, 3, 8].map(readers).to_vec();
        assert_eq!(readers, [1, 1, 1, 4]);
    }

    /// Writes awaited one after another commit one transaction each; the count is what the
    /// benchmark of group commit reads.
    #[tokio::test]
    async fn each_write_awaited_alone_is_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert_eq!(store.commits(), 0);
        for n in 1..=3 {
            store.create(fields("a"), 1, "a@b.c").await.unwrap();
            assert_eq!(store.commits(), n);
        }
        committed(store.delete(1).await.unwrap());
        assert_eq!(store.commits(), 4);
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
        let record = store
            .read(2)
            .await
            .unwrap()
            .unwrap()
            .to_read_model()
            .unwrap();
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
        assert!(store.read(3).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn updates_replace_every_field_and_time_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let (ids, created) = store.create(fields("a"), 1, "a@b.c").await.unwrap();
        let (replacement, _) = create_request(json!({"CoworkerId": 8, "Used": true}));
        let at = committed(
            store
                .update(ids[0], replacement.clone(), "d@e.f")
                .await
                .unwrap(),
        );
        assert!(at >= created);
        let record = store.get(ids[0]).unwrap().unwrap();
        // Every writable field is the update's: what it left out is null now.
        assert_eq!(record.fields, replacement);
        assert_eq!(record.updated_by, "d@e.f");
        assert_eq!(record.created_on, stored_date_time(created));
        assert_eq!(record.updated_on, stored_date_time(at));
        assert_eq!(
            store.update(99, replacement, "d@e.f").await.unwrap(),
            Written::NotFound
        );
        let mut last = at;
        for notes in ["b", "c", "d"] {
            let at = committed(store.update(ids[0], fields(notes), "a@b.c").await.unwrap());
            assert!(at >= last, "{at} before {last}");
            last = at;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_fails_alone() {
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
                 WHEN NEW.notes = 'refuse one' BEGIN SELECT RAISE(ABORT, 'refused'); END;
                 CREATE TRIGGER refuse_update BEFORE UPDATE ON coworker_time_passes
                 WHEN NEW.notes = 'refuse update' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let (kept, _) = store.create(fields("kept"), 1, "a@b.c").await.unwrap();
        let create = |notes: &str, count: u32| store.create(fields(notes), count, "a@b.c");
        // Sent together, so that they may share a transaction. "refuse" fails after inserting
        // its first record, which must be rolled back with it; "refuse one" fails in its only
        // insert; the refused update leaves its record as it was.
        let (a, refused, b, refused_one, refused_update) = tokio::join!(
            create("a", 2),
            create("refuse", 3),
            create("b", 1),
            create("refuse one", 1),
            store.update(kept[0], fields("refuse update"), "x@y.z"),
        );
        assert_eq!(a.unwrap().0.len(), 2);
        assert!(matches!(refused, Err(StoreError::Sqlite(_))), "{refused:?}");
        assert_eq!(b.unwrap().0.len(), 1);
        assert!(
            matches!(refused_one, Err(StoreError::Sqlite(_))),
            "{refused_one:?}"
        );
        assert!(matches!(refused_update, Err(StoreError::Sqlite(_))));
        assert_eq!(store.count().unwrap(), 4);
        let notes: Vec<Option<String>> = store
            .ids()
            .unwrap()
            .into_iter()
            .map(|id| store.get(id).unwrap().unwrap().fields.notes)
            .collect();
        assert_eq!(
            notes,
            ["kept", "a", "a", "b"].map(|notes| Some(notes.to_owned()))
        );
        assert_eq!(store.get(kept[0]).unwrap().unwrap().updated_by, "a@b.c");
    }

    #[tokio::test]
    async fn lists_filter_sort_and_page() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        // Prices 3, null, 1, 3, 2 on ids 1 to 5; coworkers alternate.
        for (price, coworker) in [
            (Some(3.0), 1),
            (None, 2),
            (Some(1.0), 1),
            (Some(3.0), 2),
            (Some(2.0), 1),
        ] {
            let (mut fields, _) = create_request(json!({"CoworkerId": coworker}));
            fields.price = price;
            store.create(fields, 1, "a@b.c").await.unwrap();
        }
        let list = |filters: Vec<Filter>, sort, descending, page, size| {
            let store = &store;
            async move {
                let listed = store
                    .list(ListQuery {
                        filters,
                        sort,
                        descending,
                        page,
                        size,
                    })
                    .await
                    .unwrap();
                let ids: Vec<i64> = listed.records.iter().map(|record| record.id).collect();
                (ids, listed.total)
            }
        };
        let price = SortColumn::Field(Column::price);
        // Nulls first ascending, ties by id in the same direction.
        assert_eq!(
            list(vec![], price, false, 1, 10).await,
            (vec![2, 3, 5, 1, 4], 5)
        );
        assert_eq!(
            list(vec![], price, true, 1, 10).await,
            (vec![4, 1, 5, 3, 2], 5)
        );
        assert_eq!(list(vec![], price, true, 2, 2).await, (vec![5, 3], 5));
        assert_eq!(list(vec![], price, true, 4, 2).await, (vec![], 5));
        let coworker = |id| Filter::Equal(Column::coworker_id, Sql::Integer(id));
        assert_eq!(
            list(vec![coworker(1)], SortColumn::Id, true, 1, 2).await,
            (vec![5, 3], 3)
        );
        let at_least_two = Filter::AtLeast(Column::price, Sql::Real(2.0));
        assert_eq!(
            list(vec![coworker(1), at_least_two], price, false, 1, 10).await,
            (vec![5, 1], 2)
        );
    }

    #[tokio::test]
    async fn a_database_of_another_layout_is_refused_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.create(fields("n"), 1, "a@b.c").await.unwrap().0, [1]);
        drop(store);
        // Opening again keeps what was stored.
        let record = Store::open(&path).unwrap().get(1).unwrap().unwrap();
        assert_eq!(record.fields.notes.as_deref(), Some("n"));

        for found in [0, LAYOUT + 1] {
            Connection::open(&path)
                .unwrap()
                .execute_batch(&format!("PRAGMA user_version = {found}"))
                .unwrap();
            let error = Store::open(&path).err().unwrap();
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("the database's layout is version {found}, ")),
                "{error}"
            );
            // Nothing was changed.
            let old = Connection::open(&path).unwrap();
            let version: i64 = old
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .unwrap();
            assert_eq!(version, found);
            let notes: String = old
                .query_row("SELECT notes FROM coworker_time_passes", [], |row| {
                    row.get(0)
                })
                .unwrap();
            assert_eq!(notes, "n");
        }
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
        let record = Store::open(&path).unwrap().get(1).unwrap().unwrap();
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
