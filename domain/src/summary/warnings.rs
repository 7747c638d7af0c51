//! Duplicate-medication (重複投薬) and contraindication (禁忌) warnings for the first
//! minutes of emergency care.
//!
//! # Why a hand-written rule table
//! No maintained drug-interaction database exists as a Rust crate, and the authoritative
//! source in Japan, the drug master the e-prescription service checks duplicates and
//! contraindications against (電子処方箋管理サービスの重複投薬等チェック), is keyed by drug
//! codes our records do not carry. The rules below are therefore a small, hand-maintained
//! and **illustrative** table: the few warnings that change treatment in the first
//! minutes, not a complete check. **In production they must be replaced by the national
//! drug-interaction master.** A missing warning never means "safe".
//!
//! # Rules
//! A medication is *current* when it was dispensed or prescribed within
//! [`CURRENT_WINDOW_DAYS`] of `today` (the e-prescription retention of 100 days). Its
//! *supply* is `days_supplied` days from its date (at least one). Ingredients are
//! compared trimmed and lower-cased; a combination product (`"amoxicillin/clavulanate"`)
//! is one ingredient for duplicates and is split on `/` for group and allergy matching.
//!
//! | Warning | Fires when | Deliberately does not fire |
//! |---|---|---|
//! | Duplicate, same ingredient | the same ingredient from two institutions of one record kind (two prescribers, or two pharmacies), supplies overlapping | refills from one pharmacy; a prescription and its own dispensing (prescriber and pharmacy differ, so institutions are only compared within a kind); a change of pharmacy without overlap |
//! | Duplicate, same group | two different anticoagulants (warfarin + DOAC, two DOACs) or two different NSAIDs, supplies overlapping, from any institution | two different antiplatelets: aspirin + clopidogrel (dual antiplatelet therapy after a stent) is common and deliberate; glucose-lowering drugs, combined on purpose; a switch whose supplies do not overlap |
//! | Contraindication, combination | an NSAID with a current anticoagulant: bleeding | low-dose aspirin, which is an antiplatelet here, not an NSAID |
//! | Contraindication, drug allergy | a drug allergy recorded to the ingredient, to the drug's first name word, or to its group (`penicillin` / `ペニシリン` against any `-cillin`) | other (non-drug) allergies |
//! | Contraindication, renal | a biguanide (metformin) with eGFR < 30 from the newest creatinine (JSN equation): lactic acidosis | creatinine in an unknown unit; patients under 18 |
//!
//! Warfarin + DOAC is reported once, as a same-group duplicate, not again as a
//! contraindication. Strictly, Japanese labelling lists anticoagulant + NSAID as
//! "use with caution" (併用注意); the ER card still flags it because it changes what may
//! be given in the first minutes. Contraindications only need both drugs current, not
//! overlapping supplies: an as-needed NSAID is still at hand after its nominal supply,
//! and a missed contraindication costs more than an extra line. Duplicates need overlap:
//! a switch of drug or of pharmacy is not a duplicate.

mod rules;

use chrono::{Days, NaiveDate};

pub use self::rules::{BIGUANIDE_EGFR_LIMIT, DrugGroup, Risk, egfr_jsn};
use self::rules::{COMBINATIONS, DUPLICATE_GROUPS, components, creatinine_mg_dl, normalize};
use super::emergency::EmergencySummary;
use crate::labels::Label;
use crate::records::{Allergy, Analyte, MedicalRecord, Medication, RecordKind};

/// A medication counts as current when dated at most this many days before `today`.
pub const CURRENT_WINDOW_DAYS: i64 = 100;

/// A warning about the patient's current medications, explainable in one line.
#[derive(Debug, Clone, PartialEq)]
pub enum MedicationWarning<'a> {
    /// Duplicate medication (重複投薬): the same ingredient from two institutions, or two
    /// drugs of a group where taking two at once is dangerous.
    Duplicate {
        /// What the medications have in common.
        basis: DuplicateBasis,
        /// The medications, newest first: one per institution for a same-ingredient
        /// duplicate, one per ingredient for a same-group duplicate. Always two or more.
        medications: Vec<&'a Medication>,
    },
    /// Contraindication (禁忌): a current medication the patient should not take.
    Contraindication {
        /// The medication.
        medication: &'a Medication,
        /// Why it is contraindicated.
        against: ContraindicationReason<'a>,
    },
}

