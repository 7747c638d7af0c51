//! The crate's internal [`Error`]: what storage, configuration and tasks fail with. The
//! HTTP answers a handler gives instead ([`crate::http_error`]) never show it verbatim.

/// Internal errors of hospital-view. Never shown to clients verbatim.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed (I/O error, disk full, ...).
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// JSON encoding or decoding of a stored notice failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// File-system or socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value could not be decoded; the message names the column, not the value.
    #[error("stored data corrupt: {0}")]
    Corrupt(String),
    /// A lock was poisoned or a blocking task panicked.
    #[error("internal task failed")]
    Poisoned,
    /// The TOTP encryption key does not open the secrets stored in this database file.
    #[error(
        "the TOTP encryption key does not open the TOTP secrets stored in {0}: give the key \
         they were sealed with (`totp_key` in the configuration file)"
    )]
    WrongTotpKey(String),
    /// Invalid configuration.
    #[error("config: {0}")]
    Config(String),
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
