//! Each rule firing and not firing, as data: records in, one-line descriptions out.

use chrono::{Days, NaiveDate, TimeZone, Utc};

use super::*;
use crate::identity::{PatientId, Sex};
use crate::records::{
    AllergySeverity, DrugClass, LabResult, LabValue, RecordSource, ReferenceRange,
};
use crate::summary::PatientHeader;

use DrugClass::{Anticoagulant, Antiplatelet, GlucoseLowering, Other};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// A 28-day supply dated `ago` days before today.
fn med(drug: &str, ingredient: &str, class: DrugClass, ago: u64, institution: &str) -> Medication {
    Medication {
        drug: drug.into(),
        ingredient: ingredient.into(),
        class,
        dosage: "1 tablet once daily".into(),
        days_supplied: 28,
        date: days_ago(ago),
        institution: institution.into(),
        source: RecordSource::Claims,
    }
}

fn dispensed(m: Medication) -> MedicalRecord {
    MedicalRecord::DrugInformation(m)
}

fn prescribed(m: Medication) -> MedicalRecord {
    MedicalRecord::Prescription(Medication {
        source: RecordSource::EPrescription,
        ..m
    })
}

fn drug_allergy(substance: &str) -> MedicalRecord {
    MedicalRecord::DrugAllergy(Allergy {
        substance: substance.into(),
        reaction: "anaphylaxis".into(),
        severity: AllergySeverity::Severe,
        recorded_on: NaiveDate::from_ymd_opt(2024, 2, 2).unwrap(),
    })
}

fn creatinine(value: f64, unit: &str, ago: u64) -> MedicalRecord {
    MedicalRecord::LabResult(LabResult {
        analyte: Analyte::Creatinine,
        value: LabValue::Quantity {
            value,
            unit: unit.into(),
            reference: ReferenceRange {
                low: Some(0.65),
                high: Some(1.07),
            },
        },
        observed_on: days_ago(ago),
    })
}

/// A man born 1940-06-15: 86 years old at every creatinine date used here.
fn summary(records: Vec<MedicalRecord>) -> EmergencySummary {
    EmergencySummary {
        patient: PatientHeader {
            id: PatientId("P1".into()),
            name: "Test".into(),
            birth_date: NaiveDate::from_ymd_opt(1940, 6, 15).unwrap(),
            sex: Sex::Male,
        },
        records,
        assembled_at: Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap(),
    }
}

/// One short line per warning, for comparing whole results.
fn describe(w: &MedicationWarning<'_>) -> String {
    match w {
        MedicationWarning::Duplicate { basis, medications } => {
            let basis = match basis {
                DuplicateBasis::Ingredient(name) => name.clone(),
                DuplicateBasis::Group(g) => g.label().1.to_string(),
            };
            let list: Vec<_> = medications
                .iter()
                .map(|m| format!("{}@{}", m.drug, m.institution))
                .collect();
            format!("duplicate {basis}: {}", list.join(", "))
        }
        MedicationWarning::Contraindication {
            medication,
            against,
        } => {
            let reason = match against {
                ContraindicationReason::Medication { other, .. } => format!("with {}", other.drug),
                ContraindicationReason::DrugAllergy(a) => format!("allergy {}", a.substance),
                ContraindicationReason::RenalImpairment { egfr, .. } => format!("eGFR {egfr:.0}"),
            };
            format!("contraindication {}: {reason}", medication.drug)
        }
    }
}

#[track_caller]
fn check(records: Vec<MedicalRecord>, expected: &[&str]) {
    let s = summary(records);
    let actual: Vec<String> = s
        .medication_warnings(today())
        .iter()
        .map(describe)
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn same_ingredient_from_two_pharmacies_is_a_duplicate() {
    check(
        vec![
            dispensed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                20,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Amlodipine 5 mg",
                "Amlodipine ",
                Other,
                10,
                "Keyaki Pharmacy",
            )),
        ],
        &["duplicate amlodipine: Amlodipine 5 mg@Keyaki Pharmacy, Norvasc 5 mg@Sakura Pharmacy"],
    );
}

#[test]
fn same_ingredient_from_two_prescribers_names_the_prescribers_once() {
    check(
        vec![
            dispensed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                20,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Amlodipine 5 mg",
                "amlodipine",
                Other,
                10,
                "Keyaki Pharmacy",
            )),
            prescribed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                20,
                "Meguro Clinic",
            )),
            prescribed(med(
                "Amlodipine 5 mg",
                "amlodipine",
                Other,
                10,
                "Setagaya Clinic",
            )),
        ],
        &["duplicate amlodipine: Amlodipine 5 mg@Setagaya Clinic, Norvasc 5 mg@Meguro Clinic"],
    );
}

