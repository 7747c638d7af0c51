//! The crew's vital signs (救急隊測定) as vital-sign `Observation`s, performed by the unit and
//! dated when the notice was sent.

use fhir_model::r4b::codes::ObservationStatus;
use fhir_model::r4b::resources::{
    Observation, ObservationBuilder, ObservationComponent, ObservationComponentValue,
    ObservationEffective, ObservationValue,
};
use fhir_model::r4b::types::Reference;
use fhir_model::{DateTime, Instant};
use myna_domain::wire::Vitals;

use super::codes::{CELSIUS, LOINC, MMHG, PER_MINUTE, PERCENT, SCORE, Unit};
use super::document::{Document, Section};
use super::elements::{category, concept, quantity};
use super::error::{Error, Result};

/// One vital sign: LOINC code and display, category, value and unit, narrative line.
struct VitalSign {
    loinc: &'static str,
    display: &'static str,
    category: (&'static str, &'static str),
    value: f64,
    unit: Unit,
    shown: String,
}

const VITAL_SIGNS: (&str, &str) = ("vital-signs", "Vital Signs");

pub(super) fn add_vitals(
    doc: &mut Document,
    vitals: &Vitals,
    subject: &Reference,
    crew: &Reference,
    at: Instant,
) -> Result<()> {
    let sign = |loinc, display, value: f64, unit: Unit, shown: String| VitalSign {
        loinc,
        display,
        category: VITAL_SIGNS,
        value,
        unit,
        shown,
    };
    let mut signs = Vec::new();
    if let Some(hr) = vitals.heart_rate {
        signs.push(sign(
            "8867-4",
            "Heart rate",
            hr.into(),
            PER_MINUTE,
            format!("HR {hr} /min"),
        ));
    }
    if let Some(spo2) = vitals.spo2_percent {
        signs.push(sign(
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
            spo2.into(),
            PERCENT,
            format!("SpO2 {spo2} %"),
        ));
    }
    if let Some(rr) = vitals.respiratory_rate {
        signs.push(sign(
            "9279-1",
            "Respiratory rate",
            rr.into(),
            PER_MINUTE,
            format!("RR {rr} /min"),
        ));
    }
    if let Some(t) = vitals.temperature_c {
        // Through the shortest decimal form: 36.9_f32 as f64 is 36.900001525878906.
        let value = t.to_string().parse().unwrap_or(f64::from(t));
        signs.push(sign(
            "8310-5",
            "Body temperature",
            value,
            CELSIUS,
            format!("BT {t} °C"),
        ));
    }
    if let Some(gcs) = vitals.gcs {
        signs.push(VitalSign {
            category: ("survey", "Survey"),
            ..sign(
                "9269-2",
                "Glasgow coma score total",
                gcs.into(),
                SCORE,
                format!("GCS {gcs}"),
            )
        });
    }
    for sign in signs {
        doc.add(Some((Section::VitalSigns, sign.shown)), |id| {
            vital_observation(
                id,
                sign.loinc,
                sign.display,
                sign.category,
                subject,
                crew,
                &at,
            )?
            .value(ObservationValue::Quantity(quantity(
                sign.value,
                sign.unit.0,
                Some(sign.unit.1),
            )?))
            .build()
            .map_err(Error::from)
        })?;
    }
    // Blood pressure as the vital-signs panel, with the halves the crew measured.
    let halves = [
        (vitals.systolic_mmhg, "8480-6", "Systolic blood pressure"),
        (vitals.diastolic_mmhg, "8462-4", "Diastolic blood pressure"),
    ];
    if halves.iter().any(|(v, ..)| v.is_some()) {
        let mut components = Vec::new();
        for (value, code, display) in halves {
            if let Some(value) = value {
                components.push(Some(
                    ObservationComponent::builder()
                        .code(concept(LOINC, code, display)?)
                        .value(ObservationComponentValue::Quantity(quantity(
                            value.into(),
                            MMHG.0,
                            Some(MMHG.1),
                        )?))
                        .build()?,
                ));
            }
        }
        let show = |v: Option<u16>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        let line = format!(
            "BP {}/{} mmHg",
            show(vitals.systolic_mmhg),
            show(vitals.diastolic_mmhg)
        );
        doc.add(Some((Section::VitalSigns, line)), |id| {
            vital_observation(
                id,
                "85354-9",
                "Blood pressure panel with all children optional",
                VITAL_SIGNS,
                subject,
                crew,
                &at,
            )?
            .component(components)
            .build()
            .map_err(Error::from)
        })?;
    }
    Ok(())
}

/// An `Observation` by the crew, lacking only its value.
fn vital_observation(
    id: String,
    loinc: &str,
    display: &str,
    (category_code, category_display): (&str, &str),
    subject: &Reference,
    crew: &Reference,
    at: &Instant,
) -> Result<ObservationBuilder> {
    Ok(Observation::builder()
        .id(id)
        .status(ObservationStatus::Final)
        .category(vec![Some(category(category_code, category_display)?)])
        .code(concept(LOINC, loinc, display)?)
        .subject(subject.clone())
        .effective(ObservationEffective::DateTime(DateTime::DateTime(
            at.clone(),
        )))
        .performer(vec![Some(crew.clone())]))
}
