//! One emergency incident on the tablet: read the card, confirm identity, record consent,
//! fetch the summary, hand off, close.
//!
//! [`step`] holds the pure rules; [`EmergencyIncident`] drives them. Each method checks
//! the step locally *before* any card or network I/O, so an illegal action (fetching a
//! summary after a refusal) never reaches the edge. The state lock is never held across
//! an `.await` or a card exchange: what is needed is copied out, the guard dropped, and
//! the step recorded only after the I/O succeeded. A future dropped midway therefore
//! leaves the incident at its previous step, and retrying is safe (the edge treats a
//! repeated open or the same consent decision as idempotent).
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

pub mod step;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{SecondsFormat, Utc};
use myna_domain::access::IncidentId;
use myna_domain::certificate::{CardCertificate, Validity};
use myna_domain::consent::{ConsentState, MAX_REASON_NOTE_CHARS};
use myna_domain::disaster::DisasterDeclaration;
use myna_domain::handoff::{GeoPoint, HandoffState};
use myna_domain::identity::AssuranceLevel;
use myna_domain::identity::BasicFacts;
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{
    ConsentRecorded, ConsentRequest, HandoffRequest, HandoffResponse, HospitalDto,
    IdentityEvidenceDto, IncidentOpened, OpenIncidentRequest,
};
use serde::de::DeserializeOwned;

use crate::card::jpki::{self, CardKind};
use crate::card::{CardTransport, Pin};
use crate::local::LocalStore;
use crate::local::WriteKind;
use crate::local::delivery::{Outcome, Write};
use crate::{EdgeClient, MobileError};
pub use step::{IncidentProgress, IncidentStep, StepRecord};

/// What the tablet learned from the card. No personal data: the JPKI
/// user-authentication certificate holds no name or address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardReading {
    /// DER of the user-authentication certificate.
    pub certificate_der: Vec<u8>,
    /// Certificate serial number, lowercase hex.
    pub serial_hex: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
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

/// A handoff the crew made: sent to the edge, or waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffSent {
    /// Handoff id (the tablet's UUIDv7; follow it with [`EmergencyIncident::handoff_state`]).
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

struct IncidentState {
    progress: IncidentProgress,
    /// Held from the card read until close; nothing else about the patient is kept.
    certificate_der: Option<Vec<u8>>,
}

/// One patient, one crew: the scene workflow against the edge server.
pub struct EmergencyIncident {
    id: IncidentId,
    edge: EdgeClient,
    crew_member_id: String,
    store: Arc<LocalStore>,
    state: Mutex<IncidentState>,
}

impl std::fmt::Debug for EmergencyIncident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmergencyIncident")
            .field("id", &self.id)
            .field("step", &self.state().progress.step().name())
            .finish_non_exhaustive()
    }
}

impl EmergencyIncident {
    /// Starts a new incident with a fresh id on a store in memory: nothing survives the
    /// process (tests, tools). The tablet app uses [`Self::start`].
    pub fn new(edge: EdgeClient, crew_member_id: String) -> Self {
        Self::fresh(edge, Arc::new(LocalStore::in_memory()), crew_member_id)
    }

    /// Starts a new incident with a fresh id, saved in `store` from the first step, so
    /// the app can [`Self::resume`] it after being killed.
    pub fn start(
        edge: EdgeClient,
        store: Arc<LocalStore>,
        crew_member_id: String,
    ) -> Result<Self, MobileError> {
        let incident = Self::fresh(edge, store, crew_member_id);
        incident.save(&incident.state())?;
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
        let id = incident_id
            .parse()
            .map(IncidentId)
            .map_err(|_| MobileError::IncidentNotOnTablet)?;
        let (saved, certificate_der) = store
            .load_session(id)?
            .filter(|(saved, _)| !saved.closed)
            .ok_or(MobileError::IncidentNotOnTablet)?;
        tracing::info!(incident = %id, step = saved.progress.step().name(), "incident resumed");
        Ok(EmergencyIncident {
            id,
            edge,
            crew_member_id: saved.crew_member_id,
            store,
            state: Mutex::new(IncidentState {
                progress: saved.progress,
                certificate_der,
            }),
        })
    }

