//! Review of accesses by the privacy officer (個人情報保護担当): why an access goes into
//! the review queue, and its anomaly flags. Sans I/O: the store gathers the facts of one
//! access ([`AccessFacts`]) and these functions decide.
//!
//! # What is queued
//! - Every access record whose consent state is `Difficult` (同意取得困難: records viewed
//!   without consent, and any attempt made under that state), queued by
//!   [`crate::store::Tx::append_access`] in the transaction that appends it, so it can
//!   never be missing ([`DIFFICULT_CONSENT`]).
//! - An access the patient flags in the portal ([`PATIENT_FLAG`]).
//! - A disclosure on which an anomaly flag holds when it is appended (the flag's code).
//!
//! # Anomaly flags
//! Only accesses that disclosed records (a fetch of the summary, a relay with records, a
//! view on the tablet) carry anomaly flags; a privacy officer's own review never does.
//! Windows end at the access itself (its time, and nothing logged after it), so a flag
//! does not depend on when it is looked at, except through "transport", which can only be
//! known later:
//! - [`AnomalyFlag::ManyPatientsWithoutTransport`]: the access's ambulance unit disclosed
//!   the records of at least [`ReviewThresholds::many_patients`] distinct patients within
//!   [`ReviewThresholds::many_patients_window`] before it, none of whose incidents has a
//!   handoff that is sent or accepted (declined and withdrawn handoffs are no transport).
//! - [`AnomalyFlag::RepeatedViews`]: the patient's records were disclosed at least
//!   [`ReviewThresholds::repeated_views`] times (any viewer, incident or tablet) within
//!   [`ReviewThresholds::repeated_views_window`] up to and including this access.
//! - [`AnomalyFlag::OutsideActiveIncident`]: the access happened when its incident was no
//!   longer active — more than [`ReviewThresholds::incident_active_for`] after the
//!   incident was opened, or more than [`ReviewThresholds::after_acceptance_grace`] after
//!   a hospital accepted the patient. A view on the tablet counts at the tablet's time of
//!   the display when that lies between the incident's opening and the edge's receipt of
//!   the report (a view made offline and reported late is not late), else at the edge's.
//! - [`AnomalyFlag::PatientFlag`]: the patient reported the access as not recognised.
//!
//! # Where flags are computed
//! Twice, with the same function: when the access is appended (in its transaction), to
//! decide whether it enters the queue; and again at each listing, so the officer sees the
//! flags as they stand (a handoff made after the views clears "without transport"). The
//! reasons an access was queued for are kept as they were (`queued_for`).
//!
//! # Findings
//! [`finding::record_finding`] (the one part here that works on a store transaction)
//! appends the finding's own access record and stores the finding in one transaction.

use chrono::{DateTime, Duration, Utc};
use myna_domain::access::{AccessAction, AccessOutcome, AccessRecord, ViewerRole};

/// Queue reason: the access was made with consent difficult to obtain.
pub const DIFFICULT_CONSENT: &str = "difficult_consent";
/// Queue reason and flag code: the patient flagged the access in the portal.
pub const PATIENT_FLAG: &str = "patient_flag";

/// Thresholds of the anomaly flags (configuration: [`crate::config::Config::review`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewThresholds {
    /// Distinct patients without transport that flag a unit. Default 4: a unit rarely
    /// attends more than two or three patients in a few hours, and most are transported.
    pub many_patients: u32,
    /// Window of `many_patients`. Default 3 hours.
    pub many_patients_window: Duration,
    /// Disclosures of one patient's records that flag the latest. Default 10: one incident
    /// normally makes a fetch, a relay and a few re-displays on the tablet.
    pub repeated_views: u32,
    /// Window of `repeated_views`. Default 24 hours.
    pub repeated_views_window: Duration,
    /// How long after opening an incident counts as active. Default 6 hours (long
    /// searches for a receiving hospital, 搬送困難事案, take hours; few take six).
    pub incident_active_for: Duration,
    /// How long after a hospital accepted the patient the crew may still view (handing
    /// over at the ER). Default 30 minutes.
    pub after_acceptance_grace: Duration,
}

impl Default for ReviewThresholds {
    fn default() -> Self {
        ReviewThresholds {
            many_patients: 4,
            many_patients_window: Duration::hours(3),
            repeated_views: 10,
            repeated_views_window: Duration::hours(24),
            incident_active_for: Duration::hours(6),
            after_acceptance_grace: Duration::minutes(30),
        }
    }
}

/// The incident an access belonged to, as far as "active" goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentTimes {
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When a hospital first accepted the patient, if one did.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// What the store knows around one access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    /// Distinct patients whose records the access's unit disclosed in the window ending
    /// at the access (this one included) and whose incidents have no transport; `None`
    /// when the access is not a crew's.
    pub unit_patients_without_transport: Option<u32>,
    /// Disclosures of the patient's records in the window ending at the access (this one
    /// included).
    pub patient_disclosures: u32,
    /// The incident, when the access had one that is stored.
    pub incident: Option<IncidentTimes>,
    /// The patient flagged the access.
    pub patient_flagged: bool,
}

/// Why an incident no longer counted as active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    /// Longer than the active window after the incident was opened.
    LongAfterOpening,
    /// Longer than the grace period after a hospital accepted the patient.
    AfterAcceptance,
}

