//! Edge → hospital-view: the notice of an incoming patient, pushed to the receiving
//! hospital's ER dashboard.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tablet::Vitals;
use crate::access::IncidentId;
use crate::consent::ConsentState;
use crate::handoff::SceneKind;
use crate::summary::EmergencySummary;

/// Edge → hospital-view: an incoming patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalNotice {
    /// Handoff id; hospital-view stores each id once.
    pub handoff_id: uuid::Uuid,
    /// Incident.
    pub incident_id: IncidentId,
    /// Fire department name.
    pub fire_department: String,
    /// Ambulance unit.
    pub unit: String,
    /// Chief complaint.
    pub chief_complaint: String,
    /// Expected arrival.
    pub eta: DateTime<Utc>,
    /// Vital signs.
    pub vitals: Vitals,
    /// Consent state at handoff; `None` when no decision was recorded.
    pub consent: Option<ConsentState>,
    /// The summary; `None` when consent was refused.
    pub summary: Option<EmergencySummary>,
    /// When the edge sent it.
    pub sent_at: DateTime<Utc>,
    /// Where the patient was found, as the crew recorded it; absent in notices from
    /// tablets (or edges) that do not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<SceneKind>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrival_notice_without_scene_still_parses_and_stays_without() {
        let notice = ArrivalNotice {
            handoff_id: uuid::Uuid::from_u128(1),
            incident_id: IncidentId(uuid::Uuid::from_u128(2)),
            fire_department: "Fire HQ".into(),
            unit: "Unit 1".into(),
            chief_complaint: "c".into(),
            eta: DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap(),
            vitals: Vitals::default(),
            consent: None,
            summary: None,
            sent_at: DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap(),
            scene: None,
        };
        let old = serde_json::to_value(&notice).unwrap();
        assert!(old.get("scene").is_none(), "{old}");
        assert_eq!(
            serde_json::from_value::<ArrivalNotice>(old).unwrap(),
            notice
        );
        let at_home = ArrivalNotice {
            scene: Some(SceneKind::Home),
            ..notice
        };
        let json = serde_json::to_value(&at_home).unwrap();
        assert_eq!(json["scene"], "home");
        assert_eq!(
            serde_json::from_value::<ArrivalNotice>(json).unwrap(),
            at_home
        );
    }
}
