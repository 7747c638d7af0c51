//! The alerts block: what changes treatment in the first minutes.
//!
//! Which records are alerts, in which order (allergies, infections, high-risk drugs one
//! line per drug, contraindications, duplicates, abnormal labs) and as of which day (the
//! JST day the summary was assembled) is decided once by the domain's
//! [`EmergencySummary::alerts`], shared with the tablet app; this module only lays each
//! alert out (lab values with unit, reference range, `H`/`L` and date; warnings naming
//! the drugs and the reason) and adds the blood type. Every line starts with a text tag
//! (`⚠ ALLERGY`, ...) so colour is never the only signal.

use maud::{Markup, html};
use myna_domain::records::{LabResult, LabValue, Medication, ReferenceRange};
use myna_domain::summary::{
    Alert, AlertKind, AlertSource, ContraindicationReason, DuplicateBasis, EmergencySummary,
    MedicationWarning,
};

use super::labels::{self, bi};

/// `3.5–5`, `≤ 5`, `≥ 3.5` or `—`.
pub fn reference_range(range: &ReferenceRange) -> String {
    range.to_string()
}

/// A lab value with its unit, flag and reference range.
pub fn lab_value(lab: &LabResult) -> Markup {
    html! {
        @match &lab.value {
            LabValue::Quantity { value, unit, reference } => {
                strong { (value) " " (unit) }
                @if let Some(flag) = lab.flag() {
                    " " span.flag { (labels::lab_flag(flag).1) " " span lang="ja" { (labels::lab_flag(flag).0) } }
                }
                " " span.label { "基準 ref " } (reference_range(reference))
            }
            LabValue::Text { text } => { strong { (text) } }
        }
    }
}

/// `Drug (institution date)`, the drug name in bold.
fn medication_source(m: &Medication) -> Markup {
    html! {
        strong { (m.drug) } " (" (m.institution) " " span.date { (m.date) } ")"
    }
}

/// One medication warning as an alert line: tag, drugs, reason.
pub fn medication_warning(warning: &MedicationWarning<'_>) -> Markup {
    let (tag_ja, tag_en) = warning.tag();
    html! {
        @match warning {
            MedicationWarning::Duplicate { basis, medications } => li.duplicate {
                span.tag { "⚠ " (tag_ja) " " (tag_en) }
                @match basis {
                    DuplicateBasis::Ingredient(name) => {
                        span.label { "同一成分 Same ingredient: " } strong { (name) }
                        " — " (medications.len()) " 施設 institutions: "
                    }
                    DuplicateBasis::Group(group) => {
                        span.label { "同効薬 Same class: " } (bi(group.label()))
                        " ×" (medications.len()) ": "
                    }
                }
                @for (i, m) in medications.iter().enumerate() {
                    @if i > 0 { " + " }
                    (medication_source(m))
                }
            },
            MedicationWarning::Contraindication { medication, against } => li.contraindication {
                span.tag { "⚠ " (tag_ja) " " (tag_en) }
                (medication_source(medication)) " — "
                @match against {
                    ContraindicationReason::Medication { other, group, risk } => {
                        span.label { "併用 With " } (bi(group.label())) ": "
                        (medication_source(other)) " → " (bi(risk.label()))
                    }
                    ContraindicationReason::DrugAllergy(allergy) => {
                        span.label { "薬剤アレルギー Drug allergy: " }
                        strong { (allergy.substance) } " (" (allergy.reaction) ")"
                    }
                    ContraindicationReason::RenalImpairment { egfr, creatinine_mg_dl, observed_on, risk } => {
                        span.label { "重度腎機能障害 Severe renal impairment: " }
                        "eGFR " strong { (format!("{egfr:.0}")) }
                        " (" span.label { "クレアチニン Creatinine " } (creatinine_mg_dl) " mg/dL "
                        span.date { (observed_on) } ") → " (bi(risk.label()))
                    }
                }
            },
        }
    }
}