    fn fresh(edge: EdgeClient, store: Arc<LocalStore>, crew_member_id: String) -> Self {
        EmergencyIncident {
            // Time-ordered (UUIDv7), so the edge's incident indexes grow at their right edge.
            id: IncidentId(uuid::Uuid::now_v7()),
            edge,
            crew_member_id,
            store,
            state: Mutex::new(IncidentState {
                progress: IncidentProgress::start(Utc::now()),
                certificate_der: None,
            }),
        }
    }

    /// The incident id (UUID), as sent to the edge.
    pub fn incident_id(&self) -> String {
        self.id.to_string()
    }

    /// The current step.
    pub fn step(&self) -> IncidentStep {
        self.state().progress.step().clone()
    }

    /// Steps taken so far, oldest first, with timestamps.
    pub fn history(&self) -> Vec<StepRecord> {
        self.state().progress.history().to_vec()
    }

    /// Reads the card's user-authentication certificate (blocking: call it off the UI
    /// thread). Allowed until identity is confirmed, so a wrong card can be re-read.
    pub fn read_card(&self, transport: &dyn CardTransport) -> Result<CardReading, MobileError> {
        self.check(&IncidentStep::CardRead)?;
        // Once identity was sent with this card (the crew's call was interrupted before the
        // step was saved), another card must not follow it under the same incident.
        if self
            .store
            .live_write(self.id, WriteKind::OpenIncident)?
            .is_some()
        {
            return Err(MobileError::IllegalStep {
                from: "identity sent".into(),
                to: IncidentStep::CardRead.name().into(),
            });
        }
        if jpki::read_token_info(transport)? != CardKind::MyNumberCard {
            return Err(MobileError::NotAMyNumberCard);
        }
        let der = jpki::read_auth_certificate(transport)?;
        let certificate =
            CardCertificate::from_der(&der).map_err(|e| MobileError::CertificateUnreadable {
                detail: e.to_string(),
            })?;
        let now = Utc::now();
        let validity = certificate.validity_at(now);
        let expired = validity == Validity::Expired;
        let not_yet_valid = validity == Validity::NotYetValid;
        if expired {
            tracing::warn!(incident = %self.id, "card certificate expired; the edge decides");
        }
        if not_yet_valid {
            tracing::warn!(incident = %self.id, "card certificate not yet valid; the edge decides");
        }
        self.advance_with(IncidentStep::CardRead, |state| {
            state.certificate_der = Some(der.clone());
        })?;
        tracing::info!(incident = %self.id, "card read");
        Ok(CardReading {
            certificate_der: der,
            serial_hex: certificate.serial_hex,
            not_after: certificate
                .not_after
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            expired,
            not_yet_valid,
        })
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
        let certificate_der = self.certificate_to_identify()?;
        if !photo_matches {
            tracing::info!(incident = %self.id, "face photo not confirmed");
            return Err(MobileError::PhotoMismatch);
        }
        self.open_queued(
            IdentityEvidenceDto::card_with_photo(&certificate_der, true),
            AssuranceLevel::CardAndPhoto,
        )
        .await
    }

