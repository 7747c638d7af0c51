//! The outbox's SQL: every write for the edge goes through a durable queue in the local
//! store. This module only stores and reads; sending, retry classification and backoff
//! are [`crate::delivery`]'s.
//!
//! A write is stored (sealed, with a client-generated UUIDv7) before anything is sent, and
//! leaves the queue only when the edge answered: **delivered** (its answer kept, sealed)
//! or **rejected** (the edge will never take it; kept with the edge's reason for the crew
//! to see). Until then it is **pending**, with its attempts, its next attempt time and the
//! last failure.
//!
//! Order: `LocalStore::outbox_head` is always an incident's oldest pending write, so a
//! deliverer that sends only heads sends an incident's writes in the order they were
//! queued (consent never overtakes the open). Different incidents do not wait for each
//! other.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use myna_domain::access::IncidentId;
use myna_domain::wire::{ConsentRequest, DeviceViewReport, HandoffRequest, OpenIncidentRequest};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::store::{LocalStore, context, parse_incident, parse_time, rfc3339, storage};
use crate::edge::EdgeError;
use crate::error::MobileError;

/// What kind of write a [`QueuedWrite`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// Opening the incident (identity evidence).
    OpenIncident,
    /// The consent decision.
    Consent,
    /// A handoff to a hospital.
    Handoff,
    /// Withdrawing a handoff.
    Withdrawal,
    /// A report that the crew opened the summary copy again.
    SummaryShownAgain,
}

/// Where a queued write stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum WriteState {
    /// Not delivered yet; sent again after `next_attempt_at`.
    Pending {
        /// Attempts so far.
        attempts: u32,
        /// When it is sent next, unless the crew acts on the incident first.
        next_attempt_at: SystemTime,
        /// Why the last attempt failed, for logs.
        last_error: Option<String>,
    },
    /// The edge has it.
    Delivered {
        /// When the edge answered.
        at: SystemTime,
    },
    /// The edge refused it for good; the crew should see why.
    Rejected {
        /// The crew-facing message.
        message: String,
    },
}

/// A write in the outbox, for the app's "waiting to send" list. No personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QueuedWrite {
    /// Client-generated id (UUIDv7).
    pub id: String,
    /// Incident id.
    pub incident_id: String,
    /// What it is.
    pub kind: WriteKind,
    /// When it was queued.
    pub queued_at: SystemTime,
    /// Where it stands.
    pub state: WriteState,
    /// For a handoff or a withdrawal: the handoff's id, so an app restarted mid-scene can
    /// follow the hospital's answer or withdraw it.
    pub handoff_id: Option<String>,
}

/// A write for the edge, as queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub(crate) enum Write {
    OpenIncident(OpenIncidentRequest),
    Consent(ConsentRequest),
    Handoff(HandoffRequest),
    Withdraw { handoff_id: uuid::Uuid },
    DeviceView(DeviceViewReport),
}

impl Write {
    /// What kind of write this is.
    pub(crate) fn kind(&self) -> WriteKind {
        match self {
            Write::OpenIncident(_) => WriteKind::OpenIncident,
            Write::Consent(_) => WriteKind::Consent,
            Write::Handoff(_) => WriteKind::Handoff,
            Write::Withdraw { .. } => WriteKind::Withdrawal,
            Write::DeviceView(_) => WriteKind::SummaryShownAgain,
        }
    }
}

/// The tag a kind is stored under.
pub(crate) fn tag(kind: WriteKind) -> &'static str {
    match kind {
        WriteKind::OpenIncident => "open_incident",
        WriteKind::Consent => "consent",
        WriteKind::Handoff => "handoff",
        WriteKind::Withdrawal => "withdraw",
        WriteKind::SummaryShownAgain => "device_view",
    }
}

