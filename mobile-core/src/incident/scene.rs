//! [`Scene`]: one incident's state and the steps that record the patient's consent, fetch
//! and show the summary, hand off and close. The public handle is
//! [`super::EmergencyIncident`]; identification is in [`super::identify`].

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::Utc;
use myna_domain::access::IncidentId;
use myna_domain::consent::{ConsentState, MAX_REASON_NOTE_CHARS};
use myna_domain::handoff::HandoffState;
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{ConsentRecorded, ConsentRequest, HandoffRequest, HandoffResponse};
use serde::de::DeserializeOwned;

use super::reports::HandoffSent;
use crate::delivery::Delivery;
use crate::error::MobileError;
use crate::local::QueuedWrite;
use crate::local::outbox::Write;
use crate::progress::{IncidentProgress, IncidentStep};

/// What changes as the incident goes on.
pub(super) struct IncidentState {
    pub(super) progress: IncidentProgress,
    /// Held from the card read until close; nothing else about the patient is kept.
    pub(super) certificate_der: Option<Vec<u8>>,
}

/// One patient, one crew: the incident behind its handles.
pub(super) struct Scene {
    pub(super) id: IncidentId,
    pub(super) crew_member_id: String,
    pub(super) delivery: Delivery,
    pub(super) state: Mutex<IncidentState>,
}

impl Scene {
    pub(super) async fn record_consent(
        &self,
        consent: ConsentState,
    ) -> Result<ConsentState, MobileError> {
        self.check(&IncidentStep::ConsentRecorded(consent.clone()))?;
        if let ConsentState::Difficult { reason } = &consent {
            reason
                .validate()
                .map_err(|_| MobileError::ConsentReasonInvalid {
                    max: MAX_REASON_NOTE_CHARS,
                })?;
        }
        let recorded = match self
            .delivery
            .submit(
                self.id,
                Write::Consent(ConsentRequest::from_domain(&consent)),
            )
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

    pub(super) async fn fetch_summary(&self) -> Result<EmergencySummary, MobileError> {
        self.check(&IncidentStep::SummaryFetched)?;
        let summary = self
            .delivery
            .fetch_summary(self.id, &self.crew_member_id)
            .await?;
        self.advance(IncidentStep::SummaryFetched)?;
        Ok(summary)
    }

    pub(super) fn summary_again(&self) -> Result<EmergencySummary, MobileError> {
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
            .delivery
            .store()
            .kept_summary(self.id, now)?
            .ok_or(MobileError::SummaryCopyGone)?;
        self.delivery
            .record_shown_again(self.id, &self.crew_member_id, now)?;
        tracing::info!(incident = %self.id, "summary shown again from the tablet's copy");
        Ok(summary)
    }

    pub(super) async fn hand_off(
        &self,
        mut request: HandoffRequest,
    ) -> Result<HandoffSent, MobileError> {
        self.check(&IncidentStep::HandedOff)?;
        let handoff_id = *request.handoff_id.get_or_insert_with(uuid::Uuid::now_v7);
        let hospital_id = request.hospital_id.clone();
        let sent = match self
            .delivery
            .submit(self.id, Write::Handoff(request))
            .await?
        {
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

    pub(super) async fn handoff_state(
        &self,
        handoff: uuid::Uuid,
        known: Option<&str>,
    ) -> Result<HandoffState, MobileError> {
        self.delivery.send_queued(self.id).await?;
        Ok(self.delivery.edge().handoff_state(handoff, known).await?)
    }

    pub(super) async fn withdraw_handoff(
        &self,
        handoff: uuid::Uuid,
    ) -> Result<Option<HandoffState>, MobileError> {
        let answer = self
            .delivery
            .submit(
                self.id,
                Write::Withdraw {
                    handoff_id: handoff,
                },
            )
            .await?;
        answer.as_deref().map(parse).transpose()
    }

    pub(super) fn close(&self) -> Result<(), MobileError> {
        if self.state().progress.is_closed() {
            return Ok(());
        }
        self.advance_with(IncidentStep::Closed, |state| state.certificate_der = None)?;
        tracing::info!(incident = %self.id, "incident closed");
        Ok(())
    }

    pub(super) fn queued_writes(&self) -> Result<Vec<QueuedWrite>, MobileError> {
        self.delivery.store().queued_writes(Some(self.id))
    }

    pub(super) fn state(&self) -> MutexGuard<'_, IncidentState> {
        // The state is always consistent between statements: a panic elsewhere while
        // holding the lock cannot leave it half-updated, so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn check(&self, next: &IncidentStep) -> Result<(), MobileError> {
        self.state().progress.check(next)
    }

    pub(super) fn advance(&self, next: IncidentStep) -> Result<(), MobileError> {
        self.advance_with(next, |_| {})
    }

    pub(super) fn advance_with(
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

    pub(super) fn save(&self, state: &IncidentState) -> Result<(), MobileError> {
        self.delivery.store().save_session(
            self.id,
            &self.crew_member_id,
            &state.progress,
            state.certificate_der.as_deref(),
        )
    }

    /// The incident id (UUID), as sent to the edge.
    pub(super) fn incident_id(&self) -> String {
        self.id.to_string()
    }

    pub(super) fn expect_same_incident(&self, answered: IncidentId) -> Result<(), MobileError> {
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
pub(super) fn parse<T: DeserializeOwned>(answer: &str) -> Result<T, MobileError> {
    serde_json::from_str(answer).map_err(|_| MobileError::EdgeResponseInvalid {
        detail: "stored answer is not the expected JSON".into(),
    })
}
