//! Request identities: the calling tablet, a receiving hospital's hospital-view, the
//! signed-in patient, or a privacy officer.
//!
//! Tablets and hospital-views are identified by the client certificate the TLS handshake
//! verified (`myna_service::tls::TlsPeer`, identity read by
//! [`myna_domain::client_identity`]); without one, and only while
//! [`crate::config::Config::require_client_certificates`] is off, by their bearer token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::TypedHeader;
use axum_extra::extract::CookieJar;
use axum_extra::headers::Authorization;
use axum_extra::headers::authorization::Bearer;
use myna_domain::client_identity::{ClientCertificate, ClientIdentity, parse_client_certificate};
use myna_domain::identity::PatientId;
use myna_service::tls::TlsPeer;
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

/// The identity of the request's verified client certificate: `None` without one (plain
/// HTTP, or a TLS client that presented none); 401 when the certificate names no valid
/// identity (the handshake already refused expired, revoked and foreign certificates).
fn client_certificate(parts: &Parts) -> Result<Option<ClientCertificate>, AppError> {
    let Some(der) = parts
        .extensions
        .get::<TlsPeer>()
        .and_then(TlsPeer::client_certificate)
    else {
        return Ok(None);
    };
    parse_client_certificate(der).map(Some).map_err(|error| {
        tracing::info!(%error, "client certificate refused");
        AppError::Unauthorized
    })
}

/// The registered tablet making the request: by its client certificate (the device id must
/// be registered, with the certificate's unit and fire department), else by bearer token
/// unless certificates are required. The registration carries the certificate's serial.
pub struct Device(pub DeviceRegistration);

impl FromRequestParts<AppState> for Device {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(certificate) = client_certificate(parts)? {
            let ClientIdentity::Device {
                fire_department,
                unit,
                device_id,
            } = &certificate.identity
            else {
                return Err(AppError::Unauthorized);
            };
            let registration = state
                .config
                .device(device_id)
                .filter(|d| d.unit == *unit && d.fire_department.id == *fire_department)
                .ok_or_else(|| {
                    // Ids and the serial, not names: the serial is what a CRL would revoke.
                    tracing::info!(
                        device = %device_id,
                        serial = %certificate.serial,
                        "client certificate names no registered device (or another unit)"
                    );
                    AppError::Unauthorized
                })?;
            let mut registration = registration.clone();
            registration.certificate_serial = Some(certificate.serial);
            return Ok(Device(registration));
        }
        if state.config.require_client_certificates {
            return Err(AppError::Unauthorized);
        }
        let bearer = bearer(parts, state).await?;
        state
            .config
            .device_by_token(bearer.token())
            .map(|d| Device(d.clone()))
            .ok_or(AppError::Unauthorized)
    }
}

/// A receiving hospital's hospital-view: by its client certificate, else (unless
/// certificates are required) by the bearer token configured for it (the same per-hospital
/// secret the edge presents when it delivers).
pub struct Hospital(pub HospitalEndpoint);

impl FromRequestParts<AppState> for Hospital {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(certificate) = client_certificate(parts)? {
            let ClientIdentity::Hospital { hospital_id } = &certificate.identity else {
                return Err(AppError::Unauthorized);
            };
            // A hospital's answers write no access record: the certificate only identifies.
            let hospital = state.config.hospital(hospital_id).ok_or_else(|| {
                tracing::info!(
                    hospital = %hospital_id,
                    serial = %certificate.serial,
                    "client certificate names no configured hospital"
                );
                AppError::Unauthorized
            })?;
            return Ok(Hospital(hospital.clone()));
        }
        if state.config.require_client_certificates {
            return Err(AppError::Unauthorized);
        }
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
/// [`crate::config::Config::privacy_officer_tokens`]. Device and patient tokens are not
/// officer tokens: they get 401 like no token at all.
pub struct PrivacyOfficer;

impl FromRequestParts<AppState> for PrivacyOfficer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = bearer(parts, state).await?;
        if state.config.is_privacy_officer(bearer.token()) {
            Ok(PrivacyOfficer)
        } else {
            Err(AppError::Unauthorized)
        }
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
