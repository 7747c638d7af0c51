//! Results as `Observation`s: lab results, infection tests and specific health checkups
//! (特定健診).

use fhir_model::r4b::codes::ObservationStatus;
use fhir_model::r4b::resources::{
    Observation, ObservationComponent, ObservationComponentValue, ObservationEffective,
    ObservationReferenceRange, ObservationValue,
};
use fhir_model::r4b::types::{CodeableConcept, Coding, Reference};
use myna_domain::fhir_systems::{ANALYTE_SYSTEM, INFECTION_MARKER_SYSTEM, RECORD_KIND_SYSTEM};
use myna_domain::labels;
use myna_domain::records::{
    Analyte, Checkup, InfectionMarker, InfectionResult, LabFlag, LabResult, LabValue,
    QualitativeResult, RecordKind,
};

use super::codes::{INTERPRETATION, KG_M2, LOINC, MMHG, PERCENT, SNOMED, ucum, wire_code};
use super::document::{Document, Section};
use super::elements::{bilingual, category, coding, concept, date_time, quantity};
use super::error::Result;
use super::records::Provenance;

/// LOINC code of an analyte, where one code fits whatever the unit. D-dimer has none:
/// its LOINC code depends on the unit convention (FEU or DDU), which the record lacks.
fn analyte_loinc(analyte: Analyte) -> Option<&'static str> {
    Some(match analyte {
        Analyte::Ck => "2157-6",
        Analyte::Ast => "1920-8",
        Analyte::Alt => "1742-6",
        Analyte::Ldh => "2532-0",
        Analyte::Creatinine => "2160-0",
        Analyte::Bun => "3094-0",
        Analyte::Glucose => "2345-7",
        Analyte::Hba1c => "4548-4",
        Analyte::Sodium => "2951-2",
        Analyte::Potassium => "2823-3",
        Analyte::Chloride => "2075-0",
        Analyte::Calcium => "17861-6",
        Analyte::Wbc => "6690-2",
        Analyte::Hemoglobin => "718-7",
        Analyte::Platelets => "777-3",
        Analyte::Aptt => "3173-2",
        Analyte::PtInr => "6301-6",
        Analyte::Bnp => "30934-4",
        Analyte::NtProBnp => "33762-6",
        Analyte::Crp => "1988-5",
        Analyte::AboBloodGroup => "883-9",
        Analyte::RhBloodGroup => "10331-7",
        Analyte::DDimer => return None,
    })
}

pub(super) fn lab(
    doc: &mut Document,
    prov: Provenance,
    lab: &LabResult,
    patient: &Reference,
) -> Result<()> {
    let label = labels::analyte(lab.analyte);
    let codings = loinc_and_local(
        analyte_loinc(lab.analyte),
        ANALYTE_SYSTEM,
        &wire_code(&lab.analyte),
        label.1,
    )?;
    let code = CodeableConcept::builder()
        .coding(codings)
        .text(bilingual(label))
        .build()?;
    let flag = lab.flag();
    let (value, range, shown) = match &lab.value {
        LabValue::Quantity {
            value,
            unit,
            reference,
        } => {
            let mut range = ObservationReferenceRange::builder();
            if let Some(low) = reference.low {
                range = range.low(quantity(low, unit, ucum(unit))?);
            }
            if let Some(high) = reference.high {
                range = range.high(quantity(high, unit, ucum(unit))?);
            }
            let ranges = if reference.low.is_some() || reference.high.is_some() {
                vec![Some(range.build()?)]
            } else {
                Vec::new()
            };
            let mut shown = format!("{value} {unit}");
            if !ranges.is_empty() {
                let limit = |l: Option<f64>| l.map(|l| l.to_string()).unwrap_or_default();
                shown += &format!(" (ref {}–{})", limit(reference.low), limit(reference.high));
            }
            (
                ObservationValue::Quantity(quantity(*value, unit, ucum(unit))?),
                ranges,
                shown,
            )
        }
        LabValue::Text { text } => (
            ObservationValue::String(text.clone()),
            Vec::new(),
            text.clone(),
        ),
    };
    let mut interpretation = Vec::new();
    let mut mark = String::new();
    if let Some(flag) = flag {
        let (code, display) = match flag {
            LabFlag::High => ("H", "High"),
            LabFlag::Low => ("L", "Low"),
            LabFlag::Normal => ("N", "Normal"),
        };
        interpretation.push(Some(concept(INTERPRETATION, code, display)?));
        mark = format!(" [{}]", labels::lab_flag(flag).1);
    }
    let line = format!("{}: {shown}{mark}{}", bilingual(label), prov.note);
    doc.add(Some((Section::Results, line)), |id| {
        Ok(Observation::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .status(ObservationStatus::Final)
            .category(vec![Some(category("laboratory", "Laboratory")?)])
            .code(code)
            .subject(patient.clone())
            .effective(ObservationEffective::DateTime(date_time(lab.observed_on)?))
            .value(value)
            .interpretation(interpretation)
            .reference_range(range)
            .build()?)
    })?;
    Ok(())
}

