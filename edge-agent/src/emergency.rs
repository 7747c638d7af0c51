//! The incident flows: identify, record consent, disclose the summary, hand off.
//!
//! Each function runs inside one store transaction, asks [`myna_domain::policy`] what is
//! allowed, and appends the access record in that same transaction. A denial is returned
//! as `Ok(Err(Denial))` so the transaction still commits the record of the attempt.
//! Nothing here knows about HTTP.
//!
//! # Retries
//! The tablet queues its writes while it has no signal and sends them later, possibly more
//! than once (an answer can be lost after the commit). Every flow here is idempotent by an
//! id the tablet chose, checked in the same transaction as the effect: the incident id
//! ([`open_incident`]), the decision itself ([`record_consent`]), the handoff id
//! ([`prepare_handoff`]), the view id ([`device_view::record_device_view`]). A repeat appends no access
//! record and queues no message; the same id used for something else is a conflict.

use chrono::{DateTime, Utc};
use myna_domain::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, DenialReason, IncidentId, Purpose,
    Viewer, ViewerRole,
};
use myna_domain::consent::ConsentState;
use myna_domain::identity::PatientId;
use myna_domain::policy::{self, Disclosure};
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{ArrivalNotice, ConsentRequest, HandoffRequest, OpenIncidentRequest};

use crate::card_trust::CardTrust;
use crate::config::{DeviceRegistration, HospitalEndpoint};
use crate::error::Result;
use crate::identify;
use crate::store::{HandoffRow, IncidentRow, OutboxKind, OutboxMessage, Tx};

pub mod device_view;

/// Why a request did not go through. Policy denials are in the access log already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Denied by policy; an access record says so.
    Policy(DenialReason),
    /// The incident does not exist.
    IncidentNotFound,
    /// The incident id is already used for another patient or device.
    IncidentIdConflict,
    /// The patient is already handed to a hospital that has not declined.
    HandoffOpen,
    /// The handoff does not exist.
    HandoffNotFound,
    /// The handoff is another tablet's or another hospital's (answered as not found).
    HandoffOfAnother,
    /// The incident is another unit's: the attempt is in the access log, and the caller is
    /// answered as if it did not exist.
    IncidentOfAnotherUnit,
    /// The handoff was already answered or withdrawn differently.
    HandoffDecided,
    /// The tablet's handoff id is already used by another incident, tablet or hospital.
    HandoffIdConflict,
    /// The tablet's view id is already the id of another access record.
    ViewIdConflict,
    /// A view on the tablet was reported for an incident that was never disclosed a
    /// summary: the tablet cannot hold a copy. Nothing is logged.
    NoSummaryDisclosed,
}

impl From<DenialReason> for Denial {
    fn from(reason: DenialReason) -> Self {
        Denial::Policy(reason)
    }
}

/// The result of a flow: storage errors outside, denials inside.
pub type Flow<T> = Result<std::result::Result<T, Denial>>;

/// The viewer for a crew member on a device.
pub fn crew_viewer(device: &DeviceRegistration, crew_member_id: &str) -> Viewer {
    Viewer {
        staff_id: Some(crew_member_id.to_string()),
        role: ViewerRole::Paramedic,
        device_id: Some(device.device_id.clone()),
        unit: Some(device.unit.clone()),
        institution: device.fire_department.clone(),
        certificate_serial: device.certificate_serial.clone(),
    }
}

/// The receiving hospital as the viewer of a relay; `certificate_serial` is that of the
/// tablet whose request relayed the records.
fn hospital_viewer(hospital: &HospitalEndpoint, certificate_serial: Option<String>) -> Viewer {
    Viewer {
        staff_id: None,
        role: ViewerRole::ReceivingHospital,
        device_id: None,
        unit: None,
        institution: hospital.institution.clone(),
        certificate_serial,
    }
}

/// Everything an access record needs besides its id and outcome.
struct Attempt<'a> {
    tx: &'a Tx<'a>,
    viewer: Viewer,
    incident: Option<IncidentId>,
    patient: Option<PatientId>,
    consent: Option<ConsentState>,
    action: AccessAction,
    now: DateTime<Utc>,
}

