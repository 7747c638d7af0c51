//! JSON types of the HTTP APIs, one module per audience. Requests deny unknown fields;
//! conversion to domain types happens here, at the boundary, so handlers only see
//! validated domain values.
//!
//! Medical records travel as their domain types
//! ([`EmergencySummary`](crate::summary::EmergencySummary)): they are data records whose
//! JSON shape is the contract, and a second copy would only drift.
//!
//! Only types that a client or a second server reads live here; a response only the edge
//! writes and nobody in the workspace decodes (the portal's proof bundle, the flag answer,
//! the inclusion proof, the note limits) lives in edge-agent's `api::wire`.
//!
//! # Layout
//! - this file: the error body every API answers with, and every type re-exported, so
//!   `myna_domain::wire::X` names any of them.
//! - [`tablet`]: the ambulance tablet's API: identity, consent, summary, hospitals,
//!   handoff and vital signs, views from the tablet's own copy.
//! - [`hospital`]: edge → hospital-view, the notice of an incoming patient.
//! - [`portal`]: the patient portal: sign-in, viewing history, flags.
//! - [`review`]: the privacy officer's review queue.
//! - [`log`]: the access log's consistency proof and proof hashes as base64.
//! - `encoding`: the base64 fields' codec (private).

mod encoding;
pub mod hospital;
pub mod log;
pub mod portal;
pub mod review;
pub mod tablet;

use serde::{Deserialize, Serialize};

pub use hospital::ArrivalNotice;
pub use log::{ConsistencyProofDto, proof_hashes, proof_strings};
pub use portal::{
    DevSignInRequest, FlagRequest, PortalChallenge, PortalEntry, PortalHistory, PortalInstitution,
    PortalSession, PortalSignInRequest, ProofStatus,
};
pub use review::{
    ReviewDecision, ReviewFlag, ReviewItem, ReviewOutcomeRequest, ReviewQueue, ReviewState,
};
pub use tablet::{
    ConsentDecisionDto, ConsentRecorded, ConsentRequest, DeviceViewRecorded, DeviceViewReport,
    HandoffRequest, HandoffResponse, HospitalDto, HospitalList, HospitalsQuery, IdentityChallenge,
    IdentityEvidenceDto, IncidentOpened, MAX_DEVICE_CLOCK_SKEW, OpenIncidentRequest,
    PhotoNotConfirmed, SummaryResponse, ViewedAtImplausible, Vitals,
};

/// Error body of every 4xx/5xx: a stable code for programs, a short message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `consent_refused`.
    pub code: String,
    /// Short human-readable message. Never contains personal data.
    pub message: String,
}

#[cfg(test)]
mod properties;
