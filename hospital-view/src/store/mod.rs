//! SQLite storage of arrival notices: one file, WAL, `synchronous=FULL`, one connection.
//!
//! Every method is blocking; async code calls them through [`Store::run`], which moves the
//! work to tokio's blocking pool. Each notice is stored whole as JSON, once per handoff id,
//! with the columns the queries need (`incident_id`, `eta`, `received_at`) beside it.
//! Times are stored as fixed-width RFC 3339 UTC text, so text order is time order.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use myna_domain::wire::ArrivalNotice;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS arrivals (
    handoff_id  TEXT PRIMARY KEY NOT NULL,
    incident_id TEXT NOT NULL,
    eta         TEXT NOT NULL,
    received_at TEXT NOT NULL,
    notice_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS arrivals_by_eta ON arrivals (eta);
CREATE INDEX IF NOT EXISTS arrivals_by_received ON arrivals (received_at);
";

/// A stored arrival notice and when this hospital received it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArrival {
    /// The notice as the edge sent it.
    pub notice: ArrivalNotice,
    /// When it was first stored here.
    pub received_at: DateTime<Utc>,
}

/// A list of arrivals, plus the handoff ids of rows that could not be decoded (so a
/// page can say that something is missing instead of hiding a patient silently).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Decoded arrivals, in the order the query asked for.
    pub arrivals: Vec<StoredArrival>,
    /// Handoff ids of rows whose notice could not be decoded.
    pub unreadable: Vec<String>,
}

