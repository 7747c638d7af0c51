//! Infection tests (感染症): HBs antigen, HCV antibody, syphilis (STS, TP) and HIV.
//!
//! Whether a patient carries an infection is decided once ([`Carrier`]); tests are done
//! when care calls for a screen (admission, surgery, endoscopy) and report that status.
//! Positive shares: HBs about 1%, HCV about 1%, syphilis about 0.5%, HIV about 0.1%.

use chrono::NaiveDate;
use myna_domain::records::{InfectionMarker, InfectionResult, MedicalRecord, QualitativeResult};

use crate::random::{PatientRng, chance};

/// Share of screens that also test HIV (it needs separate consent).
const HIV_TESTED: f64 = 0.3;

/// Share of results reported as indeterminate (判定保留).
const INDETERMINATE: f64 = 0.002;

/// Share of syphilis carriers whose STS (activity marker) is also positive.
const STS_POSITIVE: f64 = 0.6;

/// Which infections a patient carries, drawn once per patient.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Carrier {
    /// Hepatitis B (HBs antigen positive).
    pub hepatitis_b: bool,
    /// Hepatitis C (HCV antibody positive).
    pub hepatitis_c: bool,
    /// Syphilis (TP antibody positive).
    pub syphilis: bool,
    /// HIV.
    pub hiv: bool,
    /// Whether an STS would be positive (active syphilis).
    sts_positive: bool,
}

impl Carrier {
    /// Draws the carrier status.
    pub(crate) fn draw(rng: &mut PatientRng) -> Self {
        let syphilis = chance(rng, 0.005);
        Carrier {
            hepatitis_b: chance(rng, 0.01),
            hepatitis_c: chance(rng, 0.01),
            syphilis,
            hiv: chance(rng, 0.001),
            sts_positive: syphilis && chance(rng, STS_POSITIVE),
        }
    }

    /// ICD-10 codes of the conditions a carrier is diagnosed with.
    pub(crate) fn diagnoses(&self) -> Vec<&'static str> {
        [
            (self.hepatitis_b, "B18.1"),
            (self.hepatitis_c, "B18.2"),
            (self.syphilis, "A53.9"),
            (self.hiv, "B24"),
        ]
        .into_iter()
        .filter_map(|(has, code)| has.then_some(code))
        .collect()
    }

    /// The results of one infection screen on `date`.
    pub(crate) fn screen(&self, rng: &mut PatientRng, date: NaiveDate) -> Vec<MedicalRecord> {
        let mut markers = vec![
            (InfectionMarker::HbsAntigen, self.hepatitis_b),
            (InfectionMarker::HcvAntibody, self.hepatitis_c),
            (InfectionMarker::SyphilisTp, self.syphilis),
            (InfectionMarker::SyphilisSts, self.sts_positive),
        ];
        if self.hiv || chance(rng, HIV_TESTED) {
            markers.push((InfectionMarker::Hiv, self.hiv));
        }
        markers
            .into_iter()
            .map(|(marker, positive)| {
                let result = if positive {
                    QualitativeResult::Positive
                } else if chance(rng, INDETERMINATE) {
                    QualitativeResult::Indeterminate
                } else {
                    QualitativeResult::Negative
                };
                MedicalRecord::Infection(InfectionResult {
                    marker,
                    result,
                    tested_on: date,
                })
            })
            .collect()
    }
}
