//! [`LocalStore`]: the one SQLite connection, its schema, opening (WAL,
//! `synchronous=FULL`, `secure_delete`), the sealer, and the wipe of what is past its time.
//! The tables' statements live beside their concept: [`super::sessions`],
//! [`super::summary_copy`], [`super::outbox`].

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use myna_domain::access::IncidentId;
use rusqlite::{Connection, OptionalExtension};

use super::seal::{Sealer, StorageKey};
use crate::error::MobileError;

/// How long the summary copy stays on the tablet after it was fetched, if the incident is
/// not closed first: well past a transport (Japan's average call-to-hospital time is about
/// 45 minutes), short enough that a tablet left in the ambulance overnight holds nothing.
pub const SUMMARY_TTL: Duration = Duration::from_secs(2 * 60 * 60);
/// Who may send a store's outbox: one delivery pass at a time, so an incident's writes
/// leave in order whichever [`crate::delivery::Delivery`] runs the pass, and the wake-up of
/// the background run when something is queued. It lives with the store because every
/// deliverer of one store must share it (a tablet's, and an incident started on the store
/// directly). No I/O: a lock and a notification.
#[derive(Debug, Default)]
pub(crate) struct OutboxGate {
    /// Held for the whole of a delivery pass.
    pub(crate) pass: tokio::sync::Mutex<()>,
    /// Notified when a write is queued.
    pub(crate) queued: tokio::sync::Notify,
}

/// How long delivered writes stay listed for the crew to check (rejected ones stay until
/// dealt with).
pub const KEEP_FINISHED: Duration = Duration::from_secs(7 * 24 * 60 * 60);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    incident_id     TEXT PRIMARY KEY,
    crew_member_id  TEXT NOT NULL,
    progress        BLOB NOT NULL,
    certificate     BLOB,
    closed          INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    incident_id     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'rejected')),
    last_error      TEXT,
    response        BLOB,
    done_at         TEXT,
    done_ms         INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, incident_id, seq);
CREATE TABLE IF NOT EXISTS summary_cache (
    incident_id     TEXT PRIMARY KEY,
    sealed          BLOB NOT NULL,
    fetched_at      TEXT NOT NULL,
    expires_ms      INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS access_records (
    id              TEXT PRIMARY KEY,
    incident_id     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('summary_fetched', 'summary_shown_again')),
    crew_member_id  TEXT NOT NULL,
    at              TEXT NOT NULL,
    outbox_id       TEXT,
    on_edge         INTEGER NOT NULL
) STRICT;
";

/// The tablet's local store. Share it as `Arc<LocalStore>`.
pub struct LocalStore {
    conn: Mutex<Connection>,
    pub(super) sealer: Sealer,
    pub(super) summary_ttl: Duration,
    outbox_gate: OutboxGate,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore").finish_non_exhaustive()
    }
}

impl LocalStore {
    /// Who may send this store's outbox: shared by every deliverer of the store.
    pub(crate) fn outbox_gate(&self) -> &OutboxGate {
        &self.outbox_gate
    }

    /// Opens (creating if needed) the store at `path`, sealed with `key`. Expired summary
    /// copies and long-finished writes are wiped on opening.
    pub fn open(path: &Path, key: &StorageKey) -> Result<Self, MobileError> {
        let conn = Connection::open(path).map_err(storage)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(storage)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(storage)?;
        Self::setup(conn, key)
    }

    /// A store in memory: nothing survives the process. For callers that do not need to
    /// resume (tests, one-off tools); the tablet app uses [`Self::open`].
    pub fn in_memory() -> Self {
        let conn = Connection::open_in_memory().expect("SQLite opens an in-memory database");
        Self::setup(conn, &StorageKey::random()).expect("the schema applies to an empty database")
    }

    fn setup(conn: Connection, key: &StorageKey) -> Result<Self, MobileError> {
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(storage)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(storage)?;
        conn.execute_batch(SCHEMA).map_err(storage)?;
        let store = LocalStore {
            conn: Mutex::new(conn),
            sealer: Sealer::new(key),
            summary_ttl: SUMMARY_TTL,
            outbox_gate: OutboxGate::default(),
        };
        store.wipe_expired(Utc::now())?;
        Ok(store)
    }

    /// The same store with another summary time limit (tests, deployments that want less).
    pub fn with_summary_ttl(mut self, ttl: Duration) -> Self {
        self.summary_ttl = ttl;
        self
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (each change is
        // one statement or one transaction), so poisoning is ignored.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wipes summary copies past their time limit and forgets writes finished more than
    /// [`KEEP_FINISHED`] ago.
    pub fn wipe_expired(&self, now: DateTime<Utc>) -> Result<(), MobileError> {
        let keep = chrono::Duration::from_std(KEEP_FINISHED).unwrap_or_default();
        let conn = self.conn();
        let wiped = conn
            .execute(
                "DELETE FROM summary_cache WHERE expires_ms <= ?1",
                [now.timestamp_millis()],
            )
            .map_err(storage)?;
        // A copy of a closed incident (a crash between close and wipe in older files, or a
        // fetch that finished after the close) goes too.
        let wiped = wiped
            + conn
                .execute(
                    "DELETE FROM summary_cache WHERE incident_id IN
                       (SELECT incident_id FROM sessions WHERE closed = 1)",
                    [],
                )
                .map_err(storage)?;
        // Rejected writes stay listed until someone has dealt with them.
        conn.execute(
            "DELETE FROM outbox WHERE state = 'delivered' AND done_ms <= ?1",
            [(now - keep).timestamp_millis()],
        )
        .map_err(storage)?;
        if wiped > 0 {
            tracing::info!(wiped, "summary copies past their time limit wiped");
        }
        Ok(())
    }

    /// Whether the store holds a summary copy for `incident` (any age), for tests.
    #[cfg(test)]
    pub(crate) fn has_summary_row(&self, incident: IncidentId) -> bool {
        self.conn()
            .query_row(
                "SELECT count(*) FROM summary_cache WHERE incident_id = ?1",
                [incident.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            > 0
    }
}

/// [`MobileError::IncidentNotOnTablet`] when `incident` is closed: nothing more is saved
/// for it.
pub(super) fn refuse_if_closed(
    tx: &rusqlite::Transaction<'_>,
    incident: IncidentId,
) -> Result<(), MobileError> {
    let closed: Option<bool> = tx
        .query_row(
            "SELECT closed FROM sessions WHERE incident_id = ?1",
            [incident.to_string()],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage)?;
    if closed == Some(true) {
        Err(MobileError::IncidentNotOnTablet)
    } else {
        Ok(())
    }
}

/// Associated data binding a sealed value to what it is and whose.
pub(super) fn context(what: &str, owner: impl std::fmt::Display) -> String {
    format!("myna-tablet/{what}/{owner}")
}

pub(super) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_incident(raw: &str) -> Result<IncidentId, MobileError> {
    raw.parse()
        .map(IncidentId)
        .map_err(|_| MobileError::LocalStorage {
            detail: "saved incident id is not a UUID".into(),
        })
}

/// A storage failure (disk full, damaged file, wrong key) as the crew's error.
pub(crate) fn storage(error: impl std::fmt::Display) -> MobileError {
    MobileError::LocalStorage {
        detail: error.to_string(),
    }
}

/// A stored RFC 3339 time, read back (the epoch if damaged).
pub(super) fn parse_time(stored: &str) -> std::time::SystemTime {
    DateTime::parse_from_rfc3339(stored)
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_default()
        .into()
}
