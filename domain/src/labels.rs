//! Bilingual labels (Japanese, English) for the domain's coded values, shared by every
//! screen (ER dashboard, patient portal) so a term is translated once.
//!
//! Each function returns `(ja, en)`.

use crate::access::{AccessAction, DenialReason, InstitutionKind, ReviewOutcome, ViewerRole};
use crate::consent::{ConsentState, DifficultyReason};
use crate::handoff::SceneKind;
use crate::identity::Sex;
use crate::records::{
    AllergySeverity, Analyte, DrugClass, InfectionMarker, LabFlag, QualitativeResult, RecordKind,
    RecordSource,
};

/// A Japanese and an English label.
pub type Label = (&'static str, &'static str);

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

/// Where the patient was found (発生場所).
pub fn scene_kind(kind: SceneKind) -> Label {
    match kind {
        SceneKind::Home => ("自宅", "Home"),
        SceneKind::CareFacility => ("介護施設・高齢者施設", "Care facility"),
        SceneKind::PublicPlace => ("公共の場所", "Public place"),
        SceneKind::Workplace => ("職場・学校", "Workplace or school"),
        SceneKind::Road => ("道路", "Road"),
        SceneKind::Other => ("その他", "Other"),
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

/// Kind of institution.
pub fn institution_kind(kind: InstitutionKind) -> Label {
    match kind {
        InstitutionKind::FireDepartment => ("消防本部", "Fire department"),
        InstitutionKind::EmergencyHospital { .. } => ("救急病院", "Emergency hospital"),
        InstitutionKind::Clinic => ("診療所", "Clinic"),
        InstitutionKind::Pharmacy => ("薬局", "Pharmacy"),
        InstitutionKind::PrivacyOffice => ("個人情報保護担当", "Privacy office"),
    }
}

/// Role of a viewer.
pub fn viewer_role(role: ViewerRole) -> Label {
    match role {
        ViewerRole::Paramedic => ("救急隊員", "Paramedic"),
        ViewerRole::ReceivingHospital => ("搬送先病院", "Receiving hospital"),
        ViewerRole::PrivacyOfficer => ("個人情報保護担当者", "Privacy officer"),
    }
}

/// What an access attempted.
pub fn access_action(action: &AccessAction) -> Label {
    match action {
        AccessAction::IdentifyPatient => ("本人確認", "Identification"),
        AccessAction::RecordConsent => ("同意確認", "Consent"),
        AccessAction::ViewSummary => ("救急サマリー閲覧", "Viewed emergency summary"),
        AccessAction::RelayToHospital { .. } => ("搬送先へ共有", "Shared with receiving hospital"),
        AccessAction::ViewOnDevice { .. } => (
            "救急隊の端末で要約を再表示",
            "Summary shown again on the ambulance tablet",
        ),
        AccessAction::ReviewAccess { .. } => (
            "個人情報保護担当による閲覧の確認",
            "Access reviewed by the privacy office",
        ),
    }
}

/// A privacy officer's finding on an access.
pub fn review_outcome(outcome: ReviewOutcome) -> Label {
    match outcome {
        ReviewOutcome::Appropriate => ("適切", "appropriate"),
        ReviewOutcome::Inappropriate => ("不適切", "inappropriate"),
        ReviewOutcome::NeedsFollowUp => ("確認継続中", "follow-up needed"),
    }
}

/// Why an access was denied.
pub fn denial_reason(reason: DenialReason) -> Label {
    match reason {
        DenialReason::UnknownPatient => ("該当者なし", "no matching patient"),
        DenialReason::CertificateInvalid => ("証明書を読めない", "card certificate unreadable"),
        DenialReason::CertificateUntrusted => (
            "証明書の発行元を確認できない",
            "card certificate not from a trusted issuer",
        ),
        DenialReason::CertificateRevoked => ("証明書は失効済み", "card certificate revoked"),
        DenialReason::CertificateNotValidNow => ("証明書の有効期限外", "card certificate expired"),
        DenialReason::ChallengeInvalid => (
            "認証要求が無効または期限切れ",
            "identification challenge invalid or expired",
        ),
        DenialReason::SignatureInvalid => ("カードの署名を確認できない", "card signature invalid"),
        DenialReason::IdentityMethodNotAccepted => {
            ("本人確認方法が不可", "identification method not accepted")
        }
        DenialReason::OutsideDeclaredDisaster => (
            "災害宣言の対象外（基本4情報）",
            "basic facts outside a declared disaster",
        ),
        DenialReason::PhotoNotConfirmed => ("顔写真が一致せず", "face photo not confirmed"),
        DenialReason::ConsentRefused => ("同意拒否", "consent refused"),
        DenialReason::ConsentNotRecorded => ("同意未確認", "consent not recorded"),
        DenialReason::ConsentReasonMissing => {
            ("同意困難の理由なし", "no reason for missing consent")
        }
        DenialReason::ConsentAlreadyRecorded => ("同意は記録済み", "consent already recorded"),
        DenialReason::OutsideScope => ("他の救急隊の事案", "another unit's incident"),
        DenialReason::IncidentNotActive => ("終了した事案", "incident no longer active"),
        DenialReason::NotEmergencyReceiving => (
            "救急告示病院ではない",
            "not an emergency-receiving hospital",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_denial_reason_has_distinct_labels_in_both_languages() {
        use DenialReason::*;
        let all = [
            UnknownPatient,
            CertificateInvalid,
            CertificateUntrusted,
            CertificateRevoked,
            CertificateNotValidNow,
            ChallengeInvalid,
            SignatureInvalid,
            IdentityMethodNotAccepted,
            OutsideDeclaredDisaster,
            PhotoNotConfirmed,
            ConsentRefused,
            ConsentNotRecorded,
            ConsentReasonMissing,
            ConsentAlreadyRecorded,
        ];
        let labels: Vec<Label> = all.iter().map(|r| denial_reason(*r)).collect();
        for (reason, (ja, en)) in all.iter().zip(&labels) {
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{reason:?}");
        }
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                assert!(a.0 != b.0 && a.1 != b.1, "{a:?} and {b:?} read the same");
            }
        }
    }

    #[test]
    fn every_scene_kind_has_distinct_labels_in_both_languages() {
        let labels: Vec<Label> = SceneKind::ALL.into_iter().map(scene_kind).collect();
        for (kind, (ja, en)) in SceneKind::ALL.iter().zip(&labels) {
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{kind:?}");
        }
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                assert!(a.0 != b.0 && a.1 != b.1, "{a:?} and {b:?} read the same");
            }
        }
    }

    #[test]
    fn every_record_kind_has_both_languages() {
        for kind in RecordKind::ALL {
            let (ja, en) = record_kind(kind);
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{kind:?}");
        }
    }
}
