//! Outside code systems (LOINC, SNOMED CT, UCUM, ICD-10, HL7 terminology), units, and the
//! codes the bundle gives domain values. This system's own code systems are
//! [`myna_domain::fhir_systems`], shared with edge-agent's `AuditEvent` export.

use myna_domain::consent::ConsentState;
use myna_domain::labels::{self, Label};

pub(super) const LOINC: &str = "http://loinc.org";
pub(super) const SNOMED: &str = "http://snomed.info/sct";
pub(super) const UCUM: &str = "http://unitsofmeasure.org";
pub(super) const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
pub(super) const RFC3986: &str = "urn:ietf:rfc:3986";
pub(super) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";
pub(super) const INTERPRETATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
pub(super) const CONDITION_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/condition-clinical";
pub(super) const CONDITION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/condition-category";
pub(super) const ALLERGY_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
pub(super) const LIST_EMPTY_REASON: &str =
    "http://terminology.hl7.org/CodeSystem/list-empty-reason";
pub(super) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub(super) const XHTML: &str = "http://www.w3.org/1999/xhtml";

/// A unit as shown, and its UCUM code.
pub(super) type Unit = (&'static str, &'static str);
pub(super) const PER_MINUTE: Unit = ("/min", "/min");
pub(super) const PERCENT: Unit = ("%", "%");
pub(super) const CELSIUS: Unit = ("°C", "Cel");
pub(super) const MMHG: Unit = ("mmHg", "mm[Hg]");
pub(super) const SCORE: Unit = ("{score}", "{score}");
pub(super) const KG_M2: Unit = ("kg/m2", "kg/m2");

/// The UCUM code of a lab unit as the records write it, when it has a known one.
pub(super) fn ucum(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "mg/dL" => "mg/dL",
        "g/dL" => "g/dL",
        "mg/L" => "mg/L",
        "g/L" => "g/L",
        "mmol/L" => "mmol/L",
        "umol/L" | "µmol/L" | "μmol/L" => "umol/L",
        "mEq/L" => "meq/L",
        "U/L" => "U/L",
        "IU/L" => "[IU]/L",
        "%" => "%",
        "ng/mL" => "ng/mL",
        "pg/mL" => "pg/mL",
        "ug/mL" | "µg/mL" | "μg/mL" => "ug/mL",
        "s" | "sec" | "秒" => "s",
        "/uL" | "/µL" | "/μL" => "/uL",
        "10^3/uL" | "10^3/µL" | "10^3/μL" | "10*3/uL" => "10*3/uL",
        "10^4/uL" | "10^4/µL" | "10^4/μL" | "10*4/uL" => "10*4/uL",
        _ => return None,
    })
}

/// The snake_case wire name of a unit enum variant (its stable code).
pub(super) fn wire_code<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        _ => "unknown".into(),
    }
}

pub(super) fn consent_label(consent: Option<&ConsentState>) -> Label {
    match consent {
        Some(state) => labels::consent(state),
        None => ("同意未確認", "No consent decision recorded"),
    }
}
