//! Handoff routes: the tablet lists hospitals, hands the patient off, waits for the
//! hospital's answer and may withdraw; the hospital's hospital-view answers.
//!
//! | Route | Caller | Answer |
//! |---|---|---|
//! | `GET /v1/hospitals?lat=&lon=` | tablet | receiving hospitals, nearest first when a point is given |
//! | `POST /v1/incidents/{id}/handoff` | tablet | 200 delivered / 202 queued; 409 `handoff_open` while another hospital holds the patient; a retry with the same `handoff_id` gets that handoff again (200 if the hospital acknowledged it, else 202; nothing new logged or sent), 409 `handoff_id_conflict` when the id is another incident's, tablet's or hospital's |
//! | `GET /v1/handoffs/{id}?wait=&known=` | tablet | the handoff's state; with `wait` (≤ 10 s) it answers as soon as the state differs from `known` |
//! | `POST /v1/handoffs/{id}/withdraw` | tablet | the handoff, withdrawn; the hospital is told |
//! | `POST /v1/hospital/handoffs/{id}/decision` | hospital | the handoff, accepted or declined |

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use myna_domain::handoff::{GeoPoint, HandoffDecision, HandoffState};
use myna_domain::policy;
use myna_domain::wire::{
    ErrorBody, HandoffRequest, HandoffResponse, HospitalDto, HospitalList, HospitalsQuery,
};
use serde::Deserialize;

use super::auth::Device;
use super::auth::Hospital;
use super::error::{ApiJson, ApiQuery, AppError};
use crate::emergency;
use crate::emergency::HandoffPrepared;
use crate::handoff;
use crate::relay;
use crate::state::AppState;
use crate::store::{HandoffRow, OutboxMessage};

/// Longest accepted chief complaint.
const MAX_COMPLAINT_CHARS: usize = 500;
/// Longest accepted ETA: four hours.
const MAX_ETA_MINUTES: u16 = 240;
/// How long a request waits for its own delivery attempt before answering "queued": well
/// inside the tablet's 10 s request timeout, so a hospital that hangs never makes the
/// tablet believe the handoff failed.
pub const FIRST_ATTEMPT: Duration = Duration::from_secs(3);

/// Tries `message` once for at most [`FIRST_ATTEMPT`]; a slower attempt is abandoned and
/// left to the outbox deliverer (the hospital applies a message at most once, so an
/// abandoned attempt that did land is harmless).
async fn first_attempt(state: &AppState, message: OutboxMessage) -> Result<bool, AppError> {
    match tokio::time::timeout(FIRST_ATTEMPT, relay::attempt(state, message.clone())).await {
        Ok(delivered) => Ok(delivered?),
        Err(_) => {
            tracing::warn!("hospital slow to answer; delivery left to the outbox");
            relay::retry_later(state, &message).await?;
            Ok(false)
        }
    }
}

/// Longest a tablet may wait for a handoff to change in one request: under the request
/// timeout ([`super::REQUEST_TIMEOUT`], 15 s), which would otherwise cut a longer wait with
/// a 408 instead of the state, and under the tablet's own 10 s request timeout.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

fn handoff_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw).map_err(|_| AppError::NotFound("handoff_not_found"))
}

/// Lists the emergency-receiving hospitals, nearest first when a point is given.
#[utoipa::path(get, path = "/v1/hospitals", tag = "handoff", params(HospitalsQuery),
    responses(
        (status = 200, description = "Emergency-receiving hospitals, nearest first when a point is given", body = HospitalList),
        (status = 422, description = "`location_invalid` or `invalid_query`", body = ErrorBody)))]
