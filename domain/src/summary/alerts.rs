//! The alert list (警告): what changes treatment in the first minutes, computed once as
//! data for every screen (the tablet app, the ER dashboard, any later one), which only
//! lays it out.
//!
//! # Order
//! 1. allergies, drug (薬剤) and other (その他), as the records are ordered;
//! 2. infections whose result is positive or indeterminate;
//! 3. high-risk drugs (anticoagulant, antiplatelet, glucose-lowering), newest first,
//!    **one alert per drug name** (a refill of the same drug is not a second alert);
//! 4. medication warnings on the given day: contraindications (禁忌), then duplicate
//!    medication (重複投薬), see [`super::warnings`];
//! 5. lab results outside their reference range.
//!
//! The blood type is not an alert: screens show it on its own, known or not
//! ([`EmergencySummary::blood_type`]).

use std::collections::HashSet;

use chrono::NaiveDate;

use super::emergency::EmergencySummary;
use super::warnings::{DuplicateBasis, MedicationWarning};
use crate::labels::{self, Label};
use crate::records::{Allergy, AllergySeverity, InfectionResult, LabResult, LabValue, Medication};

/// What an alert is about: a screen styles an alert by it, never by parsing its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AlertKind {
    /// A drug allergy (薬剤アレルギー).
    DrugAllergy,
    /// Any other allergy: food, latex, … (その他アレルギー).
    OtherAllergy,
    /// A positive or indeterminate infection test (感染症).
    Infection,
    /// A current or past drug in a high-risk class (要注意薬).
    HighRiskDrug,
    /// A current medication the patient should not take (禁忌): with another drug, a drug
    /// allergy or severe renal impairment.
    Contraindication,
    /// The same ingredient from two institutions, or two drugs of a group where two at
    /// once is dangerous (重複投薬).
    DuplicateMedication,
    /// A lab result outside its reference range (検査異常).
    AbnormalLab,
}

impl AlertKind {
    /// Every kind, in the order alerts are listed.
    pub const ALL: [AlertKind; 7] = [
        AlertKind::DrugAllergy,
        AlertKind::OtherAllergy,
        AlertKind::Infection,
        AlertKind::HighRiskDrug,
        AlertKind::Contraindication,
        AlertKind::DuplicateMedication,
        AlertKind::AbnormalLab,
    ];

    /// Stable code, e.g. `drug_allergy`, for apps that bring their own translations.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::DrugAllergy => "drug_allergy",
            AlertKind::OtherAllergy => "other_allergy",
            AlertKind::Infection => "infection",
            AlertKind::HighRiskDrug => "high_risk_drug",
            AlertKind::Contraindication => "contraindication",
            AlertKind::DuplicateMedication => "duplicate_medication",
            AlertKind::AbnormalLab => "abnormal_lab",
        }
    }

    /// The text tag a screen shows with the alert, `(ja, en)`, so colour is never the
    /// only signal: `("アレルギー", "ALLERGY")` (both allergy kinds), `("感染症",
    /// "INFECTION")`, `("要注意薬", "HIGH-RISK DRUG")`, `("禁忌", "CONTRAINDICATION")`,
    /// `("重複投薬", "DUPLICATE")`, `("検査異常", "LAB")`.
    pub fn tag(self) -> Label {
        match self {
            AlertKind::DrugAllergy | AlertKind::OtherAllergy => ("アレルギー", "ALLERGY"),
            AlertKind::Infection => ("感染症", "INFECTION"),
            AlertKind::HighRiskDrug => ("要注意薬", "HIGH-RISK DRUG"),
            AlertKind::Contraindication => ("禁忌", "CONTRAINDICATION"),
            AlertKind::DuplicateMedication => ("重複投薬", "DUPLICATE"),
            AlertKind::AbnormalLab => ("検査異常", "LAB"),
        }
    }
}

/// A text in Japanese and in English. Names as recorded (a drug, an allergen, a
/// reaction) are the same in both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Bilingual {
    /// Japanese.
    pub ja: String,
    /// English.
    pub en: String,
}