#[test]
fn a_prescription_with_its_dispensing_and_refills_is_not_a_duplicate() {
    check(
        vec![
            prescribed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                10,
                "Meguro Clinic",
            )),
            dispensed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                10,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                30,
                "Sakura Pharmacy",
            )),
        ],
        &[],
    );
}

#[test]
fn one_medication_alone_is_never_a_warning() {
    for m in [
        med("Warfarin 1 mg", "warfarin", Anticoagulant, 5, "A"),
        med("Loxonin 60 mg", "loxoprofen", Other, 5, "A"),
        med("Metgluco 250 mg", "metformin", GlucoseLowering, 5, "A"),
    ] {
        check(vec![dispensed(m)], &[]);
    }
}

#[test]
fn only_medications_within_the_window_are_current() {
    // 101 days old, with a supply long enough to overlap: outside the window all the same.
    let old = |ago| Medication {
        days_supplied: 120,
        ..med("Norvasc 5 mg", "amlodipine", Other, ago, "Sakura Pharmacy")
    };
    let new = || {
        dispensed(med(
            "Amlodipine 5 mg",
            "amlodipine",
            Other,
            5,
            "Keyaki Pharmacy",
        ))
    };
    check(vec![dispensed(old(101)), new()], &[]);
    check(
        vec![dispensed(old(100)), new()],
        &["duplicate amlodipine: Amlodipine 5 mg@Keyaki Pharmacy, Norvasc 5 mg@Sakura Pharmacy"],
    );
    // An old NSAID next to a current anticoagulant does not warn either.
    check(
        vec![
            dispensed(med("Warfarin 1 mg", "warfarin", Anticoagulant, 5, "A")),
            dispensed(med("Loxonin 60 mg", "loxoprofen", Other, 150, "B")),
        ],
        &[],
    );
}

#[test]
fn a_change_of_pharmacy_without_overlap_is_not_a_duplicate() {
    check(
        vec![
            dispensed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                60,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Norvasc 5 mg",
                "amlodipine",
                Other,
                20,
                "Keyaki Pharmacy",
            )),
        ],
        &[],
    );
}

#[test]
fn two_anticoagulants_are_a_duplicate_but_a_switch_is_not() {
    check(
        vec![
            dispensed(med(
                "Warfarin 1 mg",
                "warfarin",
                Anticoagulant,
                20,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Eliquis 5 mg",
                "apixaban",
                Anticoagulant,
                10,
                "Sakura Pharmacy",
            )),
            prescribed(med(
                "Eliquis 5 mg",
                "apixaban",
                Anticoagulant,
                10,
                "Meguro Clinic",
            )),
        ],
        &["duplicate anticoagulant: Eliquis 5 mg@Sakura Pharmacy, Warfarin 1 mg@Sakura Pharmacy"],
    );
    let s = summary(vec![
        dispensed(med("Warfarin 1 mg", "warfarin", Anticoagulant, 20, "A")),
        dispensed(med("Eliquis 5 mg", "apixaban", Anticoagulant, 10, "B")),
    ]);
    let (ja, en) = s.medication_warnings(today())[0].explain();
    assert!(
        ja.starts_with("重複投薬: 抗凝固薬が 2 剤 — Eliquis 5 mg (B 2026-11-15)"),
        "{ja}"
    );
    assert!(
        en.starts_with("DUPLICATE: 2 different anticoagulants — Eliquis"),
        "{en}"
    );
    check(
        vec![
            dispensed(med(
                "Warfarin 1 mg",
                "warfarin",
                Anticoagulant,
                60,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Eliquis 5 mg",
                "apixaban",
                Anticoagulant,
                10,
                "Sakura Pharmacy",
            )),
        ],
        &[],
    );
}

