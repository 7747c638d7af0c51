//! What the incident's steps report to the crew.

use std::time::SystemTime;

use myna_domain::identity::AssuranceLevel;

/// What the tablet learned from the card. No personal data: the JPKI
/// user-authentication certificate holds no name or address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CardReading {
    /// DER of the user-authentication certificate.
    pub certificate_der: Vec<u8>,
    /// Certificate serial number, lowercase hex.
    pub serial_hex: String,
    /// End of validity.
    pub not_after: SystemTime,
    /// The certificate has expired. The crew may still continue; the edge decides
    /// whether an expired card identifies the patient.
    pub expired: bool,
    /// The certificate is not valid yet (its start of validity is after the tablet's
    /// clock: a freshly reissued card, or a wrong tablet clock). Reported like `expired`;
    /// the edge decides with its own clock.
    pub not_yet_valid: bool,
}

/// The identity was confirmed: the edge opened the incident, or will when the queued
/// open reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct IdentityConfirmed {
    /// Incident id (UUID).
    pub incident_id: String,
    /// How strongly the patient is identified (while queued: the level this evidence
    /// gives; the edge decides when it arrives).
    pub assurance: AssuranceLevel,
    /// No signal: the open waits in the tablet's outbox and the edge has not checked the
    /// card yet. Records can be fetched once it is delivered.
    pub queued: bool,
}

/// A handoff the crew made: sent to the edge, or waiting in the outbox. (Exported to the
/// apps as `Handoff`, its id as text.)
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "Handoff"))]
pub struct HandoffSent {
    /// Handoff id (the tablet's UUIDv7; follow it with [`super::EmergencyIncident::handoff_state`]).
    pub handoff_id: uuid::Uuid,
    /// Hospital.
    pub hospital_id: String,
    /// The hospital acknowledged receipt.
    pub delivered: bool,
    /// Whether medical records went with the patient; unknown (`None`) while queued.
    pub records_shared: Option<bool>,
    /// No signal: the handoff waits in the tablet's outbox.
    pub queued: bool,
}
