use chrono::TimeZone;
use myna_domain::access::{AccessRecordId, DenialReason, IncidentId, Institution, InstitutionKind};
use myna_domain::consent::DifficultyReason;
use myna_domain::identity::PatientId;
use serde_json::json;
use uuid::Uuid;

use super::*;

const RECORD_ID: &str = "00000000-0000-4000-8000-000000000001";
const INCIDENT_ID: &str = "00000000-0000-4000-8000-0000000000aa";

fn crew() -> Viewer {
    Viewer {
        staff_id: Some("crew-7".into()),
        role: ViewerRole::Paramedic,
        device_id: Some("tab-3".into()),
        unit: Some("shibuya-1".into()),
        institution: Institution {
            id: "fd-tokyo".into(),
            name: "Tokyo Fire Department".into(),
            kind: InstitutionKind::FireDepartment,
        },
        certificate_serial: None,
    }
}

fn record(consent: Option<ConsentState>, outcome: AccessOutcome) -> AccessRecord {
    AccessRecord {
        id: AccessRecordId(Uuid::parse_str(RECORD_ID).unwrap()),
        at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 5).unwrap()
            + chrono::Duration::milliseconds(250),
        incident: Some(IncidentId(Uuid::parse_str(INCIDENT_ID).unwrap())),
        patient: Some(PatientId("P000042".into())),
        viewer: crew(),
        purpose: Purpose::EmergencyTreatment,
        action: AccessAction::ViewSummary,
        consent,
        outcome,
    }
}

fn disclosed() -> AccessOutcome {
    AccessOutcome::Disclosed {
        kinds: vec![RecordKind::DrugAllergy, RecordKind::LabResult],
    }
}

/// Compares whole JSON values, printing the actual one for a failing snapshot.
fn check(actual: serde_json::Value, expected: serde_json::Value) {
    assert_eq!(
        actual,
        expected,
        "actual:\n{}",
        serde_json::to_string_pretty(&actual).unwrap()
    );
}

fn crew_agent(purpose_of_use: Option<serde_json::Value>) -> serde_json::Value {
    let mut agent = json!({
        "role": [{"coding": [{"system": VIEWER_ROLE_SYSTEM, "code": "paramedic", "display": "Paramedic"}]}],
        "who": {"identifier": {
            "system": STAFF_ID_SYSTEM,
            "value": "crew-7",
            "assigner": {
                "identifier": {"system": INSTITUTION_ID_SYSTEM, "value": "fd-tokyo"},
                "display": "Tokyo Fire Department"
            }
        }},
        "requestor": true,
        "location": {"identifier": {"system": UNIT_ID_SYSTEM, "value": "shibuya-1"}}
    });
    let mut purposes = etreat();
    if let Some(purpose) = purpose_of_use {
        purposes.as_array_mut().unwrap().push(purpose);
    }
    agent["purposeOfUse"] = purposes;
    agent
}

fn tablet_agent() -> serde_json::Value {
    json!({
        "type": {"coding": [{"system": PARTICIPATION_TYPE, "code": "DEV", "display": "device"}]},
        "who": {"identifier": {
            "system": DEVICE_ID_SYSTEM,
            "value": "tab-3",
            "assigner": {
                "identifier": {"system": INSTITUTION_ID_SYSTEM, "value": "fd-tokyo"},
                "display": "Tokyo Fire Department"
            }
        }},
        "requestor": false
    })
}

fn patient_entity() -> serde_json::Value {
    json!({
        "what": {"identifier": {"system": PATIENT_ID_SYSTEM, "value": "P000042"}},
        "type": {"system": ENTITY_TYPE, "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"}
    })
}

fn log_entry_entity(details: serde_json::Value) -> serde_json::Value {
    json!({
        "what": {"identifier": {"system": ACCESS_RECORD_ID_SYSTEM, "value": RECORD_ID}},
        "type": {"system": ENTITY_TYPE, "code": "2", "display": "System Object"},
        "role": {"system": OBJECT_ROLE, "code": "13", "display": "Security Resource"},
        "detail": details
    })
}

