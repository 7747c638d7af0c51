//! Unit tests of the generator as a whole (module-level tests live beside their code).

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use myna_domain::records::{
    Analyte, DrugClass, InfectionMarker, LabValue, MedicalRecord, QualitativeResult, RecordKind,
    RecordSource,
};

use crate::{CARD_ISSUER_CN, patient, patients};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date")
}

#[test]
fn same_seed_and_index_give_the_same_patient() {
    let a = patient(42, 1234, today());
    let b = patient(42, 1234, today());
    assert_eq!(a, b);
    assert_eq!(a.header.id.0, "P0001234");
}

#[test]
fn random_access_matches_streaming() {
    let streamed: Vec<_> = patients(9, 50, today()).collect();
    assert_eq!(streamed.len(), 50);
    for (index, p) in streamed.iter().enumerate() {
        assert_eq!(*p, patient(9, index as u64, today()), "patient {index}");
    }
    assert_eq!(
        patients(9, 50, today()).nth(37),
        Some(patient(9, 37, today()))
    );
}

#[test]
fn different_seeds_give_different_patients() {
    let differing = (0..20)
        .filter(|&i| patient(1, i, today()) != patient(2, i, today()))
        .count();
    assert_eq!(differing, 20);
    assert_ne!(patient(1, 0, today()), patient(1, 1, today()));
}

#[test]
fn every_record_kind_appears_in_300_patients() {
    let kinds: BTreeSet<RecordKind> = patients(2026, 300, today())
        .flat_map(|p| p.records)
        .map(|r| r.kind())
        .collect();
    let all: BTreeSet<RecordKind> = RecordKind::ALL.into_iter().collect();
    assert_eq!(kinds, all);
}

#[test]
fn elderly_share_matches_the_pilot() {
    let n = 5_000;
    let elderly = patients(11, n, today())
        .filter(|p| p.header.age_on(today()) >= 65)
        .count();
    let share = elderly as f64 / n as f64 * 100.0;
    assert!((share - 62.6).abs() <= 5.0, "elderly share {share:.1}%");
}

#[test]
fn ages_and_sexes_are_plausible() {
    let all: Vec<_> = patients(5, 2_000, today()).collect();
    assert!(all.iter().all(|p| p.header.age_on(today()) <= 100));
    let female = all
        .iter()
        .filter(|p| p.header.sex == myna_domain::identity::Sex::Female)
        .count();
    assert!((800..=1200).contains(&female), "{female} women of 2000");
}

#[test]
fn card_serials_are_unique_and_well_formed() {
    let mut seen = HashSet::new();
    let mut cards = 0;
    let mut expired = 0;
    for p in patients(77, 10_000, today()) {
        let Some(card) = p.card else { continue };
        cards += 1;
        assert_eq!(card.serial.len(), 8);
        assert!((0x01..=0x7f).contains(&card.serial[0]));
        assert_eq!(card.serial_hex().len(), 16);
        assert!(seen.insert(card.serial_hex()), "duplicate serial");
        assert!(card.not_before <= today() && card.not_before < card.not_after);
        assert!(card.not_before >= p.header.birth_date);
        expired += usize::from(card.not_after < today());
    }
    assert!((9_000..=9_600).contains(&cards), "{cards} cards of 10000");
    assert!(
        (100..=350).contains(&expired),
        "{expired} expired of {cards}"
    );
    assert!(!CARD_ISSUER_CN.is_empty());
}

#[test]
fn serial_is_unique_by_construction_across_indices() {
    let serials: HashSet<Vec<u8>> = (0..200_000).map(|i| crate::card::serial(3, i)).collect();
    assert_eq!(serials.len(), 200_000);
}

#[test]
fn records_are_dated_between_birth_and_today() {
    for p in patients(3, 1_000, today()) {
        for r in &p.records {
            assert!(r.date() <= today(), "{} {:?}", p.header.id, r);
            assert!(r.date() >= p.header.birth_date, "{} {:?}", p.header.id, r);
        }
        assert!(p.records.windows(2).all(|w| w[0].date() <= w[1].date()));
    }
}

