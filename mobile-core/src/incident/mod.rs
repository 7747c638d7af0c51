//! One emergency incident on the tablet: read the card, confirm identity, record consent,
//! fetch the summary, hand off, close.
//!
//! [`crate::progress`] holds the pure rules; [`EmergencyIncident`] drives them. Each method checks
//! the step locally *before* any card or network I/O, so an illegal action (fetching a
//! summary after a refusal) never reaches the edge. The state lock is never held across
//! an `.await` or a card exchange: what is needed is copied out, the guard dropped, and
//! the step recorded only after the I/O succeeded. The writing steps (identity, consent,
//! summary, handoff, withdrawal) run to completion inside a tokio runtime even when their
//! caller drops the future (`crate::completion`); a step cut short anyway (the app killed,
//! the runtime gone) leaves the incident at its previous step with its write queued, and
//! retrying finishes that write rather than sending another (the edge treats a repeated
//! open or the same consent decision as idempotent). A handoff retried while the first is
//! still running is a second handoff unless the caller passes the same `handoff_id`.
//!
//! # Identifying the patient
//! After [`EmergencyIncident::read_card`], identity is confirmed one of two ways, both
//! ending at [`IncidentStep::Identified`]:
//! - [`EmergencyIncident::confirm_identity`]: the crew compares the card's face photo
//!   with the patient (`CardAndPhoto`);
//! - [`EmergencyIncident::identify_with_pin`]: the patient enters the card's 4-digit
//!   user-authentication PIN and the card signs a one-time challenge from the edge
//!   (`PinVerified`). The PIN guard applies: with one try left the PIN is not sent. Any
//!   failure (wrong PIN, guard, another card) leaves the incident at `CardRead`, so the
//!   crew can retry or fall back to the face photo.
//!
//! Card exchanges block. [`EmergencyIncident::read_card`] is a blocking method the app
//! calls off the UI thread. [`EmergencyIncident::identify_with_pin`] is async because it
//! talks to the edge before and after its one card exchange, and the transport is only
//! borrowed, so that exchange cannot move to `spawn_blocking`: on a worker of a
//! multi-threaded tokio runtime it goes through [`tokio::task::block_in_place`] (the
//! worker's other tasks move elsewhere meanwhile), anywhere else it runs in place. Like
//! `read_card`, call it off the UI thread.
//!
//! # Run to completion
//! The steps that write (identity, consent, summary, handoff, withdrawal) run to their end
//! even if the caller stops waiting: inside a tokio runtime each runs as a task of that
//! runtime (`completion.rs`), so the write it queued and the step it saves stay
//! together. Card reads and the PIN path stop where they are when dropped (the incident
//! stays at its previous step).
//!
//! # Layout
//! - [`EmergencyIncident`] (here): the handle the app holds.
//! - `scene`: the incident's state and the steps after identification.
//! - `identify`: reading the card and identifying the patient.
//! - [`reports`]: what the steps report ([`CardReading`], [`IdentityConfirmed`],
//!   [`HandoffSent`]).

mod identify;
pub mod reports;
mod scene;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::disaster::DisasterDeclaration;
use myna_domain::handoff::{GeoPoint, HandoffState};
use myna_domain::identity::BasicFacts;
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{HandoffRequest, HospitalDto};

use crate::card::pin::Pin;
use crate::card::transport::CardTransport;
use crate::completion::to_completion;
use crate::delivery::Delivery;
use crate::edge::EdgeClient;
use crate::error::MobileError;
use crate::local::{LocalStore, QueuedWrite};
use crate::progress::{IncidentProgress, IncidentStep, StepRecord};
pub use reports::{CardReading, HandoffSent, IdentityConfirmed};
use scene::{IncidentState, Scene};

/// One patient, one crew: the scene workflow against the edge server.
pub struct EmergencyIncident {
    scene: Arc<Scene>,
}

impl std::fmt::Debug for EmergencyIncident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmergencyIncident")
            .field("id", &self.scene.id)
            .field("step", &self.scene.state().progress.step().name())
            .finish_non_exhaustive()
    }
}

