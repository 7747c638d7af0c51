//! The outbox: every write for the edge goes through a durable queue in the local store.
//!
//! A write is stored (sealed, with a client-generated UUIDv7) before anything is sent, and
//! leaves it only when the edge answered: **delivered** (2xx) or **rejected** (a 4xx: the
//! edge will never take it; kept with the edge's reason for the crew to see). A connection
//! failure, timeout, 5xx, 408 or 429 leaves it **pending**, to be sent again after a
//! backoff. The edge deduplicates every kind, so sending twice (the answer was lost after
//! the edge committed, or the app was killed before it marked the write delivered) has the
//! effect of sending once:
//!
//! | Write | Edge route | Deduplicated by |
//! |---|---|---|
//! | open incident | `POST /v1/incidents` | incident id (same device and patient) |
//! | consent | `PUT /v1/incidents/{id}/consent` | the same decision again is a no-op |
//! | handoff | `POST /v1/incidents/{id}/handoff` | the tablet's handoff id |
//! | withdrawal | `POST /v1/handoffs/{id}/withdraw` | a withdrawn handoff stays withdrawn |
//! | summary shown again | `POST /v1/incidents/{id}/device-views` | the view id (= the access record's id) |
//!
//! Order: an incident's writes leave in the order they were queued, and a write waits
//! while an earlier one of the same incident is pending (consent must not overtake the
//! open). Different incidents do not wait for each other.

use std::time::Duration;

use chrono::{DateTime, Utc};
use myna_domain::access::IncidentId;
use myna_domain::wire::{ConsentRequest, DeviceViewReport, HandoffRequest, OpenIncidentRequest};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{LocalStore, context, parse_incident, rfc3339, storage};
use crate::MobileError;
use crate::edge::{EdgeClient, EdgeError};

/// Longest wait between two attempts of one write.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

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
    fn kind(&self) -> WriteKind {
        match self {
            Write::OpenIncident(_) => WriteKind::OpenIncident,
            Write::Consent(_) => WriteKind::Consent,
            Write::Handoff(_) => WriteKind::Handoff,
            Write::Withdraw { .. } => WriteKind::Withdrawal,
            Write::DeviceView(_) => WriteKind::SummaryShownAgain,
        }
    }

    /// Sends the write; the edge's answer as JSON, to keep for the caller.
    async fn send(&self, edge: &EdgeClient, incident: IncidentId) -> Result<String, EdgeError> {
        let json = |value: Result<_, EdgeError>| value.map(|v: serde_json::Value| v.to_string());
        match self {
            Write::OpenIncident(request) => json(edge.open_incident(request).await.map(to_value)),
            Write::Consent(request) => {
                json(edge.record_consent(incident, request).await.map(to_value))
            }
            Write::Handoff(request) => json(edge.hand_off(incident, request).await.map(to_value)),
            Write::Withdraw { handoff_id } => {
                json(edge.withdraw_handoff(*handoff_id).await.map(to_value))
            }
            Write::DeviceView(report) => json(
                edge.report_device_view(incident, report)
                    .await
                    .map(to_value),
            ),
        }
    }
}

fn to_value(value: impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// What kind of write a [`QueuedWrite`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl WriteKind {
    fn tag(self) -> &'static str {
        match self {
            WriteKind::OpenIncident => "open_incident",
            WriteKind::Consent => "consent",
            WriteKind::Handoff => "handoff",
            WriteKind::Withdrawal => "withdraw",
            WriteKind::SummaryShownAgain => "device_view",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        [
            WriteKind::OpenIncident,
            WriteKind::Consent,
            WriteKind::Handoff,
            WriteKind::Withdrawal,
            WriteKind::SummaryShownAgain,
        ]
        .into_iter()
        .find(|kind| kind.tag() == tag)
    }
}

/// Where a queued write stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteState {
    /// Not delivered yet; sent again after `next_attempt_at`.
    Pending {
        /// Attempts so far.
        attempts: u32,
        /// When it is sent next (RFC 3339), unless the crew acts on the incident first.
        next_attempt_at: String,
        /// Why the last attempt failed, for logs.
        last_error: Option<String>,
    },
    /// The edge has it.
    Delivered {
        /// When the edge answered (RFC 3339).
        at: String,
    },
    /// The edge refused it for good; the crew should see why.
    Rejected {
        /// The crew-facing message.
        message: String,
    },
}

