//! Bilingual labels (Japanese, English) for the domain's coded values.
//!
//! Each function returns `(ja, en)`; [`bi`] renders a pair side by side. Keeping the
//! labels here lets a test check that every variant has both languages.

use maud::{Markup, html};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::identity::Sex;
use myna_domain::records::{
    AllergySeverity, Analyte, DrugClass, InfectionMarker, LabFlag, QualitativeResult, RecordKind,
    RecordSource,
};

/// A Japanese and an English label.
pub type Label = (&'static str, &'static str);

/// Renders a label pair side by side; once when both are the same text.
pub fn bi((ja, en): Label) -> Markup {
    html! {
        @if ja == en {
            span.en { (en) }
        } @else {
            span.ja lang="ja" { (ja) } " " span.en lang="en" { (en) }
        }
    }
}

/// Sex.
pub fn sex(sex: Sex) -> Label {
    match sex {
        Sex::Male => ("男性", "Male"),
        Sex::Female => ("女性", "Female"),
        Sex::NotApplicable => ("性別該当なし", "Sex N/A"),
    }
}

/// Allergy severity.
pub fn severity(severity: AllergySeverity) -> Label {
    match severity {
        AllergySeverity::Severe => ("重篤", "SEVERE"),
        AllergySeverity::Moderate => ("中等度", "Moderate"),
        AllergySeverity::Mild => ("軽度", "Mild"),
    }
}

/// Infection marker.
pub fn marker(marker: InfectionMarker) -> Label {
    match marker {
        InfectionMarker::SyphilisSts => ("梅毒 STS", "Syphilis STS"),
        InfectionMarker::SyphilisTp => ("梅毒 TP抗体", "Syphilis TP antibody"),
        InfectionMarker::HbsAntigen => ("HBs抗原", "HBs antigen (hepatitis B)"),
        InfectionMarker::HcvAntibody => ("HCV抗体", "HCV antibody (hepatitis C)"),
        InfectionMarker::Hiv => ("HIV", "HIV"),
    }
}

/// Qualitative test result.
pub fn qualitative(result: QualitativeResult) -> Label {
    match result {
        QualitativeResult::Positive => ("陽性", "POSITIVE"),
        QualitativeResult::Negative => ("陰性", "Negative"),
        QualitativeResult::Indeterminate => ("判定保留", "INDETERMINATE"),
    }
}

/// Drug class.
pub fn drug_class(class: DrugClass) -> Label {
    match class {
        DrugClass::Anticoagulant => ("抗凝固薬", "Anticoagulant"),
        DrugClass::Antiplatelet => ("抗血小板薬", "Antiplatelet"),
        DrugClass::GlucoseLowering => ("血糖降下薬", "Glucose-lowering"),
        DrugClass::Other => ("その他", "Other"),
    }
}

/// Lab analyte.
pub fn analyte(analyte: Analyte) -> Label {
    match analyte {
        Analyte::Ck => ("CK", "CK"),
        Analyte::Ast => ("AST", "AST"),
        Analyte::Alt => ("ALT", "ALT"),
        Analyte::Ldh => ("LDH", "LDH"),
        Analyte::Creatinine => ("クレアチニン", "Creatinine"),
        Analyte::Bun => ("尿素窒素", "BUN"),
        Analyte::Glucose => ("血糖", "Glucose"),
        Analyte::Hba1c => ("HbA1c", "HbA1c"),
        Analyte::Sodium => ("ナトリウム", "Sodium (Na)"),
        Analyte::Potassium => ("カリウム", "Potassium (K)"),
        Analyte::Chloride => ("クロール", "Chloride (Cl)"),
        Analyte::Calcium => ("カルシウム", "Calcium (Ca)"),
        Analyte::Wbc => ("白血球数", "WBC"),
        Analyte::Hemoglobin => ("ヘモグロビン", "Hemoglobin"),
        Analyte::Platelets => ("血小板数", "Platelets"),
        Analyte::Aptt => ("APTT", "APTT"),
        Analyte::PtInr => ("PT-INR", "PT-INR"),
        Analyte::DDimer => ("Dダイマー", "D-dimer"),
        Analyte::Bnp => ("BNP", "BNP"),
        Analyte::NtProBnp => ("NT-proBNP", "NT-proBNP"),
        Analyte::Crp => ("CRP", "CRP"),
        Analyte::AboBloodGroup => ("ABO血液型", "ABO blood group"),
        Analyte::RhBloodGroup => ("Rh血液型", "Rh blood group"),
    }
}

/// Lab flag as a text mark (never colour alone): `H`, `L` or `N`, with Japanese.
pub fn lab_flag(flag: LabFlag) -> Label {
    match flag {
        LabFlag::High => ("高", "H"),
        LabFlag::Low => ("低", "L"),
        LabFlag::Normal => ("基準内", "N"),
    }
}

/// Record kind.
pub fn record_kind(kind: RecordKind) -> Label {
    match kind {
        RecordKind::DrugInformation => ("薬剤情報", "Dispensed drug"),
        RecordKind::Prescription => ("処方", "Prescription"),
        RecordKind::Visit => ("受診歴", "Visit"),
        RecordKind::Diagnosis => ("傷病名", "Diagnosis"),
        RecordKind::Surgery => ("手術", "Surgery"),
        RecordKind::Checkup => ("特定健診", "Health checkup"),
        RecordKind::DrugAllergy => ("薬剤アレルギー", "Drug allergy"),
        RecordKind::OtherAllergy => ("その他アレルギー", "Other allergy"),
        RecordKind::Infection => ("感染症", "Infection"),
        RecordKind::LabResult => ("検査結果", "Lab result"),
    }
}

/// Record source (provenance).
pub fn record_source(source: RecordSource) -> Label {
    match source {
        RecordSource::Claims => ("レセプト", "Claims"),
        RecordSource::EPrescription => ("電子処方箋", "e-Prescription"),
        RecordSource::EhrSharing => ("電子カルテ共有", "EHR sharing"),
        RecordSource::Checkup => ("特定健診", "Checkup data"),
    }
}

/// Consent state.
pub fn consent(state: &ConsentState) -> Label {
    match state {
        ConsentState::Given => ("同意あり", "Consent given"),
        ConsentState::Refused => ("同意拒否", "Consent refused"),
        ConsentState::Difficult { .. } => ("同意取得困難", "Consent difficult"),
    }
}

/// Why consent was difficult; `None` for a free-text reason (shown as written).
pub fn difficulty(reason: &DifficultyReason) -> Option<Label> {
    match reason {
        DifficultyReason::Unconscious => Some(("意識障害", "unconscious")),
        DifficultyReason::SeverePain => Some(("激痛", "severe pain")),
        DifficultyReason::CannotCommunicate => Some(("意思疎通困難", "cannot communicate")),
        DifficultyReason::Other(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_kind_has_both_languages() {
        for kind in RecordKind::ALL {
            let (ja, en) = record_kind(kind);
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{kind:?}");
        }
    }

    #[test]
    fn bi_renders_a_shared_label_once() {
        assert_eq!(
            bi(("HIV", "HIV")).into_string(),
            r#"<span class="en">HIV</span>"#
        );
        assert!(bi(("陽性", "POSITIVE")).into_string().contains("陽性"));
    }
}