/// One alert as a list item, its tag first.
fn alert_item(alert: &Alert<'_>) -> Markup {
    let (tag_ja, tag_en) = alert.label;
    html! {
        @match &alert.source {
            AlertSource::Allergy(allergy) => li.allergy {
                span.tag { "⚠ " (tag_en) " " (tag_ja) }
                @if alert.kind == AlertKind::DrugAllergy {
                    span.label { "薬剤 Drug: " }
                } @else {
                    span.label { "その他 Other: " }
                }
                strong { (allergy.substance) }
                " — " (allergy.reaction) " ("
                (bi(labels::severity(allergy.severity)))
                ") " span.date { (allergy.recorded_on) }
            },
            AlertSource::Infection(infection) => li.infection {
                span.tag { "⚠ " (tag_en) " " (tag_ja) }
                (bi(labels::marker(infection.marker))) ": "
                strong { (bi(labels::qualitative(infection.result))) }
                " " span.date { (infection.tested_on) }
            },
            AlertSource::Medication(drug) => li.drug {
                span.tag { "⚠ " (tag_en) " " (tag_ja) }
                (bi(labels::drug_class(drug.class))) ": "
                strong { (drug.drug) } " (" (drug.ingredient) ") " (drug.dosage)
                " " span.date { (drug.date) }
            },
            AlertSource::Warning(warning) => (medication_warning(warning)),
            AlertSource::Lab(lab) => li.lab {
                span.tag { "⚠ " (tag_en) " " (tag_ja) }
                (bi(labels::analyte(lab.analyte))) ": " (lab_value(lab))
                " " span.date { (lab.observed_on) }
            },
        }
    }
}

/// The alerts block of one summary (`<section class="alerts">`).
pub fn alerts_block(summary: &EmergencySummary) -> Markup {
    let alerts = summary.alerts(summary.assembled_on());
    let blood_type = summary.blood_type();
    html! {
        section.alerts aria-label="Alerts" {
            h3 { "⚠ " span.ja lang="ja" { "警告" } " " span.en { "ALERTS" } }
            ul {
                @for alert in &alerts {
                    (alert_item(alert))
                }
            }
            @if alerts.is_empty() {
                p.no-alerts {
                    span.ja lang="ja" { "共有された記録に警告事項なし" } " "
                    span.en { "No alerts in the shared records" }
                }
            }
            p.blood {
                span.label { "血液型 Blood type: " }
                @match &blood_type {
                    Some(t) => strong { (t) },
                    None => span { "不明 unknown" },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn alerts_show_allergy_infection_drug_lab_and_blood_type() {
        let html = alerts_block(&fixtures::summary()).into_string();
        for expected in [
            "⚠ ALLERGY",
            "Penicillin",
            "anaphylaxis",
            "SEVERE",
            "HBs antigen",
            "POSITIVE",
            "Warfarin",
            "Anticoagulant",
            "Potassium (K)",
            "6.2 mmol/L",
            ">H ",
            "3.5–5",
            "2026-09-09",
            "A Rh+",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        // Not alerts: a negative test, a low-risk drug, a normal or text lab.
        for absent in [
            "HCV",
            "Amlodipine",
            "No alerts",
            "DUPLICATE",
            "CONTRAINDICATION",
        ] {
            assert!(!html.contains(absent), "{absent:?} should not be an alert");
        }
    }

    #[test]
    fn medication_warnings_are_tagged_and_name_the_drugs_and_the_reason() {
        let html = alerts_block(&fixtures::summary_with_medication_warnings()).into_string();
        for expected in [
            "⚠ 禁忌 CONTRAINDICATION",
            "⚠ 重複投薬 DUPLICATE",
            // NSAID with warfarin.
            "Loxonin 60 mg tablet",
            "Warfarin",
            "出血リスク増大",
            "bleeding risk",
            // Penicillin despite the allergy.
            "Sawacillin 250 mg capsule",
            "Drug allergy: </span><strong>Penicillin</strong>",
            // Furosemide from two pharmacies.
            "Same ingredient: </span><strong>furosemide</strong>",
            "Lasix 20 mg tablet",
            "Furosemide 20 mg tablet",
            "Keyaki Pharmacy",
        ] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        assert_eq!(html.matches("⚠ 禁忌 CONTRAINDICATION").count(), 2, "{html}");
        assert_eq!(html.matches("⚠ 重複投薬 DUPLICATE").count(), 1, "{html}");
        // After the high-risk drugs, before the labs.
        let at = |needle: &str| html.find(needle).unwrap();
        assert!(at("⚠ HIGH-RISK DRUG") < at("⚠ 禁忌 CONTRAINDICATION"));
        assert!(at("⚠ 重複投薬 DUPLICATE") < at("⚠ LAB"));
    }

    #[test]
    fn an_empty_summary_says_so_explicitly() {
        let mut summary = fixtures::summary();
        summary.records.clear();
        let html = alerts_block(&summary).into_string();
        assert!(html.contains("No alerts in the shared records"));
        assert!(html.contains("不明 unknown"));
    }

    #[test]
    fn reference_ranges() {
        let r = |low, high| reference_range(&ReferenceRange { low, high });
        assert_eq!(r(Some(3.5), Some(5.0)), "3.5–5");
        assert_eq!(r(None, Some(0.3)), "≤ 0.3");
        assert_eq!(r(Some(60.0), None), "≥ 60");
        assert_eq!(r(None, None), "—");
    }
}
