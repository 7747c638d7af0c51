//! The privacy officer's review queue (個人情報保護担当): accesses made without consent,
//! flagged by their patient, or flagged as anomalous ([`crate::review`]), and the officer's
//! findings.
//!
//! Items carry only what review needs (who by institution, unit, device and role; when;
//! what was attempted; the consent state; the patient's internal id; reasons and flags;
//! findings): never the records that were shown, not even their kinds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use myna_domain::access::AccessRecordId;
use myna_domain::wire::{
    ErrorBody, ReviewDecision, ReviewFlag, ReviewItem, ReviewOutcomeRequest, ReviewQueue,
    ReviewState,
};
use serde::Deserialize;

use super::auth::PrivacyOfficer;
use super::error::{ApiJson, ApiQuery, AppError};
use super::wire::MAX_REVIEW_NOTE_CHARS;
use crate::review::finding::{self, FindingRefused, Reviewer};
use crate::state::AppState;
use crate::store::ReviewItemRow;

/// Items per page unless asked otherwise.
const DEFAULT_LIMIT: u32 = 100;
/// Most items answered at once.
const MAX_LIMIT: u32 = 500;

/// Which items to list.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum StateFilter {
    /// Waiting for a finding (the default).
    #[default]
    Open,
    /// Open and reviewed.
    All,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueQuery {
    /// `open` (default) or `all`.
    #[param(inline)]
    state: Option<StateFilter>,
    /// Only items positioned after this (the previous page's `next_after`).
    after: Option<i64>,
    /// Items per page, 1 to 500 (default 100).
    limit: Option<u32>,
}

/// `GET /v1/review-queue?state=open|all&after=&limit=` (privacy officer bearer token):
/// queued accesses, oldest first, a page at a time; `next_after` is the cursor of the next
/// page, null at the end.
#[utoipa::path(get, path = "/v1/review-queue", tag = "review", params(QueueQuery),
    responses(
        (status = 200, description = "Queued accesses, oldest first, a page at a time", body = ReviewQueue),
        (status = 422, description = "`invalid_limit` or `invalid_query`", body = ErrorBody)))]
pub(super) async fn queue(
    State(state): State<AppState>,
    _officer: PrivacyOfficer,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<ApiJson<ReviewQueue>, AppError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::Invalid(
            "invalid_limit",
            "limit must be between 1 and 500",
        ));
    }
    let after = query.after.unwrap_or(0);
    let open_only = query.state.unwrap_or_default() == StateFilter::Open;
    // One more than asked, to know whether another page follows.
    let mut rows = state
        .store
        .read(move |tx| tx.review_items(open_only, after, limit + 1))
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_after = more.then(|| rows.last().map(|row| row.position)).flatten();
    let thresholds = state.config.review;
    let items = rows
        .into_iter()
        .map(|row| review_item(row, &thresholds))
        .collect();
    Ok(ApiJson(ReviewQueue { items, next_after }))
}

fn review_item(row: ReviewItemRow, thresholds: &crate::review::ReviewThresholds) -> ReviewItem {
    let record = row.record;
    ReviewItem {
        access_id: record.id,
        position: row.position,
        at: record.at,
        queued_at: row.queued_at,
        institution_id: record.viewer.institution.id,
        institution: record.viewer.institution.name,
        unit: record.viewer.unit,
        device_id: record.viewer.device_id,
        role: record.viewer.role,
        action: record.action,
        disclosed: record.outcome.disclosed_records(),
        denial: match record.outcome {
            myna_domain::access::AccessOutcome::Denied { reason } => Some(reason),
            _ => None,
        },
        incident_id: record.incident,
        consent: record.consent,
        patient_id: record.patient,
        queued_for: row.queued_for,
        flags: row
            .flags
            .iter()
            .map(|flag| ReviewFlag {
                code: flag.code().into(),
                reason: flag.reason(thresholds),
            })
            .collect(),
        patient_note: row.patient_note,
        state: if row.open {
            ReviewState::Open
        } else {
            ReviewState::Reviewed
        },
        outcomes: row.findings,
    }
}

/// `POST /v1/review-queue/{access_id}/outcome` (privacy officer): records a finding on a
/// queued access and logs it as an access record, in one transaction; 201 with the
/// finding. Unknown access: 404 `access_not_found`; an access never queued: 409
/// `not_in_review_queue`.
#[utoipa::path(post, path = "/v1/review-queue/{id}/outcome", tag = "review",
    params(("id" = String, Path, description = "The queued access record's id (UUID)")),
    request_body = ReviewOutcomeRequest,
    responses(
        (status = 201, description = "The finding, also logged as an access record", body = ReviewDecision),
        (status = 404, description = "`access_not_found`", body = ErrorBody),
        (status = 409, description = "`not_in_review_queue`", body = ErrorBody),
        (status = 422, description = "`note_too_long` or an unreadable body", body = ErrorBody)))]
pub(super) async fn outcome(
    State(state): State<AppState>,
    PrivacyOfficer(officer_id): PrivacyOfficer,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReviewOutcomeRequest>,
) -> Result<(StatusCode, ApiJson<ReviewDecision>), AppError> {
    // A malformed id names no access record: 404 like an unknown one.
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound("access_not_found"))?;
    let note = request
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_REVIEW_NOTE_CHARS)
    {
        return Err(AppError::Invalid(
            "note_too_long",
            "note must be at most 1000 characters",
        ));
    }
    let office = state.config.privacy_office.clone();
    let now = state.clock.now();
    let recorded = state
        .store
        .write(move |tx| {
            let reviewer = Reviewer {
                officer_id: &officer_id,
                office: &office,
            };
            finding::record_finding(
                tx,
                &reviewer,
                AccessRecordId(id),
                request.outcome,
                note,
                now,
            )
        })
        .await?;
    match recorded {
        Ok(finding) => Ok((StatusCode::CREATED, ApiJson(finding))),
        Err(FindingRefused::UnknownAccess) => Err(AppError::NotFound("access_not_found")),
        Err(FindingRefused::NotQueued) => Err(AppError::Conflict(
            "not_in_review_queue",
            "this access is not in the review queue",
        )),
    }
}