#[test]
fn dual_antiplatelet_therapy_is_deliberate_but_the_same_antiplatelet_twice_is_not() {
    let aspirin = |institution| {
        med(
            "Bayaspirin 100 mg",
            "aspirin",
            Antiplatelet,
            10,
            institution,
        )
    };
    let clopidogrel = med(
        "Plavix 75 mg",
        "clopidogrel",
        Antiplatelet,
        10,
        "Sakura Pharmacy",
    );
    check(
        vec![
            dispensed(aspirin("Sakura Pharmacy")),
            dispensed(clopidogrel),
        ],
        &[],
    );
    check(
        vec![
            dispensed(aspirin("Sakura Pharmacy")),
            dispensed(aspirin("Keyaki Pharmacy")),
        ],
        &[
            "duplicate aspirin: Bayaspirin 100 mg@Sakura Pharmacy, Bayaspirin 100 mg@Keyaki Pharmacy",
        ],
    );
}

#[test]
fn two_nsaids_are_a_duplicate() {
    check(
        vec![
            dispensed(med(
                "Loxonin 60 mg",
                "loxoprofen",
                Other,
                10,
                "Sakura Pharmacy",
            )),
            dispensed(med(
                "Celecox 100 mg",
                "celecoxib",
                Other,
                5,
                "Keyaki Pharmacy",
            )),
        ],
        &["duplicate NSAID: Celecox 100 mg@Keyaki Pharmacy, Loxonin 60 mg@Sakura Pharmacy"],
    );
}

#[test]
fn an_nsaid_with_an_anticoagulant_is_contraindicated() {
    let warfarin = || dispensed(med("Warfarin 1 mg", "warfarin", Anticoagulant, 10, "A"));
    check(
        vec![
            warfarin(),
            dispensed(med("Loxonin 60 mg", "loxoprofen", Other, 5, "B")),
        ],
        &["contraindication Loxonin 60 mg: with Warfarin 1 mg"],
    );
    // Not an NSAID here: acetaminophen, and low-dose aspirin (an antiplatelet).
    check(
        vec![
            warfarin(),
            dispensed(med("Calonal 200 mg", "acetaminophen", Other, 5, "B")),
            dispensed(med("Bayaspirin 100 mg", "aspirin", Antiplatelet, 5, "B")),
        ],
        &[],
    );
    // An NSAID without an anticoagulant.
    check(
        vec![
            dispensed(med("Plavix 75 mg", "clopidogrel", Antiplatelet, 10, "A")),
            dispensed(med("Loxonin 60 mg", "loxoprofen", Other, 5, "B")),
        ],
        &[],
    );
}

#[test]
fn a_recorded_drug_allergy_contraindicates_the_drug_or_its_group() {
    let augmentin = || {
        dispensed(med(
            "Augmentin 250RS",
            "amoxicillin/clavulanate",
            Other,
            5,
            "A",
        ))
    };
    check(
        vec![drug_allergy("Penicillin"), augmentin()],
        &["contraindication Augmentin 250RS: allergy Penicillin"],
    );
    check(
        vec![drug_allergy("ペニシリン系抗菌薬"), augmentin()],
        &["contraindication Augmentin 250RS: allergy ペニシリン系抗菌薬"],
    );
    check(
        vec![drug_allergy("Amoxicillin"), augmentin()],
        &["contraindication Augmentin 250RS: allergy Amoxicillin"],
    );
    check(
        vec![
            drug_allergy("Loxonin"),
            dispensed(med("Loxonin 60 mg", "loxoprofen", Other, 5, "A")),
        ],
        &["contraindication Loxonin 60 mg: allergy Loxonin"],
    );
    // Another antibiotic; a penicillin allergy recorded as a non-drug allergy.
    check(
        vec![
            drug_allergy("Penicillin"),
            dispensed(med("Cravit 500 mg", "levofloxacin", Other, 5, "A")),
        ],
        &[],
    );
    let other = MedicalRecord::OtherAllergy(Allergy {
        substance: "penicillin".into(),
        reaction: "rash".into(),
        severity: AllergySeverity::Mild,
        recorded_on: days_ago(400),
    });
    check(vec![other, augmentin()], &[]);
}

#[test]
fn metformin_with_egfr_below_30_is_contraindicated() {
    let metformin = || dispensed(med("Metgluco 250 mg", "metformin", GlucoseLowering, 5, "A"));
    check(
        vec![metformin(), creatinine(2.1, "mg/dL", 30)],
        &["contraindication Metgluco 250 mg: eGFR 24"],
    );
    check(
        vec![metformin(), creatinine(186.0, "µmol/L", 30)],
        &["contraindication Metgluco 250 mg: eGFR 24"],
    );
    // Moderate impairment; the newest result wins; an unknown unit is not guessed.
    check(vec![metformin(), creatinine(1.0, "mg/dL", 30)], &[]);
    check(
        vec![
            metformin(),
            creatinine(1.0, "mg/dL", 10),
            creatinine(2.1, "mg/dL", 200),
        ],
        &[],
    );
    check(vec![metformin(), creatinine(2.1, "mmol/L", 30)], &[]);
    // Low eGFR without a biguanide.
    check(
        vec![
            dispensed(med("Januvia 50 mg", "sitagliptin", GlucoseLowering, 5, "A")),
            creatinine(2.1, "mg/dL", 30),
        ],
        &[],
    );
}

