//! Tablet routes: get an identification challenge, open an incident, record consent, fetch
//! the summary, report that the summary was shown again from the tablet's copy
//! (`POST /v1/incidents/{id}/device-views`: 201 `recorded: true`, 200 `recorded: false` for
//! a repeat; 404 `incident_not_found`, 409 `view_id_conflict` or `no_summary_disclosed`; a
//! tablet clock badly off is recorded with a warning, not refused; see
//! [`crate::emergency::device_view::record_device_view`]). (Handoff routes are in `handoff`.)
//!
//! Free text is bounded and refused whole when too long (422 with its own code, never
//! truncated): crew member id 64 characters (`crew_member_id_invalid`), the consent note
//! 200 (`consent_reason_too_long`), each basic fact 200 (`basic_facts_too_long`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use myna_domain::access::IncidentId;
use myna_domain::consent::{DifficultyReason, MAX_REASON_NOTE_CHARS};
use myna_domain::identity::AddressOrInsurer;
use myna_domain::wire::{
    ConsentRecorded, ConsentRequest, DeviceViewRecorded, DeviceViewReport, ErrorBody,
    IdentityChallenge, IdentityEvidenceDto, IncidentOpened, OpenIncidentRequest, SummaryResponse,
};

use super::auth::Device;
use super::error::{ApiJson, AppError};
use crate::emergency;
use crate::identify;
use crate::state::AppState;

/// Longest accepted crew member id.
const MAX_STAFF_ID_CHARS: usize = 64;
/// Longest accepted name, and address or insurer, of the four basic facts: far above any
/// real one, so only a bad client reaches it.
const MAX_BASIC_FACT_CHARS: usize = 200;

pub(super) fn incident_id(raw: &str) -> Result<IncidentId, AppError> {
    raw.parse()
        .map(IncidentId)
        .map_err(|_| AppError::NotFound("incident_not_found"))
}

/// Issues a one-time challenge for the card to sign after the patient enters their PIN.
#[utoipa::path(post, path = "/v1/identity-challenges", tag = "tablet", operation_id = "issue_identity_challenge",
    responses((status = 201, description = "A one-time challenge for the card to sign after PIN entry, bound to this tablet", body = IdentityChallenge)))]
#[tracing::instrument(skip_all, fields(device = %device.device_id))]
pub(super) async fn issue_challenge(
    State(state): State<AppState>,
    Device(device): Device,
) -> Result<(StatusCode, ApiJson<IdentityChallenge>), AppError> {
    let now = state.clock.now();
    let ttl = state.config.challenge_ttl;
    let row = state
        .store
        .write(move |tx| identify::issue_challenge(tx, &device, ttl, now))
        .await?;
    tracing::info!(challenge = %row.id, "identification challenge issued");
    Ok((
        StatusCode::CREATED,
        ApiJson(IdentityChallenge::new(
            row.id,
            &row.challenge,
            row.expires_at,
        )),
    ))
}

/// Opens an incident, identifying the patient by card or (in a declared disaster) basic facts.
#[utoipa::path(post, path = "/v1/incidents", tag = "tablet", request_body = OpenIncidentRequest,
    responses(
        (status = 201, description = "Incident opened with the identity established", body = IncidentOpened),
        (status = 403, description = "`certificate_untrusted`, `certificate_revoked` or `signature_invalid`", body = ErrorBody),
        (status = 404, description = "`unknown_patient`", body = ErrorBody),
        (status = 409, description = "`challenge_invalid` (get a new challenge) or `incident_id_conflict`", body = ErrorBody),
        (status = 422, description = "`crew_member_id_invalid`, `basic_facts_too_long`, `certificate_invalid`, `certificate_not_valid_now`, `identity_method_not_accepted`, `outside_declared_disaster`, `photo_not_confirmed`, or an unreadable body (`invalid_body`)", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(incident = %request.incident_id, device = %device.device_id))]
pub(super) async fn open_incident(
    State(state): State<AppState>,
    Device(device): Device,
    ApiJson(request): ApiJson<OpenIncidentRequest>,
) -> Result<(StatusCode, ApiJson<IncidentOpened>), AppError> {
    let staff = request.crew_member_id.trim().chars().count();
    if staff == 0 || staff > MAX_STAFF_ID_CHARS {
        return Err(AppError::Invalid(
            "crew_member_id_invalid",
            "crew member id must be 1 to 64 characters",
        ));
    }
    if let IdentityEvidenceDto::BasicFacts { facts } = &request.identity {
        let fourth = match &facts.address_or_insurer {
            AddressOrInsurer::Address(text) | AddressOrInsurer::Insurer(text) => text,
        };
        if [&facts.name, fourth]
            .iter()
            .any(|text| text.chars().count() > MAX_BASIC_FACT_CHARS)
        {
            // Refused before the policy, like an unreadable body: no access record.
            return Err(AppError::Invalid(
                "basic_facts_too_long",
                "name and address or insurer must be at most 200 characters each",
            ));
        }
    }
    let now = state.clock.now();
    let config = std::sync::Arc::clone(&state.config);
    let row = state
        .store
        .write(move |tx| emergency::open_incident(tx, &device, &config.card_trust, request, now))
        .await??;
    tracing::info!(assurance = ?row.assurance, "incident opened");
    Ok((
        StatusCode::CREATED,
        ApiJson(IncidentOpened {
            incident_id: row.id,
            assurance: row.assurance,
        }),
    ))
}

