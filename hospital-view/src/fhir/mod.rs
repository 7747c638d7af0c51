//! FHIR R4 export of one arrival notice: a `document` [`Bundle`] shaped like the
//! International Patient Summary (IPS), so the hospital's EHR can import what the crew
//! relayed (救急搬送時の共有情報) instead of retyping it.
//!
//! The types are `fhir-model`'s R4B ones: R4B left every resource used here unchanged
//! from R4, so the JSON is R4. Entries, in order:
//!
//! | entry                 | from                                                                 |
//! |-----------------------|----------------------------------------------------------------------|
//! | `Composition`         | the notice: LOINC 60591-5 "Patient summary Document", dated `sent_at`, authored by the ambulance unit, consent state as extensions |
//! | `Patient`             | [`PatientHeader`]: identifier (patient id), name, gender, birthDate   |
//! | `AllergyIntolerance`  | drug and other allergies; category `medication` for drug allergies, `food`/`environment` when the substance tells; criticality `high` for severe reactions, else `low` |
//! | `MedicationStatement` | dispensed drugs and prescriptions; medication as text, drug class as `category` (local code), high-risk flag as extension, pharmacy or clinic as `informationSource`, supply window as `effectivePeriod` |
//! | `Condition`           | diagnoses (ICD-10); active ones in Problems, inactive ones in History of past illness |
//! | `Observation`         | lab results (LOINC where the analyte has one unambiguous code, always a local analyte code), infection tests, health checkups, and the crew's vital signs |
//! | `Procedure`           | surgery                                                              |
//! | `Encounter`           | visits (受診歴)                                                      |
//!
//! Composition sections (LOINC): allergies 48765-2, medications 10160-0, problems
//! 11450-4, results 30954-2, procedures 47519-4, vital signs 8716-3, history of past
//! illness 11348-0, hospitalizations and outpatient visits 46240-8, and the crew's chief
//! complaint 10154-3 (narrative only). Every section carries a generated narrative.
//!
//! # Choices
//! - **Infection tests are `Observation`s**, not `Condition`s, whatever the result: an HBs
//!   antigen or HCV antibody result is a finding, and turning it into a diagnosis is a
//!   clinician's call. Value (SNOMED CT positive/negative/indeterminate) and
//!   interpretation (`POS`/`NEG`/`IND`) carry the result; they sit in the Results section.
//! - **Provenance**: every resource made from a record carries the extension
//!   `…/StructureDefinition/record-source` (a [`RecordSource`] coding: claims,
//!   e-prescription, EHR sharing service, checkup data) and a `meta.tag` naming its
//!   [`RecordKind`]; its date is in the resource's own date element (`recordedDate`,
//!   `effective[x]`, `performed[x]`, `period`). The crew's vital signs name the unit as
//!   `performer` and are dated `sent_at` (the crew measures shortly before sending).
//! - **Empty required sections** (allergies, medications, problems) get `emptyReason`
//!   `unavailable`, never `nilknown`: absence from the national records is not "no known
//!   allergies", and an EHR must not show it as such.
//! - **Deterministic ids**: entry `n` (the Composition is 0) has `fullUrl`
//!   `urn:uuid:` + UUID v5 of `entry/n` in the namespace of the handoff id; the Bundle's
//!   identifier is the UUID v5 of `document`. The same notice and `generated_at` give the
//!   same bundle, byte for byte. References between resources use these `fullUrl`s.
//! - **No profile claims**: the bundle follows the IPS layout but sets no `meta.profile`,
//!   since most codes are text or local (`https://myna-emergency.example/fhir/…`,
//!   [`myna_domain::fhir_systems`], shared with the edge's `AuditEvent` export, so patient
//!   ids join across both).
//!
//! # Without records
//! When the notice has no summary (consent refused, or no consent decision recorded) the
//! bundle holds the Composition and the crew's vital-sign `Observation`s only: no
//! `Patient`, no record. The Composition's `subject` is then a note (a `Reference` with
//! only `display`) saying no patient data was shared and why; the allergies, medications
//! and problems sections have `emptyReason` `withheld`, and the chief complaint section
//! is there as always.
//!
//! # Personal data
//! The bundle holds the patient's name and records: it is for the hospital's EHR. Logs
//! name the handoff id only.
//!
//! # Layout
//! - this module: [`ips_bundle`], the Bundle, its Composition and sections.
//! - `records`: the `Patient`, allergies, medications, diagnoses, surgery and visits, and
//!   the provenance of every resource made from a record.
//! - `results`: lab results, infection tests and health checkups.
//! - `vitals`: the crew's vital signs.
//! - `codes`: outside code systems, units, and the codes of domain values.
//! - `elements`: builders of FHIR data types (codings, narratives, quantities, dates).
//!
//! [`PatientHeader`]: myna_domain::summary::PatientHeader
//! [`RecordSource`]: myna_domain::records::RecordSource
//! [`RecordKind`]: myna_domain::records::RecordKind

