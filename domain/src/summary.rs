//! The emergency summary: what a crew or an ER sees about one patient.
//!
//! # Layout
//! - [`EmergencySummary`] (in `emergency`): the summary, its assembly under retention,
//!   and the accessors the alerts are built from.
//! - [`alerts`]: the ordered list of structured alerts every screen renders
//!   ([`EmergencySummary::alerts`]).
//! - [`warnings`]: duplicate-medication (重複投薬) and contraindication (禁忌) warnings
//!   ([`EmergencySummary::medication_warnings`]).
//!
//! The methods that build on the summary live with the rules they apply (an `impl
//! EmergencySummary` block in `alerts` and in `warnings`), so those modules depend on
//! `emergency` and nothing depends back on them.

pub mod alerts;
mod emergency;
pub mod warnings;

pub use alerts::{Alert, AlertKind, AlertSource, Bilingual};
pub use emergency::{EmergencySummary, PatientHeader};
pub use warnings::{ContraindicationReason, DrugGroup, DuplicateBasis, MedicationWarning, Risk};
