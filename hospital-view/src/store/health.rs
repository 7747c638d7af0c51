//! What readiness and the operational gauges read: a write round-trip and the answers'
//! outbox backlog. Counts and times only.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::database::{Store, parse_time, time_text};
use crate::error::Result;

/// The answers' outbox backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionBacklog {
    /// Answers not yet delivered to the edge.
    pub undelivered: u64,
    /// When the oldest of them was given, if there is one.
    pub oldest_answered_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Readiness' write round-trip: rewrites the single row of `health_probe` and commits.
    pub fn probe_write(&self, now: DateTime<Utc>) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO health_probe (id, written_at) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
            params![time_text(now)],
        )?;
        Ok(())
    }

    /// How many answers wait for delivery, and since when.
    pub fn decision_backlog(&self) -> Result<DecisionBacklog> {
        let (undelivered, oldest): (i64, Option<String>) = self.conn()?.query_row(
            "SELECT COUNT(*), MIN(a.answered_at) FROM decision_outbox o
             JOIN arrivals a ON a.handoff_id = o.handoff_id
             WHERE o.outcome IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(DecisionBacklog {
            undelivered: u64::try_from(undelivered).unwrap_or(0),
            oldest_answered_at: oldest.as_deref().map(parse_time).transpose()?,
        })
    }
}
