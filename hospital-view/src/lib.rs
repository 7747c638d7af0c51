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
//! - [`Config`], [`AppState`], [`app`], [`run`]: this file.
//! - [`error`]: the crate [`Error`], and the HTTP mappings ([`error::AppError`] for JSON,
//!   [`error::PageError`] for HTML).
//! - [`store`]: the SQLite file (WAL, `synchronous=FULL`), used through `spawn_blocking`.
//! - [`routes`]: axum handlers; thin: they authenticate, call the store and render.
//! - [`render`]: the maud pages (pure functions of the stored notices and `now`).
//!
//! # Routes
//! - `POST /v1/arrivals`: the edge delivers a notice (bearer token; idempotent per handoff id).
//! - `GET /`: the dashboard. `GET /arrivals/{handoff_id}`: one patient with provenance.
//! - `GET /v1/arrivals`: stored notices as JSON, newest first (edge token). `GET /healthz`.
//!
//! # Known gaps (walking skeleton)
//! - **No staff sign-in yet**: `GET /` and `GET /arrivals/{id}` are unauthenticated, so the
//!   binary refuses any non-loopback address until staff sign-in lands.
//! - **No live push yet**: the dashboard refreshes itself every 15 s. Live updates (SSE)
//!   can subscribe to [`AppState::subscribe_arrivals`], which announces every newly stored
//!   handoff id, and send [`render::arrival_card`] fragments.
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
//! })?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! hospital_view::run(listener, state, std::future::pending()).await
//! # }
//! ```
#![warn(missing_docs)]

pub mod error;
pub mod render;
pub mod routes;
pub mod store;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

pub use error::{Error, Result};
pub use routes::app;

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
    /// Bearer token the edge-agent must present on `POST /v1/arrivals`.
    pub edge_token: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("hospital_id", &self.hospital_id)
            .field("hospital_name", &self.hospital_name)
            .field("data_dir", &self.data_dir)
            .field("edge_token", &"<redacted>")
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

/// Announced after a new arrival is committed (not for duplicates). Ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrivalStored {
    /// The new handoff.
    pub handoff_id: uuid::Uuid,
}

/// Shared state of the running service; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    store: Arc<store::Store>,
    config: Arc<Config>,
    arrivals: broadcast::Sender<ArrivalStored>,
}

impl AppState {
    /// Opens (creating if needed) `data_dir/hospital-<id>.sqlite3`.
    pub fn open(config: Config) -> Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)?;
        let store = store::Store::open(&config.database_path())?;
        let (arrivals, _) = broadcast::channel(64);
        Ok(AppState {
            store: Arc::new(store),
            config: Arc::new(config),
            arrivals,
        })
    }

    /// The database.
    pub fn store(&self) -> &Arc<store::Store> {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Subscribes to newly stored arrivals (the hook for live updates).
    pub fn subscribe_arrivals(&self) -> broadcast::Receiver<ArrivalStored> {
        self.arrivals.subscribe()
    }

    pub(crate) fn announce(&self, event: ArrivalStored) {
        // No subscriber is the normal case today; nothing to do then.
        let _ = self.arrivals.send(event);
    }
}

/// How long in-flight requests may finish after `shutdown` completes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves on `listener` until `shutdown` completes, then drains in-flight requests
/// (at most 10 s) and checkpoints the database so the file is self-contained.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let store = Arc::clone(&state.store);
    myna_service::serve_with_drain(listener, app(state), shutdown, DRAIN_TIMEOUT).await?;
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
    }
}
