//! FHIR R4 `AuditEvent` export of the access log (閲覧記録), for auditors and for
//! FHIR bulk-data (NDJSON) consumers.
//!
//! The types are `fhir-model`'s R4B ones: R4B left `AuditEvent` unchanged from R4, so the
//! JSON is R4 `AuditEvent`. One [`AccessRecord`] becomes one `AuditEvent`:
//!
//! | `AuditEvent`            | from the access record                                        |
//! |-------------------------|---------------------------------------------------------------|
//! | `id`                    | the access record id                                          |
//! | `type`                  | DICOM `110110` Patient Record                                 |
//! | `subtype`               | the [`AccessAction`] (local code system `access-action`)       |
//! | `action`                | `E` for a relay to a hospital or a privacy officer's review, `R` for every other attempt |
//! | `recorded`              | `at` (for a view on the tablet: when the edge received the report) |
//! | `period`                | for a view on the tablet only: `start` = `end` = the tablet's time of the display (its own clock) |
//! | `outcome`/`outcomeDesc` | `0` disclosed or relayed; `4` refused or denied, with the stable snake_case reason code |
//! | `purposeOfEvent`        | `ETREAT` (v3-ActReason); `HOPERAT` for a privacy officer's review |
//! | `agent[0]`              | the requesting viewer: staff id, else device id, else institution; role coded locally; `purposeOfUse` `ETREAT`, plus `BTG` when consent was difficult |
//! | `agent[1]`              | the tablet, when a staff member acted on a device              |
//! | `agent[..]`             | the receiving hospital, for a relay                           |
//! | `source`                | observer `edge-agent`                                         |
//! | `entity`                | the patient; one per record kind disclosed; the access-log entry (consent, incident, log leaf index; `device-viewed-at` for a view on the tablet) |
//!
//! A view of the summary on the tablet ([`AccessAction::ViewOnDevice`], the crew showing
//! its encrypted copy again) is coded like a fetch of the summary — action `R`, purpose
//! `ETREAT` (and `BTG` without consent), the kinds of the copy as entities — with its own
//! subtype `view_on_device`, and the tablet's time of the display in `period` and in the
//! entry's detail `device-viewed-at`.
//!
//! A privacy officer's review ([`AccessAction::ReviewAccess`]) is coded `E` with subtype
//! `review_access`, purpose `HOPERAT`, the officer as requesting agent (role
//! `privacy_officer`), outcome `0`, and the reviewed access's id and the finding as
//! details of the entry (`reviewed-access-id`, `review-outcome`); the officer's note is
//! not part of the access record and is never exported.
//!
//! # Break the glass
//! When consent was difficult to obtain ([`ConsentState::Difficult`], 同意取得困難), records
//! were viewed without consent: the requesting agent's `purposeOfUse` carries `BTG` beside `ETREAT`
//! ("break the glass", v3-ActReason). HL7 defines break-the-glass as a *purpose of use*
//! asserted by the requester, not as a label on the data
//! (<https://hl7.org/fhir/R4/security-labels.html#break-the-glass>), and the R4
//! `AuditEvent.purposeOfEvent` definition says to use `agent.purposeOfUse` when the purpose
//! is specific to an agent (<https://hl7.org/fhir/R4/auditevent-definitions.html#AuditEvent.purposeOfEvent>):
//! here the crew member who judged consent difficult. `meta.security` is not used, as it
//! would label the audit record itself.
//!
//! # Personal data
//! The export holds ids (patient, staff, device, institution), codes and times. The crew's
//! free-text note of [`DifficultyReason::Other`] is never exported, only the code `other`.
//!
//! [`DifficultyReason::Other`]: myna_domain::consent::DifficultyReason::Other

use std::io::Write;

use chrono::{DateTime, Utc};
use fhir_model::r4b::codes::{AuditEventAction, AuditEventOutcome};
use fhir_model::r4b::resources::{
    AuditEvent, AuditEventAgent, AuditEventEntity, AuditEventEntityDetail,
    AuditEventEntityDetailValue, AuditEventSource,
};
use fhir_model::r4b::types::{CodeableConcept, Coding, Identifier, Period, Reference};
use fhir_model::time::OffsetDateTime;
use fhir_model::{BuilderError, DateTime as FhirDateTime, Instant};
use myna_domain::access::{
    AccessAction, AccessOutcome, AccessRecord, Institution, Purpose, Viewer, ViewerRole,
};
use myna_domain::consent::ConsentState;
use myna_domain::labels;
use myna_domain::records::RecordKind;

