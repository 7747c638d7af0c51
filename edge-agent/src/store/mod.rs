//! SQLite storage: one file, WAL, `synchronous=FULL`; one writer thread with group commit,
//! one read-only connection.
//!
//! Writes go through [`Store::write`]: the closure sees a [`Tx`] with typed operations and
//! runs on the writer thread inside a transaction shared with whatever else queued up; the
//! future resolves only after that transaction committed to disk. An access record and the
//! read it records are one closure, so they commit together, and the handler has the
//! summary in hand only once the record is durable. Reads that disclose nothing (portal
//! history, proofs) go through [`Store::read`] on a separate read-only connection, which WAL
//! lets run beside the writer.
//!
//! # Layout
//! - `schema`: tables, triggers that make the access log append-only.
//! - `import`: importing patients, their records and card links (the only way in).
//! - `tx`: the typed operations inside a transaction.
//! - `log`: the access log's Merkle tree, checkpoints and proofs.
//! - `disasters`: declared disasters (area, period).
//! - `handoffs`: handoffs, their state, and the outbox of messages to hospitals.
//! - [`portal`]: a patient's history a page at a time, their flags.
//! - `review`: the privacy officer's review queue and findings.
//! - `portal_challenges`: one-time challenges for the portal's card sign-in.
//! - `denials`: the security log of refused requests.
//! - [`accounts`]: staff accounts (officers, operators) and the record of administrative
//!   actions; [`AdminDb`], the administration command's own connection.
//! - `health`: readiness' write round-trip and the operational sample (log size, newest
//!   checkpoint, outbox backlog).
//! - `retention`: the per-kind purge of medical records (never an access record).
//! - `writer`: the group-commit thread.

pub mod accounts;
mod denials;
mod disasters;
mod handoffs;
mod health;
mod import;
mod log;
pub mod portal;
mod portal_challenges;
mod retention;
mod review;
mod schema;
mod tx;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags};

pub use accounts::{AccountRefusal, AdminAction, AdminDb, StaffAccount};
pub use denials::AuthDenial;
pub use handoffs::{FIRST_ATTEMPT_GRACE, HandoffRow, OutboxKind, OutboxMessage};
pub use health::OperationalSample;
pub use import::{BATCH_PATIENTS, CardLink, Dataset, ImportedPatient};
pub use log::StoredCheckpoint;
pub use portal_challenges::PortalChallengeRow;
pub use retention::PurgeReport;
pub use review::{Finding, QueueStatus, ReviewItemRow};
pub use tx::{ChallengeRow, IncidentRow, Tx};
pub use writer::MAX_BATCH;

use crate::error::{Error, Result};
use crate::review::ReviewThresholds;
use writer::Job;

