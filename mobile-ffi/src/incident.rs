//! [`Incident`]: one patient, one crew, the scene workflow of
//! [`mobile_core::EmergencyIncident`] as an exported object.
//!
//! ```text
//! readCard ─▶ confirmIdentity(photo) | identifyWithPin(pin) ─▶ recordConsent(Given | Difficult) ─▶ fetchSummary ─▶ handOff ─▶ close
//!                                                              recordConsent(Refused) ──────────────────────────▶ handOff ─▶ close
//! ```
//! Illegal steps (fetching after `Refused`, identifying before a card read) fail with
//! [`MobileFfiError::IllegalStep`] before anything is sent. Every rule is mobile-core's;
//! each method here converts its arguments, calls the core and converts the answer.

use std::future::Future;
use std::pin::Pin as StdPin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use mobile_core::{EmergencyIncident, MobileError, Pin};
use myna_domain::consent::ConsentState;
use tokio::task::JoinHandle;

pub use mobile_core::{CardReading, IdentityConfirmed, QueuedWrite};

use crate::consent::Consent;
use crate::disaster::{BasicFacts, Disaster};
use crate::error::MobileFfiError;
use crate::handoff::{
    Handoff, HandoffRequest, HandoffState, HandoffStatus, Hospital, Location,
    handoff_id as parse_handoff_id,
};
use crate::summary::Summary;
use crate::transport::{CardTransport, ForeignCard};

/// A step of the incident. (A mirror of mobile-core's `IncidentStep`, whose consent step
/// holds the domain's `ConsentState`, exported here as [`Consent`].)
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum IncidentStep {
    /// Created; nothing read yet.
    Started,
    /// The card's certificate was read.
    CardRead,
    /// Identity confirmed and the incident opened on the edge (本人確認).
    Identified,
    /// The consent decision was recorded by the edge.
    ConsentRecorded {
        /// The decision.
        consent: Consent,
    },
    /// The emergency summary was received.
    SummaryFetched,
    /// Handed off to a receiving hospital.
    HandedOff,
    /// Over; the tablet keeps nothing about the patient.
    Closed,
}

/// One step taken, and when.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StepRecord {
    /// The step.
    pub step: IncidentStep,
    /// When.
    pub at: SystemTime,
}

/// One emergency incident: one patient, one crew, against the edge server.
#[derive(Debug, uniffi::Object)]
pub struct Incident {
    core: Arc<EmergencyIncident>,
}

