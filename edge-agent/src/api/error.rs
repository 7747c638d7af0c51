//! The HTTP error type: a stable code and a short message for the client, details to the log.

use axum::extract::FromRequestParts;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use myna_domain::access::DenialReason;
use myna_domain::wire::ErrorBody;
/// The JSON body extractor and response of every service (`myna_service::json`); its
/// rejections are [`AppError`]s here (JSON error bodies, 4xx).
pub use myna_service::json::ApiJson;
use myna_service::json::{ApiState, BodyRejection};

use crate::emergency::Denial;
use crate::state::AppState;

impl ApiState for AppState {
    type Error = AppError;
}

/// Query-string extractor whose rejections are [`AppError`]s: a missing or malformed
/// parameter is a JSON 422 `invalid_query`, like every other error of the API.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for AppError {
    /// serde's message may quote the value; the client gets a fixed one.
    fn from(_: QueryRejection) -> Self {
        AppError::Invalid(
            "invalid_query",
            "a query parameter is missing or not of the expected form",
        )
    }
}

/// Marks a response that refused another's resource, for the security log.
#[derive(Debug, Clone, Copy)]
pub struct ScopeRefusal;

/// Everything a handler can answer besides success.
#[derive(Debug)]
pub enum AppError {
    /// No or unknown credentials.
    Unauthorized,
    /// Valid credentials of a role this route does not allow.
    Forbidden,
    /// Unknown resource; the code says which.
    NotFound(&'static str),
    /// Another unit's, hospital's or patient's resource: answered exactly like
    /// [`AppError::NotFound`] with the same code, and logged as a refusal by
    /// [`super::authz::authorize`] (the response carries `ScopeRefusal`).
    OutsideScope(&'static str),
    /// Denied by the emergency-access policy (already in the access log).
    Denied(DenialReason),
    /// The body could not be read as the expected JSON.
    InvalidBody {
        /// 400, 413, 415 or 422 as axum decided.
        status: StatusCode,
        /// What was wrong, never quoting the body.
        message: String,
    },
    /// A well-formed request with an invalid value.
    Invalid(&'static str, &'static str),
    /// Conflicts with existing state: a stable code and what to do about it.
    Conflict(&'static str, &'static str),
    /// Storage failed (disk full, I/O error): nothing was disclosed.
    Storage(crate::error::Error),
}

impl From<BodyRejection> for AppError {
    /// A body `myna_service::json` refused: its status and fixed message (serde's own can
    /// quote the offending value, a name or a drug); the code follows from the status.
    fn from(rejection: BodyRejection) -> Self {
        AppError::InvalidBody {
            status: rejection.status,
            message: rejection.message.to_string(),
        }
    }
}

impl From<crate::error::Error> for AppError {
    fn from(error: crate::error::Error) -> Self {
        AppError::Storage(error)
    }
}

impl From<Denial> for AppError {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::Policy(reason) => AppError::Denied(reason),
            Denial::IncidentNotFound => AppError::NotFound("incident_not_found"),
            Denial::IncidentIdConflict => AppError::Conflict(
                "incident_id_conflict",
                "this incident id is already used for another patient or tablet",
            ),
            Denial::HandoffOpen => AppError::Conflict(
                "handoff_open",
                "the patient is already handed to a hospital: wait for its answer or withdraw that handoff first",
            ),
            Denial::HandoffNotFound => AppError::NotFound("handoff_not_found"),
            Denial::HandoffOfAnother => AppError::OutsideScope("handoff_not_found"),
            Denial::IncidentOfAnotherUnit => AppError::OutsideScope("incident_not_found"),
            Denial::HandoffDecided => AppError::Conflict(
                "handoff_decided",
                "this handoff was already answered or withdrawn",
            ),
            Denial::HandoffIdConflict => AppError::Conflict(
                "handoff_id_conflict",
                "this handoff id is already used for another incident, tablet or hospital",
            ),
            Denial::ViewIdConflict => AppError::Conflict(
                "view_id_conflict",
                "this view id is already used by another access record",
            ),
            Denial::NoSummaryDisclosed => AppError::Conflict(
                "no_summary_disclosed",
                "no summary was disclosed for this incident, so the tablet holds no copy to show",
            ),
        }
    }
}

