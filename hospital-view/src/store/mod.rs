//! SQLite storage: arrival notices, the ER's answers, the change events the live dashboard
//! resumes from, the answers' outbox to the edge, staff accounts and their sessions. One file, WAL,
//! `synchronous=FULL`, one connection.
//!
//! Every method is blocking; async code calls them through [`Store::run`], which moves the
//! work to tokio's blocking pool. Each notice is stored whole as JSON, once per handoff id,
//! with the columns the queries need (`incident_id`, `eta`, `received_at`) beside it.
//! Times are stored as fixed-width RFC 3339 UTC text, so text order is time order.
//!
//! # Layout
//! - `database`: the file, its schema, [`Store`] and [`Store::run`], the time format.
//! - this file: arrivals, their listing, and events.
//! - `answers`: the ER's answer, the crew's withdrawal, the answers' outbox.
//! - `sessions`: staff sessions (absolute and idle expiry).
//! - `staff`: staff accounts (password hash, sealed TOTP secret, failures, lock, disabled).
//! - `admin`: administrative changes to accounts, each recorded in `admin_actions`.
//! - `health`: readiness' write round-trip and the answers' outbox backlog.

mod admin;
mod answers;
mod database;
mod health;
mod sessions;
mod staff;

pub use admin::{Actor, AdminAction, RecordedAction, StaffSummary};
pub use answers::{Answer, AnswerOutcome, CrewNotice, PendingAnswer};
pub use database::Store;
pub use health::DecisionBacklog;
pub use sessions::NewSession;
pub use staff::{NewStaff, StoredStaff};

use chrono::{DateTime, Utc};
use myna_domain::handoff::DeclineReason;
use myna_domain::wire::ArrivalNotice;
use rusqlite::{OptionalExtension, params};

use crate::error::{Error, Result};
use database::{add_event, parse_time, time_text};

/// A stored arrival notice, when this hospital received it, and what the ER answered.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArrival {
    /// The notice as the edge sent it.
    pub notice: ArrivalNotice,
    /// When it was first stored here.
    pub received_at: DateTime<Utc>,
    /// The ER's answer, or the crew's withdrawal.
    pub answer: Answer,
    /// Whether the crew has heard the answer (`None` before any answer).
    pub crew_notice: Option<CrewNotice>,
}

impl StoredArrival {
    /// A notice just received: not answered yet.
    pub fn new(notice: ArrivalNotice, received_at: DateTime<Utc>) -> Self {
        StoredArrival {
            notice,
            received_at,
            answer: Answer::Pending,
            crew_notice: None,
        }
    }
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

/// One change to an arrival, for the live dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrivalEvent {
    /// Event id, increasing; the dashboard resumes after the last one it saw.
    pub seq: i64,
    /// The arrival that changed.
    pub handoff_id: uuid::Uuid,
}

/// The columns [`decode`] reads, in its order.
const ARRIVAL_COLUMNS: &str = "a.handoff_id, a.received_at, a.notice_json, a.answer,
    a.decline_reason, a.answered_at, a.answered_by, o.outcome, o.attempts";
/// `arrivals a` with its answer's outbox row, if any.
const ARRIVALS_WITH_OUTBOX: &str =
    "arrivals a LEFT JOIN decision_outbox o ON o.handoff_id = a.handoff_id";

impl Store {
    /// Stores `notice` unless its handoff id is already stored, with its event. Returns
    /// the event id when a new row was written, `None` for a duplicate (the first copy is
    /// kept unchanged and nothing is announced again).
    pub fn insert(
        &self,
        notice: &ArrivalNotice,
        received_at: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let json = serde_json::to_string(notice)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
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
        let event = if changed == 1 {
            Some(add_event(&tx, notice.handoff_id, received_at)?)
        } else {
            None
        };
        tx.commit()?;
        Ok(event)
    }

    /// The arrival with this handoff id, if stored.
    pub fn get(&self, handoff_id: uuid::Uuid) -> Result<Option<StoredArrival>> {
        let conn = self.conn()?;
        let row = conn
            .prepare_cached(&format!(
                "SELECT {ARRIVAL_COLUMNS} FROM {ARRIVALS_WITH_OUTBOX} WHERE a.handoff_id = ?1"
            ))?
            .query_row([handoff_id.to_string()], RawArrival::read)
            .optional()?;
        row.map(|raw| decode(raw).map_err(|(_, e)| e)).transpose()
    }

    /// Arrivals expected at or after `since`, soonest first (the dashboard's incoming list).
    pub fn incoming(&self, since: DateTime<Utc>, limit: u32) -> Result<Listing> {
        self.list(
            &format!(
                "SELECT {ARRIVAL_COLUMNS} FROM {ARRIVALS_WITH_OUTBOX}
                 WHERE a.eta >= ?1 ORDER BY a.eta ASC, a.received_at ASC LIMIT ?2"
            ),
            params![time_text(since), limit],
        )
    }

