//! Group commit: every write of a [`super::RedbStore`] (and its clones) runs
//! on one writer thread, which takes the writes waiting for it, runs them
//! one after the other in one redb write transaction and commits them
//! together: one fsync for the batch instead of one per write.
//!
//! Why: redb runs one write transaction at a time and each commit waits for
//! its fsync (milliseconds on this machine's disk), so with one commit per
//! write the store took a few hundred writes a second however many callers
//! waited, and a flash sale's checkouts queued behind each other's fsyncs.
//!
//! What each write still gets:
//! - Atomicity and isolation: a write runs alone on the transaction's
//!   tables, after the writes queued before it (it sees their effects, as it
//!   would have one commit later), and either all its changes commit or
//!   none. A write that fails (a condition, an invalid update) fails before
//!   it changes anything: that is how every write of the adapter is written
//!   (conditions and new states are worked out first), and the batch checks
//!   it: a write that failed after changing something (an I/O error, a
//!   panic) aborts the whole batch.
//! - Durability: its caller hears back only after the batch committed. When
//!   the commit fails (or the batch is aborted), every write of the batch
//!   fails with it; even a write's own failure is then replaced by the
//!   commit's, since it may have been judged on writes that never committed.
//! - The change feed is notified once per committed batch that wrote.

use super::Tables;
use crate::StoreError;
use redb::Database;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{oneshot, Notify};

/// Writes committed together at most: bounds how long the first of a batch
/// waits for the others to run.
const MAX_BATCH: usize = 128;

/// A write waiting for the writer thread.
type Job = Box<dyn for<'t> FnOnce(&mut Tables<'t>) -> Ran + Send>;

/// What a write left in its batch.
struct Ran {
    /// It failed after changing something: the batch must not commit.
    partial: bool,
    /// Tells its caller the outcome once the batch's is known.
    reply: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

/// The writer thread and the way to it. Dropping the last handle closes the
/// queue and joins the thread, so the database is closed when the store's
/// last clone is gone (a reopen of the same file then succeeds).
pub(super) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub(super) fn start(db: Arc<Database>, changes: Arc<Notify>) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("redb-writer".into())
            .spawn(move || run(&db, &queue, &changes))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the store writer: {e}")))?;
        Ok(Writer {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` in the next batch; its result once the batch committed.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tables<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |tables: &mut Tables<'_>| {
            let before = tables.writes;
            let (partial, outcome) = match catch_unwind(AssertUnwindSafe(|| work(tables))) {
                Ok(Ok(value)) => (false, Ok(value)),
                Ok(Err(e)) => (tables.writes != before, Err(e)),
                Err(_) => (
                    true,
                    Err(StoreError::Unavailable("a store write panicked".into())),
                ),
            };
            Ran {
                partial,
                reply: Box::new(move |batch: Result<(), StoreError>| {
                    // The caller may have gone (a dropped request): nothing to tell.
                    let _ = tx.send(batch.and(outcome));
                }),
            }
        });
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            return Err(StoreError::Unavailable(
                "the store writer has stopped".into(),
            ));
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the write was not carried out (its batch was aborted)".into(),
            ))
        })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // It ends as soon as the batch in hand is done.
            let _ = thread.join();
        }
    }
}

/// The writer thread: a batch of whatever is waiting, until the queue closes.
fn run(db: &Database, queue: &mpsc::Receiver<Job>, changes: &Notify) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if commit(db, batch) {
            changes.notify_waiters();
        }
    }
}

/// Runs `batch` in one write transaction and commits it; true when it
/// committed something. Writes not run (after an aborting one, or when the
/// transaction cannot start) are dropped, which their callers hear as "not
/// carried out".
fn commit(db: &Database, batch: Vec<Job>) -> bool {
    let txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a write transaction");
            return false;
        }
    };
    let mut replies = Vec::with_capacity(batch.len());
    let (wrote, aborted) = {
        let mut tables = match Tables::open(&txn) {
            Ok(tables) => tables,
            Err(e) => {
                tracing::error!(error = %e, "cannot open the tables");
                return false;
            }
        };
        let mut aborted = false;
        for job in batch {
            let ran = job(&mut tables);
            replies.push(ran.reply);
            if ran.partial {
                aborted = true;
                break;
            }
        }
        (tables.writes > 0, aborted)
    };
    let outcome = if aborted {
        let _ = txn.abort();
        Err("a write of its batch failed half-way; nothing of the batch was written".to_owned())
    } else if !wrote {
        // Only failed conditions and reads: nothing to make durable.
        let _ = txn.abort();
        Ok(false)
    } else {
        txn.commit().map(|()| true).map_err(|e| e.to_string())
    };
    match outcome {
        Ok(committed) => {
            for reply in replies {
                reply(Ok(()));
            }
            committed
        }
        Err(why) => {
            tracing::error!(error = %why, writes = replies.len(), "a write batch did not commit");
            for reply in replies {
                reply(Err(StoreError::Unavailable(why.clone())));
            }
            false
        }
    }
}
