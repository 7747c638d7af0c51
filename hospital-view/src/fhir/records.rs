//! The `Patient`, and the records that are not results: allergies (`AllergyIntolerance`),
//! medications (`MedicationStatement`), diagnoses (`Condition`), surgery (`Procedure`) and
//! visits (`Encounter`). Also the provenance every resource made from a record carries.

use chrono::{Days, NaiveDate};
use fhir_model::r4b::codes::{
    AdministrativeGender, AllergyIntoleranceCategory, AllergyIntoleranceCriticality,
    AllergyIntoleranceSeverity, EncounterStatus, EventStatus, NameUse,
};
use fhir_model::r4b::resources::{
    AllergyIntolerance, AllergyIntoleranceReaction, Condition, Encounter, MedicationStatement,
    MedicationStatementEffective, MedicationStatementMedication, Patient, Procedure,
    ProcedurePerformed, ProcedurePerformer,
};
use fhir_model::r4b::types::{
    CodeableConcept, Dosage, Extension, ExtensionValue, HumanName, Identifier, Meta, Period,
    Reference,
};
use myna_domain::fhir_systems::{
    DRUG_CLASS_SYSTEM, HIGH_RISK_EXTENSION, PATIENT_ID_SYSTEM, RECORD_KIND_SYSTEM,
    RECORD_SOURCE_EXTENSION, RECORD_SOURCE_SYSTEM,
};
use myna_domain::identity::Sex;
use myna_domain::labels;
use myna_domain::records::{
    Allergy, AllergySeverity, Diagnosis, DrugClass, MedicalRecord, Medication, RecordSource,
    Surgery, Visit,
};
use myna_domain::summary::PatientHeader;

use super::codes::{ACT_CODE, ALLERGY_CLINICAL, CONDITION_CATEGORY, CONDITION_CLINICAL, ICD10};
use super::document::{Document, Section};
use super::elements::{
    bilingual, coded_extension, coding, concept, date, date_time, organization, text,
};
use super::error::Result;

pub(super) fn patient(id: String, header: &PatientHeader) -> Result<Patient> {
    let parts: Vec<&str> = header.name.split_whitespace().collect();
    let mut name = HumanName::builder()
        .r#use(NameUse::Official)
        .text(header.name.clone());
    // Japanese names are written family name first; split only when unambiguous.
    if let [family, given] = parts[..] {
        name = name.family(family.into()).given(vec![Some(given.into())]);
    }
    let gender = match header.sex {
        Sex::Male => AdministrativeGender::Male,
        Sex::Female => AdministrativeGender::Female,
        Sex::NotApplicable => AdministrativeGender::Other,
    };
    Ok(Patient::builder()
        .id(id)
        .identifier(vec![Some(
            Identifier::builder()
                .system(PATIENT_ID_SYSTEM.into())
                .value(header.id.0.clone())
                .build()?,
        )])
        .name(vec![Some(name.build()?)])
        .gender(gender)
        .birth_date(date(header.birth_date)?)
        .build()?)
}

/// What every resource made from a record carries: its kind, source and date.
pub(super) struct Provenance {
    pub(super) meta: Meta,
    pub(super) source: Extension,
    /// ", 2025-10-20, Claims レセプト" for narratives.
    pub(super) note: String,
}

impl Provenance {
    pub(super) fn of(record: &MedicalRecord) -> Result<Self> {
        let kind = record.kind();
        let source = record.source();
        let source_code = match source {
            RecordSource::Claims => "claims",
            RecordSource::EPrescription => "e_prescription",
            RecordSource::EhrSharing => "ehr_sharing",
            RecordSource::Checkup => "checkup",
        };
        Ok(Provenance {
            meta: Meta::builder()
                .tag(vec![Some(coding(
                    RECORD_KIND_SYSTEM,
                    kind.as_str(),
                    labels::record_kind(kind).1,
                )?)])
                .build()?,
            source: coded_extension(
                RECORD_SOURCE_EXTENSION,
                coding(
                    RECORD_SOURCE_SYSTEM,
                    source_code,
                    labels::record_source(source).1,
                )?,
            )?,
            note: format!(
                ", {}, {}",
                record.date(),
                bilingual(labels::record_source(source))
            ),
        })
    }
}

