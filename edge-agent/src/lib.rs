//! edge-agent: the service the ambulance tablets talk to.
//!
//! It resolves a card to a patient, enforces the emergency-access policy of
//! [`myna_domain::policy`], assembles the emergency summary, writes an access record for
//! every disclosure, refusal and denial **in the same SQLite transaction** as the read, and
//! only then answers. It relays patients to receiving hospitals and serves the patient
//! portal's viewing history.
//!
//! # Layout
//! - [`config`]: devices, hospitals, dataset, trusted card CAs; local development defaults.
//! - [`card_trust`]: is a card certificate genuine (JPKI CA chain), unrevoked and valid.
//! - [`store`]: the SQLite file (WAL, `synchronous=FULL`) and its typed operations.
//! - [`identify`]: evidence to patient (card trust, PIN challenge and signature, basic
//!   facts), and issuing identification challenges.
//! - [`portal_sign_in`]: a patient's card sign-in to the portal (challenge, card trust,
//!   signature over the portal message), and issuing portal challenges.
//! - [`emergency`]: the incident flows (identify, consent, disclose, hand off): they call the
//!   domain policy and write access records; no HTTP here.
//! - [`handoff`]: after a handoff: the hospital's answer, the crew's withdrawal, the tablet's view.
//! - [`fhir`]: the access log as FHIR R4 `AuditEvent`s (JSON, bulk-data NDJSON).
//! - [`housekeeping`]: periodic checkpoints and the daily retention purge.
//! - [`relay`]: the outbox deliverer: arrival and withdrawal notices to hospital-view
//!   instances, retried until acknowledged.
//! - [`review`]: the privacy officer's review queue: what is queued, the anomaly flags
//!   (sans I/O).
//! - [`api`]: axum routes, extractors and the HTTP error mapping; thin.
//! - [`transparency`]: the access log's signing key and periodic signed checkpoints.
//! - [`verify`]: replaying a log file or export against its key (the `myna-log` binary).
//! - [`client_certs`]: development client certificates (mTLS) for configured tablets and
//!   hospitals.
//! - [`cli`]: the `edge-agent` binary's arguments and start-up.
//! - [`clock`]: the clock trait, so tests control time.
//!
//! # Example
//! ```no_run
//! # async fn example() -> edge_agent::Result<()> {
//! let config = edge_agent::config::Config::local("./.myna-local".into());
//! let state = edge_agent::AppState::open(config, edge_agent::clock::system())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! edge_agent::run(listener, state, std::future::pending()).await
//! # }
//! ```
//!
//! Over TLS, [`run_tls`] takes a rustls server configuration as well, e.g. the development
//! certificates of `myna_service::dev_tls::DevTls` (the `edge-agent --tls` flag).
#![warn(missing_docs)]

pub mod api;
pub mod card_trust;
pub mod cli;
pub mod client_certs;
pub mod clock;
pub mod config;
pub mod emergency;
pub mod fhir;
pub mod handoff;
pub mod housekeeping;
pub mod identify;
pub mod portal_sign_in;
pub mod relay;
pub mod review;
pub mod store;
pub mod transparency;
pub mod verify;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use api::app;

/// Internal errors of the edge-agent. Never shown to clients verbatim.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed (I/O error, disk full, constraint, ...).
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// JSON encoding failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A stored value could not be decoded.
    #[error("stored data corrupt: {0}")]
    Corrupt(String),
    /// A lock was poisoned, a blocking task panicked, or the writer dropped a job unrun.
    #[error("internal task failed")]
    Poisoned,
    /// The write did not commit (disk full, I/O error on commit, store closed): nothing of
    /// it is kept.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// File-system or socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Invalid configuration.
    #[error("config: {0}")]
    Config(String),
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shared state of the running service.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<store::Store>,
    /// Configuration.
    pub config: Arc<config::Config>,
    /// Hospital relay.
    pub relay: relay::HospitalRelay,
    /// Clock.
    pub clock: Arc<dyn clock::Clock>,
    /// The access log's checkpoint signing key.
    pub log_signer: Arc<myna_domain::transparency::LogSigner>,
}

impl AppState {
    /// Opens the database in `config.data_dir`, loading the synthetic population at first start.
    pub fn open(config: config::Config, clock: Arc<dyn clock::Clock>) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store =
            store::Store::open_with_review(&config.data_dir.join("edge.sqlite3"), config.review)?;
        let loaded = store.seed_if_empty(
            config.dataset.seed,
            config.dataset.patients,
            clock.now().date_naive(),
        )?;
        if loaded > 0 {
            tracing::info!(
                patients = loaded,
                seed = config.dataset.seed,
                "loaded synthetic population"
            );
        }
        config.card_trust.log_status(clock.now());
        let log_signer = transparency::load_or_create_signer(&config.data_dir, &config.log_origin)?;
        tracing::info!(key = %log_signer.verifier_key(), "access log verifier key");
        let relay = relay::HospitalRelay::new(config.relay_tls.as_ref())?;
        Ok(AppState {
            store: Arc::new(store),
            config: Arc::new(config),
            relay,
            clock,
            log_signer: Arc::new(log_signer),
        })
    }
}

/// How long in-flight requests may take to finish after the shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves the API over plain HTTP on `listener` until `shutdown` completes, publishing log
/// checkpoints as it goes; then drains in-flight requests (at most 10 s), signs a last
/// checkpoint, and checkpoints the database.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve(listener, state, None, shutdown).await
}

/// [`run`], over TLS with `tls` (see `myna_service::dev_tls` for development certificates).
/// A failed or abandoned TLS handshake drops that connection only.
pub async fn run_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve(listener, state, Some(tls), shutdown).await
}

/// The service's whole life, whatever the transport: background tasks up, serve, drain,
/// background tasks down, last checkpoint, database closed.
async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (stop_housekeeping, housekeeping_stopped) = myna_service::stop_signal();
    let housekeeping = tokio::spawn(housekeeping::run(state.clone(), housekeeping_stopped));
    let (stop_relay, relay_stopped) = myna_service::stop_signal();
    let deliverer = tokio::spawn(relay::run(state.clone(), relay_stopped));
    let router = app(state.clone());
    let served =
        myna_service::serve_either_with_drain(listener, tls, router, shutdown, DRAIN).await;
    let _ = stop_housekeeping.send(());
    let _ = housekeeping.await;
    let _ = stop_relay.send(());
    let _ = deliverer.await;
    if let Err(error) = transparency::publish(&state).await {
        tracing::error!(%error, "could not sign the last checkpoint");
    }
    state.store.checkpoint_wal().await?;
    // Joins the writer thread once it has drained: off the async workers.
    let store = Arc::clone(&state.store);
    let _ = tokio::task::spawn_blocking(move || store.close()).await;
    served?;
    Ok(())
}
