//! The patient portal's storage: a patient's history a page at a time, one of their
//! entries, the institutions in their history, and their flags ("I don't recognise
//! this"), which also queue the entry for the privacy officer (`store::review`).
//!
//! Every lookup by access id is also by patient id: an entry of another patient is
//! indistinguishable from one that does not exist.

use chrono::{DateTime, Utc};
use myna_domain::access::{AccessRecord, AccessRecordId};
use myna_domain::identity::PatientId;
use rusqlite::{OptionalExtension, params};

use super::tx::{Tx, from_json, parse_time, sortable_time};
use crate::error::{Error, Result};

/// Reason code of a review-queue item opened by a patient's flag.
pub use crate::review::PATIENT_FLAG;

/// Which of a patient's entries to list. Every bound is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only entries with a leaf index below this (the page cursor).
    pub before: Option<u64>,
    /// Only entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only entries strictly before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Only entries by this institution id.
    pub institution: Option<String>,
}

/// One of a patient's access records with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientAccess {
    /// Leaf index in the log's Merkle tree (access-log `seq` − 1).
    pub leaf_index: u64,
    /// The exact stored text (what the leaf hash is over).
    pub record_json: String,
    /// The record.
    pub record: AccessRecord,
    /// When the patient flagged it, if they did.
    pub flagged_at: Option<DateTime<Utc>>,
}

/// What flagging an entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOutcome {
    /// No such entry of this patient.
    NotFound,
    /// Newly flagged now, and queued for review.
    Flagged(DateTime<Utc>),
    /// Already flagged at that time; nothing changed.
    AlreadyFlagged(DateTime<Utc>),
}

fn leaf_of(seq: i64) -> Result<u64> {
    u64::try_from(seq - 1).map_err(|_| Error::Corrupt("access log seq below 1".into()))
}

fn row_to_access(seq: i64, json: String, flagged: Option<String>) -> Result<PatientAccess> {
    Ok(PatientAccess {
        leaf_index: leaf_of(seq)?,
        record: from_json(&json)?,
        record_json: json,
        flagged_at: flagged.as_deref().map(parse_time).transpose()?,
    })
}

impl Tx<'_> {
    /// Up to `limit` of `patient`'s entries matching `filter`, newest (highest leaf) first.
    pub fn portal_history(
        &self,
        patient: &PatientId,
        filter: &HistoryFilter,
        limit: u32,
    ) -> Result<Vec<PatientAccess>> {
        // Leaf index n is seq n + 1: "leaf < before" is "seq <= before".
        let max_seq = filter
            .before
            .map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let mut stmt = self.tx.prepare_cached(
            "SELECT a.seq, a.record_json, f.flagged_at
             FROM access_log a LEFT JOIN access_flags f ON f.access_id = a.id
             WHERE a.patient_id = ?1 AND a.seq <= ?2
               AND (?3 IS NULL OR unixepoch(a.at, 'subsec') >= ?3)
               AND (?4 IS NULL OR unixepoch(a.at, 'subsec') < ?4)
               AND (?5 IS NULL OR a.institution_id = ?5)
             ORDER BY a.seq DESC LIMIT ?6",
        )?;
        let rows = stmt
            .query_map(
                params![
                    patient.0,
                    max_seq,
                    filter.from.map(|t| t.timestamp()),
                    filter.until.map(|t| t.timestamp()),
                    filter.institution,
                    limit,
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?
            .collect::<rusqlite::Result<Vec<(i64, String, Option<String>)>>>()?;
        rows.into_iter()
            .map(|(seq, json, flagged)| row_to_access(seq, json, flagged))
            .collect()
    }

    /// One of `patient`'s entries by access id; `None` for an unknown id or another
    /// patient's entry alike.
    pub fn patient_access(
        &self,
        patient: &PatientId,
        id: AccessRecordId,
    ) -> Result<Option<PatientAccess>> {
        let row = self
            .tx
            .query_row(
                "SELECT a.seq, a.record_json, f.flagged_at
                 FROM access_log a LEFT JOIN access_flags f ON f.access_id = a.id
                 WHERE a.id = ?1 AND a.patient_id = ?2",
                params![id.0.to_string(), patient.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(seq, json, flagged)| row_to_access(seq, json, flagged))
            .transpose()
    }

    /// The institutions in `patient`'s whole history as `(id, newest name)`, by name.
    pub fn portal_institutions(&self, patient: &PatientId) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT institution_id, record_json FROM access_log WHERE seq IN
                 (SELECT MAX(seq) FROM access_log WHERE patient_id = ?1 GROUP BY institution_id)",
        )?;
        let rows = stmt
            .query_map([&patient.0], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
        let mut institutions = rows
            .into_iter()
            .map(|(id, json)| {
                let record: AccessRecord = from_json(&json)?;
                Ok((id, record.viewer.institution.name))
            })
            .collect::<Result<Vec<_>>>()?;
        institutions.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Ok(institutions)
    }

    /// Flags `patient`'s entry `id` as not recognised and queues it for review
    /// ([`PATIENT_FLAG`]), both in this transaction. Flagging again changes nothing.
    pub fn flag_access(
        &self,
        patient: &PatientId,
        id: AccessRecordId,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<FlagOutcome> {
        let id = id.0.to_string();
        let owned = self
            .tx
            .query_row(
                "SELECT 1 FROM access_log WHERE id = ?1 AND patient_id = ?2",
                params![id, patient.0],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !owned {
            return Ok(FlagOutcome::NotFound);
        }
        let at = sortable_time(now);
        let inserted = self.tx.execute(
            "INSERT OR IGNORE INTO access_flags (access_id, patient_id, flagged_at, note)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, patient.0, at, note],
        )?;
        if inserted == 1 {
            self.tx.execute(
                "INSERT OR IGNORE INTO review_queue (access_id, reason, opened_at)
                 VALUES (?1, ?2, ?3)",
                params![id, PATIENT_FLAG, at],
            )?;
            return Ok(FlagOutcome::Flagged(now));
        }
        let first: String = self.tx.query_row(
            "SELECT flagged_at FROM access_flags WHERE access_id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        Ok(FlagOutcome::AlreadyFlagged(parse_time(&first)?))
    }
}
