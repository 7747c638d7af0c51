//! Why a notice could not become a bundle: this module's own failures, turned into an
//! `OperationOutcome` by [`super::ips_bundle`], never into the crate's error.

use fhir_model::BuilderError;

/// Why a notice could not become a bundle. Messages carry no personal data.
#[derive(Debug, thiserror::Error)]
pub(super) enum Error {
    /// A date is outside what FHIR can hold (years 1 to 9999).
    #[error("date outside the FHIR range")]
    DateOutOfRange,
    /// A required FHIR element was left unset: a bug in this module.
    #[error("incomplete FHIR element: {0}")]
    Incomplete(#[from] BuilderError),
    /// JSON encoding failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

pub(super) type Result<T, E = Error> = std::result::Result<T, E>;
