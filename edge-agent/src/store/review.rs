//! The privacy officer's review queue in SQLite: queueing an access as it is appended,
//! the facts its anomaly flags are computed from, the listing, and the findings.
//!
//! Rules live in [`crate::review`]; this module only gathers facts and stores rows.
//! Windows are bounded by the log's order (`seq` at most the access's) and by time
//! (`unixepoch(at)` at least the access's time minus the window, over the
//! `access_log_by_time` index).

use chrono::{DateTime, Utc};
use myna_domain::access::{AccessRecord, AccessRecordId, ReviewOutcome, ViewerRole};
use rusqlite::{OptionalExtension, params};

use super::tx::{Tx, from_json, parse_time, sortable_time};
use crate::error::{Error, Result};
use crate::review::{self, AccessFacts, AnomalyFlag, IncidentTimes};

/// One finding of a privacy officer, as stored: the wire type itself (it carries nothing
/// the officer may not see).
pub use myna_domain::wire::ReviewDecision as Finding;

/// A queued access with what the officer needs to review it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItemRow {
    /// Position in the queue (its first reason's row id): the page cursor.
    pub position: i64,
    /// When it was first queued.
    pub queued_at: DateTime<Utc>,
    /// The access record (the API passes on only what review needs).
    pub record: AccessRecord,
    /// Reasons it was queued for, oldest first.
    pub queued_for: Vec<String>,
    /// Its anomaly flags as they stand now.
    pub flags: Vec<AnomalyFlag>,
    /// What the patient wrote when flagging it.
    pub patient_note: Option<String>,
    /// No finding yet, or a reason queued after the latest one.
    pub open: bool,
    /// Findings, oldest first.
    pub findings: Vec<Finding>,
}

/// Whether an access can be given a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueStatus {
    /// No access record has this id.
    UnknownAccess,
    /// The access exists but was never queued.
    NotQueued,
    /// Queued; the highest queue row id of the access (what a finding now covers).
    Queued(i64),
}