/// A write in the outbox, for the app's "waiting to send" list. No personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedWrite {
    /// Client-generated id (UUIDv7).
    pub id: String,
    /// Incident id.
    pub incident_id: String,
    /// What it is.
    pub kind: WriteKind,
    /// When it was queued (RFC 3339).
    pub queued_at: String,
    /// Where it stands.
    pub state: WriteState,
    /// For a handoff or a withdrawal: the handoff's id, so an app restarted mid-scene can
    /// follow the hospital's answer or withdraw it.
    pub handoff_id: Option<String>,
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Writes the edge took.
    pub delivered: u32,
    /// Writes the edge refused for good.
    pub rejected: u32,
    /// Writes still waiting (edge unreachable, or an earlier write of their incident is).
    pub pending: u32,
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

/// One row of the outbox.
struct Item {
    id: uuid::Uuid,
    incident: IncidentId,
    write: Write,
    attempts: u32,
}

/// Whether a failure may pass with time. Only the edge itself refusing the write for good
/// is final: a 4xx carrying the edge's own error body (a revoked card's 403, an unknown
/// incident's 404, a conflict), other than "not signed in" (401: a device token or
/// certificate being renewed must not cost the queue). Everything else is
/// retried: no connection, a timeout, a server error, being told to slow down, and any
/// answer that is not the edge's (a captive portal's redirect or page, a proxy's 407, a
/// gateway's bare 404), since the edge never saw the write.
fn retryable(error: &EdgeError) -> bool {
    match error {
        EdgeError::Unreachable { .. }
        | EdgeError::InvalidResponse { .. }
        | EdgeError::Configuration { .. } => true,
        EdgeError::Rejected { status, code, .. } => {
            let from_the_edge = !code.starts_with("http_");
            let final_refusal = (400..500).contains(status) && !matches!(status, 401 | 408 | 429);
            !(from_the_edge && final_refusal)
        }
    }
}

