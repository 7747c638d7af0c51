//! The emergency summary flattened for a tablet screen: [`Summary`] is a patient header,
//! alert lines and one [`SummaryRecord`] per record (kind, date, source, one line of
//! text). Text is English; every coded value also comes as its stable code (`kind`) so
//! the app can show its own translations.
//!
//! Which records are alerts, and in which order, is decided by the domain's
//! [`EmergencySummary`] accessors (the same ones the ER dashboard uses): drug and other
//! allergies, positive or indeterminate infections, high-risk drugs, medication warnings
//! (contraindications, then duplicates), abnormal labs. This module only writes them out.

use std::collections::HashSet;

use chrono::{FixedOffset, SecondsFormat};
use myna_domain::labels;
use myna_domain::records::{LabResult, LabValue, MedicalRecord, ReferenceRange};
use myna_domain::summary::EmergencySummary;

/// The emergency summary of the patient, as the crew reads it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Summary {
    /// Who the patient is.
    pub patient: PatientHeader,
    /// What changes treatment in the first minutes, most urgent kind first; each line
    /// starts with its tag (`ALLERGY`, `INFECTION`, `HIGH-RISK DRUG`, `CONTRAINDICATION`,
    /// `DUPLICATE`, `LAB`). Empty when nothing is known.
    pub alerts: Vec<String>,
    /// Every record within retention: allergies, infections, drugs, prescriptions, labs,
    /// diagnoses, visits, surgery, checkups; newest first within a kind.
    pub records: Vec<SummaryRecord>,
    /// When the edge assembled the summary, RFC 3339 UTC.
    pub assembled_at: String,
}

/// Who the summary is about.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PatientHeader {
    /// Patient id.
    pub patient_id: String,
    /// Full name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Age in whole years on the day the summary was assembled (Japan time).
    pub age: u32,
    /// `Male`, `Female` or `Sex N/A`.
    pub sex: String,
    /// Blood type as `A Rh+`, when a result is on record.
    pub blood_type: Option<String>,
}

/// One record of the summary.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SummaryRecord {
    /// Stable code of the kind: `drug_allergy`, `other_allergy`, `infection`,
    /// `drug_information`, `prescription`, `lab_result`, `diagnosis`, `visit`, `surgery`,
    /// `checkup`.
    pub kind: String,
    /// The kind in English, e.g. `Drug allergy`.
    pub kind_label: String,
    /// The record's clinical date, `YYYY-MM-DD`.
    pub date: String,
    /// Where it came from: `Claims`, `e-Prescription`, `EHR sharing`, `Checkup data`.
    pub source: String,
    /// The record in one line, e.g. `Warfarin (warfarin potassium) 3 mg once daily, 28
    /// days — Setagaya Clinic`.
    pub text: String,
}

/// Japan time, in which the crew and the edge count days.
fn jst() -> FixedOffset {
    // 9 h is within FixedOffset's ±24 h range.
    FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset")
}

