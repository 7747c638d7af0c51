//! Sample records and property-test inputs for tests in other crates (feature `fixtures`,
//! dev-dependencies only) and this one.

use chrono::Utc;
use proptest::prelude::*;
use serde_json::Value;

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

/// Field names and tags the request types use, so generated objects come close.
pub const REQUEST_KEYS: &[&str] = &[
    "incident_id",
    "crew_member_id",
    "identity",
    "method",
    "certificate_der_b64",
    "photo_matches",
    "challenge_id",
    "signature_b64",
    "facts",
    "name",
    "birth_date",
    "sex",
    "address_or_insurer",
    "decision",
    "reason",
    "kind",
    "note",
    "hospital_id",
    "chief_complaint",
    "eta_minutes",
    "vitals",
    "temperature_c",
    "gcs",
    "handoff_id",
    "scene",
    "view_id",
    "viewed_at",
    "lat",
    "lon",
    "area_code",
    "starts_at",
    "ends_at",
];

/// Words that are values of the request types' enums and ids.
pub const REQUEST_WORDS: &[&str] = &[
    "card_with_photo_check",
    "pin_verified_card",
    "basic_facts",
    "given",
    "refused",
    "difficult",
    "unconscious",
    "other",
    "accepted",
    "declined",
    "home",
    "care_facility",
    "road",
    "male",
    "female",
    "0192f0c0-0000-7000-8000-000000000001",
    "2026-11-25T03:00:00Z",
    "1940-01-02",
    "MIIB",
];

/// JSON values built from the request types' own vocabulary: what a property test of a
/// request decoder feeds it, so generated objects come close to real requests.
pub fn request_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(REQUEST_WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(REQUEST_KEYS), inner), 0..6).prop_map(
                |fields| {
                    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }
            ),
        ]
    })
}

/// A serum potassium result of `value` mmol/L (reference 3.5–5.0) observed on `on`: the lab
/// result tests flag high, low or normal.
pub fn potassium(value: f64, on: chrono::NaiveDate) -> crate::records::LabResult {
    use crate::records::{Analyte, LabResult, LabValue, ReferenceRange};
    LabResult {
        analyte: Analyte::Potassium,
        value: LabValue::Quantity {
            value,
            unit: "mmol/L".into(),
            reference: ReferenceRange {
                low: Some(3.5),
                high: Some(5.0),
            },
        },
        observed_on: on,
    }
}