#[test]
fn every_lab_quantity_has_a_unit_and_a_reference_range() {
    let mut quantities = 0;
    for p in patients(4, 500, today()) {
        for r in &p.records {
            let MedicalRecord::LabResult(lab) = r else {
                continue;
            };
            match &lab.value {
                LabValue::Quantity {
                    unit, reference, ..
                } => {
                    quantities += 1;
                    assert!(!unit.is_empty(), "{:?}", lab.analyte);
                    assert!(reference.low.is_some() || reference.high.is_some());
                }
                LabValue::Text { text } => {
                    let allowed: &[&str] = match lab.analyte {
                        Analyte::AboBloodGroup => &["A", "B", "O", "AB"],
                        Analyte::RhBloodGroup => &["Rh+", "Rh-"],
                        other => panic!("text value for {other:?}"),
                    };
                    assert!(allowed.contains(&text.as_str()), "{text}");
                }
            }
        }
    }
    assert!(quantities > 1_000);
}

#[test]
fn record_counts_stay_modest() {
    let n = 2_000;
    let counts: Vec<usize> = patients(8, n, today()).map(|p| p.records.len()).collect();
    let mean = counts.iter().sum::<usize>() as f64 / n as f64;
    assert!((8.0..=35.0).contains(&mean), "mean {mean:.1} records");
    let within = counts.iter().filter(|c| (5..=40).contains(*c)).count();
    assert!(
        within as f64 / n as f64 > 0.85,
        "{within} of {n} within 5..=40"
    );
    assert!(
        counts.iter().all(|c| *c <= 80),
        "max {:?}",
        counts.iter().max()
    );
}

#[test]
fn prescriptions_are_recent_e_prescriptions() {
    for p in patients(6, 500, today()) {
        for r in &p.records {
            if let MedicalRecord::Prescription(m) = r {
                assert_eq!(m.source, RecordSource::EPrescription);
                assert!((today() - m.date).num_days() <= 100);
            }
            if let MedicalRecord::DrugInformation(m) = r {
                assert_eq!(m.source, RecordSource::Claims);
            }
        }
    }
}

#[test]
fn some_patients_have_duplicate_medication_from_two_institutions() {
    let n = 2_000;
    let duplicated = patients(12, n, today())
        .filter(|p| {
            let dispensed: Vec<_> = p
                .records
                .iter()
                .filter_map(|r| match r {
                    MedicalRecord::DrugInformation(m) => Some(m),
                    _ => None,
                })
                .collect();
            dispensed.iter().any(|a| {
                dispensed
                    .iter()
                    .any(|b| a.ingredient == b.ingredient && a.institution != b.institution)
            })
        })
        .count();
    let share = duplicated as f64 / n as f64 * 100.0;
    assert!((1.0..=8.0).contains(&share), "duplicate share {share:.1}%");
}

#[test]
fn infections_are_mostly_negative() {
    let mut tests = 0;
    let mut positive_hbs = 0;
    for p in patients(13, 5_000, today()) {
        for r in &p.records {
            if let MedicalRecord::Infection(i) = r {
                tests += 1;
                if i.marker == InfectionMarker::HbsAntigen
                    && i.result == QualitativeResult::Positive
                {
                    positive_hbs += 1;
                }
            }
        }
    }
    assert!(tests > 1_000, "{tests} infection tests");
    assert!(
        positive_hbs > 0 && positive_hbs * 20 < tests,
        "{positive_hbs} of {tests}"
    );
}

#[test]
fn tables_are_non_empty() {
    use crate::{allergies as al, conditions as co, labs as la, names as na};
    assert!(!na::FAMILY_NAMES.is_empty() && !na::AREAS.is_empty());
    assert!(na::AREAS.iter().all(|a| !a.towns.is_empty()));
    assert!(
        na::GIVEN_NAMES
            .iter()
            .all(|g| !g.1.is_empty() && !g.2.is_empty())
    );
    for c in co::CONDITIONS.iter().chain(co::INFECTION_CONDITIONS) {
        assert!(
            c.regimens.iter().all(|r| !r.options.is_empty()),
            "{}",
            c.icd10
        );
        assert!(
            c.prevalence.iter().all(|p| (0.0..=1.0).contains(p)),
            "{}",
            c.icd10
        );
    }
    assert!(!al::DRUG_ALLERGIES.is_empty() && !al::OTHER_ALLERGIES_CHILD.is_empty());
    assert!(!la::LAB_SPECS.is_empty());
}

