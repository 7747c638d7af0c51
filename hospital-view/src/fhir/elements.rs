//! Builders of the FHIR data types every resource uses: codings and concepts, extensions,
//! references, quantities, narratives and dates.

use chrono::{Datelike, NaiveDate, Utc};
use fhir_model::r4b::codes::NarrativeStatus;
use fhir_model::r4b::types::{
    CodeableConcept, Coding, Extension, ExtensionValue, Narrative, Quantity, Reference,
};
use fhir_model::time::{Month, OffsetDateTime};
use fhir_model::{Date, DateTime, Instant};
use myna_domain::labels::Label;

use super::codes::{OBSERVATION_CATEGORY, UCUM, XHTML};
use super::error::{Error, Result};

/// "English 日本語", or one of them when they are the same.
pub(super) fn bilingual((ja, en): Label) -> String {
    if ja == en {
        en.to_owned()
    } else {
        format!("{en} {ja}")
    }
}

/// A quantity shown as `unit`, with its UCUM code when known.
pub(super) fn quantity(value: f64, unit: &str, ucum: Option<&str>) -> Result<Quantity> {
    let mut q = Quantity::builder().value(value).unit(unit.into());
    if let Some(code) = ucum {
        q = q.system(UCUM.into()).code(code.into());
    }
    Ok(q.build()?)
}

pub(super) fn narrative(lines: &[&str]) -> Result<Narrative> {
    let div = maud::html! {
        div xmlns=(XHTML) {
            @if let [line] = lines {
                p { (line) }
            } @else {
                ul { @for line in lines { li { (line) } } }
            }
        }
    };
    Ok(Narrative::builder()
        .status(NarrativeStatus::Generated)
        .div(div.into_string())
        .build()?)
}

pub(super) fn coding(system: &str, code: &str, display: &str) -> Result<Coding> {
    Ok(Coding::builder()
        .system(system.into())
        .code(code.into())
        .display(display.into())
        .build()?)
}

pub(super) fn concept(system: &str, code: &str, display: &str) -> Result<CodeableConcept> {
    Ok(CodeableConcept::builder()
        .coding(vec![Some(coding(system, code, display)?)])
        .build()?)
}

pub(super) fn category(code: &str, display: &str) -> Result<CodeableConcept> {
    concept(OBSERVATION_CATEGORY, code, display)
}

pub(super) fn text(text: &str) -> Result<CodeableConcept> {
    Ok(CodeableConcept::builder().text(text.into()).build()?)
}

pub(super) fn coded_extension(url: &str, value: Coding) -> Result<Extension> {
    Ok(Extension::builder()
        .url(url.into())
        .value(ExtensionValue::Coding(value))
        .build()?)
}

pub(super) fn reference(full_url: &str) -> Result<Reference> {
    Ok(Reference::builder().reference(full_url.into()).build()?)
}

/// An institution known by name only (the records carry no institution id).
pub(super) fn organization(name: &str) -> Result<Reference> {
    Ok(Reference::builder()
        .r#type("Organization".into())
        .display(name.into())
        .build()?)
}

pub(super) fn date(d: NaiveDate) -> Result<Date> {
    if !(1..=9999).contains(&d.year()) {
        return Err(Error::DateOutOfRange);
    }
    let month = u8::try_from(d.month())
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(Error::DateOutOfRange)?;
    let day = u8::try_from(d.day()).map_err(|_| Error::DateOutOfRange)?;
    fhir_model::time::Date::from_calendar_date(d.year(), month, day)
        .map(Date::Date)
        .map_err(|_| Error::DateOutOfRange)
}

pub(super) fn date_time(d: NaiveDate) -> Result<DateTime> {
    date(d).map(DateTime::Date)
}

pub(super) fn instant(at: chrono::DateTime<Utc>) -> Result<Instant> {
    if !(1..=9999).contains(&at.year()) {
        return Err(Error::DateOutOfRange);
    }
    let nanos =
        i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map(Instant)
        .map_err(|_| Error::DateOutOfRange)
}
