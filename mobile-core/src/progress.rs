//! The scene workflow's steps as a pure state machine: which step may follow which, and
//! the steps an incident took ([`IncidentProgress`]). Below both the incident workflow
//! ([`crate::incident`]), which advances it, and the local store ([`crate::local`]),
//! which saves it, so neither imports the other.
//!
//! ```text
//! Started ─▶ CardRead ─▶ Identified ─▶ ConsentRecorded(Given | Difficult) ─▶ SummaryFetched ─▶ HandedOff
//!    │         ▲   │         ▲         ConsentRecorded(Refused) ──────────────────────────────▶ HandedOff
//!    │         └───┘         │ (re-read)
//!    └───────────────────────┘ (four basic facts, in a declared disaster: no card)
//! any step except Closed ─▶ Closed
//! ```
//!
//! Rules worth knowing:
//! - After `Refused` nothing is viewed: `SummaryFetched` cannot follow, but `HandedOff`
//!   can (the crew still transports the patient, without records).
//! - `HandedOff` may repeat (a hospital declines, the crew asks the next one), and so may
//!   `SummaryFetched` (refresh) and `CardRead` (wrong card, re-read before identifying).
//! - `HandedOff` may follow `Given`/`Difficult` directly, in case the summary could not be
//!   fetched: the edge decides what the hospital receives.
//! - `Identified` may follow `Started` directly: identification by the four basic facts,
//!   which the edge accepts from crews only within a declared disaster.
//! - `Closed` is final.

use chrono::{DateTime, SecondsFormat, Utc};
use myna_domain::consent::ConsentState;
use serde::{Deserialize, Serialize};

use crate::error::MobileError;

/// A step of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", content = "consent", rename_all = "snake_case")]
pub enum IncidentStep {
    /// Incident created on the tablet; nothing read yet.
    Started,
    /// The card's certificate was read.
    CardRead,
    /// The crew confirmed the face photo and the edge opened the incident (本人確認).
    Identified,
    /// The consent decision was recorded by the edge.
    ConsentRecorded(ConsentState),
    /// The emergency summary was received.
    SummaryFetched,
    /// The patient was handed off to a receiving hospital.
    HandedOff,
    /// The incident is over; the tablet keeps nothing about the patient.
    Closed,
}

impl IncidentStep {
    /// Short English name, for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            IncidentStep::Started => "started",
            IncidentStep::CardRead => "card read",
            IncidentStep::Identified => "identified",
            IncidentStep::ConsentRecorded(ConsentState::Given) => "consent given",
            IncidentStep::ConsentRecorded(ConsentState::Refused) => "consent refused",
            IncidentStep::ConsentRecorded(ConsentState::Difficult { .. }) => "consent difficult",
            IncidentStep::SummaryFetched => "summary fetched",
            IncidentStep::HandedOff => "handed off",
            IncidentStep::Closed => "closed",
        }
    }

    /// Whether `next` may follow this step. For `ConsentRecorded` targets only the
    /// variant matters, not which decision.
    pub fn allows(&self, next: &IncidentStep) -> bool {
        use IncidentStep::*;
        let records_allowed = |c: &ConsentState| !matches!(c, ConsentState::Refused);
        match (self, next) {
            (Closed, _) => false,
            (_, Closed) => true,
            (Started | CardRead, CardRead) => true,
            (Started | CardRead, Identified) => true,
            (Identified, ConsentRecorded(_)) => true,
            (ConsentRecorded(c), SummaryFetched) => records_allowed(c),
            (SummaryFetched, SummaryFetched) => true,
            (ConsentRecorded(_) | SummaryFetched | HandedOff, HandedOff) => true,
            _ => false,
        }
    }

    /// `Ok` when `next` may follow, [`MobileError::IllegalStep`] otherwise.
    pub fn check(&self, next: &IncidentStep) -> Result<(), MobileError> {
        if self.allows(next) {
            Ok(())
        } else {
            Err(MobileError::IllegalStep {
                from: self.name().to_string(),
                to: next.name().to_string(),
            })
        }
    }
}

/// One step taken, with when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step.
    pub step: IncidentStep,
    /// When it was reached, RFC 3339 UTC.
    pub at: String,
}

