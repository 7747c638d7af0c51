//! Lab results (検査): reference ranges, units and how values are drawn.
//!
//! [`LAB_SPECS`] lists every quantitative [`Analyte`] with its UCUM unit, reference range
//! (mostly the JCCLS shared reference intervals, 共用基準範囲) and the value ranges drawn
//! for normal, raised and lowered results. Conditions and drugs push values out of range
//! through [`LabEffect`]s; everyone else gets mostly normal values with a little noise.
//! Blood group (ABO, Rh) is a text result with Japanese frequencies.

use chrono::NaiveDate;
use myna_domain::records::{Analyte, LabResult, LabValue, MedicalRecord, ReferenceRange};
use rand::Rng;

use crate::random::{PatientRng, chance, pick, pick_weighted, round, uniform_rounded};

/// Which way a condition or drug pushes an analyte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Above the reference range.
    High,
    /// Below the reference range.
    Low,
}

/// A condition or drug pushing an analyte out of range with some probability per test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabEffect {
    /// The analyte affected.
    pub analyte: Analyte,
    /// Which way.
    pub direction: Direction,
    /// Probability that one test of the analyte is out of range.
    pub probability: f64,
}

impl LabEffect {
    /// `analyte` above range with probability `probability`.
    pub(crate) const fn raises(analyte: Analyte, probability: f64) -> Self {
        LabEffect {
            analyte,
            direction: Direction::High,
            probability,
        }
    }

    /// `analyte` below range with probability `probability`.
    pub(crate) const fn lowers(analyte: Analyte, probability: f64) -> Self {
        LabEffect {
            analyte,
            direction: Direction::Low,
            probability,
        }
    }
}

/// How one quantitative analyte is reported and drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabSpec {
    /// The analyte.
    pub analyte: Analyte,
    /// UCUM unit.
    pub unit: &'static str,
    /// Reference range as reported.
    pub reference: ReferenceRange,
    /// Values drawn for a normal result.
    pub normal: (f64, f64),
    /// Values drawn for a raised result.
    pub raised: (f64, f64),
    /// Values drawn for a lowered result, if lowered values are clinically meaningful.
    pub lowered: Option<(f64, f64)>,
    /// Decimal places reported.
    pub decimals: u8,
}

const fn spec(
    analyte: Analyte,
    unit: &'static str,
    range: (Option<f64>, Option<f64>),
    normal: (f64, f64),
    raised: (f64, f64),
    lowered: Option<(f64, f64)>,
    decimals: u8,
) -> LabSpec {
    LabSpec {
        analyte,
        unit,
        reference: ReferenceRange {
            low: range.0,
            high: range.1,
        },
        normal,
        raised,
        lowered,
        decimals,
    }
}

use Analyte as A;

/// Every quantitative analyte: unit, reference range, and drawing ranges.
#[rustfmt::skip]
pub(crate) const LAB_SPECS: &[LabSpec] = &[
    //   analyte        unit       reference range               normal          raised            lowered              decimals
    spec(A::Ck,         "U/L",     (Some(41.0), Some(248.0)),   (50.0, 200.0),   (260.0, 3000.0),  None,                0),
    spec(A::Ast,        "U/L",     (Some(13.0), Some(30.0)),    (15.0, 28.0),    (35.0, 400.0),    None,                0),
    spec(A::Alt,        "U/L",     (Some(10.0), Some(42.0)),    (12.0, 35.0),    (45.0, 400.0),    None,                0),
    spec(A::Ldh,        "U/L",     (Some(124.0), Some(222.0)),  (140.0, 210.0),  (240.0, 900.0),   None,                0),
    spec(A::Creatinine, "mg/dL",   (Some(0.6), Some(1.1)),      (0.62, 1.05),    (1.2, 6.5),       Some((0.3, 0.55)),   2),
    spec(A::Bun,        "mg/dL",   (Some(8.0), Some(20.0)),     (9.0, 19.0),     (22.0, 90.0),     Some((4.0, 7.5)),    1),
    spec(A::Glucose,    "mg/dL",   (Some(70.0), Some(110.0)),   (78.0, 105.0),   (115.0, 380.0),   Some((35.0, 65.0)),  0),
    spec(A::Hba1c,      "%",       (Some(4.6), Some(6.2)),      (5.0, 6.0),      (6.3, 11.5),      None,                1),
    spec(A::Sodium,     "mmol/L",  (Some(135.0), Some(145.0)),  (137.0, 144.0),  (146.0, 158.0),   Some((118.0, 134.0)), 0),
    spec(A::Potassium,  "mmol/L",  (Some(3.5), Some(5.0)),      (3.7, 4.8),      (5.1, 7.0),       Some((2.6, 3.4)),    1),
    spec(A::Chloride,   "mmol/L",  (Some(98.0), Some(108.0)),   (100.0, 107.0),  (109.0, 118.0),   Some((88.0, 97.0)),  0),
    spec(A::Calcium,    "mg/dL",   (Some(8.8), Some(10.1)),     (8.9, 10.0),     (10.3, 13.0),     Some((6.8, 8.6)),    1),
    spec(A::Wbc,        "10*3/uL", (Some(3.3), Some(8.6)),      (4.0, 8.0),      (9.0, 22.0),      Some((1.2, 3.2)),    1),
    spec(A::Hemoglobin, "g/dL",    (Some(12.0), Some(16.0)),    (12.5, 15.5),    (16.2, 18.5),     Some((6.5, 11.8)),   1),
    spec(A::Platelets,  "10*3/uL", (Some(150.0), Some(350.0)),  (170.0, 330.0),  (360.0, 650.0),   Some((30.0, 145.0)), 0),
    spec(A::Aptt,       "s",       (Some(25.0), Some(40.0)),    (27.0, 37.0),    (42.0, 80.0),     None,                1),
    spec(A::PtInr,      "{INR}",   (Some(0.9), Some(1.1)),      (0.92, 1.08),    (1.3, 3.8),       None,                2),
    spec(A::DDimer,     "ug/mL",   (None, Some(1.0)),           (0.1, 0.8),      (1.2, 25.0),      None,                1),
    spec(A::Bnp,        "pg/mL",   (None, Some(18.4)),          (3.0, 17.0),     (25.0, 1800.0),   None,                1),
    spec(A::NtProBnp,   "pg/mL",   (None, Some(125.0)),         (15.0, 110.0),   (200.0, 12000.0), None,                0),
    spec(A::Crp,        "mg/dL",   (None, Some(0.3)),           (0.01, 0.25),    (0.5, 25.0),      None,                2),
];