impl Incident {
    pub(crate) fn wrap(core: EmergencyIncident) -> Arc<Self> {
        Arc::new(Incident {
            core: Arc::new(core),
        })
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Incident {
    /// The incident id (UUID), as sent to the edge.
    pub fn incident_id(&self) -> String {
        self.core.incident_id()
    }

    /// The current step.
    pub fn step(&self) -> IncidentStep {
        self.core.step().into()
    }

    /// Steps taken so far, oldest first, with times.
    pub fn history(&self) -> Vec<StepRecord> {
        self.core
            .history()
            .into_iter()
            .map(|r| StepRecord {
                step: r.step.into(),
                at: instant(&r.at),
            })
            .collect()
    }

    /// Reads the card's user-authentication certificate (no PIN) over `transport`. Allowed
    /// until identity is confirmed, so a wrong card can be read again. The card exchange
    /// runs on a core worker thread.
    pub async fn read_card(
        &self,
        transport: Arc<dyn CardTransport>,
    ) -> Result<CardReading, MobileFfiError> {
        let core = Arc::clone(&self.core);
        let card = ForeignCard(transport);
        on_core(tokio::task::spawn_blocking(move || core.read_card(&card))).await
    }

    /// The crew compared the card's face photo with the patient. A match opens the
    /// incident on the edge (`CardAndPhoto`); a mismatch is
    /// [`MobileFfiError::PhotoMismatch`], with nothing sent.
    pub async fn confirm_identity(
        &self,
        photo_matches: bool,
    ) -> Result<IdentityConfirmed, MobileFfiError> {
        Ok(self.core.confirm_identity(photo_matches).await?)
    }

    /// The patient entered the card's 4-digit PIN: the card (still on the reader) signs a
    /// one-time challenge from the edge (`PinVerified`). With one try left the PIN is not
    /// sent ([`MobileFfiError::PinGuard`]); on any error the incident stays at
    /// `CardRead`, so the crew can use the face photo instead.
    pub async fn identify_with_pin(
        &self,
        transport: Arc<dyn CardTransport>,
        pin: String,
    ) -> Result<IdentityConfirmed, MobileFfiError> {
        let mut digits = pin.into_bytes();
        let pin = std::str::from_utf8(&digits)
            .ok()
            .map(Pin::new)
            .unwrap_or(Err(mobile_core::CardError::PinFormat));
        digits.fill(0);
        let pin = pin.map_err(MobileError::from)?;
        let core = Arc::clone(&self.core);
        let card = ForeignCard(transport);
        // A task on a core worker, where the core moves its card exchange out of the way
        // of other tasks (`block_in_place`) instead of blocking the app's thread.
        on_core(tokio::spawn(async move {
            core.identify_with_pin(&card, pin).await
        }))
        .await
    }

    /// Identifies the patient by the four basic facts, without a card: the edge accepts it
    /// only within a declared disaster covering the tablet ([`Self::active_disasters`]);
    /// otherwise [`MobileFfiError::Rejected`] ("identify the patient by card"). Allowed
    /// before any card read. Without signal it waits in the outbox.
    pub async fn identify_by_basic_facts(
        &self,
        facts: BasicFacts,
    ) -> Result<IdentityConfirmed, MobileFfiError> {
        let facts = facts.try_into()?;
        Ok(self.core.identify_by_basic_facts(facts).await?)
    }

    /// Declared disasters covering this tablet's area now.
    pub async fn active_disasters(&self) -> Result<Vec<Disaster>, MobileFfiError> {
        Ok(self
            .core
            .active_disasters()
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Records the patient's consent decision; returns what the edge recorded (without
    /// signal: the decision, queued in the outbox).
    /// A `Difficult { Other }` note must be 1 to 200 characters
    /// ([`MobileFfiError::ConsentReasonInvalid`]).
    pub async fn record_consent(&self, consent: Consent) -> Result<Consent, MobileFfiError> {
        let state = ConsentState::from(consent);
        Ok(self.core.record_consent(state).await?.into())
    }

    /// Fetches the emergency summary (and keeps a sealed copy on the tablet). After
    /// `Refused` (or before consent) it fails with [`MobileFfiError::IllegalStep`] and
    /// nothing is sent to the edge; queued writes of this incident go first.
    pub async fn fetch_summary(&self) -> Result<Summary, MobileFfiError> {
        Ok(Summary::from(&self.core.fetch_summary().await?))
    }

    /// The summary again from the tablet's sealed copy, without signal. The view is logged
    /// on the tablet and queued for the edge's access log before it is returned. Gone
    /// after its time limit ([`MobileFfiError::SummaryCopyGone`]) or once closed.
    pub fn summary_again(&self) -> Result<Summary, MobileFfiError> {
        Ok(Summary::from(&self.core.summary_again()?))
    }

    /// This incident's writes in the outbox, oldest first.
    pub fn queued_writes(&self) -> Result<Vec<QueuedWrite>, MobileFfiError> {
        Ok(self.core.queued_writes()?)
    }

    /// Receiving hospitals; with `location`, nearest first with distances. Allowed at any
    /// step (no patient data).
    pub async fn hospitals(
        &self,
        location: Option<Location>,
    ) -> Result<Vec<Hospital>, MobileFfiError> {
        let hospitals = match location {
            Some(location) => self.core.hospitals_near(location.try_into()?).await?,
            None => self.core.hospitals().await?,
        };
        Ok(hospitals.into_iter().map(Hospital::from).collect())
    }

    /// Hands the patient off to a hospital. Allowed once consent is recorded (after a
    /// refusal the hospital gets the crew's observations only), and again after a decline
    /// or withdrawal.
    pub async fn hand_off(&self, request: HandoffRequest) -> Result<Handoff, MobileFfiError> {
        Ok(self.core.hand_off(request.into()).await?)
    }

    /// Where handoff `handoff_id` stands. With `known` (the status the app shows), waits up
    /// to 8 s for it to change first: call it in a loop to follow the hospital's answer.
    pub async fn handoff_state(
        &self,
        handoff_id: String,
        known: Option<HandoffStatus>,
    ) -> Result<HandoffState, MobileFfiError> {
        let id = parse_handoff_id(&handoff_id)?;
        let known = known.as_ref().map(HandoffStatus::wire_tag);
        Ok(self.core.handoff_state(id, known).await?.into())
    }

    /// Withdraws handoff `handoff_id` (the patient goes elsewhere); the hospital is told.
    /// `None` while the withdrawal waits in the outbox for signal.
    pub async fn withdraw_handoff(
        &self,
        handoff_id: String,
    ) -> Result<Option<HandoffState>, MobileFfiError> {
        let id = parse_handoff_id(&handoff_id)?;
        Ok(self.core.withdraw_handoff(id).await?.map(Into::into))
    }

    /// Ends the incident: forgets the card certificate and wipes the summary copy (queued
    /// writes are still delivered). Closing twice does nothing.
    pub fn close(&self) -> Result<(), MobileFfiError> {
        Ok(self.core.close()?)
    }
}

/// Waits for `task`, running on the core's runtime. If the app drops the awaiting future
/// (a cancelled coroutine), the task is aborted at its next `.await`; a card exchange in
/// progress finishes first. A panic in the task is re-raised here (uniffi reports it to the
/// app as an internal error).
async fn on_core<T: Send + 'static>(
    task: JoinHandle<Result<T, MobileError>>,
) -> Result<T, MobileFfiError> {
    match (AbortOnDrop(task)).await {
        Ok(result) => Ok(result?),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Only an abort cancels the task, and only this guard aborts it, on drop.
        Err(error) => unreachable!("core task cancelled while awaited: {error}"),
    }
}

/// A step time as saved by mobile-core (RFC 3339), as the instant the apps get (the epoch
/// if damaged).
pub(crate) fn instant(rfc3339: &str) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or(SystemTime::UNIX_EPOCH, SystemTime::from)
}

/// A task handle that aborts its task when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: StdPin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        StdPin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl From<mobile_core::IncidentStep> for IncidentStep {
    fn from(step: mobile_core::IncidentStep) -> Self {
        use mobile_core::IncidentStep as Core;
        match step {
            Core::Started => IncidentStep::Started,
            Core::CardRead => IncidentStep::CardRead,
            Core::Identified => IncidentStep::Identified,
            Core::ConsentRecorded(consent) => IncidentStep::ConsentRecorded {
                consent: consent.into(),
            },
            Core::SummaryFetched => IncidentStep::SummaryFetched,
            Core::HandedOff => IncidentStep::HandedOff,
            Core::Closed => IncidentStep::Closed,
        }
    }
}
