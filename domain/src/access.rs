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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct IncidentId(pub Uuid);

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Id of an access record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct AccessRecordId(pub Uuid);

/// What kind of organisation an institution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum InstitutionKind {
    /// A fire department (消防本部), whose ambulance crews use the tablets.
    FireDepartment,
    /// An emergency-receiving hospital (救急告示病院) of tier 1 to 3.
    EmergencyHospital {
        /// 1: primary, 2: secondary, 3: tertiary (救命救急センター).
        tier: u8,
    },
    /// A clinic (診療所) that is not an emergency-receiving hospital. It may be configured
    /// (e.g. for referrals) but never receives an emergency view.
    Clinic,
    /// A pharmacy (薬局). Never receives an emergency view.
    Pharmacy,
    /// The edge operator's privacy office (個人情報保護担当), which reviews accesses.
    PrivacyOffice,
}

/// An institution that can view records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ViewerRole {
    /// An ambulance crew member (救急隊員).
    Paramedic,
    /// A receiving hospital's emergency department, as the recipient of a handoff.
    ReceivingHospital,
    /// A privacy officer (個人情報保護担当者) recording the review of an access.
    PrivacyOfficer,
}

/// Who accessed: a person and device at an institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Emergency treatment and hospital selection.
    EmergencyTreatment,
    /// Oversight: a privacy officer reviewing an access (no records are read).
    PrivacyReview,
}

/// What was attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// A privacy officer's finding on another access record (the review queue). The
    /// finding is part of the tamper-evident log; the officer's note is not (free text).
    ReviewAccess {
        /// The access record reviewed.
        reviewed: AccessRecordId,
        /// The finding.
        outcome: ReviewOutcome,
    },
}

impl AccessAction {
    /// Stable snake_case code (the serde `type` tag): FHIR codings and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            AccessAction::IdentifyPatient => "identify_patient",
            AccessAction::RecordConsent => "record_consent",
            AccessAction::ViewSummary => "view_summary",
            AccessAction::RelayToHospital { .. } => "relay_to_hospital",
            AccessAction::ViewOnDevice { .. } => "view_on_device",
            AccessAction::ReviewAccess { .. } => "review_access",
        }
    }
}

/// A privacy officer's finding on an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The access was justified.
    Appropriate,
    /// The access was not justified.
    Inappropriate,
    /// Undecided: the officer follows it up (asks the fire department, the hospital).
    NeedsFollowUp,
}

impl ReviewOutcome {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            ReviewOutcome::Appropriate => "appropriate",
            ReviewOutcome::Inappropriate => "inappropriate",
            ReviewOutcome::NeedsFollowUp => "needs_follow_up",
        }
    }

    /// The finding with this code.
    pub fn parse(code: &str) -> Option<Self> {
        [
            ReviewOutcome::Appropriate,
            ReviewOutcome::Inappropriate,
            ReviewOutcome::NeedsFollowUp,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

/// Why an access was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The incident belongs to another ambulance unit: a crew sees its own unit's
    /// incidents only.
    OutsideScope,
    /// The incident is no longer active ([`crate::policy::INCIDENT_ACTIVE_FOR`] after it was
    /// opened): its records cannot be requested again.
    IncidentNotActive,
    /// The institution is not an emergency-receiving hospital (a clinic or pharmacy): it
    /// never receives an emergency view.
    NotEmergencyReceiving,
}

impl DenialReason {
    /// Stable snake_case code (its serde name): metric labels.
    pub fn code(self) -> &'static str {
        match self {
            DenialReason::UnknownPatient => "unknown_patient",
            DenialReason::CertificateInvalid => "certificate_invalid",
            DenialReason::CertificateUntrusted => "certificate_untrusted",
            DenialReason::CertificateRevoked => "certificate_revoked",
            DenialReason::CertificateNotValidNow => "certificate_not_valid_now",
            DenialReason::ChallengeInvalid => "challenge_invalid",
            DenialReason::SignatureInvalid => "signature_invalid",
            DenialReason::IdentityMethodNotAccepted => "identity_method_not_accepted",
            DenialReason::OutsideDeclaredDisaster => "outside_declared_disaster",
            DenialReason::PhotoNotConfirmed => "photo_not_confirmed",
            DenialReason::ConsentRefused => "consent_refused",
            DenialReason::ConsentNotRecorded => "consent_not_recorded",
            DenialReason::ConsentReasonMissing => "consent_reason_missing",
            DenialReason::ConsentAlreadyRecorded => "consent_already_recorded",
            DenialReason::OutsideScope => "outside_scope",
            DenialReason::IncidentNotActive => "incident_not_active",
            DenialReason::NotEmergencyReceiving => "not_emergency_receiving",
        }
    }
}

/// The result of the attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// A privacy officer's review was recorded ([`AccessAction::ReviewAccess`]): no
    /// records were read.
    Reviewed,
}

impl AccessOutcome {
    /// True when medical records left the server.
    pub fn disclosed_records(&self) -> bool {
        matches!(self, AccessOutcome::Disclosed { .. })
    }
}

/// One access attempt, as written to the append-only access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    fn codes_are_the_serde_names() {
        use DenialReason::*;
        for reason in [
            UnknownPatient,
            CertificateInvalid,
            CertificateUntrusted,
            CertificateRevoked,
            CertificateNotValidNow,
            ChallengeInvalid,
            SignatureInvalid,
            IdentityMethodNotAccepted,
            OutsideDeclaredDisaster,
            PhotoNotConfirmed,
            ConsentRefused,
            ConsentNotRecorded,
            ConsentReasonMissing,
            ConsentAlreadyRecorded,
            OutsideScope,
            IncidentNotActive,
            NotEmergencyReceiving,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.code());
        }
        let reviewed = AccessRecordId(Uuid::nil());
        for action in [
            AccessAction::IdentifyPatient,
            AccessAction::RecordConsent,
            AccessAction::ViewSummary,
            AccessAction::RelayToHospital {
                hospital_id: "h".into(),
            },
            AccessAction::ViewOnDevice {
                viewed_at: DateTime::<Utc>::MIN_UTC,
            },
            AccessAction::ReviewAccess {
                reviewed,
                outcome: ReviewOutcome::Appropriate,
            },
        ] {
            assert_eq!(
                serde_json::to_value(&action).unwrap()["type"],
                action.code()
            );
        }
    }

    #[test]
    fn a_review_is_logged_with_its_finding() {
        let reviewed = AccessRecordId(Uuid::nil());
        let action = AccessAction::ReviewAccess {
            reviewed,
            outcome: ReviewOutcome::NeedsFollowUp,
        };
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "review_access", "reviewed": Uuid::nil(), "outcome": "needs_follow_up"})
        );
        assert_eq!(
            serde_json::from_value::<AccessAction>(json).unwrap(),
            action
        );
        for code in ["appropriate", "inappropriate", "needs_follow_up"] {
            assert_eq!(
                ReviewOutcome::parse(code).map(ReviewOutcome::code),
                Some(code)
            );
        }
        assert_eq!(ReviewOutcome::parse("fine"), None);
        assert!(!AccessOutcome::Reviewed.disclosed_records());
    }

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