mod codes;
mod document;
mod elements;
mod error;
mod records;
mod results;
mod vitals;

use chrono::{NaiveDate, Utc};
use fhir_model::DateTime;
use fhir_model::r4b::codes::{BundleType, CompositionStatus};
use fhir_model::r4b::resources::{Bundle, BundleEntry, Composition, CompositionSection};
use fhir_model::r4b::types::{Identifier, Reference};
use myna_domain::fhir_systems::{
    CONSENT_REASON_EXTENSION, CONSENT_REASON_SYSTEM, CONSENT_STATE_EXTENSION, CONSENT_STATE_SYSTEM,
    HANDOFF_ID_SYSTEM, UNIT_ID_SYSTEM,
};
use myna_domain::labels;
use myna_domain::records::MedicalRecord;
use myna_domain::wire::ArrivalNotice;
use uuid::Uuid;

use codes::{LIST_EMPTY_REASON, LOINC, RFC3986, consent_label};
use document::{Document, Section};
use elements::{bilingual, coded_extension, coding, concept, instant, narrative};
use error::Result;
use vitals::add_vitals;
// Names the tests (`use super::*`) use and the code here does not.
#[cfg(test)]
use {
    codes::{INTERPRETATION, OBSERVATION_CATEGORY, SNOMED, UCUM},
    fhir_model::r4b::codes::AllergyIntoleranceCategory,
    fhir_model::r4b::resources::Resource,
    myna_domain::consent::{ConsentState, DifficultyReason},
    myna_domain::fhir_systems::{
        ANALYTE_SYSTEM, DRUG_CLASS_SYSTEM, HIGH_RISK_EXTENSION, PATIENT_ID_SYSTEM,
        RECORD_KIND_SYSTEM, RECORD_SOURCE_EXTENSION, RECORD_SOURCE_SYSTEM,
    },
    myna_domain::identity::Sex,
    myna_domain::records::{
        Allergy, AllergySeverity, Analyte, Checkup, Diagnosis, DrugClass, InfectionMarker,
        InfectionResult, LabResult, LabValue, Medication, QualitativeResult, RecordSource, Surgery,
        Visit,
    },
    myna_domain::summary::PatientHeader,
    myna_domain::wire::Vitals,
    records::other_allergy_category,
};

/// The FHIR R4 document `Bundle` (IPS-shaped) of `notice`, stamped `generated_at`.
///
/// Deterministic: the same notice and `generated_at` give the same JSON. Never panics;
/// should the notice hold a date FHIR cannot express (after year 9999), the answer is an
/// `OperationOutcome` instead of a `Bundle`, so check `resourceType`.
pub fn ips_bundle(
    notice: &ArrivalNotice,
    generated_at: chrono::DateTime<Utc>,
) -> serde_json::Value {
    match document(notice, generated_at).and_then(|b| Ok(serde_json::to_value(b)?)) {
        Ok(bundle) => bundle,
        Err(error) => {
            tracing::error!(handoff = %notice.handoff_id, %error, "FHIR export failed");
            // Plain JSON: this path must not fail itself, and has nothing to build.
            serde_json::json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "processing", "diagnostics": error.to_string()}]
            })
        }
    }
}

fn document(notice: &ArrivalNotice, generated_at: chrono::DateTime<Utc>) -> Result<Bundle> {
    let mut doc = Document {
        handoff: notice.handoff_id,
        entries: Vec::new(),
        items: Vec::new(),
    };
    let crew = Reference::builder()
        .r#type("Organization".into())
        .identifier(
            Identifier::builder()
                .system(UNIT_ID_SYSTEM.into())
                .value(notice.unit.clone())
                .build()?,
        )
        .display(format!("{} {}", notice.fire_department, notice.unit))
        .build()?;
    let subject = match &notice.summary {
        Some(summary) => {
            let patient = doc.add(None, |id| records::patient(id, &summary.patient))?;
            let today = generated_at.date_naive();
            for record in &summary.records {
                add_record(&mut doc, record, &patient, today)?;
            }
            patient
        }
        None => Reference::builder()
            .display(format!(
                "Patient not identified: no records shared with this notice ({})",
                bilingual(consent_label(notice.consent.as_ref()))
            ))
            .build()?,
    };
    add_vitals(
        &mut doc,
        &notice.vitals,
        &subject,
        &crew,
        instant(notice.sent_at)?,
    )?;

    let composition_url = doc.full_url(0);
    let composition = composition(notice, &doc, &composition_url, subject, crew)?;
    let mut entries = vec![Some(
        BundleEntry::builder()
            .full_url(composition_url)
            .resource(composition.into())
            .build()?,
    )];
    entries.extend(doc.entries.into_iter().map(Some));
    let document_id = Uuid::new_v5(&notice.handoff_id, b"document");
    Ok(Bundle::builder()
        .identifier(
            Identifier::builder()
                .system(RFC3986.into())
                .value(format!("urn:uuid:{document_id}"))
                .build()?,
        )
        .r#type(BundleType::Document)
        .timestamp(instant(generated_at)?)
        .entry(entries)
        .build()?)
}