impl Bilingual {
    /// The same text in both languages (a name as recorded).
    pub fn same(text: impl Into<String>) -> Self {
        let text = text.into();
        Bilingual {
            ja: text.clone(),
            en: text,
        }
    }
}

impl From<Label> for Bilingual {
    fn from((ja, en): Label) -> Self {
        Bilingual {
            ja: ja.to_string(),
            en: en.to_string(),
        }
    }
}

/// One alert, structured so a screen styles it by kind without parsing text.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert<'a> {
    /// What the alert is about.
    pub kind: AlertKind,
    /// The recorded severity: allergies only (other records carry none).
    pub severity: Option<AllergySeverity>,
    /// The kind's text tag, [`AlertKind::tag`].
    pub label: Label,
    /// What it concerns: the allergen, the infection marker, the drug (the contraindicated
    /// drug for a contraindication; the shared ingredient or the drug group for a
    /// duplicate), the lab item.
    pub subject: Bilingual,
    /// The finding: the reaction, the test result, the dosage, the warning's drugs and
    /// reason, the lab value with its unit and `H`/`L` flag.
    pub value: Bilingual,
    /// The date of the record it comes from (a duplicate: its newest medication).
    pub date: NaiveDate,
    /// The whole alert in one line, starting with its tag, e.g.
    /// `ALLERGY (drug): penicillin — anaphylaxis (SEVERE)`.
    pub line: Bilingual,
    /// The records it was computed from, for screens that lay them out in full.
    pub source: AlertSource<'a>,
}

/// The records an alert was computed from.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertSource<'a> {
    /// A drug or other allergy.
    Allergy(&'a Allergy),
    /// An infection test.
    Infection(&'a InfectionResult),
    /// The newest record of a high-risk drug.
    Medication(&'a Medication),
    /// A contraindication or duplicate-medication warning.
    Warning(MedicationWarning<'a>),
    /// A lab result.
    Lab(&'a LabResult),
}

impl EmergencySummary {
    /// The alerts, most urgent kind first, each as data (kind, severity, labels, subject,
    /// value, date), with medication warnings as of `on`. Screens pass
    /// [`assembled_on`](Self::assembled_on): the records were cut on that day, and a
    /// summary read later must still show what held when the patient was picked up. The
    /// order and the one-alert-per-drug rule are in [`crate::summary::alerts`].
    pub fn alerts(&self, on: NaiveDate) -> Vec<Alert<'_>> {
        alerts(self, on)
    }
}

/// The alerts of `summary` in the order of the module docs; medication warnings as of
/// `on`.
fn alerts(summary: &EmergencySummary, on: NaiveDate) -> Vec<Alert<'_>> {
    let mut out = Vec::new();
    out.extend(summary.allergies().map(|(a, is_drug)| allergy(a, is_drug)));
    out.extend(summary.infection_alerts().map(infection));
    let mut seen = HashSet::new();
    out.extend(
        summary
            .high_risk_medications()
            .filter(|m| seen.insert(m.drug.as_str()))
            .map(high_risk_drug),
    );
    out.extend(summary.medication_warnings(on).into_iter().map(warning));
    out.extend(summary.abnormal_labs().map(lab));
    out
}

/// `(ja, en)` tag of `kind` followed by `: ` and the rest of the line.
fn line(kind: AlertKind, ja: String, en: String) -> Bilingual {
    let (tag_ja, tag_en) = kind.tag();
    Bilingual {
        ja: format!("{tag_ja}{ja}"),
        en: format!("{tag_en}{en}"),
    }
}

fn allergy(a: &Allergy, is_drug: bool) -> Alert<'_> {
    let (kind, which_ja, which_en) = if is_drug {
        (AlertKind::DrugAllergy, "薬剤", "drug")
    } else {
        (AlertKind::OtherAllergy, "その他", "other")
    };
    let (severity_ja, severity_en) = labels::severity(a.severity);
    Alert {
        kind,
        severity: Some(a.severity),
        label: kind.tag(),
        subject: Bilingual::same(&a.substance),
        value: Bilingual::same(&a.reaction),
        date: a.recorded_on,
        line: line(
            kind,
            format!(
                "（{which_ja}）: {} — {} ({severity_ja})",
                a.substance, a.reaction
            ),
            format!(
                " ({which_en}): {} — {} ({severity_en})",
                a.substance, a.reaction
            ),
        ),
        source: AlertSource::Allergy(a),
    }
}

fn infection(i: &InfectionResult) -> Alert<'_> {
    let kind = AlertKind::Infection;
    let marker = labels::marker(i.marker);
    let result = labels::qualitative(i.result);
    Alert {
        kind,
        severity: None,
        label: kind.tag(),
        subject: marker.into(),
        value: result.into(),
        date: i.tested_on,
        line: line(
            kind,
            format!(": {} {} ({})", marker.0, result.0, i.tested_on),
            format!(": {} {} ({})", marker.1, result.1, i.tested_on),
        ),
        source: AlertSource::Infection(i),
    }
}