impl EmergencyIncident {
    /// Starts a new incident with a fresh id on a store in memory: nothing survives the
    /// process (tests, tools). The tablet app uses [`crate::Tablet::start_incident`].
    pub fn new(edge: EdgeClient, crew_member_id: String) -> Self {
        Self::fresh(
            Delivery::new(Arc::new(LocalStore::in_memory()), edge),
            crew_member_id,
        )
    }

    /// Starts a new incident with a fresh id, saved in `store` from the first step, so
    /// the app can [`Self::resume`] it after being killed. Its writes go through a
    /// deliverer of its own; [`crate::Tablet::start_incident`] shares the tablet's.
    pub fn start(
        edge: EdgeClient,
        store: Arc<LocalStore>,
        crew_member_id: String,
    ) -> Result<Self, MobileError> {
        Self::start_with(Delivery::new(store, edge), crew_member_id)
    }

    /// Like [`Self::start`], its writes through `delivery`.
    pub fn start_with(delivery: Delivery, crew_member_id: String) -> Result<Self, MobileError> {
        let incident = Self::fresh(delivery, crew_member_id);
        incident.scene.save(&incident.scene.state())?;
        Ok(incident)
    }

    /// The incident `incident_id` as saved in `store`, at the step it had reached, with
    /// the card certificate if it was read. A closed or unknown incident is
    /// [`MobileError::IncidentNotOnTablet`].
    pub fn resume(
        edge: EdgeClient,
        store: Arc<LocalStore>,
        incident_id: &str,
    ) -> Result<Self, MobileError> {
        Self::resume_with(Delivery::new(store, edge), incident_id)
    }

    /// Like [`Self::resume`], its writes through `delivery`.
    pub fn resume_with(delivery: Delivery, incident_id: &str) -> Result<Self, MobileError> {
        let id = incident_id
            .parse()
            .map(IncidentId)
            .map_err(|_| MobileError::IncidentNotOnTablet)?;
        let (saved, certificate_der) = delivery
            .store()
            .load_session(id)?
            .filter(|(saved, _)| !saved.closed)
            .ok_or(MobileError::IncidentNotOnTablet)?;
        tracing::info!(incident = %id, step = saved.progress.step().name(), "incident resumed");
        Ok(Self::with_scene(Scene {
            id,
            crew_member_id: saved.crew_member_id,
            delivery,
            state: Mutex::new(IncidentState {
                progress: saved.progress,
                certificate_der,
            }),
        }))
    }

    fn fresh(delivery: Delivery, crew_member_id: String) -> Self {
        Self::with_scene(Scene {
            // Time-ordered (UUIDv7), so the edge's incident indexes grow at their right edge.
            id: IncidentId(uuid::Uuid::now_v7()),
            crew_member_id,
            delivery,
            state: Mutex::new(IncidentState {
                progress: IncidentProgress::start(Utc::now()),
                certificate_der: None,
            }),
        })
    }

    fn with_scene(scene: Scene) -> Self {
        EmergencyIncident {
            scene: Arc::new(scene),
        }
    }

    /// The incident id (UUID), as sent to the edge.
    pub fn incident_id(&self) -> String {
        self.scene.id.to_string()
    }

    /// The current step.
    pub fn step(&self) -> IncidentStep {
        self.scene.state().progress.step().clone()
    }

    /// Steps taken so far, oldest first, with timestamps.
    pub fn history(&self) -> Vec<StepRecord> {
        self.scene.state().progress.history().to_vec()
    }

    /// Reads the card's user-authentication certificate (blocking: call it off the UI
    /// thread). Allowed until identity is confirmed, so a wrong card can be re-read.
    pub fn read_card(&self, transport: &dyn CardTransport) -> Result<CardReading, MobileError> {
        self.scene.read_card(transport)
    }

