//! Handoffs and the hospital outbox.
//!
//! A handoff row is written in the same transaction as its access record and its outbox
//! message, so a handoff the tablet was told about is always on its way to the hospital:
//! the [`crate::relay`] deliverer retries every undelivered message until the hospital
//! acknowledges it, across edge restarts. hospital-view stores each handoff id once, so a
//! message delivered twice (acknowledgement lost) is still shown once.

use chrono::{DateTime, Utc};
use myna_domain::access::IncidentId;
use myna_domain::handoff::{DeclineReason, HandoffStatus};
use rusqlite::{OptionalExtension, params};

use super::tx::{Tx, parse_time, sortable_time};
use crate::error::{Error, Result};

/// How long the deliverer (`crate::relay`) leaves a new message to the request that
/// created it: the message is first due this long after it was queued.
pub const FIRST_ATTEMPT_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// What an outbox message carries to the hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    /// An [`myna_domain::wire::ArrivalNotice`] (`POST /v1/arrivals`).
    Arrival,
    /// A [`myna_domain::handoff::WithdrawalNotice`] (`POST /v1/arrivals/{id}/withdrawal`).
    Withdrawal,
}

impl OutboxKind {
    fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Arrival => "arrival",
            OutboxKind::Withdrawal => "withdrawal",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "arrival" => Ok(OutboxKind::Arrival),
            "withdrawal" => Ok(OutboxKind::Withdrawal),
            other => Err(Error::Corrupt(format!("outbox kind {other:?}"))),
        }
    }
}

/// An undelivered outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Outbox row id.
    pub id: i64,
    /// The handoff it is about.
    pub handoff_id: uuid::Uuid,
    /// The hospital it goes to.
    pub hospital_id: String,
    /// What it is.
    pub kind: OutboxKind,
    /// The JSON body to POST.
    pub body_json: String,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// A stored handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRow {
    /// Handoff id.
    pub id: uuid::Uuid,
    /// Its incident.
    pub incident_id: IncidentId,
    /// The device that opened the incident.
    pub device_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// Where it stands.
    pub status: HandoffStatus,
    /// When the hospital answered or the crew withdrew.
    pub decided_at: Option<DateTime<Utc>>,
    /// Medical records went with the arrival notice.
    pub records_shared: bool,
    /// The hospital acknowledged the arrival notice.
    pub delivered: bool,
}

impl HandoffRow {
    /// The hospital has the arrival notice: it acknowledged the delivery, or it answered
    /// (an answer can arrive before the outbox hears the acknowledgement it lost).
    pub fn hospital_has_notice(&self) -> bool {
        self.delivered
            || matches!(
                self.status,
                HandoffStatus::Accepted | HandoffStatus::Declined { .. }
            )
    }
}

const HANDOFF_COLUMNS: &str = "h.id, h.incident_id, i.device_id, h.hospital_id, h.status,
    h.decline_reason, h.decided_at, h.delivered_at IS NOT NULL, h.records_shared";

type RawHandoff = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    bool,
);

fn raw_handoff(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawHandoff> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

fn handoff_row(raw: RawHandoff) -> Result<HandoffRow> {
    let (id, incident, device_id, hospital_id, status, reason, decided_at, delivered, shared) = raw;
    let corrupt = |what: &str| Error::Corrupt(format!("handoff {what}"));
    let status = match (status.as_str(), reason.as_deref()) {
        ("sent", _) => HandoffStatus::Sent { delivered },
        ("accepted", _) => HandoffStatus::Accepted,
        ("withdrawn", _) => HandoffStatus::Withdrawn,
        ("declined", Some(reason)) => HandoffStatus::Declined {
            reason: DeclineReason::parse(reason).ok_or_else(|| corrupt("decline reason"))?,
        },
        _ => return Err(corrupt("status")),
    };
    Ok(HandoffRow {
        id: uuid::Uuid::parse_str(&id).map_err(|_| corrupt("id"))?,
        incident_id: IncidentId(uuid::Uuid::parse_str(&incident).map_err(|_| corrupt("incident"))?),
        device_id,
        hospital_id,
        status,
        decided_at: decided_at.as_deref().map(parse_time).transpose()?,
        records_shared: shared,
        delivered,
    })
}

fn status_code(status: HandoffStatus) -> &'static str {
    match status {
        HandoffStatus::Sent { .. } => "sent",
        HandoffStatus::Accepted => "accepted",
        HandoffStatus::Declined { .. } => "declined",
        HandoffStatus::Withdrawn => "withdrawn",
    }
}

