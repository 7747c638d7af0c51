//! axum routes. Thin: authenticate, call the store through `spawn_blocking`, render.
//!
//! | Route | Auth | Answer |
//! |---|---|---|
//! | `POST /v1/arrivals` | edge bearer token | 201 stored / 200 duplicate, `{handoff_id, stored}` |
//! | `GET /v1/arrivals` | edge bearer token (until staff accounts exist) | stored notices, newest first |
//! | `GET /` | none yet | the dashboard |
//! | `GET /arrivals/{handoff_id}` | none yet | one arrival with provenance; 404 page if unknown |
//! | `GET /healthz` | none | `ok` |

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Duration, Utc};
use myna_domain::wire::ArrivalNotice;
use serde::{Deserialize, Serialize};
use tower_http::trace::TraceLayer;

use crate::error::{ApiJson, AppError, PageError, html};
use crate::{AppState, ArrivalStored};

/// Largest accepted `POST /v1/arrivals` body (a summary with many records fits easily).
pub const MAX_NOTICE_BYTES: usize = 256 * 1024;

/// Arrivals whose ETA passed less than this long ago stay in the dashboard's main list.
pub const STILL_INCOMING: Duration = Duration::hours(2);

/// Most cards on the dashboard, and most rows in its "earlier" list.
const DASHBOARD_INCOMING: u32 = 50;
const DASHBOARD_EARLIER: u32 = 20;
/// Most notices in `GET /v1/arrivals`.
const JSON_LIST_LIMIT: u32 = 500;

/// Builds the router with its tracing layer.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route(
            "/v1/arrivals",
            get(list_arrivals)
                .post(receive_arrival)
                .layer(DefaultBodyLimit::max(MAX_NOTICE_BYTES)),
        )
        .route("/", get(dashboard))
        .route("/arrivals/{handoff_id}", get(arrival_page))
        .route("/healthz", get(|| async { "ok" }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The edge-agent, authenticated by its bearer token.
pub struct EdgeAuth;

impl FromRequestParts<AppState> for EdgeAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(AppError::Unauthorized)?;
        if myna_service::constant_time_eq(
            presented.as_bytes(),
            state.config().edge_token.as_bytes(),
        ) {
            Ok(EdgeAuth)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

/// Answer to `POST /v1/arrivals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivalReceipt {
    /// The handoff.
    pub handoff_id: uuid::Uuid,
    /// `true` when this request stored it, `false` when it was already stored.
    pub stored: bool,
}

async fn receive_arrival(
    _edge: EdgeAuth,
    State(state): State<AppState>,
    ApiJson(notice): ApiJson<ArrivalNotice>,
) -> Result<Response, AppError> {
    let handoff_id = notice.handoff_id;
    let incident_id = notice.incident_id;
    let stored = state
        .store()
        .run(move |s| s.insert(&notice, Utc::now()))
        .await?;
    tracing::info!(%handoff_id, %incident_id, stored, "arrival notice received");
    if stored {
        state.announce(ArrivalStored { handoff_id });
    }
    let status = if stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(ArrivalReceipt { handoff_id, stored })).into_response())
}

async fn list_arrivals(
    _edge: EdgeAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<ArrivalNotice>>, AppError> {
    let listing = state.store().run(|s| s.newest(JSON_LIST_LIMIT)).await?;
    Ok(ApiJson(
        listing.arrivals.into_iter().map(|a| a.notice).collect(),
    ))
}

async fn dashboard(State(state): State<AppState>) -> Result<Response, PageError> {
    let now = Utc::now();
    let cutoff = now - STILL_INCOMING;
    let (incoming, earlier) = state
        .store()
        .run(move |s| {
            Ok((
                s.incoming(cutoff, DASHBOARD_INCOMING)?,
                s.earlier(cutoff, DASHBOARD_EARLIER)?,
            ))
        })
        .await?;
    let config = state.config();
    Ok(html(crate::render::dashboard_page(
        &config.hospital_name,
        &incoming,
        &earlier,
        now,
    )))
}

async fn arrival_page(
    State(state): State<AppState>,
    Path(handoff_id): Path<String>,
) -> Result<Response, PageError> {
    let handoff_id = uuid::Uuid::parse_str(&handoff_id).map_err(|_| PageError::NotFound)?;
    let arrival = state
        .store()
        .run(move |s| s.get(handoff_id))
        .await?
        .ok_or(PageError::NotFound)?;
    tracing::info!(%handoff_id, incident_id = %arrival.notice.incident_id, "arrival detail viewed");
    Ok(html(crate::render::detail_page(
        &state.config().hospital_name,
        &arrival,
        Utc::now(),
    )))
}
