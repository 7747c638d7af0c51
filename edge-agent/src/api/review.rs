//! The privacy officer's review queue: accesses patients reported as not recognised.
//!
//! Items carry who accessed, when it was queued, why, the consent state and the patient's
//! note: never the records that were shown. Closing items and real staff roles come with
//! a later issue.

use axum::extract::State;
use myna_domain::wire::{ReviewItem, ReviewQueue};
use serde::Deserialize;

use super::auth::PrivacyOfficer;
use super::{ApiJson, ApiQuery, AppError};
use crate::AppState;

/// Items per page unless asked otherwise.
const DEFAULT_LIMIT: u32 = 100;
/// Most items answered at once.
const MAX_LIMIT: u32 = 500;

#[derive(Deserialize)]
pub(super) struct QueueQuery {
    /// Only items with an id above this (the previous page's `next_after`).
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /v1/review-queue?after=&limit=` (privacy officer bearer token): open items, oldest
/// first, a page at a time; `next_after` is the cursor of the next page, null at the end.
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
    // One more than asked, to know whether another page follows.
    let mut rows = state
        .store
        .read(move |tx| tx.review_queue(after, limit + 1))
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_after = more.then(|| rows.last().map(|row| row.id)).flatten();
    let items = rows
        .into_iter()
        .map(|row| ReviewItem {
            id: row.id,
            access_id: row.record.id,
            reason: row.reason,
            opened_at: row.opened_at,
            institution_id: row.record.viewer.institution.id,
            institution: row.record.viewer.institution.name,
            consent: row.record.consent,
            patient_note: row.patient_note,
        })
        .collect();
    Ok(ApiJson(ReviewQueue { items, next_after }))
}
