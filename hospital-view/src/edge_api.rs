//! The edge-agent's routes: arrival notices and withdrawals in (idempotent), the stored
//! notices out; [`EdgeAuth`] says who may call them.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use myna_domain::client_identity::{ClientCertificate, ClientIdentity, parse_client_certificate};
use myna_domain::handoff::WithdrawalNotice;
use myna_domain::wire::ArrivalNotice;
use myna_service::json::{ApiJson, BodyRejection};
use myna_service::tls::TlsPeer;
use serde::{Deserialize, Serialize};

use crate::http_error::AppError;
use crate::state::AppState;

/// Most notices in `GET /v1/arrivals`.
const JSON_LIST_LIMIT: u32 = 500;

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
        // Without a configured token, plain HTTP admits no edge.
        let expected = state
            .config()
            .edge_token
            .as_deref()
            .ok_or(AppError::Unauthorized)?;
        if myna_service::constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
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

/// `POST /v1/arrivals`: stores the notice once per handoff id.
pub(crate) async fn receive_arrival(
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
        metrics::counter!("hospital_arrivals_stored_total").increment(1);
        state.announce(seq);
    }
    let status = if stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(ArrivalReceipt { handoff_id, stored })).into_response())
}

/// `POST /v1/arrivals/{id}/withdrawal`: the crew withdrew the handoff.
pub(crate) async fn receive_withdrawal(
    _edge: EdgeAuth,
    State(state): State<AppState>,
    Path(handoff_id): Path<uuid::Uuid>,
    ApiJson(notice): ApiJson<WithdrawalNotice>,
) -> Result<Response, AppError> {
    if notice.handoff_id != handoff_id {
        return Err(AppError::InvalidBody(BodyRejection::invalid(
            "handoff id in the body differs from the path",
        )));
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

/// `GET /v1/arrivals`: the stored notices, newest first.
pub(crate) async fn list_arrivals(
    _edge: EdgeAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<ArrivalNotice>>, AppError> {
    let listing = state.store().run(|s| s.newest(JSON_LIST_LIMIT)).await?;
    Ok(ApiJson(
        listing.arrivals.into_iter().map(|a| a.notice).collect(),
    ))
}
