//! [`Tablet`]: the app's one handle on the core. It opens the tablet's local store
//! (sealed with a key from the platform key store), starts and resumes incidents, and
//! delivers the outbox. The records the app shows about it (writes waiting to send, this
//! tablet's own accesses, a delivery pass) are mobile-core's own types, re-exported here
//! (mobile-core's `uniffi` feature derives them).

use std::sync::Arc;
use std::time::SystemTime;

use crate::error::MobileFfiError;
use crate::incident::{Incident, IncidentStep, instant};
pub use mobile_core::{
    DeliveryReport, LocalAccessKind as TabletAccessKind, LocalAccessRecord as TabletAccess,
    QueuedWrite, WriteKind, WriteState,
};
use mobile_core::{EdgeClient, MobileError, StorageKey};

/// How the tablet is set up.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct TabletConfig {
    /// The local store file, in the app's private storage (created on first start).
    pub store_path: String,
    /// 32 bytes the store is sealed with. Keep it in the platform key store (Android
    /// Keystore, iOS Keychain); a store cannot be read without it.
    pub storage_key: Vec<u8>,
    /// The edge server, `https://…`.
    pub edge_base_url: String,
    /// This tablet's device token.
    pub device_token: String,
    /// The deployment CA's certificate (DER) the edge's TLS certificate must chain to;
    /// `None` trusts the platform's public roots.
    #[uniffi(default)]
    pub edge_ca_der: Option<Vec<u8>>,
    /// This tablet's client certificate (PEM), issued by the deployment's device CA: an
    /// edge that requires client certificates (mTLS) identifies the tablet by it. Needs
    /// `edge_ca_der` and `client_key_pem`.
    #[uniffi(default)]
    pub client_certificate_pem: Option<String>,
    /// The client certificate's private key (PEM). Keep it in the platform key store.
    #[uniffi(default)]
    pub client_key_pem: Option<String>,
}

impl std::fmt::Debug for TabletConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs and panic messages.
        f.debug_struct("TabletConfig")
            .field("store_path", &self.store_path)
            .field("edge_base_url", &self.edge_base_url)
            .field(
                "edge_ca_der",
                &self.edge_ca_der.as_ref().map(|_| "<certificate>"),
            )
            .field(
                "client_certificate_pem",
                &self
                    .client_certificate_pem
                    .as_ref()
                    .map(|_| "<certificate>"),
            )
            .finish_non_exhaustive()
    }
}

/// An incident started on this tablet and not closed (the app was killed mid-scene).
/// A view of mobile-core's `SavedIncident`, whose step history holds domain types that
/// do not cross the FFI as they are.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnfinishedIncident {
    /// Incident id, for [`Tablet::resume_incident`].
    pub incident_id: String,
    /// Crew member who started it.
    pub crew_member_id: String,
    /// The step it had reached.
    pub step: IncidentStep,
    /// When it was started.
    pub started_at: SystemTime,
}

