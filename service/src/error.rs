//! The crate's error: what the TLS setup can fail with. The serving, SQLite and process
//! helpers return the error types of what they wrap (`std::io::Error`, `rusqlite::Error`).

/// Errors of this crate's TLS setup.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a certificate file failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A certificate or key could not be generated or parsed.
    #[error("certificate: {0}")]
    Certificate(String),
    /// rustls refused the configuration (the key does not match the certificate, ...).
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
