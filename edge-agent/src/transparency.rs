//! The access log's signing key and checkpoint publishing.
//!
//! The key is Ed25519, kept as signed-note private-key text in `log-signing.key` in the
//! data directory (created on first start, readable by the service user only). Its public
//! half, the verifier key, is printed at start and served at `GET /v1/log/key`; tablets and
//! auditors get it with their provisioning, not from the server they check. The key can be
//! rotated (`edge-agent admin rotate-log-key`, [`key::rotate`]); every key the log has had
//! stays listed in `log-verifier-keys`, so checkpoints signed before stay verifiable.
//!
//! A checkpoint is signed every [`crate::config::Config::checkpoint_interval`] if the log
//! grew ([`crate::housekeeping`]), when a reader asks for the newest, and once more at
//! shutdown.
//!
//! # Layout
//! - [`key`]: loading, creating and rotating the signing key; the list of verifier keys.

pub mod key;

use std::sync::Arc;

use crate::error::Result;
use crate::state::AppState;
use crate::store::StoredCheckpoint;

pub use key::{
    KEY_FILE, LogKeys, Rotation, VERIFIER_KEYS_FILE, load_or_create_keys, load_or_create_signer,
    load_verifier_keys, rotate,
};

/// Signs a checkpoint now if the log grew since the last one.
pub async fn publish(state: &AppState) -> Result<Option<StoredCheckpoint>> {
    let signer = Arc::clone(&state.log_signer);
    let now = state.clock.now();
    state
        .store
        .write(move |tx| tx.publish_checkpoint(&signer, now))
        .await
}
