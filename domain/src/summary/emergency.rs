//! The emergency summary of one patient: its assembly from stored records under
//! retention, and the accessors the alerts are built from (allergies, infections,
//! high-risk drugs, abnormal labs, blood type).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::{PatientId, Sex};
use crate::records::{
    Allergy, Analyte, InfectionResult, LabResult, LabValue, MedicalRecord, Medication,
    QualitativeResult, RecordKind,
};

/// Who the summary is about: enough for the ER to register the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientHeader {
    /// Patient id.
    pub id: PatientId,
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    pub sex: Sex,
}

impl PatientHeader {
    /// Age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        let b = self.birth_date;
        let had_birthday = (today.month(), today.day()) >= (b.month(), b.day());
        let years = today.year() - b.year() - i32::from(!had_birthday);
        years.max(0) as u32
    }
}

/// The emergency summary of one patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmergencySummary {
    /// The patient.
    pub patient: PatientHeader,
    /// Records within retention, in [`RecordKind::ALL`] order, newest first within a kind.
    pub records: Vec<MedicalRecord>,
    /// When the summary was assembled.
    pub assembled_at: DateTime<Utc>,
}

impl EmergencySummary {
    /// Assembles a summary from all stored records: drops what retention no longer keeps
    /// and orders the rest for emergency reading.
    pub fn assemble(
        patient: PatientHeader,
        mut records: Vec<MedicalRecord>,
        now: DateTime<Utc>,
    ) -> Self {
        let today = now.date_naive();
        let order = |k: RecordKind| RecordKind::ALL.iter().position(|x| *x == k);
        records.sort_by(|a, b| {
            order(a.kind())
                .cmp(&order(b.kind()))
                .then_with(|| b.date().cmp(&a.date()))
        });
        let mut rank = 0;
        let mut previous = None;
        records.retain(|r| {
            if previous != Some(r.kind()) {
                previous = Some(r.kind());
                rank = 0;
            }
            let kept = r.kind().retention().keeps(r.date(), rank, today);
            rank += 1;
            kept
        });
        EmergencySummary {
            patient,
            records,
            assembled_at: now,
        }
    }

    /// The day the summary was assembled, in Japan time: the day its alerts hold for
    /// and the patient's age is counted on.
    pub fn assembled_on(&self) -> NaiveDate {
        crate::time::jst_day(self.assembled_at)
    }

    /// The distinct record kinds this summary discloses (written into the access record).
    pub fn kinds(&self) -> Vec<RecordKind> {
        let set: BTreeSet<RecordKind> = self.records.iter().map(MedicalRecord::kind).collect();
        set.into_iter().collect()
    }

    /// Drug and other allergies, with whether each is a drug allergy.
    pub fn allergies(&self) -> impl Iterator<Item = (&Allergy, bool)> {
        self.records.iter().filter_map(|r| match r {
            MedicalRecord::DrugAllergy(a) => Some((a, true)),
            MedicalRecord::OtherAllergy(a) => Some((a, false)),
            _ => None,
        })
    }

    /// Infection results that are positive or indeterminate.
    pub fn infection_alerts(&self) -> impl Iterator<Item = &InfectionResult> {
        self.records.iter().filter_map(|r| match r {
            MedicalRecord::Infection(i) if i.result != QualitativeResult::Negative => Some(i),
            _ => None,
        })
    }

    /// Dispensed drugs and prescriptions in a high-risk class (anticoagulants, ...).
    pub fn high_risk_medications(&self) -> impl Iterator<Item = &Medication> {
        self.medications().filter(|m| m.class.is_high_risk())
    }

    /// All dispensed drugs and prescriptions.
    pub fn medications(&self) -> impl Iterator<Item = &Medication> {
        self.records.iter().filter_map(|r| match r {
            MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => Some(m),
            _ => None,
        })
    }

    /// Quantitative lab results outside their reference range.
    pub fn abnormal_labs(&self) -> impl Iterator<Item = &LabResult> {
        self.records.iter().filter_map(|r| match r {
            MedicalRecord::LabResult(l)
                if l.flag()
                    .is_some_and(|f| f != crate::records::LabFlag::Normal) =>
            {
                Some(l)
            }
            _ => None,
        })
    }

    /// Blood type as "A Rh+", from the newest ABO and Rh results, if known.
    pub fn blood_type(&self) -> Option<String> {
        let newest_text = |analyte: Analyte| {
            self.records.iter().find_map(|r| match r {
                MedicalRecord::LabResult(LabResult {
                    analyte: a,
                    value: LabValue::Text { text },
                    ..
                }) if *a == analyte => Some(text.as_str()),
                _ => None,
            })
        };
        let abo = newest_text(Analyte::AboBloodGroup)?;
        Some(match newest_text(Analyte::RhBloodGroup) {
            Some(rh) => format!("{abo} {rh}"),
            None => abo.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::AllergySeverity;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn header() -> PatientHeader {
        PatientHeader {
            id: PatientId("P1".into()),
            name: "Test".into(),
            birth_date: d(1940, 6, 15),
            sex: Sex::Male,
        }
    }

    fn potassium(date: NaiveDate) -> MedicalRecord {
        MedicalRecord::LabResult(crate::fixtures::potassium(6.0, date))
    }

    #[test]
    fn assemble_orders_by_kind_and_applies_retention() {
        let now = d(2026, 11, 25).and_hms_opt(0, 0, 0).unwrap().and_utc();
        let allergy = MedicalRecord::DrugAllergy(Allergy {
            substance: "penicillin".into(),
            reaction: "anaphylaxis".into(),
            severity: AllergySeverity::Severe,
            recorded_on: d(2019, 1, 1), // older than 5 years: dropped
        });
        let records = vec![
            potassium(d(2018, 1, 1)),
            potassium(d(2019, 1, 1)),
            potassium(d(2017, 1, 1)), // fourth newest and old: dropped
            potassium(d(2020, 1, 1)),
            allergy,
        ];
        let s = EmergencySummary::assemble(header(), records, now);
        let dates: Vec<_> = s.records.iter().map(MedicalRecord::date).collect();
        assert_eq!(dates, vec![d(2020, 1, 1), d(2019, 1, 1), d(2018, 1, 1)]);
        assert_eq!(s.kinds(), vec![RecordKind::LabResult]);
        assert_eq!(s.abnormal_labs().count(), 3);
    }

    #[test]
    fn age_counts_birthdays() {
        let h = header();
        assert_eq!(h.age_on(d(2026, 6, 14)), 85);
        assert_eq!(h.age_on(d(2026, 6, 15)), 86);
    }
}
