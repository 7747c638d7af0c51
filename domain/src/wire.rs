//! JSON types of the HTTP APIs. Requests deny unknown fields; conversion to domain
//! types happens here, at the boundary, so handlers only see validated domain values.
//!
//! Medical records travel as their domain types ([`EmergencySummary`]): they are data
//! records whose JSON shape is the contract, and a second copy would only drift.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, DenialReason, IncidentId,
    InstitutionKind, ReviewOutcome, ViewerRole,
};
use crate::consent::{ConsentState, DifficultyReason};
use crate::handoff::SceneKind;
use crate::identity::{AssuranceLevel, BasicFacts, ChallengeId, IdentityEvidence, PatientId};
use crate::records::RecordKind;
use crate::summary::EmergencySummary;
use crate::{Error, Result};

/// Error body of every 4xx/5xx: a stable code for programs, a short message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `consent_refused`.
    pub code: String,
    /// Short human-readable message. Never contains personal data.
    pub message: String,
}

/// Identity evidence as sent by the tablet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

fn b64(field: &'static str, value: &str) -> Result<Vec<u8>> {
    B64.decode(value).map_err(|_| Error::Base64 { field })
}

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
            certificate_der_b64: B64.encode(certificate_der),
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
            certificate_der_b64: B64.encode(certificate_der),
            challenge_id,
            signature_b64: B64.encode(signature),
        }
    }
}

/// Response to `POST /v1/identity-challenges` (no request body): a one-time challenge for
/// the card to sign after PIN entry. It is bound to the tablet that asked, single-use,
/// and expires at `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
            challenge_b64: B64.encode(challenge),
            expires_at,
        }
    }
}

/// `POST /v1/incidents`: open an incident for the patient in front of the crew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct IncidentOpened {
    /// The incident.
    pub incident_id: IncidentId,
    /// Assurance of the established identity.
    pub assurance: AssuranceLevel,
}

/// Consent decision as sent by the tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ConsentRecorded {
    /// The incident.
    pub incident_id: IncidentId,
    /// The recorded state.
    pub consent: ConsentState,
}

/// `GET /v1/incidents/{id}/summary` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct HospitalsQuery {
    /// Latitude of the incident.
    pub lat: Option<f64>,
    /// Longitude of the incident.
    pub lon: Option<f64>,
}

/// `GET /v1/hospitals` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalList {
    /// Hospitals.
    pub hospitals: Vec<HospitalDto>,
}

/// Vital signs entered by the crew. All optional: the crew enters what it measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// keep working. The edge passes it on in the [`ArrivalNotice`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<SceneKind>,
}

/// Response to [`HandoffRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct DeviceViewRecorded {
    /// The report's id, also the access record's id.
    pub view_id: uuid::Uuid,
    /// `true` when this request appended the access record; `false` when the same report
    /// had been recorded before (a retry): nothing was appended.
    pub recorded: bool,
}

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

/// `POST /portal/v1/dev-sign-in` (development only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevSignInRequest {
    /// Patient to sign in as.
    pub patient_id: String,
}

/// Response to `POST /portal/v1/sign-in/challenges` (no body, no credentials): a
/// one-time challenge for the patient's card to sign to sign in to the portal. Portal
/// challenges are kept apart from the tablets' identity challenges: an id of one kind is
/// unknown to the other. Single use, refused at and after `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalChallenge {
    /// Id to send back in [`PortalSignInRequest`].
    pub challenge_id: ChallengeId,
    /// Base64 of the random challenge bytes. The card signs
    /// [`portal_sign_in_message`](crate::certificate::portal_sign_in_message) of them, not
    /// the bare bytes.
    pub challenge_b64: String,
    /// From this instant on the challenge is refused.
    pub expires_at: DateTime<Utc>,
}

impl PortalChallenge {
    /// A challenge response for these bytes.
    pub fn new(challenge_id: ChallengeId, challenge: &[u8], expires_at: DateTime<Utc>) -> Self {
        PortalChallenge {
            challenge_id,
            challenge_b64: B64.encode(challenge),
            expires_at,
        }
    }

    /// The challenge bytes.
    pub fn challenge(&self) -> Result<Vec<u8>> {
        b64("challenge_b64", &self.challenge_b64)
    }
}

/// `POST /portal/v1/sign-in`: the patient proves possession of their card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSignInRequest {
    /// Base64 DER of the card's JPKI user-authentication certificate.
    pub certificate_der_b64: String,
    /// The portal challenge the card signed.
    pub challenge_id: ChallengeId,
    /// Base64 RSASSA-PKCS1-v1_5 (SHA-256) signature by the card's user-authentication
    /// key over
    /// [`portal_sign_in_message`](crate::certificate::portal_sign_in_message)(challenge).
    pub signature_b64: String,
}

impl PortalSignInRequest {
    /// A request for this certificate and signature over challenge `challenge_id`.
    pub fn new(certificate_der: &[u8], challenge_id: ChallengeId, signature: &[u8]) -> Self {
        PortalSignInRequest {
            certificate_der_b64: B64.encode(certificate_der),
            challenge_id,
            signature_b64: B64.encode(signature),
        }
    }

