//! The portal's card sign-in routes (see [`crate::portal_sign_in`] for the checks and the
//! exact bytes the card signs), and the session they open.
//!
//! - `POST /portal/v1/sign-in/challenges` (no credentials, no body) → 201
//!   [`PortalChallenge`].
//! - `POST /portal/v1/sign-in` [`PortalSignInRequest`] (strict JSON) → 200
//!   [`PortalSession`] and the session cookie (`HttpOnly`, `SameSite=Strict`, path
//!   `/portal`, `Secure` when the request came over the edge's own TLS). Every refusal
//!   is the same 401 `sign_in_failed`; the log says which check failed.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use myna_domain::wire::{ErrorBody, PortalChallenge, PortalSession, PortalSignInRequest};
use myna_service::tls::TlsPeer;

use super::error::{ApiJson, AppError};
use super::session::{NewSession, session_cookie};
use crate::portal_sign_in;
use crate::state::AppState;
use crate::store::AuthDenial;

/// `POST /portal/v1/sign-in/challenges`.
#[utoipa::path(post, path = "/portal/v1/sign-in/challenges", tag = "portal", operation_id = "issue_portal_challenge",
    responses((status = 201, description = "A one-time challenge for the patient's card, valid 2 minutes", body = PortalChallenge)))]
pub(super) async fn issue_challenge(
    State(state): State<AppState>,
) -> Result<(StatusCode, ApiJson<PortalChallenge>), AppError> {
    let now = state.clock.now();
    let ttl = state.config.challenge_ttl;
    let row = state
        .store
        .write(move |tx| portal_sign_in::issue_challenge(tx, ttl, now))
        .await?;
    tracing::info!(challenge = %row.id, "portal sign-in challenge issued");
    Ok((
        StatusCode::CREATED,
        ApiJson(PortalChallenge::new(row.id, &row.challenge, row.expires_at)),
    ))
}

/// `POST /portal/v1/sign-in`.
#[utoipa::path(post, path = "/portal/v1/sign-in", tag = "portal", request_body = PortalSignInRequest,
    responses(
        (status = 200, description = "Signed in: the session, also set as the `portal_session` cookie", body = PortalSession,
            headers(("set-cookie" = String, description = "`portal_session`, HttpOnly, SameSite=Strict, path /portal"))),
        (status = 401, description = "`sign_in_failed`, whichever check failed", body = ErrorBody)))]
pub(super) async fn sign_in(
    State(state): State<AppState>,
    tls: Option<Extension<TlsPeer>>,
    jar: CookieJar,
    ApiJson(request): ApiJson<PortalSignInRequest>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let config = std::sync::Arc::clone(&state.config);
    let session = NewSession::new(&state);
    let challenge = request.challenge_id;
    let outcome = state
        .store
        .write(move |tx| {
            let outcome = portal_sign_in::sign_in(tx, &request, &config.card_trust, now)?;
            match &outcome {
                Ok(patient) => session.store(tx, patient)?,
                // Refusals go to the security log (not the patient's access log: anyone
                // holding a copy of a certificate could grow that without bound).
                Err(reason) => tx.append_auth_denial(&AuthDenial {
                    at: now,
                    role: "anonymous".into(),
                    principal: None,
                    method: "POST".into(),
                    route: "/portal/v1/sign-in".into(),
                    resource: Some(challenge.to_string()),
                    reason: format!("sign_in_failed: {reason:?}"),
                })?,
            }
            Ok(outcome.map(|_| session))
        })
        .await?;
    match outcome {
        Ok(session) => {
            tracing::info!(%challenge, "patient signed in to the portal with their card");
            let session = session.into_session();
            let cookie = session_cookie(session.token.clone(), tls.is_some());
            Ok((jar.add(cookie), ApiJson(session)).into_response())
        }
        Err(reason) => {
            tracing::info!(%challenge, ?reason, "portal card sign-in refused");
            metrics::counter!("edge_portal_sign_in_failures_total", "reason" => reason.code())
                .increment(1);
            Ok((
                StatusCode::UNAUTHORIZED,
                axum::Json(ErrorBody {
                    code: "sign_in_failed".into(),
                    message: "sign-in failed: get a new challenge and sign it with your card"
                        .into(),
                }),
            )
                .into_response())
        }
    }
}
