//! Prometheus metrics: one process-wide recorder behind the `metrics` facade, and the
//! endpoint that serves it on its own listen address (never on the service's public one).
//!
//! Code records with `metrics::counter!`/`gauge!`/`histogram!`; labels are route
//! templates, statuses, reasons and other closed sets, never patient or staff data.
//! Before [`install`] runs the macros record nothing.
//!
//! Also here, because both services answer them the same way: [`track`], the middleware
//! counting and timing requests by route template, and [`Readiness`], the answer of
//! `GET /readyz`.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// Route label of a request no route matched (a 404 fallback): never the raw path, which
/// could carry anything a client typed.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Request metrics middleware, state = the service's name (`edge-agent`, `hospital-view`):
/// `http_requests_total{service, method, route, status}` and
/// `http_request_duration_seconds{service, method, route}`. `route` is the matched route
/// template (`/v1/incidents/{id}/summary`), [`UNMATCHED_ROUTE`] for fallbacks; `method`
/// is a standard method or `other`. Add it with `Router::layer` (it then runs after
/// routing, where the template is known), outermost, so refusals by inner layers count.
pub async fn track(State(service): State<&'static str>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "http_request_duration_seconds",
        "service" => service, "method" => method, "route" => route.clone()
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "http_requests_total",
        "service" => service, "method" => method, "route" => route, "status" => status
    )
    .increment(1);
    response
}

/// The method as a label: one of the standard methods, or `other` (a client can send any
/// token as a method; labels stay a closed set).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// One readiness check's result. Names are fixed words (`database`, `checkpoint`, ...);
/// nothing about patients or callers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
}

/// The answer of `GET /readyz`: 200 `{"ready": true, "checks": [...]}` when every check
/// passed, else 503 with the same body (`ready: false`, the failed checks `ok: false`).
/// Building one sets the gauge `readiness_check_ok{service, check}` (1 or 0) per check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// All checks passed.
    pub ready: bool,
    /// Each check, in a fixed order.
    pub checks: Vec<Check>,
}

impl Readiness {
    /// The readiness of `service` from its checks (recorded as gauges).
    pub fn new(service: &'static str, checks: Vec<Check>) -> Self {
        for check in &checks {
            metrics::gauge!("readiness_check_ok", "service" => service, "check" => check.name)
                .set(if check.ok { 1.0 } else { 0.0 });
        }
        Readiness {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

impl IntoResponse for Readiness {
    fn into_response(self) -> Response {
        let status = if self.ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, axum::Json(self)).into_response()
    }
}

/// How long a readiness write round-trip may take before the database counts as not
/// writable (a held lock, a stalled disk): well under a prober's usual 5 s timeout.
pub const READINESS_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

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
