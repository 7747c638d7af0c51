//! Drug allergies (薬剤アレルギー等) and other allergies (その他アレルギー等).
//!
//! About 10% of patients have a recorded drug allergy and about 5% another allergy;
//! children's food allergies (egg, milk, wheat) are more common than adults'.

use chrono::NaiveDate;
use myna_domain::records::{Allergy, AllergySeverity, MedicalRecord};

use crate::random::{PatientRng, chance, date_between, pick_weighted};

/// Share of patients with at least one drug allergy.
pub(crate) const DRUG_ALLERGY_SHARE: f64 = 0.10;

/// Share of adults with another allergy (children: twice that).
pub(crate) const OTHER_ALLERGY_SHARE: f64 = 0.05;

/// Share of allergic patients with a second allergy of the same kind.
const SECOND_ALLERGY: f64 = 0.15;

/// One allergy: substance, reaction, severity.
type Reaction = (&'static str, &'static str, AllergySeverity);

use AllergySeverity::{Mild, Moderate, Severe};

/// Drug allergies, weighted by how often they are recorded.
pub(crate) const DRUG_ALLERGIES: &[(Reaction, f64)] = &[
    (("penicillin", "anaphylaxis", Severe), 0.12),
    (("penicillin", "generalised rash", Moderate), 0.18),
    (("cephalosporins", "urticaria", Moderate), 0.10),
    (
        (
            "NSAIDs (loxoprofen)",
            "urticaria and facial swelling",
            Moderate,
        ),
        0.12,
    ),
    (
        (
            "aspirin",
            "aspirin-exacerbated respiratory disease (asthma attack)",
            Severe,
        ),
        0.06,
    ),
    (("iodinated contrast media", "anaphylaxis", Severe), 0.07),
    (("iodinated contrast media", "urticaria", Mild), 0.10),
    (("levofloxacin", "rash", Mild), 0.07),
    (("carbamazepine", "Stevens-Johnson syndrome", Severe), 0.03),
    (("lidocaine", "hypotension and dizziness", Moderate), 0.04),
    (("codeine", "nausea and vomiting", Mild), 0.05),
    (
        ("sulfamethoxazole/trimethoprim", "drug eruption", Moderate),
        0.06,
    ),
];

/// Other allergies for adults, weighted.
pub(crate) const OTHER_ALLERGIES_ADULT: &[(Reaction, f64)] = &[
    (("latex", "anaphylaxis", Severe), 0.10),
    (("latex", "contact urticaria", Mild), 0.10),
    (("buckwheat", "anaphylaxis", Severe), 0.12),
    (("shrimp and crab", "urticaria", Moderate), 0.18),
    (
        (
            "wheat",
            "food-dependent exercise-induced anaphylaxis",
            Severe,
        ),
        0.06,
    ),
    (("peanut", "anaphylaxis", Severe), 0.05),
    (("bee venom", "anaphylaxis", Severe), 0.07),
    (("egg", "urticaria", Mild), 0.07),
    (
        ("Japanese cedar pollen", "rhinitis and conjunctivitis", Mild),
        0.20,
    ),
    (("adhesive tape", "contact dermatitis", Mild), 0.05),
];

/// Other allergies for children (under 15), weighted.
pub(crate) const OTHER_ALLERGIES_CHILD: &[(Reaction, f64)] = &[
    (("egg", "urticaria", Moderate), 0.30),
    (("egg", "anaphylaxis", Severe), 0.05),
    (("cow's milk", "urticaria and vomiting", Moderate), 0.20),
    (("wheat", "urticaria", Moderate), 0.15),
    (("peanut", "anaphylaxis", Severe), 0.08),
    (("buckwheat", "anaphylaxis", Severe), 0.07),
    (("salmon roe", "urticaria", Mild), 0.10),
    (("latex", "contact urticaria", Mild), 0.05),
];

/// The patient's allergy records, recorded between `start` and `today`.
pub(crate) fn draw(
    rng: &mut PatientRng,
    age: u32,
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<MedicalRecord> {
    let mut records = Vec::new();
    if chance(rng, DRUG_ALLERGY_SHARE) {
        for allergy in allergies(rng, DRUG_ALLERGIES, start, today) {
            records.push(MedicalRecord::DrugAllergy(allergy));
        }
    }
    let (table, share) = if age < 15 {
        (OTHER_ALLERGIES_CHILD, OTHER_ALLERGY_SHARE * 2.0)
    } else {
        (OTHER_ALLERGIES_ADULT, OTHER_ALLERGY_SHARE)
    };
    if chance(rng, share) {
        for allergy in allergies(rng, table, start, today) {
            records.push(MedicalRecord::OtherAllergy(allergy));
        }
    }
    records
}

/// One or (sometimes) two distinct allergies from `table`.
fn allergies(
    rng: &mut PatientRng,
    table: &[(Reaction, f64)],
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<Allergy> {
    let count = if chance(rng, SECOND_ALLERGY) { 2 } else { 1 };
    let mut chosen: Vec<&Reaction> = Vec::with_capacity(count);
    for _ in 0..count {
        let reaction = pick_weighted(rng, table);
        if chosen.iter().all(|c| c.0 != reaction.0) {
            chosen.push(reaction);
        }
    }
    chosen
        .into_iter()
        .map(|(substance, reaction, severity)| Allergy {
            substance: (*substance).to_string(),
            reaction: (*reaction).to_string(),
            severity: *severity,
            recorded_on: date_between(rng, start, today),
        })
        .collect()
}
