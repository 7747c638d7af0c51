//! Medical record kinds an emergency summary can hold, and how long each is kept.
//!
//! Sources (DOMAIN.md): drug information from claims (薬剤情報), real-time prescriptions
//! from the e-prescription service (電子処方箋), clinical information from claims
//! (診療情報: visits, diagnoses), surgery (手術情報), specific health checkups (特定健診),
//! and the FHIR-based electronic medical-record sharing service (電子カルテ情報共有サービス:
//! diagnoses, infections, drug and other allergies, lab results, prescriptions).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Every kind of record the summary can hold. Used in access records to say what was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Dispensed drugs from claims (薬剤情報).
    DrugInformation,
    /// Prescriptions (処方情報), e-prescription service / EHR sharing.
    Prescription,
    /// Visits to institutions (受診歴).
    Visit,
    /// Diagnoses (傷病名).
    Diagnosis,
    /// Surgery (手術情報).
    Surgery,
    /// Specific health checkups (特定健診).
    Checkup,
    /// Drug allergies (薬剤アレルギー等).
    DrugAllergy,
    /// Other allergies (その他アレルギー等).
    OtherAllergy,
    /// Infections (感染症).
    Infection,
    /// Lab results (検査).
    LabResult,
}

impl RecordKind {
    /// All kinds, in summary order.
    pub const ALL: [RecordKind; 10] = [
        RecordKind::DrugAllergy,
        RecordKind::OtherAllergy,
        RecordKind::Infection,
        RecordKind::DrugInformation,
        RecordKind::Prescription,
        RecordKind::LabResult,
        RecordKind::Diagnosis,
        RecordKind::Visit,
        RecordKind::Surgery,
        RecordKind::Checkup,
    ];

    /// How long records of this kind are kept.
    ///
    /// DOMAIN.md names three rules (5 years; 1 year or the last 3; 100 days or the
    /// last 3). Which kind gets which follows the EHR sharing service: lab results are
    /// kept 1 year or the last 3, prescriptions 100 days or the last 3, the rest 5 years.
    pub fn retention(self) -> Retention {
        match self {
            RecordKind::LabResult => Retention {
                days: 365,
                keep_last: Some(3),
            },
            RecordKind::Prescription => Retention {
                days: 100,
                keep_last: Some(3),
            },
            _ => Retention {
                days: 5 * 365,
                keep_last: None,
            },
        }
    }

    /// Stable snake_case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::DrugInformation => "drug_information",
            RecordKind::Prescription => "prescription",
            RecordKind::Visit => "visit",
            RecordKind::Diagnosis => "diagnosis",
            RecordKind::Surgery => "surgery",
            RecordKind::Checkup => "checkup",
            RecordKind::DrugAllergy => "drug_allergy",
            RecordKind::OtherAllergy => "other_allergy",
            RecordKind::Infection => "infection",
            RecordKind::LabResult => "lab_result",
        }
    }
}

/// Retention rule: a record is kept while younger than `days`, and in any case while it
/// is among the newest `keep_last` records of its kind for the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retention {
    /// Age limit in days.
    pub days: u32,
    /// The newest this-many records are kept regardless of age.
    pub keep_last: Option<u32>,
}

impl Retention {
    /// Whether a record dated `date`, ranked `newest_rank` (0 = newest of its kind), is kept on `today`.
    pub fn keeps(self, date: NaiveDate, newest_rank: usize, today: NaiveDate) -> bool {
        let age_days = (today - date).num_days();
        let young = age_days <= i64::from(self.days);
        let among_last = self.keep_last.is_some_and(|n| newest_rank < n as usize);
        young || among_last
    }
}

/// Where a record came from (provenance shown to clinicians).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordSource {
    /// Claims (レセプト) data.
    Claims,
    /// The e-prescription service (電子処方箋管理サービス).
    EPrescription,
    /// The electronic medical-record sharing service (電子カルテ情報共有サービス).
    EhrSharing,
    /// Specific health checkup data (特定健診).
    Checkup,
}

/// Drug classes that change emergency treatment in the first minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DrugClass {
    /// Anticoagulant (抗凝固薬), e.g. warfarin, DOACs.
    Anticoagulant,
    /// Antiplatelet (抗血小板薬), e.g. aspirin, clopidogrel.
    Antiplatelet,
    /// Insulin or other glucose-lowering drugs with hypoglycaemia risk.
    GlucoseLowering,
    /// Anything else.
    Other,
}

impl DrugClass {
    /// True for classes an ER must see first.
    pub fn is_high_risk(self) -> bool {
        !matches!(self, DrugClass::Other)
    }
}

/// One medical record of any kind, as stored and as placed in a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MedicalRecord {
    /// Dispensed drug (薬剤情報).
    DrugInformation(Medication),
    /// Prescription (処方).
    Prescription(Medication),
    /// Visit (受診歴).
    Visit(Visit),
    /// Diagnosis (傷病名).
    Diagnosis(Diagnosis),
    /// Surgery (手術).
    Surgery(Surgery),
    /// Specific health checkup (特定健診).
    Checkup(Checkup),
    /// Drug allergy.
    DrugAllergy(Allergy),
    /// Other allergy (food, latex, ...).
    OtherAllergy(Allergy),
    /// Infection test result.
    Infection(InfectionResult),
    /// Lab result.
    LabResult(LabResult),
}

