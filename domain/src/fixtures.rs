//! Sample records for tests in other crates (feature `fixtures`, dev-dependencies only).

use chrono::Utc;

use crate::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, DenialReason, Institution,
    InstitutionKind, Purpose, Viewer, ViewerRole,
};

/// A paramedic's identify attempt that found no patient, as any edge writes them: it names
/// no patient, so it can be appended to any log. `n` tells records apart (the staff id).
pub fn unknown_patient_denial(n: u64) -> AccessRecord {
    AccessRecord {
        id: AccessRecordId(uuid::Uuid::now_v7()),
        at: Utc::now(),
        incident: None,
        patient: None,
        viewer: Viewer {
            staff_id: Some(format!("crew-{n}")),
            role: ViewerRole::Paramedic,
            device_id: Some("tablet-fixture".into()),
            unit: None,
            institution: Institution {
                id: "fd-fixture".into(),
                name: "Fixture Fire Department".into(),
                kind: InstitutionKind::FireDepartment,
            },
            certificate_serial: None,
        },
        purpose: Purpose::EmergencyTreatment,
        action: AccessAction::IdentifyPatient,
        consent: None,
        outcome: AccessOutcome::Denied {
            reason: DenialReason::UnknownPatient,
        },
    }
}

/// The vitals of a patient in shock as the crew measured them (tachycardic, hypotensive,
/// hypoxic): what the ER dashboard's tests and the browser tests show on an arrival card.
pub fn shock_vitals() -> crate::wire::Vitals {
    crate::wire::Vitals {
        heart_rate: Some(118),
        systolic_mmhg: Some(84),
        diastolic_mmhg: Some(50),
        spo2_percent: Some(91),
        respiratory_rate: Some(24),
        gcs: Some(13),
        temperature_c: Some(36.9),
    }
}