/// What duplicated medications have in common.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuplicateBasis {
    /// The same ingredient (同一成分), as written in the first record.
    Ingredient(String),
    /// Different ingredients of the same group (同効薬).
    Group(DrugGroup),
}

/// Why a medication is contraindicated.
#[derive(Debug, Clone, PartialEq)]
pub enum ContraindicationReason<'a> {
    /// Another current medication it must not be combined with (併用).
    Medication {
        /// The other medication.
        other: &'a Medication,
        /// The other medication's group.
        group: DrugGroup,
        /// What the combination risks.
        risk: Risk,
    },
    /// A recorded drug allergy (薬剤アレルギー) to it or its group.
    DrugAllergy(&'a Allergy),
    /// Severe renal impairment (重度腎機能障害): eGFR from the newest creatinine below the
    /// drug's limit.
    RenalImpairment {
        /// Estimated GFR, mL/min/1.73 m².
        egfr: f64,
        /// The creatinine it was estimated from, mg/dL.
        creatinine_mg_dl: f64,
        /// When that creatinine was measured.
        observed_on: NaiveDate,
        /// What taking the drug risks.
        risk: Risk,
    },
}

impl MedicationWarning<'_> {
    /// The card's text tag, `(ja, en)`: `("重複投薬", "DUPLICATE")` or `("禁忌", "CONTRAINDICATION")`.
    pub fn tag(&self) -> Label {
        match self {
            MedicationWarning::Duplicate { .. } => ("重複投薬", "DUPLICATE"),
            MedicationWarning::Contraindication { .. } => ("禁忌", "CONTRAINDICATION"),
        }
    }

    /// The warning in one line each, `(ja, en)`, naming the drugs and the reason, after
    /// its [`tag`](Self::tag): `禁忌: …` / `CONTRAINDICATION: …`.
    pub fn explain(&self) -> (String, String) {
        let (tag_ja, tag_en) = self.tag();
        let (ja, en) = self.reason();
        (format!("{tag_ja}: {ja}"), format!("{tag_en}: {en}"))
    }

    /// The warning's drugs and reason, `(ja, en)`: [`explain`](Self::explain) without
    /// the tag.
    pub fn reason(&self) -> (String, String) {
        match self {
            MedicationWarning::Duplicate { basis, medications } => {
                let list = medications
                    .iter()
                    .map(|m| format!("{} ({} {})", m.drug, m.institution, m.date))
                    .collect::<Vec<_>>()
                    .join(" / ");
                let n = medications.len();
                let (ja, en) = match basis {
                    DuplicateBasis::Ingredient(name) => (
                        format!("同一成分 {name} が {n} 施設から"),
                        format!("same ingredient {name} from {n} institutions"),
                    ),
                    DuplicateBasis::Group(g) => (
                        format!("{}が {n} 剤", g.label().0),
                        format!("{n} different {}s", g.label().1),
                    ),
                };
                (format!("{ja} — {list}"), format!("{en} — {list}"))
            }
            MedicationWarning::Contraindication {
                medication,
                against,
            } => {
                let drug = &medication.drug;
                let (ja, en) = match against {
                    ContraindicationReason::Medication { other, group, risk } => (
                        format!(
                            "{drug} と{} {} の併用 — {}",
                            group.label().0,
                            other.drug,
                            risk.label().0
                        ),
                        format!(
                            "{drug} with {} {} — {}",
                            group.label().1,
                            other.drug,
                            risk.label().1
                        ),
                    ),
                    ContraindicationReason::DrugAllergy(a) => (
                        format!(
                            "{drug} — 薬剤アレルギー {} ({}) の記録あり",
                            a.substance, a.reaction
                        ),
                        format!(
                            "{drug} — recorded drug allergy to {} ({})",
                            a.substance, a.reaction
                        ),
                    ),
                    ContraindicationReason::RenalImpairment {
                        egfr,
                        creatinine_mg_dl,
                        observed_on,
                        risk,
                    } => (
                        format!(
                            "{drug} — eGFR {egfr:.0} ({BIGUANIDE_EGFR_LIMIT} 未満、クレアチニン {creatinine_mg_dl} mg/dL {observed_on}) {}",
                            risk.label().0
                        ),
                        format!(
                            "{drug} — eGFR {egfr:.0} (< {BIGUANIDE_EGFR_LIMIT}; creatinine {creatinine_mg_dl} mg/dL on {observed_on}), {}",
                            risk.label().1
                        ),
                    ),
                };
                (ja, en)
            }
        }
    }
}

