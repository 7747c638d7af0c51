//! [`Delivery`]: sends the outbox to the edge. It owns the store handle and the edge
//! client; the store ([`crate::local::outbox`]) only keeps the queue.
//!
//! A write leaves the queue only when the edge answered: **delivered** (2xx) or
//! **rejected** (a 4xx from the edge itself: it will never take it). A connection
//! failure, timeout, 5xx, 408, 429 or an answer that is not the edge's leaves it
//! **pending**, sent again after a backoff ([`retry`]). The edge deduplicates every kind,
//! so sending twice (the answer was lost after the edge committed, or the app was killed
//! before it marked the write delivered) has the effect of sending once:
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
//! open). Different incidents do not wait for each other. One pass runs at a time per
//! [`Delivery`] (its clones share it): the [`crate::Tablet`] makes one and hands it to
//! every incident it starts.
//!
//! # Layout
//! - [`retry`]: which failures are retried, and the backoff.
//! - `send`: each queued write as its edge call.

pub mod retry;
mod send;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use myna_domain::access::IncidentId;
use myna_domain::summary::EmergencySummary;

use crate::edge::EdgeClient;
use crate::error::MobileError;
use crate::local::LocalStore;
use crate::local::outbox::{Outcome, PendingWrite, Write};
pub use retry::MAX_BACKOFF;

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DeliveryReport {
    /// Writes the edge took.
    pub delivered: u32,
    /// Writes the edge refused for good.
    pub rejected: u32,
    /// Writes still waiting (edge unreachable, or an earlier write of their incident is).
    pub pending: u32,
}

/// The tablet's deliverer: the store's outbox to the edge. Every deliverer of one store,
/// clone or not, runs one pass at a time (the store's outbox gate).
#[derive(Debug, Clone)]
pub struct Delivery {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Arc<LocalStore>,
    edge: EdgeClient,
}

impl Delivery {
    /// A deliverer of `store`'s outbox to `edge`.
    pub fn new(store: Arc<LocalStore>, edge: EdgeClient) -> Self {
        Delivery {
            shared: Arc::new(Shared { store, edge }),
        }
    }

    /// The local store.
    pub fn store(&self) -> &Arc<LocalStore> {
        &self.shared.store
    }

    /// The edge client.
    pub fn edge(&self) -> &EdgeClient {
        &self.shared.edge
    }

    /// Queues `write` for `incident` and wakes the background run; returns its client id.
    pub(crate) fn enqueue(
        &self,
        incident: IncidentId,
        write: &Write,
    ) -> Result<uuid::Uuid, MobileError> {
        let id = self.store().enqueue(incident, write)?;
        self.store().outbox_gate().queued.notify_one();
        Ok(id)
    }

    /// Records that the crew opened the summary copy again (the access and its report for
    /// the edge, on disk before the copy is shown) and wakes the background run.
    pub(crate) fn record_shown_again(
        &self,
        incident: IncidentId,
        crew_member_id: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), MobileError> {
        self.store()
            .record_shown_again(incident, crew_member_id, now)?;
        self.store().outbox_gate().queued.notify_one();
        Ok(())
    }

    /// Queues `write` and sends `incident`'s queue now: `Some(answer)` when the edge took
    /// it, `None` when it waits for signal, the edge's refusal as the error.
    pub(crate) async fn submit(
        &self,
        incident: IncidentId,
        write: Write,
    ) -> Result<Option<String>, MobileError> {
        let item = self.enqueue(incident, &write)?;
        self.settle(incident, item).await
    }

    /// Sends `incident`'s queue now and reports where write `item` stands.
    pub(crate) async fn settle(
        &self,
        incident: IncidentId,
        item: uuid::Uuid,
    ) -> Result<Option<String>, MobileError> {
        self.send_incident_now(incident).await?;
        match self.store().outcome_of(item)? {
            Outcome::Delivered(answer) => Ok(Some(answer)),
            Outcome::Queued(error) => {
                tracing::info!(%incident, %error, "write queued until the edge is reachable");
                Ok(None)
            }
            Outcome::Rejected(error) => Err(error),
        }
    }

    /// Sends `incident`'s queued writes; the reason when some must still wait.
    pub(crate) async fn send_queued(&self, incident: IncidentId) -> Result<(), MobileError> {
        match self.send_incident_now(incident).await? {
            None => Ok(()),
            Some(stuck) => Err(stuck),
        }
    }