/// The current step and every step taken so far (saved as JSON in the tablet's store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentProgress {
    step: IncidentStep,
    history: Vec<StepRecord>,
}

impl IncidentProgress {
    /// A new incident at `now`.
    pub fn start(now: DateTime<Utc>) -> Self {
        IncidentProgress {
            step: IncidentStep::Started,
            history: vec![record(IncidentStep::Started, now)],
        }
    }

    /// The current step.
    pub fn step(&self) -> &IncidentStep {
        &self.step
    }

    /// Whether the incident is closed.
    pub fn is_closed(&self) -> bool {
        self.step == IncidentStep::Closed
    }

    /// Steps taken, oldest first.
    pub fn history(&self) -> &[StepRecord] {
        &self.history
    }

    /// Checks whether `next` may follow the current step.
    pub fn check(&self, next: &IncidentStep) -> Result<(), MobileError> {
        self.step.check(next)
    }

    /// Moves to `next` at `now`, or rejects the step and changes nothing.
    pub fn advance(&mut self, next: IncidentStep, now: DateTime<Utc>) -> Result<(), MobileError> {
        self.check(&next)?;
        self.history.push(record(next.clone(), now));
        self.step = next;
        Ok(())
    }
}

fn record(step: IncidentStep, at: DateTime<Utc>) -> StepRecord {
    StepRecord {
        step,
        at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use myna_domain::consent::DifficultyReason;

    use super::*;
    use IncidentStep::*;

    fn all_steps() -> Vec<IncidentStep> {
        vec![
            Started,
            CardRead,
            Identified,
            ConsentRecorded(ConsentState::Given),
            ConsentRecorded(ConsentState::Refused),
            ConsentRecorded(ConsentState::Difficult {
                reason: DifficultyReason::Unconscious,
            }),
            SummaryFetched,
            HandedOff,
            Closed,
        ]
    }

    #[test]
    fn transition_table() {
        // Every allowed (from, to) pair by name; everything else must be rejected.
        let allowed: &[(&str, &str)] = &[
            ("started", "card read"),
            ("started", "identified"),
            ("card read", "card read"),
            ("card read", "identified"),
            ("identified", "consent given"),
            ("identified", "consent refused"),
            ("identified", "consent difficult"),
            ("consent given", "summary fetched"),
            ("consent difficult", "summary fetched"),
            ("consent given", "handed off"),
            ("consent refused", "handed off"),
            ("consent difficult", "handed off"),
            ("summary fetched", "summary fetched"),
            ("summary fetched", "handed off"),
            ("handed off", "handed off"),
        ];
        for from in all_steps() {
            for to in all_steps() {
                let expected =
                    allowed.contains(&(from.name(), to.name())) || (to == Closed && from != Closed);
                let got = from.check(&to);
                if expected {
                    assert_eq!(got, Ok(()), "{} -> {}", from.name(), to.name());
                } else {
                    assert_eq!(
                        got,
                        Err(MobileError::IllegalStep {
                            from: from.name().into(),
                            to: to.name().into()
                        }),
                        "{} -> {}",
                        from.name(),
                        to.name()
                    );
                }
            }
        }
    }

    #[test]
    fn progress_records_each_step_once_with_its_time() {
        let t = |s| Utc.with_ymd_and_hms(2025, 10, 18, 9, 0, s).unwrap();
        let mut p = IncidentProgress::start(t(0));
        p.advance(CardRead, t(1)).unwrap();
        assert!(p.advance(SummaryFetched, t(2)).is_err());
        p.advance(Identified, t(3)).unwrap();
        p.advance(ConsentRecorded(ConsentState::Refused), t(4))
            .unwrap();
        assert!(p.advance(SummaryFetched, t(5)).is_err());
        p.advance(HandedOff, t(6)).unwrap();
        p.advance(Closed, t(7)).unwrap();
        assert!(p.advance(Closed, t(8)).is_err());
        let names: Vec<_> = p.history().iter().map(|r| r.step.name()).collect();
        assert_eq!(
            names,
            [
                "started",
                "card read",
                "identified",
                "consent refused",
                "handed off",
                "closed"
            ]
        );
        assert_eq!(p.history()[1].at, "2025-10-18T09:00:01.000Z");
        assert_eq!(p.step(), &Closed);
    }
}