fn add_record(
    doc: &mut Document,
    record: &MedicalRecord,
    patient: &Reference,
    today: NaiveDate,
) -> Result<()> {
    let prov = records::Provenance::of(record)?;
    match record {
        MedicalRecord::DrugAllergy(a) => records::allergy(doc, prov, a, true, patient),
        MedicalRecord::OtherAllergy(a) => records::allergy(doc, prov, a, false, patient),
        MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => {
            records::medication(doc, prov, m, patient, today)
        }
        MedicalRecord::Diagnosis(d) => records::condition(doc, prov, d, patient),
        MedicalRecord::Infection(i) => results::infection(doc, prov, i, patient),
        MedicalRecord::LabResult(l) => results::lab(doc, prov, l, patient),
        MedicalRecord::Checkup(c) => results::checkup(doc, prov, c, patient),
        MedicalRecord::Surgery(s) => records::surgery(doc, prov, s, patient),
        MedicalRecord::Visit(v) => records::visit(doc, prov, v, patient),
    }
}

fn composition(
    notice: &ArrivalNotice,
    doc: &Document,
    full_url: &str,
    subject: Reference,
    author: Reference,
) -> Result<Composition> {
    let mut sections = Vec::new();
    for section in Section::ALL {
        let (code, display, title) = section.code();
        let items: Vec<_> = doc.items.iter().filter(|(s, ..)| *s == section).collect();
        let mut built = CompositionSection::builder()
            .title(title.into())
            .code(concept(LOINC, code, display)?);
        if !items.is_empty() {
            let lines: Vec<&str> = items.iter().map(|(.., line)| line.as_str()).collect();
            built = built
                .text(narrative(&lines)?)
                .entry(items.iter().map(|(_, r, _)| Some(r.clone())).collect());
        } else if section.required() {
            let (reason, reason_display, line) = match &notice.summary {
                Some(_) => (
                    "unavailable",
                    "Unavailable",
                    "None in the shared national records; this does not mean there are none. \
                     (共有された記録になし)"
                        .to_owned(),
                ),
                None => (
                    "withheld",
                    "Information Withheld",
                    format!(
                        "No records shared with this notice ({})",
                        bilingual(consent_label(notice.consent.as_ref()))
                    ),
                ),
            };
            built = built.text(narrative(&[&line])?).empty_reason(concept(
                LIST_EMPTY_REASON,
                reason,
                reason_display,
            )?);
        } else {
            continue;
        }
        sections.push(Some(built.build()?));
    }
    sections.push(Some(
        CompositionSection::builder()
            .title("Chief complaint (主訴)".into())
            .code(concept(
                LOINC,
                "10154-3",
                "Chief complaint Narrative - Reported",
            )?)
            .text(narrative(&[&notice.chief_complaint])?)
            .build()?,
    ));

    let mut extension = Vec::new();
    if let Some(consent) = &notice.consent {
        let (state, reason) = consent.codes();
        extension.push(coded_extension(
            CONSENT_STATE_EXTENSION,
            coding(CONSENT_STATE_SYSTEM, state, labels::consent(consent).1)?,
        )?);
        if let Some(code) = reason {
            // The display is the code in words ("severe pain"); never the crew's note.
            extension.push(coded_extension(
                CONSENT_REASON_EXTENSION,
                coding(CONSENT_REASON_SYSTEM, code, &code.replace('_', " "))?,
            )?);
        }
    }
    let overview = format!(
        "Handoff from {} {}; {}; records shared: {}",
        notice.fire_department,
        notice.unit,
        bilingual(consent_label(notice.consent.as_ref())),
        if notice.summary.is_some() {
            "yes"
        } else {
            "no"
        },
    );
    Ok(Composition::builder()
        .id(full_url.trim_start_matches("urn:uuid:").to_owned())
        .text(narrative(&[&overview])?)
        .extension(extension)
        .identifier(
            Identifier::builder()
                .system(HANDOFF_ID_SYSTEM.into())
                .value(notice.handoff_id.to_string())
                .build()?,
        )
        .status(CompositionStatus::Final)
        .r#type(concept(LOINC, "60591-5", "Patient summary Document")?)
        .subject(subject)
        .date(DateTime::DateTime(instant(notice.sent_at)?))
        .author(vec![Some(author)])
        .title("Emergency patient summary (救急搬送 患者サマリー)".into())
        .section(sections)
        .build()?)
}

#[cfg(test)]
mod tests;
