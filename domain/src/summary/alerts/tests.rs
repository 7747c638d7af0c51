//! The alert list as data: records in, alerts out, in order.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::identity::{PatientId, Sex};
use crate::records::{DrugClass, InfectionMarker, MedicalRecord, QualitativeResult, RecordSource};
use crate::summary::PatientHeader;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The day the test summaries are read on.
fn today() -> NaiveDate {
    d(2026, 11, 25)
}

fn summary(records: Vec<MedicalRecord>) -> EmergencySummary {
    EmergencySummary::assemble(
        PatientHeader {
            id: PatientId("P1".into()),
            name: "Test".into(),
            birth_date: d(1940, 6, 15),
            sex: Sex::Female,
        },
        records,
        Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap(),
    )
}

fn allergy(drug: bool, substance: &str) -> MedicalRecord {
    let a = Allergy {
        substance: substance.into(),
        reaction: "anaphylaxis".into(),
        severity: AllergySeverity::Severe,
        recorded_on: d(2024, 1, 1),
    };
    if drug {
        MedicalRecord::DrugAllergy(a)
    } else {
        MedicalRecord::OtherAllergy(a)
    }
}

fn infection(marker: InfectionMarker, result: QualitativeResult) -> MedicalRecord {
    MedicalRecord::Infection(InfectionResult {
        marker,
        result,
        tested_on: d(2025, 5, 1),
    })
}

fn drug(name: &str, ingredient: &str, class: DrugClass, date: NaiveDate) -> MedicalRecord {
    MedicalRecord::DrugInformation(Medication {
        drug: name.into(),
        ingredient: ingredient.into(),
        class,
        dosage: "1 tablet once daily".into(),
        days_supplied: 28,
        date,
        institution: "Setagaya Clinic".into(),
        source: RecordSource::Claims,
    })
}

fn potassium(value: f64) -> MedicalRecord {
    MedicalRecord::LabResult(crate::fixtures::potassium(value, d(2026, 11, 20)))
}

/// The English lines of the alerts of `records` on [`today`].
fn check(records: Vec<MedicalRecord>, expected: &[&str]) {
    let summary = summary(records);
    let lines: Vec<_> = summary
        .alerts(today())
        .into_iter()
        .map(|a| a.line.en)
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn each_kind_of_alert_in_one_line() {
    use DrugClass::Anticoagulant;
    use InfectionMarker::{HbsAntigen, HcvAntibody};
    use QualitativeResult::{Indeterminate, Negative, Positive};
    let table: Vec<(Vec<MedicalRecord>, &[&str])> = vec![
        (vec![], &[]),
        (
            vec![allergy(true, "penicillin")],
            &["ALLERGY (drug): penicillin — anaphylaxis (SEVERE)"],
        ),
        (
            vec![allergy(false, "latex")],
            &["ALLERGY (other): latex — anaphylaxis (SEVERE)"],
        ),
        (
            vec![infection(HbsAntigen, Positive)],
            &["INFECTION: HBs antigen (hepatitis B) POSITIVE (2025-05-01)"],
        ),
        (
            vec![infection(HcvAntibody, Indeterminate)],
            &["INFECTION: HCV antibody (hepatitis C) INDETERMINATE (2025-05-01)"],
        ),
        (vec![infection(HcvAntibody, Negative)], &[]),
        (
            vec![drug("Warfarin", "warfarin", Anticoagulant, d(2026, 11, 1))],
            &[
                "HIGH-RISK DRUG: Warfarin (Anticoagulant) — 1 tablet once daily (Setagaya Clinic 2026-11-01)",
            ],
        ),
        (
            vec![drug(
                "Amlodipine",
                "amlodipine",
                DrugClass::Other,
                d(2026, 11, 1),
            )],
            &[],
        ),
        (
            vec![potassium(6.2)],
            &["LAB: Potassium (K) 6.2 mmol/L H (ref 3.5–5) 2026-11-20"],
        ),
        (
            vec![potassium(3.1)],
            &["LAB: Potassium (K) 3.1 mmol/L L (ref 3.5–5) 2026-11-20"],
        ),
        (vec![potassium(4.0)], &[]),
    ];
    for (records, expected) in table {
        check(records, expected);
    }
}

#[test]
fn one_alert_per_high_risk_drug_name_the_newest() {
    use DrugClass::Anticoagulant;
    check(
        vec![
            drug("Warfarin", "warfarin", Anticoagulant, d(2026, 9, 1)),
            drug("Warfarin", "warfarin", Anticoagulant, d(2026, 11, 1)),
            drug("Warfarin", "warfarin", Anticoagulant, d(2026, 10, 1)),
        ],
        &[
            "HIGH-RISK DRUG: Warfarin (Anticoagulant) — 1 tablet once daily (Setagaya Clinic 2026-11-01)",
        ],
    );
}

#[test]
fn kinds_come_in_order_whatever_the_record_order() {
    let records = vec![
        potassium(6.2),
        drug(
            "Loxonin 60 mg tablet",
            "loxoprofen",
            DrugClass::Other,
            d(2026, 11, 10),
        ),
        drug(
            "Warfarin",
            "warfarin",
            DrugClass::Anticoagulant,
            d(2026, 11, 1),
        ),
        infection(InfectionMarker::HbsAntigen, QualitativeResult::Positive),
        allergy(false, "latex"),
        allergy(true, "penicillin"),
    ];
    let kinds: Vec<_> = summary(records)
        .alerts(today())
        .iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            AlertKind::DrugAllergy,
            AlertKind::OtherAllergy,
            AlertKind::Infection,
            AlertKind::HighRiskDrug,
            AlertKind::Contraindication,
            AlertKind::AbnormalLab,
        ]
    );
}

