//! This system's own FHIR code systems, identifier systems and extensions: the URLs
//! under `https://myna-emergency.example/fhir/` that the FHIR exports (edge-agent's
//! `AuditEvent`s, hospital-view's IPS bundle) write. Defined once so that, for
//! instance, a patient id in an audit event joins the same patient in a bundle.
//!
//! The codes in each code system are the snake_case wire names of the domain enums
//! unless a constant says otherwise.

/// Identifier system of patient ids.
pub const PATIENT_ID_SYSTEM: &str = "https://myna-emergency.example/fhir/sid/patient-id";
/// Identifier system of crew staff ids (assigned by the institution).
pub const STAFF_ID_SYSTEM: &str = "https://myna-emergency.example/fhir/sid/staff-id";
/// Identifier system of tablet device ids (assigned by the institution).
pub const DEVICE_ID_SYSTEM: &str = "https://myna-emergency.example/fhir/sid/device-id";
/// Identifier system of institution ids (fire departments, hospitals).
pub const INSTITUTION_ID_SYSTEM: &str = "https://myna-emergency.example/fhir/sid/institution-id";
/// Identifier system of ambulance units.
pub const UNIT_ID_SYSTEM: &str = "https://myna-emergency.example/fhir/sid/ambulance-unit";
/// Identifier system of access records (the access log's entry ids).
pub const ACCESS_RECORD_ID_SYSTEM: &str =
    "https://myna-emergency.example/fhir/sid/access-record-id";
/// Identifier system of handoff ids (one per arrival notice).
pub const HANDOFF_ID_SYSTEM: &str = "https://myna-emergency.example/fhir/sid/handoff-id";

/// Code system of viewer roles (`paramedic`, `receiving_hospital`).
pub const VIEWER_ROLE_SYSTEM: &str = "https://myna-emergency.example/fhir/CodeSystem/viewer-role";
/// Code system of access actions (`identify_patient`, `view_summary`, ...).
pub const ACCESS_ACTION_SYSTEM: &str =
    "https://myna-emergency.example/fhir/CodeSystem/access-action";
/// Code system of record kinds ([`RecordKind::as_str`](crate::records::RecordKind::as_str)).
pub const RECORD_KIND_SYSTEM: &str = "https://myna-emergency.example/fhir/CodeSystem/record-kind";
/// Code system of record sources (`claims`, `e_prescription`, `ehr_sharing`, `checkup`).
pub const RECORD_SOURCE_SYSTEM: &str =
    "https://myna-emergency.example/fhir/CodeSystem/record-source";
/// Code system of drug classes (`anticoagulant`, `antiplatelet`, ...).
pub const DRUG_CLASS_SYSTEM: &str = "https://myna-emergency.example/fhir/CodeSystem/drug-class";
/// Code system of lab analytes (`potassium`, `d_dimer`, ...).
pub const ANALYTE_SYSTEM: &str = "https://myna-emergency.example/fhir/CodeSystem/analyte";
/// Code system of infection markers (`hbs_antigen`, `hcv_antibody`, ...).
pub const INFECTION_MARKER_SYSTEM: &str =
    "https://myna-emergency.example/fhir/CodeSystem/infection-marker";
/// Code system of consent states (`given`, `refused`, `difficult`).
pub const CONSENT_STATE_SYSTEM: &str =
    "https://myna-emergency.example/fhir/CodeSystem/consent-state";
/// Code system of reasons consent was difficult (`unconscious`, `severe_pain`,
/// `cannot_communicate`, `other`).
pub const CONSENT_REASON_SYSTEM: &str =
    "https://myna-emergency.example/fhir/CodeSystem/consent-difficulty-reason";

/// Extension holding where a record came from (a [`RECORD_SOURCE_SYSTEM`] coding).
pub const RECORD_SOURCE_EXTENSION: &str =
    "https://myna-emergency.example/fhir/StructureDefinition/record-source";
/// Extension flagging a high-risk medication (a boolean).
pub const HIGH_RISK_EXTENSION: &str =
    "https://myna-emergency.example/fhir/StructureDefinition/high-risk-medication";
/// Extension holding the consent state (a [`CONSENT_STATE_SYSTEM`] coding).
pub const CONSENT_STATE_EXTENSION: &str =
    "https://myna-emergency.example/fhir/StructureDefinition/consent-state";
/// Extension holding why consent was difficult (a [`CONSENT_REASON_SYSTEM`] coding).
pub const CONSENT_REASON_EXTENSION: &str =
    "https://myna-emergency.example/fhir/StructureDefinition/consent-difficulty-reason";