    /// The patient entered the card's 4-digit user-authentication PIN (利用者証明用暗証番号):
    /// the card signs a one-time challenge from the edge, and the edge opens the incident
    /// with [`AssuranceLevel::PinVerified`]. Allowed where [`Self::confirm_identity`] is
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
        let certificate_der = self.certificate_to_identify()?;
        let challenge = self.edge.identity_challenge().await?;
        let challenge_bytes =
            challenge
                .challenge()
                .map_err(|_| MobileError::EdgeResponseInvalid {
                    detail: "identity challenge is not base64".into(),
                })?;
        let signature =
            card_io(|| sign_on_the_same_card(transport, &certificate_der, &pin, &challenge_bytes))
                .inspect_err(
                    |error| tracing::info!(incident = %self.id, %error, "PIN signature not made"),
                )?;
        drop(pin);
        self.open(IdentityEvidenceDto::pin_verified(
            &certificate_der,
            challenge.challenge_id,
            &signature,
        ))
        .await
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
        self.check(&IncidentStep::Identified)?;
        self.open_queued(
            IdentityEvidenceDto::BasicFacts { facts },
            AssuranceLevel::BasicFactsOnly,
        )
        .await
    }

    /// The disaster declarations covering this tablet's area now: while there is one, the
    /// app may offer identification by the four basic facts.
    pub async fn active_disasters(&self) -> Result<Vec<DisasterDeclaration>, MobileError> {
        Ok(self.edge.active_disasters().await?.disasters)
    }

    /// Records the patient's consent decision on the edge and returns the state the edge
    /// recorded. A `Difficult` reason is checked here first.
    pub async fn record_consent(&self, consent: ConsentState) -> Result<ConsentState, MobileError> {
        self.check(&IncidentStep::ConsentRecorded(consent.clone()))?;
        if let ConsentState::Difficult { reason } = &consent {
            reason
                .validate()
                .map_err(|_| MobileError::ConsentReasonInvalid {
                    max: MAX_REASON_NOTE_CHARS,
                })?;
        }
        let recorded = match self
            .write(Write::Consent(ConsentRequest::from_domain(&consent)))
            .await?
        {
            Some(answer) => {
                let recorded: ConsentRecorded = parse(&answer)?;
                self.expect_same_incident(recorded.incident_id)?;
                recorded.consent
            }
            None => consent,
        };
        self.advance(IncidentStep::ConsentRecorded(recorded.clone()))?;
        Ok(recorded)
    }

    /// Fetches the emergency summary and keeps a sealed copy on the tablet (see
    /// [`Self::summary_again`]). Rejected locally, with no network call, unless consent
    /// was given or is difficult to obtain. Writes still queued for this incident (the
    /// open, the consent) are sent first; while they cannot be, this is
    /// [`MobileError::EdgeUnreachable`].
    pub async fn fetch_summary(&self) -> Result<EmergencySummary, MobileError> {
        self.check(&IncidentStep::SummaryFetched)?;
        self.send_queued().await?;
        let response = self.edge.fetch_summary(self.id).await?;
        self.expect_same_incident(response.incident_id)?;
        self.store
            .keep_summary(self.id, &self.crew_member_id, &response.summary, Utc::now())?;
        self.advance(IncidentStep::SummaryFetched)?;
        Ok(response.summary)
    }

    /// The summary again, from the tablet's sealed copy, without signal. The view is an
    /// access to the patient's records: it is written to the tablet's access records and
    /// queued for the edge's access log before the copy is returned. Allowed once the
    /// summary was fetched, until close; after [`crate::local::SUMMARY_TTL`] the copy is
    /// wiped ([`MobileError::SummaryCopyGone`]: fetch it again).
    pub fn summary_again(&self) -> Result<EmergencySummary, MobileError> {
        {
            let state = self.state();
            let fetched = state
                .progress
                .history()
                .iter()
                .any(|r| r.step == IncidentStep::SummaryFetched);
            if state.progress.is_closed() || !fetched {
                return Err(MobileError::IllegalStep {
                    from: state.progress.step().name().into(),
                    to: IncidentStep::SummaryFetched.name().into(),
                });
            }
        }
        let now = Utc::now();
        let summary = self
            .store
            .kept_summary(self.id, now)?
            .ok_or(MobileError::SummaryCopyGone)?;
        self.store
            .record_shown_again(self.id, &self.crew_member_id, now)?;
        tracing::info!(incident = %self.id, "summary shown again from the tablet's copy");
        Ok(summary)
    }

    /// Receiving hospitals the crew can choose from. Holds no patient data, so it is
    /// allowed at any step.
    pub async fn hospitals(&self) -> Result<Vec<HospitalDto>, MobileError> {
        Ok(self.edge.hospitals().await?.hospitals)
    }

    /// Hands the patient off to a hospital. Allowed once consent is recorded, including
    /// after a refusal (the hospital then gets the crew's observations only), and again
    /// when a hospital declines and the crew asks the next one.
    ///
    /// The handoff gets the tablet's id (unless the request carries one) and goes through
    /// the outbox: without signal it is [`HandoffSent::queued`] and reaches the hospital
    /// when the edge does.
    pub async fn hand_off(&self, mut request: HandoffRequest) -> Result<HandoffSent, MobileError> {
        self.check(&IncidentStep::HandedOff)?;
        let handoff_id = *request.handoff_id.get_or_insert_with(uuid::Uuid::now_v7);
        let hospital_id = request.hospital_id.clone();
        let sent = match self.write(Write::Handoff(request)).await? {
            Some(answer) => {
                let response: HandoffResponse = parse(&answer)?;
                HandoffSent {
                    handoff_id: response.handoff_id,
                    hospital_id: response.hospital_id,
                    delivered: response.delivered,
                    records_shared: Some(response.records_shared),
                    queued: false,
                }
            }
            None => HandoffSent {
                handoff_id,
                hospital_id,
                delivered: false,
                records_shared: None,
                queued: true,
            },
        };
        self.advance(IncidentStep::HandedOff)?;
        Ok(sent)
    }

    /// Receiving hospitals nearest to `here` first, each with its distance.
    pub async fn hospitals_near(&self, here: GeoPoint) -> Result<Vec<HospitalDto>, MobileError> {
        Ok(self.edge.hospitals_near(here).await?.hospitals)
    }

    /// Waits (up to [`crate::edge::ANSWER_WAIT`]) for the handoff to move on from `known`
    /// (its state's tag, `None` to read it at once) and returns where it stands. A decline
    /// or withdrawal lets [`EmergencyIncident::hand_off`] ask the next hospital.
    pub async fn handoff_state(
        &self,
        handoff: uuid::Uuid,
        known: Option<&str>,
    ) -> Result<HandoffState, MobileError> {
        self.send_queued().await?;
        Ok(self.edge.handoff_state(handoff, known).await?)
    }

    /// Withdraws a handoff (the patient goes elsewhere); the hospital is told. Through the
    /// outbox: `None` while it waits there for signal.
    pub async fn withdraw_handoff(
        &self,
        handoff: uuid::Uuid,
    ) -> Result<Option<HandoffState>, MobileError> {
        let answer = self
            .write(Write::Withdraw {
                handoff_id: handoff,
            })
            .await?;
        answer.as_deref().map(parse).transpose()
    }

    /// Ends the incident: forgets the card certificate and wipes the summary copy. Writes
    /// still queued are kept until delivered. Closing twice does nothing.
    pub fn close(&self) -> Result<(), MobileError> {
        if self.state().progress.is_closed() {
            return Ok(());
        }
        self.advance_with(IncidentStep::Closed, |state| state.certificate_der = None)?;
        tracing::info!(incident = %self.id, "incident closed");
        Ok(())
    }

    /// Writes of this incident still waiting in the outbox (or delivered and rejected
    /// ones, for a while): what the app shows as "waiting to send".
    pub fn queued_writes(&self) -> Result<Vec<crate::local::QueuedWrite>, MobileError> {
        self.store.queued_writes(Some(self.id))
    }

    /// The certificate read from the card, if identity may be confirmed now.
    fn certificate_to_identify(&self) -> Result<Vec<u8>, MobileError> {
        let state = self.state();
        state.progress.check(&IncidentStep::Identified)?;
        state
            .certificate_der
            .clone()
            .ok_or_else(|| MobileError::IllegalStep {
                from: state.progress.step().name().into(),
                to: IncidentStep::Identified.name().into(),
            })
    }

    /// Opens the incident through the outbox with `identity` (evidence that stays valid
    /// while queued: the face photo, the basic facts) and moves to `Identified`; without
    /// signal the open waits in the outbox with `expected` as the assurance shown.
    async fn open_queued(
        &self,
        identity: IdentityEvidenceDto,
        expected: AssuranceLevel,
    ) -> Result<IdentityConfirmed, MobileError> {
        let request = OpenIncidentRequest {
            incident_id: self.id,
            crew_member_id: self.crew_member_id.clone(),
            identity,
        };
        // An open already queued or delivered (the call that queued it was interrupted
        // before the step was saved): finish that one, never send a second.
        let answer = match self.store.live_write(self.id, WriteKind::OpenIncident)? {
            Some(sent) => self.settle(sent).await?,
            None => self.write(Write::OpenIncident(request)).await?,
        };
        let (assurance, queued) = match answer {
            Some(answer) => {
                let opened: IncidentOpened = parse(&answer)?;
                self.expect_same_incident(opened.incident_id)?;
                (opened.assurance, false)
            }
            None => (expected, true),
        };
        self.advance(IncidentStep::Identified)?;
        Ok(IdentityConfirmed {
            incident_id: self.incident_id(),
            assurance,
            queued,
        })
    }

    /// Queues `write` and sends this incident's queue now: `Some(answer)` when the edge
    /// took it, `None` when it waits for signal, the edge's refusal as the error.
    async fn write(&self, write: Write) -> Result<Option<String>, MobileError> {
        let item = self.store.enqueue(self.id, &write)?;
        self.settle(item).await
    }

    /// Sends this incident's queue now and reports where write `item` stands.
    async fn settle(&self, item: uuid::Uuid) -> Result<Option<String>, MobileError> {
        self.store.send_incident_now(&self.edge, self.id).await?;
        match self.store.outcome_of(item)? {
            Outcome::Delivered(answer) => Ok(Some(answer)),
            Outcome::Queued(error) => {
                tracing::info!(incident = %self.id, %error, "write queued until the edge is reachable");
                Ok(None)
            }
            Outcome::Rejected(error) => Err(error),
        }
    }

    /// Sends this incident's queued writes; the reason when some must still wait.
    async fn send_queued(&self) -> Result<(), MobileError> {
        match self.store.send_incident_now(&self.edge, self.id).await? {
            None => Ok(()),
            Some(stuck) => Err(stuck),
        }
    }

    /// Opens the incident on the edge directly (a PIN signature over a short-lived
    /// challenge: not worth queueing) and moves to `Identified`.
    async fn open(&self, identity: IdentityEvidenceDto) -> Result<IdentityConfirmed, MobileError> {
        let request = OpenIncidentRequest {
            incident_id: self.id,
            crew_member_id: self.crew_member_id.clone(),
            identity,
        };
        let opened = self.edge.open_incident(&request).await?;
        self.expect_same_incident(opened.incident_id)?;
        self.advance(IncidentStep::Identified)?;
        Ok(IdentityConfirmed {
            incident_id: self.incident_id(),
            assurance: opened.assurance,
            queued: false,
        })
    }

    fn state(&self) -> MutexGuard<'_, IncidentState> {
        // The state is always consistent between statements: a panic elsewhere while
        // holding the lock cannot leave it half-updated, so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self, next: &IncidentStep) -> Result<(), MobileError> {
        self.state().progress.check(next)
    }

    fn advance(&self, next: IncidentStep) -> Result<(), MobileError> {
        self.advance_with(next, |_| {})
    }

    /// Moves to `next` and applies `change`, saving both before the new state is kept:
    /// a step the API reported is on the tablet's disk.
    fn advance_with(
        &self,
        next: IncidentStep,
        change: impl FnOnce(&mut IncidentState),
    ) -> Result<(), MobileError> {
        let name = next.name();
        let mut state = self.state();
        let mut updated = IncidentState {
            progress: state.progress.clone(),
            certificate_der: state.certificate_der.clone(),
        };
        updated.progress.advance(next, Utc::now())?;
        change(&mut updated);
        self.save(&updated)?;
        *state = updated;
        tracing::info!(incident = %self.id, step = name, "incident step");
        Ok(())
    }

    fn save(&self, state: &IncidentState) -> Result<(), MobileError> {
        self.store.save_session(
            self.id,
            &self.crew_member_id,
            &state.progress,
            state.certificate_der.as_deref(),
        )
    }

    fn expect_same_incident(&self, answered: IncidentId) -> Result<(), MobileError> {
        if answered == self.id {
            Ok(())
        } else {
            Err(MobileError::EdgeResponseInvalid {
                detail: "response is for another incident".into(),
            })
        }
    }
}

