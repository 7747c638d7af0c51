//! The tablet's own durable state: one SQLite file in the app's private storage.
//!
//! | Table | Holds | Until |
//! |---|---|---|
//! | `sessions` | each incident's steps with their times (to resume after the app is killed; sealed: a consent note is free text) and the card certificate, sealed | the certificate: close; the steps: kept |
//! | `outbox` | every write for the edge, in order, each with a client-generated id, sealed | delivered + [`KEEP_FINISHED`]; rejected: kept |
//! | `summary_cache` | the emergency summary once fetched, sealed | close, or [`SUMMARY_TTL`] after the fetch |
//! | `access_records` | this tablet's own accesses to patient data (fetched, shown again) | kept (no personal data) |
//!
//! Everything about the patient is sealed ([`seal`]) under the [`StorageKey`] the app keeps
//! in the platform key store; `secure_delete` overwrites what is deleted. The file is
//! opened like the servers' (WAL, `synchronous=FULL`): a step, a queued write or an access
//! record the API reported is on disk, across power loss.
//!
//! Every statement runs under one mutex on one connection; they are short (one row, one
//! fsync), so async callers run them in place.

pub(crate) mod delivery;
pub mod seal;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use myna_domain::access::IncidentId;
use myna_domain::summary::EmergencySummary;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use delivery::Write;
pub use delivery::{DeliveryReport, QueuedWrite, WriteKind, WriteState};
use seal::Sealer;
pub use seal::StorageKey;

use crate::MobileError;
use crate::incident::IncidentProgress;

/// How long the summary copy stays on the tablet after it was fetched, if the incident is
/// not closed first: well past a transport (Japan's average call-to-hospital time is about
/// 45 minutes), short enough that a tablet left in the ambulance overnight holds nothing.
pub const SUMMARY_TTL: Duration = Duration::from_secs(2 * 60 * 60);
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

/// An incident the tablet was working on, as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedIncident {
    /// Incident id (UUID).
    pub incident_id: String,
    /// Crew member who started it.
    pub crew_member_id: String,
    /// Its steps so far.
    pub progress: IncidentProgress,
    /// Closed (nothing left to resume).
    pub closed: bool,
}

/// A saved incident and its card certificate (DER), while the tablet holds one.
pub(crate) type WithCertificate = (SavedIncident, Option<Vec<u8>>);

/// Which access a [`LocalAccessRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAccessKind {
    /// The summary was fetched from the edge (the edge logged it before answering).
    SummaryFetched,
    /// The crew opened the tablet's sealed copy again; reported to the edge through the
    /// outbox.
    SummaryShownAgain,
}

/// One of this tablet's own accesses to patient data: the tablet's copy of its part of
/// the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAccessRecord {
    /// Record id (UUID). For a shown-again view it is also the access record's id on the
    /// edge, so the patient's portal and this list name the same record.
    pub id: String,
    /// Incident id.
    pub incident_id: String,
    /// What happened.
    pub kind: LocalAccessKind,
    /// Crew member.
    pub crew_member_id: String,
    /// When, RFC 3339 UTC (tablet clock).
    pub at: String,
    /// The edge has it: always for a fetch; for a view, once its report was delivered.
    pub on_edge: bool,
}

/// The tablet's local store. Share it as `Arc<LocalStore>`.
pub struct LocalStore {
    conn: Mutex<Connection>,
    sealer: Sealer,
    /// One delivery pass at a time, so an incident's writes leave in order.
    delivery: tokio::sync::Mutex<()>,
    /// Wakes the background deliverer when something is queued.
    queued: tokio::sync::Notify,
    summary_ttl: Duration,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore").finish_non_exhaustive()
    }
}

