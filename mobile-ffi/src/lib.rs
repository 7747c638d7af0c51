//! The uniffi export of [`mobile_core`]: what the paramedics' tablet app (Kotlin on
//! Android, Swift on iPad) calls. Proc-macro style (`uniffi::setup_scaffolding!`), no UDL.
//!
//! This crate is a thin shell: it converts types at the boundary and calls mobile-core.
//! It holds no policy. Which step may follow which, the PIN guard, what counts as an alert,
//! the wording of every error: all of it is decided in `mobile-core` and `myna-domain`;
//! here it is only translated into records, enums and objects a foreign language can hold.
//!
//! # Layout
//! - [`transport`]: [`CardTransport`], the **foreign trait** the app implements over its NFC
//!   stack (Android `IsoDep.transceive`, iOS `NFCISO7816Tag.sendCommand`), adapted to
//!   mobile-core's trait of the same name.
//! - [`tablet`]: [`Tablet`], the app's handle: the sealed local store and the edge; starts
//!   and resumes incidents, lists queued writes and this tablet's accesses, delivers the
//!   outbox (`deliver_now`, `run_delivery`).
//! - [`disaster`]: disaster-mode identification by the four basic facts ([`BasicFacts`],
//!   [`Disaster`]).
//! - [`incident`]: [`Incident`], one patient at one scene: `read_card`,
//!   `confirm_identity` or `identify_with_pin`, `record_consent`, `fetch_summary`,
//!   `hospitals`, `hand_off`, `handoff_state`, `close`.
//! - [`consent`]: [`Consent`] (`Given` / `Refused` / `Difficult { reason }`).
//! - [`summary`]: [`Summary`], the emergency summary flattened for a screen: patient
//!   header, the domain's structured alerts ([`Alert`]: kind, severity, labels, subject,
//!   value, date), one line per record.
//! - [`handoff`]: hospitals, the handoff request and where a handoff stands.
//! - [`error`]: [`MobileFfiError`], the one exported error (each message tells the crew
//!   what to do), and [`TransportError`], what the app's transport throws.
//! - `test_card` (feature `test-card`, tests only): `TestCard`, a software My Number
//!   card the foreign-language tests put behind their transport.
//!
//! # Threads and runtime
//! Every async method runs on the core's own tokio runtime (`async_runtime = "tokio"`;
//! uniffi drives it), so the app needs no Rust runtime: it awaits from a coroutine
//! (Kotlin), a `Task` (Swift) or `asyncio` (Python). Card exchanges never run on the
//! caller's thread: [`CardTransport::transmit`] is called on a core worker thread and may
//! block there until the card answers. An app that cancels an awaited card call (Kotlin
//! does) leaves the incident at the step it was at; a cancelled step that writes (identity,
//! consent, summary, handoff, withdrawal) still runs to its end on a core worker, so the
//! write it queued and the step it saves stay together (mobile-core's rule, for every
//! caller).
//!
//! # Types from mobile-core
//! mobile-core's records and enums that cross as they are (the outbox's [`QueuedWrite`],
//! [`DeliveryReport`], the tablet's access records, [`CardReading`], [`Handoff`]) derive
//! uniffi's traits behind its `uniffi` feature and are re-exported here, so the bindings
//! have a `mobile_core` module beside `mobile_ffi` (Python imports it as a top-level
//! module, see `uniffi.toml`). The few domain types the apps get unchanged ([`SceneKind`],
//! [`AlertKind`], [`Bilingual`], [`AllergySeverity`], [`Sex`], [`AssuranceLevel`] as
//! `Assurance`) come the same way from myna-domain's
//! `uniffi` feature (a `myna_domain` module). What stays here is the exported objects, the
//! foreign-trait adapter, the error mapping, and mirrors of the other domain and wire
//! types (base64 and RFC 3339 text on the wire, borrowed alerts), each saying so.
//!
//! # Example (Kotlin)
//! ```text
//! class NfcCard(private val tag: IsoDep) : CardTransport {
//!     override fun transmit(command: ByteArray): ByteArray = try {
//!         tag.transceive(command)
//!     } catch (e: TagLostException) { throw TransportException.Lost() }
//! }
//! val tablet = Tablet.open(TabletConfig(storePath, keyFromKeystore, edgeUrl, deviceToken, caDer))
//! lifecycleScope.launch { tablet.runDelivery() }   // queued writes go out as signal allows
//! val incident = tablet.unfinishedIncidents().firstOrNull()
//!     ?.let { tablet.resumeIncident(it.incidentId) } ?: tablet.startIncident(crewMemberId)
//! incident.readCard(NfcCard(isoDep))
//! incident.confirmIdentity(photoMatches = true)
//! incident.recordConsent(Consent.Given)
//! val summary = incident.fetchSummary()
//! ```
#![warn(missing_docs)]

uniffi::setup_scaffolding!();

pub mod consent;
pub mod disaster;
pub mod error;
pub mod handoff;
pub mod incident;
pub mod summary;
pub mod tablet;
#[cfg(feature = "test-card")]
pub mod test_card;
pub mod transport;

pub use consent::{Consent, DifficultyReason};
pub use disaster::{BasicFacts, Disaster};
pub use error::{MobileFfiError, TransportError};
pub use handoff::{
    Handoff, HandoffRequest, HandoffState, HandoffStatus, Hospital, Location, Vitals,
};
pub use incident::{CardReading, IdentityConfirmed, Incident, IncidentStep, StepRecord};
/// mobile-core's own types, exported as they are (its `uniffi` feature).
pub use mobile_core::{DeliveryReport, QueuedWrite, WriteKind, WriteState};
/// The domain's own types, exported as they are (its `uniffi` feature).
pub use myna_domain::{
    handoff::SceneKind,
    identity::{AssuranceLevel, Sex},
    records::AllergySeverity,
    summary::{AlertKind, Bilingual},
};
pub use summary::{Alert, PatientHeader, Summary, SummaryRecord};
pub use tablet::{Tablet, TabletAccess, TabletAccessKind, TabletConfig, UnfinishedIncident};
#[cfg(feature = "test-card")]
pub use test_card::TestCard;
pub use transport::CardTransport;

/// Result type of the exported API.
pub type Result<T, E = MobileFfiError> = std::result::Result<T, E>;
