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
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use myna_domain::identity::PatientId;
use myna_domain::wire::{ErrorBody, PortalChallenge, PortalSession, PortalSignInRequest};
use myna_service::tls::TlsPeer;
use rand::RngCore;

use crate::store::AuthDenial;

use super::auth::{PORTAL_COOKIE, token_hash};
use super::{ApiJson, AppError};
use crate::store::Tx;
use crate::{AppState, portal_sign_in};

/// A session token about to be stored: the token for the patient, its hash for the table.
pub(super) struct NewSession {
    token: String,
    hash: String,
    expires_at: DateTime<Utc>,
}

impl NewSession {
    /// 32 random bytes, hex; expires after the configured portal session lifetime.
    pub(super) fn new(state: &AppState) -> Self {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        NewSession {
            hash: token_hash(&token),
            token,
            expires_at: state.clock.now() + state.config.portal_session_ttl,
        }
    }

    /// Stores the session (its token's hash only) for `patient`.
    pub(super) fn store(&self, tx: &Tx<'_>, patient: &PatientId) -> crate::Result<()> {
        tx.insert_portal_session(&self.hash, patient, self.expires_at)
    }

    /// What the client gets.
    pub(super) fn into_session(self) -> PortalSession {
        PortalSession {
            token: self.token,
            expires_at: self.expires_at,
        }
    }
}

/// The session cookie: script-free, same-site only, and `Secure` over TLS (a plain-HTTP
/// development edge could not set it back otherwise).
pub(super) fn session_cookie(token: String, over_tls: bool) -> Cookie<'static> {
    Cookie::build((PORTAL_COOKIE, token))
        .path("/portal")
        .http_only(true)
        .secure(over_tls)
        .same_site(SameSite::Strict)
        .build()
}

/// `POST /portal/v1/sign-in/challenges`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_secure_exactly_over_tls() {
        for over_tls in [false, true] {
            let cookie = session_cookie("t0k3n".into(), over_tls).to_string();
            for attribute in [
                "portal_session=t0k3n",
                "HttpOnly",
                "SameSite=Strict",
                "Path=/portal",
            ] {
                assert!(cookie.contains(attribute), "{attribute} in {cookie}");
            }
            assert_eq!(cookie.contains("Secure"), over_tls, "{cookie}");
        }
    }
}