fn unix(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

impl Tx<'_> {
    /// Queues `record` (just appended as row `seq`) for every reason that holds now.
    pub(super) fn queue_on_append(&self, record: &AccessRecord, seq: i64) -> Result<()> {
        let flags = if review::may_be_anomalous(record) {
            let facts = self.access_facts(record, seq, false)?;
            review::anomaly_flags(record, &facts, &self.review)
        } else {
            Vec::new()
        };
        let reasons = review::reasons_on_append(record, &flags);
        if reasons.is_empty() {
            return Ok(());
        }
        let mut insert = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO review_queue (access_id, reason, opened_at) VALUES (?1, ?2, ?3)",
        )?;
        let id = record.id.0.to_string();
        let at = sortable_time(record.at);
        for reason in reasons {
            insert.execute(params![id, reason, at])?;
        }
        Ok(())
    }

    /// The facts of `record` (row `seq`) for its anomaly flags, with transport as it
    /// stands now.
    fn access_facts(&self, record: &AccessRecord, seq: i64, flagged: bool) -> Result<AccessFacts> {
        let thresholds = self.review;
        let unit_patients_without_transport = match (&record.viewer.role, &record.viewer.unit) {
            (ViewerRole::Paramedic, Some(unit)) => {
                let since = unix(record.at - thresholds.many_patients_window);
                let count: i64 = self
                    .tx
                    .prepare_cached(
                        // By unit, not by time: a unit's accesses are few, the window's
                        // are every unit's (the national fleet's thousands per hour). A
                        // unit is its name within its fire department: "救急1" is in many.
                        "SELECT COUNT(DISTINCT a.patient_id) FROM access_log a
                         INDEXED BY access_log_by_unit
                         WHERE json_extract(a.record_json, '$.viewer.unit') = ?3
                           AND a.institution_id = ?4
                           AND a.seq <= ?2 AND unixepoch(a.at, 'subsec') >= ?1
                           AND a.patient_id IS NOT NULL
                           AND json_extract(a.record_json, '$.outcome.type') = 'disclosed'
                           AND json_extract(a.record_json, '$.viewer.role') = 'paramedic'
                           AND NOT EXISTS (SELECT 1 FROM handoffs h
                               WHERE h.incident_id = a.incident_id
                                 AND h.status IN ('sent', 'accepted'))",
                    )?
                    .query_row(
                        params![since, seq, unit, record.viewer.institution.id],
                        |r| r.get(0),
                    )?;
                Some(u32::try_from(count).unwrap_or(u32::MAX))
            }
            _ => None,
        };
        let patient_disclosures = match &record.patient {
            Some(patient) => {
                let since = unix(record.at - thresholds.repeated_views_window);
                let count: i64 = self
                    .tx
                    .prepare_cached(
                        "SELECT COUNT(*) FROM access_log a INDEXED BY access_log_by_patient
                         WHERE a.patient_id = ?1 AND a.seq <= ?2
                           AND unixepoch(a.at, 'subsec') >= ?3
                           AND json_extract(a.record_json, '$.outcome.type') = 'disclosed'",
                    )?
                    .query_row(params![patient.0, seq, since], |r| r.get(0))?;
                u32::try_from(count).unwrap_or(u32::MAX)
            }
            None => 0,
        };
        let incident = match record.incident {
            Some(incident) => {
                let row: Option<(String, Option<String>)> = self
                    .tx
                    .prepare_cached(
                        "SELECT i.opened_at, (SELECT MIN(h.decided_at) FROM handoffs h
                             WHERE h.incident_id = i.id AND h.status = 'accepted')
                         FROM incidents i WHERE i.id = ?1",
                    )?
                    .query_row([incident.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                row.map(|(opened, accepted)| -> Result<IncidentTimes> {
                    Ok(IncidentTimes {
                        opened_at: parse_time(&opened)?,
                        accepted_at: accepted.as_deref().map(parse_time).transpose()?,
                    })
                })
                .transpose()?
            }
            None => None,
        };
        Ok(AccessFacts {
            unit_patients_without_transport,
            patient_disclosures,
            incident,
            patient_flagged: flagged,
        })
    }

    /// Up to `limit` queued accesses positioned after `after`, oldest first; only open
    /// ones when `open_only`. Flags are recomputed now.
    pub fn review_items(
        &self,
        open_only: bool,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ReviewItemRow>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT q.access_id, MIN(q.id) AS position, MAX(q.id),
                 (SELECT o.covers_queue_id FROM review_outcomes o
                  WHERE o.access_id = q.access_id ORDER BY o.id DESC LIMIT 1)
             FROM review_queue q GROUP BY q.access_id
             HAVING position > ?1
                AND (?2 = 0 OR COALESCE((SELECT o.covers_queue_id FROM review_outcomes o
                      WHERE o.access_id = q.access_id ORDER BY o.id DESC LIMIT 1), 0) < MAX(q.id))
             ORDER BY position LIMIT ?3",
        )?;
        type Row = (String, i64, i64, Option<i64>);
        let rows = stmt
            .query_map(params![after, open_only, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<Vec<Row>>>()?;
        rows.into_iter()
            .map(|(access_id, position, last, covered)| {
                self.review_item(&access_id, position, covered.is_none_or(|c| c < last))
            })
            .collect()
    }

    fn review_item(&self, access_id: &str, position: i64, open: bool) -> Result<ReviewItemRow> {
        let (seq, json, flagged, patient_note): (i64, String, bool, Option<String>) =
            self.tx.query_row(
                "SELECT a.seq, a.record_json, f.access_id IS NOT NULL, f.note
                 FROM access_log a LEFT JOIN access_flags f ON f.access_id = a.id
                 WHERE a.id = ?1",
                [access_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        let record: AccessRecord = from_json(&json)?;
        let mut reasons = self
            .tx
            .prepare_cached(
                "SELECT reason, opened_at FROM review_queue WHERE access_id = ?1 ORDER BY id",
            )?
            .query_map([access_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter();
        let (first, queued_at) = reasons
            .next()
            .ok_or_else(|| Error::Corrupt("review item without a reason".into()))?;
        let queued_for = std::iter::once(first)
            .chain(reasons.map(|(reason, _)| reason))
            .collect();
        let facts = self.access_facts(&record, seq, flagged)?;
        Ok(ReviewItemRow {
            position,
            queued_at: parse_time(&queued_at)?,
            flags: review::anomaly_flags(&record, &facts, &self.review),
            record,
            queued_for,
            patient_note,
            open,
            findings: self.findings(access_id)?,
        })
    }

    fn findings(&self, access_id: &str) -> Result<Vec<Finding>> {
        let rows = self
            .tx
            .prepare_cached(
                "SELECT outcome, note, officer_id, decided_at, log_access_id
                 FROM review_outcomes WHERE access_id = ?1 ORDER BY id",
            )?
            .query_map([access_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let id = |text: &str| {
            uuid::Uuid::parse_str(text)
                .map(AccessRecordId)
                .map_err(|_| Error::Corrupt("review outcome access id".into()))
        };
        rows.into_iter()
            .map(|(outcome, note, officer_id, decided_at, log_access_id)| {
                Ok(Finding {
                    access_id: id(access_id)?,
                    outcome: ReviewOutcome::parse(&outcome)
                        .ok_or_else(|| Error::Corrupt("review outcome".into()))?,
                    note,
                    officer_id,
                    decided_at: parse_time(&decided_at)?,
                    log_access_id: id(&log_access_id)?,
                })
            })
            .collect()
    }

    /// Whether access `id` exists and is queued.
    pub fn queue_status(&self, id: AccessRecordId) -> Result<QueueStatus> {
        let id = id.0.to_string();
        let exists = self
            .tx
            .query_row("SELECT 1 FROM access_log WHERE id = ?1", [&id], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(QueueStatus::UnknownAccess);
        }
        let last: Option<i64> = self.tx.query_row(
            "SELECT MAX(id) FROM review_queue WHERE access_id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        Ok(last.map_or(QueueStatus::NotQueued, QueueStatus::Queued))
    }

    /// Stores a finding that covers the access's queue rows up to `covers_queue_id`. Its
    /// access record (`finding.log_access_id`) must be appended in this transaction.
    pub fn insert_finding(&self, finding: &Finding, covers_queue_id: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO review_outcomes
                 (access_id, outcome, note, officer_id, decided_at, log_access_id, covers_queue_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                finding.access_id.0.to_string(),
                finding.outcome.code(),
                finding.note,
                finding.officer_id,
                sortable_time(finding.decided_at),
                finding.log_access_id.0.to_string(),
                covers_queue_id,
            ],
        )?;
        Ok(())
    }
}
