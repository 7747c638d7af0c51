//! axum routes. Thin: authenticate, call the store through `spawn_blocking`, render.
//!
//! | Route | Auth | Answer |
//! |---|---|---|
//! | `POST /v1/arrivals` | edge ([`EdgeAuth`]) | 201 stored / 200 duplicate, `{handoff_id, stored}` |
//! | `POST /v1/arrivals/{id}/withdrawal` | edge | 200; 404 until the arrival is here (the edge retries) |
//! | `GET /v1/arrivals` | edge | stored notices, newest first |
//! | `GET /sign-in`, `POST /sign-in`, `POST /sign-out` | none | staff sign-in: id, password, TOTP code (cookie session, 12 h, 2 h idle; see [`crate::staff`]) |
//! | `GET /` | staff session | the dashboard, kept live by `GET /events` |
//! | `GET /events` | staff session (401 without) | server-sent events, see [`crate::stream`] |
//! | `GET /arrivals/{id}` | staff session | one arrival with provenance, printable; 404 page if unknown |
//! | `POST /arrivals/{id}/answer` | staff session, same origin | accept or decline (form); 409 page if answered otherwise |
//! | `GET /arrivals/{id}/fhir` | staff session | the summary as a FHIR R4 IPS `Bundle` |
//! | `GET /healthz` | none | `ok` |
//!
//! Pages without a session redirect to `/sign-in?next=…`.
//!
//! The edge authenticates by transport: over plain HTTP ([`crate::run`]) with its bearer
//! token; over TLS ([`crate::run_tls`]) only with a verified client certificate naming an
//! edge (`urn:myna:edge:<id>`), and the bearer token is refused there (401). Browsers
//! reach the pages over TLS without a certificate.
//!
//! Bodies are capped per route (arrival notices 256 KiB, forms 4 KiB, anything else
//! 16 KiB: 413 beyond), and every request but the event stream at 15 s (408).

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Duration, Utc};
use myna_domain::client_identity::{ClientCertificate, ClientIdentity, parse_client_certificate};
use myna_domain::handoff::{DeclineReason, HandoffDecision, WithdrawalNotice};
use myna_domain::wire::ArrivalNotice;
use myna_service::tls::TlsPeer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::error::{ApiJson, AppError, PageError, html};
use crate::store::AnswerOutcome;

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

/// Arrivals whose ETA passed less than this long ago stay in the dashboard's main list.
pub const STILL_INCOMING: Duration = Duration::hours(2);

