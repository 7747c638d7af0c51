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
    ///
    /// The data directory is made private first (created 0700, or tightened to 0700 with
    /// its files 0600); one its group or others may write is refused, naming the `chmod`
    /// that fixes it.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        myna_service::private::prepare_data_dir(&config.data_dir)
            .map_err(|e| crate::error::Error::Config(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn production_the_data_dir_and_its_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("edge");
        let state =
            AppState::open(Config::local(dir.clone()), myna_service::clock::system()).unwrap();
        crate::transparency::publish(&state).await.unwrap();
        assert_eq!(mode(&dir), 0o700);
        for file in ["edge.sqlite3", "edge.sqlite3-wal", "edge.sqlite3-shm"] {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
        }
        let keys: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("key"))
            .collect();
        assert!(!keys.is_empty());
        for key in keys {
            assert_eq!(mode(&key), 0o600, "{}", key.display());
        }
        state.store.close();
    }

    #[test]
    fn production_refuses_a_data_dir_others_can_write() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = AppState::open(
            Config::local(root.path().into()),
            myna_service::clock::system(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(error.contains("chmod 0700"), "{error}");
        assert!(!root.path().join("edge.sqlite3").exists());
    }
}