/// Wait before attempt `attempts + 1`: 1 s doubling to [`MAX_BACKOFF`], each wait drawn
/// from its upper half, so a thousand tablets coming back under one cell tower do not
/// retry in lockstep. (Hand-written: a shift and a random draw; the backoff crates bring
/// a runtime abstraction we do not need.)
pub(crate) fn backoff(attempts: u32) -> Duration {
    use chacha20poly1305::aead::rand_core::RngCore;
    let full = Duration::from_secs(1u64 << attempts.min(6)).min(MAX_BACKOFF);
    let half = full / 2;
    let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_millis(chacha20poly1305::aead::OsRng.next_u64() % spread)
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
                write.kind().tag(),
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
        drop(conn);
        self.queued.notify_one();
        Ok(id)
    }

    /// Sends `incident`'s pending writes now, in order, until one cannot be delivered
    /// (backoff is not waited for: the crew acting is the moment to try). `Some(reason)`
    /// when some must still wait; rejected writes are recorded and passed over.
    pub(crate) async fn send_incident_now(
        &self,
        edge: &EdgeClient,
        incident: IncidentId,
    ) -> Result<Option<MobileError>, MobileError> {
        let _one_pass = self.delivery.lock().await;
        while let Some(head) = self.head(incident, None)? {
            if let Outcome::Queued(reason) = self.attempt(edge, &head).await? {
                return Ok(Some(reason));
            }
        }
        Ok(None)
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
                params![incident.to_string(), kind.tag()],
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

    /// One background pass: for every incident whose oldest pending write is due (its
    /// backoff has ended), sends its writes in order until one cannot be delivered.
    pub async fn deliver_due(&self, edge: &EdgeClient) -> Result<DeliveryReport, MobileError> {
        self.deliver(edge, true).await
    }

    /// Like [`Self::deliver_due`], without waiting for backoffs: for when the platform
    /// reports that the network is back.
    pub async fn deliver_now(&self, edge: &EdgeClient) -> Result<DeliveryReport, MobileError> {
        self.deliver(edge, false).await
    }

    async fn deliver(
        &self,
        edge: &EdgeClient,
        due_only: bool,
    ) -> Result<DeliveryReport, MobileError> {
        let _one_pass = self.delivery.lock().await;
        let now = Utc::now();
        self.wipe_expired(now)?;
        let mut report = DeliveryReport::default();
        'incidents: for incident in self.incidents_with_pending()? {
            let mut due = due_only.then_some(now);
            while let Some(head) = self.head(incident, due)? {
                // Once the head went through, the rest of the incident follows at once.
                due = None;
                match self.attempt(edge, &head).await? {
                    Outcome::Delivered(_) => report.delivered += 1,
                    Outcome::Rejected(_) => report.rejected += 1,
                    // No connection: every other incident would wait out the same timeout
                    // while holding up the crew's next action; end the pass.
                    Outcome::Queued(MobileError::EdgeUnreachable { .. }) => break 'incidents,
                    Outcome::Queued(_) => break,
                }
            }
        }
        report.pending = self.pending_count()?;
        Ok(report)
    }

    /// Runs [`Self::deliver_due`] whenever something is queued or a backoff ends, until
    /// `stop` completes. Storage failures are logged and retried on the next pass.
    pub async fn run_delivery(
        &self,
        edge: &EdgeClient,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mut stop = std::pin::pin!(stop);
        loop {
            let wait = match self.deliver_due(edge).await {
                Ok(_) => self.next_due_in().unwrap_or(MAX_BACKOFF),
                Err(error) => {
                    // The store itself failed (disk full): try again later, not in a loop.
                    tracing::error!(%error, "outbox delivery pass failed");
                    MAX_BACKOFF / 4
                }
            };
            tokio::select! {
                () = &mut stop => return,
                () = self.queued.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
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
                            .map(rfc3339)
                            .unwrap_or_default(),
                        last_error: last_error.map(|e| stored_error(&e).to_string()),
                    },
                    "delivered" => WriteState::Delivered {
                        at: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
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
                    r.get(3)?,
                    state,
                    r.get::<_, Vec<u8>>(9)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(storage)?;
        rows.into_iter()
            .map(|(id, incident_id, kind, queued_at, state, body)| {
                let kind =
                    WriteKind::from_tag(&kind).ok_or_else(|| storage("unknown write kind"))?;
                let handoff_id = match kind {
                    WriteKind::Handoff | WriteKind::Withdrawal => self.handoff_id_in(&id, &body),
                    _ => None,
                };
                Ok(QueuedWrite {
                    id,
                    incident_id,
                    kind,
                    queued_at,
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

    /// Sends one write and records the outcome.
    async fn attempt(&self, edge: &EdgeClient, item: &Item) -> Result<Outcome, MobileError> {
        let result = item.write.send(edge, item.incident).await;
        let now = Utc::now();
        let conn = self.conn();
        match result {
            Ok(response) => {
                let sealed = self
                    .sealer
                    .seal(response.as_bytes(), &context("response", item.id))?;
                conn.execute(
                    "UPDATE outbox SET state = 'delivered', attempts = attempts + 1,
                       response = ?2, done_at = ?3, done_ms = ?4, last_error = NULL
                     WHERE id = ?1",
                    params![
                        item.id.to_string(),
                        sealed,
                        rfc3339(now),
                        now.timestamp_millis()
                    ],
                )
                .map_err(storage)?;
                conn.execute(
                    "UPDATE access_records SET on_edge = 1 WHERE outbox_id = ?1",
                    [item.id.to_string()],
                )
                .map_err(storage)?;
                tracing::info!(write = %item.id, kind = item.write.kind().tag(), "queued write delivered");
                Ok(Outcome::Delivered(response))
            }
            Err(error) if retryable(&error) => {
                let wait = backoff(item.attempts);
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2,
                       last_error = ?3 WHERE id = ?1",
                    params![
                        item.id.to_string(),
                        next.timestamp_millis(),
                        store_error(&error)
                    ],
                )
                .map_err(storage)?;
                tracing::info!(write = %item.id, attempts = item.attempts + 1, ?wait, "write kept for retry");
                Ok(Outcome::Queued(error.into()))
            }
            Err(error) => {
                conn.execute(
                    "UPDATE outbox SET state = 'rejected', attempts = attempts + 1,
                       last_error = ?2, done_at = ?3, done_ms = ?4 WHERE id = ?1",
                    params![
                        item.id.to_string(),
                        store_error(&error),
                        rfc3339(now),
                        now.timestamp_millis()
                    ],
                )
                .map_err(storage)?;
                tracing::warn!(write = %item.id, kind = item.write.kind().tag(), %error, "queued write rejected by the edge");
                Ok(Outcome::Rejected(error.into()))
            }
        }
    }

    /// The oldest pending write of `incident`; with `due`, only if its backoff has ended.
    fn head(
        &self,
        incident: IncidentId,
        due: Option<DateTime<Utc>>,
    ) -> Result<Option<Item>, MobileError> {
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
            Ok(write) => Ok(Some(Item {
                id,
                incident,
                write,
                attempts,
            })),
            Err(error) => {
                // Damaged or from an incompatible version: it can never be sent. Set it
                // aside, listed as rejected with the reason, so it neither blocks the
                // incident's later writes nor spins the deliverer.
                tracing::error!(write = %id, %error, "queued write unreadable; set aside");
                let unreadable = EdgeError::InvalidResponse {
                    message: "unreadable on this tablet".into(),
                };
                let now = Utc::now();
                self.conn()
                    .execute(
                        "UPDATE outbox SET state = 'rejected', last_error = ?2, done_at = ?3,
                           done_ms = ?4 WHERE id = ?1",
                        params![
                            id.to_string(),
                            store_error(&unreadable),
                            rfc3339(now),
                            now.timestamp_millis()
                        ],
                    )
                    .map_err(storage)?;
                self.head(incident, due)
            }
        }
    }

    fn incidents_with_pending(&self) -> Result<Vec<IncidentId>, MobileError> {
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

    /// Time until the earliest pending write is due, if any is pending.
    pub(crate) fn next_due_in(&self) -> Option<Duration> {
        let next: Option<i64> = self
            .conn()
            .query_row(
                // Only each incident's oldest pending write counts: the ones behind it wait
                // for it, whatever their own time.
                "SELECT min(next_attempt_ms) FROM outbox o WHERE state = 'pending' AND seq =
                   (SELECT min(seq) FROM outbox WHERE state = 'pending'
                    AND incident_id = o.incident_id)",
                [],
                |r| r.get(0),
            )
            .ok()
            .flatten();
        next.map(|ms| {
            let wait = ms - Utc::now().timestamp_millis();
            Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(MAX_BACKOFF)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_minute_with_jitter_in_the_upper_half() {
        for attempts in 0..12 {
            let full = Duration::from_secs(1u64 << attempts.min(6)).min(MAX_BACKOFF);
            for _ in 0..50 {
                let wait = backoff(attempts);
                assert!(wait >= full / 2 && wait < full, "{attempts}: {wait:?}");
            }
        }
        assert!(backoff(u32::MAX) <= MAX_BACKOFF);
    }

    #[test]
    fn only_the_edge_refusing_for_good_is_final() {
        let answer = |status, code: &str| EdgeError::Rejected {
            status,
            code: code.into(),
            message: "x".into(),
        };
        assert!(retryable(&EdgeError::Unreachable {
            message: "no signal".into()
        }));
        // The edge's own refusals are final…
        for status in [403, 404, 409, 422] {
            assert!(
                !retryable(&answer(status, "incident_not_found")),
                "{status}"
            );
        }
        // …except slow down and not signed in; and anything not from the edge is retried.
        for (status, code) in [
            (503, "storage_unavailable"),
            (429, "rate_limited"),
            (408, "http_408"),
            (401, "unauthorized"),
            (302, "http_302"),
            (404, "http_404"),
            (407, "http_407"),
        ] {
            assert!(retryable(&answer(status, code)), "{status} {code}");
        }
    }
}