impl<'a> Attempt<'a> {
    /// An attempt on an open incident: its patient and recorded consent are known.
    fn on(
        tx: &'a Tx<'a>,
        viewer: Viewer,
        incident: &IncidentRow,
        action: AccessAction,
        now: DateTime<Utc>,
    ) -> Self {
        Attempt {
            tx,
            viewer,
            incident: Some(incident.id),
            patient: Some(incident.patient.clone()),
            consent: incident.consent.clone(),
            action,
            now,
        }
    }

    fn log(self, outcome: AccessOutcome) -> Result<()> {
        // Time-ordered (UUIDv7): the log's unique-id index grows at its right edge, so a
        // group-commit batch dirties a few index pages, not one per record.
        self.log_as(AccessRecordId(uuid::Uuid::now_v7()), outcome)
    }

    /// Appends the record under `id` (a tablet-chosen id, for reports it may repeat).
    fn log_as(self, id: AccessRecordId, outcome: AccessOutcome) -> Result<()> {
        self.tx
            .append_access(&AccessRecord {
                id,
                at: self.now,
                incident: self.incident,
                patient: self.patient,
                viewer: self.viewer,
                purpose: Purpose::EmergencyTreatment,
                action: self.action,
                consent: self.consent,
                outcome,
            })
            .map(drop)
    }

    fn deny<T>(self, reason: DenialReason) -> Flow<T> {
        self.log(AccessOutcome::Denied { reason })?;
        Ok(Err(Denial::Policy(reason)))
    }
}

/// The calling tablet, when no crew member is named (a request from another unit).
fn device_viewer(device: &DeviceRegistration) -> Viewer {
    Viewer {
        staff_id: None,
        ..crew_viewer(device, "")
    }
}

/// What a crew's request does with its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IncidentUse {
    /// Records consent, fetches records or hands off: the incident must be active.
    Act,
    /// Reports what already happened on the tablet (a view of its copy): recorded at any
    /// age, since refusing it would lose an access record.
    Report,
}

/// Loads an incident for `device`'s crew: an incident of another unit is an attempt on
/// that patient's records, logged as a denial under `action` and answered like an unknown
/// one (the caller learns nothing); an inactive one is a logged denial for [`IncidentUse::Act`].
fn crew_incident(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    id: IncidentId,
    use_: IncidentUse,
    action: AccessAction,
    now: DateTime<Utc>,
) -> Flow<IncidentRow> {
    let Some(incident) = tx.incident(id)? else {
        return Ok(Err(Denial::IncidentNotFound));
    };
    if incident.device_id != device.device_id {
        let incident_unit = incident
            .crew_unit
            .as_ref()
            .map(|(fd, unit)| (fd.as_str(), unit.as_str()));
        let caller = (device.fire_department.id.as_str(), device.unit.as_str());
        if let Err(reason) = policy::incident_in_scope(incident_unit, caller) {
            Attempt::on(tx, device_viewer(device), &incident, action, now)
                .log(AccessOutcome::Denied { reason })?;
            return Ok(Err(Denial::IncidentOfAnotherUnit));
        }
    }
    if use_ == IncidentUse::Act
        && let Err(reason) = policy::incident_active(incident.opened_at, now)
    {
        let viewer = crew_viewer(device, &incident.crew_member_id);
        return Attempt::on(tx, viewer, &incident, action, now).deny(reason);
    }
    Ok(Ok(incident))
}