/// This system's own code and identifier systems, shared with hospital-view's bundle export.
pub use myna_domain::fhir_systems::{
    ACCESS_ACTION_SYSTEM, ACCESS_RECORD_ID_SYSTEM, DEVICE_ID_SYSTEM, INSTITUTION_ID_SYSTEM,
    PATIENT_ID_SYSTEM, RECORD_KIND_SYSTEM, STAFF_ID_SYSTEM, UNIT_ID_SYSTEM, VIEWER_ROLE_SYSTEM,
};

/// Entity detail type holding the entry's leaf index in the tamper-evident access log:
/// ask the log for the inclusion proof of this leaf.
pub const LEAF_INDEX_DETAIL: &str = "access-log-leaf-index";

/// Entity detail type holding, for a view of the summary on the tablet, when the tablet
/// displayed it by its own clock (RFC 3339, UTC).
pub const DEVICE_VIEWED_AT_DETAIL: &str = "device-viewed-at";

/// Entity detail type holding, for a privacy officer's review, the id of the access
/// record reviewed.
pub const REVIEWED_ACCESS_DETAIL: &str = "reviewed-access-id";

/// Entity detail type holding, for a privacy officer's review, the finding
/// (`appropriate`, `inappropriate`, `needs_follow_up`).
pub const REVIEW_OUTCOME_DETAIL: &str = "review-outcome";

const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const SOURCE_TYPE: &str = "http://terminology.hl7.org/CodeSystem/security-source-type";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";

/// Why an access record could not be turned into an `AuditEvent`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The access time is outside what a FHIR `instant` can hold (years 1 to 9999).
    #[error("access time outside the FHIR instant range")]
    TimeOutOfRange,
    /// A required FHIR element was left unset: a bug in this module.
    #[error("incomplete FHIR element: {0}")]
    Incomplete(#[from] BuilderError),
    /// JSON encoding failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The FHIR R4 `AuditEvent` of one access record. `leaf_index`, when given, is the
/// record's leaf in the access log's Merkle tree (entity detail [`LEAF_INDEX_DETAIL`]).
pub fn audit_event(record: &AccessRecord, leaf_index: Option<u64>) -> Result<AuditEvent> {
    let (outcome, outcome_desc) = outcome(&record.outcome);
    let action = match record.action {
        AccessAction::RelayToHospital { .. } | AccessAction::ReviewAccess { .. } => {
            AuditEventAction::E
        }
        _ => AuditEventAction::R,
    };
    let mut event = AuditEvent::builder()
        .id(record.id.0.to_string())
        .r#type(coding(DCM, "110110", "Patient Record")?)
        .subtype(vec![Some(action_coding(&record.action)?)])
        .action(action)
        .recorded(instant(record.at)?)
        .outcome(outcome)
        .purpose_of_event(vec![Some(purpose(record.purpose)?)])
        .agent(agents(record)?.into_iter().map(Some).collect())
        .source(
            AuditEventSource::builder()
                .observer(
                    Reference::builder()
                        .identifier(Identifier::builder().value("edge-agent".into()).build()?)
                        .build()?,
                )
                .r#type(vec![Some(coding(SOURCE_TYPE, "4", "Application Server")?)])
                .build()?,
        )
        .entity(
            entities(record, leaf_index)?
                .into_iter()
                .map(Some)
                .collect(),
        );
    if let Some(desc) = outcome_desc {
        event = event.outcome_desc(desc);
    }
    if let AccessAction::ViewOnDevice { viewed_at } = record.action {
        // When the activity happened, by the tablet's clock; `recorded` is the edge's.
        let viewed_at = FhirDateTime::DateTime(instant(viewed_at)?);
        event = event.period(
            Period::builder()
                .start(viewed_at.clone())
                .end(viewed_at)
                .build()?,
        );
    }
    Ok(event.build()?)
}

/// [`audit_event`] as JSON.
pub fn audit_event_json(
    record: &AccessRecord,
    leaf_index: Option<u64>,
) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(audit_event(record, leaf_index)?)?)
}

/// [`audit_event_json`] as shown to the patient the record is about: the requester is
/// the institution, with no staff member and no tablet (patients see who viewed their
/// records by institution and role, never by staff id).
pub fn patient_audit_event_json(
    record: &AccessRecord,
    leaf_index: Option<u64>,
) -> Result<serde_json::Value> {
    let mut record = record.clone();
    record.viewer.staff_id = None;
    record.viewer.device_id = None;
    audit_event_json(&record, leaf_index)
}