/// The arrivals database of one hospital.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies the schema.
    pub fn open(path: &Path) -> Result<Self> {
        // Durable: a stored notice is on disk before the edge hears "stored".
        let conn = myna_service::open_durable(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
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

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| Error::Poisoned)
    }

    /// Stores `notice` unless its handoff id is already stored. Returns `true` when a new
    /// row was written, `false` for a duplicate (the first copy is kept unchanged).
    pub fn insert(&self, notice: &ArrivalNotice, received_at: DateTime<Utc>) -> Result<bool> {
        let json = serde_json::to_string(notice)?;
        let changed = self.conn()?.execute(
            "INSERT INTO arrivals (handoff_id, incident_id, eta, received_at, notice_json)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (handoff_id) DO NOTHING",
            params![
                notice.handoff_id.to_string(),
                notice.incident_id.to_string(),
                time_text(notice.eta),
                time_text(received_at),
                json,
            ],
        )?;
        Ok(changed == 1)
    }

    /// The arrival with this handoff id, if stored.
    pub fn get(&self, handoff_id: uuid::Uuid) -> Result<Option<StoredArrival>> {
        let row = self
            .conn()?
            .query_row(
                "SELECT handoff_id, received_at, notice_json FROM arrivals WHERE handoff_id = ?1",
                [handoff_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(id, at, json)| decode(id, at, json).map_err(|(_, e)| e))
            .transpose()
    }

    /// Arrivals expected at or after `since`, soonest first (the dashboard's incoming list).
    pub fn incoming(&self, since: DateTime<Utc>, limit: u32) -> Result<Listing> {
        self.list(
            "SELECT handoff_id, received_at, notice_json FROM arrivals
             WHERE eta >= ?1 ORDER BY eta ASC, received_at ASC LIMIT ?2",
            params![time_text(since), limit],
        )
    }

    /// Arrivals expected before `before`, latest first (the dashboard's earlier list).
    pub fn earlier(&self, before: DateTime<Utc>, limit: u32) -> Result<Listing> {
        self.list(
            "SELECT handoff_id, received_at, notice_json FROM arrivals
             WHERE eta < ?1 ORDER BY eta DESC, received_at DESC LIMIT ?2",
            params![time_text(before), limit],
        )
    }

    /// The most recently received arrivals, newest first.
    pub fn newest(&self, limit: u32) -> Result<Listing> {
        self.list(
            "SELECT handoff_id, received_at, notice_json FROM arrivals
             ORDER BY received_at DESC, rowid DESC LIMIT ?1",
            params![limit],
        )
    }

    fn list(&self, sql: &str, params: impl rusqlite::Params) -> Result<Listing> {
        let conn = self.conn()?;
        let mut statement = conn.prepare_cached(sql)?;
        let rows = statement.query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut listing = Listing::default();
        for row in rows {
            let (id, at, json) = row?;
            match decode(id, at, json) {
                Ok(arrival) => listing.arrivals.push(arrival),
                Err((id, error)) => {
                    tracing::error!(handoff_id = %id, %error, "stored arrival unreadable");
                    listing.unreadable.push(id);
                }
            }
        }
        Ok(listing)
    }

    /// Moves the WAL into the main file; called on shutdown so the file is self-contained.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn()?
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Decodes one row; on failure returns the handoff id with the error (no content).
fn decode(id: String, received_at: String, json: String) -> Result<StoredArrival, (String, Error)> {
    let received_at = DateTime::parse_from_rfc3339(&received_at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Corrupt("received_at".into()));
    let notice = serde_json::from_str::<ArrivalNotice>(&json).map_err(|e| {
        Error::Corrupt(format!(
            "notice_json (line {}, column {})",
            e.line(),
            e.column()
        ))
    });
    match (notice, received_at) {
        (Ok(notice), Ok(received_at)) => Ok(StoredArrival {
            notice,
            received_at,
        }),
        (Err(e), _) | (_, Err(e)) => Err((id, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use myna_domain::access::IncidentId;
    use myna_domain::wire::Vitals;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, minute, 0).unwrap()
    }

    fn notice(n: u128, eta_minute: u32) -> ArrivalNotice {
        ArrivalNotice {
            handoff_id: uuid::Uuid::from_u128(n),
            incident_id: IncidentId(uuid::Uuid::from_u128(1000 + n)),
            fire_department: "FD".into(),
            unit: format!("Unit {n}"),
            chief_complaint: "Chest pain".into(),
            eta: at(eta_minute),
            vitals: Vitals::default(),
            consent: None,
            summary: None,
            sent_at: at(0),
        }
    }

    fn ids(listing: &Listing) -> Vec<u128> {
        listing
            .arrivals
            .iter()
            .map(|a| a.notice.handoff_id.as_u128())
            .collect()
    }

    #[test]
    fn stores_each_handoff_once_and_keeps_the_first_copy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
        assert!(store.insert(&notice(1, 30), at(1)).unwrap());
        let mut changed = notice(1, 45);
        changed.unit = "other".into();
        assert!(!store.insert(&changed, at(2)).unwrap());
        let stored = store.get(uuid::Uuid::from_u128(1)).unwrap().unwrap();
        assert_eq!(stored.notice, notice(1, 30));
        assert_eq!(stored.received_at, at(1));
        assert_eq!(store.get(uuid::Uuid::from_u128(2)).unwrap(), None);
    }

    #[test]
    fn lists_by_eta_and_by_receipt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
        store.insert(&notice(1, 40), at(1)).unwrap();
        store.insert(&notice(2, 20), at(2)).unwrap();
        store.insert(&notice(3, 5), at(3)).unwrap();
        assert_eq!(ids(&store.incoming(at(10), 10).unwrap()), vec![2, 1]);
        assert_eq!(ids(&store.earlier(at(10), 10).unwrap()), vec![3]);
        assert_eq!(ids(&store.newest(10).unwrap()), vec![3, 2, 1]);
        assert_eq!(ids(&store.newest(1).unwrap()), vec![3]);
    }

    #[test]
    fn an_unreadable_row_is_reported_not_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
        store.insert(&notice(1, 40), at(1)).unwrap();
        store
            .conn()
            .unwrap()
            .execute(
                "INSERT INTO arrivals VALUES ('bad', 'i', ?1, ?1, '{not json')",
                [time_text(at(30))],
            )
            .unwrap();
        let listing = store.incoming(at(0), 10).unwrap();
        assert_eq!(ids(&listing), vec![1]);
        assert_eq!(listing.unreadable, vec!["bad".to_string()]);
    }
}