/// Identifies the patient ([`identify::resolve`]: card trust, challenge and signature
/// checks come before any lookup) and opens the incident. Idempotent for the same id,
/// device and card; a PIN-verified open may be retried with the same challenge.
pub fn open_incident(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    trust: &CardTrust,
    request: OpenIncidentRequest,
    now: DateTime<Utc>,
) -> Flow<IncidentRow> {
    let mut attempt = Attempt {
        tx,
        viewer: crew_viewer(device, &request.crew_member_id),
        incident: Some(request.incident_id),
        patient: None,
        consent: None,
        action: AccessAction::IdentifyPatient,
        now,
    };
    let resolved = identify::resolve(
        tx,
        request.identity,
        device,
        request.incident_id,
        trust,
        now,
    )?;
    attempt.patient = resolved.patient.clone();
    let identity = match resolved.outcome {
        Ok(identity) => identity,
        Err(reason) => return attempt.deny(reason),
    };
    if let Some(existing) = tx.incident(request.incident_id)? {
        let same = existing.device_id == device.device_id && existing.patient == identity.patient;
        return Ok(if same {
            Ok(existing)
        } else {
            Err(Denial::IncidentIdConflict)
        });
    }
    let row = IncidentRow {
        id: request.incident_id,
        device_id: device.device_id.clone(),
        crew_unit: Some((device.fire_department.id.clone(), device.unit.clone())),
        crew_member_id: request.crew_member_id,
        patient: identity.patient,
        assurance: identity.assurance,
        opened_at: now,
        consent: None,
    };
    tx.insert_incident(&row)?;
    Ok(Ok(row))
}

/// Records the consent decision. A refusal is written to the access log.
/// Repeating the recorded decision is a no-op (retries are safe); a different one is denied.
pub fn record_consent(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    id: IncidentId,
    request: ConsentRequest,
    now: DateTime<Utc>,
) -> Flow<ConsentState> {
    let incident = match crew_incident(
        tx,
        device,
        id,
        IncidentUse::Act,
        AccessAction::RecordConsent,
        now,
    )? {
        Ok(incident) => incident,
        Err(denial) => return Ok(Err(denial)),
    };
    let attempt = Attempt::on(
        tx,
        crew_viewer(device, &incident.crew_member_id),
        &incident,
        AccessAction::RecordConsent,
        now,
    );
    let Ok(decision) = request.into_domain() else {
        return attempt.deny(DenialReason::ConsentReasonMissing);
    };
    if incident.consent.as_ref() == Some(&decision) {
        return Ok(Ok(decision));
    }
    let decision = match policy::record_consent(incident.consent.as_ref(), decision) {
        Ok(decision) => decision,
        Err(reason) => return attempt.deny(reason),
    };
    tx.set_consent(id, &decision, now)?;
    if decision == ConsentState::Refused {
        Attempt {
            consent: Some(decision.clone()),
            ..attempt
        }
        .log(AccessOutcome::Refused)?;
    }
    Ok(Ok(decision))
}

/// Discloses the emergency summary if the policy allows, logging the disclosure first.
pub fn disclose_summary(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    id: IncidentId,
    now: DateTime<Utc>,
) -> Flow<(ConsentState, EmergencySummary)> {
    let incident = match crew_incident(
        tx,
        device,
        id,
        IncidentUse::Act,
        AccessAction::ViewSummary,
        now,
    )? {
        Ok(incident) => incident,
        Err(denial) => return Ok(Err(denial)),
    };
    let attempt = Attempt::on(
        tx,
        crew_viewer(device, &incident.crew_member_id),
        &incident,
        AccessAction::ViewSummary,
        now,
    );
    let consent =
        match policy::summary_disclosure(Some(&incident.identity()), incident.consent.as_ref()) {
            Ok(Disclosure::WithConsent) => ConsentState::Given,
            Ok(Disclosure::WithoutConsent(reason)) => ConsentState::Difficult { reason },
            Err(reason) => return attempt.deny(reason),
        };
    let summary = tx.summary(&incident.patient, now)?;
    attempt.log(AccessOutcome::Disclosed {
        kinds: summary.kinds(),
    })?;
    Ok(Ok((consent, summary)))
}

/// A handoff ready to relay: its access record, row and outbox message are committed.
#[derive(Debug, Clone)]
pub struct PreparedHandoff {
    /// Handoff id.
    pub id: uuid::Uuid,
    /// The notice to send.
    pub notice: ArrivalNotice,
    /// Its outbox message.
    pub message: crate::store::OutboxMessage,
}

