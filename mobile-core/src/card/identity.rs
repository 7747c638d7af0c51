//! What a card read proves about who the patient is, and how strongly.
//!
//! Each way of using the card yields one kind of
//! [`IdentityEvidence`] and so one [`AssuranceLevel`]:
//!
//! | path | card access | evidence | assurance |
//! |---|---|---|---|
//! | [`CardIdentity::photo_checked`] | certificate (no PIN) + the crew's face-photo check | `CardWithPhotoCheck` | `CardAndPhoto` |
//! | [`CardIdentity::read_pin_verified`] | certificate + a signature over the edge's challenge (auth PIN) | `PinVerifiedCard` | `PinVerified` |
//! | [`CardIdentity::read_basic_facts`] | the four basic facts (input-support PIN) | `BasicFacts` | `BasicFactsOnly` |
//!
//! The assurance is what the evidence is worth *once the edge has checked it* (the
//! signature against the certificate, the certificate against its validity); the
//! tablet only collects it. Both PIN paths go through the retry guard.

use myna_domain::identity::{AssuranceLevel, ChallengeId, IdentityEvidence};

use super::error::CardError;
use super::pin::Pin;
use super::transport::CardTransport;
use super::{input_support, jpki};

/// Identity evidence collected from a card, with the assurance it carries.
#[derive(Clone, PartialEq, Eq)]
pub struct CardIdentity {
    /// What the card gave.
    pub evidence: IdentityEvidence,
    /// How strongly it identifies the patient once checked
    /// (`evidence.assurance()`).
    pub assurance: AssuranceLevel,
}

impl std::fmt::Debug for CardIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The basic facts are personal data: show only the kind of evidence.
        let kind = match &self.evidence {
            IdentityEvidence::CardWithPhotoCheck { .. } => "CardWithPhotoCheck",
            IdentityEvidence::PinVerifiedCard { .. } => "PinVerifiedCard",
            IdentityEvidence::BasicFacts(_) => "BasicFacts",
        };
        f.debug_struct("CardIdentity")
            .field("evidence", &kind)
            .field("assurance", &self.assurance)
            .finish()
    }
}

impl CardIdentity {
    /// Wraps evidence with its assurance.
    pub fn from_evidence(evidence: IdentityEvidence) -> CardIdentity {
        CardIdentity {
            assurance: evidence.assurance(),
            evidence,
        }
    }

    /// The certificate (from [`jpki::read_auth_certificate`]) after the crew confirmed
    /// the card's face photo matches the patient: `CardAndPhoto`.
    pub fn photo_checked(certificate_der: Vec<u8>) -> CardIdentity {
        CardIdentity::from_evidence(IdentityEvidence::CardWithPhotoCheck { certificate_der })
    }

    /// Reads the user-authentication certificate and signs the edge's challenge
    /// (`challenge_id` names it, `challenge` is its bytes) with the auth PIN
    /// ([`jpki::sign_challenge`]): `PinVerified`.
    pub fn read_pin_verified(
        transport: &dyn CardTransport,
        pin: &Pin,
        challenge_id: ChallengeId,
        challenge: &[u8],
    ) -> Result<CardIdentity, CardError> {
        let certificate_der = jpki::read_auth_certificate(transport)?;
        let signature = jpki::sign_challenge(transport, pin, challenge)?;
        Ok(CardIdentity::from_evidence(
            IdentityEvidence::PinVerifiedCard {
                certificate_der,
                challenge_id,
                signature,
            },
        ))
    }

    /// Reads the four basic facts with the input-support PIN
    /// ([`input_support::read_basic_facts`]): `BasicFactsOnly`.
    pub fn read_basic_facts(
        transport: &dyn CardTransport,
        pin: &Pin,
    ) -> Result<CardIdentity, CardError> {
        let facts = input_support::read_basic_facts(transport, pin)?;
        Ok(CardIdentity::from_evidence(IdentityEvidence::BasicFacts(
            facts,
        )))
    }
}
