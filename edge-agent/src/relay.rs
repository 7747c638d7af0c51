//! Delivering messages to hospitals' hospital-view instances, and telling tablets when a
//! handoff changed.
//!
//! Every message sits in the store's outbox (`hospital_outbox`) from the transaction that
//! created it until the hospital acknowledges it. The request that created it tries once
//! at once; [`run`] retries whatever is still undelivered, with exponential backoff (1 s
//! doubling to 30 s), forever and across restarts: a patient on their way must reach the
//! hospital's screen. hospital-view stores each handoff id once and answers a repeat with
//! 200, so a delivery whose acknowledgement was lost is shown once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use crate::config::{HospitalEndpoint, RelayTls};
use crate::store::{OutboxKind, OutboxMessage};
use crate::{AppState, Error, Result};

/// How long the deliverer leaves a new message to the request that created it.
pub const FIRST_ATTEMPT_GRACE: Duration = Duration::from_secs(15);
pub use myna_service::{MAX_RETRY_BACKOFF as MAX_BACKOFF, retry_backoff as backoff};
/// Messages sent per deliverer pass.
const BATCH: u32 = 32;

/// Why a delivery failed. Carries no message content.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Could not connect or the connection dropped.
    #[error("hospital unreachable: {0}")]
    Unreachable(String),
    /// The hospital answered with an error status.
    #[error("hospital answered {0}")]
    Rejected(u16),
    /// The message names a hospital no longer configured.
    #[error("hospital {0} not configured")]
    UnknownHospital(String),
}

/// HTTP client for hospital-view instances, the deliverer's wake-up, and the handoff
/// change counter tablets wait on.
#[derive(Clone)]
pub struct HospitalRelay {
    client: reqwest::Client,
    wake: Arc<Notify>,
    changes: Arc<watch::Sender<u64>>,
}

impl HospitalRelay {
    /// Builds the client (connect 3 s, whole request 10 s). With `tls`, `https://`
    /// hospital-views must present a certificate chaining to one of its CAs (no public
    /// root), and the edge presents its client certificate; `http://` URLs still work.
    pub fn new(tls: Option<&RelayTls>) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10));
        if let Some(tls) = tls {
            if tls.hospital_ca_ders.is_empty() {
                return Err(Error::Config("relay TLS needs a hospital CA".into()));
            }
            builder = builder.tls_built_in_root_certs(false);
            for der in &tls.hospital_ca_ders {
                let ca = reqwest::Certificate::from_der(der)
                    .map_err(|_| Error::Config("hospital CA certificate is not DER".into()))?;
                builder = builder.add_root_certificate(ca);
            }
            let identity = reqwest::Identity::from_pem(
                format!("{}\n{}", tls.client_certificate_pem, tls.client_key_pem).as_bytes(),
            )
            .map_err(|_| {
                Error::Config("relay client certificate or key is not usable PEM".into())
            })?;
            builder = builder.identity(identity);
        }
        let client = builder
            .build()
            .map_err(|e| Error::Config(format!("http client: {e}")))?;
        Ok(HospitalRelay {
            client,
            wake: Arc::new(Notify::new()),
            changes: Arc::new(watch::channel(0).0),
        })
    }

    /// Sends one message. A retry is safe: hospital-view applies each at most once.
    pub async fn deliver(
        &self,
        hospital: &HospitalEndpoint,
        message: &OutboxMessage,
    ) -> std::result::Result<(), RelayError> {
        let url = match message.kind {
            OutboxKind::Arrival => format!("{}/v1/arrivals", hospital.base_url),
            OutboxKind::Withdrawal => format!(
                "{}/v1/arrivals/{}/withdrawal",
                hospital.base_url, message.handoff_id
            ),
        };
        let response = self
            .client
            .post(url)
            .bearer_auth(&hospital.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(message.body_json.clone())
            .send()
            .await
            .map_err(|e| RelayError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(RelayError::Rejected(response.status().as_u16()))
        }
    }

    /// Wakes the deliverer (a message failed and is due soon).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Tells waiting tablets that some handoff changed.
    pub fn handoff_changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Subscribes to handoff changes (see [`HospitalRelay::handoff_changed`]).
    pub fn watch_handoffs(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

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
            () = state.relay.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