/// Writes FHIR bulk-data NDJSON: one `AuditEvent` per line, for `(leaf index, record)`
/// pairs. Returns the number of events written.
pub fn audit_events_ndjson(
    records: impl Iterator<Item = (u64, AccessRecord)>,
    out: &mut impl Write,
) -> std::io::Result<u64> {
    let mut written = 0;
    for (leaf_index, record) in records {
        let event = audit_event(&record, Some(leaf_index))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")?;
        written += 1;
    }
    Ok(written)
}

/// The outcome code, and for failures the stable reason code (never personal data).
fn outcome(outcome: &AccessOutcome) -> (AuditEventOutcome, Option<String>) {
    match outcome {
        AccessOutcome::Disclosed { .. }
        | AccessOutcome::RelayedWithoutRecords
        | AccessOutcome::Reviewed => (AuditEventOutcome::N0, None),
        AccessOutcome::Refused => (AuditEventOutcome::N4, Some("consent_refused".into())),
        AccessOutcome::Denied { reason } => (AuditEventOutcome::N4, Some(unit_code(reason))),
    }
}

/// The snake_case wire name of a unit enum variant (its stable code). Unit variants always
/// serialize to a string; `unknown` only guards against a future non-unit variant.
fn unit_code<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        _ => "unknown".into(),
    }
}

fn purpose(purpose: Purpose) -> Result<CodeableConcept> {
    match purpose {
        Purpose::EmergencyTreatment => {
            concept(coding(ACT_REASON, "ETREAT", "Emergency Treatment")?)
        }
        // Oversight of access to health information is a healthcare operation.
        Purpose::PrivacyReview => concept(coding(ACT_REASON, "HOPERAT", "healthcare operations")?),
    }
}

fn action_coding(action: &AccessAction) -> Result<Coding> {
    coding(
        ACCESS_ACTION_SYSTEM,
        action.code(),
        labels::access_action(action).1,
    )
}

/// The requesting viewer, the tablet it used, and the hospital a relay went to.
fn agents(record: &AccessRecord) -> Result<Vec<AuditEventAgent>> {
    let viewer = &record.viewer;
    let role = viewer_role(viewer.role)?;
    let who = match (&viewer.staff_id, &viewer.device_id) {
        (Some(staff), _) => identified(STAFF_ID_SYSTEM, staff, Some(&viewer.institution))?,
        (None, Some(device)) => identified(DEVICE_ID_SYSTEM, device, Some(&viewer.institution))?,
        (None, None) => institution(&viewer.institution)?,
    };
    let mut requestor = AuditEventAgent::builder()
        .role(vec![Some(role)])
        .who(who)
        .requestor(true);
    if let Some(unit) = &viewer.unit {
        requestor = requestor.location(identified(UNIT_ID_SYSTEM, unit, None)?);
    }
    // The requester's purpose is emergency treatment, always; without consent it is also
    // break-the-glass.
    let mut purposes = vec![Some(purpose(record.purpose)?)];
    if record
        .consent
        .as_ref()
        .is_some_and(ConsentState::is_without_consent)
    {
        purposes.push(Some(concept(coding(
            ACT_REASON,
            "BTG",
            "break the glass",
        )?)?));
    }
    requestor = requestor.purpose_of_use(purposes);
    let mut agents = vec![requestor.build()?];
    if let Viewer {
        staff_id: Some(_),
        device_id: Some(device),
        institution: owner,
        ..
    } = viewer
    {
        agents.push(
            AuditEventAgent::builder()
                .r#type(concept(coding(PARTICIPATION_TYPE, "DEV", "device")?)?)
                .who(identified(DEVICE_ID_SYSTEM, device, Some(owner))?)
                .requestor(false)
                .build()?,
        );
    }
    if let AccessAction::RelayToHospital { hospital_id } = &record.action {
        agents.push(
            AuditEventAgent::builder()
                .r#type(concept(coding(DCM, "110152", "Destination Role ID")?)?)
                .who(identified(INSTITUTION_ID_SYSTEM, hospital_id, None)?)
                .requestor(false)
                .build()?,
        );
    }
    Ok(agents)
}

