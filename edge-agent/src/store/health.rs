//! What readiness and the operational gauges read: a write round-trip, the log's size
//! and its newest checkpoint, the hospital outbox's backlog. Counts and times only.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::tx::{Tx, parse_time, sortable_time};
use crate::error::Result;

/// The log and outbox facts readiness and the gauges need, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationalSample {
    /// Entries (leaves) in the access log's tree.
    pub log_entries: u64,
    /// When the newest checkpoint was signed, if one was.
    pub newest_checkpoint_at: Option<DateTime<Utc>>,
    /// When the oldest entry no checkpoint covers yet was appended, if there is one.
    pub oldest_unsigned_entry_at: Option<DateTime<Utc>>,
    /// Undelivered messages in the hospital outbox.
    pub outbox_undelivered: u64,
    /// When the oldest undelivered outbox message was queued, if there is one.
    pub oldest_undelivered_at: Option<DateTime<Utc>>,
}

impl Tx<'_> {
    /// Readiness' write round-trip: rewrites the single row of `health_probe`, so the
    /// transaction has something to commit (a lock taken, a page written, an fsync).
    pub fn probe_write(&self, now: DateTime<Utc>) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO health_probe (id, written_at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at",
            )?
            .execute(params![sortable_time(now)])?;
        Ok(())
    }

    /// The log and outbox facts of [`OperationalSample`].
    pub fn operational_sample(&self) -> Result<OperationalSample> {
        let log_entries = self.tree_size()?;
        let newest = self.latest_checkpoint()?;
        let covered = newest.as_ref().map_or(0, |c| c.tree_size);
        let oldest_unsigned_entry_at = if covered < log_entries {
            // Leaf n is the row with seq n + 1: the first uncovered leaf is row covered + 1.
            let at: Option<String> = self
                .tx
                .query_row(
                    "SELECT at FROM access_log WHERE seq = ?1",
                    params![i64::try_from(covered).unwrap_or(i64::MAX).saturating_add(1)],
                    |r| r.get(0),
                )
                .optional()?;
            at.as_deref().map(parse_time).transpose()?
        } else {
            None
        };
        let (undelivered, oldest): (i64, Option<String>) = self.tx.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM hospital_outbox WHERE delivered_at IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(OperationalSample {
            log_entries,
            newest_checkpoint_at: newest.map(|c| c.signed_at),
            oldest_unsigned_entry_at,
            outbox_undelivered: u64::try_from(undelivered).unwrap_or(0),
            oldest_undelivered_at: oldest.as_deref().map(parse_time).transpose()?,
        })
    }
}
