//! The summary copy (sealed; wiped at close or after [`super::SUMMARY_TTL`]) and the
//! tablet's own access records: each fetch, and each time the crew opens the copy again
//! (that view also queued for the edge's access log, in the same transaction).

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use myna_domain::access::IncidentId;
use myna_domain::summary::EmergencySummary;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::outbox::Write;
use super::store::{LocalStore, context, parse_time, refuse_if_closed, rfc3339, storage};
use crate::error::MobileError;

/// Which access a [`LocalAccessRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "uniffi",
    derive(uniffi::Enum),
    uniffi(name = "TabletAccessKind")
)]
#[serde(rename_all = "snake_case")]
pub enum LocalAccessKind {
    /// The summary was fetched from the edge (the edge logged it before answering).
    SummaryFetched,
    /// The crew opened the tablet's sealed copy again; reported to the edge through the
    /// outbox.
    SummaryShownAgain,
}

/// One of this tablet's own accesses to patient data: the tablet's copy of its part of
/// the access log. (Exported to the apps as `TabletAccess`.)
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "uniffi",
    derive(uniffi::Record),
    uniffi(name = "TabletAccess")
)]
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
    /// When (tablet clock).
    pub at: SystemTime,
    /// The edge has it: always for a fetch; for a view, once its report was delivered.
    pub on_edge: bool,
}

impl LocalStore {
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
        tx.commit().map_err(storage)
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
                    at: parse_time(&r.get::<_, String>(4)?),
                    on_edge: r.get(5)?,
                })
            })
            .and_then(Iterator::collect)
            .map_err(storage)
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
