//! The SQLite file: its schema, opening it, the blocking-pool runner every async caller
//! goes through, the stored time format and the change events.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::staff::sealing::{TotpKey, is_sealed};

const SCHEMA: &str = "
-- One row, rewritten by each readiness check: proof that a write commits.
CREATE TABLE IF NOT EXISTS health_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS arrivals (
    handoff_id  TEXT PRIMARY KEY NOT NULL,
    incident_id TEXT NOT NULL,
    eta         TEXT NOT NULL,
    received_at TEXT NOT NULL,
    notice_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS arrivals_by_eta ON arrivals (eta);
CREATE INDEX IF NOT EXISTS arrivals_by_received ON arrivals (received_at);

-- Every change to an arrival (stored, answered, withdrawn, crew told) is an event; the
-- live dashboard resumes from the last event id it saw, so nothing is missed across a
-- restart of either side, and re-sending a card replaces it: nothing is shown twice.
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id TEXT NOT NULL REFERENCES arrivals(handoff_id),
    at         TEXT NOT NULL
);

-- The ER's answer on its way to the edge (and so to the crew). outcome: NULL while
-- undelivered, 'delivered', or 'rejected' (the edge refused it: the crew had withdrawn).
CREATE TABLE IF NOT EXISTS decision_outbox (
    handoff_id      TEXT PRIMARY KEY NOT NULL REFERENCES arrivals(handoff_id),
    body_json       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    outcome         TEXT
);

-- Staff sessions: only the SHA-256 of the cookie's token is stored. last_seen_at: the
-- last request (idle timeout).
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    staff_id     TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL DEFAULT ''
);

-- Staff accounts: Argon2id PHC hash, TOTP secret (base32, sealed under the TOTP key:
-- `sealed:v1:...`, see staff::sealing) and the last TOTP step used
-- (replay), consecutive failures and the lock they set, the last sign-in (stale
-- accounts are disabled), disabled 0/1.
CREATE TABLE IF NOT EXISTS staff_accounts (
    id              TEXT PRIMARY KEY NOT NULL,
    display_name    TEXT NOT NULL,
    password_phc    TEXT NOT NULL,
    totp_secret     TEXT NOT NULL,
    last_totp_step  INTEGER,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_sign_in_at TEXT,
    created_at      TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

-- Values the store keeps about itself: `totp_canary`, a known text sealed under the TOTP
-- key, so a wrong key is refused at start before any sign-in fails.
CREATE TABLE IF NOT EXISTS store_settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Every administrative action on staff accounts (add, disable, enable, reset-totp,
-- unlock), written in the transaction of the change itself. Append-only: the triggers
-- refuse UPDATE and DELETE.
CREATE TABLE IF NOT EXISTS admin_actions (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    staff_id TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS admin_actions_no_update BEFORE UPDATE ON admin_actions
BEGIN SELECT RAISE(ABORT, 'admin_actions is append-only'); END;
CREATE TRIGGER IF NOT EXISTS admin_actions_no_delete BEFORE DELETE ON admin_actions
BEGIN SELECT RAISE(ABORT, 'admin_actions is append-only'); END;
";

/// The known text sealed as `totp_canary`.
const TOTP_CANARY: &str = "myna hospital-view TOTP key check";
/// The account id the canary is sealed for (no staff id starts with a space).
const TOTP_CANARY_ID: &str = " canary";

/// Columns added to `arrivals` after it first shipped: the ER's answer.
/// `answer` is `pending`, `accepted`, `declined` or `withdrawn` (by the crew).
const ADDED_COLUMNS: [(&str, &str); 4] = [
    ("answer", "TEXT NOT NULL DEFAULT 'pending'"),
    ("decline_reason", "TEXT"),
    ("answered_at", "TEXT"),
    ("answered_by", "TEXT"),
];

/// The database of one hospital: arrivals, answers, staff accounts and sessions.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    totp_key: Option<TotpKey>,
}

/// A time as stored: fixed-width RFC 3339 UTC text, so text order is time order.
pub(super) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A stored time, read back.
pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Corrupt("time".into()))
}