/// Patients of `n` with a contraindication warning, and those with the NSAID +
/// anticoagulant one, by the domain's own rules on each patient's emergency summary.
fn contraindicated_patients(seed: u64, n: u64) -> (usize, usize) {
    use myna_domain::summary::{ContraindicationReason, EmergencySummary, MedicationWarning};
    let now = today().and_hms_opt(12, 0, 0).expect("valid time").and_utc();
    let (mut any, mut bleeding) = (0, 0);
    for p in patients(seed, n, today()) {
        let summary = EmergencySummary::assemble(p.header, p.records, now);
        let reasons: Vec<_> = summary
            .medication_warnings(today())
            .into_iter()
            .filter_map(|w| match w {
                MedicationWarning::Contraindication { against, .. } => Some(against),
                MedicationWarning::Duplicate { .. } => None,
            })
            .collect();
        any += usize::from(!reasons.is_empty());
        bleeding += usize::from(
            reasons
                .iter()
                .any(|r| matches!(r, ContraindicationReason::Medication { .. })),
        );
    }
    (any, bleeding)
}

#[test]
fn a_plausible_share_of_patients_has_a_contraindication_warning() {
    let n = 3_000;
    let (any, bleeding) = contraindicated_patients(21, n);
    let share = |k: usize| k as f64 / n as f64 * 100.0;
    // Metformin with a low eGFR and penicillin allergies come from the conditions and
    // allergy tables; the NSAID + anticoagulant case is generated on purpose.
    assert!(
        (0.5..=5.0).contains(&share(any)),
        "{any} of {n} patients with a contraindication"
    );
    assert!(
        (0.3..=3.0).contains(&share(bleeding)),
        "{bleeding} of {n} patients with an NSAID and an anticoagulant"
    );
}

/// Whether `p` has a diagnosis with ICD-10 code `code`.
fn diagnosed(p: &crate::SyntheticPatient, code: &str) -> bool {
    p.records
        .iter()
        .any(|r| matches!(r, MedicalRecord::Diagnosis(d) if d.icd10 == code))
}

/// Whether `p` was ever dispensed or prescribed a drug of `class`.
fn takes(p: &crate::SyntheticPatient, class: DrugClass) -> bool {
    p.records.iter().any(|r| {
        matches!(r, MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) if m.class == class)
    })
}

#[test]
fn chronic_conditions_come_with_their_drugs() {
    let all: Vec<_> = patients(22, 3_000, today()).collect();
    let share_treated = |code: &str, class: DrugClass| {
        let diagnosed: Vec<_> = all.iter().filter(|p| diagnosed(p, code)).collect();
        assert!(
            diagnosed.len() >= 30,
            "only {} with {code}",
            diagnosed.len()
        );
        let treated = diagnosed.iter().filter(|p| takes(p, class)).count();
        treated as f64 / diagnosed.len() as f64
    };
    let diabetes = share_treated("E11", DrugClass::GlucoseLowering);
    assert!(
        diabetes >= 0.8,
        "{diabetes:.2} of E11 patients on a glucose-lowering drug"
    );
    let af = share_treated("I48", DrugClass::Anticoagulant);
    assert!(af >= 0.75, "{af:.2} of I48 patients on an anticoagulant");
    // And no anticoagulant without an indication (atrial fibrillation or a thrombosis).
    for p in all.iter().filter(|p| takes(p, DrugClass::Anticoagulant)) {
        assert!(
            diagnosed(p, "I48") || diagnosed(p, "I80.2"),
            "{} takes an anticoagulant without an indication",
            p.header.id
        );
    }
}
