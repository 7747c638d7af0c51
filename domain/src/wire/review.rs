//! The privacy officer's review queue (`/v1/review-queue…`): queued accesses, their
//! anomaly flags, and the officer's findings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{
    AccessAction, AccessRecordId, DenialReason, IncidentId, ReviewOutcome, ViewerRole,
};
use crate::consent::ConsentState;
use crate::identity::PatientId;

/// One access in the privacy officer's review queue, with only what review needs: who
/// accessed (institution, unit, device, role — no staff id), when, what was attempted,
/// the consent state, a patient reference (the internal patient id, never name or
/// records), why it is queued, its anomaly flags as they stand now, and the officer's
/// findings. No record content: not even the kinds of records disclosed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewItem {
    /// The access record to review (the id of `POST /v1/review-queue/{access_id}/outcome`).
    pub access_id: AccessRecordId,
    /// Position in the queue (when the access was first queued); the page cursor.
    pub position: i64,
    /// When the access happened (the edge's clock).
    pub at: DateTime<Utc>,
    /// When it was first queued.
    pub queued_at: DateTime<Utc>,
    /// Institution id of the viewer.
    pub institution_id: String,
    /// Institution name.
    pub institution: String,
    /// Ambulance unit, for crews.
    pub unit: Option<String>,
    /// Tablet, when the access came from one.
    pub device_id: Option<String>,
    /// Role of the viewer.
    pub role: ViewerRole,
    /// What was attempted (for a relay, the hospital; for a view on the tablet, its time).
    pub action: AccessAction,
    /// Records left the server.
    pub disclosed: bool,
    /// Why it was denied, if it was.
    pub denial: Option<DenialReason>,
    /// Incident, when the access belonged to one.
    pub incident_id: Option<IncidentId>,
    /// Consent state at the time; for `difficult`, the crew's reason.
    pub consent: Option<ConsentState>,
    /// The patient's internal id (no name, no records), when known.
    pub patient_id: Option<PatientId>,
    /// Why it was queued, in order: `difficult_consent`, `patient_flag`, or an anomaly
    /// flag's code that held when the access was logged.
    pub queued_for: Vec<String>,
    /// The anomaly flags that hold now (recomputed at each listing).
    pub flags: Vec<ReviewFlag>,
    /// What the patient wrote when flagging the access, if anything.
    pub patient_note: Option<String>,
    /// `open` until a finding covers every reason it was queued for; a reason added after
    /// the latest finding (e.g. a patient's flag) opens it again.
    pub state: ReviewState,
    /// The officers' findings, oldest first; the last one stands.
    pub outcomes: Vec<ReviewDecision>,
}

/// An anomaly flag on an access: a stable code and a short reason for the officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewFlag {
    /// `many_patients_without_transport`, `repeated_views`, `outside_active_incident` or
    /// `patient_flag`.
    pub code: String,
    /// Why, in a few words with the numbers that tripped it (no personal data).
    pub reason: String,
}

/// Where a review-queue item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Waiting for a finding.
    Open,
    /// A finding covers it.
    Reviewed,
}

/// One finding of a privacy officer on a queued access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewDecision {
    /// The access reviewed.
    pub access_id: AccessRecordId,
    /// The finding.
    pub outcome: ReviewOutcome,
    /// The officer's note, if any.
    pub note: Option<String>,
    /// The officer who recorded it.
    pub officer_id: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// The access record that logs this finding in the tamper-evident log.
    pub log_access_id: AccessRecordId,
}

/// `GET /v1/review-queue?state=&after=&limit=` response, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewQueue {
    /// Items.
    pub items: Vec<ReviewItem>,
    /// Cursor of the next page (`?after=`), null on the last.
    pub next_after: Option<i64>,
}

/// `POST /v1/review-queue/{access_id}/outcome` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewOutcomeRequest {
    /// `appropriate`, `inappropriate` or `needs_follow_up`.
    pub outcome: ReviewOutcome,
    /// At most 1,000 characters (the edge refuses longer); kept with the finding, not in the
    /// access log (free text may name people).
    #[serde(default)]
    pub note: Option<String>,
}
