//! The ambulance tablet's API (`/v1/identity-challenges`, `/v1/incidents…`,
//! `/v1/hospitals`): identity evidence, consent, the summary, the receiving hospitals,
//! the handoff with its vital signs, and views shown from the tablet's own copy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::encoding::{b64, to_b64};
use crate::access::IncidentId;
use crate::consent::{ConsentState, DifficultyReason};
use crate::error::{Error, Result};
use crate::handoff::SceneKind;
use crate::identity::{AssuranceLevel, BasicFacts, ChallengeId, IdentityEvidence};
use crate::summary::EmergencySummary;

/// Identity evidence as sent by the tablet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "method", deny_unknown_fields)]
pub enum IdentityEvidenceDto {
    /// Certificate read without PIN; the crew confirms the face photo matches.
    CardWithPhotoCheck {
        /// Base64 DER certificate.
        certificate_der_b64: String,
        /// The crew compared the face photo with the patient and it matches.
        photo_matches: bool,
    },
    /// Certificate plus the card's signature over a server challenge, made after the
    /// patient entered their PIN.
    PinVerifiedCard {
        /// Base64 DER certificate.
        certificate_der_b64: String,
        /// The challenge from `POST /v1/identity-challenges` that the card signed.
        challenge_id: ChallengeId,
        /// Base64 signature over the challenge bytes (RSASSA-PKCS1-v1_5, SHA-256).
        signature_b64: String,
    },
    /// The four basic facts.
    BasicFacts {
        /// The facts.
        facts: BasicFacts,
    },
}

/// The photo was not confirmed to match: identity is not established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoNotConfirmed;

impl IdentityEvidenceDto {
    /// Converts to domain evidence. `Ok(Err(PhotoNotConfirmed))` when the crew said the
    /// photo does not match (a valid request, but no identity).
    pub fn into_domain(self) -> Result<std::result::Result<IdentityEvidence, PhotoNotConfirmed>> {
        Ok(Ok(match self {
            IdentityEvidenceDto::CardWithPhotoCheck {
                certificate_der_b64,
                photo_matches,
            } => {
                let certificate_der = b64("certificate_der_b64", &certificate_der_b64)?;
                if !photo_matches {
                    return Ok(Err(PhotoNotConfirmed));
                }
                IdentityEvidence::CardWithPhotoCheck { certificate_der }
            }
            IdentityEvidenceDto::PinVerifiedCard {
                certificate_der_b64,
                challenge_id,
                signature_b64,
            } => IdentityEvidence::PinVerifiedCard {
                certificate_der: b64("certificate_der_b64", &certificate_der_b64)?,
                challenge_id,
                signature: b64("signature_b64", &signature_b64)?,
            },
            IdentityEvidenceDto::BasicFacts { facts } => {
                facts.validate()?;
                IdentityEvidence::BasicFacts(facts)
            }
        }))
    }

    /// Evidence for a card certificate read without PIN and a matching photo.
    pub fn card_with_photo(certificate_der: &[u8], photo_matches: bool) -> Self {
        IdentityEvidenceDto::CardWithPhotoCheck {
            certificate_der_b64: to_b64(certificate_der),
            photo_matches,
        }
    }

    /// Evidence for a card certificate and the card's signature over challenge
    /// `challenge_id`.
    pub fn pin_verified(
        certificate_der: &[u8],
        challenge_id: ChallengeId,
        signature: &[u8],
    ) -> Self {
        IdentityEvidenceDto::PinVerifiedCard {
            certificate_der_b64: to_b64(certificate_der),
            challenge_id,
            signature_b64: to_b64(signature),
        }
    }
}

/// Response to `POST /v1/identity-challenges` (no request body): a one-time challenge for
/// the card to sign after PIN entry. It is bound to the tablet that asked, single-use,
/// and expires at `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityChallenge {
    /// Id to send back in [`IdentityEvidenceDto::PinVerifiedCard`].
    pub challenge_id: ChallengeId,
    /// Base64 of the random challenge bytes the card signs.
    pub challenge_b64: String,
    /// After this instant the challenge is refused.
    pub expires_at: DateTime<Utc>,
}

impl IdentityChallenge {
    /// The challenge bytes.
    pub fn challenge(&self) -> Result<Vec<u8>> {
        b64("challenge_b64", &self.challenge_b64)
    }

    /// A challenge response for these bytes.
    pub fn new(challenge_id: ChallengeId, challenge: &[u8], expires_at: DateTime<Utc>) -> Self {
        IdentityChallenge {
            challenge_id,
            challenge_b64: to_b64(challenge),
            expires_at,
        }
    }
}