    /// The certificate DER and the signature bytes.
    pub fn decode(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        Ok((
            b64("certificate_der_b64", &self.certificate_der_b64)?,
            b64("signature_b64", &self.signature_b64)?,
        ))
    }
}

/// A portal session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSession {
    /// Bearer token.
    pub token: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Whether an access-log entry's inclusion in the signed log was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    /// Its inclusion proof verifies against the newest signed checkpoint, which covers it.
    Verified,
    /// No signed checkpoint covers it yet (one is signed every few seconds).
    Pending,
    /// The proof does not verify: the log may have been tampered with.
    Failed,
}

/// One line of a patient's viewing history (閲覧履歴). Never carries staff ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalEntry {
    /// Id of the access record (for its proof, FHIR AuditEvent and flag routes).
    pub access_id: AccessRecordId,
    /// Position in the access log's Merkle tree (0-based); also the pagination cursor.
    pub leaf_index: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Institution id.
    pub institution_id: String,
    /// Institution name.
    pub institution: String,
    /// Institution kind.
    pub institution_kind: InstitutionKind,
    /// Role of the viewer.
    pub role: ViewerRole,
    /// Ambulance unit, for crews.
    pub unit: Option<String>,
    /// What was attempted.
    pub action: AccessAction,
    /// Consent state at the time.
    pub consent: Option<ConsentState>,
    /// Records were viewed without consent (同意取得困難, break-the-glass).
    pub without_consent: bool,
    /// What happened.
    pub outcome: AccessOutcome,
    /// Kinds of records shown (empty when nothing was disclosed).
    pub kinds: Vec<RecordKind>,
    /// Inclusion in the signed access log.
    pub proof: ProofStatus,
    /// When the patient reported this entry as not recognised, if they did.
    pub flagged_at: Option<DateTime<Utc>>,
}

impl PortalEntry {
    /// The portal line of `record`, leaf `leaf_index` of the log.
    pub fn new(
        record: &AccessRecord,
        leaf_index: u64,
        proof: ProofStatus,
        flagged_at: Option<DateTime<Utc>>,
    ) -> Self {
        let kinds = match &record.outcome {
            AccessOutcome::Disclosed { kinds } => kinds.clone(),
            _ => Vec::new(),
        };
        PortalEntry {
            access_id: record.id,
            leaf_index,
            at: record.at,
            institution_id: record.viewer.institution.id.clone(),
            institution: record.viewer.institution.name.clone(),
            institution_kind: record.viewer.institution.kind,
            role: record.viewer.role,
            unit: record.viewer.unit.clone(),
            action: record.action.clone(),
            without_consent: record
                .consent
                .as_ref()
                .is_some_and(ConsentState::is_without_consent),
            consent: record.consent.clone(),
            outcome: record.outcome.clone(),
            kinds,
            proof,
            flagged_at,
        }
    }
}

/// An institution that appears in a patient's history (the institution filter's choices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalInstitution {
    /// Institution id (the `institution` query value).
    pub id: String,
    /// Name.
    pub name: String,
}

/// `GET /portal/v1/history?before=&limit=&from=&to=&institution=` response, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalHistory {
    /// Entries of this page.
    pub entries: Vec<PortalEntry>,
    /// Cursor of the next (older) page, as `before=`; `None` on the last page.
    pub next_before: Option<u64>,
    /// Every institution in the patient's whole history, for the filter.
    pub institutions: Vec<PortalInstitution>,
    /// Size of the newest signed checkpoint the proofs were checked against.
    pub checkpoint_size: Option<u64>,
}

/// `GET /portal/v1/history/{access_id}/proof`: everything a patient's own tool needs to
/// check an entry independently (with the log's verifier key from a trusted source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalProof {
    /// The access record.
    pub access_id: AccessRecordId,
    /// Its leaf index.
    pub leaf_index: u64,
    /// The leaf hash (`SHA-256(0x00 || stored record text)`), standard base64. The stored
    /// text itself is not given to patients: it names the staff member and the tablet,
    /// which patients do not see; auditors replay it with `myna-log`.
    pub leaf_hash: String,
    /// The server's own check of the proof below.
    pub status: ProofStatus,
    /// The newest signed checkpoint (c2sp signed note) when it covers the entry.
    pub checkpoint: Option<String>,
    /// The inclusion proof against that checkpoint's tree size.
    pub proof: Option<InclusionProofDto>,
    /// The log's verifier key as this server states it (compare it with a copy from
    /// elsewhere: a key from the server being checked proves little).
    pub verifier_key: String,
}

/// `POST /portal/v1/history/{access_id}/flag` body (optional): "I don't recognise this".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    /// What the patient wants to say, at most [`MAX_FLAG_NOTE_CHARS`] characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// Longest note accepted with a flag.
pub const MAX_FLAG_NOTE_CHARS: usize = 500;

/// Response to [`FlagRequest`]: 201 when newly flagged, 200 when it already was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagResponse {
    /// The access record.
    pub access_id: AccessRecordId,
    /// When it was (first) flagged.
    pub flagged_at: DateTime<Utc>,
    /// It had been flagged before this request (the first note is kept).
    pub already_flagged: bool,
}

