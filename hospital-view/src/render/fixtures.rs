//! Hand-built notices for the render tests.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::handoff::SceneKind;
use myna_domain::identity::{PatientId, Sex};
use myna_domain::records::{
    Allergy, AllergySeverity, Analyte, Checkup, Diagnosis, DrugClass, InfectionMarker,
    InfectionResult, LabResult, LabValue, MedicalRecord, Medication, QualitativeResult,
    RecordSource, ReferenceRange, Surgery, Visit,
};
use myna_domain::summary::{EmergencySummary, PatientHeader};
use myna_domain::wire::{ArrivalNotice, Vitals};

use crate::store::StoredArrival;

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap()
}

fn medication(drug: &str, class: DrugClass) -> Medication {
    Medication {
        drug: drug.into(),
        ingredient: format!("{drug} ingredient"),
        class,
        dosage: "2 mg once daily".into(),
        days_supplied: 28,
        date: d(2026, 10, 1),
        institution: "Sakura Pharmacy".into(),
        source: RecordSource::EPrescription,
    }
}

fn text_lab(analyte: Analyte, text: &str) -> MedicalRecord {
    MedicalRecord::LabResult(LabResult {
        analyte,
        value: LabValue::Text { text: text.into() },
        observed_on: d(2025, 1, 1),
    })
}

pub fn summary() -> EmergencySummary {
    EmergencySummary {
        patient: PatientHeader {
            id: PatientId("P-0042".into()),
            name: "山田 太郎".into(),
            birth_date: d(1944, 3, 1),
            sex: Sex::Male,
        },
        records: vec![
            MedicalRecord::DrugAllergy(Allergy {
                substance: "Penicillin".into(),
                reaction: "anaphylaxis".into(),
                severity: AllergySeverity::Severe,
                recorded_on: d(2024, 2, 2),
            }),
            MedicalRecord::Infection(InfectionResult {
                marker: InfectionMarker::HbsAntigen,
                result: QualitativeResult::Positive,
                tested_on: d(2025, 5, 1),
            }),
            MedicalRecord::Infection(InfectionResult {
                marker: InfectionMarker::HcvAntibody,
                result: QualitativeResult::Negative,
                tested_on: d(2025, 5, 1),
            }),
            MedicalRecord::DrugInformation(medication("Warfarin", DrugClass::Anticoagulant)),
            MedicalRecord::DrugInformation(medication("Amlodipine", DrugClass::Other)),
            MedicalRecord::LabResult(LabResult {
                analyte: Analyte::Potassium,
                value: LabValue::Quantity {
                    value: 6.2,
                    unit: "mmol/L".into(),
                    reference: ReferenceRange {
                        low: Some(3.5),
                        high: Some(5.0),
                    },
                },
                observed_on: d(2026, 9, 9),
            }),
            text_lab(Analyte::AboBloodGroup, "A"),
            text_lab(Analyte::RhBloodGroup, "Rh+"),
            MedicalRecord::Diagnosis(Diagnosis {
                name: "Appendicitis".into(),
                icd10: "K35".into(),
                recorded_on: d(2023, 1, 1),
                active: false,
                source: RecordSource::Claims,
            }),
            MedicalRecord::Diagnosis(Diagnosis {
                name: "Atrial fibrillation".into(),
                icd10: "I48".into(),
                recorded_on: d(2022, 1, 1),
                active: true,
                source: RecordSource::EhrSharing,
            }),
            MedicalRecord::Visit(Visit {
                institution: "Meguro Clinic".into(),
                department: "Cardiology".into(),
                date: d(2026, 10, 1),
                inpatient: false,
            }),
            MedicalRecord::Surgery(Surgery {
                procedure: "Appendectomy".into(),
                date: d(2023, 1, 2),
                institution: "Setagaya Hospital".into(),
            }),
            MedicalRecord::Checkup(Checkup {
                date: d(2025, 6, 1),
                bmi: 24.1,
                systolic_mmhg: 150,
                diastolic_mmhg: 92,
                hba1c_percent: 6.1,
                ldl_mg_dl: 140,
            }),
        ],
        assembled_at: now(),
    }
}

fn dispensed(drug: &str, ingredient: &str, date: NaiveDate, institution: &str) -> MedicalRecord {
    MedicalRecord::DrugInformation(Medication {
        drug: drug.into(),
        ingredient: ingredient.into(),
        date,
        institution: institution.into(),
        source: RecordSource::Claims,
        ..medication(drug, DrugClass::Other)
    })
}

/// [`summary`] plus current drugs that warn: an NSAID with its warfarin
/// (contraindication), a penicillin despite its penicillin allergy (contraindication), and
/// furosemide from two pharmacies (duplicate).
pub fn summary_with_medication_warnings() -> EmergencySummary {
    let mut summary = summary();
    summary.records.extend([
        dispensed(
            "Loxonin 60 mg tablet",
            "loxoprofen",
            d(2026, 11, 10),
            "Keyaki Pharmacy",
        ),
        dispensed(
            "Sawacillin 250 mg capsule",
            "amoxicillin",
            d(2026, 11, 20),
            "Keyaki Pharmacy",
        ),
        dispensed(
            "Lasix 20 mg tablet",
            "furosemide",
            d(2026, 11, 1),
            "Sakura Pharmacy",
        ),
        dispensed(
            "Furosemide 20 mg tablet",
            "furosemide",
            d(2026, 11, 15),
            "Keyaki Pharmacy",
        ),
    ]);
    summary
}

fn base(n: u128, eta: DateTime<Utc>) -> ArrivalNotice {
    ArrivalNotice {
        handoff_id: uuid::Uuid::from_u128(n),
        incident_id: IncidentId(uuid::Uuid::from_u128(1000 + n)),
        fire_department: "Tokyo Fire Department".into(),
        unit: "Setagaya Ambulance 3".into(),
        chief_complaint: "Chest pain <script>".into(),
        eta,
        vitals: Vitals {
            heart_rate: Some(112),
            systolic_mmhg: Some(88),
            diastolic_mmhg: Some(54),
            spo2_percent: Some(93),
            respiratory_rate: None,
            gcs: Some(14),
            temperature_c: Some(37.8),
        },
        consent: None,
        summary: None,
        sent_at: now(),
        scene: None,
    }
}

pub fn notice_with_summary(n: u128, eta: DateTime<Utc>) -> ArrivalNotice {
    ArrivalNotice {
        consent: Some(ConsentState::Given),
        summary: Some(summary()),
        scene: Some(SceneKind::Home),
        ..base(n, eta)
    }
}

/// What the edge sends after a refusal: consent refused, no summary.
pub fn notice_without_summary(n: u128, eta: DateTime<Utc>) -> ArrivalNotice {
    ArrivalNotice {
        consent: Some(ConsentState::Refused),
        ..base(n, eta)
    }
}

pub fn stored(notice: ArrivalNotice) -> StoredArrival {
    StoredArrival::new(notice, now())
}
