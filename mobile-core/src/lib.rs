//! The ambulance tablet core of My Number emergency (マイナ救急): reads the patient's
//! My Number card, confirms identity, records consent, fetches the emergency summary from
//! the edge server and hands the patient off to a hospital, one incident at a time.
//!
//! The platform apps (Kotlin, Swift) supply the NFC link as a [`CardTransport`] and call
//! an [`EmergencyIncident`]. The API is shaped for the uniffi export (mobile-ffi):
//! owned types in signatures, `&self` methods with interior mutability, one flat error
//! ([`MobileError`]) whose messages are written for the paramedic, and the card link as a
//! `Send + Sync` trait taking and returning owned values.
//!
//! # Layout
//! - [`card`]: the card protocol. [`card::apdu`] and [`card::tlv`] are sans I/O;
//!   [`card::jpki`] reads the JPKI token info and certificates over a [`CardTransport`]
//!   without a PIN, and signs a challenge with the PIN; [`card::input_support`] reads
//!   the four basic facts with the PIN. Both PIN paths first ask the card's retry
//!   counter (which spends no try) and refuse to send a PIN with one try left, so the
//!   crew can never lock a patient's card. With the `pcsc` feature, `card::pcsc`
//!   provides a PC/SC reader transport for desktops and simulations.
//! - [`edge`]: [`EdgeClient`], the HTTP client of the edge server's tablet API (over TLS,
//!   optionally pinned to the deployment's CA).
//! - [`local`]: the tablet's own SQLite store, sealed with the app's [`StorageKey`]: each
//!   incident's steps (resume after the app is killed), the outbox every write to the edge
//!   goes through (in order, client ids), the summary copy (wiped at close or after
//!   [`local::SUMMARY_TTL`]) and the tablet's own access records. It does no I/O but SQLite.
//! - [`delivery`]: [`Delivery`], which owns the store handle and the edge client and sends
//!   the outbox (in order per incident, backoff 1 s doubling to a minute, jittered; the
//!   edge deduplicates), fetches the summary into the store, and runs in the background.
//! - [`Tablet`]: the store and its deliverer together: start or resume incidents, deliver
//!   the outbox.
//! - [`log_witness`]: [`LogWitness`] keeps the edge access log's last signed checkpoint
//!   the tablet verified and checks, at each contact, that the log still extends it
//!   (the tamper check; it never blocks an incident).
//! - [`progress`]: the pure state machine of an incident's steps (which step may follow
//!   which); below both [`incident`], which advances it, and [`local`], which saves it.
//! - [`incident`]: the scene workflow. [`EmergencyIncident`] drives [`progress`] over card
//!   and edge, and confirms identity by the face photo or by the patient's PIN (the card
//!   signs a one-time challenge from the edge). Its writing steps run to completion even
//!   when the caller drops the future (`completion`).
//! - [`error`]: the flat [`MobileError`] and this crate's [`Result`].
//! - `ffi_types` (feature `uniffi`): how the exported records' foreign types (`Uuid`) cross.
//!
//! With the `uniffi` feature, the records and enums that cross to the apps (the outbox's
//! [`QueuedWrite`], [`DeliveryReport`], the tablet's access records) derive uniffi's
//! `Record`/`Enum`, so mobile-ffi re-exports them instead of copying them.
//!
//! # Example
//! ```no_run
//! # async fn scene(nfc: &dyn mobile_core::CardTransport) -> Result<(), mobile_core::MobileError> {
//! use mobile_core::{EdgeClient, EmergencyIncident};
//! use myna_domain::consent::ConsentState;
//!
//! # let key = mobile_core::StorageKey::random();
//! let edge = EdgeClient::new("https://edge.local".into(), "device-token".into())?;
//! let tablet = mobile_core::Tablet::open("tablet.sqlite3".as_ref(), &key, edge)?;
//! let incident = tablet.start_incident("crew-042".into())?;
//! let reading = incident.read_card(nfc)?; // blocking; off the UI thread
//! if reading.expired || reading.not_yet_valid { /* tell the crew; the edge decides */ }
//! incident.confirm_identity(true).await?; // the face photo matches the patient
//! // Or, with the card still on the reader, the patient's PIN (PinVerified):
//! // incident.identify_with_pin(nfc, mobile_core::Pin::new("1234")?).await?;
//! incident.record_consent(ConsentState::Given).await?;
//! let summary = incident.fetch_summary().await?; // needs signal; earlier steps may queue
//! let again = incident.summary_again()?; // the sealed copy, offline; logged
//! # let _ = (summary, again);
//! incident.close()?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod card;
mod completion;
pub mod delivery;
pub mod edge;
pub mod error;
#[cfg(feature = "uniffi")]
mod ffi_types;
pub mod incident;
pub mod local;
pub mod log_witness;
pub mod progress;
mod tablet;
#[cfg(test)]
mod test_support;

pub use card::jpki::{CardKind, read_auth_certificate, read_token_info};
pub use card::{
    CardError, CardIdentity, CardLinkError, CardTransport, Pin, PinTries, ReaderError, StatusError,
};
pub use delivery::{Delivery, DeliveryReport};
pub use edge::{EdgeClient, EdgeError};
pub use error::{MobileError, Result};
pub use incident::{CardReading, EmergencyIncident, HandoffSent, IdentityConfirmed};
pub use local::{
    LocalAccessKind, LocalAccessRecord, LocalStore, QueuedWrite, StorageKey, WriteKind, WriteState,
};
pub use log_witness::{LogCheck, LogWitness};
pub use progress::{IncidentProgress, IncidentStep, StepRecord};
pub use tablet::Tablet;