    /// The crew compared the card's face photo with the patient. A match opens the
    /// incident on the edge; a mismatch is refused here, with no network call.
    ///
    /// A card the edge does not trust is [`MobileError::CardUntrusted`]; a revoked one
    /// [`MobileError::CardRevoked`].
    pub async fn confirm_identity(
        &self,
        photo_matches: bool,
    ) -> Result<IdentityConfirmed, MobileError> {
        let scene = Arc::clone(&self.scene);
        to_completion(async move { scene.confirm_identity(photo_matches).await }).await
    }

    /// The patient entered the card's 4-digit user-authentication PIN (利用者証明用暗証番号):
    /// the card signs a one-time challenge from the edge, and the edge opens the incident
    /// with [`myna_domain::identity::AssuranceLevel::PinVerified`]. Allowed where [`Self::confirm_identity`] is
    /// (after [`Self::read_card`]); the card must still be on the reader.
    ///
    /// In order: a fresh challenge from the edge; then, in one card exchange (blocking,
    /// see the module docs), the certificate is read again and must be the one read
    /// before ([`MobileError::DifferentCard`] otherwise, and no PIN is sent), and the card
    /// signs with the PIN behind the retry guard; then the edge checks the signature and
    /// opens the incident.
    ///
    /// Card refusals: [`MobileError::WrongPin`] with the tries left,
    /// [`MobileError::PinGuard`] (one try left: the PIN was not sent),
    /// [`MobileError::PinBlocked`]. Edge refusals: [`MobileError::ChallengeInvalid`] (took
    /// too long: try again), [`MobileError::SignatureInvalid`],
    /// [`MobileError::CardUntrusted`], [`MobileError::CardRevoked`]. On any error the
    /// incident stays at `CardRead`: the PIN can be retried (while the guard allows) or
    /// the face photo checked instead.
    pub async fn identify_with_pin(
        &self,
        transport: &dyn CardTransport,
        pin: Pin,
    ) -> Result<IdentityConfirmed, MobileError> {
        self.scene.identify_with_pin(transport, pin).await
    }

    /// Identifies the patient by the four basic facts (氏名・生年月日・性別・住所 or insurer),
    /// without a card. The edge accepts this from an ambulance crew only while a declared
    /// disaster covers the tablet's area ([`Self::active_disasters`]); otherwise it answers
    /// [`MobileError::Rejected`] with code `outside_declared_disaster` ("identify the patient
    /// by card"). Allowed before any card was read.
    pub async fn identify_by_basic_facts(
        &self,
        facts: BasicFacts,
    ) -> Result<IdentityConfirmed, MobileError> {
        let scene = Arc::clone(&self.scene);
        to_completion(async move { scene.identify_by_basic_facts(facts).await }).await
    }

    /// The disaster declarations covering this tablet's area now: while there is one, the
    /// app may offer identification by the four basic facts.
    pub async fn active_disasters(&self) -> Result<Vec<DisasterDeclaration>, MobileError> {
        Ok(self
            .scene
            .delivery
            .edge()
            .active_disasters()
            .await?
            .disasters)
    }

    /// Records the patient's consent decision on the edge and returns the state the edge
    /// recorded. A `Difficult` reason is checked here first.
    pub async fn record_consent(&self, consent: ConsentState) -> Result<ConsentState, MobileError> {
        let scene = Arc::clone(&self.scene);
        to_completion(async move { scene.record_consent(consent).await }).await
    }

    /// Fetches the emergency summary and keeps a sealed copy on the tablet (see
    /// [`Self::summary_again`]). Rejected locally, with no network call, unless consent
    /// was given or is difficult to obtain. Writes still queued for this incident (the
    /// open, the consent) are sent first; while they cannot be, this is
    /// [`MobileError::EdgeUnreachable`].
    pub async fn fetch_summary(&self) -> Result<EmergencySummary, MobileError> {
        let scene = Arc::clone(&self.scene);
        to_completion(async move { scene.fetch_summary().await }).await
    }

