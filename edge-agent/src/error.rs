//! The crate's error: what went wrong inside the edge-agent (storage, I/O, configuration).
//! Clients never see it verbatim: `api::error` maps it to a stable code.

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