impl EmergencySummary {
    /// Duplicate-medication and contraindication warnings among the medications current
    /// on `today` (dated within [`CURRENT_WINDOW_DAYS`]): contraindications
    /// first, then duplicates. The rules are a small illustrative table, see [`crate::summary::warnings`].
    pub fn medication_warnings(&self, today: NaiveDate) -> Vec<MedicationWarning<'_>> {
        medication_warnings(self, today)
    }
}

/// Every warning for `summary` on `today`: contraindications first (allergy,
/// combination, renal), then duplicates (same ingredient, same group).
fn medication_warnings(summary: &EmergencySummary, today: NaiveDate) -> Vec<MedicationWarning<'_>> {
    let current: Vec<(RecordKind, &Medication)> = summary
        .records
        .iter()
        .filter_map(|r| match r {
            MedicalRecord::DrugInformation(m) => Some((RecordKind::DrugInformation, m)),
            MedicalRecord::Prescription(m) => Some((RecordKind::Prescription, m)),
            _ => None,
        })
        .filter(|(_, m)| (today - m.date).num_days() <= CURRENT_WINDOW_DAYS)
        .collect();
    let newest = newest_per_ingredient(current.iter().map(|(_, m)| *m));

    let mut warnings = Vec::new();
    allergy_contraindications(summary, &newest, &mut warnings);
    combination_contraindications(&newest, &mut warnings);
    renal_contraindications(summary, &newest, &mut warnings);
    same_ingredient_duplicates(&current, &mut warnings);
    same_group_duplicates(&current, &mut warnings);
    warnings
}

fn allergy_contraindications<'a>(
    summary: &'a EmergencySummary,
    newest: &[&'a Medication],
    out: &mut Vec<MedicationWarning<'a>>,
) {
    for (allergy, _) in summary.allergies().filter(|(_, is_drug)| *is_drug) {
        for medication in newest
            .iter()
            .copied()
            .filter(|m| allergy_matches(allergy, m))
        {
            out.push(MedicationWarning::Contraindication {
                medication,
                against: ContraindicationReason::DrugAllergy(allergy),
            });
        }
    }
}

fn allergy_matches(allergy: &Allergy, medication: &Medication) -> bool {
    let substance = normalize(&allergy.substance);
    if substance.is_empty() {
        return false;
    }
    let ingredient = normalize(&medication.ingredient) == substance
        || components(&medication.ingredient).any(|c| c == substance);
    let name = medication
        .drug
        .split_whitespace()
        .next()
        .is_some_and(|word| normalize(word) == substance);
    let group = DrugGroup::ALL
        .iter()
        .any(|g| g.allergy_terms().iter().any(|t| substance.contains(t)) && g.contains(medication));
    ingredient || name || group
}

fn combination_contraindications<'a>(
    newest: &[&'a Medication],
    out: &mut Vec<MedicationWarning<'a>>,
) {
    for &(drug_group, with_group, risk) in COMBINATIONS {
        for medication in newest.iter().copied().filter(|m| drug_group.contains(m)) {
            for other in newest.iter().copied().filter(|o| with_group.contains(o)) {
                if same_ingredient(medication, other) {
                    continue;
                }
                out.push(MedicationWarning::Contraindication {
                    medication,
                    against: ContraindicationReason::Medication {
                        other,
                        group: with_group,
                        risk,
                    },
                });
            }
        }
    }
}

fn renal_contraindications<'a>(
    summary: &'a EmergencySummary,
    newest: &[&'a Medication],
    out: &mut Vec<MedicationWarning<'a>>,
) {
    let Some(creatinine) = summary
        .records
        .iter()
        .filter_map(|r| match r {
            MedicalRecord::LabResult(l) if l.analyte == Analyte::Creatinine => Some(l),
            _ => None,
        })
        .max_by_key(|l| l.observed_on)
    else {
        return;
    };
    let Some(mg_dl) = creatinine_mg_dl(creatinine) else {
        return;
    };
    let age = summary.patient.age_on(creatinine.observed_on);
    let Some(egfr) = egfr_jsn(mg_dl, age, summary.patient.sex) else {
        return;
    };
    if egfr >= BIGUANIDE_EGFR_LIMIT {
        return;
    }
    for medication in newest
        .iter()
        .copied()
        .filter(|m| DrugGroup::Biguanide.contains(m))
    {
        out.push(MedicationWarning::Contraindication {
            medication,
            against: ContraindicationReason::RenalImpairment {
                egfr,
                creatinine_mg_dl: mg_dl,
                observed_on: creatinine.observed_on,
                risk: Risk::LacticAcidosis,
            },
        });
    }
}

