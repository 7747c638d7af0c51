//! The relay's HTTP client for hospital-view instances, the deliverer's wake-up, and the
//! handoff change counter tablets wait on. Part of [`crate::state::AppState`]; the
//! deliverer itself is [`crate::relay`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::config::{HospitalEndpoint, RelayTls};
use crate::error::{Error, Result};
use crate::store::{OutboxKind, OutboxMessage};

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
        let mut request = self.client.post(url);
        // Production identifies the edge by its client certificate alone: no token to send.
        if !hospital.token.is_empty() {
            request = request.bearer_auth(&hospital.token);
        }
        let response = request
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

    /// Resolves when [`HospitalRelay::wake`] is called (the deliverer's wait).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Subscribes to handoff changes (see [`HospitalRelay::handoff_changed`]).
    pub fn watch_handoffs(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