    /// Arrivals expected before `before`, latest first (the dashboard's earlier list).
    pub fn earlier(&self, before: DateTime<Utc>, limit: u32) -> Result<Listing> {
        self.list(
            &format!(
                "SELECT {ARRIVAL_COLUMNS} FROM {ARRIVALS_WITH_OUTBOX}
                 WHERE a.eta < ?1 ORDER BY a.eta DESC, a.received_at DESC LIMIT ?2"
            ),
            params![time_text(before), limit],
        )
    }

    /// The most recently received arrivals, newest first.
    pub fn newest(&self, limit: u32) -> Result<Listing> {
        self.list(
            &format!(
                "SELECT {ARRIVAL_COLUMNS} FROM {ARRIVALS_WITH_OUTBOX}
                 ORDER BY a.received_at DESC, a.rowid DESC LIMIT ?1"
            ),
            params![limit],
        )
    }

    fn list(&self, sql: &str, params: impl rusqlite::Params) -> Result<Listing> {
        let conn = self.conn()?;
        let mut statement = conn.prepare_cached(sql)?;
        let rows = statement.query_map(params, RawArrival::read)?;
        let mut listing = Listing::default();
        for row in rows {
            match decode(row?) {
                Ok(arrival) => listing.arrivals.push(arrival),
                Err((id, error)) => {
                    tracing::error!(handoff_id = %id, %error, "stored arrival unreadable");
                    listing.unreadable.push(id);
                }
            }
        }
        Ok(listing)
    }

    /// Events after `after`, oldest first, at most `limit`.
    pub fn events_after(&self, after: i64, limit: u32) -> Result<Vec<ArrivalEvent>> {
        let conn = self.conn()?;
        let mut statement = conn.prepare_cached(
            "SELECT seq, handoff_id FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = statement.query_map(params![after, limit], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, id) = row?;
            let handoff_id = uuid::Uuid::parse_str(&id)
                .map_err(|_| Error::Corrupt("event handoff id".into()))?;
            events.push(ArrivalEvent { seq, handoff_id });
        }
        Ok(events)
    }

    /// The newest event id (0 when there is none).
    pub fn last_event(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
    }
}

/// One `arrivals` row with its outbox columns, as read.
struct RawArrival {
    handoff_id: String,
    received_at: String,
    notice_json: String,
    answer: String,
    decline_reason: Option<String>,
    answered_at: Option<String>,
    answered_by: Option<String>,
    outcome: Option<String>,
    attempts: Option<u32>,
}

impl RawArrival {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawArrival {
            handoff_id: r.get(0)?,
            received_at: r.get(1)?,
            notice_json: r.get(2)?,
            answer: r.get(3)?,
            decline_reason: r.get(4)?,
            answered_at: r.get(5)?,
            answered_by: r.get(6)?,
            outcome: r.get(7)?,
            attempts: r.get(8)?,
        })
    }
}

/// Decodes one row; on failure returns the handoff id with the error (no content).
fn decode(raw: RawArrival) -> Result<StoredArrival, (String, Error)> {
    let id = raw.handoff_id.clone();
    decode_fields(raw).map_err(|e| (id, e))
}

fn decode_fields(raw: RawArrival) -> Result<StoredArrival> {
    let received_at = parse_time(&raw.received_at)?;
    let notice = serde_json::from_str::<ArrivalNotice>(&raw.notice_json).map_err(|e| {
        Error::Corrupt(format!(
            "notice_json (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let answered_at = raw.answered_at.as_deref().map(parse_time).transpose()?;
    let answer = Answer::decode(
        &raw.answer,
        raw.decline_reason.as_deref().and_then(DeclineReason::parse),
        answered_at,
        raw.answered_by,
    )?;
    let crew_notice = CrewNotice::decode(raw.outcome.as_deref(), raw.attempts)?;
    Ok(StoredArrival {
        notice,
        received_at,
        answer,
        crew_notice,
    })
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
            scene: None,
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
        assert_eq!(store.insert(&notice(1, 30), at(1)).unwrap(), Some(1));
        let mut changed = notice(1, 45);
        changed.unit = "other".into();
        assert_eq!(store.insert(&changed, at(2)).unwrap(), None);
        assert_eq!(store.last_event().unwrap(), 1, "a duplicate adds no event");
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
                "INSERT INTO arrivals (handoff_id, incident_id, eta, received_at, notice_json)
                 VALUES ('bad', 'i', ?1, ?1, '{not json')",
                [time_text(at(30))],
            )
            .unwrap();
        let listing = store.incoming(at(0), 10).unwrap();
        assert_eq!(ids(&listing), vec![1]);
        assert_eq!(listing.unreadable, vec!["bad".to_string()]);
    }
}
