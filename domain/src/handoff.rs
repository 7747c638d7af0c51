//! The handoff to a receiving hospital (搬送先選定): where the hospitals are, what a
//! hospital answers, and the state a handoff is in.
//!
//! A handoff goes to one hospital at a time. It is `Sent` until that hospital accepts or
//! declines it, or the crew withdraws it (for example after a phone call). After a decline
//! or a withdrawal the crew may hand the patient to the next hospital; while a handoff is
//! `Sent` or `Accepted`, the incident has a hospital and a second handoff is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A point on the map (WGS 84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

impl GeoPoint {
    /// A point, if both coordinates are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
            .then_some(GeoPoint { lat, lon })
    }

    /// Great-circle distance in metres (haversine on a 6,371 km sphere: within 0.5 % of
    /// the ellipsoid, plenty for ranking hospitals by distance). Hand-written: a dozen
    /// lines do not justify a geodesy dependency.
    pub fn distance_m(self, other: GeoPoint) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_000.0;
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let d_lat = lat2 - lat1;
        let d_lon = (other.lon - self.lon).to_radians();
        let a = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// Where the crew found the patient (発生場所), recorded with the handoff so the ER knows
/// the setting and the national figures ("74.4 % of uses at home") can be counted from
/// what was recorded. A kind, never an address: it is not personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum SceneKind {
    /// The patient's home (自宅).
    Home,
    /// A care or elderly facility (介護施設・高齢者施設).
    CareFacility,
    /// A public place: station, shop, street-side facility (公共の場所).
    PublicPlace,
    /// A workplace or school (職場・学校).
    Workplace,
    /// A road (道路), e.g. a traffic accident.
    Road,
    /// Anywhere else (その他).
    Other,
}

impl SceneKind {
    /// Every kind, in the order a form lists them.
    pub const ALL: [SceneKind; 6] = [
        SceneKind::Home,
        SceneKind::CareFacility,
        SceneKind::PublicPlace,
        SceneKind::Workplace,
        SceneKind::Road,
        SceneKind::Other,
    ];
}

/// Why a hospital declined a patient (受入不可の理由).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// No bed free (満床).
    NoBeds,
    /// Staff busy with other patients (処置中).
    StaffBusy,
    /// No specialist for this condition on duty (専門外).
    NoSpecialist,
    /// Equipment or operating room unavailable (設備・手術室使用中).
    EquipmentUnavailable,
    /// Another reason, given by phone.
    Other,
}

impl DeclineReason {
    /// Every reason, in the order a form lists them.
    pub const ALL: [DeclineReason; 5] = [
        DeclineReason::NoBeds,
        DeclineReason::StaffBusy,
        DeclineReason::NoSpecialist,
        DeclineReason::EquipmentUnavailable,
        DeclineReason::Other,
    ];

    /// Stable snake_case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::NoBeds => "no_beds",
            DeclineReason::StaffBusy => "staff_busy",
            DeclineReason::NoSpecialist => "no_specialist",
            DeclineReason::EquipmentUnavailable => "equipment_unavailable",
            DeclineReason::Other => "other",
        }
    }

    /// Parses [`DeclineReason::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            DeclineReason::NoBeds => "満床",
            DeclineReason::StaffBusy => "処置中",
            DeclineReason::NoSpecialist => "専門外",
            DeclineReason::EquipmentUnavailable => "設備・手術室使用中",
            DeclineReason::Other => "その他",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            DeclineReason::NoBeds => "No beds",
            DeclineReason::StaffBusy => "Staff busy",
            DeclineReason::NoSpecialist => "No specialist",
            DeclineReason::EquipmentUnavailable => "Equipment / OR unavailable",
            DeclineReason::Other => "Other",
        }
    }
}

/// A hospital's answer to a handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum HandoffDecision {
    /// The hospital will receive the patient (受入可).
    Accepted,
    /// The hospital cannot (受入不可).
    Declined {
        /// Why.
        reason: DeclineReason,
    },
}

/// Where a handoff stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HandoffStatus {
    /// Waiting for the hospital's answer.
    Sent {
        /// The hospital has acknowledged receipt (its dashboard shows the patient).
        delivered: bool,
    },
    /// The hospital accepted.
    Accepted,
    /// The hospital declined: pick the next hospital.
    Declined {
        /// Why.
        reason: DeclineReason,
    },
    /// The crew withdrew it.
    Withdrawn,
}

impl HandoffStatus {
    /// Whether the patient is still bound to this hospital (no second handoff allowed).
    pub fn is_open(self) -> bool {
        matches!(self, HandoffStatus::Sent { .. } | HandoffStatus::Accepted)
    }