pub(super) async fn hospitals(
    State(state): State<AppState>,
    Device(_device): Device,
    ApiQuery(query): ApiQuery<HospitalsQuery>,
) -> Result<ApiJson<HospitalList>, AppError> {
    let here = match (query.lat, query.lon) {
        (None, None) => None,
        (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).ok_or(AppError::Invalid(
            "location_invalid",
            "lat must be -90 to 90 and lon -180 to 180",
        ))?),
        _ => {
            return Err(AppError::Invalid(
                "location_invalid",
                "give both lat and lon, or neither",
            ));
        }
    };
    let mut hospitals: Vec<HospitalDto> = state
        .config
        .hospitals
        .iter()
        // Only emergency-receiving hospitals can take a patient (and an emergency view).
        .filter(|h| policy::emergency_view_allowed(h.institution.kind).is_ok())
        .map(|h| HospitalDto {
            id: h.institution.id.clone(),
            name: h.institution.name.clone(),
            tier: h.tier(),
            // Whole metres; distances on Earth fit u32 comfortably.
            distance_m: here
                .zip(h.location)
                .map(|(a, b)| a.distance_m(b).round() as u32),
        })
        .collect();
    // Nearest first; hospitals without a known location after, higher tier first.
    hospitals.sort_by_key(|h| {
        (
            h.distance_m.is_none(),
            h.distance_m,
            std::cmp::Reverse(h.tier),
        )
    });
    Ok(ApiJson(HospitalList { hospitals }))
}

/// Hands the patient off to a hospital (notice, vital signs and, with consent, the summary).
#[utoipa::path(post, path = "/v1/incidents/{id}/handoff", tag = "handoff", params(("id" = String, Path, description = "The incident id (UUID) the tablet chose")),
    request_body = HandoffRequest,
    responses(
        (status = 200, description = "Delivered: the hospital acknowledged the notice", body = HandoffResponse),
        (status = 202, description = "Queued: the edge keeps delivering it", body = HandoffResponse),
        (status = 403, description = "`incident_not_active` or `not_emergency_receiving`", body = ErrorBody),
        (status = 404, description = "`incident_not_found` or `unknown_hospital`", body = ErrorBody),
        (status = 409, description = "`handoff_open` or `handoff_id_conflict`", body = ErrorBody),
        (status = 422, description = "`chief_complaint_invalid`, `eta_invalid`, or an unreadable body", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(incident = %id, device = %device.device_id, hospital = %request.hospital_id))]
pub(super) async fn hand_off(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<HandoffRequest>,
) -> Result<(StatusCode, ApiJson<HandoffResponse>), AppError> {
    let id = super::tablet::incident_id(&id)?;
    let complaint = request.chief_complaint.trim().chars().count();
    if complaint == 0 || complaint > MAX_COMPLAINT_CHARS {
        return Err(AppError::Invalid(
            "chief_complaint_invalid",
            "chief complaint must be 1 to 500 characters",
        ));
    }
    if request.eta_minutes > MAX_ETA_MINUTES {
        return Err(AppError::Invalid(
            "eta_invalid",
            "ETA must be at most 240 minutes",
        ));
    }
    let hospital = state
        .config
        .hospital(&request.hospital_id)
        .cloned()
        .ok_or(AppError::NotFound("unknown_hospital"))?;
    let now = state.clock.now();
    let target = hospital.clone();
    // The access record, the handoff and its outbox message commit together; only then
    // does the notice leave for the hospital.
    let prepared = state
        .store
        .write(move |tx| emergency::prepare_handoff(tx, &device, &target, id, request, now))
        .await??;
    let (handoff_id, records_shared, delivered) = match prepared {
        HandoffPrepared::New(prepared) => {
            let records_shared = prepared.notice.summary.is_some();
            let delivered = first_attempt(&state, prepared.message).await?;
            (prepared.id, records_shared, delivered)
        }
        // A retry: the outbox deliverer already has the message if it is undelivered.
        HandoffPrepared::Repeat(row) => {
            tracing::info!(handoff = %row.id, "handoff request repeated; answered as it stands");
            (row.id, row.records_shared, row.hospital_has_notice())
        }
    };
    let status = if delivered {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((
        status,
        ApiJson(HandoffResponse {
            handoff_id,
            hospital_id: hospital.institution.id,
            delivered,
            records_shared,
        }),
    ))
}

/// `GET /v1/handoffs/{id}` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct WaitQuery {
    /// Seconds to wait for a change (0 to 10; more is taken as 10).
    wait: Option<u64>,
    /// The state the tablet already has: `sent`, `delivered`, `accepted`, `declined` or
    /// `withdrawn`.
    known: Option<String>,
}