/// Status, stable code and message of each denial. Card problems that mean "this card
/// cannot identify anyone" (untrusted, revoked, bad signature) are 403; a spent, expired,
/// unknown or foreign challenge is 409 (get a fresh challenge and sign again).
fn denial_status(reason: DenialReason) -> (StatusCode, &'static str, &'static str) {
    use DenialReason::*;
    match reason {
        UnknownPatient => (
            StatusCode::NOT_FOUND,
            "unknown_patient",
            "no patient matches this card or these facts",
        ),
        CertificateInvalid => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_invalid",
            "the card certificate could not be read",
        ),
        CertificateUntrusted => (
            StatusCode::FORBIDDEN,
            "certificate_untrusted",
            "the card certificate is not from a trusted issuer",
        ),
        CertificateRevoked => (
            StatusCode::FORBIDDEN,
            "certificate_revoked",
            "the card certificate has been revoked",
        ),
        ChallengeInvalid => (
            StatusCode::CONFLICT,
            "challenge_invalid",
            "the identification challenge is unknown, used or expired; request a new one",
        ),
        SignatureInvalid => (
            StatusCode::FORBIDDEN,
            "signature_invalid",
            "the card signature does not verify",
        ),
        CertificateNotValidNow => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_not_valid_now",
            "the card certificate is expired or not yet valid",
        ),
        IdentityMethodNotAccepted => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "identity_method_not_accepted",
            "this identification method is not accepted here",
        ),
        OutsideDeclaredDisaster => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_declared_disaster",
            "identification by the four basic facts is allowed only within a declared disaster's area and period: identify by card",
        ),
        // Answered like an unknown incident: the caller learns nothing about another unit's.
        OutsideScope => (
            StatusCode::NOT_FOUND,
            "incident_not_found",
            "no such incident for this tablet's unit",
        ),
        IncidentNotActive => (
            StatusCode::FORBIDDEN,
            "incident_not_active",
            "this incident is closed to new requests (opened over 12 hours ago): open a new incident",
        ),
        NotEmergencyReceiving => (
            StatusCode::FORBIDDEN,
            "not_emergency_receiving",
            "this institution is not an emergency-receiving hospital: choose another hospital",
        ),
        PhotoNotConfirmed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_not_confirmed",
            "identity needs the face photo confirmed",
        ),
        ConsentRefused => (
            StatusCode::FORBIDDEN,
            "consent_refused",
            "the patient refused consent; nothing is disclosed",
        ),
        ConsentNotRecorded => (
            StatusCode::CONFLICT,
            "consent_not_recorded",
            "record the consent decision first",
        ),
        ConsentReasonMissing => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent_reason_required",
            "difficult consent needs a reason",
        ),
        ConsentAlreadyRecorded => (
            StatusCode::CONFLICT,
            "consent_already_recorded",
            "a different consent decision is already recorded",
        ),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or unknown credentials".to_string(),
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "this role may not use this endpoint".to_string(),
            ),
            AppError::NotFound(code) => (StatusCode::NOT_FOUND, code, "not found".to_string()),
            AppError::OutsideScope(code) => {
                let mut response = AppError::NotFound(code).into_response();
                response.extensions_mut().insert(ScopeRefusal);
                return response;
            }
            AppError::Denied(reason) => {
                let (status, code, message) = denial_status(reason);
                (status, code, message.to_string())
            }
            // The same code as hospital-view's for a body over the size limit.
            AppError::InvalidBody { status, message }
                if status == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                (status, "body_too_large", message)
            }
            AppError::InvalidBody { status, message } => (status, "invalid_body", message),
            AppError::Invalid(code, message) => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, message.to_string())
            }
            AppError::Conflict(code, message) => (StatusCode::CONFLICT, code, message.to_string()),
            AppError::Storage(error) => {
                tracing::error!(%error, "storage failure; request refused, nothing disclosed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "records service temporarily unavailable".to_string(),
                )
            }
        };
        if status.is_client_error() {
            tracing::info!(%status, code, "request refused");
        }
        (
            status,
            axum::Json(ErrorBody {
                code: code.to_string(),
                message,
            }),
        )
            .into_response()
    }
}