    /// The summary again, from the tablet's sealed copy, without signal. The view is an
    /// access to the patient's records: it is written to the tablet's access records and
    /// queued for the edge's access log before the copy is returned. Allowed once the
    /// summary was fetched, until close; after [`crate::local::SUMMARY_TTL`] the copy is
    /// wiped ([`MobileError::SummaryCopyGone`]: fetch it again).
    pub fn summary_again(&self) -> Result<EmergencySummary, MobileError> {
        self.scene.summary_again()
    }

    /// Receiving hospitals the crew can choose from. Holds no patient data, so it is
    /// allowed at any step.
    pub async fn hospitals(&self) -> Result<Vec<HospitalDto>, MobileError> {
        Ok(self.scene.delivery.edge().hospitals().await?.hospitals)
    }

    /// Hands the patient off to a hospital. Allowed once consent is recorded, including
    /// after a refusal (the hospital then gets the crew's observations only), and again
    /// when a hospital declines and the crew asks the next one.
    ///
    /// The handoff gets the tablet's id (unless the request carries one) and goes through
    /// the outbox: without signal it is [`HandoffSent::queued`] and reaches the hospital
    /// when the edge does.
    pub async fn hand_off(&self, request: HandoffRequest) -> Result<HandoffSent, MobileError> {
        let scene = Arc::clone(&self.scene);
        to_completion(async move { scene.hand_off(request).await }).await
    }

    /// Receiving hospitals nearest to `here` first, each with its distance.
    pub async fn hospitals_near(&self, here: GeoPoint) -> Result<Vec<HospitalDto>, MobileError> {
        Ok(self
            .scene
            .delivery
            .edge()
            .hospitals_near(here)
            .await?
            .hospitals)
    }

    /// Waits (up to [`crate::edge::ANSWER_WAIT`]) for the handoff to move on from `known`
    /// (its state's tag, `None` to read it at once) and returns where it stands. A decline
    /// or withdrawal lets [`EmergencyIncident::hand_off`] ask the next hospital.
    pub async fn handoff_state(
        &self,
        handoff: uuid::Uuid,
        known: Option<&str>,
    ) -> Result<HandoffState, MobileError> {
        self.scene.handoff_state(handoff, known).await
    }

    /// Withdraws a handoff (the patient goes elsewhere); the hospital is told. Through the
    /// outbox: `None` while it waits there for signal.
    pub async fn withdraw_handoff(
        &self,
        handoff: uuid::Uuid,
    ) -> Result<Option<HandoffState>, MobileError> {
        let scene = Arc::clone(&self.scene);
        to_completion(async move { scene.withdraw_handoff(handoff).await }).await
    }

    /// Ends the incident: forgets the card certificate and wipes the summary copy. Writes
    /// still queued are kept until delivered. Closing twice does nothing.
    pub fn close(&self) -> Result<(), MobileError> {
        self.scene.close()
    }

    /// Writes of this incident still waiting in the outbox (or delivered and rejected
    /// ones, for a while): what the app shows as "waiting to send".
    pub fn queued_writes(&self) -> Result<Vec<QueuedWrite>, MobileError> {
        self.scene.queued_writes()
    }

    /// The same incident (id, a copy of its state, its store) against another edge, as
    /// a tablet restarted with other signal would hold it, for tests. A step still running
    /// on the old handle (it runs to completion) keeps its own deliverer.
    #[cfg(test)]
    fn with_edge(self, edge: EdgeClient) -> Self {
        let state = self.scene.state();
        Self::with_scene(Scene {
            id: self.scene.id,
            crew_member_id: self.scene.crew_member_id.clone(),
            delivery: Delivery::new(Arc::clone(self.scene.delivery.store()), edge),
            state: Mutex::new(IncidentState {
                progress: state.progress.clone(),
                certificate_der: state.certificate_der.clone(),
            }),
        })
    }

    /// The state, for tests that set an incident at a step directly.
    #[cfg(test)]
    fn state(&self) -> std::sync::MutexGuard<'_, IncidentState> {
        self.scene.state()
    }
}

#[cfg(test)]
mod tests;