fn same_ingredient_duplicates<'a>(
    current: &[(RecordKind, &'a Medication)],
    out: &mut Vec<MedicationWarning<'a>>,
) {
    for ingredient in distinct_ingredients(current.iter().map(|(_, m)| *m)) {
        // Prescribers first (whom the ER would call), then pharmacies.
        for kind in [RecordKind::Prescription, RecordKind::DrugInformation] {
            let records: Vec<&Medication> = current
                .iter()
                .filter(|(k, m)| *k == kind && same_ingredient(m, ingredient))
                .map(|(_, m)| *m)
                .collect();
            let involved = records.iter().filter(|a| {
                records
                    .iter()
                    .any(|b| a.institution.trim() != b.institution.trim() && overlaps(a, b))
            });
            let mut medications: Vec<&Medication> = Vec::new();
            for m in newest_first(involved.copied().collect()) {
                if !medications
                    .iter()
                    .any(|x| x.institution.trim() == m.institution.trim())
                {
                    medications.push(m);
                }
            }
            if medications.len() >= 2 {
                out.push(MedicationWarning::Duplicate {
                    basis: DuplicateBasis::Ingredient(ingredient.ingredient.trim().to_string()),
                    medications,
                });
                break;
            }
        }
    }
}

fn same_group_duplicates<'a>(
    current: &[(RecordKind, &'a Medication)],
    out: &mut Vec<MedicationWarning<'a>>,
) {
    for &group in DUPLICATE_GROUPS {
        let members: Vec<&Medication> = current
            .iter()
            .map(|(_, m)| *m)
            .filter(|m| group.contains(m))
            .collect();
        let involved = members.iter().copied().filter(|a| {
            members
                .iter()
                .any(|b| !same_ingredient(a, b) && overlaps(a, b))
        });
        let medications = newest_first(newest_per_ingredient(involved));
        if medications.len() >= 2 {
            out.push(MedicationWarning::Duplicate {
                basis: DuplicateBasis::Group(group),
                medications,
            });
        }
    }
}

fn same_ingredient(a: &Medication, b: &Medication) -> bool {
    normalize(&a.ingredient) == normalize(&b.ingredient)
}

/// Supply period `[date, date + days_supplied)`, at least one day.
fn supply(m: &Medication) -> (NaiveDate, NaiveDate) {
    let days = Days::new(u64::from(m.days_supplied.max(1)));
    (
        m.date,
        m.date.checked_add_days(days).unwrap_or(NaiveDate::MAX),
    )
}

fn overlaps(a: &Medication, b: &Medication) -> bool {
    let (a_start, a_end) = supply(a);
    let (b_start, b_end) = supply(b);
    a_start < b_end && b_start < a_end
}

/// The first medication of each ingredient, in first-seen order.
fn distinct_ingredients<'a>(meds: impl Iterator<Item = &'a Medication>) -> Vec<&'a Medication> {
    let mut out: Vec<&Medication> = Vec::new();
    for m in meds {
        if !out.iter().any(|x| same_ingredient(x, m)) {
            out.push(m);
        }
    }
    out
}

/// The newest medication of each ingredient (the earlier record on a tie), in
/// first-seen order.
fn newest_per_ingredient<'a>(meds: impl Iterator<Item = &'a Medication>) -> Vec<&'a Medication> {
    let mut out: Vec<&Medication> = Vec::new();
    for m in meds {
        match out.iter_mut().find(|x| same_ingredient(x, m)) {
            Some(x) if m.date > x.date => *x = m,
            Some(_) => {}
            None => out.push(m),
        }
    }
    out
}

fn newest_first(mut meds: Vec<&Medication>) -> Vec<&Medication> {
    meds.sort_by_key(|m| std::cmp::Reverse(m.date));
    meds
}

#[cfg(test)]
mod tests;
