//! hospital-view: one hospital's ER arrival dashboard (救急受入画面).
//!
//! The edge-agent relays an [`ArrivalNotice`](myna_domain::wire::ArrivalNotice) for every
//! patient an ambulance crew brings here; this service stores each notice once per
//! handoff id in a SQLite file and shows the incoming patients, soonest first, on a wall
//! screen. Each card leads with what changes treatment in the first minutes: ETA, chief
//! complaint, then an alerts block (allergies, infections, high-risk drugs, abnormal labs,
//! blood type), then vitals and history. One instance serves one hospital.
//!
//! # Layout
//! - [`Config`], [`AppState`], [`app`], [`run`] (plain HTTP), [`run_tls`] (HTTPS, the edge
//!   identified by its client certificate): this file.
//! - [`staff`]: staff accounts and the sign-in rules (Argon2id, TOTP, lockout, expiry);
//!   [`clock`]: the time source, injectable for tests.
//! - [`error`]: the crate [`Error`], and the HTTP mappings ([`error::AppError`] for JSON,
//!   [`error::PageError`] for HTML).
//! - [`store`]: the SQLite file (WAL, `synchronous=FULL`), used through `spawn_blocking`.
//! - [`routes`]: axum handlers; thin: they authenticate, call the store and render.
//! - [`render`]: the maud pages (pure functions of the stored notices and `now`).
//! - [`fhir`]: one arrival notice as a FHIR R4 document `Bundle` shaped like the International
//!   Patient Summary, for import into a hospital EHR.
//!
//! # Routes
//! See [`routes`] for the table. In short: the edge delivers notices and withdrawals
//! (`POST /v1/arrivals`, `POST /v1/arrivals/{id}/withdrawal`, idempotent; over TLS the edge's
//! client certificate, over plain HTTP its bearer token);
//! staff sign in (`/sign-in`: staff id, password and a TOTP code; see [`staff`]) and see the dashboard (`GET /`),
//! which `GET /events` keeps live (server-sent events with ids: a reconnecting browser
//! resumes where it stopped); they accept or decline (`POST /arrivals/{id}/answer`), and
//! [`answers`] carries the answer to the edge (`POST /v1/hospital/handoffs/{id}/decision`),
//! retrying until it lands. `GET /arrivals/{id}` is the detail page (printable) and
//! `GET /arrivals/{id}/fhir` the summary as a FHIR IPS bundle.
//!
//! # Known gaps
//! - **Development accounts only** (no account administration): the binary still refuses
//!   any non-loopback address, TLS or not, because the seeded development accounts have a
//!   published password and TOTP secret.
//!
//! # Privacy
//! The wall dashboard shows sex and age but never the patient's name (a wall screen is
//! seen by passers-by); the detail page shows the name for registration. Logs carry
//! handoff and incident ids only, never names, drugs or any record content.
//!
//! # Example
//! ```no_run
//! # async fn example() -> hospital_view::Result<()> {
//! let state = hospital_view::AppState::open(hospital_view::Config {
//!     hospital_id: "hosp-setagaya-3".into(),
//!     hospital_name: "世田谷救命救急センター Setagaya Critical Care Center".into(),
//!     data_dir: "./.myna-local".into(),
//!     edge_token: "dev-edge-token".into(),
//!     edge_url: Some("http://127.0.0.1:8080".into()),
//!     edge_tls: None,
//!     staff: hospital_view::dev_staff(),
//!     sign_in: hospital_view::SignInPolicy::default(),
//! })?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! hospital_view::run(listener, state, std::future::pending()).await
//! # }
//! ```
#![warn(missing_docs)]

pub mod answers;
pub mod clock;
pub mod error;
pub mod fhir;
pub mod render;
pub mod routes;
mod sign_in;
pub mod staff;
pub mod store;
pub mod stream;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use routes::app;
pub use staff::{
    DEV_STAFF_PASSWORD, DEV_TOTP_SECRET, SignInPolicy, StaffAccount, dev_staff, dev_totp_code,
};

/// Configuration of one hospital-view instance.
#[derive(Clone)]
pub struct Config {
    /// Institution id of this hospital, e.g. `hosp-setagaya-3`. Also names the SQLite file,
    /// so only ASCII letters, digits, `-`, `_` and `.` are accepted.
    pub hospital_id: String,
    /// Display name shown in the dashboard header.
    pub hospital_name: String,
    /// Directory holding `hospital-<id>.sqlite3`; created if missing.
    pub data_dir: PathBuf,
    /// Bearer token the edge-agent must present on `POST /v1/arrivals`; this hospital-view
    /// presents the same token when it sends the ER's answers to the edge.
    pub edge_token: String,
    /// Base URL of the edge-agent, for the ER's answers (`None`: answers stay queued).
    pub edge_url: Option<String>,
    /// The deployment CA and this hospital's client certificate, for an edge served over
    /// TLS that requires client certificates (mTLS); `None`: public roots, no certificate.
    pub edge_tls: Option<EdgeTls>,
    /// Staff accounts to create at start when their id is not stored yet (the
    /// development accounts, [`dev_staff`]); stored accounts are never changed by this.
    pub staff: Vec<StaffAccount>,
    /// Lockout, session and stale-account limits.
    pub sign_in: SignInPolicy,
}