/// One access in the privacy officer's review queue, with only what review needs: who
/// accessed (institution, unit, device, role — no staff id), when, what was attempted,
/// the consent state, a patient reference (the internal patient id, never name or
/// records), why it is queued, its anomaly flags as they stand now, and the officer's
/// findings. No record content: not even the kinds of records disclosed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The access record to review (the id of `POST /v1/review-queue/{access_id}/outcome`).
    pub access_id: AccessRecordId,
    /// Position in the queue (when the access was first queued); the page cursor.
    pub position: i64,
    /// When the access happened (the edge's clock).
    pub at: DateTime<Utc>,
    /// When it was first queued.
    pub queued_at: DateTime<Utc>,
    /// Institution id of the viewer.
    pub institution_id: String,
    /// Institution name.
    pub institution: String,
    /// Ambulance unit, for crews.
    pub unit: Option<String>,
    /// Tablet, when the access came from one.
    pub device_id: Option<String>,
    /// Role of the viewer.
    pub role: ViewerRole,
    /// What was attempted (for a relay, the hospital; for a view on the tablet, its time).
    pub action: AccessAction,
    /// Records left the server.
    pub disclosed: bool,
    /// Why it was denied, if it was.
    pub denial: Option<DenialReason>,
    /// Incident, when the access belonged to one.
    pub incident_id: Option<IncidentId>,
    /// Consent state at the time; for `difficult`, the crew's reason.
    pub consent: Option<ConsentState>,
    /// The patient's internal id (no name, no records), when known.
    pub patient_id: Option<PatientId>,
    /// Why it was queued, in order: `difficult_consent`, `patient_flag`, or an anomaly
    /// flag's code that held when the access was logged.
    pub queued_for: Vec<String>,
    /// The anomaly flags that hold now (recomputed at each listing).
    pub flags: Vec<ReviewFlag>,
    /// What the patient wrote when flagging the access, if anything.
    pub patient_note: Option<String>,
    /// `open` until a finding covers every reason it was queued for; a reason added after
    /// the latest finding (e.g. a patient's flag) opens it again.
    pub state: ReviewState,
    /// The officers' findings, oldest first; the last one stands.
    pub outcomes: Vec<ReviewDecision>,
}

/// An anomaly flag on an access: a stable code and a short reason for the officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFlag {
    /// `many_patients_without_transport`, `repeated_views`, `outside_active_incident` or
    /// `patient_flag`.
    pub code: String,
    /// Why, in a few words with the numbers that tripped it (no personal data).
    pub reason: String,
}

/// Where a review-queue item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Waiting for a finding.
    Open,
    /// A finding covers it.
    Reviewed,
}

/// One finding of a privacy officer on a queued access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// The access reviewed.
    pub access_id: AccessRecordId,
    /// The finding.
    pub outcome: ReviewOutcome,
    /// The officer's note, if any.
    pub note: Option<String>,
    /// The officer who recorded it.
    pub officer_id: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// The access record that logs this finding in the tamper-evident log.
    pub log_access_id: AccessRecordId,
}

/// `GET /v1/review-queue?state=&after=&limit=` response, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewQueue {
    /// Items.
    pub items: Vec<ReviewItem>,
    /// Cursor of the next page (`?after=`), null on the last.
    pub next_after: Option<i64>,
}

/// Longest note accepted with a review finding.
pub const MAX_REVIEW_NOTE_CHARS: usize = 1000;

/// `POST /v1/review-queue/{access_id}/outcome` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewOutcomeRequest {
    /// `appropriate`, `inappropriate` or `needs_follow_up`.
    pub outcome: ReviewOutcome,
    /// At most [`MAX_REVIEW_NOTE_CHARS`] characters; kept with the finding, not in the
    /// access log (free text may name people).
    #[serde(default)]
    pub note: Option<String>,
}

/// `GET /v1/log/proof/inclusion?index=&tree_size=`: the audit path of one access-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofDto {
    /// Entry index (0-based position in the log).
    pub index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// Proof hashes, standard base64.
    pub hashes: Vec<String>,
}

/// `GET /v1/log/proof/consistency?from=&to=`: the tree of `to` entries extends that of `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofDto {
    /// Older tree size.
    pub from: u64,
    /// Newer tree size.
    pub to: u64,
    /// Proof hashes, standard base64.
    pub hashes: Vec<String>,
}

/// Proof hashes from base64; any malformed hash refuses the whole proof.
pub fn proof_hashes(
    hashes: &[String],
) -> Result<Vec<crate::transparency::Hash>, crate::transparency::LogError> {
    if hashes.len() > crate::transparency::MAX_PROOF_HASHES {
        return Err(crate::transparency::LogError::ProofInvalid);
    }
    hashes
        .iter()
        .map(|h| crate::transparency::hash_from_base64(h))
        .collect()
}

/// Proof hashes as base64.
pub fn proof_strings(hashes: &[crate::transparency::Hash]) -> Vec<String> {
    hashes
        .iter()
        .map(crate::transparency::hash_to_base64)
        .collect()
}

#[cfg(test)]
mod properties;

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