impl From<&EmergencySummary> for Summary {
    fn from(summary: &EmergencySummary) -> Self {
        let assembled_on = summary.assembled_at.with_timezone(&jst()).date_naive();
        let patient = &summary.patient;
        Summary {
            patient: PatientHeader {
                patient_id: patient.id.to_string(),
                name: patient.name.clone(),
                birth_date: patient.birth_date.to_string(),
                age: patient.age_on(assembled_on),
                sex: labels::sex(patient.sex).1.to_string(),
                blood_type: summary.blood_type(),
            },
            alerts: alert_lines(summary),
            records: summary
                .records
                .iter()
                .map(|record| SummaryRecord {
                    kind: record.kind().as_str().to_string(),
                    kind_label: labels::record_kind(record.kind()).1.to_string(),
                    date: record.date().to_string(),
                    source: labels::record_source(record.source()).1.to_string(),
                    text: record_line(record),
                })
                .collect(),
            assembled_at: summary
                .assembled_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// The alert lines, in the order of the module docs. Medication warnings are computed as
/// of the day the summary was assembled, as on the ER dashboard.
fn alert_lines(summary: &EmergencySummary) -> Vec<String> {
    let mut lines = Vec::new();
    for (allergy, is_drug) in summary.allergies() {
        let which = if is_drug { "drug" } else { "other" };
        lines.push(format!(
            "ALLERGY ({which}): {} — {} ({})",
            allergy.substance,
            allergy.reaction,
            labels::severity(allergy.severity).1
        ));
    }
    for infection in summary.infection_alerts() {
        lines.push(format!(
            "INFECTION: {} {} ({})",
            labels::marker(infection.marker).1,
            labels::qualitative(infection.result).1,
            infection.tested_on
        ));
    }
    let mut seen = HashSet::new();
    for drug in summary.high_risk_medications() {
        if seen.insert(drug.drug.as_str()) {
            lines.push(format!(
                "HIGH-RISK DRUG: {} ({}) — {} ({} {})",
                drug.drug,
                labels::drug_class(drug.class).1,
                drug.dosage,
                drug.institution,
                drug.date
            ));
        }
    }
    let assembled_on = summary.assembled_at.with_timezone(&jst()).date_naive();
    for warning in summary.medication_warnings(assembled_on) {
        lines.push(warning.explain().1);
    }
    for lab in summary.abnormal_labs() {
        lines.push(format!("LAB: {}", lab_line(lab)));
    }
    lines
}

/// One record in one line.
fn record_line(record: &MedicalRecord) -> String {
    match record {
        MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => format!(
            "{} ({}) {}, {} days — {}",
            m.drug, m.ingredient, m.dosage, m.days_supplied, m.institution
        ),
        MedicalRecord::Visit(v) => format!(
            "{} {} ({})",
            v.institution,
            v.department,
            if v.inpatient {
                "inpatient"
            } else {
                "outpatient"
            }
        ),
        MedicalRecord::Diagnosis(d) => format!(
            "{} [{}] ({})",
            d.name,
            d.icd10,
            if d.active { "active" } else { "resolved" }
        ),
        MedicalRecord::Surgery(s) => format!("{} — {}", s.procedure, s.institution),
        MedicalRecord::Checkup(c) => format!(
            "BMI {:.1}, BP {}/{} mmHg, HbA1c {:.1} %, LDL {} mg/dL",
            c.bmi, c.systolic_mmhg, c.diastolic_mmhg, c.hba1c_percent, c.ldl_mg_dl
        ),
        MedicalRecord::DrugAllergy(a) | MedicalRecord::OtherAllergy(a) => format!(
            "{} — {} ({})",
            a.substance,
            a.reaction,
            labels::severity(a.severity).1
        ),
        MedicalRecord::Infection(i) => format!(
            "{}: {}",
            labels::marker(i.marker).1,
            labels::qualitative(i.result).1
        ),
        MedicalRecord::LabResult(l) => lab_line(l),
    }
}

/// `Potassium (K) 6 mmol/L H (ref 3.5–5) 2026-11-20`, or `ABO blood group A`.
fn lab_line(lab: &LabResult) -> String {
    let analyte = labels::analyte(lab.analyte).1;
    match &lab.value {
        LabValue::Quantity {
            value,
            unit,
            reference,
        } => {
            let flag = lab
                .flag()
                .map(|f| format!(" {}", labels::lab_flag(f).1))
                .unwrap_or_default();
            format!(
                "{analyte} {value} {unit}{flag} (ref {}) {}",
                reference_range(reference),
                lab.observed_on
            )
        }
        LabValue::Text { text } => format!("{analyte} {text} {}", lab.observed_on),
    }
}

/// `3.5–5`, `≤ 5`, `≥ 3.5` or `—`.
fn reference_range(range: &ReferenceRange) -> String {
    match (range.low, range.high) {
        (Some(low), Some(high)) => format!("{low}–{high}"),
        (None, Some(high)) => format!("≤ {high}"),
        (Some(low), None) => format!("≥ {low}"),
        (None, None) => "—".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use myna_domain::identity::{PatientId, Sex};
    use myna_domain::records::{Allergy, AllergySeverity, Analyte, DrugClass, Medication};
    use myna_domain::records::{RecordSource, Visit};
    use myna_domain::summary::PatientHeader as DomainHeader;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn summary() -> EmergencySummary {
        let potassium = LabResult {
            analyte: Analyte::Potassium,
            value: LabValue::Quantity {
                value: 6.0,
                unit: "mmol/L".into(),
                reference: ReferenceRange {
                    low: Some(3.5),
                    high: Some(5.0),
                },
            },
            observed_on: d(2026, 11, 20),
        };
        EmergencySummary::assemble(
            DomainHeader {
                id: PatientId("P1".into()),
                name: "Test Patient".into(),
                birth_date: d(1940, 6, 15),
                sex: Sex::Female,
            },
            vec![
                MedicalRecord::Visit(Visit {
                    institution: "Setagaya Clinic".into(),
                    department: "Cardiology".into(),
                    date: d(2026, 10, 1),
                    inpatient: false,
                }),
                MedicalRecord::DrugAllergy(Allergy {
                    substance: "penicillin".into(),
                    reaction: "anaphylaxis".into(),
                    severity: AllergySeverity::Severe,
                    recorded_on: d(2024, 1, 1),
                }),
                MedicalRecord::DrugInformation(Medication {
                    drug: "Warfarin".into(),
                    ingredient: "warfarin potassium".into(),
                    class: DrugClass::Anticoagulant,
                    dosage: "3 mg once daily".into(),
                    days_supplied: 28,
                    date: d(2026, 11, 1),
                    institution: "Setagaya Clinic".into(),
                    source: RecordSource::Claims,
                }),
                MedicalRecord::LabResult(potassium),
            ],
            Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap(),
        )
    }

    #[test]
    fn header_alerts_and_records_are_flattened_in_summary_order() {
        let view = Summary::from(&summary());
        assert_eq!(
            view.patient,
            PatientHeader {
                patient_id: "P1".into(),
                name: "Test Patient".into(),
                birth_date: "1940-06-15".into(),
                age: 86,
                sex: "Female".into(),
                blood_type: None,
            }
        );
        assert_eq!(
            view.alerts,
            [
                "ALLERGY (drug): penicillin — anaphylaxis (SEVERE)",
                "HIGH-RISK DRUG: Warfarin (Anticoagulant) — 3 mg once daily (Setagaya Clinic 2026-11-01)",
                "LAB: Potassium (K) 6 mmol/L H (ref 3.5–5) 2026-11-20",
            ]
        );
        let kinds: Vec<_> = view.records.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["drug_allergy", "drug_information", "lab_result", "visit"]
        );
        assert_eq!(
            view.records[1],
            SummaryRecord {
                kind: "drug_information".into(),
                kind_label: "Dispensed drug".into(),
                date: "2026-11-01".into(),
                source: "Claims".into(),
                text: "Warfarin (warfarin potassium) 3 mg once daily, 28 days — Setagaya Clinic"
                    .into(),
            }
        );
        assert_eq!(
            view.records[3].text,
            "Setagaya Clinic Cardiology (outpatient)"
        );
        assert_eq!(view.assembled_at, "2026-11-25T03:00:00Z");
    }
}
