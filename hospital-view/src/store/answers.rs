//! The ER's answer to an arrival (受入可 / 受入不可), the crew's withdrawal, and the outbox
//! that carries the answer to the edge.
//!
//! An answer is stored with its event and its outbox row in one transaction, so the wall
//! screen and the crew can never disagree for longer than the edge is unreachable. The
//! first answer stands: a second, different one is refused (call the crew instead).

use chrono::{DateTime, Utc};
use myna_domain::handoff::{DeclineReason, HandoffDecision};
use rusqlite::{OptionalExtension, params};

use super::database::{Store, add_event, parse_time, time_text};
use crate::error::{Error, Result};

/// What the ER answered, or that the crew withdrew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Not answered yet.
    Pending,
    /// Accepted by `by` at `at`.
    Accepted {
        /// Staff id.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Declined by `by` at `at`.
    Declined {
        /// Why.
        reason: DeclineReason,
        /// Staff id.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The crew withdrew the handoff (the patient goes elsewhere, or not at all).
    Withdrawn {
        /// When this hospital heard.
        at: DateTime<Utc>,
    },
}

impl Answer {
    pub(super) fn decode(
        code: &str,
        reason: Option<DeclineReason>,
        at: Option<DateTime<Utc>>,
        by: Option<String>,
    ) -> Result<Self> {
        let corrupt = || Error::Corrupt(format!("answer {code:?}"));
        Ok(match code {
            "pending" => Answer::Pending,
            "accepted" => Answer::Accepted {
                by: by.ok_or_else(corrupt)?,
                at: at.ok_or_else(corrupt)?,
            },
            "declined" => Answer::Declined {
                reason: reason.ok_or_else(corrupt)?,
                by: by.ok_or_else(corrupt)?,
                at: at.ok_or_else(corrupt)?,
            },
            "withdrawn" => Answer::Withdrawn {
                at: at.ok_or_else(corrupt)?,
            },
            _ => return Err(corrupt()),
        })
    }

    /// The decision this answer sends to the edge, if it is one.
    pub fn decision(&self) -> Option<HandoffDecision> {
        match self {
            Answer::Accepted { .. } => Some(HandoffDecision::Accepted),
            Answer::Declined { reason, .. } => Some(HandoffDecision::Declined { reason: *reason }),
            Answer::Pending | Answer::Withdrawn { .. } => None,
        }
    }
}

/// Whether the crew has heard the ER's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrewNotice {
    /// On its way (the edge has not acknowledged it yet); `attempts` failed so far.
    Sending {
        /// Failed attempts.
        attempts: u32,
    },
    /// The edge acknowledged it: the tablet shows it.
    Delivered,
    /// The edge refused it: the handoff was withdrawn or answered before.
    Rejected,
}

impl CrewNotice {
    pub(super) fn decode(outcome: Option<&str>, attempts: Option<u32>) -> Result<Option<Self>> {
        Ok(match (outcome, attempts) {
            (_, None) => None,
            (None, Some(attempts)) => Some(CrewNotice::Sending { attempts }),
            (Some("delivered"), Some(_)) => Some(CrewNotice::Delivered),
            (Some("rejected"), Some(_)) => Some(CrewNotice::Rejected),
            (Some(other), Some(_)) => {
                return Err(Error::Corrupt(format!("answer outcome {other:?}")));
            }
        })
    }
}

/// An answer still to deliver to the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAnswer {
    /// The handoff.
    pub handoff_id: uuid::Uuid,
    /// The [`HandoffDecision`] as JSON.
    pub body_json: String,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// What [`Store::answer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerOutcome {
    /// Stored, with this event id; the outbox will carry it to the edge.
    Stored(i64),
    /// The same answer was already stored: nothing changed.
    Unchanged,
    /// A different answer, or the crew's withdrawal, came first.
    Conflict,
    /// No such arrival.
    NotFound,
}