fn high_risk_drug(m: &Medication) -> Alert<'_> {
    let kind = AlertKind::HighRiskDrug;
    let (class_ja, class_en) = labels::drug_class(m.class);
    let rest = format!("{} ({} {})", m.dosage, m.institution, m.date);
    Alert {
        kind,
        severity: None,
        label: kind.tag(),
        subject: Bilingual::same(&m.drug),
        value: Bilingual::same(&m.dosage),
        date: m.date,
        line: line(
            kind,
            format!(": {} ({class_ja}) — {rest}", m.drug),
            format!(": {} ({class_en}) — {rest}", m.drug),
        ),
        source: AlertSource::Medication(m),
    }
}

fn warning(w: MedicationWarning<'_>) -> Alert<'_> {
    let (kind, subject, date) = match &w {
        MedicationWarning::Contraindication { medication, .. } => (
            AlertKind::Contraindication,
            Bilingual::same(&medication.drug),
            medication.date,
        ),
        MedicationWarning::Duplicate { basis, medications } => (
            AlertKind::DuplicateMedication,
            match basis {
                DuplicateBasis::Ingredient(name) => Bilingual::same(name),
                DuplicateBasis::Group(group) => group.label().into(),
            },
            medications
                .iter()
                .map(|m| m.date)
                .max()
                .unwrap_or(NaiveDate::MIN),
        ),
    };
    let (reason_ja, reason_en) = w.reason();
    let (line_ja, line_en) = w.explain();
    Alert {
        kind,
        severity: None,
        label: kind.tag(),
        subject,
        value: Bilingual {
            ja: reason_ja,
            en: reason_en,
        },
        date,
        line: Bilingual {
            ja: line_ja,
            en: line_en,
        },
        source: AlertSource::Warning(w),
    }
}

fn lab(l: &LabResult) -> Alert<'_> {
    let kind = AlertKind::AbnormalLab;
    let analyte = labels::analyte(l.analyte);
    let (value, line_ja, line_en) = match &l.value {
        LabValue::Quantity {
            value,
            unit,
            reference,
        } => {
            let (flag_ja, flag_en) = l.flag().map(labels::lab_flag).unwrap_or(("", ""));
            let space = |flag: &str| if flag.is_empty() { "" } else { " " };
            let value = Bilingual {
                ja: format!("{value} {unit}{}{flag_ja}", space(flag_ja)),
                en: format!("{value} {unit}{}{flag_en}", space(flag_en)),
            };
            let (ja, en) = (
                format!(
                    ": {} {} (基準 {reference}) {}",
                    analyte.0, value.ja, l.observed_on
                ),
                format!(
                    ": {} {} (ref {reference}) {}",
                    analyte.1, value.en, l.observed_on
                ),
            );
            (value, ja, en)
        }
        LabValue::Text { text } => (
            Bilingual::same(text),
            format!(": {} {text} {}", analyte.0, l.observed_on),
            format!(": {} {text} {}", analyte.1, l.observed_on),
        ),
    };
    Alert {
        kind,
        severity: None,
        label: kind.tag(),
        subject: analyte.into(),
        value,
        date: l.observed_on,
        line: line(kind, line_ja, line_en),
        source: AlertSource::Lab(l),
    }
}

#[cfg(test)]
mod tests;
