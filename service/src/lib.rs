//! What every server process of the system shares, written once: serving a router with a
//! bounded graceful drain (plain HTTP or TLS), development TLS certificates, opening SQLite
//! with the durability the access log relies on, and tracing setup. No domain logic lives
//! here.
//!
//! # Layout
//! - this file: [`serve_with_drain`] (plain HTTP through `axum::serve`), SQLite, tracing,
//!   small shared helpers.
//! - [`tls`]: [`serve_tls_with_drain`], the TLS accept loop (tokio-rustls + hyper-util),
//!   and the rustls server configuration.
//! - [`dev_tls`]: the development CA and loopback server certificate, created once and kept.
#![warn(missing_docs)]

pub mod dev_tls;
pub mod tls;

use std::future::{Future, IntoFuture};
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

pub use tls::serve_tls_with_drain;

/// Errors of this crate's TLS setup (the serving and SQLite helpers return the error types
/// of what they wrap).
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

/// [`serve_tls_with_drain`] with `tls`, [`serve_with_drain`] (plain HTTP) without: one
/// call for services that serve either way.
pub async fn serve_either_with_drain(
    listener: tokio::net::TcpListener,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    match tls {
        Some(tls) => serve_tls_with_drain(listener, tls, router, shutdown, drain).await,
        None => serve_with_drain(listener, router, shutdown, drain).await,
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for at most `drain`. Returns when the server has stopped or the drain timed out.
pub async fn serve_with_drain(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    };
    // Handlers (the edge's rate limits) read the client address as
    // `ConnectInfo<SocketAddr>`. No connection cap here: plain HTTP is for loopback
    // development; the TLS loop ([`tls`]) caps connections.
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => result,
        _ = async {
            if stopping_rx.await.is_err() {
                // The signal was dropped without firing: only the server can end.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(drain).await;
        } => {
            tracing::warn!(?drain, "shutdown drain timed out; closing with requests in flight");
            Ok(())
        }
    }
}

/// Page cache of a durable connection, in KiB (SQLite's negative `cache_size`).
const DURABLE_CACHE_KIB: i64 = -32 * 1024;

/// Opens (creating if needed) a SQLite file for durable writes: WAL journal,
/// `synchronous=FULL` (a commit is on disk before the caller answers anyone, across power
/// loss, not only process crashes), foreign keys on, 5 s busy timeout, and a page cache of
/// up to 32 MiB (SQLite's default 2 MiB made the edge's writer re-read the records and log
/// indexes from the OS on every lookup: a seventh of its time at national load).
pub fn open_durable(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "cache_size", DURABLE_CACHE_KIB)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Installs the fmt subscriber for a binary: `RUST_LOG` if set, else `default_filter`.
pub fn init_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// Refuses a listen address that is not loopback, saying `why` the service must stay local
/// (development credentials, no sign-in yet).
pub fn require_loopback(addr: std::net::SocketAddr, why: &str) -> std::io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("refusing to listen on {addr}: {why}; use a loopback address"),
        ))
    }
}

/// Compares two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

/// Longest wait between two delivery attempts of one outbox message.
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(30);

/// A stop signal for a background task or a server: send on the first (or drop it), and
/// the second completes.
pub fn stop_signal() -> (
    tokio::sync::oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    (stop, async move {
        let _ = stopped.await;
    })
}

/// Raises the process's soft limit on open files to its hard limit: a service holds a
/// descriptor per connection, and the national fleet keeps 5,334 tablets connected to one
/// edge, far above the usual soft default of 1,024. Returns the soft limit afterwards
/// (`None`: unlimited). Logs a warning when it stays below what [`tls::MAX_CONNECTIONS`]
/// needs, so an operator sees why connections are refused.
pub fn raise_open_file_limit() -> std::io::Result<Option<u64>> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)?;
    }
    // Connections plus the databases, logs and listeners.
    let wanted = tls::MAX_CONNECTIONS as u64 + 256;
    if let Some(soft) = limit.current
        && soft < wanted
    {
        tracing::warn!(
            limit = soft,
            wanted,
            "open-file limit below the connection cap: raise it (e.g. LimitNOFILE) or connections will fail"
        );
    }
    Ok(limit.current)
}

/// Wait before attempt `attempts + 1` of an outbox delivery (edge to hospital, hospital to
/// edge): 1 s, 2 s, 4 s, ... up to [`MAX_RETRY_BACKOFF`]. No jitter: each side has few
/// peers, and a peer coming back should get its backlog at once.
pub fn retry_backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(5)).min(MAX_RETRY_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_connection_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_durable(&dir.path().join("t.sqlite3")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }

    #[test]
    fn retry_backoff_doubles_to_thirty_seconds() {
        let waits: Vec<u64> = (0..8).map(|n| retry_backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_backoff(u32::MAX), MAX_RETRY_BACKOFF);
    }

    #[test]
    fn only_loopback_addresses_pass() {
        assert!(require_loopback(([127, 0, 0, 1], 80).into(), "dev").is_ok());
        assert!(require_loopback(([0, 0, 0, 0], 80).into(), "dev").is_err());
        assert!(require_loopback(([192, 168, 1, 2], 80).into(), "dev").is_err());
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"token", b"token"));
        for other in [&b"tokem"[..], b"toke", b"tokens", b""] {
            assert!(!constant_time_eq(b"token", other), "{other:?}");
        }
    }

    #[tokio::test]
    async fn serve_returns_after_shutdown() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with_drain(
            listener,
            axum::Router::new(),
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(1),
        ));
        tx.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