fn viewer_role(role: ViewerRole) -> Result<CodeableConcept> {
    concept(coding(
        VIEWER_ROLE_SYSTEM,
        &unit_code(&role),
        labels::viewer_role(role).1,
    )?)
}

/// The patient, each record kind disclosed, and the access-log entry itself.
fn entities(record: &AccessRecord, leaf_index: Option<u64>) -> Result<Vec<AuditEventEntity>> {
    let mut entities = Vec::new();
    if let Some(patient) = &record.patient {
        entities.push(
            AuditEventEntity::builder()
                .what(identified(PATIENT_ID_SYSTEM, &patient.0, None)?)
                .r#type(coding(ENTITY_TYPE, "1", "Person")?)
                .role(coding(OBJECT_ROLE, "1", "Patient")?)
                .build()?,
        );
    }
    if let AccessOutcome::Disclosed { kinds } = &record.outcome {
        for kind in kinds {
            entities.push(
                AuditEventEntity::builder()
                    .r#type(record_kind(*kind)?)
                    .role(coding(OBJECT_ROLE, "4", "Domain Resource")?)
                    .build()?,
            );
        }
    }
    // A receiving FHIR server may give the AuditEvent its own id: the entry keeps the link.
    let mut details = Vec::new();
    if let Some(consent) = &record.consent {
        let (state, reason) = consent.codes();
        details.push(detail("consent-state", state.into())?);
        if let Some(reason) = reason {
            details.push(detail("consent-difficulty-reason", reason.into())?);
        }
    }
    if let Some(incident) = record.incident {
        details.push(detail("incident-id", incident.to_string())?);
    }
    if let AccessAction::ViewOnDevice { viewed_at } = record.action {
        details.push(detail(
            DEVICE_VIEWED_AT_DETAIL,
            viewed_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        )?);
    }
    if let AccessAction::ReviewAccess { reviewed, outcome } = record.action {
        details.push(detail(REVIEWED_ACCESS_DETAIL, reviewed.0.to_string())?);
        details.push(detail(REVIEW_OUTCOME_DETAIL, outcome.code().into())?);
    }
    if let Some(leaf) = leaf_index {
        details.push(detail(LEAF_INDEX_DETAIL, leaf.to_string())?);
    }
    entities.push(
        AuditEventEntity::builder()
            .what(identified(
                ACCESS_RECORD_ID_SYSTEM,
                &record.id.0.to_string(),
                None,
            )?)
            .r#type(coding(ENTITY_TYPE, "2", "System Object")?)
            .role(coding(OBJECT_ROLE, "13", "Security Resource")?)
            .detail(details.into_iter().map(Some).collect())
            .build()?,
    );
    Ok(entities)
}

fn record_kind(kind: RecordKind) -> Result<Coding> {
    coding(
        RECORD_KIND_SYSTEM,
        kind.as_str(),
        labels::record_kind(kind).1,
    )
}

fn instant(at: DateTime<Utc>) -> Result<Instant> {
    let nanos =
        i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map(Instant)
        .map_err(|_| Error::TimeOutOfRange)
}

fn coding(system: &str, code: &str, display: &str) -> Result<Coding> {
    Ok(Coding::builder()
        .system(system.into())
        .code(code.into())
        .display(display.into())
        .build()?)
}

fn concept(coding: Coding) -> Result<CodeableConcept> {
    Ok(CodeableConcept::builder()
        .coding(vec![Some(coding)])
        .build()?)
}

/// A reference by identifier, optionally assigned by an institution (staff and device ids
/// are unique within their institution).
fn identified(system: &str, value: &str, assigner: Option<&Institution>) -> Result<Reference> {
    let mut identifier = Identifier::builder()
        .system(system.into())
        .value(value.into());
    if let Some(owner) = assigner {
        identifier = identifier.assigner(institution(owner)?);
    }
    Ok(Reference::builder()
        .identifier(identifier.build()?)
        .build()?)
}

fn institution(institution: &Institution) -> Result<Reference> {
    Ok(Reference::builder()
        .identifier(
            Identifier::builder()
                .system(INSTITUTION_ID_SYSTEM.into())
                .value(institution.id.clone())
                .build()?,
        )
        .display(institution.name.clone())
        .build()?)
}

fn detail(kind: &str, value: String) -> Result<AuditEventEntityDetail> {
    Ok(AuditEventEntityDetail::builder()
        .r#type(kind.into())
        .value(AuditEventEntityDetailValue::String(value))
        .build()?)
}

#[cfg(test)]
mod tests;
