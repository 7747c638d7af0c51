//! The hand-maintained rule table: drug groups, what may not be combined, and the renal
//! limit. Illustrative only: see [`super`] for why it is written by hand and what must
//! replace it in production (the national drug-interaction master).

use crate::identity::Sex;
use crate::labels::Label;
use crate::records::{DrugClass, LabResult, LabValue, Medication};

/// Metformin is contraindicated below this eGFR (mL/min/1.73 m²), per its Japanese label.
pub const BIGUANIDE_EGFR_LIMIT: f64 = 30.0;

/// The drug groups the hand-written rules know. Membership is by [`DrugClass`] for
/// anticoagulants and by ingredient for the rest (our records carry no finer class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DrugGroup {
    /// Anticoagulants (抗凝固薬): [`DrugClass::Anticoagulant`].
    Anticoagulant,
    /// Non-steroidal anti-inflammatory drugs (NSAIDs, 非ステロイド性抗炎症薬), systemic ones.
    Nsaid,
    /// Penicillin antibiotics (ペニシリン系抗菌薬): the INN stem `-cillin`.
    Penicillin,
    /// Biguanides (ビグアナイド薬): metformin, buformin.
    Biguanide,
}

/// NSAIDs by ingredient. Aspirin is left out: in our records it is the low-dose
/// antiplatelet. Route is not recorded, so ingredients mostly used as patches
/// (ketoprofen, esflurbiprofen) are left out too, or every tape would warn.
const NSAIDS: &[&str] = &[
    "loxoprofen",
    "celecoxib",
    "ibuprofen",
    "diclofenac",
    "naproxen",
    "indomethacin",
    "meloxicam",
    "etodolac",
    "lornoxicam",
    "zaltoprofen",
    "piroxicam",
    "ampiroxicam",
    "mefenamic acid",
    "sulindac",
    "nabumetone",
];

const BIGUANIDES: &[&str] = &["metformin", "buformin"];

/// Groups where two different ingredients at once are a duplicate.
pub(super) const DUPLICATE_GROUPS: &[DrugGroup] = &[DrugGroup::Anticoagulant, DrugGroup::Nsaid];

/// `(drug, with, risk)`: a current `drug` is contraindicated with a current `with`.
pub(super) const COMBINATIONS: &[(DrugGroup, DrugGroup, Risk)] =
    &[(DrugGroup::Nsaid, DrugGroup::Anticoagulant, Risk::Bleeding)];

impl DrugGroup {
    /// Every group.
    pub const ALL: [DrugGroup; 4] = [
        DrugGroup::Anticoagulant,
        DrugGroup::Nsaid,
        DrugGroup::Penicillin,
        DrugGroup::Biguanide,
    ];

    /// Whether the medication belongs to this group.
    pub fn contains(self, medication: &Medication) -> bool {
        let mut parts = components(&medication.ingredient);
        match self {
            DrugGroup::Anticoagulant => medication.class == DrugClass::Anticoagulant,
            DrugGroup::Nsaid => parts.any(|c| NSAIDS.contains(&c.as_str())),
            DrugGroup::Penicillin => parts.any(|c| c.ends_with("cillin")),
            DrugGroup::Biguanide => parts.any(|c| BIGUANIDES.contains(&c.as_str())),
        }
    }

    /// `(ja, en)` label.
    pub fn label(self) -> Label {
        match self {
            DrugGroup::Anticoagulant => ("抗凝固薬", "anticoagulant"),
            DrugGroup::Nsaid => ("非ステロイド性抗炎症薬", "NSAID"),
            DrugGroup::Penicillin => ("ペニシリン系抗菌薬", "penicillin antibiotic"),
            DrugGroup::Biguanide => ("ビグアナイド薬", "biguanide"),
        }
    }

    /// Words that, found in a drug allergy's substance, name the whole group.
    pub(super) fn allergy_terms(self) -> &'static [&'static str] {
        match self {
            DrugGroup::Anticoagulant => &[],
            DrugGroup::Nsaid => &["nsaid", "非ステロイド"],
            DrugGroup::Penicillin => &["penicillin", "ペニシリン"],
            DrugGroup::Biguanide => &["biguanide", "ビグアナイド"],
        }
    }
}

/// What a contraindicated medication risks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Risk {
    /// Increased bleeding (出血リスク増大).
    Bleeding,
    /// Lactic acidosis (乳酸アシドーシス).
    LacticAcidosis,
}

impl Risk {
    /// `(ja, en)` label.
    pub fn label(self) -> Label {
        match self {
            Risk::Bleeding => ("出血リスク増大", "bleeding risk"),
            Risk::LacticAcidosis => ("乳酸アシドーシスのリスク", "lactic acidosis risk"),
        }
    }
}

/// eGFR (mL/min/1.73 m²) by the Japanese Society of Nephrology equation:
/// `194 × Cr^-1.094 × age^-0.287`, `× 0.739` for women. When sex is neither male nor
/// female the female factor is used: it gives the lower eGFR, so warnings err towards
/// showing. `None` under 18 years (the equation is for adults) or for a creatinine ≤ 0.
pub fn egfr_jsn(creatinine_mg_dl: f64, age_years: u32, sex: Sex) -> Option<f64> {
    if age_years < 18 || creatinine_mg_dl.is_nan() || creatinine_mg_dl <= 0.0 {
        return None;
    }
    let male = 194.0 * creatinine_mg_dl.powf(-1.094) * f64::from(age_years).powf(-0.287);
    Some(match sex {
        Sex::Male => male,
        Sex::Female | Sex::NotApplicable => male * 0.739,
    })
}

/// Creatinine in mg/dL from mg/dL or µmol/L; `None` for any other unit or a text value.
pub(super) fn creatinine_mg_dl(lab: &LabResult) -> Option<f64> {
    let LabValue::Quantity { value, unit, .. } = &lab.value else {
        return None;
    };
    let unit: String = unit.split_whitespace().collect::<String>().to_lowercase();
    match unit.as_str() {
        "mg/dl" => Some(*value),
        "µmol/l" | "μmol/l" | "umol/l" => Some(*value / 88.4),
        _ => None,
    }
}

pub(super) fn normalize(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Ingredients of a (possibly combination) product, normalized.
pub(super) fn components(ingredient: &str) -> impl Iterator<Item = String> + '_ {
    ingredient
        .split(['/', '+'])
        .map(normalize)
        .filter(|c| !c.is_empty())
}
