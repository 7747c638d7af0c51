//! Hospital selection and handoff (搬送先選定): the exported records of
//! [`crate::Incident::hospitals`], [`crate::Incident::hand_off`] and
//! [`crate::Incident::handoff_state`], mapped onto [`myna_domain::wire`] and
//! [`myna_domain::handoff`]. Mirrors, because wire types and most domain types do not derive
//! uniffi's traits; [`Handoff`] is mobile-core's own record and [`SceneKind`] the domain's,
//! re-exported.

use chrono::SecondsFormat;
use myna_domain::handoff::{self as domain, GeoPoint, SceneKind};
use myna_domain::wire::{self, HospitalDto};
use uuid::Uuid;

use crate::error::MobileFfiError;

/// Where the crew is (WGS 84 degrees), to list the nearest hospitals first.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Location {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

impl TryFrom<Location> for GeoPoint {
    type Error = MobileFfiError;

    fn try_from(location: Location) -> Result<Self, Self::Error> {
        GeoPoint::new(location.lat, location.lon)
            .ok_or_else(|| MobileFfiError::invalid_argument("location off the map"))
    }
}

/// A receiving hospital the crew can choose.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Hospital {
    /// Institution id, for [`HandoffRequest::hospital_id`].
    pub id: String,
    /// Name.
    pub name: String,
    /// Tier 1 to 3 (3: critical care centre, 救命救急センター).
    pub tier: u8,
    /// Distance from the location given, in metres; none without a location.
    pub distance_m: Option<u32>,
}

impl From<HospitalDto> for Hospital {
    fn from(h: HospitalDto) -> Self {
        Hospital {
            id: h.id,
            name: h.name,
            tier: h.tier,
            distance_m: h.distance_m,
        }
    }
}

/// Vital signs the crew measured; each is optional.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct Vitals {
    /// Heart rate, /min.
    #[uniffi(default)]
    pub heart_rate: Option<u16>,
    /// Systolic blood pressure, mmHg.
    #[uniffi(default)]
    pub systolic_mmhg: Option<u16>,
    /// Diastolic blood pressure, mmHg.
    #[uniffi(default)]
    pub diastolic_mmhg: Option<u16>,
    /// Oxygen saturation, %.
    #[uniffi(default)]
    pub spo2_percent: Option<u8>,
    /// Respiratory rate, /min.
    #[uniffi(default)]
    pub respiratory_rate: Option<u16>,
    /// Glasgow Coma Scale total, 3 to 15.
    #[uniffi(default)]
    pub gcs: Option<u8>,
    /// Body temperature, °C.
    #[uniffi(default)]
    pub temperature_c: Option<f32>,
}

/// The crew hands the patient off to one hospital.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HandoffRequest {
    /// The chosen hospital's [`Hospital::id`].
    pub hospital_id: String,
    /// Chief complaint (主訴), the crew's words. Not a medical record.
    pub chief_complaint: String,
    /// Minutes until arrival.
    pub eta_minutes: u16,
    /// Vital signs.
    pub vitals: Vitals,
    /// Where the patient was found (発生場所); none when the crew did not say.
    #[uniffi(default)]
    pub scene: Option<SceneKind>,
}

impl From<HandoffRequest> for wire::HandoffRequest {
    fn from(r: HandoffRequest) -> Self {
        let v = r.vitals;
        wire::HandoffRequest {
            // The core gives each handoff its own id.
            handoff_id: None,
            hospital_id: r.hospital_id,
            chief_complaint: r.chief_complaint,
            eta_minutes: r.eta_minutes,
            vitals: wire::Vitals {
                heart_rate: v.heart_rate,
                systolic_mmhg: v.systolic_mmhg,
                diastolic_mmhg: v.diastolic_mmhg,
                spo2_percent: v.spo2_percent,
                respiratory_rate: v.respiratory_rate,
                gcs: v.gcs,
                temperature_c: v.temperature_c,
            },
            scene: r.scene,
        }
    }
}

/// A handoff the crew made: mobile-core's own record, its id crossing as text.
pub use mobile_core::HandoffSent as Handoff;

// The handoff id is a `Uuid`, which mobile-core exports as text (its `ffi_types`).
uniffi::use_remote_type!(mobile_core::Uuid);

