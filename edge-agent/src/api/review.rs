//! The privacy officer's review queue: accesses patients reported as not recognised.
//!
//! Items carry who accessed, when it was queued, why, and the consent state: never the
//! records that were shown. Closing items and real staff roles come with a later issue.

use axum::extract::State;
use myna_domain::wire::{ReviewItem, ReviewQueue};

use super::auth::PrivacyOfficer;
use super::{ApiJson, AppError};
use crate::AppState;

/// Most items answered at once.
const QUEUE_LIMIT: u32 = 500;

/// `GET /v1/review-queue` (privacy officer bearer token): open items, oldest first.
pub(super) async fn queue(
    State(state): State<AppState>,
    _officer: PrivacyOfficer,
) -> Result<ApiJson<ReviewQueue>, AppError> {
    let rows = state.store.read(|tx| tx.review_queue(QUEUE_LIMIT)).await?;
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
        })
        .collect();
    Ok(ApiJson(ReviewQueue { items }))
}