#[test]
fn egfr_follows_the_jsn_equation() {
    let male = egfr_jsn(1.0, 60, Sex::Male).unwrap();
    assert!((male - 59.9).abs() < 0.1, "{male}");
    let female = egfr_jsn(1.0, 60, Sex::Female).unwrap();
    assert!((female - 44.3).abs() < 0.1, "{female}");
    assert_eq!(egfr_jsn(1.0, 60, Sex::NotApplicable), Some(female));
    assert_eq!(egfr_jsn(1.0, 17, Sex::Male), None);
    assert_eq!(egfr_jsn(0.0, 60, Sex::Male), None);
}

#[test]
fn contraindications_come_first_and_every_warning_explains_itself() {
    let s = summary(vec![
        drug_allergy("Penicillin"),
        dispensed(med(
            "Norvasc 5 mg",
            "amlodipine",
            Other,
            20,
            "Sakura Pharmacy",
        )),
        dispensed(med(
            "Amlodipine 5 mg",
            "amlodipine",
            Other,
            10,
            "Keyaki Pharmacy",
        )),
        dispensed(med(
            "Sawacillin 250 mg",
            "amoxicillin",
            Other,
            5,
            "Keyaki Pharmacy",
        )),
        dispensed(med(
            "Warfarin 1 mg",
            "warfarin",
            Anticoagulant,
            10,
            "Sakura Pharmacy",
        )),
        dispensed(med(
            "Loxonin 60 mg",
            "loxoprofen",
            Other,
            5,
            "Keyaki Pharmacy",
        )),
        dispensed(med("Metgluco 250 mg", "metformin", GlucoseLowering, 5, "A")),
        creatinine(2.1, "mg/dL", 30),
    ]);
    let warnings = s.medication_warnings(today());
    let tags: Vec<_> = warnings.iter().map(|w| w.tag().1).collect();
    assert_eq!(
        tags,
        [
            "CONTRAINDICATION",
            "CONTRAINDICATION",
            "CONTRAINDICATION",
            "DUPLICATE"
        ]
    );
    let lines: Vec<_> = warnings.iter().map(MedicationWarning::explain).collect();
    let expected = [
        (
            "禁忌: Sawacillin 250 mg — 薬剤アレルギー Penicillin (anaphylaxis) の記録あり",
            "CONTRAINDICATION: Sawacillin 250 mg — recorded drug allergy to Penicillin (anaphylaxis)",
        ),
        (
            "禁忌: Loxonin 60 mg と抗凝固薬 Warfarin 1 mg の併用 — 出血リスク増大",
            "CONTRAINDICATION: Loxonin 60 mg with anticoagulant Warfarin 1 mg — bleeding risk",
        ),
        (
            "禁忌: Metgluco 250 mg — eGFR 24 (30 未満、クレアチニン 2.1 mg/dL 2026-10-26) 乳酸アシドーシスのリスク",
            "CONTRAINDICATION: Metgluco 250 mg — eGFR 24 (< 30; creatinine 2.1 mg/dL on 2026-10-26), lactic acidosis risk",
        ),
        (
            "重複投薬: 同一成分 amlodipine が 2 施設から — Amlodipine 5 mg (Keyaki Pharmacy 2026-11-15) / Norvasc 5 mg (Sakura Pharmacy 2026-11-05)",
            "DUPLICATE: same ingredient amlodipine from 2 institutions — Amlodipine 5 mg (Keyaki Pharmacy 2026-11-15) / Norvasc 5 mg (Sakura Pharmacy 2026-11-05)",
        ),
    ];
    for ((ja, en), (want_ja, want_en)) in lines.iter().zip(expected) {
        assert_eq!(ja, want_ja);
        assert_eq!(en, want_en);
        assert!(!ja.contains('\n') && !en.contains('\n'), "one line each");
    }
    assert_eq!(lines.len(), expected.len());
}
