//! Prometheus metrics: one process-wide recorder behind the `metrics` facade, and the
//! endpoint that serves it on its own listen address (never on the service's public one).
//!
//! Code records with `metrics::counter!`/`gauge!`/`histogram!`; labels are route
//! templates, statuses, reasons and other closed sets, never patient or staff data.
//! Before [`install`] runs the macros record nothing.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Bucket bounds (seconds) of every `*_seconds` histogram: from a fsync on a fast disk
/// (0.5 ms) to the request timeout (15 s).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

/// Bucket bounds of size histograms (`*_size`, e.g. jobs per group commit).
pub const SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle). A
/// process that never calls it records nothing.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), SIZE_BUCKETS))
            .unwrap_or_else(|_| unreachable!("the bucket lists are not empty"));
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder was installed first (a test harness): keep ours unattached,
            // so the endpoint still answers, with what this recorder saw (nothing).
            Err(error) => {
                tracing::warn!(%error, "a metrics recorder was installed already");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// The metrics as Prometheus text (installs the recorder if needed).
pub fn render() -> String {
    install().render()
}

/// The endpoint's router: `GET /metrics`.
pub fn router() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                render(),
            )
        }),
    )
}

/// Serves `GET /metrics` on `listener` until `stop` completes, and runs the recorder's
/// upkeep (histogram maintenance) every 5 s meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = install().clone();
    let upkeep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    });
    let served = axum::serve(listener, router())
        .with_graceful_shutdown(stop)
        .await;
    upkeep.abort();
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_metrics_endpoint_serves_recorded_counters() {
        install();
        metrics::counter!("myna_service_metrics_selftest_total", "kind" => "a").increment(3);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, async {
            let _ = stopped.await;
        }));
        let body = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("myna_service_metrics_selftest_total{kind=\"a\"} 3"),
            "{body}"
        );
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