fn etreat() -> serde_json::Value {
    json!([{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
        "code": "ETREAT",
        "display": "Emergency Treatment"
    }]}])
}

fn source() -> serde_json::Value {
    json!({
        "observer": {"identifier": {"value": "edge-agent"}},
        "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}]
    })
}

fn view_summary_subtype() -> serde_json::Value {
    json!([{"system": ACCESS_ACTION_SYSTEM, "code": "view_summary", "display": "Viewed emergency summary"}])
}

#[test]
fn disclosure_with_consent_given() {
    let event = audit_event_json(&record(Some(ConsentState::Given), disclosed()), Some(41));
    check(
        event.unwrap(),
        json!({
            "resourceType": "AuditEvent",
            "id": RECORD_ID,
            "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
            "subtype": view_summary_subtype(),
            "action": "R",
            "recorded": "2026-11-25T09:30:05.25Z",
            "outcome": "0",
            "purposeOfEvent": etreat(),
            "agent": [crew_agent(None), tablet_agent()],
            "source": source(),
            "entity": [
                patient_entity(),
                {
                    "type": {"system": RECORD_KIND_SYSTEM, "code": "drug_allergy", "display": "Drug allergy"},
                    "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"}
                },
                {
                    "type": {"system": RECORD_KIND_SYSTEM, "code": "lab_result", "display": "Lab result"},
                    "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"}
                },
                log_entry_entity(json!([
                    {"type": "consent-state", "valueString": "given"},
                    {"type": "incident-id", "valueString": INCIDENT_ID},
                    {"type": "access-log-leaf-index", "valueString": "41"}
                ]))
            ]
        }),
    );
}

#[test]
fn disclosure_without_consent_breaks_the_glass() {
    let consent = ConsentState::Difficult {
        reason: DifficultyReason::Unconscious,
    };
    let event = audit_event_json(&record(Some(consent), disclosed()), None).unwrap();
    let btg = json!({"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
        "code": "BTG",
        "display": "break the glass"
    }]});
    check(
        event["agent"].clone(),
        json!([crew_agent(Some(btg)), tablet_agent()]),
    );
    check(event["purposeOfEvent"].clone(), etreat());
    check(event["outcome"].clone(), json!("0"));
    check(
        event["entity"][3].clone(),
        log_entry_entity(json!([
            {"type": "consent-state", "valueString": "difficult"},
            {"type": "consent-difficulty-reason", "valueString": "unconscious"},
            {"type": "incident-id", "valueString": INCIDENT_ID}
        ])),
    );
    assert!(event.get("meta").is_none());
}

#[test]
fn consent_given_has_no_break_the_glass() {
    let event = audit_event_json(&record(Some(ConsentState::Given), disclosed()), None).unwrap();
    assert!(!event.to_string().contains("BTG"));
}

#[test]
fn refusal_is_a_minor_failure_without_record_kinds() {
    let event = audit_event_json(
        &record(Some(ConsentState::Refused), AccessOutcome::Refused),
        Some(7),
    );
    check(
        event.unwrap(),
        json!({
            "resourceType": "AuditEvent",
            "id": RECORD_ID,
            "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
            "subtype": view_summary_subtype(),
            "action": "R",
            "recorded": "2026-11-25T09:30:05.25Z",
            "outcome": "4",
            "outcomeDesc": "consent_refused",
            "purposeOfEvent": etreat(),
            "agent": [crew_agent(None), tablet_agent()],
            "source": source(),
            "entity": [
                patient_entity(),
                log_entry_entity(json!([
                    {"type": "consent-state", "valueString": "refused"},
                    {"type": "incident-id", "valueString": INCIDENT_ID},
                    {"type": "access-log-leaf-index", "valueString": "7"}
                ]))
            ]
        }),
    );
}

