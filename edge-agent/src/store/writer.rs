//! Group commit: one thread owns the writing connection and commits whatever work has
//! queued up while the previous commit was being fsynced, in one transaction.
//!
//! Each job runs inside its own `SAVEPOINT`, so a job that fails (or panics) is rolled back
//! alone and the others in the batch still commit. A job's caller hears back only after
//! the `COMMIT` that contains its writes returned, that is after the WAL is on disk
//! (`synchronous=FULL`): that is what lets a handler answer with a summary knowing its
//! access record is durable. If the commit fails (disk full, I/O error) every caller in the
//! batch gets [`Error::Unavailable`] and nothing of the batch is kept.
//!
//! Written by hand: SQLite has no group commit of its own, and the crates that pool
//! connections (r2d2, deadpool) serialise writers without batching their fsyncs.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::review::ReviewThresholds;

/// Most jobs committed together. Bounds the latency of the first job in a batch.
pub const MAX_BATCH: usize = 512;

/// Gauge: jobs submitted and not yet taken by the writer thread.
pub(super) const QUEUE_DEPTH: &str = "edge_store_writer_queue_depth";

/// A job left the queue.
fn taken() {
    metrics::gauge!(QUEUE_DEPTH).decrement(1.0);
}

/// What a finished job does once its batch's commit result is known.
type Completion = Box<dyn FnOnce(std::result::Result<(), &str>) + Send>;

/// A write job: runs inside the batch transaction; `Err(())` means it failed and has
/// already replied.
type WriteJob = Box<dyn FnOnce(&Tx<'_>) -> std::result::Result<Completion, ()> + Send>;

/// Work for the writer thread.
pub(super) enum Job {
    /// Runs inside the batch transaction.
    Write(WriteJob),
    /// Runs outside any transaction, between batches (WAL checkpoint, seeding).
    Maintenance(Box<dyn FnOnce(&mut Connection) + Send>),
}

impl Job {
    /// A write job replying on `reply` with `f`'s value after its commit.
    pub(super) fn write<T, F>(f: F, reply: tokio::sync::oneshot::Sender<Result<T>>) -> Job
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        Job::Write(Box::new(move |tx| match f(tx) {
            Ok(value) => Ok(Box::new(move |commit: std::result::Result<(), &str>| {
                let _ = reply.send(
                    commit
                        .map(|()| value)
                        .map_err(|e| Error::Unavailable(e.to_string())),
                );
            }) as Completion),
            Err(error) => {
                let _ = reply.send(Err(error));
                Err(())
            }
        }))
    }
}

/// The writer thread's loop: returns when every sender is gone and the queue is empty.
pub(super) fn run(
    mut conn: Connection,
    jobs: mpsc::Receiver<Job>,
    review: ReviewThresholds,
    slow_disk: &AtomicU64,
) {
    let mut pending: Option<Job> = None;
    loop {
        let first = match pending.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => {
                    taken();
                    job
                }
                Err(_) => return,
            },
        };
        let mut batch = Vec::new();
        match first {
            Job::Maintenance(f) => {
                // A panicking maintenance job must not take the writer (and with it every
                // later disclosure) down; its caller sees its reply channel closed.
                if std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut conn))).is_err() {
                    tracing::error!("a maintenance job panicked");
                    let _ = conn.execute_batch("ROLLBACK");
                }
                continue;
            }
            Job::Write(f) => batch.push(f),
        }
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(Job::Write(f)) => {
                    taken();
                    batch.push(f);
                }
                Ok(maintenance @ Job::Maintenance(_)) => {
                    taken();
                    pending = Some(maintenance);
                    break;
                }
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch, review, slow_disk);
    }
}

fn commit_batch(
    conn: &Connection,
    batch: Vec<WriteJob>,
    review: ReviewThresholds,
    slow_disk: &AtomicU64,
) {
    let size = batch.len();
    let started = std::time::Instant::now();
    metrics::histogram!("edge_store_commit_batch_size").record(size as f64);
    if let Err(error) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(%error, jobs = size, "could not begin a write transaction");
        // Nothing can be written: run nothing. Dropping the jobs closes their reply
        // channels, which their callers see as `Error::Poisoned` (answered 503).
        drop(batch);
        return;
    }
    let mut done: Vec<Completion> = Vec::with_capacity(size);
    // Actions of the access records the kept jobs appended: counted once committed.
    let mut appended: Vec<&'static str> = Vec::new();
    for job in batch {
        if savepoint(conn, "SAVEPOINT job").is_err() {
            // The caller sees its reply channel closed: Error::Poisoned, answered as 503.
            continue;
        }
        let tx = Tx::new(conn).with_review(review);
        match std::panic::catch_unwind(AssertUnwindSafe(|| job(&tx))) {
            Ok(Ok(completion)) => {
                if savepoint(conn, "RELEASE job").is_ok() {
                    done.push(completion);
                    appended.extend(tx.take_appended());
                } else {
                    rollback_job(conn);
                    completion(Err("could not release the job's savepoint"));
                }
            }
            Ok(Err(())) => rollback_job(conn),
            Err(_) => {
                tracing::error!("a write job panicked; rolled back");
                rollback_job(conn);
            }
        }
    }
    // Fault injection (simulations only; zero otherwise): a slow disk's fsync, with the
    // write lock held as a real one would hold it.
    let delay = slow_disk.load(Ordering::Relaxed);
    if delay > 0 {
        std::thread::sleep(std::time::Duration::from_micros(delay));
    }
    let committed = conn.execute_batch("COMMIT");
    metrics::histogram!("edge_store_commit_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    match committed {
        Ok(()) => {
            for action in appended {
                metrics::counter!("edge_access_records_appended_total", "action" => action)
                    .increment(1);
            }
            for completion in done {
                completion(Ok(()));
            }
        }
        Err(error) => {
            tracing::error!(%error, jobs = size, "commit failed; batch rolled back");
            if !conn.is_autocommit()
                && let Err(error) = conn.execute_batch("ROLLBACK")
            {
                // Every later BEGIN would fail: say so loudly; callers get 503s.
                tracing::error!(%error, "rollback after a failed commit failed");
            }
            let message = error.to_string();
            for completion in done {
                completion(Err(&message));
            }
        }
    }
}

/// Runs a savepoint statement through the statement cache: two of them per job.
fn savepoint(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn rollback_job(conn: &Connection) {
    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
}

#[cfg(test)]
mod tests;
