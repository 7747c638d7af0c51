//! A service's life: background tasks up, serve a router (plain HTTP or TLS) until the
//! shutdown signal, drain in-flight requests for a bounded time, background tasks down.
//!
//! # Example
//! ```no_run
//! # async fn example(tls: Option<std::sync::Arc<rustls::ServerConfig>>) -> std::io::Result<()> {
//! use myna_service::serve::{BackgroundTasks, DRAIN_TIMEOUT, serve};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let mut background = BackgroundTasks::new();
//! background.spawn(|stop| async move {
//!     // deliver an outbox until `stop` completes
//!     stop.await;
//! });
//! let served = serve(listener, tls.into(), axum::Router::new(), std::future::pending(), DRAIN_TIMEOUT).await;
//! background.stop().await;
//! served
//! # }
//! ```

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::tls::serve_tls_with_drain;

/// How long in-flight requests may take to finish after the shutdown signal, in both
/// services.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How a service is reached.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Plain HTTP: loopback development, and tests.
    Plain,
    /// HTTPS with this rustls configuration (which may verify client certificates; see
    /// [`crate::tls`]).
    Tls(Arc<rustls::ServerConfig>),
}

impl From<Option<Arc<rustls::ServerConfig>>> for Transport {
    /// `Some`: TLS with that configuration; `None`: plain HTTP.
    fn from(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        tls.map_or(Transport::Plain, Transport::Tls)
    }
}

/// Serves `router` on `listener` over `transport` until `shutdown` completes, then lets
/// in-flight requests finish for at most `drain`. Returns when the server has stopped or
/// the drain timed out. Handlers can read the client address as
/// `ConnectInfo<SocketAddr>` (plain) or from [`crate::tls::TlsPeer`] (TLS).
pub async fn serve(
    listener: tokio::net::TcpListener,
    transport: Transport,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    match transport {
        Transport::Tls(tls) => serve_tls_with_drain(listener, tls, router, shutdown, drain).await,
        Transport::Plain => serve_with_drain(listener, router, shutdown, drain).await,
    }
}

/// [`serve`] over plain HTTP (through `axum::serve`).
pub async fn serve_with_drain(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    };
    // Handlers (the edge's rate limits) read the client address as
    // `ConnectInfo<SocketAddr>`. No connection cap here: plain HTTP is for loopback
    // development; the TLS loop ([`crate::tls`]) caps connections.
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

/// The receiving half of a [`stop_signal`]: completes when the sender sends or is dropped.
#[derive(Debug)]
pub struct Stop(oneshot::Receiver<()>);

impl Future for Stop {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// A stop signal for a background task or a server: send on the first (or drop it), and
/// the second completes.
pub fn stop_signal() -> (oneshot::Sender<()>, Stop) {
    let (stop, stopped) = oneshot::channel::<()>();
    (stop, Stop(stopped))
}

/// A service's background tasks (outbox deliverers, periodic sweeps), each told to stop
/// through its own [`Stop`]. Dropping the set without [`BackgroundTasks::stop`] signals
/// them all and leaves them to finish on their own.
#[derive(Debug, Default)]
pub struct BackgroundTasks {
    running: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl BackgroundTasks {
    /// No tasks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns `task(stop)` on the runtime; it should return soon after `stop` completes.
    pub fn spawn<F>(&mut self, task: impl FnOnce(Stop) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = stop_signal();
        self.running.push((stop, tokio::spawn(task(stopped))));
    }

    /// Stops the tasks one by one, in the order they were spawned, each awaited before the
    /// next is told (a task that panicked is skipped).
    pub async fn stop(self) {
        for (stop, task) in self.running {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn serve_returns_after_shutdown() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (tx, rx) = stop_signal();
        let server = tokio::spawn(serve(
            listener,
            Transport::Plain,
            axum::Router::new(),
            rx,
            Duration::from_secs(1),
        ));
        tx.send(()).unwrap();
        server.await.unwrap().unwrap();
    }

    #[test]
    fn no_tls_configuration_means_plain_http() {
        assert!(matches!(Transport::from(None), Transport::Plain));
    }

    #[tokio::test]
    async fn a_dropped_sender_stops_too() {
        let (tx, rx) = stop_signal();
        drop(tx);
        rx.await;
    }

    #[tokio::test]
    async fn background_tasks_stop_in_spawn_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut background = BackgroundTasks::new();
        for name in ["deliverer", "sweeper"] {
            let order = Arc::clone(&order);
            background.spawn(move |stop| async move {
                stop.await;
                order.lock().unwrap().push(name);
            });
        }
        background.stop().await;
        assert_eq!(*order.lock().unwrap(), ["deliverer", "sweeper"]);
    }
}
