//! Delivering messages to hospitals' hospital-view instances, and telling tablets when a
//! handoff changed.
//!
//! Every message sits in the store's outbox (`hospital_outbox`) from the transaction that
//! created it until the hospital acknowledges it. The request that created it tries once
//! at once; [`run`] retries whatever is still undelivered, with exponential backoff (1 s
//! doubling to 30 s), forever and across restarts: a patient on their way must reach the
//! hospital's screen. hospital-view stores each handoff id once and answers a repeat with
//! 200, so a delivery whose acknowledgement was lost is shown once.
//!
//! # Layout
//! - [`client`]: the HTTP client for hospital-views and the wake-ups around it.

pub mod client;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::OutboxMessage;

pub use crate::store::FIRST_ATTEMPT_GRACE;
pub use client::{HospitalRelay, RelayError};
pub use myna_service::{MAX_RETRY_BACKOFF as MAX_BACKOFF, retry_backoff as backoff};
/// Messages sent per deliverer pass.
const BATCH: u32 = 32;

/// Tries `message` once and records the outcome: delivered, or due again after backoff.
/// Returns whether it was delivered. Storage errors are returned; a failed delivery is not
/// an error (the message stays queued).
pub async fn attempt(state: &AppState, message: OutboxMessage) -> Result<bool> {
    let outcome = match state.config.hospital(&message.hospital_id) {
        Some(hospital) => state.relay.deliver(hospital, &message).await,
        None => Err(RelayError::UnknownHospital(message.hospital_id.clone())),
    };
    let now = state.clock.now();
    match outcome {
        Ok(()) => {
            let delivered = message.clone();
            state
                .store
                .write(move |tx| tx.message_delivered(&delivered, now))
                .await?;
            tracing::info!(handoff = %message.handoff_id, kind = ?message.kind, attempts = message.attempts, "delivered to hospital");
            state.relay.handoff_changed();
            Ok(true)
        }
        Err(error) => {
            tracing::warn!(%error, handoff = %message.handoff_id, kind = ?message.kind, attempts = message.attempts + 1, "delivery to hospital failed; will retry");
            retry_later(state, &message).await?;
            Ok(false)
        }
    }
}

/// Records a failed (or abandoned) attempt at `message`: it is due again after
/// [`backoff`], and the deliverer is woken to plan for it.
pub async fn retry_later(state: &AppState, message: &OutboxMessage) -> Result<()> {
    let wait = backoff(message.attempts);
    let next =
        state.clock.now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
    let id = message.id;
    state
        .store
        .write(move |tx| tx.message_failed(id, next))
        .await?;
    state.relay.wake();
    Ok(())
}

/// One deliverer pass: attempts every due message, concurrently. Returns when the next message is due.
async fn pass(state: &AppState) -> Result<Option<DateTime<Utc>>> {
    let now = state.clock.now();
    let due = state
        .store
        .read(move |tx| tx.due_messages(now, BATCH))
        .await?;
    let mut attempts = tokio::task::JoinSet::new();
    for message in due {
        let state = state.clone();
        attempts.spawn(async move { attempt(&state, message).await });
    }
    while let Some(outcome) = attempts.join_next().await {
        outcome.map_err(|_| Error::Poisoned)??;
    }
    state.store.read(|tx| tx.next_message_due()).await
}

/// Delivers queued messages until `shutdown` completes. Storage errors are logged and
/// retried after [`MAX_BACKOFF`]; nothing here ends the loop but `shutdown`.
pub async fn run(state: AppState, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    loop {
        let wait = match pass(&state).await {
            Ok(Some(due)) => (due - state.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_BACKOFF),
            Ok(None) => MAX_BACKOFF,
            Err(error) => {
                tracing::error!(%error, "hospital outbox pass failed");
                MAX_BACKOFF
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = state.relay.woken() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