/// Adds an event for `handoff_id` in `tx`; returns its id.
pub(super) fn add_event(
    tx: &Transaction<'_>,
    handoff_id: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO events (handoff_id, at) VALUES (?1, ?2)",
        params![handoff_id.to_string(), time_text(at)],
    )?;
    Ok(tx.last_insert_rowid())
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Self> {
        // Durable: a stored notice is on disk before the edge hears "stored".
        let conn = myna_service::open_durable(path)?;
        // Overwrite deleted and replaced content: a TOTP secret sealed in place leaves no
        // plain-text copy in a free page.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.execute_batch(SCHEMA)?;
        for (column, declaration) in ADDED_COLUMNS {
            let present: bool = conn.query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('arrivals') WHERE name = ?1",
                [column],
                |r| r.get(0),
            )?;
            if !present {
                conn.execute_batch(&format!(
                    "ALTER TABLE arrivals ADD COLUMN {column} {declaration}"
                ))?;
            }
        }
        let idle_column: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('sessions') WHERE name = 'last_seen_at'",
            [],
            |r| r.get(0),
        )?;
        if !idle_column {
            // Sessions from before sign-in had a second factor end here.
            conn.execute_batch(
                "DELETE FROM sessions;
                 ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT ''",
            )?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            totp_key: None,
        })
    }

    /// Opens the database at `path` (see [`Store::open`]) with the key its TOTP secrets
    /// are sealed under. Refuses a key that does not open the secrets already stored
    /// ([`Error::WrongTotpKey`]); seals, in one transaction, any secret stored in plain
    /// text (a file from before secrets were sealed).
    pub fn open_with_totp_key(path: &Path, key: TotpKey) -> Result<Self> {
        let mut store = Store::open(path)?;
        {
            let mut conn = store.conn()?;
            let tx = conn.transaction()?;
            let canary: Option<String> = tx
                .query_row(
                    "SELECT value FROM store_settings WHERE name = 'totp_canary'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let rows = {
                let mut statement = tx.prepare("SELECT id, totp_secret FROM staff_accounts")?;
                let rows = statement
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let wrong_key = || Error::WrongTotpKey(path.display().to_string());
            match &canary {
                Some(sealed) => {
                    key.open(TOTP_CANARY_ID, sealed).map_err(|_| wrong_key())?;
                }
                None => {
                    // No canary yet: the first sealed secret, if any, must open.
                    if let Some((id, sealed)) = rows.iter().find(|(_, s)| is_sealed(s)) {
                        key.open(id, sealed).map_err(|_| wrong_key())?;
                    }
                    tx.execute(
                        "INSERT INTO store_settings (name, value) VALUES ('totp_canary', ?1)",
                        [key.seal(TOTP_CANARY_ID, TOTP_CANARY)],
                    )?;
                }
            }
            let mut migrated = 0;
            for (id, stored) in rows.iter().filter(|(_, s)| !is_sealed(s)) {
                tx.execute(
                    "UPDATE staff_accounts SET totp_secret = ?2 WHERE id = ?1",
                    params![id, key.seal(id, stored)],
                )?;
                migrated += 1;
            }
            tx.commit()?;
            if migrated > 0 {
                // Move the sealed pages into the main file now, over the plain-text ones.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                tracing::info!(accounts = migrated, "plain-text TOTP secrets sealed");
            }
        }
        store.totp_key = Some(key);
        Ok(store)
    }

    /// The key TOTP secrets are sealed under; an error for a store opened without one.
    pub(super) fn totp_key(&self) -> Result<&TotpKey> {
        self.totp_key
            .as_ref()
            .ok_or_else(|| Error::Config("the store was opened without a TOTP key".into()))
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
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

    /// The connection, locked.
    pub(super) fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| Error::Poisoned)
    }

    /// Moves the WAL into the main file; called on shutdown so the file is self-contained.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn()?
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}