/// Analytes of nearly every blood test (basic chemistry and blood count).
pub(crate) const CORE_PANEL: &[Analyte] = &[A::Creatinine, A::Potassium, A::Hemoglobin, A::Crp];

/// Analytes added to an acute-illness test.
pub(crate) const ACUTE_PANEL: &[Analyte] = &[A::Wbc, A::Crp, A::Hemoglobin];

/// ABO blood groups with Japanese frequencies (A 40%, O 30%, B 20%, AB 10%).
pub(crate) const ABO_GROUPS: &[(&str, f64)] = &[("A", 0.4), ("O", 0.3), ("B", 0.2), ("AB", 0.1)];

/// Rh groups: Rh-negative is about 0.5% in Japan.
pub(crate) const RH_GROUPS: &[(&str, f64)] = &[("Rh+", 0.995), ("Rh-", 0.005)];

/// Share of an unaffected analyte that is out of range anyway (noise).
const NOISE: f64 = 0.03;

/// The specification of a quantitative analyte; `None` for the blood groups.
pub(crate) fn spec_of(analyte: Analyte) -> Option<&'static LabSpec> {
    LAB_SPECS.iter().find(|s| s.analyte == analyte)
}

/// One result of `analyte`, pushed out of range by the first matching effect if it fires.
pub(crate) fn result(
    rng: &mut PatientRng,
    analyte: Analyte,
    date: NaiveDate,
    effects: &[LabEffect],
) -> Option<MedicalRecord> {
    let spec = spec_of(analyte)?;
    let fired = effects
        .iter()
        .filter(|e| e.analyte == analyte)
        .find(|e| chance(rng, e.probability))
        .map(|e| e.direction);
    let direction = fired.or_else(|| {
        chance(rng, NOISE).then(|| {
            if rng.random_bool(0.5) {
                Direction::High
            } else {
                Direction::Low
            }
        })
    });
    let value = match (direction, spec.lowered) {
        (Some(Direction::High), _) => skewed(rng, spec.raised, spec.decimals),
        (Some(Direction::Low), Some((low, high))) => skewed(rng, (high, low), spec.decimals),
        _ => uniform_rounded(rng, spec.normal.0, spec.normal.1, spec.decimals),
    };
    Some(MedicalRecord::LabResult(LabResult {
        analyte,
        value: LabValue::Quantity {
            value,
            unit: spec.unit.to_string(),
            reference: spec.reference,
        },
        observed_on: date,
    }))
}

/// A value between `near` (the end next to the reference range) and `far`, skewed
/// towards `near`: most abnormal values are mildly abnormal.
fn skewed(rng: &mut PatientRng, (near, far): (f64, f64), decimals: u8) -> f64 {
    let u: f64 = rng.random();
    round(near + (far - near) * u * u, decimals)
}

/// A blood test on `date`: every analyte of `panel` (duplicates skipped).
pub(crate) fn draw(
    rng: &mut PatientRng,
    date: NaiveDate,
    panel: &[Analyte],
    effects: &[LabEffect],
) -> Vec<MedicalRecord> {
    let mut seen: Vec<Analyte> = Vec::with_capacity(panel.len());
    let mut records = Vec::with_capacity(panel.len());
    for &analyte in panel {
        if seen.contains(&analyte) {
            continue;
        }
        seen.push(analyte);
        records.extend(result(rng, analyte, date, effects));
    }
    records
}

/// One extra analyte beyond the core panel, as doctors add what they need.
pub(crate) fn extra_analyte(rng: &mut PatientRng) -> Analyte {
    pick(rng, LAB_SPECS).analyte
}

/// ABO and Rh blood group results on `date`.
pub(crate) fn blood_group(rng: &mut PatientRng, date: NaiveDate) -> [MedicalRecord; 2] {
    let text = |analyte, text: &str| {
        MedicalRecord::LabResult(LabResult {
            analyte,
            value: LabValue::Text {
                text: text.to_string(),
            },
            observed_on: date,
        })
    };
    let abo = pick_weighted(rng, ABO_GROUPS);
    let rh = pick_weighted(rng, RH_GROUPS);
    [text(A::AboBloodGroup, abo), text(A::RhBloodGroup, rh)]
}