#[test]
fn denial_of_an_unknown_card_at_a_hospital() {
    let mut denied = record(
        None,
        AccessOutcome::Denied {
            reason: DenialReason::CertificateRevoked,
        },
    );
    denied.action = AccessAction::IdentifyPatient;
    denied.patient = None;
    denied.incident = None;
    denied.viewer = Viewer {
        staff_id: None,
        role: ViewerRole::ReceivingHospital,
        device_id: None,
        unit: None,
        institution: Institution {
            id: "hosp-kyoto-1".into(),
            name: "Kyoto General".into(),
            kind: InstitutionKind::EmergencyHospital { tier: 3 },
        },
        certificate_serial: None,
    };
    check(
        audit_event_json(&denied, Some(0)).unwrap(),
        json!({
            "resourceType": "AuditEvent",
            "id": RECORD_ID,
            "type": {"system": DCM, "code": "110110", "display": "Patient Record"},
            "subtype": [{"system": ACCESS_ACTION_SYSTEM, "code": "identify_patient", "display": "Identification"}],
            "action": "R",
            "recorded": "2026-11-25T09:30:05.25Z",
            "outcome": "4",
            "outcomeDesc": "certificate_revoked",
            "purposeOfEvent": etreat(),
            "agent": [{
                "role": [{"coding": [{
                    "system": VIEWER_ROLE_SYSTEM,
                    "code": "receiving_hospital",
                    "display": "Receiving hospital"
                }]}],
                "who": {
                    "identifier": {"system": INSTITUTION_ID_SYSTEM, "value": "hosp-kyoto-1"},
                    "display": "Kyoto General"
                },
                "requestor": true,
                "purposeOfUse": etreat()
            }],
            "source": source(),
            "entity": [log_entry_entity(json!([
                {"type": "access-log-leaf-index", "valueString": "0"}
            ]))]
        }),
    );
}

#[test]
fn relay_is_an_execute_naming_the_hospital() {
    let mut relay = record(
        Some(ConsentState::Refused),
        AccessOutcome::RelayedWithoutRecords,
    );
    relay.action = AccessAction::RelayToHospital {
        hospital_id: "hosp-kyoto-1".into(),
    };
    let event = audit_event_json(&relay, None).unwrap();
    check(event["action"].clone(), json!("E"));
    check(event["outcome"].clone(), json!("0"));
    assert!(event.get("outcomeDesc").is_none());
    check(
        event["agent"][2].clone(),
        json!({
            "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
            "who": {"identifier": {"system": INSTITUTION_ID_SYSTEM, "value": "hosp-kyoto-1"}},
            "requestor": false
        }),
    );
    assert_eq!(event["entity"].as_array().unwrap().len(), 2);
}

