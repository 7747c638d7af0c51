//! The access record (閲覧記録): written for every disclosure of a patient's records and
//! for every refused or denied attempt. Patients see these in the portal.
//!
//! Identifying the patient and recording a consent decision are steps of the incident,
//! kept with the incident; they become access records only when they fail (an unknown
//! card is an attempt worth showing) or when the patient refuses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::consent::ConsentState;
use crate::identity::PatientId;
use crate::records::RecordKind;

/// Client-generated id of one emergency incident (one patient, one crew).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub Uuid);

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Id of an access record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessRecordId(pub Uuid);

/// What kind of organisation an institution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum InstitutionKind {
    /// A fire department (消防本部), whose ambulance crews use the tablets.
    FireDepartment,
    /// An emergency-receiving hospital (救急告示病院) of tier 1 to 3.
    EmergencyHospital {
        /// 1: primary, 2: secondary, 3: tertiary (救命救急センター).
        tier: u8,
    },
}

/// An institution that can view records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// Stable id, e.g. "fd-tokyo" or "hosp-kyoto-1".
    pub id: String,
    /// Display name shown to patients.
    pub name: String,
    /// Kind of institution.
    pub kind: InstitutionKind,
}

/// The role the viewer acted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerRole {
    /// An ambulance crew member (救急隊員).
    Paramedic,
    /// A receiving hospital's emergency department, as the recipient of a handoff.
    ReceivingHospital,
}

/// Who accessed: a person and device at an institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// Staff id of the person, when one person acted (crew member id).
    pub staff_id: Option<String>,
    /// Role.
    pub role: ViewerRole,
    /// Device id (tablet), when the access came from a device.
    pub device_id: Option<String>,
    /// Ambulance unit, for crews.
    pub unit: Option<String>,
    /// Institution.
    pub institution: Institution,
    /// Serial number (lower-case hex) of the verified client certificate (mTLS) of the
    /// request that made this record, when it came with one: the tablet's, also when the
    /// viewer is the hospital its relay went to. Absent in records written before client
    /// certificates and in bearer-token requests; never shown to the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_serial: Option<String>,
}

/// Why records were accessed. Only emergency treatment exists today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Emergency treatment and hospital selection.
    EmergencyTreatment,
}

/// What was attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AccessAction {
    /// Identify the patient from card or basic facts.
    IdentifyPatient,
    /// Record the patient's consent decision.
    RecordConsent,
    /// View the emergency summary.
    ViewSummary,
    /// Relay the patient to a receiving hospital.
    RelayToHospital {
        /// Hospital institution id.
        hospital_id: String,
    },
    /// Show the summary again from the tablet's encrypted copy (端末での再表示), possibly
    /// offline; the tablet reports it later. The record's `at` is when the server received
    /// the report; `viewed_at` is the tablet's clock at the display.
    ViewOnDevice {
        /// When the tablet displayed the summary, by the tablet's clock.
        viewed_at: DateTime<Utc>,
    },
}

/// Why an access was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenialReason {
    /// No patient matched the evidence.
    UnknownPatient,
    /// The card certificate could not be read.
    CertificateInvalid,
    /// The card certificate was not issued by a trusted JPKI CA (unknown issuer, or a
    /// signature that does not verify with the CA's key): possibly forged.
    CertificateUntrusted,
    /// The card certificate is on its CA's revocation list (失効).
    CertificateRevoked,
    /// The card certificate is expired or not yet valid.
    CertificateNotValidNow,
    /// The identification challenge is unknown, expired, already used, or another
    /// tablet's.
    ChallengeInvalid,
    /// The card's signature over the challenge does not verify with its certificate.
    SignatureInvalid,
    /// This identity method is not accepted yet / for this viewer.
    IdentityMethodNotAccepted,
    /// An ambulance crew identified by the four basic facts outside a declared disaster
    /// (area and period).
    OutsideDeclaredDisaster,
    /// The face photo was not confirmed.
    PhotoNotConfirmed,
    /// The patient refused consent.
    ConsentRefused,
    /// No consent decision was recorded.
    ConsentNotRecorded,
    /// `Difficult` was asserted without a valid reason.
    ConsentReasonMissing,
    /// A consent decision was already recorded for the incident.
    ConsentAlreadyRecorded,
}

/// The result of the attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AccessOutcome {
    /// Records were disclosed; these kinds.
    Disclosed {
        /// Kinds of records disclosed.
        kinds: Vec<RecordKind>,
    },
    /// A relay was sent without records (consent refused): only crew observations.
    RelayedWithoutRecords,
    /// The patient refused: nothing was disclosed.
    Refused,
    /// The request was denied: nothing was disclosed.
    Denied {
        /// Why.
        reason: DenialReason,
    },
}

impl AccessOutcome {
    /// True when medical records left the server.
    pub fn disclosed_records(&self) -> bool {
        matches!(self, AccessOutcome::Disclosed { .. })
    }
}

/// One access attempt, as written to the append-only access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// Id.
    pub id: AccessRecordId,
    /// When.
    pub at: DateTime<Utc>,
    /// Incident, when the attempt belonged to one.
    pub incident: Option<IncidentId>,
    /// Patient, when known (unknown-patient attempts have none).
    pub patient: Option<PatientId>,
    /// Who.
    pub viewer: Viewer,
    /// Why.
    pub purpose: Purpose,
    /// What was attempted.
    pub action: AccessAction,
    /// Consent state at the time, if recorded.
    pub consent: Option<ConsentState>,
    /// What happened.
    pub outcome: AccessOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_on_device_is_logged_with_its_device_time() {
        let viewed_at = "2026-11-25T03:10:00.250Z".parse::<DateTime<Utc>>().unwrap();
        let action = AccessAction::ViewOnDevice { viewed_at };
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "view_on_device", "viewed_at": "2026-11-25T03:10:00.250Z"})
        );
        assert_eq!(
            serde_json::from_value::<AccessAction>(json).unwrap(),
            action
        );
    }
}
