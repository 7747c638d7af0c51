//! HTTP API (axum). Handlers translate and call [`crate::emergency`]; they hold no policy.
//!
//! # Routes
//! Tablet (bearer device token): `POST /v1/identity-challenges`, `POST /v1/incidents`,
//! `PUT /v1/incidents/{id}/consent`,
//! `GET /v1/incidents/{id}/summary`, `POST /v1/incidents/{id}/device-views`,
//! `GET /v1/hospitals?lat=&lon=`,
//! `POST /v1/incidents/{id}/handoff`, `GET /v1/handoffs/{id}?wait=&known=`,
//! `POST /v1/handoffs/{id}/withdraw`.
//! Receiving hospital (bearer hospital token): `POST /v1/hospital/handoffs/{id}/decision`.
//! Portal sign-in (no credentials): `POST /portal/v1/sign-in/challenges`,
//! `POST /portal/v1/sign-in` (the card's signature; see `portal_sign_in`).
//! Portal (bearer or cookie session): `POST /portal/v1/dev-sign-in` (development only),
//! `GET /portal/v1/history?before=&limit=&from=&to=&institution=`,
//! `GET /portal/v1/history/{access_id}/proof`, `GET /portal/v1/history/{access_id}/audit-event`,
//! `POST /portal/v1/history/{access_id}/flag`; HTML: `GET /portal?lang=&...` (same filters),
//! `POST /portal/history/{access_id}/flag` (form), `GET /portal/sign-in?lang=` (how to sign
//! in with the card), `GET /portal/dev-sign-in?patient=&lang=`
//! (development only).
//! Privacy officer (bearer officer token): `GET /v1/review-queue?state=&after=&limit=`,
//! `POST /v1/review-queue/{access_id}/outcome`.
//! Operator (bearer operator token): `POST /v1/disasters`, `GET /v1/disasters`; tablets:
//! `GET /v1/disasters/active`.
//! Access log (public, hashes only): `GET /v1/log/key`, `GET /v1/log/checkpoint`,
//! `GET /v1/log/proof/inclusion?index=&tree_size=`, `GET /v1/log/proof/consistency?from=&to=`.
//! Operations: `GET /healthz` (the process is up), `GET /readyz` (see [`crate::health`]),
//! `GET /openapi.json` (this API as an OpenAPI 3.1 document).
//!
//! Every request is counted and timed by route template
//! ([`myna_service::metrics::track`]). Every route but `/healthz` is rate limited per
//! caller and client address ([`rate_limit`]); bodies are capped at [`MAX_BODY_BYTES`] and
//! requests at 15 s. Every request is traced in a span with its request id
//! (`x-request-id`, echoed in the answer) and, on incident routes, the incident id
//! ([`request_span`]).
//!
//! # Layout
//! - this file: the router ([`app`]), its layers and limits;
//! - [`authz`]: the route table (deny by default) and the middleware that identifies the
//!   caller; `auth`: the typed principals handlers take;
//! - `session`: the portal session cookie, token hashing, new sessions (used by `authz`,
//!   `rate_limit`, `portal` and `portal_sign_in`); `portal_redirect`: where a browser
//!   without a session goes;
//! - `error`: [`AppError`], the query extractor and the mapping of refused bodies;
//! - `wire`: the JSON responses only the edge writes (proofs, flag answers) and their limits;
//! - one module per audience's handlers: `tablet`, `handoff`, `portal` (with
//!   `portal_query`, `portal_page`, `portal_text`), `portal_sign_in`, `review`,
//!   `denials`, `disasters`, `log`; [`rate_limit`];
//! - `liveness`: `/healthz`; [`openapi`]: the OpenAPI document of these routes; [`request_span`]: the request's
//!   tracing span and its request id.

mod auth;
pub mod authz;
mod denials;
mod disasters;
mod error;
mod handoff;
mod liveness;
mod log;
pub mod openapi;
mod portal;
mod portal_page;
mod portal_query;
mod portal_redirect;
mod portal_sign_in;
mod portal_text;
pub mod rate_limit;
pub mod request_span;
mod review;
mod session;
mod tablet;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post, put};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::{Device, Hospital, Operator, PortalPatient, PrivacyOfficer};
pub use error::{ApiJson, ApiQuery, AppError};

use crate::health;
use crate::state::AppState;

/// Largest accepted request body. A card certificate is ~2 KiB in base64; a handoff far less.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest a request may take before the edge answers 408 (long polls included: their
/// wait, `MAX_WAIT` of the handoff routes, is shorter).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Builds the router. Tests call it with `oneshot`; [`crate::server::run`] serves it.
pub fn app(state: AppState) -> Router {
    let limiter = Arc::new(rate_limit::Limiter::new(Arc::clone(&state.config)));
    Router::new()
        .route("/v1/identity-challenges", post(tablet::issue_challenge))
        .route("/v1/incidents", post(tablet::open_incident))
        .route("/v1/incidents/{id}/consent", put(tablet::record_consent))
        .route("/v1/incidents/{id}/summary", get(tablet::summary))
        .route("/v1/incidents/{id}/device-views", post(tablet::device_view))
        .route("/v1/incidents/{id}/handoff", post(handoff::hand_off))
        .route("/v1/hospitals", get(handoff::hospitals))
        .route("/v1/handoffs/{id}", get(handoff::status))
        .route("/v1/handoffs/{id}/withdraw", post(handoff::withdraw))
        .route("/v1/hospital/handoffs/{id}/decision", post(handoff::decide))
        .route("/portal/v1/dev-sign-in", post(portal::dev_sign_in))
        .route(
            "/portal/v1/sign-in/challenges",
            post(portal_sign_in::issue_challenge),
        )
        .route("/portal/v1/sign-in", post(portal_sign_in::sign_in))
        .route("/portal/v1/history", get(portal::history))
        .route("/portal/v1/history/{id}/proof", get(portal::proof))
        .route(
            "/portal/v1/history/{id}/audit-event",
            get(portal::audit_event),
        )
        .route("/portal/v1/history/{id}/flag", post(portal::flag))
        .route("/portal", get(portal::history_page))
        .route("/portal/history/{id}/flag", post(portal::flag_form))
        .route("/v1/review-queue", get(review::queue))
        .route("/v1/auth-denials", get(denials::list))
        .route("/v1/review-queue/{id}/outcome", post(review::outcome))
        .route(
            "/v1/disasters",
            get(disasters::list).post(disasters::declare),
        )
        .route("/v1/disasters/active", get(disasters::active))
        .route("/portal/sign-in", get(portal::sign_in_page))
        .route("/portal/dev-sign-in", get(portal::dev_sign_in_page))
        .route("/v1/log/key", get(log::key))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/proof/inclusion", get(log::inclusion))
        .route("/v1/log/proof/consistency", get(log::consistency))
        .route("/healthz", get(liveness::healthz))
        .route("/readyz", get(liveness::readyz))
        .route("/openapi.json", get(openapi::serve))
        // Runs for matched routes only (their template is known); unmatched paths are 404.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authz::authorize,
        ))
        .fallback(|| async { AppError::NotFound("route_not_found") })
        // Innermost of the layers: a refused request is still traced and timed, and its
        // body is never read.
        .layer(middleware::from_fn_with_state(limiter, rate_limit::limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span::span))
        // Every answer, refusals and timeouts included, carries the id its span was
        // logged with.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::map_request(
            request_span::drop_unusable_request_id,
        ))
        // Outermost: requests refused by any layer above are counted too.
        .layer(middleware::from_fn_with_state(
            health::SERVICE,
            myna_service::metrics::track,
        ))
        .with_state(state)
}