/// Reads an edge answer kept by the outbox.
fn parse<T: DeserializeOwned>(answer: &str) -> Result<T, MobileError> {
    serde_json::from_str(answer).map_err(|_| MobileError::EdgeResponseInvalid {
        detail: "stored answer is not the expected JSON".into(),
    })
}

/// Checks the card on the reader holds `certificate_der` (the card read at the start),
/// then signs `challenge` with `pin` behind the retry guard. Nothing is sent to another
/// card but the certificate read. Blocking.
fn sign_on_the_same_card(
    transport: &dyn CardTransport,
    certificate_der: &[u8],
    pin: &Pin,
    challenge: &[u8],
) -> Result<Vec<u8>, MobileError> {
    if jpki::read_auth_certificate(transport)? != certificate_der {
        return Err(MobileError::DifferentCard);
    }
    Ok(jpki::sign_challenge(transport, pin, challenge)?)
}

/// Runs a blocking card exchange from async code. On a multi-threaded tokio runtime the
/// worker first hands its other tasks to the rest of the pool
/// ([`tokio::task::block_in_place`]; on a thread that is not a worker it runs in place);
/// on a current-thread runtime, where `block_in_place` would panic, or outside tokio, it
/// simply runs in place.
fn card_io<T>(exchange: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(exchange)
        }
        _ => exchange(),
    }
}

