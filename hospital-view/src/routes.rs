//! The router: every route, its body limit and timeout. The handlers live with what they
//! serve: [`crate::edge_api`] (the edge), [`crate::pages`] (the staff's pages),
//! `sign_in`, [`crate::stream`]; all thin: authenticate, call the store through
//! `spawn_blocking`, render.
//!
//! | Route | Auth | Answer |
//! |---|---|---|
//! | `POST /v1/arrivals` | edge ([`EdgeAuth`](crate::edge_api::EdgeAuth)) | 201 stored / 200 duplicate, `{handoff_id, stored}` |
//! | `POST /v1/arrivals/{id}/withdrawal` | edge | 200; 404 until the arrival is here (the edge retries) |
//! | `GET /v1/arrivals` | edge | stored notices, newest first |
//! | `GET /sign-in`, `POST /sign-in`, `POST /sign-out` | none | staff sign-in: id, password, TOTP code (cookie session, 12 h, 2 h idle; see [`crate::staff`]) |
//! | `GET /` | staff session | the dashboard, kept live by `GET /events` |
//! | `GET /events` | staff session (401 without) | server-sent events, see [`crate::stream`] |
//! | `GET /arrivals/{id}` | staff session | one arrival with provenance, printable; 404 page if unknown |
//! | `POST /arrivals/{id}/answer` | staff session, same origin | accept or decline (form); 409 page if answered otherwise |
//! | `GET /arrivals/{id}/fhir` | staff session | the summary as a FHIR R4 IPS `Bundle` |
//! | `GET /healthz` | none | `ok` |
//! | `GET /readyz` | none | 200 or 503, `{ready, checks: [{name, ok}]}`; a result younger than 1 s is reused (see [`crate::health`]) |
//!
//! Pages without a session redirect to `/sign-in?next=…`.
//!
//! Every request is counted and timed by route template
//! ([`myna_service::metrics::track`]) and logged in a span `request` with its method,
//! route template and request id (never the query string): the caller's `x-request-id`
//! when it is a plain token of at most 64 characters, else a new UUID; every answer
//! carries it back ([`myna_service::request_id`]).
//!
//! The edge authenticates by transport: over plain HTTP ([`crate::server::run`]) with its bearer
//! token; over TLS ([`crate::server::run_tls`]) only with a verified client certificate naming an
//! edge (`urn:myna:edge:<id>`), and the bearer token is refused there (401). Browsers
//! reach the pages over TLS without a certificate.
//!
//! Bodies are capped per route (arrival notices 256 KiB, forms 4 KiB, anything else
//! 16 KiB: 413 beyond), and every request but the event stream at 15 s (408).

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use myna_service::request_id;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{edge_api, health, pages, sign_in, stream};

/// Largest accepted `POST /v1/arrivals` body (a summary with many records fits easily).
pub const MAX_NOTICE_BYTES: usize = 256 * 1024;
/// Largest accepted form body.
const MAX_FORM_BYTES: usize = 4 * 1024;
/// Largest body of any other route (withdrawal notices, sign-out): they carry a few
/// hundred bytes at most.
pub const MAX_OTHER_BODY_BYTES: usize = 16 * 1024;
/// Longest a request may take, the event stream excepted (its connection is meant to stay
/// open): then 408, and a stuck handler no longer holds its connection.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Builds the router with its tracing layer.
pub fn app(state: AppState) -> Router {
    let readiness = health::ReadinessCache::default();
    Router::new()
        .route(
            "/v1/arrivals",
            get(edge_api::list_arrivals)
                .post(edge_api::receive_arrival)
                .layer(DefaultBodyLimit::max(MAX_NOTICE_BYTES)),
        )
        .route(
            "/v1/arrivals/{handoff_id}/withdrawal",
            post(edge_api::receive_withdrawal),
        )
        .route("/", get(pages::dashboard))
        .route("/arrivals/{handoff_id}", get(pages::arrival_page))
        .route(
            "/arrivals/{handoff_id}/answer",
            post(pages::answer).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/arrivals/{handoff_id}/fhir", get(pages::arrival_fhir))
        .route(
            "/sign-in",
            get(sign_in::sign_in_page)
                .post(sign_in::sign_in)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move |State(state): State<AppState>| async move {
                readiness.readiness(&state).await
            }),
        )
        // Routes with their own limit above keep it (the innermost limit wins).
        .layer(DefaultBodyLimit::max(MAX_OTHER_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Added after the timeout layer, so outside it: the stream is meant to stay open,
        // and no deadline belongs on it (its session checks end it instead).
        .route("/events", get(stream::events))
        .layer(TraceLayer::new_for_http().make_span_with(request_id::span))
        // Every answer, refusals and timeouts included, carries the id its span was
        // logged with.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(
            request_id::drop_unusable_request_id,
        ))
        .layer(axum::middleware::from_fn_with_state(
            health::SERVICE,
            myna_service::metrics::track,
        ))
        .with_state(state)
}