    /// The state's tag as `GET /v1/handoffs/{id}?known=` takes it: `sent`, `delivered`
    /// (sent and acknowledged by the hospital), `accepted`, `declined`, `withdrawn`.
    pub fn tag(self) -> &'static str {
        match self {
            HandoffStatus::Sent { delivered: false } => "sent",
            HandoffStatus::Sent { delivered: true } => "delivered",
            HandoffStatus::Accepted => "accepted",
            HandoffStatus::Declined { .. } => "declined",
            HandoffStatus::Withdrawn => "withdrawn",
        }
    }

    /// Whether the hospital has answered or the crew withdrew: nothing will change it.
    pub fn is_final(self) -> bool {
        !matches!(self, HandoffStatus::Sent { .. })
    }
}

/// `GET /v1/handoffs/{id}` response: the tablet's view of one handoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffState {
    /// Handoff id.
    pub handoff_id: uuid::Uuid,
    /// The hospital.
    pub hospital_id: String,
    /// Its name.
    pub hospital_name: String,
    /// Where it stands.
    #[serde(flatten)]
    pub status: HandoffStatus,
    /// When the hospital answered or the crew withdrew.
    pub decided_at: Option<DateTime<Utc>>,
}

/// Edge → hospital-view: the crew withdrew a handoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WithdrawalNotice {
    /// The handoff.
    pub handoff_id: uuid::Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_plausible() {
        let tokyo_station = GeoPoint::new(35.6812, 139.7671).unwrap();
        let shinjuku = GeoPoint::new(35.6896, 139.7006).unwrap();
        let osaka = GeoPoint::new(34.7025, 135.4959).unwrap();
        let near = tokyo_station.distance_m(shinjuku);
        assert!((5_900.0..6_300.0).contains(&near), "{near}");
        let far = tokyo_station.distance_m(osaka);
        assert!((395_000.0..410_000.0).contains(&far), "{far}");
        assert_eq!(tokyo_station.distance_m(tokyo_station), 0.0);
        assert!(GeoPoint::new(91.0, 0.0).is_none());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
    }

    #[test]
    fn decisions_and_states_have_stable_json() {
        let declined = HandoffDecision::Declined {
            reason: DeclineReason::NoBeds,
        };
        assert_eq!(
            serde_json::to_value(declined).unwrap(),
            serde_json::json!({"decision": "declined", "reason": "no_beds"})
        );
        assert!(
            serde_json::from_value::<HandoffDecision>(serde_json::json!({"decision": "declined"}))
                .is_err(),
            "a decline names its reason"
        );
        assert!(
            serde_json::from_value::<HandoffDecision>(
                serde_json::json!({"decision": "declined", "reason": "no_beds", "extra": 1})
            )
            .is_err()
        );
        let state = HandoffState {
            handoff_id: uuid::Uuid::nil(),
            hospital_id: "h".into(),
            hospital_name: "H".into(),
            status: HandoffStatus::Sent { delivered: true },
            decided_at: None,
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["status"], "sent");
        assert_eq!(json["delivered"], true);
        assert_eq!(serde_json::from_value::<HandoffState>(json).unwrap(), state);
        for reason in DeclineReason::ALL {
            assert_eq!(DeclineReason::parse(reason.as_str()), Some(reason));
        }
    }

    #[test]
    fn scene_kinds_have_stable_snake_case_json() {
        let check = |kind: SceneKind, json: &str| {
            assert_eq!(serde_json::to_value(kind).unwrap(), json, "{kind:?}");
            assert_eq!(
                serde_json::from_value::<SceneKind>(json.into()).unwrap(),
                kind
            );
        };
        check(SceneKind::Home, "home");
        check(SceneKind::CareFacility, "care_facility");
        check(SceneKind::PublicPlace, "public_place");
        check(SceneKind::Workplace, "workplace");
        check(SceneKind::Road, "road");
        check(SceneKind::Other, "other");
        assert!(serde_json::from_value::<SceneKind>("Home".into()).is_err());
    }

    #[test]
    fn only_sent_and_accepted_hold_the_patient() {
        assert!(HandoffStatus::Sent { delivered: false }.is_open());
        assert!(HandoffStatus::Accepted.is_open());
        assert!(!HandoffStatus::Withdrawn.is_open());
        assert!(
            !HandoffStatus::Declined {
                reason: DeclineReason::Other
            }
            .is_open()
        );
        assert!(!HandoffStatus::Sent { delivered: true }.is_final());
    }
}