#[test]
fn alerts_carry_kind_severity_labels_subject_value_and_date() {
    let s = summary(vec![allergy(true, "penicillin"), potassium(6.2)]);
    let alerts = s.alerts(today());
    let allergy = &alerts[0];
    assert_eq!(allergy.kind, AlertKind::DrugAllergy);
    assert_eq!(allergy.severity, Some(AllergySeverity::Severe));
    assert_eq!(allergy.label, ("アレルギー", "ALLERGY"));
    assert_eq!(allergy.subject, Bilingual::same("penicillin"));
    assert_eq!(allergy.value, Bilingual::same("anaphylaxis"));
    assert_eq!(allergy.date, d(2024, 1, 1));
    assert_eq!(
        allergy.line.ja,
        "アレルギー（薬剤）: penicillin — anaphylaxis (重篤)"
    );
    assert!(matches!(allergy.source, AlertSource::Allergy(a) if a.substance == "penicillin"));

    let lab = &alerts[1];
    assert_eq!(lab.kind, AlertKind::AbnormalLab);
    assert_eq!(lab.severity, None);
    assert_eq!(lab.label, ("検査異常", "LAB"));
    assert_eq!(lab.subject, Bilingual::from(("カリウム", "Potassium (K)")));
    assert_eq!(
        lab.value,
        Bilingual {
            ja: "6.2 mmol/L 高".into(),
            en: "6.2 mmol/L H".into()
        }
    );
    assert_eq!(lab.date, d(2026, 11, 20));
    assert_eq!(
        lab.line.ja,
        "検査異常: カリウム 6.2 mmol/L 高 (基準 3.5–5) 2026-11-20"
    );
}

#[test]
fn medication_warnings_are_alerts_as_of_the_given_day() {
    let records = vec![
        drug(
            "Warfarin",
            "warfarin",
            DrugClass::Anticoagulant,
            d(2026, 11, 1),
        ),
        drug(
            "Loxonin 60 mg tablet",
            "loxoprofen",
            DrugClass::Other,
            d(2026, 11, 10),
        ),
    ];
    let s = summary(records);
    let alerts = s.alerts(today());
    let warning = &alerts[1];
    assert_eq!(warning.kind, AlertKind::Contraindication);
    assert_eq!(warning.label, ("禁忌", "CONTRAINDICATION"));
    assert_eq!(warning.subject, Bilingual::same("Loxonin 60 mg tablet"));
    assert_eq!(warning.date, d(2026, 11, 10));
    let AlertSource::Warning(w) = &warning.source else {
        panic!("{warning:?}")
    };
    assert_eq!(warning.line.en, w.explain().1);
    assert_eq!(warning.value.en, w.reason().1);
    assert!(warning.line.en.ends_with(&warning.value.en));
    // 200 days later neither drug is current: only the high-risk drug remains.
    let later = today().checked_add_days(chrono::Days::new(200)).unwrap();
    let kinds: Vec<_> = s.alerts(later).iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [AlertKind::HighRiskDrug]);
}

#[test]
fn a_duplicate_is_dated_by_its_newest_medication() {
    let from = |institution: &str, date| {
        let MedicalRecord::DrugInformation(m) =
            drug("Lasix 20 mg tablet", "furosemide", DrugClass::Other, date)
        else {
            unreachable!()
        };
        MedicalRecord::DrugInformation(Medication {
            institution: institution.into(),
            ..m
        })
    };
    let s = summary(vec![
        from("Keyaki Pharmacy", d(2026, 11, 1)),
        from("Sakura Pharmacy", d(2026, 11, 12)),
    ]);
    let alerts = s.alerts(today());
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::DuplicateMedication);
    assert_eq!(alerts[0].subject, Bilingual::same("furosemide"));
    assert_eq!(alerts[0].date, d(2026, 11, 12));
    assert!(alerts[0].line.en.starts_with("DUPLICATE: "), "{alerts:?}");
}

#[test]
fn the_summary_is_read_on_its_jst_assembly_day() {
    let mut s = summary(vec![]);
    s.assembled_at = Utc.with_ymd_and_hms(2026, 11, 25, 15, 30, 0).unwrap();
    assert_eq!(s.assembled_on(), d(2026, 11, 26));
}

#[test]
fn kind_codes_and_tags_are_distinct_per_kind() {
    let codes: HashSet<_> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(codes.len(), AlertKind::ALL.len());
    let tags: HashSet<_> = AlertKind::ALL.iter().map(|k| k.tag()).collect();
    assert_eq!(
        tags.len(),
        AlertKind::ALL.len() - 1,
        "both allergies share a tag"
    );
}
