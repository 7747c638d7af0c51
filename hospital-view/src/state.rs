//! The shared state of a running hospital-view: the store, the configuration, the live
//! dashboard's event counter, the answers deliverer's wake-up, the shutdown flag the event
//! streams watch, the HTTP client for the edge and the clock.

use std::sync::Arc;
use std::time::Duration;

use myna_service::clock::{self, Clock};
use tokio::sync::futures::Notified;
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::staff::password;
use crate::staff::sealing::TotpKey;
use crate::store::{NewStaff, Store};

/// Shared state of the running service; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Store>,
    config: Arc<Config>,
    events: Arc<watch::Sender<i64>>,
    answers: Arc<Notify>,
    closing: Arc<watch::Sender<bool>>,
    edge: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// Prepares the data directory (0700; refused when others may write it), opens
    /// (creating if needed) `data_dir/hospital-<id>.sqlite3` with the TOTP key (refused
    /// when it does not open the stored secrets; plain-text secrets are sealed), and
    /// stores the configured staff accounts that are not stored yet.
    pub fn open(config: Config) -> Result<Self> {
        Self::open_with_clock(config, clock::system())
    }

    /// The same, reading the time for sign-in and sessions from `clock`.
    pub fn open_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        let store = open_store(&config)?;
        for account in &config.staff {
            if store.has_staff(&account.id)? {
                continue;
            }
            let phc = password::hash(&account.password)
                .map_err(|e| Error::Config(format!("staff account {}: {e}", account.id)))?;
            store.add_staff(
                &NewStaff {
                    id: &account.id,
                    display_name: &account.name,
                    password_phc: &phc,
                    totp_secret: &account.totp_secret,
                },
                clock.now(),
            )?;
            tracing::info!(staff = %account.id, "staff account created");
        }
        let (events, _) = watch::channel(store.last_event()?);
        let mut edge = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10));
        if let Some(tls) = &config.edge_tls {
            // Only the deployment CA: a certificate from any public CA is not the edge.
            let ca = reqwest::Certificate::from_der(&tls.ca_der)
                .map_err(|_| Error::Config("edge CA certificate is not DER".into()))?;
            let identity = reqwest::Identity::from_pem(
                format!("{}\n{}", tls.client_certificate_pem, tls.client_key_pem).as_bytes(),
            )
            .map_err(|_| Error::Config("client certificate or key is not usable PEM".into()))?;
            edge = edge
                .tls_built_in_root_certs(false)
                .add_root_certificate(ca)
                .identity(identity);
        }
        let edge = edge
            .build()
            .map_err(|e| Error::Config(format!("http client: {e}")))?;
        Ok(AppState {
            store: Arc::new(store),
            config: Arc::new(config),
            events: Arc::new(events),
            answers: Arc::new(Notify::new()),
            closing: Arc::new(watch::channel(false).0),
            edge,
            clock,
        })
    }

    /// The current time, from the state's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Disables the accounts not signed in for [`crate::staff::SignInPolicy::stale_after`] and ends their
    /// sessions; returns how many. [`crate::server::run`] calls it every
    /// [`STALE_SWEEP_EVERY`].
    pub async fn sweep_stale_staff(&self) -> Result<usize> {
        let cutoff = self.config.sign_in.stale_cutoff(self.now());
        let ids = self
            .store
            .run(move |s| s.disable_stale_staff(cutoff))
            .await?;
        for id in &ids {
            tracing::warn!(staff = %id, "staff account disabled: not signed in for too long");
        }
        Ok(ids.len())
    }

    /// The database.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Watches the newest event id: it changes after every committed change to an
    /// arrival (stored, answered, withdrawn, crew told). Live streams wait on it.
    pub fn watch_events(&self) -> watch::Receiver<i64> {
        self.events.subscribe()
    }

    /// Announces a committed event (ids only increase).
    pub(crate) fn announce(&self, seq: i64) {
        self.events.send_if_modified(|latest| {
            let newer = seq > *latest;
            if newer {
                *latest = seq;
            }
            newer
        });
    }

    /// Becomes `true` when the server is shutting down: live streams end then, so the
    /// drain does not wait on them (browsers reconnect to the next instance).
    pub fn watch_closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Wakes the answers deliverer.
    pub(crate) fn wake_answers(&self) {
        self.answers.notify_one();
    }

    /// Completes when [`AppState::wake_answers`] is called (or was, since the last wait).
    pub(crate) fn answers_woken(&self) -> Notified<'_> {
        self.answers.notified()
    }

    /// The HTTP client for the edge (its CA and this hospital's client certificate, if
    /// configured).
    pub(crate) fn edge_client(&self) -> &reqwest::Client {
        &self.edge
    }

    /// Tells live streams the server is shutting down ([`AppState::watch_closing`]).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// Prepares `config`'s data directory (0700, its files 0600; refused when others may
/// write it) and opens its database with the TOTP key (the development key file when none
/// is configured). The service and `hospital-view admin` open it so.
pub fn open_store(config: &Config) -> Result<Store> {
    config.validate()?;
    myna_service::private::prepare_data_dir(&config.data_dir)
        .map_err(|e| Error::Config(e.to_string()))?;
    let key = match &config.totp_key {
        Some(key) => key.clone(),
        None => TotpKey::load_or_create_dev(&config.dev_totp_key_path())?,
    };
    Store::open_with_totp_key(&config.database_path(), key)
}

/// How often a running server disables stale staff accounts.
pub const STALE_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EdgeTls;
    use crate::config::tests::config;

    #[test]
    fn an_unusable_edge_certificate_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let broken = |ca_der: Vec<u8>, certificate: &str| Config {
            data_dir: dir.path().into(),
            edge_tls: Some(EdgeTls {
                ca_der,
                client_certificate_pem: certificate.into(),
                client_key_pem: "not a key".into(),
            }),
            ..config("hosp-1", "t")
        };
        for config in [broken(b"not DER".to_vec(), "x"), broken(Vec::new(), "")] {
            assert!(matches!(AppState::open(config), Err(Error::Config(_))));
        }
    }
}