impl Store {
    /// Stores the ER's answer by `staff_id`, its event, and its outbox row.
    pub fn answer(
        &self,
        handoff_id: uuid::Uuid,
        decision: HandoffDecision,
        staff_id: &str,
        at: DateTime<Utc>,
    ) -> Result<AnswerOutcome> {
        let (code, reason) = match decision {
            HandoffDecision::Accepted => ("accepted", None),
            HandoffDecision::Declined { reason } => ("declined", Some(reason.as_str())),
        };
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let current: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT answer, decline_reason FROM arrivals WHERE handoff_id = ?1",
                [handoff_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let outcome = match current {
            None => AnswerOutcome::NotFound,
            Some((answer, _)) if answer == "pending" => {
                tx.execute(
                    "UPDATE arrivals SET answer = ?2, decline_reason = ?3, answered_at = ?4,
                         answered_by = ?5
                     WHERE handoff_id = ?1",
                    params![
                        handoff_id.to_string(),
                        code,
                        reason,
                        time_text(at),
                        staff_id
                    ],
                )?;
                tx.execute(
                    "INSERT INTO decision_outbox (handoff_id, body_json, next_attempt_at)
                     VALUES (?1, ?2, ?3)",
                    params![
                        handoff_id.to_string(),
                        serde_json::to_string(&decision)?,
                        time_text(at)
                    ],
                )?;
                AnswerOutcome::Stored(add_event(&tx, handoff_id, at)?)
            }
            Some((answer, stored_reason))
                if answer == code && stored_reason.as_deref() == reason =>
            {
                AnswerOutcome::Unchanged
            }
            Some(_) => AnswerOutcome::Conflict,
        };
        tx.commit()?;
        Ok(outcome)
    }

    /// The crew withdrew the handoff. Returns the event id, or `None` when it was already
    /// withdrawn or is unknown here (a withdrawal may overtake nothing: the edge sends it
    /// only after the arrival was delivered or queued before it).
    pub fn withdraw(&self, handoff_id: uuid::Uuid, at: DateTime<Utc>) -> Result<Option<i64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE arrivals SET answer = 'withdrawn', answered_at = ?2
             WHERE handoff_id = ?1 AND answer <> 'withdrawn'",
            params![handoff_id.to_string(), time_text(at)],
        )?;
        let event = if changed == 1 {
            // An answer not yet delivered has nobody left to hear it.
            tx.execute(
                "UPDATE decision_outbox SET outcome = 'rejected'
                 WHERE handoff_id = ?1 AND outcome IS NULL",
                [handoff_id.to_string()],
            )?;
            Some(add_event(&tx, handoff_id, at)?)
        } else {
            None
        };
        tx.commit()?;
        Ok(event)
    }

    /// Whether this handoff is stored here.
    pub fn contains(&self, handoff_id: uuid::Uuid) -> Result<bool> {
        Ok(self.conn()?.query_row(
            "SELECT COUNT(*) > 0 FROM arrivals WHERE handoff_id = ?1",
            [handoff_id.to_string()],
            |r| r.get(0),
        )?)
    }

    /// Answers due for (re)delivery at `now`, oldest first.
    pub fn due_answers(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<PendingAnswer>> {
        let conn = self.conn()?;
        let mut statement = conn.prepare_cached(
            "SELECT handoff_id, body_json, attempts FROM decision_outbox
             WHERE outcome IS NULL AND next_attempt_at <= ?1
             ORDER BY next_attempt_at LIMIT ?2",
        )?;
        let rows = statement.query_map(params![time_text(now), limit], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (id, body_json, attempts) = row?;
            due.push(PendingAnswer {
                handoff_id: uuid::Uuid::parse_str(&id)
                    .map_err(|_| Error::Corrupt("outbox handoff id".into()))?,
                body_json,
                attempts,
            });
        }
        Ok(due)
    }

    /// When the next undelivered answer is due, if any.
    pub fn next_answer_due(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = self.conn()?.query_row(
            "SELECT MIN(next_attempt_at) FROM decision_outbox WHERE outcome IS NULL",
            [],
            |r| r.get(0),
        )?;
        next.as_deref().map(parse_time).transpose()
    }

    /// Records the edge's verdict on an answer (`delivered` or `rejected`), with an event
    /// so the wall screen shows whether the crew heard it. Returns the event id.
    pub fn answer_settled(
        &self,
        handoff_id: uuid::Uuid,
        delivered: bool,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE decision_outbox SET outcome = ?2 WHERE handoff_id = ?1 AND outcome IS NULL",
            params![
                handoff_id.to_string(),
                if delivered { "delivered" } else { "rejected" }
            ],
        )?;
        let event = if changed == 1 {
            Some(add_event(&tx, handoff_id, at)?)
        } else {
            None
        };
        tx.commit()?;
        Ok(event)
    }

    /// An attempt failed: try again at `next`.
    pub fn answer_failed(&self, handoff_id: uuid::Uuid, next: DateTime<Utc>) -> Result<()> {
        self.conn()?.execute(
            "UPDATE decision_outbox SET attempts = attempts + 1, next_attempt_at = ?2
             WHERE handoff_id = ?1 AND outcome IS NULL",
            params![handoff_id.to_string(), time_text(next)],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use myna_domain::access::IncidentId;
    use myna_domain::wire::{ArrivalNotice, Vitals};

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, minute, 0).unwrap()
    }

    fn store_with_arrival() -> (tempfile::TempDir, Store, uuid::Uuid) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("h.sqlite3")).unwrap();
        let id = uuid::Uuid::from_u128(7);
        let notice = ArrivalNotice {
            handoff_id: id,
            incident_id: IncidentId(uuid::Uuid::from_u128(8)),
            fire_department: "FD".into(),
            unit: "U".into(),
            chief_complaint: "c".into(),
            eta: at(30),
            vitals: Vitals::default(),
            consent: None,
            summary: None,
            sent_at: at(0),
            scene: None,
        };
        store.insert(&notice, at(1)).unwrap();
        (dir, store, id)
    }

    const NO_BEDS: HandoffDecision = HandoffDecision::Declined {
        reason: DeclineReason::NoBeds,
    };

    #[test]
    fn the_first_answer_stands_and_is_queued_once() {
        let (_dir, store, id) = store_with_arrival();
        assert_eq!(
            store.answer(id, NO_BEDS, "nurse", at(2)).unwrap(),
            AnswerOutcome::Stored(2)
        );
        assert_eq!(
            store.answer(id, NO_BEDS, "doctor", at(3)).unwrap(),
            AnswerOutcome::Unchanged
        );
        assert_eq!(
            store
                .answer(id, HandoffDecision::Accepted, "doctor", at(3))
                .unwrap(),
            AnswerOutcome::Conflict
        );
        assert_eq!(
            store
                .answer(
                    uuid::Uuid::nil(),
                    HandoffDecision::Accepted,
                    "doctor",
                    at(3)
                )
                .unwrap(),
            AnswerOutcome::NotFound
        );
        let arrival = store.get(id).unwrap().unwrap();
        assert_eq!(
            arrival.answer,
            Answer::Declined {
                reason: DeclineReason::NoBeds,
                by: "nurse".into(),
                at: at(2)
            }
        );
        assert_eq!(
            arrival.crew_notice,
            Some(CrewNotice::Sending { attempts: 0 })
        );
        let due = store.due_answers(at(2), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            serde_json::from_str::<HandoffDecision>(&due[0].body_json).unwrap(),
            NO_BEDS
        );
    }

    #[test]
    fn failures_back_off_and_settling_is_an_event() {
        let (_dir, store, id) = store_with_arrival();
        store
            .answer(id, HandoffDecision::Accepted, "nurse", at(2))
            .unwrap();
        store.answer_failed(id, at(5)).unwrap();
        assert!(
            store.due_answers(at(4), 10).unwrap().is_empty(),
            "not due yet"
        );
        assert_eq!(store.next_answer_due().unwrap(), Some(at(5)));
        assert_eq!(store.due_answers(at(5), 10).unwrap()[0].attempts, 1);
        assert_eq!(store.answer_settled(id, true, at(6)).unwrap(), Some(3));
        assert_eq!(store.answer_settled(id, true, at(7)).unwrap(), None, "once");
        assert_eq!(
            store.get(id).unwrap().unwrap().crew_notice,
            Some(CrewNotice::Delivered)
        );
        assert_eq!(store.next_answer_due().unwrap(), None);
    }

    #[test]
    fn a_withdrawal_closes_the_card_and_its_undelivered_answer() {
        let (_dir, store, id) = store_with_arrival();
        store
            .answer(id, HandoffDecision::Accepted, "nurse", at(2))
            .unwrap();
        assert_eq!(store.withdraw(id, at(4)).unwrap(), Some(3));
        assert_eq!(store.withdraw(id, at(5)).unwrap(), None, "idempotent");
        let arrival = store.get(id).unwrap().unwrap();
        assert_eq!(arrival.answer, Answer::Withdrawn { at: at(4) });
        assert_eq!(arrival.crew_notice, Some(CrewNotice::Rejected));
        assert!(store.due_answers(at(9), 10).unwrap().is_empty());
        assert_eq!(
            store
                .answer(id, HandoffDecision::Accepted, "nurse", at(6))
                .unwrap(),
            AnswerOutcome::Conflict
        );
        assert_eq!(store.withdraw(uuid::Uuid::nil(), at(5)).unwrap(), None);
    }
}