#[test]
fn a_free_text_difficulty_note_is_never_exported() {
    let consent = ConsentState::Difficult {
        reason: DifficultyReason::Other("daughter Hanako says no".into()),
    };
    let event = audit_event_json(&record(Some(consent), disclosed()), None).unwrap();
    let text = event.to_string();
    assert!(!text.contains("Hanako"), "{text}");
    assert!(text.contains(r#"{"type":"consent-difficulty-reason","valueString":"other"}"#));
}

#[test]
fn the_json_reads_back_as_an_r4_audit_event() {
    let event = audit_event(&record(Some(ConsentState::Given), disclosed()), Some(3)).unwrap();
    let json = serde_json::to_value(&event).unwrap();
    let back: AuditEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn times_beyond_year_9999_are_an_error() {
    let mut late = record(Some(ConsentState::Given), disclosed());
    late.at = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
    assert!(matches!(
        audit_event(&late, None),
        Err(Error::TimeOutOfRange)
    ));
}

#[test]
fn ndjson_writes_one_event_per_line() {
    let mut second = record(Some(ConsentState::Refused), AccessOutcome::Refused);
    second.id = AccessRecordId(Uuid::from_u128(2));
    let records = vec![
        (10, record(Some(ConsentState::Given), disclosed())),
        (11, second),
    ];
    let mut out = Vec::new();
    assert_eq!(
        audit_events_ndjson(records.into_iter(), &mut out).unwrap(),
        2
    );
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], RECORD_ID);
    assert_eq!(lines[1]["id"], "00000000-0000-0000-0000-000000000002");
    assert_eq!(lines[1]["outcome"], "4");
    let leaf = |event: &serde_json::Value| {
        event["entity"].as_array().unwrap().last().unwrap()["detail"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone()
    };
    assert_eq!(
        leaf(&lines[1]),
        json!({"type": LEAF_INDEX_DETAIL, "valueString": "11"})
    );
}

#[test]
fn a_view_on_the_tablet_is_a_read_with_the_tablet_time_as_its_period() {
    let mut view = record(Some(ConsentState::Given), disclosed());
    view.action = AccessAction::ViewOnDevice {
        viewed_at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 12, 0).unwrap(),
    };
    let event = audit_event(&view, Some(7)).unwrap();
    let json = serde_json::to_value(&event).unwrap();
    check(
        json["subtype"].clone(),
        json!([{"system": ACCESS_ACTION_SYSTEM, "code": "view_on_device",
                "display": "Summary shown again on the ambulance tablet"}]),
    );
    check(json["action"].clone(), json!("R"));
    check(json["purposeOfEvent"].clone(), etreat());
    check(json["recorded"].clone(), json!("2026-11-25T09:30:05.25Z"));
    check(
        json["period"].clone(),
        json!({"start": "2026-11-25T09:12:00Z", "end": "2026-11-25T09:12:00Z"}),
    );
    check(
        json["entity"][3].clone(),
        log_entry_entity(json!([
            {"type": "consent-state", "valueString": "given"},
            {"type": "incident-id", "valueString": INCIDENT_ID},
            {"type": "device-viewed-at", "valueString": "2026-11-25T09:12:00Z"},
            {"type": "access-log-leaf-index", "valueString": "7"}
        ])),
    );
    let back: AuditEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, event);
}

#[test]
fn a_review_is_executed_by_the_privacy_officer_and_names_the_reviewed_access() {
    let mut review = record(None, AccessOutcome::Reviewed);
    review.purpose = Purpose::PrivacyReview;
    review.viewer = Viewer {
        staff_id: Some("officer-1".into()),
        role: ViewerRole::PrivacyOfficer,
        device_id: None,
        unit: None,
        certificate_serial: None,
        institution: Institution {
            id: "privacy-office".into(),
            name: "Privacy office".into(),
            kind: InstitutionKind::PrivacyOffice,
        },
    };
    let reviewed = "00000000-0000-4000-8000-0000000000bb";
    review.action = AccessAction::ReviewAccess {
        reviewed: AccessRecordId(Uuid::parse_str(reviewed).unwrap()),
        outcome: myna_domain::access::ReviewOutcome::Inappropriate,
    };
    let json = audit_event_json(&review, Some(3)).unwrap();
    check(json["action"].clone(), json!("E"));
    check(json["outcome"].clone(), json!("0"));
    check(json["subtype"][0]["code"].clone(), json!("review_access"));
    check(
        json["purposeOfEvent"][0]["coding"][0]["code"].clone(),
        json!("HOPERAT"),
    );
    check(
        json["agent"][0]["role"][0]["coding"][0]["code"].clone(),
        json!("privacy_officer"),
    );
    assert_eq!(json["agent"].as_array().unwrap().len(), 1, "no device");
    let entities = json["entity"].as_array().unwrap();
    check(
        entities.last().unwrap()["detail"].clone(),
        json!([
            {"type": "incident-id", "valueString": INCIDENT_ID},
            {"type": REVIEWED_ACCESS_DETAIL, "valueString": reviewed},
            {"type": REVIEW_OUTCOME_DETAIL, "valueString": "inappropriate"},
            {"type": "access-log-leaf-index", "valueString": "3"}
        ]),
    );
    // The patient's copy names the office, not the officer.
    let patient = patient_audit_event_json(&review, Some(3)).unwrap();
    assert!(!patient.to_string().contains("officer-1"), "{patient}");
    assert!(json.to_string().contains("officer-1"));
}