/// The edge-agent's database.
pub struct Store {
    review: ReviewThresholds,
    /// Microseconds every commit waits first: a slow disk, injected by simulations.
    slow_disk: Arc<AtomicU64>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    reader: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, applies the schema, brings the
    /// log's tree up to date with the access records (files from before the tree existed),
    /// and starts the writer thread.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_review(path, ReviewThresholds::default())
    }

    /// [`Store::open`] with the anomaly-flag thresholds of the review queue (used when
    /// appending access records and when listing the queue).
    pub fn open_with_review(path: &Path, review: ReviewThresholds) -> Result<Self> {
        let mut conn = myna_service::open_durable(path)?;
        schema::apply(&conn)?;
        {
            let tx = conn.transaction()?;
            let before = Tx::new(&tx).tree_size()?;
            let added = Tx::new(&tx).catch_up_tree()?;
            tx.commit()?;
            if added > 0 && before == 0 {
                tracing::info!(entries = added, "access log tree built for older entries");
            } else if added > 0 {
                // Appends write their leaf in their own transaction: rows without one were
                // put there by something other than this service.
                tracing::error!(
                    entries = added,
                    tree_size = before,
                    "access-log rows without tree hashes found and added: investigate the file"
                );
            }
        }
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        let (sender, receiver) = mpsc::channel();
        let slow_disk = Arc::new(AtomicU64::new(0));
        let writer_slow_disk = Arc::clone(&slow_disk);
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::run(conn, receiver, review, &writer_slow_disk))?;
        Ok(Store {
            review,
            slow_disk,
            jobs: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            reader: Mutex::new(reader),
            path: path.to_path_buf(),
        })
    }

    /// Fault injection for simulations (`simulations::stack`'s slow disk): every commit
    /// from now on waits `delay` before it is written, holding the write lock, as a slow
    /// fsync would. Zero (the default) turns it off. Never set by the service itself.
    pub fn inject_commit_delay(&self, delay: std::time::Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.slow_disk.store(micros, Ordering::Relaxed);
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn submit(&self, job: Job) -> Result<()> {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let sender = jobs
            .as_ref()
            .ok_or(Error::Unavailable("store closed".into()))?;
        // Counted before it is sent (the writer may take it at once), taken off by the
        // writer thread as it receives it, or here if it never arrives.
        metrics::gauge!(writer::QUEUE_DEPTH).increment(1.0);
        sender.send(job).map_err(|_| {
            metrics::gauge!(writer::QUEUE_DEPTH).decrement(1.0);
            Error::Unavailable("store writer stopped".into())
        })
    }

    /// Runs `f` in a transaction on the writer thread and resolves once it is committed
    /// (on disk). `Err` from `f` rolls back `f`'s writes only. Dropping the future does
    /// not cancel the write: it commits or fails whole either way.
    ///
    /// A closure that wants to commit a denial (an access record) and still report the
    /// denial returns `Ok(Err(denial))`.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(Job::write(f, reply))?;
        answer.await.map_err(|_| Error::Poisoned)?
    }

    /// [`Store::write`] for synchronous callers (tools, benchmarks). Must not be called
    /// from inside an async task.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(Job::write(f, reply))?;
        answer.blocking_recv().map_err(|_| Error::Poisoned)?
    }

    /// Runs `f` in a read transaction (one consistent snapshot) on the read-only connection,
    /// on tokio's blocking pool. Writes fail there.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || store.read_blocking(f))
            .await
            .map_err(|_| Error::Poisoned)?
    }

    /// [`Store::read`] for synchronous callers.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = conn.transaction()?;
        let value = f(&Tx::new(&tx).with_review(self.review))?;
        tx.finish()?;
        Ok(value)
    }

    /// Runs `f` on the writing connection outside any transaction, between batches.
    async fn maintenance<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(Job::Maintenance(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        })))?;
        answer.await.map_err(|_| Error::Poisoned)?
    }

    /// Imports `patients` (with their records and card links) as `dataset`, unless a
    /// dataset is complete already: then nothing, and 0. Blocks until done; call before
    /// serving, not from inside an async task.
    ///
    /// Committed in batches of [`BATCH_PATIENTS`] on the writer thread, which generates
    /// `patients` as it goes; the dataset marker is written with the last batch, so an
    /// import interrupted midway (crash, kill) is deleted and redone by the next call.
    /// Returns the number of patients imported.
    pub fn import<I>(&self, dataset: Dataset, patients: I) -> Result<u64>
    where
        I: IntoIterator<Item = ImportedPatient>,
        I::IntoIter: Send + 'static,
    {
        self.import_in_batches(dataset, patients, BATCH_PATIENTS)
    }

    /// [`Store::import`] with `batch` patients per transaction.
    fn import_in_batches<I>(&self, dataset: Dataset, patients: I, batch: usize) -> Result<u64>
    where
        I: IntoIterator<Item = ImportedPatient>,
        I::IntoIter: Send + 'static,
    {
        let patients = patients.into_iter();
        self.maintenance_blocking(move |conn| import::import(conn, dataset, patients, batch))
    }

    /// Gives `issuer` to every card linked without one (files from before cards were linked
    /// by issuer and serial: only their importer knows the issuer). Blocks like
    /// [`Store::import`]; returns how many cards it named.
    pub fn assign_card_issuer(&self, issuer: &str) -> Result<u64> {
        let issuer = issuer.to_owned();
        self.maintenance_blocking(move |conn| import::assign_card_issuer(conn, &issuer))
    }

    /// [`Store::maintenance`] for synchronous callers, blocking until `f` ran.
    fn maintenance_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = mpsc::channel();
        self.submit(Job::Maintenance(Box::new(move |conn| {
            let _ = reply.send(f(conn));
        })))?;
        answer.recv().map_err(|_| Error::Poisoned)?
    }

    /// Moves the WAL into the main file; called on shutdown so the file is self-contained.
    pub async fn checkpoint_wal(&self) -> Result<()> {
        self.maintenance(|conn| {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// Stops the writer after it has committed everything queued, and waits for it.
    pub fn close(&self) {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}
