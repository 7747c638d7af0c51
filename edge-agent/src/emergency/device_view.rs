//! Views of the summary on the tablet (端末での再表示): the tablet keeps the summary it
//! fetched (encrypted) and the crew may show it again later, possibly offline. Each display
//! is an access to the patient's records, so the tablet reports it
//! (`POST /v1/incidents/{id}/device-views`, from its outbox) and it becomes an access
//! record like any other: the patient sees it in the portal.
//!
//! # The record
//! - Its id is the tablet's `view_id`, so a repeated report is found by id in the same
//!   transaction that would append it: the same report again appends nothing (answered
//!   "already recorded"); the id of any other access record is a conflict.
//! - `at` is when the edge received the report (the log's order and clock);
//!   [`AccessAction::ViewOnDevice`] carries `viewed_at`, the tablet's clock at the display.
//! - The viewer is the crew member who opened the incident, on this tablet; the consent is
//!   the incident's as recorded when the report arrives (a refusal recorded after the
//!   fetch shows as such beside the display: the patient and the privacy officer see it).
//! - The outcome is `Disclosed` with the kinds of the tablet's copy: those of the latest
//!   summary disclosed to this incident and tablet.
//!
//! - A `viewed_at` more than [`MAX_DEVICE_CLOCK_SKEW`] after the edge's clock, or before the
//!   incident was opened by more than that, means the tablet's clock is badly off. The view
//!   still happened, so it is recorded all the same, with the time the tablet claimed
//!   (shown to the patient as "time on the tablet", beside `at`); the edge warns so the
//!   tablet's clock gets fixed. Refusing would lose an access: the tablet's outbox gives up
//!   on a 4xx.
//!
//! # What is refused, and logs nothing
//! - Another tablet's incident, or none: `IncidentNotFound` (404, like every incident route).
//! - No summary was ever disclosed to this incident (`NoSummaryDisclosed`, 409): the tablet
//!   cannot hold a copy, so there is no access to record. This is the one case where a
//!   report is not logged; logging it would put a disclosure in the patient's history that
//!   never happened. Denied fetches are logged by the fetch itself.
//!
//! [`MAX_DEVICE_CLOCK_SKEW`]: myna_domain::wire::MAX_DEVICE_CLOCK_SKEW

use chrono::{DateTime, Utc};
use myna_domain::access::{AccessAction, AccessOutcome, AccessRecordId, IncidentId};
use myna_domain::records::RecordKind;
use myna_domain::wire::DeviceViewReport;

use super::{Attempt, Denial, Flow, IncidentUse, crew_incident, crew_viewer};
use crate::config::DeviceRegistration;
use crate::error::Result;
use crate::store::Tx;

/// Records the tablet's report that it showed the incident's summary again. `Ok(true)` when
/// the access record was appended now, `Ok(false)` when this report was recorded before.
pub fn record_device_view(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    id: IncidentId,
    report: DeviceViewReport,
    now: DateTime<Utc>,
) -> Flow<bool> {
    let action = AccessAction::ViewOnDevice {
        viewed_at: report.viewed_at,
    };
    let incident = match crew_incident(tx, device, id, IncidentUse::Report, action.clone(), now)? {
        Ok(incident) => incident,
        Err(denial) => return Ok(Err(denial)),
    };
    let record_id = AccessRecordId(report.view_id);
    if let Some(existing) = tx.access_record(record_id)? {
        let same = existing.incident == Some(id)
            && existing.viewer.device_id.as_deref() == Some(device.device_id.as_str())
            && existing.action == action;
        return Ok(if same {
            Ok(false)
        } else {
            Err(Denial::ViewIdConflict)
        });
    }
    if let Err(why) = report.check_viewed_at(incident.opened_at, now) {
        tracing::warn!(device = %device.device_id, ?why, "tablet clock badly off; view recorded with its time");
    }
    let Some(kinds) = copy_on_tablet(tx, device, id)? else {
        return Ok(Err(Denial::NoSummaryDisclosed));
    };
    Attempt::on(
        tx,
        crew_viewer(device, &incident.crew_member_id),
        &incident,
        action,
        now,
    )
    .log_as(record_id, AccessOutcome::Disclosed { kinds })?;
    Ok(Ok(true))
}

/// The record kinds of the latest summary disclosed to `device` for this incident, or
/// `None` when it was never disclosed one.
fn copy_on_tablet(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    id: IncidentId,
) -> Result<Option<Vec<RecordKind>>> {
    Ok(tx
        .incident_access(id)?
        .into_iter()
        .rev()
        .find_map(|record| match (record.action, record.outcome) {
            (AccessAction::ViewSummary, AccessOutcome::Disclosed { kinds })
                if record.viewer.device_id.as_deref() == Some(device.device_id.as_str()) =>
            {
                Some(kinds)
            }
            _ => None,
        }))
}
