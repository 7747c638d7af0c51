//! The emergency summary flattened for a tablet screen: [`Summary`] is a patient header,
//! the structured alerts and one [`SummaryRecord`] per record (kind, date, source, one
//! line of text). Text is English; every coded value also comes as its stable code
//! (`kind`) so the app can show its own translations.
//!
//! Which records are alerts, in which order, and their wording are decided once, in the
//! domain ([`EmergencySummary::alerts`], which the ER dashboard renders too); here each
//! alert is only copied into an exported record. [`Alert`] is a thin mirror of the
//! domain's: that one borrows the summary's records and holds static label pairs, which
//! cannot cross the FFI as they are; its parts ([`AlertKind`], [`Bilingual`],
//! [`AllergySeverity`]) are the domain's own types (myna-domain's `uniffi` feature).

use std::time::SystemTime;

use myna_domain::labels;
use myna_domain::records::{AllergySeverity, LabResult, LabValue, MedicalRecord};
use myna_domain::summary::{self as domain, AlertKind, Bilingual, EmergencySummary};

/// The emergency summary of the patient, as the crew reads it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Summary {
    /// Who the patient is.
    pub patient: PatientHeader,
    /// What changes treatment in the first minutes, most urgent kind first (allergies,
    /// infections, high-risk drugs, contraindications, duplicates, abnormal labs). Empty
    /// when nothing is known.
    pub alerts: Vec<Alert>,
    /// Every record within retention: allergies, infections, drugs, prescriptions, labs,
    /// diagnoses, visits, surgery, checkups; newest first within a kind.
    pub records: Vec<SummaryRecord>,
    /// When the edge assembled the summary.
    pub assembled_at: SystemTime,
}

/// One alert, as the domain computed it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Alert {
    /// What the alert is about.
    pub kind: AlertKind,
    /// The recorded severity: allergies only.
    pub severity: Option<AllergySeverity>,
    /// The kind's text tag (`アレルギー` / `ALLERGY`, …), so colour is never the only
    /// signal.
    pub label: Bilingual,
    /// What it concerns: the allergen, the infection marker, the drug, the lab item.
    pub subject: Bilingual,
    /// The finding: the reaction, the result, the dosage, the reason, the lab value.
    pub value: Bilingual,
    /// The date of the record it comes from, `YYYY-MM-DD`.
    pub date: String,
    /// The whole alert in one line, starting with its tag, e.g.
    /// `ALLERGY (drug): penicillin — anaphylaxis (SEVERE)`.
    pub line: Bilingual,
}

impl From<&domain::Alert<'_>> for Alert {
    fn from(alert: &domain::Alert<'_>) -> Self {
        Alert {
            kind: alert.kind,
            severity: alert.severity,
            label: alert.label.into(),
            subject: alert.subject.clone(),
            value: alert.value.clone(),
            date: alert.date.to_string(),
            line: alert.line.clone(),
        }
    }
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

impl From<&EmergencySummary> for Summary {
    fn from(summary: &EmergencySummary) -> Self {
        let assembled_on = summary.assembled_on();
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
            // As of the day the summary was assembled, as on the ER dashboard.
            alerts: summary
                .alerts(assembled_on)
                .iter()
                .map(Alert::from)
                .collect(),
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
            assembled_at: summary.assembled_at.into(),
        }
    }
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
                "{analyte} {value} {unit}{flag} (ref {reference}) {}",
                lab.observed_on
            )
        }
        LabValue::Text { text } => format!("{analyte} {text} {}", lab.observed_on),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use myna_domain::identity::{PatientId, Sex};
    use myna_domain::records::{Allergy, DrugClass, Medication};
    use myna_domain::records::{RecordSource, Visit};
    use myna_domain::summary::PatientHeader as DomainHeader;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn summary() -> EmergencySummary {
        let potassium = myna_domain::fixtures::potassium(6.0, d(2026, 11, 20));
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
        let lines: Vec<_> = view.alerts.iter().map(|a| a.line.en.as_str()).collect();
        assert_eq!(
            lines,
            [
                "ALLERGY (drug): penicillin — anaphylaxis (SEVERE)",
                "HIGH-RISK DRUG: Warfarin (Anticoagulant) — 3 mg once daily (Setagaya Clinic 2026-11-01)",
                "LAB: Potassium (K) 6 mmol/L H (ref 3.5–5) 2026-11-20",
            ]
        );
        let kinds: Vec<_> = view.alerts.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                AlertKind::DrugAllergy,
                AlertKind::HighRiskDrug,
                AlertKind::AbnormalLab
            ]
        );
        assert_eq!(
            view.alerts[0],
            Alert {
                kind: AlertKind::DrugAllergy,
                severity: Some(AllergySeverity::Severe),
                label: Bilingual {
                    ja: "アレルギー".into(),
                    en: "ALLERGY".into()
                },
                subject: Bilingual {
                    ja: "penicillin".into(),
                    en: "penicillin".into()
                },
                value: Bilingual {
                    ja: "anaphylaxis".into(),
                    en: "anaphylaxis".into()
                },
                date: "2024-01-01".into(),
                line: view.alerts[0].line.clone(),
            }
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
        assert_eq!(
            view.assembled_at,
            SystemTime::from(Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap())
        );
    }
}