/// `POST /v1/incidents`: open an incident for the patient in front of the crew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenIncidentRequest {
    /// Client-generated id; retrying with the same id is idempotent.
    pub incident_id: IncidentId,
    /// Staff id of the crew member operating the tablet.
    pub crew_member_id: String,
    /// How the patient was identified.
    pub identity: IdentityEvidenceDto,
}

/// Response to [`OpenIncidentRequest`]. Carries no personal data: the crew has the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentOpened {
    /// The incident.
    pub incident_id: IncidentId,
    /// Assurance of the established identity.
    pub assurance: AssuranceLevel,
}

/// Consent decision as sent by the tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecisionDto {
    /// Patient agreed.
    Given,
    /// Patient refused.
    Refused,
    /// Consent difficult to obtain; `reason` is required.
    Difficult,
}

/// `PUT /v1/incidents/{id}/consent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The decision.
    pub decision: ConsentDecisionDto,
    /// Required when `decision` is `difficult`, forbidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DifficultyReason>,
}

impl ConsentRequest {
    /// Builds the request for a domain consent state.
    pub fn from_domain(state: &ConsentState) -> Self {
        match state {
            ConsentState::Given => ConsentRequest {
                decision: ConsentDecisionDto::Given,
                reason: None,
            },
            ConsentState::Refused => ConsentRequest {
                decision: ConsentDecisionDto::Refused,
                reason: None,
            },
            ConsentState::Difficult { reason } => ConsentRequest {
                decision: ConsentDecisionDto::Difficult,
                reason: Some(reason.clone()),
            },
        }
    }

    /// Converts to the domain state; `Difficult` without a valid reason is an error.
    pub fn into_domain(self) -> Result<ConsentState> {
        match (self.decision, self.reason) {
            (ConsentDecisionDto::Given, None) => Ok(ConsentState::Given),
            (ConsentDecisionDto::Refused, None) => Ok(ConsentState::Refused),
            (ConsentDecisionDto::Difficult, Some(reason)) => ConsentState::difficult(reason),
            (ConsentDecisionDto::Difficult, None) => Err(Error::ConsentReasonMissing),
            (_, Some(_)) => Err(Error::ConsentNoteInvalid { max: 0 }),
        }
    }
}

/// Response to [`ConsentRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentRecorded {
    /// The incident.
    pub incident_id: IncidentId,
    /// The recorded state.
    pub consent: ConsentState,
}

/// `GET /v1/incidents/{id}/summary` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryResponse {
    /// The incident.
    pub incident_id: IncidentId,
    /// Consent basis of the disclosure.
    pub consent: ConsentState,
    /// The summary.
    pub summary: EmergencySummary,
}

/// A receiving hospital the crew can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HospitalDto {
    /// Institution id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Tier 1 to 3 (三次 = 3: critical care centre).
    pub tier: u8,
    /// Distance from the point the tablet gave, in metres; `None` when it gave none or
    /// the hospital's location is not configured.
    #[serde(default)]
    pub distance_m: Option<u32>,
}

/// `GET /v1/hospitals?lat=&lon=`: where the crew is, to list the nearest hospitals first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct HospitalsQuery {
    /// Latitude of the incident.
    pub lat: Option<f64>,
    /// Longitude of the incident.
    pub lon: Option<f64>,
}

/// `GET /v1/hospitals` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HospitalList {
    /// Hospitals.
    pub hospitals: Vec<HospitalDto>,
}

/// Vital signs entered by the crew. All optional: the crew enters what it measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Vitals {
    /// Heart rate, /min.
    pub heart_rate: Option<u16>,
    /// Systolic blood pressure, mmHg.
    pub systolic_mmhg: Option<u16>,
    /// Diastolic blood pressure, mmHg.
    pub diastolic_mmhg: Option<u16>,
    /// Oxygen saturation, %.
    pub spo2_percent: Option<u8>,
    /// Respiratory rate, /min.
    pub respiratory_rate: Option<u16>,
    /// Glasgow Coma Scale total, 3 to 15.
    pub gcs: Option<u8>,
    /// Body temperature, °C.
    pub temperature_c: Option<f32>,
}

/// `POST /v1/incidents/{id}/handoff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandoffRequest {
    /// Chosen hospital.
    pub hospital_id: String,
    /// Chief complaint (主訴), free text from the crew. Not a medical record.
    pub chief_complaint: String,
    /// Minutes until arrival.
    pub eta_minutes: u16,
    /// Vital signs.
    #[serde(default)]
    pub vitals: Vitals,
    /// The tablet's own id for this handoff (UUIDv7), so a retried request is recognised:
    /// the edge answers a repeat with the handoff it already made and logs and queues
    /// nothing new. Without one, the edge makes up an id and a retry is a new handoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_id: Option<uuid::Uuid>,
    /// Where the patient was found (発生場所); optional, so tablets that do not send it
    /// keep working. The edge passes it on in the [`ArrivalNotice`](crate::wire::ArrivalNotice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<SceneKind>,
}