pub(super) fn allergy(
    doc: &mut Document,
    prov: Provenance,
    allergy: &Allergy,
    drug: bool,
    patient: &Reference,
) -> Result<()> {
    let category = if drug {
        Some(AllergyIntoleranceCategory::Medication)
    } else {
        other_allergy_category(&allergy.substance)
    };
    let (criticality, severity) = match allergy.severity {
        AllergySeverity::Severe => (
            AllergyIntoleranceCriticality::High,
            AllergyIntoleranceSeverity::Severe,
        ),
        AllergySeverity::Moderate => (
            AllergyIntoleranceCriticality::Low,
            AllergyIntoleranceSeverity::Moderate,
        ),
        AllergySeverity::Mild => (
            AllergyIntoleranceCriticality::Low,
            AllergyIntoleranceSeverity::Mild,
        ),
    };
    let line = format!(
        "{}: {} ({}){}",
        allergy.substance,
        allergy.reaction,
        bilingual(labels::severity(allergy.severity)),
        prov.note
    );
    doc.add(Some((Section::Allergies, line)), |id| {
        Ok(AllergyIntolerance::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .clinical_status(concept(ALLERGY_CLINICAL, "active", "Active")?)
            .category(category.into_iter().map(Some).collect())
            .criticality(criticality)
            .code(text(&allergy.substance)?)
            .patient(patient.clone())
            .recorded_date(date_time(allergy.recorded_on)?)
            .reaction(vec![Some(
                AllergyIntoleranceReaction::builder()
                    .manifestation(vec![Some(text(&allergy.reaction)?)])
                    .severity(severity)
                    .build()?,
            )])
            .build()?)
    })?;
    Ok(())
}

/// Category of a non-drug allergy, when its substance names a common food or
/// environmental allergen (Japanese or English); `None` when it cannot be told.
pub(super) fn other_allergy_category(substance: &str) -> Option<AllergyIntoleranceCategory> {
    // Japan's mandatory food-allergen labels (えび, かに, くるみ, 小麦, そば, 卵, 乳, 落花生)
    // and other common ones.
    const FOOD: &[&str] = &[
        "えび",
        "エビ",
        "海老",
        "かに",
        "カニ",
        "蟹",
        "くるみ",
        "小麦",
        "そば",
        "蕎麦",
        "卵",
        "乳",
        "落花生",
        "ピーナッツ",
        "大豆",
        "ごま",
        "魚",
        "shrimp",
        "prawn",
        "crab",
        "walnut",
        "wheat",
        "buckwheat",
        "soba",
        "egg",
        "milk",
        "peanut",
        "soy",
        "soybean",
        "sesame",
        "fish",
        "shellfish",
        "nut",
    ];
    const ENVIRONMENT: &[&str] = &[
        "ラテックス",
        "ゴム",
        "花粉",
        "ダニ",
        "ハウスダスト",
        "蜂",
        "ハチ",
        "金属",
        "latex",
        "rubber",
        "pollen",
        "mite",
        "dust",
        "bee",
        "wasp",
        "hornet",
        "nickel",
        "metal",
        "cat",
        "dog",
    ];
    let lower = substance.to_lowercase();
    // ASCII keywords match whole words (or their plural), so "cat" does not match
    // "medication"; Japanese ones match anywhere.
    let matches = |keyword: &&str| {
        if keyword.is_ascii() {
            lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word == *keyword || word.strip_suffix('s') == Some(*keyword))
        } else {
            lower.contains(*keyword)
        }
    };
    if FOOD.iter().any(matches) {
        Some(AllergyIntoleranceCategory::Food)
    } else if ENVIRONMENT.iter().any(matches) {
        Some(AllergyIntoleranceCategory::Environment)
    } else {
        None
    }
}