/// How hospital-view reaches an edge that requires client certificates.
#[derive(Clone)]
pub struct EdgeTls {
    /// The deployment CA (DER) the edge's server certificate chains to; the only root
    /// trusted.
    pub ca_der: Vec<u8>,
    /// This hospital's client certificate (PEM), naming it (`urn:myna:hospital:<id>`).
    pub client_certificate_pem: String,
    /// Its private key (PEM).
    pub client_key_pem: String,
}

impl std::fmt::Debug for EdgeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeTls").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("hospital_id", &self.hospital_id)
            .field("hospital_name", &self.hospital_name)
            .field("data_dir", &self.data_dir)
            .field("edge_token", &"<redacted>")
            .field("edge_url", &self.edge_url)
            .field("edge_tls", &self.edge_tls)
            .field("staff", &self.staff)
            .field("sign_in", &self.sign_in)
            .finish()
    }
}

impl Config {
    /// Path of this hospital's SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir
            .join(format!("hospital-{}.sqlite3", self.hospital_id))
    }

    fn validate(&self) -> Result<()> {
        let id = &self.hospital_id;
        let id_ok = !id.is_empty()
            && !id.starts_with('.')
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !id_ok {
            return Err(Error::Config(
                "hospital id must be non-empty ASCII letters, digits, '-', '_' or '.'".into(),
            ));
        }
        if self.edge_token.trim().is_empty() {
            return Err(Error::Config("edge token must not be empty".into()));
        }
        Ok(())
    }
}

/// Shared state of the running service; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    store: Arc<store::Store>,
    config: Arc<Config>,
    events: Arc<watch::Sender<i64>>,
    answers: Arc<Notify>,
    closing: Arc<watch::Sender<bool>>,
    edge: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl AppState {
    /// Opens (creating if needed) `data_dir/hospital-<id>.sqlite3`, and stores the
    /// configured staff accounts that are not stored yet.
    pub fn open(config: Config) -> Result<Self> {
        Self::open_with_clock(config, Arc::new(SystemClock))
    }

    /// The same, reading the time for sign-in and sessions from `clock`.
    pub fn open_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)?;
        let store = store::Store::open(&config.database_path())?;
        for account in &config.staff {
            if store.has_staff(&account.id)? {
                continue;
            }
            let phc = staff::password::hash(&account.password)
                .map_err(|e| Error::Config(format!("staff account {}: {e}", account.id)))?;
            store.add_staff(
                &store::NewStaff {
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

    /// Disables the accounts not signed in for [`SignInPolicy::stale_after`] and ends their
    /// sessions; returns how many. [`run`] calls it every [`STALE_SWEEP_EVERY`].
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
    pub fn store(&self) -> &Arc<store::Store> {
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
}

/// How often a running server disables stale staff accounts.
pub const STALE_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// How long in-flight requests may finish after `shutdown` completes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves plain HTTP on `listener` until `shutdown` completes, then drains in-flight
/// requests (at most 10 s) and checkpoints the database so the file is self-contained.
/// The edge authenticates with its bearer token.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve(listener, state, None, shutdown).await
}

/// [`run`] over TLS with `tls`, which should verify client certificates
/// (`myna_service::tls::server_config_with_client_auth` with the CA that issues the edge's
/// client certificate, or `DevTls::mtls_server_config`): the edge routes then accept only a
/// verified certificate naming an edge (`urn:myna:edge:<id>`) and refuse the bearer token;
/// browsers without a certificate still reach the sign-in page and, signed in, the
/// dashboard (the session cookie is `Secure`).
pub async fn run_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve(listener, state, Some(tls), shutdown).await
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let store = Arc::clone(&state.store);
    let (stop_answers, answers_stopped) = myna_service::stop_signal();
    let deliverer = tokio::spawn(answers::run(state.clone(), answers_stopped));
    // Dropping it midway is harmless: each sweep is one transaction.
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(STALE_SWEEP_EVERY);
            loop {
                every.tick().await;
                if let Err(error) = state.sweep_stale_staff().await {
                    tracing::error!(%error, "stale staff sweep failed");
                }
            }
        })
    };
    let closing = Arc::clone(&state.closing);
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    let served =
        myna_service::serve_either_with_drain(listener, tls, app(state), shutdown, DRAIN_TIMEOUT)
            .await;
    let _ = stop_answers.send(());
    let _ = deliverer.await;
    sweeper.abort();
    served?;
    store.run(|s| s.checkpoint()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: &str, token: &str) -> Config {
        Config {
            hospital_id: id.into(),
            hospital_name: "H".into(),
            data_dir: "/nonexistent".into(),
            edge_token: token.into(),
            edge_url: None,
            edge_tls: None,
            staff: vec![StaffAccount {
                id: "nurse".into(),
                name: "N".into(),
                password: "pw-s3cret".into(),
                totp_secret: DEV_TOTP_SECRET.into(),
            }],
            sign_in: SignInPolicy::default(),
        }
    }

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

    #[test]
    fn hospital_id_cannot_escape_the_data_dir() {
        assert!(config("hosp-a_1.x", "t").validate().is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b", "病院"] {
            assert!(config(bad, "t").validate().is_err(), "{bad:?}");
        }
        assert!(config("a", " ").validate().is_err());
    }

    #[test]
    fn debug_redacts_the_token() {
        let text = format!("{:?}", config("a", "s3cret"));
        assert!(!text.contains("s3cret"));
        assert!(text.contains("nurse"));
    }
}