/// Response to [`HandoffRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffResponse {
    /// Handoff id.
    pub handoff_id: uuid::Uuid,
    /// Hospital.
    pub hospital_id: String,
    /// The hospital acknowledged receipt.
    pub delivered: bool,
    /// Medical records were included (false after a refusal).
    pub records_shared: bool,
}

/// How far a tablet's clock may be off before its reported times are refused.
pub const MAX_DEVICE_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// `POST /v1/incidents/{id}/device-views`: the crew showed the summary again from the
/// tablet's encrypted copy (possibly offline, reported later). Sent from the tablet's
/// outbox, possibly several times: `view_id` makes a repeat recognisable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceViewReport {
    /// The tablet's id for this display (UUIDv7); it becomes the access record's id.
    pub view_id: uuid::Uuid,
    /// When the summary was displayed, by the tablet's clock.
    pub viewed_at: DateTime<Utc>,
}

/// Why a [`DeviceViewReport`]'s time cannot be right: the tablet's clock is badly off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewedAtImplausible {
    /// More than [`MAX_DEVICE_CLOCK_SKEW`] after the server's clock.
    InFuture,
    /// More than [`MAX_DEVICE_CLOCK_SKEW`] before the incident was opened.
    BeforeIncident,
}

impl DeviceViewReport {
    /// Checks `viewed_at` against the server's clock `now` and the incident's opening time,
    /// allowing [`MAX_DEVICE_CLOCK_SKEW`] either way.
    pub fn check_viewed_at(
        &self,
        incident_opened_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), ViewedAtImplausible> {
        if self.viewed_at > now + MAX_DEVICE_CLOCK_SKEW {
            Err(ViewedAtImplausible::InFuture)
        } else if self.viewed_at < incident_opened_at - MAX_DEVICE_CLOCK_SKEW {
            Err(ViewedAtImplausible::BeforeIncident)
        } else {
            Ok(())
        }
    }
}