fn from_tag(stored: &str) -> Option<WriteKind> {
    [
        WriteKind::OpenIncident,
        WriteKind::Consent,
        WriteKind::Handoff,
        WriteKind::Withdrawal,
        WriteKind::SummaryShownAgain,
    ]
    .into_iter()
    .find(|kind| tag(*kind) == stored)
}

/// The outcome of one write, for the action that queued it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Delivered: the edge's answer (JSON).
    Delivered(String),
    /// Still queued: the edge could not be reached (or answered 5xx).
    Queued(MobileError),
    /// Refused for good by the edge.
    Rejected(MobileError),
}

/// One pending row of the outbox, opened.
#[derive(Debug)]
pub(crate) struct PendingWrite {
    /// Client id.
    pub(crate) id: uuid::Uuid,
    /// Its incident.
    pub(crate) incident: IncidentId,
    /// The write.
    pub(crate) write: Write,
    /// Attempts so far.
    pub(crate) attempts: u32,
}

impl LocalStore {
    /// Queues `write` for `incident` inside `tx`; returns its client id.
    pub(super) fn enqueue_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        incident: IncidentId,
        write: &Write,
        now: DateTime<Utc>,
    ) -> Result<uuid::Uuid, MobileError> {
        let id = uuid::Uuid::now_v7();
        let json = zeroize::Zeroizing::new(serde_json::to_vec(write).map_err(storage)?);
        let body = self.sealer.seal(&json, &context("write", id))?;
        tx.execute(
            "INSERT INTO outbox (id, incident_id, kind, body, created_at, next_attempt_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id.to_string(),
                incident.to_string(),
                tag(write.kind()),
                body,
                rfc3339(now),
                now.timestamp_millis()
            ],
        )
        .map_err(storage)?;
        Ok(id)
    }

    /// Queues `write` on its own; returns its client id.
    pub(crate) fn enqueue(
        &self,
        incident: IncidentId,
        write: &Write,
    ) -> Result<uuid::Uuid, MobileError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(storage)?;
        let id = self.enqueue_in(&tx, incident, write, Utc::now())?;
        tx.commit().map_err(storage)?;
        Ok(id)
    }

    /// The newest write of `kind` for `incident` that the edge has or may still take
    /// (pending or delivered; not rejected).
    pub(crate) fn live_write(
        &self,
        incident: IncidentId,
        kind: WriteKind,
    ) -> Result<Option<uuid::Uuid>, MobileError> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM outbox WHERE incident_id = ?1 AND kind = ?2
                   AND state <> 'rejected' ORDER BY seq DESC LIMIT 1",
                params![incident.to_string(), tag(kind)],
                |r| r.get(0),
            )
            .optional()
            .map_err(storage)?;
        id.map(|id| id.parse().map_err(storage)).transpose()
    }

    /// Where write `id` stands: its answer once delivered, the last failure while
    /// pending, the edge's refusal once rejected.
    pub(crate) fn outcome_of(&self, id: uuid::Uuid) -> Result<Outcome, MobileError> {
        let (state, last_error, response) = self
            .conn()
            .query_row(
                "SELECT state, last_error, response FROM outbox WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<Vec<u8>>>(2)?,
                    ))
                },
            )
            .map_err(storage)?;
        let error = || {
            MobileError::from(last_error.as_deref().map_or(
                EdgeError::Unreachable {
                    message: "not sent yet".into(),
                },
                stored_error,
            ))
        };
        Ok(match (state.as_str(), response) {
            ("delivered", Some(sealed)) => {
                let json = self.sealer.open(&sealed, &context("response", id))?;
                Outcome::Delivered(String::from_utf8(json.to_vec()).map_err(storage)?)
            }
            ("rejected", _) => Outcome::Rejected(error()),
            _ => Outcome::Queued(error()),
        })
    }

    /// Every write queued for `incident`, oldest first (all incidents when `None`).
    pub fn queued_writes(
        &self,
        incident: Option<IncidentId>,
    ) -> Result<Vec<QueuedWrite>, MobileError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare(
                "SELECT id, incident_id, kind, created_at, attempts, next_attempt_ms, state,
                        last_error, done_at, body
                 FROM outbox WHERE ?1 IS NULL OR incident_id = ?1 ORDER BY seq",
            )
            .map_err(storage)?;
        let rows = statement
            .query_map([incident.map(|i| i.to_string())], |r| {
                let state: String = r.get(6)?;
                let last_error: Option<String> = r.get(7)?;
                let state = match state.as_str() {
                    "pending" => WriteState::Pending {
                        attempts: r.get(4)?,
                        next_attempt_at: DateTime::from_timestamp_millis(r.get(5)?)
                            .unwrap_or_default()
                            .into(),
                        last_error: last_error.map(|e| stored_error(&e).to_string()),
                    },
                    "delivered" => WriteState::Delivered {
                        at: r
                            .get::<_, Option<String>>(8)?
                            .map_or(SystemTime::UNIX_EPOCH, |at| parse_time(&at)),
                    },
                    _ => WriteState::Rejected {
                        message: last_error
                            .map(|e| MobileError::from(stored_error(&e)).to_string())
                            .unwrap_or_default(),
                    },
                };
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    state,
                    r.get::<_, Vec<u8>>(9)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(storage)?;
        rows.into_iter()
            .map(|(id, incident_id, kind, queued_at, state, body)| {
                let kind = from_tag(&kind).ok_or_else(|| storage("unknown write kind"))?;
                let handoff_id = match kind {
                    WriteKind::Handoff | WriteKind::Withdrawal => self.handoff_id_in(&id, &body),
                    _ => None,
                };
                Ok(QueuedWrite {
                    id,
                    incident_id,
                    kind,
                    queued_at: parse_time(&queued_at),
                    state,
                    handoff_id,
                })
            })
            .collect()
    }

    /// The handoff id inside a sealed handoff or withdrawal body (`None` if unreadable).
    fn handoff_id_in(&self, id: &str, body: &[u8]) -> Option<String> {
        let json = self.sealer.open(body, &context("write", id)).ok()?;
        match serde_json::from_slice(&json).ok()? {
            Write::Handoff(request) => request.handoff_id.map(|h| h.to_string()),
            Write::Withdraw { handoff_id } => Some(handoff_id.to_string()),
            _ => None,
        }
    }

    /// Writes not delivered yet, all incidents.
    pub fn pending_count(&self) -> Result<u32, MobileError> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM outbox WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .map_err(storage)
    }

    /// Records that the edge took write `id` with `response` (JSON, kept sealed), and
    /// that the access record it reported (if any) is on the edge now.
    pub(crate) fn mark_delivered(
        &self,
        id: uuid::Uuid,
        response: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MobileError> {
        let sealed = self
            .sealer
            .seal(response.as_bytes(), &context("response", id))?;
        let conn = self.conn();
        conn.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1,
               response = ?2, done_at = ?3, done_ms = ?4, last_error = NULL
             WHERE id = ?1",
            params![id.to_string(), sealed, rfc3339(now), now.timestamp_millis()],
        )
        .map_err(storage)?;
        conn.execute(
            "UPDATE access_records SET on_edge = 1 WHERE outbox_id = ?1",
            [id.to_string()],
        )
        .map_err(storage)?;
        Ok(())
    }

    /// Records a failed attempt of write `id` that may pass with time: sent again from
    /// `next`.
    pub(crate) fn mark_retry(
        &self,
        id: uuid::Uuid,
        error: &EdgeError,
        next: DateTime<Utc>,
    ) -> Result<(), MobileError> {
        self.conn()
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2,
                   last_error = ?3 WHERE id = ?1",
                params![id.to_string(), next.timestamp_millis(), store_error(error)],
            )
            .map_err(storage)?;
        Ok(())
    }

    /// Records that the edge refused write `id` for good (`attempted`: it was sent; a
    /// write set aside unread was not).
    pub(crate) fn mark_rejected(
        &self,
        id: uuid::Uuid,
        error: &EdgeError,
        attempted: bool,
        now: DateTime<Utc>,
    ) -> Result<(), MobileError> {
        self.conn()
            .execute(
                "UPDATE outbox SET state = 'rejected', attempts = attempts + ?5,
                   last_error = ?2, done_at = ?3, done_ms = ?4 WHERE id = ?1",
                params![
                    id.to_string(),
                    store_error(error),
                    rfc3339(now),
                    now.timestamp_millis(),
                    u32::from(attempted)
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    /// The oldest pending write of `incident`; with `due`, only if its next attempt time
    /// has come. A write that cannot be opened (damaged, or from an incompatible version)
    /// can never be sent: it is set aside as rejected with the reason, so it neither
    /// blocks the incident's later writes nor spins the deliverer, and the next one is
    /// returned.
    pub(crate) fn outbox_head(
        &self,
        incident: IncidentId,
        due: Option<DateTime<Utc>>,
    ) -> Result<Option<PendingWrite>, MobileError> {
        loop {
            let row = self
                .conn()
                .query_row(
                    "SELECT id, body, attempts, next_attempt_ms FROM outbox
                     WHERE state = 'pending' AND incident_id = ?1 ORDER BY seq LIMIT 1",
                    [incident.to_string()],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, u32>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(storage)?;
            let Some((id, body, attempts, next_ms)) = row else {
                return Ok(None);
            };
            if due.is_some_and(|now| next_ms > now.timestamp_millis()) {
                return Ok(None);
            }
            let id: uuid::Uuid = id.parse().map_err(storage)?;
            let write = self
                .sealer
                .open(&body, &context("write", id))
                .and_then(|json| serde_json::from_slice(&json).map_err(storage));
            match write {
                Ok(write) => {
                    return Ok(Some(PendingWrite {
                        id,
                        incident,
                        write,
                        attempts,
                    }));
                }
                Err(error) => {
                    tracing::error!(write = %id, %error, "queued write unreadable; set aside");
                    let unreadable = EdgeError::InvalidResponse {
                        message: "unreadable on this tablet".into(),
                    };
                    self.mark_rejected(id, &unreadable, false, Utc::now())?;
                }
            }
        }
    }

    /// Incidents with a pending write, the one with the oldest first.
    pub(crate) fn incidents_with_pending(&self) -> Result<Vec<IncidentId>, MobileError> {
        let ids: Vec<String> = {
            let conn = self.conn();
            let mut statement = conn
                .prepare(
                    "SELECT incident_id FROM outbox WHERE state = 'pending'
                     GROUP BY incident_id ORDER BY min(seq)",
                )
                .map_err(storage)?;
            statement
                .query_map([], |r| r.get(0))
                .and_then(Iterator::collect)
                .map_err(storage)?
        };
        ids.iter().map(|id| parse_incident(id)).collect()
    }

    /// When the earliest pending write is due (ms since the epoch), if any is pending.
    /// Only each incident's oldest pending write counts: the ones behind it wait for it,
    /// whatever their own time.
    pub(crate) fn next_due_ms(&self) -> Option<i64> {
        self.conn()
            .query_row(
                "SELECT min(next_attempt_ms) FROM outbox o WHERE state = 'pending' AND seq =
                   (SELECT min(seq) FROM outbox WHERE state = 'pending'
                    AND incident_id = o.incident_id)",
                [],
                |r| r.get(0),
            )
            .ok()
            .flatten()
    }
}

fn store_error(error: &EdgeError) -> String {
    serde_json::to_string(error).unwrap_or_default()
}

fn stored_error(json: &str) -> EdgeError {
    serde_json::from_str(json).unwrap_or(EdgeError::InvalidResponse {
        message: "unreadable stored error".into(),
    })
}