/// A handoff's state, optionally waiting (long poll) for a change.
#[utoipa::path(get, path = "/v1/handoffs/{id}", tag = "handoff", params(("id" = String, Path, description = "The handoff id (UUID)"), WaitQuery),
    responses(
        (status = 200, description = "The handoff's state; with `wait`, as soon as it differs from `known`", body = HandoffState),
        (status = 404, description = "`handoff_not_found` (also for another tablet's handoff)", body = ErrorBody),
        (status = 422, description = "`invalid_query`", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(handoff = %id, device = %device.device_id))]
pub(super) async fn status(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> Result<ApiJson<HandoffState>, AppError> {
    let id = handoff_id(&id)?;
    let wait = Duration::from_secs(query.wait.unwrap_or(0)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribed before the first read, so a change between the read and the wait wakes it.
    let mut changes = state.relay.watch_handoffs();
    loop {
        let device = device.clone();
        let row = state
            .store
            .read(move |tx| handoff::view(tx, &device, id))
            .await??;
        let unchanged = query.known.as_deref() == Some(row.status.tag());
        if !unchanged || tokio::time::Instant::now() >= deadline {
            return Ok(ApiJson(handoff::state(&state.config, &row)));
        }
        // A dropped sender (never, while the state lives) ends the wait like a timeout.
        if tokio::time::timeout_at(deadline, changes.changed())
            .await
            .map_or(true, |changed| changed.is_err())
        {
            return Ok(ApiJson(handoff::state(&state.config, &row)));
        }
    }
}

/// Withdraws a handoff; the hospital is told.
#[utoipa::path(post, path = "/v1/handoffs/{id}/withdraw", tag = "handoff", params(("id" = String, Path, description = "The handoff id (UUID)")),
    responses(
        (status = 200, description = "The handoff, withdrawn; the hospital is told", body = HandoffState),
        (status = 404, description = "`handoff_not_found`", body = ErrorBody),
        (status = 409, description = "`handoff_decided`", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(handoff = %id, device = %device.device_id))]
pub(super) async fn withdraw(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
) -> Result<ApiJson<HandoffState>, AppError> {
    let id = handoff_id(&id)?;
    let now = state.clock.now();
    let (row, message) = state
        .store
        .write(move |tx| handoff::withdraw(tx, &device, id, now))
        .await??;
    state.relay.handoff_changed();
    tracing::info!(hospital = %row.hospital_id, "handoff withdrawn");
    if let Some(message) = message {
        first_attempt(&state, message).await?;
    }
    Ok(ApiJson(handoff::state(&state.config, &row)))
}

/// The receiving hospital accepts or declines a handoff.
#[utoipa::path(post, path = "/v1/hospital/handoffs/{id}/decision", tag = "hospital", params(("id" = String, Path, description = "The handoff id (UUID)")),
    request_body = HandoffDecision,
    responses(
        (status = 200, description = "The handoff, accepted or declined", body = HandoffState),
        (status = 404, description = "`handoff_not_found` (also for another hospital's handoff)", body = ErrorBody),
        (status = 409, description = "`handoff_decided`", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(handoff = %id, hospital = %hospital.institution.id))]
pub(super) async fn decide(
    State(state): State<AppState>,
    Hospital(hospital): Hospital,
    Path(id): Path<String>,
    ApiJson(decision): ApiJson<HandoffDecision>,
) -> Result<ApiJson<HandoffState>, AppError> {
    let id = handoff_id(&id)?;
    let now = state.clock.now();
    let row: HandoffRow = state
        .store
        .write(move |tx| handoff::decide(tx, &hospital, id, decision, now))
        .await??;
    state.relay.handoff_changed();
    tracing::info!(status = row.status.tag(), "hospital answered a handoff");
    Ok(ApiJson(handoff::state(&state.config, &row)))
}
