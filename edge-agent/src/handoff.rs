//! After the handoff: the hospital's answer, the crew's withdrawal, and what the tablet
//! sees. (Creating a handoff discloses records, so it lives with the other disclosing
//! flows in [`crate::emergency::prepare_handoff`].)
//!
//! A handoff is `sent` until the hospital accepts or declines it or the crew withdraws
//! it. Answers are idempotent (the same answer again changes nothing and is not an
//! error); a different answer after the first is a conflict. The crew may withdraw a
//! handoff that is sent or accepted, and the hospital is told.

use chrono::{DateTime, Utc};
use myna_domain::handoff::{HandoffDecision, HandoffState, HandoffStatus, WithdrawalNotice};

use crate::config::{Config, DeviceRegistration, HospitalEndpoint};
use crate::emergency::{Denial, Flow};
use crate::store::{HandoffRow, OutboxKind, OutboxMessage, Tx};

/// The hospital's answer. Only the hospital the patient was handed to may answer.
pub fn decide(
    tx: &Tx<'_>,
    hospital: &HospitalEndpoint,
    id: uuid::Uuid,
    decision: HandoffDecision,
    now: DateTime<Utc>,
) -> Flow<HandoffRow> {
    let mut row = match owned(tx.handoff(id)?, |row| {
        row.hospital_id == hospital.institution.id
    }) {
        Ok(row) => row,
        Err(denial) => return Ok(Err(denial)),
    };
    let to = match decision {
        HandoffDecision::Accepted => HandoffStatus::Accepted,
        HandoffDecision::Declined { reason } => HandoffStatus::Declined { reason },
    };
    match row.status {
        HandoffStatus::Sent { .. } => {
            tx.decide_handoff(id, row.status, to, now)?;
            row.status = to;
            row.decided_at = Some(now);
            Ok(Ok(row))
        }
        same if same == to => Ok(Ok(row)),
        _ => Ok(Err(Denial::HandoffDecided)),
    }
}

/// The crew withdraws the handoff; returns it and the withdrawal message queued for the
/// hospital (`None` when it was already withdrawn: nothing new to tell).
pub fn withdraw(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Flow<(HandoffRow, Option<OutboxMessage>)> {
    let mut row = match owned(tx.handoff(id)?, |row| row.device_id == device.device_id) {
        Ok(row) => row,
        Err(denial) => return Ok(Err(denial)),
    };
    match row.status {
        HandoffStatus::Withdrawn => Ok(Ok((row, None))),
        HandoffStatus::Declined { .. } => Ok(Err(Denial::HandoffDecided)),
        from @ (HandoffStatus::Sent { .. } | HandoffStatus::Accepted) => {
            tx.decide_handoff(id, from, HandoffStatus::Withdrawn, now)?;
            row.status = HandoffStatus::Withdrawn;
            row.decided_at = Some(now);
            let body_json = serde_json::to_string(&WithdrawalNotice {
                handoff_id: id,
                at: now,
            })?;
            let message_id = tx.queue_withdrawal(&row, &body_json, now)?;
            let message = OutboxMessage {
                id: message_id,
                handoff_id: id,
                hospital_id: row.hospital_id.clone(),
                kind: OutboxKind::Withdrawal,
                body_json,
                attempts: 0,
            };
            Ok(Ok((row, Some(message))))
        }
    }
}

/// The handoff as the device that made it may see it.
pub fn view(tx: &Tx<'_>, device: &DeviceRegistration, id: uuid::Uuid) -> Flow<HandoffRow> {
    Ok(owned(tx.handoff(id)?, |row| {
        row.device_id == device.device_id
    }))
}

/// The handoff if it exists and `mine` says it is the caller's.
fn owned(
    row: Option<HandoffRow>,
    mine: impl FnOnce(&HandoffRow) -> bool,
) -> std::result::Result<HandoffRow, Denial> {
    match row {
        None => Err(Denial::HandoffNotFound),
        Some(row) if mine(&row) => Ok(row),
        Some(_) => Err(Denial::HandoffOfAnother),
    }
}

/// The tablet's view of a handoff row.
pub fn state(config: &Config, row: &HandoffRow) -> HandoffState {
    HandoffState {
        handoff_id: row.id,
        hospital_id: row.hospital_id.clone(),
        hospital_name: config
            .hospital(&row.hospital_id)
            .map_or_else(|| row.hospital_id.clone(), |h| h.institution.name.clone()),
        status: row.status,
        decided_at: row.decided_at,
    }
}