/// Records the patient's consent decision (given, refused, or difficult with a reason).
#[utoipa::path(put, path = "/v1/incidents/{id}/consent", tag = "tablet", params(("id" = String, Path, description = "The incident id (UUID) the tablet chose")),
    request_body = ConsentRequest,
    responses(
        (status = 200, description = "The consent decision as recorded", body = ConsentRecorded),
        (status = 403, description = "`incident_not_active`", body = ErrorBody),
        (status = 404, description = "`incident_not_found` (also for another unit's incident)", body = ErrorBody),
        (status = 409, description = "`consent_already_recorded`", body = ErrorBody),
        (status = 422, description = "`consent_reason_too_long`, `consent_reason_required`, or an unreadable body", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(incident = %id, device = %device.device_id))]
pub(super) async fn record_consent(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ConsentRequest>,
) -> Result<ApiJson<ConsentRecorded>, AppError> {
    let id = incident_id(&id)?;
    if let Some(DifficultyReason::Other(note)) = &request.reason
        && note.trim().chars().count() > MAX_REASON_NOTE_CHARS
    {
        // Refused before the policy, like an unreadable body: no access record. (An empty
        // note is a missing reason, which the policy denies and logs.)
        return Err(AppError::Invalid(
            "consent_reason_too_long",
            "the reason note must be at most 200 characters",
        ));
    }
    let now = state.clock.now();
    let consent = state
        .store
        .write(move |tx| emergency::record_consent(tx, &device, id, request, now))
        .await??;
    tracing::info!(
        without_consent = consent.is_without_consent(),
        "consent recorded"
    );
    Ok(ApiJson(ConsentRecorded {
        incident_id: id,
        consent,
    }))
}

/// Discloses the emergency summary; its access record is committed first.
#[utoipa::path(get, path = "/v1/incidents/{id}/summary", tag = "tablet", params(("id" = String, Path, description = "The incident id (UUID) the tablet chose")),
    responses(
        (status = 200, description = "The emergency summary; its access record is committed before it is sent", body = SummaryResponse),
        (status = 403, description = "`consent_refused` or `incident_not_active`", body = ErrorBody),
        (status = 404, description = "`incident_not_found` (also for another unit's incident)", body = ErrorBody),
        (status = 409, description = "`consent_not_recorded`", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(incident = %id, device = %device.device_id))]
pub(super) async fn summary(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
) -> Result<ApiJson<SummaryResponse>, AppError> {
    let id = incident_id(&id)?;
    let now = state.clock.now();
    // The access record commits in this transaction; only then does the summary leave.
    let (consent, summary) = state
        .store
        .write(move |tx| emergency::disclose_summary(tx, &device, id, now))
        .await??;
    tracing::info!(records = summary.records.len(), "summary disclosed");
    Ok(ApiJson(SummaryResponse {
        incident_id: id,
        consent,
        summary,
    }))
}

/// Reports that the summary was shown again from the tablet's own copy.
#[utoipa::path(post, path = "/v1/incidents/{id}/device-views", tag = "tablet", params(("id" = String, Path, description = "The incident id (UUID) the tablet chose")),
    request_body = DeviceViewReport,
    responses(
        (status = 201, description = "The view was recorded in the access log", body = DeviceViewRecorded),
        (status = 200, description = "A repeat of a view already recorded (`recorded: false`)", body = DeviceViewRecorded),
        (status = 404, description = "`incident_not_found`", body = ErrorBody),
        (status = 409, description = "`view_id_conflict` or `no_summary_disclosed`", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(incident = %id, device = %device.device_id, view = %report.view_id))]
pub(super) async fn device_view(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    ApiJson(report): ApiJson<DeviceViewReport>,
) -> Result<(StatusCode, ApiJson<DeviceViewRecorded>), AppError> {
    let id = incident_id(&id)?;
    let now = state.clock.now();
    // Appended (or found already there) in this transaction, committed before the answer.
    let recorded = state
        .store
        .write(move |tx| emergency::device_view::record_device_view(tx, &device, id, report, now))
        .await??;
    tracing::info!(recorded, "view on the tablet reported");
    let status = if recorded {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(DeviceViewRecorded {
            view_id: report.view_id,
            recorded,
        }),
    ))
}
