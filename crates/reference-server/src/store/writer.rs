//! The group-commit writer: one thread that applies every write, durably, in as few commits as
//! the writes' arrival allows.
//!
//! A write returns only once the transaction holding it has committed (and, with the connection's
//! `synchronous = FULL`, fsynced), so a 200 is never sent for a change a crash or a power cut
//! could lose.
//!
//! The thread sleeps until writes are queued, then applies every queued write in one
//! transaction, each atomic on its own (a savepoint when a create has several records: a write
//! that fails is rolled back alone and answered at once), commits, and answers the rest. Every
//! write that arrives during a commit's fsync goes into the next group, so one wake-up, one
//! commit and one fsync serve all of them; this is what lets durable creates keep up with
//! requests that store nothing (`cargo xtask bench`). One writer also makes concurrent updates
//! and deletes of one record simple: they apply one after the other, whole. The writer stamps
//! each group with one time that never goes backwards, so a record's `UpdatedOn` only moves
//! forward. Time-ordered `UniqueId`s append to their unique index instead of dirtying a random
//! page of it per record.

use std::{
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ToSql};
use tokio::sync::oneshot;

use super::{
    columns::{Fields, stored_date_time},
    error::StoreError,
    layout::{STATEMENTS, TABLE},
};

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

/// The writer thread and the queue it takes writes from.
#[derive(Debug)]
pub(super) struct Writer {
    queue: Arc<Queue>,
    /// Joined when the writer is dropped, once everything queued is committed and answered.
    thread: Option<JoinHandle<()>>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `connection`, to a database whose table is laid out.
    pub(super) fn start(connection: Connection) -> Result<Self, StoreError> {
        let queue = Arc::new(Queue::default());
        let commits = Arc::new(AtomicU64::new(0));
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn({
                let (queue, commits) = (Arc::clone(&queue), Arc::clone(&commits));
                move || write(&connection, &queue, &commits)
            })
            .map_err(|error| StoreError::Spawn(Arc::new(error)))?;
        Ok(Self {
            queue,
            thread: Some(thread),
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
    pub(super) async fn create(
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
    pub(super) async fn update(
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
    pub(super) async fn delete(&self, id: i64) -> Result<Written, StoreError> {
        self.submit(Write::Delete { id }).await
    }

    /// How many transactions the writer has committed since it started.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The writer stops once everything queued is committed and answered.
        self.queue.update(|state| state.stopping = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
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
    use super::*;
    use crate::store::{
        layout::get,
        testing::{Database, committed, create_request, fields},
    };

    fn ids(connection: &Connection) -> Vec<i64> {
        connection
            .prepare(&format!("SELECT id FROM {TABLE} ORDER BY id"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Writes awaited one after another commit one transaction each; the count is what the
    /// benchmark of group commit reads.
    #[tokio::test]
    async fn each_write_awaited_alone_is_one_commit() {
        let database = Database::new();
        let writer = database.writer();
        assert_eq!(writer.commits(), 0);
        for n in 1..=3 {
            writer.create(fields("a"), 1, "a@b.c").await.unwrap();
            assert_eq!(writer.commits(), n);
        }
        committed(writer.delete(1).await.unwrap());
        assert_eq!(writer.commits(), 4);
        // A write that finds nothing still commits its (empty) group.
        assert_eq!(writer.delete(1).await.unwrap(), Written::NotFound);
        assert_eq!(writer.commits(), 5);
    }

    #[tokio::test]
    async fn updates_replace_every_field_and_time_only_moves_forward() {
        let database = Database::new();
        let writer = database.writer();
        let read = database.connect();
        let (ids, created) = writer.create(fields("a"), 1, "a@b.c").await.unwrap();
        let (replacement, _) = create_request(serde_json::json!({"CoworkerId": 8, "Used": true}));
        let at = committed(
            writer
                .update(ids[0], replacement.clone(), "d@e.f")
                .await
                .unwrap(),
        );
        assert!(at >= created);
        let record = get(&read, ids[0]).unwrap().unwrap();
        // Every writable field is the update's: what it left out is null now.
        assert_eq!(record.fields, replacement);
        assert_eq!(record.updated_by, "d@e.f");
        assert_eq!(record.created_on, stored_date_time(created));
        assert_eq!(record.updated_on, stored_date_time(at));
        assert_eq!(
            writer.update(99, replacement, "d@e.f").await.unwrap(),
            Written::NotFound
        );
        let mut last = at;
        for notes in ["b", "c", "d"] {
            let at = committed(writer.update(ids[0], fields(notes), "a@b.c").await.unwrap());
            assert!(at >= last, "{at} before {last}");
            last = at;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_fails_alone() {
        let database = Database::new();
        let writer = database.writer();
        let read = database.connect();
        read.execute_batch(
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
        let (kept, _) = writer.create(fields("kept"), 1, "a@b.c").await.unwrap();
        let create = |notes: &str, count: u32| writer.create(fields(notes), count, "a@b.c");
        // Sent together, so that they may share a transaction. "refuse" fails after inserting
        // its first record, which must be rolled back with it; "refuse one" fails in its only
        // insert; the refused update leaves its record as it was.
        let (a, refused, b, refused_one, refused_update) = tokio::join!(
            create("a", 2),
            create("refuse", 3),
            create("b", 1),
            create("refuse one", 1),
            writer.update(kept[0], fields("refuse update"), "x@y.z"),
        );
        assert_eq!(a.unwrap().0.len(), 2);
        assert!(matches!(refused, Err(StoreError::Sqlite(_))), "{refused:?}");
        assert_eq!(b.unwrap().0.len(), 1);
        assert!(
            matches!(refused_one, Err(StoreError::Sqlite(_))),
            "{refused_one:?}"
        );
        assert!(matches!(refused_update, Err(StoreError::Sqlite(_))));
        let notes: Vec<Option<String>> = ids(&read)
            .into_iter()
            .map(|id| get(&read, id).unwrap().unwrap().fields.notes)
            .collect();
        assert_eq!(
            notes,
            ["kept", "a", "a", "b"].map(|notes| Some(notes.to_owned()))
        );
        assert_eq!(get(&read, kept[0]).unwrap().unwrap().updated_by, "a@b.c");
    }

    /// A job for [`write_group`], and where its answer arrives.
    fn job(write: Write) -> (Job, oneshot::Receiver<Result<Written, StoreError>>) {
        let (done, answer) = oneshot::channel();
        (Job { write, done }, answer)
    }

    fn create_job(notes: &str, count: usize) -> Write {
        Write::Create {
            fields: fields(notes),
            unique_ids: (0..count).map(|n| format!("{notes}-{n}")).collect(),
            updated_by: "a@b.c".into(),
        }
    }

    /// One group: what succeeds is returned to be answered after the commit, in order, with the
    /// group's time; what fails is answered at once and leaves nothing behind.
    #[test]
    fn a_group_commits_what_succeeds_and_answers_what_fails_at_once() {
        let database = Database::new();
        let connection = database.connect();
        connection
            .execute_batch(
                "CREATE TRIGGER refuse AFTER INSERT ON coworker_time_passes
                 WHEN NEW.unique_id = 'refused-1' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 5).unwrap();
        let (two, _) = job(create_job("two", 2));
        let (refused, mut refused_answer) = job(create_job("refused", 3));
        let (one, _) = job(create_job("one", 1));
        let (update, _) = job(Write::Update {
            id: 1,
            fields: fields("updated"),
            updated_by: "d@e.f".into(),
        });
        let (missing, _) = job(Write::Delete { id: 99 });
        let (delete, _) = job(Write::Delete { id: 2 });
        let group = write_group(
            &connection,
            vec![two, refused, one, update, missing, delete],
            at,
        );
        let committed = |ids: Vec<i64>| Written::Committed { ids, at };
        let written: Vec<Written> = group.into_iter().map(|(_, written)| written).collect();
        assert_eq!(
            written,
            [
                committed(vec![1, 2]),
                committed(vec![3]),
                committed(Vec::new()),
                Written::NotFound,
                committed(Vec::new()),
            ]
        );
        assert!(matches!(
            refused_answer.try_recv(),
            Ok(Err(StoreError::Sqlite(_)))
        ));
        assert!(
            connection.is_autocommit(),
            "the group's transaction is open"
        );
        // The refused create's first record was rolled back with it, its id with it: no id
        // answered to anyone is given again.
        assert_eq!(ids(&connection), [1, 3]);
        let updated = get(&connection, 1).unwrap().unwrap();
        assert_eq!(updated.fields.notes.as_deref(), Some("updated"));
        assert_eq!(updated.updated_on, stored_date_time(at));
        assert_eq!(updated.unique_id, "two-0");
    }

    /// When the group's transaction cannot begin, every write in it is answered with the error
    /// (not dropped, which its requester would read as a stopped writer).
    #[test]
    fn a_group_that_cannot_begin_answers_every_write_with_the_error() {
        let database = Database::new();
        let connection = database.connect();
        connection.execute_batch("BEGIN").unwrap();
        let (first, mut first_answer) = job(create_job("a", 1));
        let (second, mut second_answer) = job(Write::Delete { id: 1 });
        let group = write_group(&connection, vec![first, second], Utc::now());
        assert!(group.is_empty());
        for answer in [&mut first_answer, &mut second_answer] {
            assert!(
                matches!(answer.try_recv(), Ok(Err(StoreError::Sqlite(_)))),
                "answered otherwise"
            );
        }
        connection.execute_batch("ROLLBACK").unwrap();
        assert!(ids(&connection).is_empty());
    }
}