/// What [`prepare_handoff`] did.
#[derive(Debug, Clone)]
pub enum HandoffPrepared {
    /// A new handoff: logged, stored and queued; try to deliver its message.
    New(Box<PreparedHandoff>),
    /// A retry of a handoff already made (same id, incident, tablet and hospital): nothing
    /// was logged or queued; this is the handoff as it stands.
    Repeat(HandoffRow),
}

/// Prepares a handoff to `hospital`. Records go with it only if the policy allows
/// disclosure; after a refusal the hospital gets the crew's observations only.
///
/// With the tablet's `handoff_id`, a request repeated after the first one committed gets
/// the existing handoff back ([`HandoffPrepared::Repeat`]) whatever it became since
/// (delivered, accepted, withdrawn): this is checked before "one hospital at a time", so a
/// retry of the open handoff is not refused as [`Denial::HandoffOpen`]. The same id for
/// another incident, tablet or hospital is a [`Denial::HandoffIdConflict`].
pub fn prepare_handoff(
    tx: &Tx<'_>,
    device: &DeviceRegistration,
    hospital: &HospitalEndpoint,
    id: IncidentId,
    request: HandoffRequest,
    now: DateTime<Utc>,
) -> Flow<HandoffPrepared> {
    let relay = AccessAction::RelayToHospital {
        hospital_id: hospital.institution.id.clone(),
    };
    let incident = match crew_incident(tx, device, id, IncidentUse::Act, relay.clone(), now)? {
        Ok(incident) => incident,
        Err(denial) => return Ok(Err(denial)),
    };
    if let Some(handoff_id) = request.handoff_id
        && let Some(existing) = tx.handoff(handoff_id)?
    {
        let same = existing.incident_id == id
            && existing.device_id == device.device_id
            && existing.hospital_id == hospital.institution.id;
        return Ok(if same {
            Ok(HandoffPrepared::Repeat(existing))
        } else {
            Err(Denial::HandoffIdConflict)
        });
    }
    // One hospital at a time: checked before anything is disclosed or logged.
    if tx.open_handoff(id)?.is_some() {
        return Ok(Err(Denial::HandoffOpen));
    }
    let viewer = hospital_viewer(hospital, device.certificate_serial.clone());
    let attempt = Attempt::on(tx, viewer, &incident, relay, now);
    // Clinics and pharmacies never receive an emergency view, not even the crew's notes.
    if let Err(reason) = policy::emergency_view_allowed(hospital.institution.kind) {
        return attempt.deny(reason);
    }
    let summary =
        match policy::summary_disclosure(Some(&incident.identity()), incident.consent.as_ref()) {
            Ok(_) => {
                let summary = tx.summary(&incident.patient, now)?;
                attempt.log(AccessOutcome::Disclosed {
                    kinds: summary.kinds(),
                })?;
                Some(summary)
            }
            Err(_) => {
                attempt.log(AccessOutcome::RelayedWithoutRecords)?;
                None
            }
        };
    let handoff_id = request.handoff_id.unwrap_or_else(uuid::Uuid::now_v7);
    let records_shared = summary.is_some();
    let notice = ArrivalNotice {
        handoff_id,
        incident_id: id,
        fire_department: device.fire_department.name.clone(),
        unit: device.unit.clone(),
        chief_complaint: request.chief_complaint,
        eta: now + chrono::Duration::minutes(i64::from(request.eta_minutes)),
        vitals: request.vitals,
        consent: incident.consent,
        summary,
        sent_at: now,
        scene: request.scene,
    };
    // The notice is queued in this transaction: once the tablet hears of the handoff, the
    // hospital gets it, however long it is unreachable.
    let body_json = serde_json::to_string(&notice)?;
    let message_id = tx.insert_handoff(
        handoff_id,
        id,
        &hospital.institution.id,
        records_shared,
        &body_json,
        now,
    )?;
    Ok(Ok(HandoffPrepared::New(Box::new(PreparedHandoff {
        id: handoff_id,
        notice,
        message: OutboxMessage {
            id: message_id,
            handoff_id,
            hospital_id: hospital.institution.id.clone(),
            kind: OutboxKind::Arrival,
            body_json,
            attempts: 0,
        },
    }))))
}
