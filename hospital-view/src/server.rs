//! The server's life: the answers deliverer, the stale-account sweep and the readiness
//! checks up, serve (plain HTTP or TLS) until the shutdown signal, end the live streams,
//! drain in-flight requests (at most [`DRAIN_TIMEOUT`]), background tasks down, checkpoint
//! the database.

use std::future::Future;
use std::sync::Arc;

use myna_service::serve::{BackgroundTasks, DRAIN_TIMEOUT, Transport, serve};

use crate::error::Result;
use crate::routes::app;
use crate::state::{AppState, STALE_SWEEP_EVERY};
use crate::{answers, health};

/// Serves plain HTTP on `listener` until `shutdown` completes, then drains in-flight
/// requests (at most 10 s) and checkpoints the database so the file is self-contained.
/// The edge authenticates with its bearer token.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    run_over(listener, state, Transport::Plain, shutdown).await
}

/// [`run`] over TLS with `tls`, which should verify client certificates
/// (`myna_service::tls::server_config_with_client_auth` with the CA that issues the edge's
/// client certificate, or `DevTls::mtls_server_config`): the edge routes then accept only a
/// verified certificate naming an edge (`urn:myna:edge:<id>`) and refuse the bearer token;
/// browsers without a certificate still reach the sign-in page and, signed in, the
/// dashboard (the session cookie is `Secure`).
pub async fn run_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    run_over(listener, state, Transport::Tls(tls), shutdown).await
}

async fn run_over(
    listener: tokio::net::TcpListener,
    state: AppState,
    transport: Transport,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let mut background = BackgroundTasks::new();
    background.spawn(|stop| answers::run(state.clone(), stop));
    let sweeping = state.clone();
    background.spawn(|stop| sweep_stale_staff(sweeping, stop));
    let sampling = state.clone();
    background.spawn(|stop| health::check_periodically(sampling, stop));
    let closing = state.clone();
    let shutdown = async move {
        shutdown.await;
        closing.close();
    };
    let served = serve(
        listener,
        transport,
        app(state.clone()),
        shutdown,
        DRAIN_TIMEOUT,
    )
    .await;
    background.stop().await;
    served?;
    state.store().run(|s| s.checkpoint()).await
}

/// Disables stale staff accounts every [`STALE_SWEEP_EVERY`] until `stop` completes (each
/// sweep is one transaction).
async fn sweep_stale_staff(state: AppState, stop: impl Future<Output = ()>) {
    let mut every = tokio::time::interval(STALE_SWEEP_EVERY);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = every.tick() => {
                if let Err(error) = state.sweep_stale_staff().await {
                    tracing::error!(%error, "stale staff sweep failed");
                }
            }
        }
    }
}
