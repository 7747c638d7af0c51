//! SQLite storage: one file, WAL, `synchronous=FULL`, one writer connection.
//!
//! Every method is blocking and is called through [`Store::run`], which moves the work to
//! tokio's blocking pool. Writes that must be atomic with a disclosure go through
//! [`Store::transaction`]: the caller's closure sees a [`Tx`] with typed operations, and the
//! access record it appends commits together with whatever else the closure wrote.
//!
//! # Layout
//! - [`schema`]: tables, triggers that make the access log append-only.
//! - [`seed`]: loading the synthetic population at first start.
//! - [`tx`]: the typed operations inside a transaction.

mod schema;
mod seed;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, TransactionBehavior};

pub use seed::synthetic_card_issuer;
pub use tx::{ChallengeRow, IncidentRow, Tx};

use crate::{Error, Result};

/// The edge-agent's database.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = myna_service::open_durable(path)?;
        schema::apply(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The connection. A panic inside an earlier transaction poisons the mutex, but that
    /// transaction was rolled back when it dropped, so the connection is still sound.
    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one IMMEDIATE transaction and commits if it returns `Ok`.
    ///
    /// A closure that wants to commit a denial (an access record) and still report the
    /// denial returns `Ok(Err(denial))`.
    pub fn transaction<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.connection();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&Tx::new(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs blocking store work on tokio's blocking pool.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| Error::Poisoned)?
    }

    /// Loads the synthetic population if the database has no patients yet.
    /// Returns the number of patients loaded (0 when already seeded).
    pub fn seed_if_empty(&self, seed: u64, count: u64, today: chrono::NaiveDate) -> Result<u64> {
        let mut conn = self.connection();
        seed::seed_if_empty(&mut conn, seed, count, today)
    }

    /// Moves the WAL into the main file; called on shutdown so the file is self-contained.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.connection();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}