/// The tablet: its local store and the edge.
#[derive(Debug, uniffi::Object)]
pub struct Tablet {
    core: mobile_core::Tablet,
    /// Tells a running [`Tablet::run_delivery`] to stop.
    stop: tokio::sync::watch::Sender<bool>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Tablet {
    /// Opens the tablet: its store (created on first start; summary copies past their time
    /// limit are wiped now) and its edge client. Sends nothing yet. A bad URL, token or key
    /// is [`MobileFfiError::Configuration`]; a store that cannot be opened (or was sealed
    /// with another key) [`MobileFfiError::LocalStorage`].
    #[uniffi::constructor]
    pub fn open(config: TabletConfig) -> Result<Arc<Self>, MobileFfiError> {
        let key = StorageKey::from_bytes(&config.storage_key)?;
        let misconfigured = |message: &str| {
            Err(mobile_core::edge::EdgeError::Configuration {
                message: message.into(),
            })
        };
        let edge = match (
            config.edge_ca_der,
            config.client_certificate_pem,
            config.client_key_pem,
        ) {
            (Some(ca), Some(certificate), Some(key)) => EdgeClient::with_client_certificate(
                config.edge_base_url,
                config.device_token,
                ca,
                &certificate,
                &key,
            ),
            (None, Some(_), Some(_)) => {
                misconfigured("a client certificate needs the deployment CA (edge_ca_der)")
            }
            (_, Some(_), None) | (_, None, Some(_)) => {
                misconfigured("a client certificate and its key go together")
            }
            (Some(ca), None, None) => {
                EdgeClient::with_root_certificate(config.edge_base_url, config.device_token, ca)
            }
            (None, None, None) => EdgeClient::new(config.edge_base_url, config.device_token),
        }
        .map_err(MobileError::from)?;
        let core = mobile_core::Tablet::open(config.store_path.as_ref(), &key, edge)?;
        Ok(Arc::new(Tablet {
            core,
            stop: tokio::sync::watch::channel(false).0,
        }))
    }

    /// Starts a new incident for `crew_member_id`, saved from its first step.
    pub fn start_incident(&self, crew_member_id: String) -> Result<Arc<Incident>, MobileFfiError> {
        Ok(Incident::wrap(self.core.start_incident(crew_member_id)?))
    }

    /// Picks up an unfinished incident where it was (after the app was killed).
    pub fn resume_incident(&self, incident_id: String) -> Result<Arc<Incident>, MobileFfiError> {
        Ok(Incident::wrap(self.core.resume_incident(&incident_id)?))
    }

    /// Incidents started here and not closed, oldest first: offer to resume them.
    pub fn unfinished_incidents(&self) -> Result<Vec<UnfinishedIncident>, MobileFfiError> {
        Ok(self
            .core
            .unfinished_incidents()?
            .into_iter()
            .map(|saved| UnfinishedIncident {
                incident_id: saved.incident_id,
                crew_member_id: saved.crew_member_id,
                step: saved.progress.step().clone().into(),
                started_at: saved
                    .progress
                    .history()
                    .first()
                    .map_or(SystemTime::UNIX_EPOCH, |r| instant(&r.at)),
            })
            .collect())
    }

    /// Every write in the outbox, oldest first ("waiting to send").
    pub fn queued_writes(&self) -> Result<Vec<QueuedWrite>, MobileFfiError> {
        Ok(self.core.queued_writes()?)
    }

    /// Writes not delivered yet.
    pub fn pending_writes(&self) -> Result<u32, MobileFfiError> {
        Ok(self.core.pending_writes()?)
    }

    /// This tablet's own accesses to patient data, newest first, at most `limit`.
    pub fn access_records(&self, limit: u32) -> Result<Vec<TabletAccess>, MobileFfiError> {
        Ok(self.core.access_records(limit)?)
    }

    /// Sends every pending write now, without waiting for backoffs: call it when the
    /// platform reports the network is back (Android `ConnectivityManager.NetworkCallback`,
    /// iOS `NWPathMonitor`).
    pub async fn deliver_now(&self) -> Result<DeliveryReport, MobileFfiError> {
        Ok(self.core.deliver_now().await?)
    }

    /// Delivers the outbox in the background until [`Self::stop_delivery`] or until the
    /// awaiting coroutine is cancelled: launch it once from an app-lifetime scope.
    pub async fn run_delivery(&self) {
        let mut stopped = self.stop.subscribe();
        self.stop.send_replace(false);
        self.core
            .run_delivery(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await;
    }

    /// Stops a running [`Self::run_delivery`].
    pub fn stop_delivery(&self) {
        self.stop.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path, url: &str, key: Vec<u8>) -> TabletConfig {
        TabletConfig {
            store_path: dir.join("tablet.sqlite3").display().to_string(),
            storage_key: key,
            edge_base_url: url.into(),
            device_token: "token".into(),
            edge_ca_der: None,
            client_certificate_pem: None,
            client_key_pem: None,
        }
    }

    #[test]
    fn bad_setup_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let error = |c| Tablet::open(c).err().unwrap();
        assert!(matches!(
            error(config(dir.path(), "not a url", vec![1; 32])),
            MobileFfiError::Configuration(_)
        ));
        assert!(matches!(
            error(config(dir.path(), "http://127.0.0.1:9", vec![1; 16])),
            MobileFfiError::Configuration(_)
        ));
        // A client certificate needs its key and the deployment CA.
        let with_certificate = |ca: Option<Vec<u8>>, key: Option<String>| TabletConfig {
            edge_ca_der: ca,
            client_certificate_pem: Some("-----BEGIN CERTIFICATE-----".into()),
            client_key_pem: key,
            ..config(dir.path(), "https://127.0.0.1:9", vec![1; 32])
        };
        assert!(matches!(
            error(with_certificate(Some(vec![1]), None)),
            MobileFfiError::Configuration(_)
        ));
        assert!(matches!(
            error(with_certificate(None, Some("key".into()))),
            MobileFfiError::Configuration(_)
        ));
        let debug = format!("{:?}", with_certificate(None, Some("SECRET KEY".into())));
        assert!(!debug.contains("SECRET"), "{debug}");
    }

    #[tokio::test]
    async fn an_incident_resumes_after_the_tablet_is_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let open = || Tablet::open(config(dir.path(), "http://127.0.0.1:9", vec![7; 32])).unwrap();
        let id = {
            let tablet = open();
            let incident = tablet.start_incident("crew-042".into()).unwrap();
            // Not possible yet, and nothing is sent: port 9 would fail as unreachable.
            let error = incident.fetch_summary().await.unwrap_err();
            assert!(matches!(error, MobileFfiError::IllegalStep(_)), "{error:?}");
            incident.incident_id()
        };
        let tablet = open();
        let unfinished = tablet.unfinished_incidents().unwrap();
        assert_eq!(unfinished.len(), 1);
        assert_eq!(unfinished[0].incident_id, id);
        assert_eq!(unfinished[0].step, IncidentStep::Started);
        let incident = tablet.resume_incident(id.clone()).unwrap();
        incident.close().unwrap();
        assert!(tablet.unfinished_incidents().unwrap().is_empty());
        assert!(matches!(
            tablet.resume_incident(id).err().unwrap(),
            MobileFfiError::IncidentNotOnTablet(_)
        ));
    }
}