impl Tx<'_> {
    /// Stores a handoff (status `sent`) and queues its arrival notice for the hospital.
    pub fn insert_handoff(
        &self,
        id: uuid::Uuid,
        incident: IncidentId,
        hospital_id: &str,
        records_shared: bool,
        notice_json: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO handoffs (id, incident_id, hospital_id, created_at, records_shared)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.to_string(),
                incident.to_string(),
                hospital_id,
                sortable_time(at),
                records_shared
            ],
        )?;
        self.queue_message(id, hospital_id, OutboxKind::Arrival, notice_json, at)
    }

    fn queue_message(
        &self,
        handoff: uuid::Uuid,
        hospital_id: &str,
        kind: OutboxKind,
        body_json: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO hospital_outbox
                 (handoff_id, hospital_id, kind, body_json, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                handoff.to_string(),
                hospital_id,
                kind.as_str(),
                body_json,
                sortable_time(at),
                // The request that queued it tries first; the deliverer steps in after.
                sortable_time(at + FIRST_ATTEMPT_GRACE),
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// The handoff with this id.
    pub fn handoff(&self, id: uuid::Uuid) -> Result<Option<HandoffRow>> {
        let raw = self
            .tx
            .prepare_cached(&format!(
                "SELECT {HANDOFF_COLUMNS} FROM handoffs h JOIN incidents i ON i.id = h.incident_id
                 WHERE h.id = ?1"
            ))?
            .query_row([id.to_string()], raw_handoff)
            .optional()?;
        raw.map(handoff_row).transpose()
    }

    /// The incident's handoff that still holds the patient (sent or accepted), if any.
    pub fn open_handoff(&self, incident: IncidentId) -> Result<Option<HandoffRow>> {
        let raw = self
            .tx
            .prepare_cached(&format!(
                "SELECT {HANDOFF_COLUMNS} FROM handoffs h JOIN incidents i ON i.id = h.incident_id
                 WHERE h.incident_id = ?1 AND h.status IN ('sent', 'accepted')
                 ORDER BY h.created_at DESC LIMIT 1"
            ))?
            .query_row([incident.to_string()], raw_handoff)
            .optional()?;
        raw.map(handoff_row).transpose()
    }

    /// Moves a handoff from `from` to `to` (the hospital's answer or the crew's
    /// withdrawal). Returns `false`, changing nothing, when it is no longer in `from`.
    pub fn decide_handoff(
        &self,
        id: uuid::Uuid,
        from: HandoffStatus,
        to: HandoffStatus,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let reason = match to {
            HandoffStatus::Declined { reason } => Some(reason.as_str()),
            _ => None,
        };
        let changed = self.tx.execute(
            "UPDATE handoffs SET status = ?3, decline_reason = ?4, decided_at = ?5
             WHERE id = ?1 AND status = ?2",
            params![
                id.to_string(),
                status_code(from),
                status_code(to),
                reason,
                sortable_time(at)
            ],
        )?;
        Ok(changed == 1)
    }

    /// Queues a withdrawal notice for the hospital.
    pub fn queue_withdrawal(
        &self,
        handoff: &HandoffRow,
        body_json: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.queue_message(
            handoff.id,
            &handoff.hospital_id,
            OutboxKind::Withdrawal,
            body_json,
            at,
        )
    }

    /// Undelivered messages due at `now`, oldest first.
    pub fn due_messages(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxMessage>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT id, handoff_id, hospital_id, kind, body_json, attempts FROM hospital_outbox
             WHERE delivered_at IS NULL AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![sortable_time(now), limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (id, handoff, hospital_id, kind, body, attempts) = row?;
            due.push(OutboxMessage {
                id,
                handoff_id: uuid::Uuid::parse_str(&handoff)
                    .map_err(|_| Error::Corrupt("outbox handoff id".into()))?,
                hospital_id,
                kind: OutboxKind::parse(&kind)?,
                body_json: body.ok_or_else(|| Error::Corrupt("outbox body missing".into()))?,
                attempts,
            });
        }
        Ok(due)
    }

    /// When the next undelivered message is due, if any.
    pub fn next_message_due(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = self.tx.query_row(
            "SELECT MIN(next_attempt_at) FROM hospital_outbox WHERE delivered_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        next.as_deref().map(parse_time).transpose()
    }

    /// The hospital acknowledged the message: drop its body; an arrival marks the handoff
    /// delivered. Idempotent.
    pub fn message_delivered(&self, message: &OutboxMessage, at: DateTime<Utc>) -> Result<()> {
        self.tx.execute(
            "UPDATE hospital_outbox SET delivered_at = ?2, body_json = NULL
             WHERE id = ?1 AND delivered_at IS NULL",
            params![message.id, sortable_time(at)],
        )?;
        if message.kind == OutboxKind::Arrival {
            self.tx.execute(
                "UPDATE handoffs SET delivered_at = ?2 WHERE id = ?1 AND delivered_at IS NULL",
                params![message.handoff_id.to_string(), sortable_time(at)],
            )?;
        }
        Ok(())
    }

    /// A delivery attempt failed: try again at `next_attempt_at`.
    pub fn message_failed(&self, id: i64, next_attempt_at: DateTime<Utc>) -> Result<()> {
        self.tx.execute(
            "UPDATE hospital_outbox SET attempts = attempts + 1, next_attempt_at = ?2
             WHERE id = ?1 AND delivered_at IS NULL",
            params![id, sortable_time(next_attempt_at)],
        )?;
        Ok(())
    }
}