pub(super) fn medication(
    doc: &mut Document,
    prov: Provenance,
    m: &Medication,
    patient: &Reference,
    today: NaiveDate,
) -> Result<()> {
    let name = if m.ingredient.trim().is_empty() || m.ingredient == m.drug {
        m.drug.clone()
    } else {
        format!("{} ({})", m.drug, m.ingredient)
    };
    // The supply window: taken as active while it covers the export day.
    let end = (m.days_supplied > 0)
        .then(|| m.date.checked_add_days(Days::new(m.days_supplied.into())))
        .flatten();
    let status = if end.is_some_and(|end| end >= today) {
        "active"
    } else {
        "completed"
    };
    let class_code = match m.class {
        DrugClass::Anticoagulant => "anticoagulant",
        DrugClass::Antiplatelet => "antiplatelet",
        DrugClass::GlucoseLowering => "glucose_lowering",
        DrugClass::Other => "other",
    };
    let high_risk = m.class.is_high_risk();
    let line = format!(
        "{name}, {}, {} days — {}{} — {}{}",
        m.dosage,
        m.days_supplied,
        bilingual(labels::drug_class(m.class)),
        if high_risk { " [HIGH RISK]" } else { "" },
        m.institution,
        prov.note
    );
    doc.add(Some((Section::Medications, line)), |id| {
        let mut period = Period::builder().start(date_time(m.date)?);
        if let Some(end) = end {
            period = period.end(date_time(end)?);
        }
        Ok(MedicationStatement::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![
                prov.source,
                Extension::builder()
                    .url(HIGH_RISK_EXTENSION.into())
                    .value(ExtensionValue::Boolean(high_risk))
                    .build()?,
            ])
            .status(status.into())
            .category(concept(
                DRUG_CLASS_SYSTEM,
                class_code,
                labels::drug_class(m.class).1,
            )?)
            .medication(MedicationStatementMedication::CodeableConcept(text(&name)?))
            .subject(patient.clone())
            .effective(MedicationStatementEffective::Period(period.build()?))
            .information_source(organization(&m.institution)?)
            .dosage(vec![Some(
                Dosage::builder().text(m.dosage.clone()).build()?,
            )])
            .build()?)
    })?;
    Ok(())
}

pub(super) fn condition(
    doc: &mut Document,
    prov: Provenance,
    diagnosis: &Diagnosis,
    patient: &Reference,
) -> Result<()> {
    let (section, status, status_display) = if diagnosis.active {
        (Section::Problems, "active", "Active")
    } else {
        (Section::PastIllness, "inactive", "Inactive")
    };
    let mut code = CodeableConcept::builder().text(diagnosis.name.clone());
    if !diagnosis.icd10.trim().is_empty() {
        code = code.coding(vec![Some(coding(
            ICD10,
            diagnosis.icd10.trim(),
            &diagnosis.name,
        )?)]);
    }
    let line = format!("{} [{}]{}", diagnosis.name, diagnosis.icd10, prov.note);
    doc.add(Some((section, line)), |id| {
        Ok(Condition::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .clinical_status(concept(CONDITION_CLINICAL, status, status_display)?)
            .category(vec![Some(concept(
                CONDITION_CATEGORY,
                "problem-list-item",
                "Problem List Item",
            )?)])
            .code(code.build()?)
            .subject(patient.clone())
            .recorded_date(date_time(diagnosis.recorded_on)?)
            .build()?)
    })?;
    Ok(())
}

pub(super) fn surgery(
    doc: &mut Document,
    prov: Provenance,
    s: &Surgery,
    patient: &Reference,
) -> Result<()> {
    let line = format!("{} — {}{}", s.procedure, s.institution, prov.note);
    doc.add(Some((Section::Procedures, line)), |id| {
        Ok(Procedure::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .status(EventStatus::Completed)
            .code(text(&s.procedure)?)
            .subject(patient.clone())
            .performed(ProcedurePerformed::DateTime(date_time(s.date)?))
            .performer(vec![Some(
                ProcedurePerformer::builder()
                    .actor(organization(&s.institution)?)
                    .build()?,
            )])
            .build()?)
    })?;
    Ok(())
}

pub(super) fn visit(
    doc: &mut Document,
    prov: Provenance,
    v: &Visit,
    patient: &Reference,
) -> Result<()> {
    let (class, class_display, kind) = if v.inpatient {
        ("IMP", "inpatient encounter", "inpatient 入院")
    } else {
        ("AMB", "ambulatory", "outpatient 外来")
    };
    let line = format!("{} {} ({kind}){}", v.institution, v.department, prov.note);
    doc.add(Some((Section::Encounters, line)), |id| {
        Ok(Encounter::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .status(EncounterStatus::Finished)
            .class(coding(ACT_CODE, class, class_display)?)
            .service_type(text(&v.department)?)
            .subject(patient.clone())
            .period(Period::builder().start(date_time(v.date)?).build()?)
            .service_provider(organization(&v.institution)?)
            .build()?)
    })?;
    Ok(())
}