    /// Fetches `incident`'s emergency summary for `crew_member_id` and keeps the sealed
    /// copy (and its access record): its queued writes first (the open, the consent),
    /// then the edge, then the store. While the queue cannot be sent, this is the reason.
    pub(crate) async fn fetch_summary(
        &self,
        incident: IncidentId,
        crew_member_id: &str,
    ) -> Result<EmergencySummary, MobileError> {
        self.send_queued(incident).await?;
        let response = self.edge().fetch_summary(incident).await?;
        if response.incident_id != incident {
            return Err(MobileError::EdgeResponseInvalid {
                detail: "response is for another incident".into(),
            });
        }
        self.store()
            .keep_summary(incident, crew_member_id, &response.summary, Utc::now())?;
        Ok(response.summary)
    }

    /// Sends `incident`'s pending writes now, in order, until one cannot be delivered
    /// (backoff is not waited for: the crew acting is the moment to try). `Some(reason)`
    /// when some must still wait; rejected writes are recorded and passed over.
    pub(crate) async fn send_incident_now(
        &self,
        incident: IncidentId,
    ) -> Result<Option<MobileError>, MobileError> {
        let _one_pass = self.store().outbox_gate().pass.lock().await;
        while let Some(head) = self.store().outbox_head(incident, None)? {
            if let Outcome::Queued(reason) = self.attempt(&head).await? {
                return Ok(Some(reason));
            }
        }
        Ok(None)
    }

    /// One background pass: for every incident whose oldest pending write is due (its
    /// backoff has ended), sends its writes in order until one cannot be delivered.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, MobileError> {
        self.deliver(true).await
    }

    /// Like [`Self::deliver_due`], without waiting for backoffs: for when the platform
    /// reports that the network is back.
    pub async fn deliver_now(&self) -> Result<DeliveryReport, MobileError> {
        self.deliver(false).await
    }

    async fn deliver(&self, due_only: bool) -> Result<DeliveryReport, MobileError> {
        let _one_pass = self.store().outbox_gate().pass.lock().await;
        let now = Utc::now();
        self.store().wipe_expired(now)?;
        let mut report = DeliveryReport::default();
        'incidents: for incident in self.store().incidents_with_pending()? {
            let mut due = due_only.then_some(now);
            while let Some(head) = self.store().outbox_head(incident, due)? {
                // Once the head went through, the rest of the incident follows at once.
                due = None;
                match self.attempt(&head).await? {
                    Outcome::Delivered(_) => report.delivered += 1,
                    Outcome::Rejected(_) => report.rejected += 1,
                    // No connection: every other incident would wait out the same timeout
                    // while holding up the crew's next action; end the pass.
                    Outcome::Queued(MobileError::EdgeUnreachable { .. }) => break 'incidents,
                    Outcome::Queued(_) => break,
                }
            }
        }
        report.pending = self.store().pending_count()?;
        Ok(report)
    }

    /// Runs [`Self::deliver_due`] whenever something is queued or a backoff ends, until
    /// `stop` completes. Also wipes summary copies past their time limit. Storage failures
    /// are logged and retried on the next pass.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        loop {
            let wait = match self.deliver_due().await {
                Ok(_) => self.next_due_in().unwrap_or(MAX_BACKOFF),
                Err(error) => {
                    // The store itself failed (disk full): try again later, not in a loop.
                    tracing::error!(%error, "outbox delivery pass failed");
                    MAX_BACKOFF / 4
                }
            };
            tokio::select! {
                () = &mut stop => return,
                () = self.store().outbox_gate().queued.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Time until the earliest pending write is due, if any is pending.
    pub(crate) fn next_due_in(&self) -> Option<Duration> {
        self.store().next_due_ms().map(|ms| {
            let wait = ms - Utc::now().timestamp_millis();
            Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(MAX_BACKOFF)
        })
    }

    /// Sends one write and records the outcome.
    async fn attempt(&self, item: &PendingWrite) -> Result<Outcome, MobileError> {
        let result = send::send(self.edge(), item.incident, &item.write).await;
        let now = Utc::now();
        let kind = crate::local::outbox::tag(item.write.kind());
        match result {
            Ok(response) => {
                self.store().mark_delivered(item.id, &response, now)?;
                tracing::info!(write = %item.id, kind, "queued write delivered");
                Ok(Outcome::Delivered(response))
            }
            Err(error) if retry::retryable(&error) => {
                let wait = retry::backoff(item.attempts);
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                self.store().mark_retry(item.id, &error, next)?;
                tracing::info!(write = %item.id, attempts = item.attempts + 1, ?wait, "write kept for retry");
                Ok(Outcome::Queued(error.into()))
            }
            Err(error) => {
                self.store().mark_rejected(item.id, &error, true, now)?;
                tracing::warn!(write = %item.id, kind, %error, "queued write rejected by the edge");
                Ok(Outcome::Rejected(error.into()))
            }
        }
    }
}