/// An anomaly flag on an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyFlag {
    /// The unit disclosed many patients' records with none transported.
    ManyPatientsWithoutTransport {
        /// Distinct patients without transport in the window.
        patients: u32,
    },
    /// The patient's records were disclosed many times.
    RepeatedViews {
        /// Disclosures in the window.
        views: u32,
    },
    /// The access came after its incident stopped being active.
    OutsideActiveIncident(Inactive),
    /// The patient reported the access as not recognised.
    PatientFlag,
}

impl AnomalyFlag {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            AnomalyFlag::ManyPatientsWithoutTransport { .. } => "many_patients_without_transport",
            AnomalyFlag::RepeatedViews { .. } => "repeated_views",
            AnomalyFlag::OutsideActiveIncident(_) => "outside_active_incident",
            AnomalyFlag::PatientFlag => PATIENT_FLAG,
        }
    }

    /// A short reason for the officer, with the numbers that tripped the flag.
    pub fn reason(&self, thresholds: &ReviewThresholds) -> String {
        match self {
            AnomalyFlag::ManyPatientsWithoutTransport { patients } => format!(
                "the unit viewed {patients} patients' records within {}, none transported",
                span(thresholds.many_patients_window)
            ),
            AnomalyFlag::RepeatedViews { views } => format!(
                "this patient's records were viewed {views} times within {}",
                span(thresholds.repeated_views_window)
            ),
            AnomalyFlag::OutsideActiveIncident(Inactive::LongAfterOpening) => format!(
                "more than {} after the incident was opened",
                span(thresholds.incident_active_for)
            ),
            AnomalyFlag::OutsideActiveIncident(Inactive::AfterAcceptance) => format!(
                "more than {} after a hospital accepted the patient",
                span(thresholds.after_acceptance_grace)
            ),
            AnomalyFlag::PatientFlag => "the patient does not recognise this access".into(),
        }
    }
}

/// "3 h" or "30 min".
fn span(d: Duration) -> String {
    if d.num_minutes() % 60 == 0 {
        format!("{} h", d.num_hours())
    } else {
        format!("{} min", d.num_minutes())
    }
}

/// Whether anomaly flags apply to `record`: it disclosed records, and it is not a privacy
/// officer's review.
pub fn may_be_anomalous(record: &AccessRecord) -> bool {
    record.viewer.role != ViewerRole::PrivacyOfficer
        && matches!(record.outcome, AccessOutcome::Disclosed { .. })
}

/// The time that counts for "active": the tablet's time of a display when it lies between
/// the incident's opening and the edge's receipt, else the edge's time.
pub fn activity_time(record: &AccessRecord, incident: Option<&IncidentTimes>) -> DateTime<Utc> {
    match (&record.action, incident) {
        (AccessAction::ViewOnDevice { viewed_at }, Some(incident))
            if *viewed_at >= incident.opened_at && *viewed_at <= record.at =>
        {
            *viewed_at
        }
        _ => record.at,
    }
}

/// The anomaly flags of `record`, given its facts, in a fixed order.
pub fn anomaly_flags(
    record: &AccessRecord,
    facts: &AccessFacts,
    thresholds: &ReviewThresholds,
) -> Vec<AnomalyFlag> {
    let mut flags = Vec::new();
    if may_be_anomalous(record) {
        if let Some(patients) = facts.unit_patients_without_transport
            && patients >= thresholds.many_patients
        {
            flags.push(AnomalyFlag::ManyPatientsWithoutTransport { patients });
        }
        if facts.patient_disclosures >= thresholds.repeated_views {
            flags.push(AnomalyFlag::RepeatedViews {
                views: facts.patient_disclosures,
            });
        }
        if let Some(incident) = &facts.incident
            && let Some(why) = inactive(activity_time(record, Some(incident)), incident, thresholds)
        {
            flags.push(AnomalyFlag::OutsideActiveIncident(why));
        }
    }
    if facts.patient_flagged {
        flags.push(AnomalyFlag::PatientFlag);
    }
    flags
}

/// Why the incident was no longer active at `at`, if it was not.
pub fn inactive(
    at: DateTime<Utc>,
    incident: &IncidentTimes,
    thresholds: &ReviewThresholds,
) -> Option<Inactive> {
    if let Some(accepted) = incident.accepted_at
        && at > accepted + thresholds.after_acceptance_grace
    {
        return Some(Inactive::AfterAcceptance);
    }
    (at > incident.opened_at + thresholds.incident_active_for).then_some(Inactive::LongAfterOpening)
}

/// The queue reasons of a record being appended, given its anomaly flags: `Difficult`
/// consent first, then each flag's code.
pub fn reasons_on_append(record: &AccessRecord, flags: &[AnomalyFlag]) -> Vec<&'static str> {
    let difficult = record
        .consent
        .as_ref()
        .is_some_and(myna_domain::consent::ConsentState::is_without_consent);
    difficult
        .then_some(DIFFICULT_CONSENT)
        .into_iter()
        .chain(flags.iter().map(AnomalyFlag::code))
        .collect()
}

pub mod finding;

#[cfg(test)]
mod tests;
