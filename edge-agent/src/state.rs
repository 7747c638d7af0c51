//! The shared state of a running edge: the store, the configuration, the hospital relay's
//! client, the clock and the log's signing key; and opening it from a configuration.

use std::sync::Arc;

use myna_domain::transparency::{LogSigner, LogVerifier};
use myna_service::clock::Clock;

use crate::config::Config;
use crate::error::Result;
use crate::relay::client::HospitalRelay;
use crate::store::Store;
use crate::transparency::key::load_or_create_keys;

/// Shared state of the running service.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<Store>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Hospital relay.
    pub relay: HospitalRelay,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// The access log's checkpoint signing key.
    pub log_signer: Arc<LogSigner>,
    /// Every key the log has signed with (the current one and those rotated out), for
    /// opening checkpoints signed before a rotation.
    pub log_keys: Arc<LogVerifier>,
}

impl AppState {
    /// Opens the database in `config.data_dir` as it is. Patients come only through
    /// [`Store::import`]: the edge never makes any up.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = Store::open_with_review(&config.data_dir.join("edge.sqlite3"), config.review)?;
        config.card_trust.log_status(clock.now());
        let keys = load_or_create_keys(&config.data_dir, &config.log_origin)?;
        let log_signer = keys.signer;
        tracing::info!(key = %log_signer.verifier_key(), former_keys = keys.verifier.key_count() - 1,
            "access log verifier key");
        let relay = HospitalRelay::new(config.relay_tls.as_ref())?;
        Ok(AppState {
            store: Arc::new(store),
            config: Arc::new(config),
            relay,
            clock,
            log_signer: Arc::new(log_signer),
            log_keys: Arc::new(keys.verifier),
        })
    }
}