impl MedicalRecord {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            MedicalRecord::DrugInformation(_) => RecordKind::DrugInformation,
            MedicalRecord::Prescription(_) => RecordKind::Prescription,
            MedicalRecord::Visit(_) => RecordKind::Visit,
            MedicalRecord::Diagnosis(_) => RecordKind::Diagnosis,
            MedicalRecord::Surgery(_) => RecordKind::Surgery,
            MedicalRecord::Checkup(_) => RecordKind::Checkup,
            MedicalRecord::DrugAllergy(_) => RecordKind::DrugAllergy,
            MedicalRecord::OtherAllergy(_) => RecordKind::OtherAllergy,
            MedicalRecord::Infection(_) => RecordKind::Infection,
            MedicalRecord::LabResult(_) => RecordKind::LabResult,
        }
    }

    /// The record's clinical date (dispensed, visited, diagnosed, tested, ...).
    pub fn date(&self) -> NaiveDate {
        match self {
            MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => m.date,
            MedicalRecord::Visit(v) => v.date,
            MedicalRecord::Diagnosis(d) => d.recorded_on,
            MedicalRecord::Surgery(s) => s.date,
            MedicalRecord::Checkup(c) => c.date,
            MedicalRecord::DrugAllergy(a) | MedicalRecord::OtherAllergy(a) => a.recorded_on,
            MedicalRecord::Infection(i) => i.tested_on,
            MedicalRecord::LabResult(l) => l.observed_on,
        }
    }

    /// Where the record came from.
    pub fn source(&self) -> RecordSource {
        match self {
            MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => m.source,
            MedicalRecord::Visit(_) | MedicalRecord::Surgery(_) => RecordSource::Claims,
            MedicalRecord::Checkup(_) => RecordSource::Checkup,
            MedicalRecord::Diagnosis(d) => d.source,
            MedicalRecord::DrugAllergy(_)
            | MedicalRecord::OtherAllergy(_)
            | MedicalRecord::Infection(_)
            | MedicalRecord::LabResult(_) => RecordSource::EhrSharing,
        }
    }
}

/// A dispensed drug or a prescription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Medication {
    /// Drug name (brand or generic).
    pub drug: String,
    /// Ingredient (generic name).
    pub ingredient: String,
    /// Class relevant to emergency care.
    pub class: DrugClass,
    /// Dose and frequency as written, e.g. "5 mg twice daily".
    pub dosage: String,
    /// Days supplied.
    pub days_supplied: u32,
    /// Dispensed or prescribed on.
    pub date: NaiveDate,
    /// Institution or pharmacy.
    pub institution: String,
    /// Source of the record.
    pub source: RecordSource,
}

/// A visit to a medical institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    /// Institution name.
    pub institution: String,
    /// Department, e.g. "Cardiology".
    pub department: String,
    /// Date of the visit.
    pub date: NaiveDate,
    /// Inpatient stay rather than outpatient visit.
    pub inpatient: bool,
}

/// A diagnosis (傷病名).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnosis {
    /// Name of the condition.
    pub name: String,
    /// ICD-10 code.
    pub icd10: String,
    /// Recorded on.
    pub recorded_on: NaiveDate,
    /// Still active.
    pub active: bool,
    /// Source of the record.
    pub source: RecordSource,
}

/// A surgical procedure (手術).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Surgery {
    /// Procedure name.
    pub procedure: String,
    /// Date of surgery.
    pub date: NaiveDate,
    /// Institution.
    pub institution: String,
}

/// A specific health checkup (特定健診) result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checkup {
    /// Date of the checkup.
    pub date: NaiveDate,
    /// Body-mass index.
    pub bmi: f64,
    /// Systolic blood pressure, mmHg.
    pub systolic_mmhg: u16,
    /// Diastolic blood pressure, mmHg.
    pub diastolic_mmhg: u16,
    /// HbA1c, %.
    pub hba1c_percent: f64,
    /// LDL cholesterol, mg/dL.
    pub ldl_mg_dl: u16,
}

/// What an allergy record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum AllergySeverity {
    /// Anaphylaxis or other life-threatening reaction.
    Severe,
    /// Everything else.
    Moderate,
    /// Mild reaction.
    Mild,
}

/// An allergy (drug or other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allergy {
    /// Substance, e.g. "penicillin", "latex", "buckwheat".
    pub substance: String,
    /// Reaction seen, e.g. "anaphylaxis", "rash".
    pub reaction: String,
    /// Severity.
    pub severity: AllergySeverity,
    /// Recorded on.
    pub recorded_on: NaiveDate,
}

/// The infections the EHR sharing service reports (感染症).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InfectionMarker {
    /// Syphilis, STS (serological test for syphilis).
    SyphilisSts,
    /// Syphilis, TP antibody.
    SyphilisTp,
    /// Hepatitis B surface antigen.
    HbsAntigen,
    /// Hepatitis C antibody.
    HcvAntibody,
    /// HIV antigen/antibody.
    Hiv,
}

