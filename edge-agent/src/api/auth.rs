//! Request identities: the calling tablet, a receiving hospital's hospital-view, the
//! signed-in patient, or a privacy officer.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::TypedHeader;
use axum_extra::extract::CookieJar;
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Bearer;
use myna_domain::identity::PatientId;
use sha2::{Digest, Sha256};

use super::AppError;
use crate::AppState;
use crate::config::{DeviceRegistration, HospitalEndpoint};

/// Cookie holding the portal session token.
pub const PORTAL_COOKIE: &str = "portal_session";

/// The request's bearer token; 401 without one.
async fn bearer(parts: &mut Parts, state: &AppState) -> Result<Bearer, AppError> {
    let TypedHeader(Authorization(bearer)) =
        TypedHeader::<Authorization<Bearer>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Unauthorized)?;
    Ok(bearer)
}

/// The registered tablet making the request.
pub struct Device(pub DeviceRegistration);

impl FromRequestParts<AppState> for Device {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = bearer(parts, state).await?;
        state
            .config
            .device_by_token(bearer.token())
            .map(|d| Device(d.clone()))
            .ok_or(AppError::Unauthorized)
    }
}

/// A receiving hospital's hospital-view, by the bearer token configured for it (the same
/// per-hospital secret the edge presents when it delivers; mTLS replaces both later).
pub struct Hospital(pub HospitalEndpoint);

impl FromRequestParts<AppState> for Hospital {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = bearer(parts, state).await?;
        state
            .config
            .hospital_by_token(bearer.token())
            .map(|h| Hospital(h.clone()))
            .ok_or(AppError::Unauthorized)
    }
}

/// An operator (運用担当), who declares disasters, by a bearer token from
/// [`crate::config::Config::operator_tokens`].
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = bearer(parts, state).await?;
        if state.config.is_operator(bearer.token()) {
            Ok(Operator)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

/// A privacy officer (個人情報保護担当), by a bearer token from
/// [`crate::config::Config::privacy_officers`]; carries the officer's id. Device and
/// patient tokens are not officer tokens: they get 401 like no token at all.
pub struct PrivacyOfficer {
    /// The officer's id (written into the access records of their findings).
    pub officer_id: String,
}

impl FromRequestParts<AppState> for PrivacyOfficer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = bearer(parts, state).await?;
        state
            .config
            .privacy_officer_by_token(bearer.token())
            .map(|officer| PrivacyOfficer {
                officer_id: officer.id.clone(),
            })
            .ok_or(AppError::Unauthorized)
    }
}

/// SHA-256 hex of a session token: only the hash is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The patient signed in to the portal (bearer token or session cookie).
pub struct PortalPatient(pub PatientId);

impl FromRequestParts<AppState> for PortalPatient {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = TypedHeader::<Authorization<Bearer>>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|TypedHeader(Authorization(b))| b.token().to_string());
        let token = match bearer {
            Some(token) => token,
            None => CookieJar::from_headers(&parts.headers)
                .get(PORTAL_COOKIE)
                .map(|c| c.value().to_string())
                .ok_or(AppError::Unauthorized)?,
        };
        let hash = token_hash(&token);
        let now = state.clock.now();
        let patient = state
            .store
            .read(move |tx| tx.portal_session(&hash, now))
            .await?;
        patient.map(PortalPatient).ok_or(AppError::Unauthorized)
    }
}