impl LocalStore {
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
            delivery: tokio::sync::Mutex::new(()),
            queued: tokio::sync::Notify::new(),
            summary_ttl: SUMMARY_TTL,
        };
        store.wipe_expired(Utc::now())?;
        Ok(store)
    }

    /// The same store with another summary time limit (tests, deployments that want less).
    pub fn with_summary_ttl(mut self, ttl: Duration) -> Self {
        self.summary_ttl = ttl;
        self
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (each change is
        // one statement or one transaction), so poisoning is ignored.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- sessions -------------------------------------------------------------------

    /// Saves an incident's steps (and, while held, its card certificate), creating the row
    /// on first save. Saving the close also wipes the summary copy and the certificate, in
    /// the same transaction. A closed incident stays closed: saving over it (a second
    /// handle on the same incident) is [`MobileError::IncidentNotOnTablet`].
    pub(crate) fn save_session(
        &self,
        incident: IncidentId,
        crew_member_id: &str,
        progress: &IncidentProgress,
        certificate_der: Option<&[u8]>,
    ) -> Result<(), MobileError> {
        let progress_json = zeroize::Zeroizing::new(serde_json::to_vec(progress).map_err(storage)?);
        let progress_sealed = self
            .sealer
            .seal(&progress_json, &context("progress", incident))?;
        let closed = progress.is_closed();
        let certificate = certificate_der
            .filter(|_| !closed)
            .map(|der| self.sealer.seal(der, &context("certificate", incident)))
            .transpose()?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(storage)?;
        refuse_if_closed(&tx, incident)?;
        tx.execute(
            "INSERT INTO sessions (incident_id, crew_member_id, progress, certificate, closed, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (incident_id) DO UPDATE SET
               progress = excluded.progress, certificate = excluded.certificate,
               closed = excluded.closed, updated_at = excluded.updated_at",
            params![
                incident.to_string(),
                crew_member_id,
                progress_sealed,
                certificate,
                closed,
                rfc3339(Utc::now())
            ],
        )
        .map_err(storage)?;
        if closed {
            tx.execute(
                "DELETE FROM summary_cache WHERE incident_id = ?1",
                [incident.to_string()],
            )
            .map_err(storage)?;
        }
        tx.commit().map_err(storage)
    }

    /// The saved incident, with its certificate opened, if the tablet has it.
    pub(crate) fn load_session(
        &self,
        incident: IncidentId,
    ) -> Result<Option<WithCertificate>, MobileError> {
        let row = self
            .conn()
            .query_row(
                "SELECT crew_member_id, progress, certificate, closed FROM sessions
                 WHERE incident_id = ?1",
                [incident.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Option<Vec<u8>>>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(storage)?;
        let Some((crew_member_id, progress, certificate, closed)) = row else {
            return Ok(None);
        };
        let certificate = certificate
            .map(|sealed| {
                self.sealer
                    .open(&sealed, &context("certificate", incident))
                    .map(|der| der.to_vec())
            })
            .transpose()?;
        let progress = self
            .sealer
            .open(&progress, &context("progress", incident))?;
        let saved = SavedIncident {
            incident_id: incident.to_string(),
            crew_member_id,
            progress: serde_json::from_slice(&progress).map_err(storage)?,
            closed,
        };
        Ok(Some((saved, certificate)))
    }

    /// Incidents not closed yet, oldest first: what the app offers to resume at start.
    pub fn unfinished_incidents(&self) -> Result<Vec<SavedIncident>, MobileError> {
        let ids: Vec<String> = {
            let conn = self.conn();
            let mut statement = conn
                .prepare("SELECT incident_id FROM sessions WHERE closed = 0 ORDER BY incident_id")
                .map_err(storage)?;
            statement
                .query_map([], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(storage)?
        };
        let mut incidents = Vec::with_capacity(ids.len());
        for id in ids {
            let id = parse_incident(&id)?;
            if let Some((saved, _)) = self.load_session(id)? {
                incidents.push(saved);
            }
        }
        Ok(incidents)
    }

    // ---- summary copy -----------------------------------------------------------------

    /// Keeps the summary, sealed, until the incident closes or the time limit passes, and
    /// records the fetch in the tablet's access records, in one transaction.
    pub(crate) fn keep_summary(
        &self,
        incident: IncidentId,
        crew_member_id: &str,
        summary: &EmergencySummary,
        now: DateTime<Utc>,
    ) -> Result<(), MobileError> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(summary).map_err(storage)?);
        let sealed = self.sealer.seal(&json, &context("summary", incident))?;
        let expires = now + chrono::Duration::from_std(self.summary_ttl).unwrap_or_default();
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(storage)?;
        // Closed meanwhile (the crew closed while the fetch was in flight): keep nothing.
        refuse_if_closed(&tx, incident)?;
        tx.execute(
            "INSERT INTO summary_cache (incident_id, sealed, fetched_at, expires_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (incident_id) DO UPDATE SET sealed = excluded.sealed,
               fetched_at = excluded.fetched_at, expires_ms = excluded.expires_ms",
            params![
                incident.to_string(),
                sealed,
                rfc3339(now),
                expires.timestamp_millis()
            ],
        )
        .map_err(storage)?;
        insert_access_record(
            &tx,
            uuid::Uuid::now_v7(),
            incident,
            LocalAccessKind::SummaryFetched,
            crew_member_id,
            now,
            None,
        )?;
        tx.commit().map_err(storage)
    }

    /// The summary copy, if the tablet still holds one for `incident` at `now`. An expired
    /// copy is wiped here and reported as absent.
    pub(crate) fn kept_summary(
        &self,
        incident: IncidentId,
        now: DateTime<Utc>,
    ) -> Result<Option<EmergencySummary>, MobileError> {
        self.wipe_expired(now)?;
        let sealed: Option<Vec<u8>> = self
            .conn()
            .query_row(
                "SELECT sealed FROM summary_cache WHERE incident_id = ?1",
                [incident.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(storage)?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let json = self.sealer.open(&sealed, &context("summary", incident))?;
        serde_json::from_slice(&json).map(Some).map_err(storage)
    }

    /// Records that the crew opened the summary copy again and queues the report for the
    /// edge, in one transaction: the access is on disk before the copy is shown.
    pub(crate) fn record_shown_again(
        &self,
        incident: IncidentId,
        crew_member_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MobileError> {
        let view_id = uuid::Uuid::now_v7();
        let write = Write::DeviceView(myna_domain::wire::DeviceViewReport {
            view_id,
            viewed_at: now,
        });
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(storage)?;
        let outbox_id = self.enqueue_in(&tx, incident, &write, now)?;
        insert_access_record(
            &tx,
            view_id,
            incident,
            LocalAccessKind::SummaryShownAgain,
            crew_member_id,
            now,
            Some(outbox_id),
        )?;
        tx.commit().map_err(storage)?;
        drop(conn);
        self.queued.notify_one();
        Ok(())
    }

    /// This tablet's access records, newest first, at most `limit`.
    pub fn access_records(&self, limit: u32) -> Result<Vec<LocalAccessRecord>, MobileError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare(
                "SELECT id, incident_id, kind, crew_member_id, at, on_edge
                 FROM access_records ORDER BY at DESC, id DESC LIMIT ?1",
            )
            .map_err(storage)?;
        statement
            .query_map([limit], |r| {
                let kind: String = r.get(2)?;
                Ok(LocalAccessRecord {
                    id: r.get(0)?,
                    incident_id: r.get(1)?,
                    kind: if kind == "summary_fetched" {
                        LocalAccessKind::SummaryFetched
                    } else {
                        LocalAccessKind::SummaryShownAgain
                    },
                    crew_member_id: r.get(3)?,
                    at: r.get(4)?,
                    on_edge: r.get(5)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(storage)
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
fn refuse_if_closed(
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

fn insert_access_record(
    tx: &rusqlite::Transaction<'_>,
    id: uuid::Uuid,
    incident: IncidentId,
    kind: LocalAccessKind,
    crew_member_id: &str,
    at: DateTime<Utc>,
    outbox_id: Option<uuid::Uuid>,
) -> Result<(), MobileError> {
    let kind = match kind {
        LocalAccessKind::SummaryFetched => "summary_fetched",
        LocalAccessKind::SummaryShownAgain => "summary_shown_again",
    };
    // A fetch is on the edge already (it logged it before answering); a view once its
    // report is delivered.
    tx.execute(
        "INSERT INTO access_records (id, incident_id, kind, crew_member_id, at, outbox_id, on_edge)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id.to_string(),
            incident.to_string(),
            kind,
            crew_member_id,
            rfc3339(at),
            outbox_id.map(|id| id.to_string()),
            outbox_id.is_none()
        ],
    )
    .map_err(storage)?;
    Ok(())
}

/// Associated data binding a sealed value to what it is and whose.
fn context(what: &str, owner: impl std::fmt::Display) -> String {
    format!("myna-tablet/{what}/{owner}")
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_incident(raw: &str) -> Result<IncidentId, MobileError> {
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

#[cfg(test)]
mod tests;