/// Result of a qualitative test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QualitativeResult {
    /// Positive (陽性).
    Positive,
    /// Negative (陰性).
    Negative,
    /// Indeterminate (判定保留).
    Indeterminate,
}

/// An infection test result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfectionResult {
    /// Which marker.
    pub marker: InfectionMarker,
    /// The result.
    pub result: QualitativeResult,
    /// Tested on.
    pub tested_on: NaiveDate,
}

/// The emergency-relevant analytes among the 43 lab items of the EHR sharing service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // The variant names are the analytes' standard abbreviations.
pub enum Analyte {
    Ck,
    Ast,
    Alt,
    Ldh,
    Creatinine,
    Bun,
    Glucose,
    Hba1c,
    Sodium,
    Potassium,
    Chloride,
    Calcium,
    Wbc,
    Hemoglobin,
    Platelets,
    Aptt,
    PtInr,
    DDimer,
    Bnp,
    NtProBnp,
    Crp,
    /// ABO blood group (result in `text`).
    AboBloodGroup,
    /// Rh blood group (result in `text`).
    RhBloodGroup,
}

/// Reference range of a quantitative result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferenceRange {
    /// Lower limit (inclusive), if any.
    pub low: Option<f64>,
    /// Upper limit (inclusive), if any.
    pub high: Option<f64>,
}

impl std::fmt::Display for ReferenceRange {
    /// `3.5–5`, `≤ 5`, `≥ 3.5` or `—`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.low, self.high) {
            (Some(low), Some(high)) => write!(f, "{low}–{high}"),
            (None, Some(high)) => write!(f, "≤ {high}"),
            (Some(low), None) => write!(f, "≥ {low}"),
            (None, None) => f.write_str("—"),
        }
    }
}

/// A lab value's position relative to its reference range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LabFlag {
    /// Below the range.
    Low,
    /// Within the range.
    Normal,
    /// Above the range.
    High,
}

/// The value of a lab result: a number with its unit, or text (blood group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", untagged)]
pub enum LabValue {
    /// Quantitative value.
    Quantity {
        /// The value.
        value: f64,
        /// UCUM-style unit, e.g. "mg/dL".
        unit: String,
        /// Reference range.
        reference: ReferenceRange,
    },
    /// Text value, e.g. "A" or "Rh+".
    Text {
        /// The value.
        text: String,
    },
}

/// A lab result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabResult {
    /// Analyte.
    pub analyte: Analyte,
    /// Value.
    pub value: LabValue,
    /// Observed on.
    pub observed_on: NaiveDate,
}

impl LabResult {
    /// Flag against the reference range; `None` for text values.
    pub fn flag(&self) -> Option<LabFlag> {
        let LabValue::Quantity {
            value, reference, ..
        } = &self.value
        else {
            return None;
        };
        if reference.low.is_some_and(|low| *value < low) {
            Some(LabFlag::Low)
        } else if reference.high.is_some_and(|high| *value > high) {
            Some(LabFlag::High)
        } else {
            Some(LabFlag::Normal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn retention_keeps_young_or_last_n() {
        let today = d(2026, 11, 25);
        let labs = RecordKind::LabResult.retention();
        // (date, rank, expected)
        let cases = [
            (d(2026, 1, 1), 10, true), // young
            (d(2020, 1, 1), 0, true),  // old but newest
            (d(2020, 1, 1), 2, true),  // old but third newest
            (d(2020, 1, 1), 3, false), // old and fourth
        ];
        for (date, rank, expected) in cases {
            assert_eq!(
                labs.keeps(date, rank, today),
                expected,
                "{date} rank {rank}"
            );
        }
        let diagnoses = RecordKind::Diagnosis.retention();
        assert!(diagnoses.keeps(d(2022, 1, 1), 50, today));
        assert!(!diagnoses.keeps(d(2020, 1, 1), 0, today));
    }

    #[test]
    fn lab_flags_against_reference() {
        let lab = |value| crate::fixtures::potassium(value, d(2026, 1, 1));
        assert_eq!(lab(3.4).flag(), Some(LabFlag::Low));
        assert_eq!(lab(3.5).flag(), Some(LabFlag::Normal));
        assert_eq!(lab(5.0).flag(), Some(LabFlag::Normal));
        assert_eq!(lab(6.1).flag(), Some(LabFlag::High));
        let text = LabResult {
            analyte: Analyte::AboBloodGroup,
            value: LabValue::Text { text: "A".into() },
            observed_on: d(2026, 1, 1),
        };
        assert_eq!(text.flag(), None);
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        let rec = MedicalRecord::Infection(InfectionResult {
            marker: InfectionMarker::HbsAntigen,
            result: QualitativeResult::Positive,
            tested_on: d(2025, 5, 1),
        });
        let json = serde_json::to_string(&rec).unwrap();
        assert_eq!(serde_json::from_str::<MedicalRecord>(&json).unwrap(), rec);
        assert_eq!(rec.kind().as_str(), "infection");
    }
}
