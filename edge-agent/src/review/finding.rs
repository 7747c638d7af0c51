//! Recording a privacy officer's finding: the one flow of the review queue that writes.
//! It runs in one store transaction: the finding's own access record (viewer role
//! privacy officer, action [`AccessAction::ReviewAccess`]) is appended to the
//! tamper-evident log and the finding is stored beside it, or neither is.

use chrono::{DateTime, Utc};
use myna_domain::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, Institution, Purpose, ReviewOutcome,
    Viewer, ViewerRole,
};

use crate::error::{Error, Result};
use crate::store::{Finding, QueueStatus, Tx};

/// Why a finding was not recorded (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingRefused {
    /// No access record has this id.
    UnknownAccess,
    /// The access was never queued for review.
    NotQueued,
}

/// The officer and the institution they act for.
#[derive(Debug, Clone)]
pub struct Reviewer<'a> {
    /// Officer id.
    pub officer_id: &'a str,
    /// The privacy office.
    pub office: &'a Institution,
}

/// Records `outcome` (with the officer's `note`) on the queued access `reviewed`. A later
/// finding supersedes an earlier one; both are kept.
pub fn record_finding(
    tx: &Tx<'_>,
    reviewer: &Reviewer<'_>,
    reviewed: AccessRecordId,
    outcome: ReviewOutcome,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Finding, FindingRefused>> {
    let covers = match tx.queue_status(reviewed)? {
        QueueStatus::UnknownAccess => return Ok(Err(FindingRefused::UnknownAccess)),
        QueueStatus::NotQueued => return Ok(Err(FindingRefused::NotQueued)),
        QueueStatus::Queued(last) => last,
    };
    let subject = tx
        .access_record(reviewed)?
        .ok_or_else(|| Error::Corrupt("queued access vanished in its transaction".into()))?;
    let log_access_id = AccessRecordId(uuid::Uuid::now_v7());
    tx.append_access(&AccessRecord {
        id: log_access_id,
        at: now,
        incident: subject.incident,
        patient: subject.patient,
        viewer: Viewer {
            staff_id: Some(reviewer.officer_id.to_string()),
            role: ViewerRole::PrivacyOfficer,
            device_id: None,
            unit: None,
            certificate_serial: None,
            institution: reviewer.office.clone(),
        },
        purpose: Purpose::PrivacyReview,
        action: AccessAction::ReviewAccess { reviewed, outcome },
        // Not an access under the patient's consent: and so never queued itself.
        consent: None,
        outcome: AccessOutcome::Reviewed,
    })?;
    let finding = Finding {
        access_id: reviewed,
        outcome,
        note,
        officer_id: reviewer.officer_id.to_string(),
        decided_at: now,
        log_access_id,
    };
    tx.insert_finding(&finding, covers)?;
    Ok(Ok(finding))
}