/// Where a handoff stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum HandoffStatus {
    /// Waiting for the hospital's answer.
    Sent {
        /// The hospital's dashboard shows the patient.
        delivered: bool,
    },
    /// The hospital will receive the patient (受入可).
    Accepted,
    /// The hospital cannot (受入不可): hand off to the next hospital.
    Declined {
        /// Stable code: `no_beds`, `staff_busy`, `no_specialist`, `equipment_unavailable`,
        /// `other`.
        reason: String,
        /// The reason in English, e.g. `No beds`.
        reason_label: String,
    },
    /// The crew withdrew it: hand off to the next hospital.
    Withdrawn,
}

impl HandoffStatus {
    /// The state's tag as the edge's `known` query parameter takes it (edge-agent
    /// `api::handoff`): `Sent` splits into `sent` and `delivered`.
    pub(crate) fn wire_tag(&self) -> &'static str {
        match self {
            HandoffStatus::Sent { delivered: false } => "sent",
            HandoffStatus::Sent { delivered: true } => "delivered",
            HandoffStatus::Accepted => "accepted",
            HandoffStatus::Declined { .. } => "declined",
            HandoffStatus::Withdrawn => "withdrawn",
        }
    }
}

impl From<domain::HandoffStatus> for HandoffStatus {
    fn from(status: domain::HandoffStatus) -> Self {
        match status {
            domain::HandoffStatus::Sent { delivered } => HandoffStatus::Sent { delivered },
            domain::HandoffStatus::Accepted => HandoffStatus::Accepted,
            domain::HandoffStatus::Declined { reason } => HandoffStatus::Declined {
                reason: reason.as_str().to_string(),
                reason_label: reason.label_en().to_string(),
            },
            domain::HandoffStatus::Withdrawn => HandoffStatus::Withdrawn,
        }
    }
}

/// The tablet's view of one handoff.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HandoffState {
    /// Handoff id.
    pub handoff_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// Its name.
    pub hospital_name: String,
    /// Where it stands.
    pub status: HandoffStatus,
    /// When the hospital answered or the crew withdrew, RFC 3339 UTC.
    pub decided_at: Option<String>,
}

impl From<domain::HandoffState> for HandoffState {
    fn from(s: domain::HandoffState) -> Self {
        HandoffState {
            handoff_id: s.handoff_id.to_string(),
            hospital_id: s.hospital_id,
            hospital_name: s.hospital_name,
            status: s.status.into(),
            decided_at: s
                .decided_at
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }
    }
}

/// Parses a handoff id the app got from [`Handoff::handoff_id`].
pub(crate) fn handoff_id(id: &str) -> Result<uuid::Uuid, MobileFfiError> {
    uuid::Uuid::parse_str(id).map_err(|_| MobileFfiError::invalid_argument("handoff id"))
}

#[cfg(test)]
mod tests {
    use myna_domain::handoff::DeclineReason;

    use super::*;

    #[test]
    fn known_tags_are_the_edge_s() {
        let check = |status: domain::HandoffStatus, tag: &str| {
            assert_eq!(HandoffStatus::from(status).wire_tag(), tag);
        };
        check(domain::HandoffStatus::Sent { delivered: false }, "sent");
        check(domain::HandoffStatus::Sent { delivered: true }, "delivered");
        check(domain::HandoffStatus::Accepted, "accepted");
        check(
            domain::HandoffStatus::Declined {
                reason: DeclineReason::NoBeds,
            },
            "declined",
        );
        check(domain::HandoffStatus::Withdrawn, "withdrawn");
    }

    #[test]
    fn the_scene_reaches_the_wire_request() {
        let request = |scene| HandoffRequest {
            hospital_id: "h".into(),
            chief_complaint: "c".into(),
            eta_minutes: 5,
            vitals: Vitals::default(),
            scene,
        };
        let wire = wire::HandoffRequest::from(request(Some(SceneKind::CareFacility)));
        assert_eq!(wire.scene, Some(SceneKind::CareFacility));
        assert_eq!(wire::HandoffRequest::from(request(None)).scene, None);
    }

    #[test]
    fn bad_ids_and_locations_are_invalid_arguments() {
        assert!(matches!(
            handoff_id("not-a-uuid"),
            Err(MobileFfiError::InvalidArgument(_))
        ));
        let off_map = Location {
            lat: 91.0,
            lon: 0.0,
        };
        assert!(matches!(
            GeoPoint::try_from(off_map),
            Err(MobileFfiError::InvalidArgument(_))
        ));
    }
}
