//! The service's life: serving the API over plain TCP or TLS, the background tasks beside
//! it (housekeeping, the hospital relay), and the drain at shutdown. The lifecycle itself
//! (transport, drain, stopping background tasks in order) is `myna_service::serve`'s.

use std::future::Future;
use std::sync::Arc;

use myna_service::serve::{BackgroundTasks, DRAIN_TIMEOUT};

use crate::api::app;
use crate::error::Result;
use crate::housekeeping;
use crate::relay;
use crate::state::AppState;
use crate::transparency;

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
    // Stopped in this order after the drain: housekeeping, then the relay's deliverer.
    let mut background = BackgroundTasks::new();
    let housekeeping_state = state.clone();
    background.spawn(move |stop| housekeeping::run(housekeeping_state, stop));
    let relay_state = state.clone();
    background.spawn(move |stop| relay::run(relay_state, stop));
    let router = app(state.clone());
    let served =
        myna_service::serve::serve(listener, tls.into(), router, shutdown, DRAIN_TIMEOUT).await;
    background.stop().await;
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