pub(super) fn infection(
    doc: &mut Document,
    prov: Provenance,
    result: &InfectionResult,
    patient: &Reference,
) -> Result<()> {
    let label = labels::marker(result.marker);
    // LOINC only where the marker names one test; the syphilis markers name families.
    let loinc = match result.marker {
        InfectionMarker::HbsAntigen => Some("5196-1"),
        InfectionMarker::HcvAntibody => Some("16128-1"),
        InfectionMarker::Hiv => Some("56888-1"),
        InfectionMarker::SyphilisSts | InfectionMarker::SyphilisTp => None,
    };
    let codings = loinc_and_local(
        loinc,
        INFECTION_MARKER_SYSTEM,
        &wire_code(&result.marker),
        label.1,
    )?;
    let ((snomed, snomed_display), (interpretation, interpretation_display)) = match result.result {
        QualitativeResult::Positive => (("10828004", "Positive"), ("POS", "Positive")),
        QualitativeResult::Negative => (("260385009", "Negative"), ("NEG", "Negative")),
        QualitativeResult::Indeterminate => {
            (("82334004", "Indeterminate"), ("IND", "Indeterminate"))
        }
    };
    let shown = labels::qualitative(result.result);
    let line = format!("{}: {}{}", bilingual(label), bilingual(shown), prov.note);
    doc.add(Some((Section::Results, line)), |id| {
        Ok(Observation::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .status(ObservationStatus::Final)
            .category(vec![Some(category("laboratory", "Laboratory")?)])
            .code(
                CodeableConcept::builder()
                    .coding(codings)
                    .text(bilingual(label))
                    .build()?,
            )
            .subject(patient.clone())
            .effective(ObservationEffective::DateTime(date_time(result.tested_on)?))
            .value(ObservationValue::CodeableConcept(
                CodeableConcept::builder()
                    .coding(vec![Some(coding(SNOMED, snomed, snomed_display)?)])
                    .text(bilingual(shown))
                    .build()?,
            ))
            .interpretation(vec![Some(concept(
                INTERPRETATION,
                interpretation,
                interpretation_display,
            )?)])
            .build()?)
    })?;
    Ok(())
}

/// A specific health checkup (特定健診): one `Observation` with a component per measurement.
pub(super) fn checkup(
    doc: &mut Document,
    prov: Provenance,
    checkup: &Checkup,
    patient: &Reference,
) -> Result<()> {
    let measurements = [
        (
            "39156-5",
            "Body mass index (BMI) [Ratio]",
            checkup.bmi,
            KG_M2,
        ),
        (
            "8480-6",
            "Systolic blood pressure",
            f64::from(checkup.systolic_mmhg),
            MMHG,
        ),
        (
            "8462-4",
            "Diastolic blood pressure",
            f64::from(checkup.diastolic_mmhg),
            MMHG,
        ),
        (
            "4548-4",
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            checkup.hba1c_percent,
            PERCENT,
        ),
        (
            "2089-1",
            "Cholesterol in LDL [Mass/volume] in Serum or Plasma",
            f64::from(checkup.ldl_mg_dl),
            ("mg/dL", "mg/dL"),
        ),
    ];
    let mut components = Vec::new();
    for (code, display, value, (unit, ucum)) in measurements {
        components.push(Some(
            ObservationComponent::builder()
                .code(concept(LOINC, code, display)?)
                .value(ObservationComponentValue::Quantity(quantity(
                    value,
                    unit,
                    Some(ucum),
                )?))
                .build()?,
        ));
    }
    let line = format!(
        "Health checkup 特定健診: BMI {}, BP {}/{} mmHg, HbA1c {} %, LDL {} mg/dL{}",
        checkup.bmi,
        checkup.systolic_mmhg,
        checkup.diastolic_mmhg,
        checkup.hba1c_percent,
        checkup.ldl_mg_dl,
        prov.note
    );
    doc.add(Some((Section::Results, line)), |id| {
        Ok(Observation::builder()
            .id(id)
            .meta(prov.meta)
            .extension(vec![prov.source])
            .status(ObservationStatus::Final)
            .category(vec![Some(category("exam", "Exam")?)])
            .code(
                CodeableConcept::builder()
                    .coding(vec![Some(coding(
                        RECORD_KIND_SYSTEM,
                        RecordKind::Checkup.as_str(),
                        labels::record_kind(RecordKind::Checkup).1,
                    )?)])
                    .text(bilingual(labels::record_kind(RecordKind::Checkup)))
                    .build()?,
            )
            .subject(patient.clone())
            .effective(ObservationEffective::DateTime(date_time(checkup.date)?))
            .component(components)
            .build()?)
    })?;
    Ok(())
}

/// The codings of a test: its LOINC code when one is certain, then always our local code
/// (so a receiver without LOINC mapping still knows what was measured).
fn loinc_and_local(
    loinc: Option<&str>,
    system: &str,
    code: &str,
    display: &str,
) -> Result<Vec<Option<Coding>>> {
    let mut codings = Vec::new();
    if let Some(loinc) = loinc {
        codings.push(Some(
            Coding::builder()
                .system(LOINC.into())
                .code(loinc.into())
                .build()?,
        ));
    }
    codings.push(Some(coding(system, code, display)?));
    Ok(codings)
}