/// The session cookie.
pub const SESSION_COOKIE: &str = "hv_session";

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
        .route(
            "/v1/arrivals/{handoff_id}/withdrawal",
            post(receive_withdrawal),
        )
        .route("/", get(dashboard))
        .route("/arrivals/{handoff_id}", get(arrival_page))
        .route(
            "/arrivals/{handoff_id}/answer",
            post(answer).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/arrivals/{handoff_id}/fhir", get(arrival_fhir))
        .route(
            "/sign-in",
            get(crate::sign_in::sign_in_page)
                .post(crate::sign_in::sign_in)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/sign-out", post(crate::sign_in::sign_out))
        .route("/healthz", get(|| async { "ok" }))
        // Routes with their own limit above keep it (the innermost limit wins).
        .layer(DefaultBodyLimit::max(MAX_OTHER_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Added after the timeout layer, so outside it: the stream is meant to stay open,
        // and no deadline belongs on it (its session checks end it instead).
        .route("/events", get(crate::stream::events))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Percent-encodes `text` for a query string value (everything but unreserved bytes).
pub fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A return path after sign-in: local paths only (no `//host`, no scheme).
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Staff id.
    pub id: String,
    /// When the session ends at the latest (its idle timeout may end it sooner).
    pub expires_at: DateTime<Utc>,
    /// SHA-256 of the session token, hex (the event stream re-checks the session).
    pub(crate) token_sha256: String,
}

impl Staff {
    /// The staff member of the session `token_sha256` at `state`'s now, marking it used.
    pub(crate) async fn of_session(
        state: &AppState,
        token_sha256: String,
    ) -> crate::Result<Option<Staff>> {
        let now = state.now();
        let idle_cutoff = now - state.config().sign_in.session_idle;
        let hash = token_sha256.clone();
        let found = state
            .store()
            .run(move |s| s.session_staff(&hash, now, idle_cutoff))
            .await?;
        Ok(found.map(|(id, expires_at)| Staff {
            id,
            expires_at,
            token_sha256,
        }))
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let rejection = || {
            if parts.uri.path() == "/events" {
                PageError::Unauthorized
            } else {
                PageError::SignIn {
                    next: parts
                        .uri
                        .path_and_query()
                        .map_or("/", |p| p.as_str())
                        .to_string(),
                }
            }
        };
        let Some(token) = CookieJar::from_headers(&parts.headers)
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_string())
        else {
            return Err(rejection());
        };
        Staff::of_session(state, token_hash(&token))
            .await?
            .ok_or_else(rejection)
    }
}

/// The edge-agent: over TLS, a verified client certificate naming an edge; over plain
/// HTTP, its bearer token.
pub struct EdgeAuth;

impl FromRequestParts<AppState> for EdgeAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        // Served over TLS (`run_tls`): the certificate is the only credential, so a leaked
        // token is worth nothing without the edge's key.
        if let Some(peer) = parts.extensions.get::<TlsPeer>() {
            return edge_certificate(peer);
        }
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

/// An edge by the client certificate the handshake verified (chain to the configured edge
/// CA, validity, revocation): it must name an edge, not a tablet or a hospital. Logs carry
/// the serial, never the certificate.
fn edge_certificate(peer: &TlsPeer) -> Result<EdgeAuth, AppError> {
    let Some(der) = peer.client_certificate() else {
        tracing::info!("edge route over TLS without a client certificate; refused");
        return Err(AppError::Unauthorized);
    };
    match parse_client_certificate(der) {
        Ok(ClientCertificate {
            identity: ClientIdentity::Edge { .. },
            ..
        }) => Ok(EdgeAuth),
        Ok(other) => {
            tracing::info!(serial = %other.serial, "edge route: client certificate names no edge; refused");
            Err(AppError::Unauthorized)
        }
        Err(error) => {
            tracing::info!(%error, "edge route: client certificate names no identity; refused");
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
    let event = state
        .store()
        .run(move |s| s.insert(&notice, Utc::now()))
        .await?;
    let stored = event.is_some();
    tracing::info!(%handoff_id, %incident_id, stored, "arrival notice received");
    if let Some(seq) = event {
        state.announce(seq);
    }
    let status = if stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(ArrivalReceipt { handoff_id, stored })).into_response())
}

async fn receive_withdrawal(
    _edge: EdgeAuth,
    State(state): State<AppState>,
    Path(handoff_id): Path<uuid::Uuid>,
    ApiJson(notice): ApiJson<WithdrawalNotice>,
) -> Result<Response, AppError> {
    if notice.handoff_id != handoff_id {
        return Err(AppError::InvalidBody {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "handoff id in the body differs from the path",
        });
    }
    let (known, event) = state
        .store()
        .run(move |s| Ok((s.contains(handoff_id)?, s.withdraw(handoff_id, notice.at)?)))
        .await?;
    if !known {
        // The arrival itself has not reached us yet; the edge retries.
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    tracing::info!(%handoff_id, "handoff withdrawn by the crew");
    if let Some(seq) = event {
        state.announce(seq);
    }
    Ok(StatusCode::OK.into_response())
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

async fn dashboard(State(state): State<AppState>, staff: Staff) -> Result<Response, PageError> {
    let now = Utc::now();
    let cutoff = now - STILL_INCOMING;
    // The newest event is read first: anything committed after it reaches the page
    // through the event stream, which resumes from this id.
    let (last_event, incoming, earlier) = state
        .store()
        .run(move |s| {
            Ok((
                s.last_event()?,
                s.incoming(cutoff, DASHBOARD_INCOMING)?,
                s.earlier(cutoff, DASHBOARD_EARLIER)?,
            ))
        })
        .await?;
    let config = state.config();
    Ok(html(crate::render::dashboard_page(
        &crate::render::Dashboard {
            hospital_name: &config.hospital_name,
            staff_id: &staff.id,
            last_event,
        },
        &incoming,
        &earlier,
        now,
    )))
}

async fn load_arrival(
    state: &AppState,
    handoff_id: &str,
) -> Result<crate::store::StoredArrival, PageError> {
    let handoff_id = uuid::Uuid::parse_str(handoff_id).map_err(|_| PageError::NotFound)?;
    state
        .store()
        .run(move |s| s.get(handoff_id))
        .await?
        .ok_or(PageError::NotFound)
}

async fn arrival_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(handoff_id): Path<String>,
) -> Result<Response, PageError> {
    let arrival = load_arrival(&state, &handoff_id).await?;
    tracing::info!(handoff_id = %arrival.notice.handoff_id, incident_id = %arrival.notice.incident_id, staff = %staff.id, "arrival detail viewed");
    Ok(html(crate::render::detail_page(
        &state.config().hospital_name,
        &arrival,
        Utc::now(),
    )))
}

async fn arrival_fhir(
    State(state): State<AppState>,
    staff: Staff,
    Path(handoff_id): Path<String>,
) -> Result<Response, PageError> {
    let arrival = load_arrival(&state, &handoff_id).await?;
    tracing::info!(handoff_id = %arrival.notice.handoff_id, staff = %staff.id, "arrival exported as FHIR");
    let bundle = crate::fhir::ips_bundle(&arrival.notice, Utc::now());
    // A notice FHIR cannot express (a date past 9999) comes back as an OperationOutcome.
    let status = if bundle["resourceType"] == "Bundle" {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/fhir+json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bundle.to_string(),
    )
        .into_response())
}

/// The answer form: `decision` is `accepted` or `declined`; a decline names a `reason`.
#[derive(Debug, Deserialize)]
struct AnswerForm {
    decision: String,
    reason: Option<String>,
    /// `detail` to return to the detail page, else the dashboard.
    back: Option<String>,
}

/// A form posted by a page of this site: the browser's `Origin`, when sent, must be this
/// host (the session cookie is `SameSite=Strict` as well).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    host.is_some() && origin_host == host
}

async fn answer(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(handoff_id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Err(PageError::Forbidden);
    }
    let handoff_id = uuid::Uuid::parse_str(&handoff_id).map_err(|_| PageError::NotFound)?;
    let decision = match (form.decision.as_str(), form.reason.as_deref()) {
        ("accepted", _) => HandoffDecision::Accepted,
        ("declined", Some(reason)) => HandoffDecision::Declined {
            reason: DeclineReason::parse(reason).unwrap_or(DeclineReason::Other),
        },
        ("declined", None) => HandoffDecision::Declined {
            reason: DeclineReason::Other,
        },
        _ => return Err(PageError::NotFound),
    };
    let staff_id = staff.id.clone();
    let outcome = state
        .store()
        .run(move |s| s.answer(handoff_id, decision, &staff_id, Utc::now()))
        .await?;
    match outcome {
        AnswerOutcome::Stored(seq) => {
            tracing::info!(%handoff_id, staff = %staff.id, ?decision, "arrival answered");
            state.announce(seq);
            state.wake_answers();
        }
        AnswerOutcome::Unchanged => {}
        AnswerOutcome::Conflict => return Err(PageError::AlreadyAnswered),
        AnswerOutcome::NotFound => return Err(PageError::NotFound),
    }
    let back = match form.back.as_deref() {
        Some("detail") => format!("/arrivals/{handoff_id}"),
        _ => format!("/#arrival-{handoff_id}"),
    };
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/arrivals/x?y=1")), "/arrivals/x?y=1");
        for bad in ["//evil.example", "https://evil.example", "evil", "/\\evil"] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn forms_from_other_origins_are_refused() {
        let mut headers = HeaderMap::new();
        assert!(same_origin(&headers), "no Origin: a same-origin navigation");
        headers.insert(header::HOST, "127.0.0.1:8081".parse().unwrap());
        headers.insert(header::ORIGIN, "http://127.0.0.1:8081".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&headers));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query("/arrivals/a b?x=1&y"),
            "%2Farrivals%2Fa%20b%3Fx%3D1%26y"
        );
    }
}