/// Response to [`DeviceViewReport`]: 201 when recorded now, 200 for a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceViewRecorded {
    /// The report's id, also the access record's id.
    pub view_id: uuid::Uuid,
    /// `true` when this request appended the access record; `false` when the same report
    /// had been recorded before (a retry): nothing was appended.
    pub recorded: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_request_needs_reason_only_for_difficult() {
        let parse = |json: &str| {
            serde_json::from_str::<ConsentRequest>(json)
                .unwrap()
                .into_domain()
        };
        assert_eq!(parse(r#"{"decision":"given"}"#), Ok(ConsentState::Given));
        assert_eq!(
            parse(r#"{"decision":"difficult"}"#),
            Err(Error::ConsentReasonMissing)
        );
        assert_eq!(
            parse(r#"{"decision":"difficult","reason":{"kind":"unconscious"}}"#),
            Ok(ConsentState::Difficult {
                reason: DifficultyReason::Unconscious
            })
        );
        assert!(parse(r#"{"decision":"given","reason":{"kind":"unconscious"}}"#).is_err());
        assert!(serde_json::from_str::<ConsentRequest>(r#"{"decision":"given","x":1}"#).is_err());
    }

    #[test]
    fn consent_request_round_trips_domain() {
        for state in [
            ConsentState::Given,
            ConsentState::Refused,
            ConsentState::Difficult {
                reason: DifficultyReason::CannotCommunicate,
            },
        ] {
            assert_eq!(ConsentRequest::from_domain(&state).into_domain(), Ok(state));
        }
    }

    #[test]
    fn photo_mismatch_is_not_an_identity() {
        let dto = IdentityEvidenceDto::card_with_photo(&[1, 2, 3], false);
        assert_eq!(dto.into_domain(), Ok(Err(PhotoNotConfirmed)));
        let bad = IdentityEvidenceDto::CardWithPhotoCheck {
            certificate_der_b64: "***".into(),
            photo_matches: true,
        };
        assert!(bad.into_domain().is_err());
    }

    #[test]
    fn pin_evidence_carries_the_challenge_id_not_its_bytes() {
        let id = ChallengeId(uuid::Uuid::from_u128(7));
        let dto = IdentityEvidenceDto::pin_verified(&[1, 2], id, &[3, 4]);
        let json = serde_json::to_value(&dto).unwrap();
        assert_eq!(json["method"], "pin_verified_card");
        assert_eq!(json["challenge_id"], id.0.to_string());
        assert_eq!(
            dto.into_domain(),
            Ok(Ok(IdentityEvidence::PinVerifiedCard {
                certificate_der: vec![1, 2],
                challenge_id: id,
                signature: vec![3, 4],
            }))
        );
        let old_shape = r#"{"method":"pin_verified_card","certificate_der_b64":"AQI=","challenge_b64":"AQI=","signature_b64":"AwQ="}"#;
        assert!(serde_json::from_str::<IdentityEvidenceDto>(old_shape).is_err());
    }

    #[test]
    fn handoff_request_id_is_optional_and_left_out_when_absent() {
        let json = r#"{"hospital_id":"h","chief_complaint":"c","eta_minutes":5}"#;
        let request: HandoffRequest = serde_json::from_str(json).unwrap();
        assert_eq!(request.handoff_id, None);
        assert!(
            !serde_json::to_string(&request)
                .unwrap()
                .contains("handoff_id")
        );
        let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let with_id = HandoffRequest {
            handoff_id: Some(id),
            ..request
        };
        let json = serde_json::to_string(&with_id).unwrap();
        assert_eq!(
            serde_json::from_str::<HandoffRequest>(&json).unwrap(),
            with_id
        );
    }

    #[test]
    fn handoff_scene_is_optional_and_known_kinds_only() {
        let old_tablet = r#"{"hospital_id":"h","chief_complaint":"c","eta_minutes":5}"#;
        let request: HandoffRequest = serde_json::from_str(old_tablet).unwrap();
        assert_eq!(request.scene, None);
        assert!(!serde_json::to_string(&request).unwrap().contains("scene"));
        let with_scene =
            r#"{"hospital_id":"h","chief_complaint":"c","eta_minutes":5,"scene":"care_facility"}"#;
        let request: HandoffRequest = serde_json::from_str(with_scene).unwrap();
        assert_eq!(request.scene, Some(SceneKind::CareFacility));
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<HandoffRequest>(&json).unwrap(),
            request
        );
        let unknown =
            r#"{"hospital_id":"h","chief_complaint":"c","eta_minutes":5,"scene":"beach"}"#;
        assert!(serde_json::from_str::<HandoffRequest>(unknown).is_err());
    }

    #[test]
    fn device_view_report_round_trips_and_rejects_unknown_fields() {
        let id = uuid::Uuid::from_u128(42);
        let json = format!(r#"{{"view_id":"{id}","viewed_at":"2026-11-25T03:10:00Z"}}"#);
        let report: DeviceViewReport = serde_json::from_str(&json).unwrap();
        assert_eq!(report.view_id, id);
        assert_eq!(
            report.viewed_at,
            "2026-11-25T03:10:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let back = serde_json::to_string(&report).unwrap();
        assert_eq!(
            serde_json::from_str::<DeviceViewReport>(&back).unwrap(),
            report
        );
        let extra =
            format!(r#"{{"view_id":"{id}","viewed_at":"2026-11-25T03:10:00Z","kinds":[]}}"#);
        assert!(serde_json::from_str::<DeviceViewReport>(&extra).is_err());
        assert!(
            serde_json::from_str::<DeviceViewReport>(r#"{"viewed_at":"2026-11-25T03:10:00Z"}"#)
                .is_err()
        );
        let recorded = DeviceViewRecorded {
            view_id: id,
            recorded: false,
        };
        let json = serde_json::to_value(recorded).unwrap();
        assert_eq!(json["recorded"], false);
        assert_eq!(json["view_id"], id.to_string());
    }

    #[test]
    fn device_view_time_allows_five_minutes_of_clock_skew() {
        let opened = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let now = opened + chrono::TimeDelta::hours(1);
        let check = |viewed_at: DateTime<Utc>, expected| {
            let report = DeviceViewReport {
                view_id: uuid::Uuid::nil(),
                viewed_at,
            };
            assert_eq!(report.check_viewed_at(opened, now), expected, "{viewed_at}");
        };
        let minutes = chrono::TimeDelta::minutes;
        check(now, Ok(()));
        check(opened, Ok(()));
        check(now + minutes(5), Ok(()));
        check(opened - minutes(5), Ok(()));
        check(now + minutes(6), Err(ViewedAtImplausible::InFuture));
        check(
            opened - minutes(6),
            Err(ViewedAtImplausible::BeforeIncident),
        );
    }

    #[test]
    fn identity_challenge_round_trips_its_bytes() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let issued = IdentityChallenge::new(ChallengeId(uuid::Uuid::nil()), &[9; 32], at);
        let json = serde_json::to_string(&issued).unwrap();
        let back: IdentityChallenge = serde_json::from_str(&json).unwrap();
        assert_eq!(back.challenge(), Ok(vec![9; 32]));
        assert_eq!(back.expires_at, at);
    }
}
