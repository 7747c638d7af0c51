//! Domain types and the pure emergency-access policy of My Number emergency (マイナ救急).
//!
//! This crate is "sans I/O": it holds the types every other crate shares and the rules
//! that decide what may be disclosed, and it does no networking, no storage and no clock
//! reads of its own (callers pass `now`). A rule that both the tablet and the server
//! apply is written here once.
//!
//! # Layout
//! - [`identity`]: who the patient is and how that was established (assurance level).
//! - [`certificate`]: reading the facts the edge needs out of a card's JPKI certificate, and
//!   verifying the card's signature over a challenge.
//! - [`client_identity`]: who a client certificate (mTLS) names: a tablet or a hospital.
//! - [`consent`]: the consent state (`Given` / `Refused` / `Difficult { reason }`).
//! - [`records`]: the medical record kinds an emergency summary can hold, and retention.
//! - [`summary`]: the emergency summary assembled from records, and its ordered alerts.
//! - [`access`]: the access record written for every access attempt.
//! - [`fhir_systems`]: this system's own FHIR code, identifier and extension URLs.
//! - [`disaster`]: declared disasters (area and period) that allow identification by the
//!   four basic facts.
//! - [`handoff`]: the handoff to a receiving hospital: locations, the hospital's answer,
//!   the handoff's state.
//! - [`labels`]: Japanese and English labels for every coded value.
//! - [`transparency`]: the tamper-evident access log's hashing, signed checkpoints and
//!   proof checks (RFC 6962 Merkle tree, c2sp signed notes).
//! - [`time`]: Japan Standard Time and the JST day of an instant.
//! - [`policy`]: the emergency-access decision (pure, table-tested).
//! - [`error`]: the crate's error ([`Error`]) and [`Result`].
//! - [`wire`]: the JSON request/response types of the HTTP APIs, one module per audience
//!   (tablet, hospital, portal, review, log).
//!
//! With the `uniffi` feature, the few types the tablet apps get as they are
//! ([`handoff::SceneKind`], [`summary::AlertKind`], [`summary::Bilingual`],
//! [`records::AllergySeverity`], [`identity::Sex`], [`identity::AssuranceLevel`]) derive uniffi's `Enum`/`Record`, so mobile-ffi re-exports
//! them instead of copying them.
#![warn(missing_docs)]

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod access;
pub mod certificate;
pub mod client_identity;
pub mod consent;
pub mod disaster;
pub mod error;
pub mod fhir_systems;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod handoff;
pub mod identity;
pub mod labels;
pub mod policy;
pub mod records;
pub mod summary;
pub mod time;
pub mod transparency;
pub mod wire;

pub use error::{Error, Result};
