//! The reader pool: a few threads, each with a read-only connection that WAL lets run beside
//! the writer, taking reads off one queue, so that no read runs on the async runtime.

use std::{
    path::Path,
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread::JoinHandle,
};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{connection::read_only, error::StoreError};

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
pub(super) struct Readers {
    queue: Arc<ReadQueue>,
    /// Joined when the readers are dropped, after the reads queued before.
    threads: Vec<JoinHandle<()>>,
}

impl Readers {
    /// Starts `count` reader threads on the database at `path`.
    pub(super) fn start(path: &Path, count: usize) -> Result<Self, StoreError> {
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
    pub(super) async fn run<T: Send + 'static>(
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

/// How many reader threads a store runs: one per two cores. Reads are short, and a reader that
/// stays busy draining the queue costs less than several that sleep and wake (on 2 cores, one
/// reader served 15-20% more reads per second than two, measured with `cargo xtask bench`).
pub(super) fn reader_count(cores: usize) -> usize {
    (cores / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::Database;

    #[test]
    fn one_reader_per_two_cores_and_at_least_one() {
        let readers: Vec<usize> = [1, 2, 3, 8].map(reader_count).to_vec();
        assert_eq!(readers, [1, 1, 1, 4]);
    }

    #[test]
    fn the_queue_shows_no_reads() {
        assert_eq!(format!("{:?}", ReadQueue::default()), "ReadQueue { .. }");
    }

    /// A read runs on a reader thread, read-only; one that panics is answered with an error and
    /// the thread serves the next.
    #[tokio::test]
    async fn reads_run_on_reader_threads_and_a_panic_fails_only_its_read() {
        let database = Database::new();
        let readers = Readers::start(&database.path, 1).unwrap();
        let thread = readers
            .run(|_| Ok(std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();
        assert_eq!(thread.as_deref(), Some("sqlite-reader-0"));
        let written = readers
            .run(|connection| Ok(connection.execute("DELETE FROM coworker_time_passes", [])?))
            .await;
        assert!(matches!(written, Err(StoreError::Sqlite(_))), "{written:?}");
        let panicked = readers
            .run(|_| -> Result<(), StoreError> { panic!("a read that panics") })
            .await;
        assert!(matches!(panicked, Err(StoreError::ReadersStopped)));
        let read: i64 = readers
            .run(|connection| Ok(connection.query_row("SELECT 41 + 1", [], |row| row.get(0))?))
            .await
            .unwrap();
        assert_eq!(read, 42);
    }

    #[tokio::test]
    async fn readers_that_are_stopping_take_no_more_reads() {
        let database = Database::new();
        let readers = Readers::start(&database.path, 2).unwrap();
        assert_eq!(readers.threads.len(), 2);
        readers.queue.lock().stopping = true;
        let refused = readers.run(|_| Ok(())).await;
        assert!(matches!(refused, Err(StoreError::ReadersStopped)));
        assert!(readers.queue.lock().jobs.is_empty());
    }
}