#[cfg(test)]
mod tests;

/// Kept beside the code rather than in `tests.rs` (owned by the incident work).
#[cfg(test)]
mod validity_tests {
    use super::*;
    use crate::card::apdu;
    use crate::card::jpki::tests::{ScriptedCard, certificate_script};

    fn certificate(not_before_year: i32, not_after_year: i32) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.not_before = rcgen::date_time_ymd(not_before_year, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn card(der: &[u8]) -> ScriptedCard {
        let mut token = jpki::MY_NUMBER_CARD_TOKEN.to_vec();
        token.resize(0x20, b' ');
        token.extend_from_slice(&[0x90, 0x00]);
        let mut script = vec![
            (
                apdu::select_aid(&jpki::JPKI_AP_AID).unwrap(),
                Ok(vec![0x90, 0x00]),
            ),
            (apdu::select_ef(jpki::EF_TOKEN_INFO), Ok(vec![0x90, 0x00])),
            (apdu::read_binary(0, 0x20).unwrap(), Ok(token)),
        ];
        script.extend(certificate_script(der));
        ScriptedCard::new(script)
    }

    #[test]
    fn reading_reports_expired_and_not_yet_valid_certificates() {
        let edge = EdgeClient::new("http://127.0.0.1:9".into(), "tablet-token".into()).unwrap();
        let incident = EmergencyIncident::new(edge, "crew-042".into());
        let read = |der: Vec<u8>| {
            let reading = incident.read_card(&card(&der)).unwrap();
            (reading.expired, reading.not_yet_valid)
        };
        assert_eq!(read(certificate(2020, 2099)), (false, false));
        assert_eq!(read(certificate(2020, 2021)), (true, false));
        assert_eq!(read(certificate(2098, 2099)), (false, true));
    }
}
