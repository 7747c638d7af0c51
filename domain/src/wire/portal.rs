//! The patient portal's API (`/portal/v1/…`): card sign-in, the viewing history
//! (閲覧履歴) with its proof status, and "I don't recognise this" flags.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::encoding::{b64, to_b64};
use crate::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, InstitutionKind, ViewerRole,
};
use crate::consent::ConsentState;
use crate::error::Result;
use crate::identity::ChallengeId;
use crate::records::RecordKind;

/// `POST /portal/v1/dev-sign-in` (development only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            challenge_b64: to_b64(challenge),
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
            certificate_der_b64: to_b64(certificate_der),
            challenge_id,
            signature_b64: to_b64(signature),
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalSession {
    /// Bearer token.
    pub token: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// Whether an access-log entry's inclusion in the signed log was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalInstitution {
    /// Institution id (the `institution` query value).
    pub id: String,
    /// Name.
    pub name: String,
}

/// `GET /portal/v1/history?before=&limit=&from=&to=&institution=` response, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// `POST /portal/v1/history/{access_id}/flag` body (optional): "I don't recognise this".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    /// What the patient wants to say, at most 500 characters (the edge refuses longer).
    #[serde(default)]
    pub note: Option<String>,
}
